//! The console API's HTTP side: JSON errors, extractors, the authentication and audit layer
//! every route runs through, and the router built from the route table.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::app::{App, now_ms, now_seconds};
use crate::authz::Actor;
use crate::routes::{ROUTES, Route};
use crate::store::AuditEntry;
use crate::{api_audit, api_auth, api_buckets, api_encryption, api_identity, api_settings};

pub type Shared = Arc<App>;

/// Largest request body accepted (every body here is a small JSON document).
const MAX_BODY_BYTES: usize = 1 << 20;

/// What a handler tells the audit layer beyond the route itself.
#[derive(Clone, Debug, Default)]
pub struct AuditNote {
    pub event: Option<&'static str>,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub tenant_id: Option<String>,
    pub resource_type: Option<&'static str>,
    pub resource: Option<String>,
    pub details: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub note: Option<Box<AuditNote>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            note: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "not allowed for this identity",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", format!("no such {what}"))
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "console API: internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "internal error",
        )
    }

    #[must_use]
    pub fn with_note(mut self, note: AuditNote) -> Self {
        self.note = Some(Box::new(note));
        self
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(error: rusqlite::Error) -> Self {
        Self::internal(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(note) = self.note {
            response.extensions_mut().insert(*note);
        }
        response
    }
}

/// A JSON body whose errors are JSON too.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(request, state)
            .await
            .map(|Json(value)| Body(value))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// The session a request came with (set by the layer).
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub actor: Actor,
    pub token_digest: String,
}

/// The logged-in identity; 401 without a live session.
pub struct Auth(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .map(|session| Auth(session.actor.clone()))
            .ok_or_else(|| ApiError::unauthorized("a valid Bearer token is required"))
    }
}

pub struct Session(pub Authenticated);

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .map(|session| Session(session.clone()))
            .ok_or_else(|| ApiError::unauthorized("a valid Bearer token is required"))
    }
}

/// The client's address as a string (the TCP peer: no proxy headers are trusted).
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .cloned()
            .unwrap_or_else(|| ClientIp("unknown".into())))
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Authenticates the request (if it has a token) and writes its audit entry once answered.
async fn session_and_audit(
    State(app): State<Shared>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
    request.extensions_mut().insert(ClientIp(ip.clone()));
    if let Some(token) = bearer(request.headers()) {
        let digest = crate::secrets::digest(token);
        let session = app.store.session(&digest, "session", now_seconds());
        if let Ok(Some((user_id, _))) = session
            && let Ok(Some(actor)) = app.actor_of(&user_id)
        {
            request.extensions_mut().insert(Authenticated {
                actor,
                token_digest: digest,
            });
        }
    }
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let actor = request
        .extensions()
        .get::<Authenticated>()
        .map(|session| session.actor.clone());
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.chars().take(256).collect::<String>());
    let response = next.run(request).await;
    let status = response.status();
    let route = matched
        .as_ref()
        .and_then(|matched| crate::routes::find(&method, matched.as_str()));
    let denied = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
    if let Some(route) = route
        && (method != "GET" || denied)
        && !route.path.starts_with("/metrics")
        && !route.path.starts_with("/health")
    {
        let note = response.extensions().get::<AuditNote>().cloned();
        app.audit(&entry_of(
            route,
            &method,
            &path,
            actor.as_ref(),
            note.unwrap_or_default(),
            status,
            ip,
            user_agent,
        ));
    }
    response
}

#[allow(clippy::too_many_arguments)]
fn entry_of(
    route: &Route,
    method: &str,
    path: &str,
    actor: Option<&Actor>,
    note: AuditNote,
    status: StatusCode,
    ip: String,
    user_agent: Option<String>,
) -> AuditEntry {
    let relative = path.strip_prefix("/api/v1").unwrap_or(path);
    let default_type = relative
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let outcome = if status.is_success() {
        "success"
    } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        "denied"
    } else {
        "failed"
    };
    AuditEntry {
        timestamp_ms: now_ms(),
        source: "console".into(),
        tenant_id: actor.and_then(|a| a.tenant_id.clone()).or(note.tenant_id),
        user_id: actor.map(|a| a.user_id.clone()).or(note.user_id),
        username: actor.map(|a| a.username.clone()).or(note.username),
        event_type: note.event.unwrap_or(route.event).into(),
        resource_type: Some(note.resource_type.unwrap_or(default_type).into()),
        resource: Some(note.resource.unwrap_or_else(|| relative.to_owned())),
        action: format!("{method} {}", route.path),
        status: outcome.into(),
        http_status: Some(i64::from(status.as_u16())),
        ip: Some(ip),
        user_agent,
        details: note.details,
        ..AuditEntry::default()
    }
}

/// The handler of a route of the table; `None` only if the table names a route nobody serves
/// (a test checks there is none).
pub fn endpoint(route: &Route) -> Option<MethodRouter<Shared>> {
    use api_audit as audit;
    use api_auth as auth;
    use api_buckets as buckets;
    use api_encryption as encryption;
    use api_identity as identity;
    use api_settings as settings;
    let handler = match (route.method, route.path) {
        ("GET", "/api/v1" | "/api/v1/") => get(api_root),
        ("POST", "/api/v1/auth/login") => post(auth::login),
        ("POST", "/api/v1/auth/logout") => post(auth::logout),
        ("POST", "/api/v1/auth/refresh") => post(auth::refresh),
        ("GET", "/api/v1/auth/me") => get(auth::me),
        ("POST", "/api/v1/auth/2fa/setup") => post(auth::totp_setup),
        ("POST", "/api/v1/auth/2fa/enable") => post(auth::totp_enable),
        ("POST", "/api/v1/auth/2fa/verify") => post(auth::totp_verify),
        ("POST", "/api/v1/auth/2fa/disable") => post(auth::totp_disable),
        ("POST", "/api/v1/auth/2fa/backup-codes") => post(auth::backup_codes),
        ("GET", "/api/v1/auth/2fa/status") => get(auth::totp_status),
        ("GET", "/api/v1/tenants") => get(identity::list_tenants),
        ("POST", "/api/v1/tenants") => post(identity::create_tenant),
        ("GET", "/api/v1/tenants/{tenant}") => get(identity::get_tenant),
        ("PUT", "/api/v1/tenants/{tenant}") => put(identity::update_tenant),
        ("DELETE", "/api/v1/tenants/{tenant}") => delete(identity::delete_tenant),
        ("GET", "/api/v1/tenants/{tenant}/users") => get(identity::tenant_users),
        ("GET", "/api/v1/users") => get(identity::list_users),
        ("POST", "/api/v1/users") => post(identity::create_user),
        ("GET", "/api/v1/users/{user}") => get(identity::get_user),
        ("PUT", "/api/v1/users/{user}") => put(identity::update_user),
        ("DELETE", "/api/v1/users/{user}") => delete(identity::delete_user),
        ("PUT", "/api/v1/users/{user}/password") => put(identity::change_password),
        ("POST", "/api/v1/users/{user}/unlock") => post(identity::unlock_user),
        ("GET", "/api/v1/access-keys") => get(identity::list_all_keys),
        ("GET", "/api/v1/users/{user}/access-keys") => get(identity::list_keys),
        ("POST", "/api/v1/users/{user}/access-keys") => post(identity::create_key),
        ("PUT", "/api/v1/users/{user}/access-keys/{accessKey}") => put(identity::set_key_status),
        ("PATCH", "/api/v1/users/{user}/access-keys/{accessKey}") => {
            patch(identity::set_key_status)
        }
        ("DELETE", "/api/v1/users/{user}/access-keys/{accessKey}") => delete(identity::delete_key),
        ("GET", "/api/v1/buckets") => get(buckets::list),
        ("POST", "/api/v1/buckets") => post(buckets::create),
        ("GET", "/api/v1/buckets/{bucket}") => get(buckets::get_one),
        ("DELETE", "/api/v1/buckets/{bucket}") => delete(buckets::remove),
        ("GET", "/api/v1/encryption") => get(encryption::status),
        ("POST", "/api/v1/encryption/rotate") => post(encryption::rotate),
        ("GET", "/api/v1/settings") => get(settings::list),
        ("GET", "/api/v1/settings/categories") => get(settings::categories),
        ("POST", "/api/v1/settings/bulk") => post(settings::bulk),
        ("GET", "/api/v1/settings/{key}") => get(settings::get_one),
        ("PUT", "/api/v1/settings/{key}") => put(settings::put_one),
        ("GET", "/api/v1/audit-logs") => get(audit::list),
        ("GET", "/api/v1/audit-logs/export") => get(audit::export),
        ("GET", "/api/v1/audit-logs/{id}") => get(audit::get_one),
        ("GET", "/metrics") => get(metrics),
        ("GET", "/health") => get(health),
        _ => return None,
    };
    Some(handler)
}

pub fn router(app: Shared) -> Router {
    let mut router = Router::new();
    for route in ROUTES {
        let handler = endpoint(route).expect("every route of the table has a handler");
        router = router.route(route.path, handler);
    }
    router
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            session_and_audit,
        ))
        .fallback(|| async { ApiError::not_found("route") })
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

/// Errors axum answers itself (405, a malformed query, a body over the limit) in the API's
/// JSON shape too.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
        StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLarge",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaType",
        _ if status.is_server_error() => "InternalError",
        _ => "InvalidRequest",
    };
    ApiError::new(status, code, message).into_response()
}

async fn api_root() -> Json<serde_json::Value> {
    let groups: serde_json::Map<String, serde_json::Value> = crate::routes::GROUPS
        .iter()
        .map(|(name, path)| ((*name).to_owned(), json!(path)))
        .collect();
    Json(json!({
        "name": "MaxIOFS",
        "version": env!("CARGO_PKG_VERSION"),
        "api_version": "v1",
        "endpoints": groups,
    }))
}

async fn metrics(State(app): State<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

async fn health(State(app): State<Shared>) -> Json<serde_json::Value> {
    let reachable = matches!(
        crate::link::call(&app.link, control::wire::Request::Status).await,
        Ok(control::wire::Response::Status(_))
    );
    Json(json!({"status": "ok", "data_plane": if reachable { "connected" } else { "unreachable" }}))
}

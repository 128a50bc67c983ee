//! The console API's HTTP side: the authentication and audit layer every route runs through,
//! the request timeout, and the router built from the route table. Errors live in `error.rs`,
//! extractors in `extract.rs`, the listener (connection cap, header timeout) in `lib.rs`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use axum::{Json, Router};
use serde_json::json;

use crate::app::{Shared, now_ms, now_seconds};
use crate::audit_note::AuditNote;
use crate::authz::Actor;
use crate::error::{ApiError, json_errors};
use crate::extract::{Authenticated, ClientIp, MaybeSession, bearer};
use crate::routes::{ROUTES, Route};
use crate::store::AuditEntry;
use crate::{
    api_audit, api_auth, api_bucket_access, api_bucket_config, api_buckets, api_encryption,
    api_iam, api_identity, api_sessions, api_settings,
};

/// Largest request body accepted (every body here is a small JSON document).
const MAX_BODY_BYTES: usize = 1 << 20;
/// Longest a request may take to be answered (its body read and its handler run); a client
/// trickling a body, or a call stuck on the data plane, does not hold a connection slot
/// longer. A streamed export's body is not counted: the connection cap bounds those.
pub const REQUEST_TIMEOUT: Duration = Duration::from_mins(1);

/// Authenticates the request (if it has a token) and writes its audit entry once answered.
async fn session_and_audit(
    State(app): State<Shared>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    // The TCP peer, or the client a trusted proxy names (`proxy.rs`).
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(
            || "unknown".to_owned(),
            |info| {
                crate::proxy::client_ip(info.0.ip(), request.headers(), &app.trusted_proxies)
                    .to_string()
            },
        );
    request.extensions_mut().insert(ClientIp(ip.clone()));
    if let Some(token) = bearer(request.headers()) {
        let digest = crate::secrets::digest(token);
        let session = app.store.session(
            &digest,
            "session",
            now_seconds(),
            app.session_max_lifetime(),
        );
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
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone());
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
    // A failed call of nobody logged in (a denial, a bad login) is stored within a budget per
    // client IP: a flood of them must not fill admin.db.
    let sampled = || actor.is_some() || status.is_success() || app.sample_unauthenticated(&ip);
    if let Some(route) = route
        && (method != "GET" || denied)
        && !route.path.starts_with("/metrics")
        && !route.path.starts_with("/health")
        && sampled()
    {
        let note = response.extensions().get::<AuditNote>().cloned();
        let mut entry = entry_of(
            route,
            &method,
            &path,
            actor.as_ref(),
            note.unwrap_or_default(),
            status,
            ip,
            user_agent,
        );
        entry.request_id = request_id;
        app.audit(&entry);
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
    use api_bucket_access as bucket_access;
    use api_bucket_config as bucket_config;
    use api_buckets as buckets;
    use api_encryption as encryption;
    use api_iam as iam;
    use api_identity as identity;
    use api_sessions as sessions;
    use api_settings as settings;
    let handler = match (route.method, route.path) {
        ("GET", "/api/v1" | "/api/v1/") => get(api_root),
        ("POST", "/api/v1/auth/login") => post(auth::login),
        ("POST", "/api/v1/auth/logout") => post(auth::logout),
        ("POST", "/api/v1/auth/refresh") => post(auth::refresh),
        ("GET", "/api/v1/auth/me") => get(auth::me),
        ("POST", "/api/v1/auth/s3-credentials") => post(sessions::s3_credentials),
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
        ("POST", "/api/v1/users/{user}/sessions/revoke") => post(sessions::revoke_sessions),
        ("GET", "/api/v1/access-keys") => get(identity::list_all_keys),
        ("GET", "/api/v1/users/{user}/access-keys") => get(identity::list_keys),
        ("POST", "/api/v1/users/{user}/access-keys") => post(identity::create_key),
        ("PUT", "/api/v1/users/{user}/access-keys/{accessKey}") => put(identity::set_key_status),
        ("PATCH", "/api/v1/users/{user}/access-keys/{accessKey}") => {
            patch(identity::set_key_status)
        }
        ("DELETE", "/api/v1/users/{user}/access-keys/{accessKey}") => delete(identity::delete_key),
        ("GET", "/api/v1/policies") => get(iam::list_policies),
        ("POST", "/api/v1/policies") => post(iam::create_policy),
        ("GET", "/api/v1/policies/{policy}") => get(iam::get_policy),
        ("PUT", "/api/v1/policies/{policy}") => put(iam::update_policy),
        ("DELETE", "/api/v1/policies/{policy}") => delete(iam::delete_policy),
        ("GET", "/api/v1/groups") => get(iam::list_groups),
        ("POST", "/api/v1/groups") => post(iam::create_group),
        ("GET", "/api/v1/groups/{group}") => get(iam::get_group),
        ("PUT", "/api/v1/groups/{group}") => put(iam::update_group),
        ("DELETE", "/api/v1/groups/{group}") => delete(iam::delete_group),
        ("PUT", "/api/v1/groups/{group}/members/{user}") => put(iam::add_member),
        ("DELETE", "/api/v1/groups/{group}/members/{user}") => delete(iam::remove_member),
        ("PUT", "/api/v1/groups/{group}/policies/{policy}") => put(iam::attach_group_policy),
        ("DELETE", "/api/v1/groups/{group}/policies/{policy}") => delete(iam::detach_group_policy),
        ("PUT", "/api/v1/users/{user}/policies/{policy}") => put(iam::attach_user_policy),
        ("DELETE", "/api/v1/users/{user}/policies/{policy}") => delete(iam::detach_user_policy),
        ("GET", "/api/v1/buckets") => get(buckets::list),
        ("POST", "/api/v1/buckets") => post(buckets::create),
        ("GET", "/api/v1/buckets/{bucket}") => get(buckets::get_one),
        ("DELETE", "/api/v1/buckets/{bucket}") => delete(buckets::remove),
        ("GET", "/api/v1/buckets/{bucket}/versioning") => get(bucket_config::get_versioning),
        ("PUT", "/api/v1/buckets/{bucket}/versioning") => put(bucket_config::put_versioning),
        ("GET", "/api/v1/buckets/{bucket}/object-lock") => get(bucket_config::get_object_lock),
        ("PUT", "/api/v1/buckets/{bucket}/object-lock") => put(bucket_config::put_object_lock),
        ("GET", "/api/v1/buckets/{bucket}/lifecycle") => get(bucket_config::get_lifecycle),
        ("PUT", "/api/v1/buckets/{bucket}/lifecycle") => put(bucket_config::put_lifecycle),
        ("DELETE", "/api/v1/buckets/{bucket}/lifecycle") => delete(bucket_config::delete_lifecycle),
        ("GET", "/api/v1/buckets/{bucket}/versions") => get(bucket_config::list_versions),
        ("GET", "/api/v1/buckets/{bucket}/cors") => get(bucket_access::get_cors),
        ("PUT", "/api/v1/buckets/{bucket}/cors") => put(bucket_access::put_cors),
        ("DELETE", "/api/v1/buckets/{bucket}/cors") => delete(bucket_access::delete_cors),
        ("GET", "/api/v1/buckets/{bucket}/policy") => get(bucket_access::get_policy),
        ("PUT", "/api/v1/buckets/{bucket}/policy") => put(bucket_access::put_policy),
        ("DELETE", "/api/v1/buckets/{bucket}/policy") => delete(bucket_access::delete_policy),
        ("GET", "/api/v1/buckets/{bucket}/tagging") => get(bucket_access::get_tagging),
        ("PUT", "/api/v1/buckets/{bucket}/tagging") => put(bucket_access::put_tagging),
        ("DELETE", "/api/v1/buckets/{bucket}/tagging") => delete(bucket_access::delete_tagging),
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
        ("GET", "/api/v1/metrics") => get(crate::api_metrics::recent),
        ("GET", "/metrics") => get(metrics),
        ("GET", "/health") => get(health),
        _ => return None,
    };
    Some(handler)
}

pub fn router(app: Shared) -> Router {
    let policy = crate::console::content_security_policy(app.s3_endpoint.as_deref());
    let policy = axum::http::HeaderValue::from_str(&policy).unwrap_or(
        axum::http::HeaderValue::from_static(crate::console::CONTENT_SECURITY_POLICY),
    );
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
        // Every other path is the web console's (its files, or index.html for its routes);
        // unknown /api/ paths keep the JSON 404.
        .fallback(move |request: axum::extract::Request| {
            let policy = policy.clone();
            async move { crate::console::serve_with_policy(&request, policy) }
        })
        .layer(axum::middleware::from_fn(request_timeout))
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(request_id))
        .with_state(app)
}

/// The id of one call, in the answer's `X-Request-Id` and in the call's audit entry: what a
/// user quotes from the console's error toast finds the entry. Only a header: the bodies stay
/// as they were, so answers that must not differ (a failed login, whatever failed) still
/// do not.
#[derive(Clone)]
pub struct RequestId(pub String);

async fn request_id(mut request: Request, next: Next) -> Response {
    let id = hex::encode(rand::random::<[u8; 8]>());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = header::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn request_timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "RequestTimeout",
            "the request took too long",
        )
        .into_response(),
    }
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

/// Prometheus metrics: for a global admin's session, or the configured scrape token
/// (compared in constant time). The counts (logins, failures) are not for everyone.
async fn metrics(
    State(app): State<Shared>,
    MaybeSession(session): MaybeSession,
    headers: HeaderMap,
) -> Response {
    let allowed = match session {
        Some(session) if session.actor.is_global_admin() => true,
        Some(_) => return ApiError::forbidden().into_response(),
        None => match (bearer(&headers), app.metrics_token.as_deref()) {
            (Some(token), Some(expected)) => {
                // Digests first: equal lengths, so the comparison time says nothing.
                crate::secrets::equal(
                    crate::secrets::digest(token).as_bytes(),
                    crate::secrets::digest(expected).as_bytes(),
                )
            }
            _ => false,
        },
    };
    if !allowed {
        return ApiError::unauthorized("a global admin's session or the metrics token is required")
            .into_response();
    }
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

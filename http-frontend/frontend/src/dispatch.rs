//! Per-request control flow: classify, authenticate, run the operation's handler, answer.
//!
//! Decisions are made here once per request (placement, authentication, which handler); the
//! handlers move bytes. Every error on the way becomes one S3 error response.

use std::rc::Rc;

use runtime::ShardContext;
use runtime::events::Actor;
use runtime::identity::{IdentityIndex, Principal};
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::router::{Operation, QueryParams, Route, RouteHeaders, bucket_from_host, route_with};
use s3_proto::sigv4::{
    AuthContext, Authenticated, CredentialStore, PayloadMode, SignedRequest, SigningKeyCache,
    authenticate_for_host,
};

use crate::connection::Connection;
use crate::cors;
use crate::handlers;
use crate::request::{BodyFraming, RequestHead};
use crate::response::{self, Response};
use crate::s3_error;

/// A request classified once: its operation and its parsed query, reused by `prepare`.
pub struct Routed {
    pub route: Route,
    pub query: QueryParams,
}

pub enum Placement {
    /// Serve on this shard (bucket and service operations, errors, health); `None` when the
    /// request could not be routed (`prepare` reports why).
    Here(Option<Routed>),
    /// The object belongs to another shard's partition.
    Elsewhere(u32),
}

/// Where a request must run. Only object operations move; everything else runs where it
/// arrived. Unparseable requests are answered here.
pub fn placement(context: &ShardContext, head: &RequestHead) -> Placement {
    let Ok(query) = QueryParams::parse(&head.raw_query) else {
        return Placement::Here(None);
    };
    let Ok(route) = route_request(context, head, &query) else {
        return Placement::Here(None);
    };
    if let (Some(bucket), Some(key)) = (&route.bucket, &route.key) {
        let owner = context.owner_of_key(bucket, key);
        if owner != context.shard_id {
            return Placement::Elsewhere(owner);
        }
    }
    Placement::Here(Some(Routed { route, query }))
}

/// PostObject's key is in the form: peek at the fields before the file part (bounded by
/// `FORM_PREFIX_BYTES_MAX`, nothing consumed) and hand the whole request to the key's owner,
/// which parses it again from the start. Needs Content-Length framing (browsers send it);
/// a form the peek cannot read is answered here by the handler's own errors.
pub async fn resolve_post_object(
    context: &ShardContext,
    head: &RequestHead,
    connection: &mut Connection,
    placement: Placement,
) -> Placement {
    use handlers::post_object::{FORM_PREFIX_BYTES_MAX, peek_key};
    let Placement::Here(Some(routed)) = placement else {
        return placement;
    };
    let route = &routed.route;
    let (Operation::PostObject, Some(bucket), BodyFraming::ContentLength(length)) =
        (route.operation, route.bucket.clone(), head.framing)
    else {
        return Placement::Here(Some(routed));
    };
    let content_type = head.header("content-type").unwrap_or_default();
    let wanted_bytes = usize::try_from(length).map_or(FORM_PREFIX_BYTES_MAX, |length| {
        length.min(FORM_PREFIX_BYTES_MAX)
    });
    if head.expect_continue {
        // The body comes only after this; the owner may send a second 100 (RFC 9110 15.2
        // requires clients to accept several 1xx responses).
        let continue_line = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        if connection.write_all(continue_line).await.is_err() {
            return Placement::Here(Some(routed));
        }
    }
    // Bounded: each round reads more bytes until `wanted_bytes` are buffered.
    loop {
        let body = &connection.unconsumed()[head.head_length..];
        if let Some(key) = peek_key(content_type, body) {
            let owner = context.owner_of_key(&bucket, &key);
            if owner != context.shard_id {
                return Placement::Elsewhere(owner);
            }
            return Placement::Here(Some(routed));
        }
        if body.len() >= wanted_bytes
            || connection
                .fill(context.settings.idle_timeout)
                .await
                .is_err()
        {
            return Placement::Here(Some(routed));
        }
    }
}

/// The credentials the data plane knows: the root identity, and the access keys of the
/// identity the admin pushed (one hash lookup). A disabled key still has its secret here: the
/// signature is verified first, and `principal` then refuses the key with AccessDenied, so
/// only the key's holder learns that it is disabled.
pub(crate) struct Credentials<'a> {
    pub(crate) settings: &'a runtime::SharedSettings,
    pub(crate) identity: &'a IdentityIndex,
}

impl CredentialStore for Credentials<'_> {
    fn secret_key(&self, access_key_id: &str) -> Option<&str> {
        // The id is public; the secret is compared inside the verifier in constant time.
        if access_key_id == self.settings.root_access_key_id {
            return Some(self.settings.root_secret_key.as_str());
        }
        self.identity
            .key(access_key_id)
            .map(|entry| entry.secret_access_key.as_str())
    }
}

impl Credentials<'_> {
    /// The principal of a key whose signature verified against this same identity.
    pub(crate) fn principal(&self, access_key_id: &str) -> Result<Principal, S3Error> {
        if access_key_id == self.settings.root_access_key_id {
            return Ok(Principal::Root);
        }
        match self.identity.key(access_key_id) {
            Some(entry) if entry.usable => Ok(Principal::User(Rc::clone(entry))),
            Some(_) => Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "The access key, its user or its tenant is disabled.",
            )),
            None => Err(S3Error::new(S3ErrorCode::InvalidAccessKeyId)),
        }
    }
}

/// Whether `principal` may run `route`: every operation naming an existing bucket requires
/// access to that bucket's tenant (a missing bucket is left to the handler's NoSuchBucket;
/// CreateBucket of a taken name is the handler's BucketAlreadyExists).
pub(crate) fn authorize(
    context: &ShardContext,
    principal: &Principal,
    bucket: Option<&str>,
) -> Result<(), S3Error> {
    let Some(bucket) = bucket else {
        return Ok(());
    };
    let allowed = context
        .buckets
        .borrow()
        .get(bucket)
        .is_none_or(|entry| principal.may_access(entry.record.owner_tenant.as_deref()));
    if allowed {
        Ok(())
    } else {
        Err(S3Error::new(S3ErrorCode::AccessDenied))
    }
}

/// Records a refused request (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch) on
/// an existing bucket in partition 0's event log.
pub(crate) fn record_denied(
    context: &Rc<ShardContext>,
    error: &S3Error,
    route: &Route,
    actor: &Actor,
) {
    let denied = matches!(
        error.code,
        S3ErrorCode::AccessDenied
            | S3ErrorCode::InvalidAccessKeyId
            | S3ErrorCode::SignatureDoesNotMatch
    );
    let Some(bucket) = route.bucket.as_deref() else {
        return;
    };
    if !denied || !context.bucket_exists(bucket) {
        return;
    }
    let event = runtime::events::record(
        control_kind_access_denied(),
        route.operation.as_str(),
        bucket,
        route.key.as_deref(),
        actor,
        error.code.http_status(),
    );
    runtime::events::record_denied(context, event);
}

fn control_kind_access_denied() -> runtime::events::EventKind {
    runtime::events::EventKind::AccessDenied
}

thread_local! {
    /// Signing keys derived per (access key, day): no key derivation per request.
    static SIGNING_KEYS: std::cell::RefCell<SigningKeyCache> =
        std::cell::RefCell::new(SigningKeyCache::new());
}

/// Everything a handler needs about the request being served.
pub struct Exchange<'a> {
    pub context: &'a Rc<ShardContext>,
    pub connection: &'a mut Connection,
    pub head: RequestHead,
    pub route: Route,
    pub query: QueryParams,
    pub request_id: String,
    pub access_key_id: String,
    /// Who signed the request; `None` only for a POST upload before its form is verified.
    pub principal: Option<Principal>,
    /// Taken by the body reader of the handler that reads the body.
    pub payload: Option<PayloadMode>,
    /// Set by the handler once the request body has been read to its end.
    pub body_complete: bool,
    /// Set by handlers that wrote their response themselves (streamed GET).
    pub responded: bool,
    /// `Access-Control-*` headers for the answer, when the request carries an `Origin` that
    /// one of the bucket's CORS rules allows (`crate::cors`); empty otherwise.
    pub cors_headers: Vec<(&'static str, String)>,
}

impl Exchange<'_> {
    pub fn bucket(&self) -> &str {
        self.route.bucket.as_deref().unwrap_or("")
    }

    pub fn key(&self) -> &str {
        self.route.key.as_deref().unwrap_or("")
    }

    pub fn is_head(&self) -> bool {
        self.head.method == "HEAD"
    }

    /// Who made this request, for the event log.
    pub fn actor(&self) -> Actor {
        actor_of(
            self.principal.as_ref(),
            &self.access_key_id,
            &self.request_id,
            self.connection,
        )
    }

    /// The tenant that owns this request's bucket (`None`: no tenant, or no such bucket).
    pub fn bucket_tenant(&self) -> Option<String> {
        self.context
            .buckets
            .borrow()
            .get(self.bucket())
            .and_then(|entry| entry.record.owner_tenant.clone())
    }

    /// Whether the connection can serve another request after this one.
    pub fn keep_alive(&self) -> bool {
        self.head.keep_alive
            && (self.body_complete || !self.head.has_body())
            && !self.context.shutting_down.get()
    }
}

fn actor_of(
    principal: Option<&Principal>,
    access_key_id: &str,
    request_id: &str,
    connection: &Connection,
) -> Actor {
    Actor {
        access_key_id: (!access_key_id.is_empty()).then(|| access_key_id.to_owned()),
        user_id: principal.and_then(Principal::user_id).map(str::to_owned),
        tenant_id: principal.and_then(Principal::tenant_id).map(str::to_owned),
        request_id: request_id.to_owned(),
        source_ip: connection
            .stream
            .peer_addr()
            .ok()
            .map(|address| address.ip().to_string()),
    }
}

/// Serves one request on this shard; returns whether the connection stays open.
pub async fn serve_request(
    context: &Rc<ShardContext>,
    connection: &mut Connection,
    head: RequestHead,
    routed: Option<Routed>,
) -> bool {
    let request_id = response::new_request_id(context);
    connection.consume(head.head_length);
    connection.accounting.operation = routed
        .as_ref()
        .map(|routed| routed.route.operation.as_str());
    if let Some(response) = handlers::metrics::answer(context, &head).await {
        connection.accounting.operation = Some("Metrics");
        let keep_alive = head.keep_alive && !head.has_body();
        let bytes = match response {
            Ok(response) => response::response_bytes(&response, false, keep_alive, &request_id),
            Err(error) => response::error_bytes(&error, &[], keep_alive, &request_id),
        };
        return connection.write_all(bytes).await.is_ok() && keep_alive;
    }
    if let Some(response) = handlers::health::answer(context, &head).await {
        connection.accounting.operation = Some("Health");
        let keep_alive = head.keep_alive && !head.has_body();
        let bytes =
            response::response_bytes(&response, head.method == "HEAD", keep_alive, &request_id);
        return connection.write_all(bytes).await.is_ok() && keep_alive;
    }
    let prepared = prepare(context, &head, routed);
    let (route, query, access_key_id, payload, principal) = match prepared {
        Ok(prepared) => {
            connection.accounting.operation = Some(prepared.0.operation.as_str());
            prepared
        }
        Err(refusal) => return refuse(context, connection, &head, *refusal, &request_id).await,
    };
    let cors_headers = cors::headers_for_request(context, &head, route.bucket.as_deref());
    let mut exchange = Exchange {
        context,
        connection,
        head,
        route,
        query,
        request_id,
        access_key_id,
        principal,
        payload: Some(payload),
        body_complete: false,
        responded: false,
        cors_headers,
    };
    let result = handlers::run(&mut exchange).await;
    if let Err(error) = &result {
        record_denied(context, error, &exchange.route, &exchange.actor());
    }
    let keep_alive = exchange.keep_alive();
    let body_unread = exchange.head.has_body() && !exchange.body_complete;
    let written = match result {
        Ok(_) if exchange.responded => true,
        Ok(mut response) => {
            response.headers.append(&mut exchange.cors_headers);
            let bytes = response::response_bytes(
                &response,
                exchange.is_head(),
                keep_alive,
                &exchange.request_id,
            );
            exchange.connection.write_all(bytes).await.is_ok()
        }
        // The head went out already; cutting the connection short is the only signal left.
        Err(_) if exchange.responded => false,
        Err(error) => {
            write_error(
                exchange.connection,
                &exchange.head,
                &error,
                &exchange.cors_headers,
                keep_alive,
                &exchange.request_id,
            )
            .await
        }
    };
    log_request(&exchange);
    if written && body_unread {
        exchange.connection.linger().await;
    }
    written && keep_alive
}

/// Answers a request that could not be routed, authenticated or authorized; returns whether
/// the connection stays open.
async fn refuse(
    context: &Rc<ShardContext>,
    connection: &mut Connection,
    head: &RequestHead,
    (error, route): (S3Error, Option<Route>),
    request_id: &str,
) -> bool {
    let bucket = route.as_ref().and_then(|route| route.bucket.as_deref());
    let cors_headers = cors::headers_for_request(context, head, bucket);
    if let Some(route) = route {
        let actor = actor_of(None, "", request_id, connection);
        record_denied(context, &error, &route, &actor);
    }
    let keep_alive = head.keep_alive && !head.has_body();
    let written = write_error(
        connection,
        head,
        &error,
        &cors_headers,
        keep_alive,
        request_id,
    )
    .await;
    if written && head.has_body() {
        connection.linger().await;
    }
    written && keep_alive
}

/// One line per request (at debug), after the answer so that it carries the status; the
/// request id is the `x-amz-request-id` the client got.
fn log_request(exchange: &Exchange<'_>) {
    let accounting = exchange.connection.accounting;
    tracing::debug!(
        request_id = %exchange.request_id,
        operation = exchange.route.operation.as_str(),
        bucket = exchange.bucket(),
        key = exchange.key(),
        status = accounting.status.unwrap_or(499),
        error = accounting.error_code.unwrap_or(""),
        received_bytes = accounting.received_bytes,
        sent_bytes = accounting.sent_bytes,
        "request"
    );
}

type Prepared = (Route, QueryParams, String, PayloadMode, Option<Principal>);

/// Routes, authenticates and authorizes a request. On failure, the route (when known) comes
/// back with the error so that a denied request can be logged.
fn prepare(
    context: &ShardContext,
    head: &RequestHead,
    routed: Option<Routed>,
) -> Result<Prepared, Box<(S3Error, Option<Route>)>> {
    let (route, query) = if let Some(Routed { route, query }) = routed {
        (route, query)
    } else {
        let query = QueryParams::parse(&head.raw_query).map_err(|error| Box::new((error, None)))?;
        let route =
            route_request(context, head, &query).map_err(|error| Box::new((error, None)))?;
        (route, query)
    };
    if route.operation == Operation::PostObject {
        // The form carries the signature; the handler verifies it before anything else.
        return Ok((route, query, String::new(), PayloadMode::Unsigned, None));
    }
    if route.operation == Operation::OptionsObject {
        // A CORS preflight: browsers send it without credentials, and the answer reveals
        // only the bucket's CORS rules (as on S3).
        return Ok((route, query, String::new(), PayloadMode::Unsigned, None));
    }
    let authenticated = match authenticate_head(context, head) {
        Ok(authenticated) => authenticated,
        Err(error) => return Err(Box::new((error, Some(route)))),
    };
    match authenticated {
        // No bucket policies yet: anonymous requests are denied.
        None => Err(Box::new((
            S3Error::new(S3ErrorCode::AccessDenied),
            Some(route),
        ))),
        Some(signed) => {
            // CreateBucket of a taken name answers BucketAlreadyExists in its handler.
            let bucket = route
                .bucket
                .as_deref()
                .filter(|_| route.operation != Operation::CreateBucket);
            if let Err(error) = authorize(context, &signed.principal, bucket) {
                return Err(Box::new((error, Some(route))));
            }
            Ok((
                route,
                query,
                signed.access_key_id,
                signed.payload,
                Some(signed.principal),
            ))
        }
    }
}

/// A request whose signature verified, and who signed it.
pub(crate) struct SignedBy {
    pub(crate) access_key_id: String,
    pub(crate) payload: PayloadMode,
    pub(crate) principal: Principal,
}

/// Verifies the request's signature (SigV4 or SigV2, header or presigned) against the known
/// identities, and resolves who signed it (AccessDenied for a disabled key); `None` when it
/// carries no signature (anonymous).
/// Authenticates the request and counts the attempt by method and outcome
/// (`maxiofs_auth_attempts_total`, `maxiofs_auth_failures_total`).
pub(crate) fn authenticate_head(
    context: &ShardContext,
    head: &RequestHead,
) -> Result<Option<SignedBy>, S3Error> {
    let result = verify_head(context, head);
    let failure = result.as_ref().err().map(|error| error.code.as_str());
    context
        .metrics
        .borrow_mut()
        .record_auth(auth_method(head), failure);
    result
}

/// How a request is signed, as a static metric label (from the head alone: the verifier
/// decides whether the signature is good).
fn auth_method(head: &RequestHead) -> &'static str {
    if let Some(authorization) = head.header("authorization") {
        if authorization.starts_with(b"AWS4-HMAC-SHA256") {
            return "sigv4";
        }
        if authorization.starts_with(b"AWS ") {
            return "sigv2";
        }
        return "other";
    }
    let query = head.raw_query.as_str();
    if query.contains("X-Amz-Signature=") {
        "presigned_v4"
    } else if query.contains("Signature=") {
        "presigned_v2"
    } else {
        "anonymous"
    }
}

fn verify_head(context: &ShardContext, head: &RequestHead) -> Result<Option<SignedBy>, S3Error> {
    let host_bucket = host_bucket(context, head);
    let headers: Vec<(&str, &[u8])> = head
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let signed = SignedRequest {
        method: &head.method,
        raw_path: &head.raw_path,
        raw_query: &head.raw_query,
        headers: &headers,
    };
    let auth_context = AuthContext {
        region: &context.settings.region,
        now_unix_secs: now_unix_secs(),
    };
    // One snapshot for the whole request: the key verified is the key authorized.
    let identity = context.identity();
    let store = Credentials {
        settings: &context.settings,
        identity: &identity,
    };
    let authenticated = SIGNING_KEYS
        .with(|cache| {
            let cache = &mut cache.borrow_mut();
            authenticate_for_host(&signed, &auth_context, host_bucket, &store, cache)
        })
        .map_err(|error| s3_error::from_sigv4(&error, &context.settings.region))?;
    match authenticated {
        Authenticated::Signed {
            access_key_id,
            payload,
        } => Ok(Some(SignedBy {
            principal: store.principal(&access_key_id)?,
            access_key_id,
            payload,
        })),
        Authenticated::Anonymous => Ok(None),
    }
}

pub(crate) fn now_unix_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// The bucket a virtual-host `Host` names, with the configured `--domain`s.
fn host_bucket<'h>(context: &ShardContext, head: &'h RequestHead) -> Option<&'h str> {
    let host = head.header_str("host")?;
    bucket_from_host(host, &context.settings.domains)
}

/// The one classification of a request, used for placement and for serving.
fn route_request(
    context: &ShardContext,
    head: &RequestHead,
    query: &QueryParams,
) -> Result<Route, S3Error> {
    let headers = RouteHeaders {
        host_bucket: host_bucket(context, head),
        has_copy_source_header: head.has_header("x-amz-copy-source"),
        content_type: head.header("content-type"),
    };
    route_with(&head.method, &head.raw_path, query, &headers)
}

/// Writes an S3 error answer; `headers` are the request's CORS headers (a browser script
/// may read errors too).
async fn write_error(
    connection: &mut Connection,
    head: &RequestHead,
    error: &S3Error,
    headers: &[(&'static str, String)],
    keep_alive: bool,
    request_id: &str,
) -> bool {
    connection.accounting.error_code = Some(error.code.as_str());
    let mut error = error.clone();
    if error.resource.is_none() {
        error = error.resource(head.raw_path.clone());
    }
    let bytes = if head.method == "HEAD" {
        response::head_error_bytes(&error, headers, keep_alive, request_id)
    } else {
        response::error_bytes(&error, headers, keep_alive, request_id)
    };
    connection.write_all(bytes).await.is_ok()
}

/// Operations this build serves; everything else is answered with NotImplemented.
pub fn not_implemented(operation: Operation) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        format!(
            "{} is not implemented by this server yet",
            operation.as_str()
        ),
    )
}

pub fn ok() -> Response {
    Response::new(200)
}

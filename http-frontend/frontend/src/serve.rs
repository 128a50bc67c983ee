//! The life of a connection on a shard: read a request head within the limits, decide which
//! shard owns the request (`dispatch`), serve it here or hand the connection to the owner,
//! repeat while keep-alive lasts. Serving one request is: authenticate and authorize
//! (`auth`), run the operation's handler, answer, count.
//!
//! Hand-over moves the socket (and the bytes already read) through the owner's bounded inbox;
//! the owner parses the head again (about a microsecond) and serves the request and the ones
//! after it, until one belongs elsewhere. Object bytes never cross cores.
//!
//! With TLS on, a fresh connection's first bytes say what it is: a TLS record (0x16) starts the
//! handshake, anything else is plain HTTP, refused with a 400 that says to use https (or
//! served, with `--tls-refuse-http=false`). The sniff, the handshake and the first request head
//! share one head-read deadline. A TLS connection is handed over with its session.

use std::os::fd::{FromRawFd, IntoRawFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

use base::acl::Permission;
use base::limits::REQUEST_HEAD_BYTES_MAX;
use runtime::ShardContext;
use runtime::identity::Principal;
use runtime::mesh::MeshMessage;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::router::{Operation, QueryParams, Route};
use s3_proto::sigv4::PayloadMode;

use crate::auth::acls::{Verdict, check_with_acls};
use crate::auth::{
    PolicyQuestion, RequestFacts, SignedBy, authenticate_head, authorize, record_denied,
};
use crate::connection::{Accounting, Connection};
use crate::cors;
use crate::dispatch::{self, Placement, Routed, route_request};
use crate::exchange::{Exchange, actor_of};
use crate::handlers;
use crate::request::{HeadError, RequestHead, parse_head};
use crate::response;

/// Counts the finished request in this shard's metrics. A request that got no answer (the
/// client went away) counts as 499, as nginx logs it.
fn record_request(
    context: &ShardContext,
    accounting: &Accounting,
    method: &str,
    elapsed: Duration,
) {
    let record = telemetry::RequestRecord {
        operation: accounting.operation.unwrap_or("Invalid"),
        method: static_method(method),
        status: accounting.status.unwrap_or(499),
        duration: elapsed,
        received_bytes: accounting.received_bytes,
        sent_bytes: accounting.sent_bytes,
        error_code: accounting.error_code,
    };
    context.metrics.borrow_mut().record(&record);
}

/// The method as a static label: the methods S3 uses, everything else as `OTHER` (bounded
/// label values whatever clients send).
fn static_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "PUT" => "PUT",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

/// Serves a connection until it closes, times out or moves to another shard. A connection
/// with no bytes buffered is fresh from this shard's listener and counts against the
/// shard's connection limit; one handed over by another shard (its head already buffered,
/// its TLS session with it) was admitted there.
pub async fn serve(
    context: Rc<ShardContext>,
    stream: monoio::net::TcpStream,
    buffered: Vec<u8>,
    tls: Option<Box<tls::Session>>,
) {
    let fresh = buffered.is_empty() && tls.is_none();
    let mut connection = Connection::new(stream, buffered, tls);
    let Some(_open) = context.open_connection(fresh) else {
        // A TLS client could not read a plaintext answer: it gets the close only.
        if context.tls.borrow().is_none() {
            refuse_over_limit(&context, &mut connection).await;
        }
        return;
    };
    let mut first_deadline = None;
    if fresh {
        let deadline = Instant::now() + context.settings.request_head_timeout;
        first_deadline = Some(deadline);
        let config = context.tls.borrow().clone();
        if let Some(config) = config
            && !accept_tls(&context, &mut connection, config, deadline).await
        {
            return;
        }
    }
    match serve_requests(&context, &mut connection, first_deadline).await {
        Next::HandOver(shard_id) => hand_over(&context, connection, shard_id).await,
        Next::Close => connection.close_tls().await,
    }
}

/// What becomes of a connection once this shard stops serving it.
enum Next {
    Close,
    HandOver(u32),
}

/// TLS is on and `connection` is fresh: tells TLS from plain HTTP by the first byte, and
/// handshakes by `deadline`. False when the connection is done with (refused, failed).
async fn accept_tls(
    context: &ShardContext,
    connection: &mut Connection,
    config: std::sync::Arc<tls::rustls::ServerConfig>,
    deadline: Instant,
) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() || connection.fill(left).await.is_err() {
        return false;
    }
    if connection.unconsumed().first() != Some(&tls::HANDSHAKE_RECORD) {
        if !context.settings.tls_refuse_http {
            return true;
        }
        let refused = &context.tls_counters.plain_http_refused;
        refused.set(refused.get() + 1);
        let error = S3Error::with_message(
            S3ErrorCode::BadRequest,
            "This port speaks HTTPS (TLS) only: use an https:// endpoint.",
        );
        let bytes = response::error_bytes(&error, &[], false, &response::new_request_id(context));
        if connection.write_all(bytes).await.is_ok() {
            connection.linger().await;
        }
        return false;
    }
    if let Err(error) = connection.start_tls(config) {
        tracing::warn!(%error, "TLS session could not start");
        return false;
    }
    match connection.handshake(deadline).await {
        Ok(()) => true,
        Err(error) => {
            let failed = &context.tls_counters.handshakes_failed;
            failed.set(failed.get() + 1);
            tracing::debug!(shard = context.shard_id, ?error, "TLS handshake failed");
            false
        }
    }
}

/// The keep-alive loop: requests until the connection closes or one belongs elsewhere.
async fn serve_requests(
    context: &Rc<ShardContext>,
    connection: &mut Connection,
    first_deadline: Option<Instant>,
) -> Next {
    let mut first_request = true;
    loop {
        connection.accounting = Accounting::default();
        let deadline = first_request.then(|| {
            first_deadline.unwrap_or_else(|| Instant::now() + context.settings.request_head_timeout)
        });
        let head = match read_head(&context.settings, connection, deadline).await {
            Ok(head) => head,
            Err(HeadOutcome::Closed) => return Next::Close,
            Err(HeadOutcome::Refused(error)) => {
                let (status, code) = match error {
                    HeadError::TooManyHeaders => (431, S3ErrorCode::RequestHeaderSectionTooLarge),
                    _ => (400, S3ErrorCode::BadRequest),
                };
                let mut error = S3Error::new(code);
                if status == 431 {
                    error = error.resource("request head");
                }
                let bytes =
                    response::error_bytes(&error, &[], false, &response::new_request_id(context));
                let _ = connection.write_all(bytes).await;
                return Next::Close;
            }
        };
        first_request = false;
        let placement = dispatch::placement(context, &head);
        let placement = dispatch::resolve_post_object(context, &head, connection, placement).await;
        match placement {
            Placement::Elsewhere(shard_id) => return Next::HandOver(shard_id),
            Placement::Here(routed) => {
                let _request = context.begin_request();
                let started = std::time::Instant::now();
                let method = head.method.clone();
                let keep_alive = serve_request(context, connection, head, routed).await;
                record_request(context, &connection.accounting, &method, started.elapsed());
                if !keep_alive || context.shutting_down.get() {
                    return Next::Close;
                }
                connection.release_idle_buffer();
            }
        }
    }
}

/// Answers a connection beyond the shard's limit with 503 SlowDown and closes it, without
/// reading its request: the refusal costs one write, however many connections arrive.
async fn refuse_over_limit(context: &ShardContext, connection: &mut Connection) {
    let error = S3Error::with_message(
        S3ErrorCode::SlowDown,
        "Too many open connections to this server; reduce your connection count and retry.",
    );
    let bytes = response::error_bytes(&error, &[], false, &response::new_request_id(context));
    let _ = connection.write_all(bytes).await;
    tracing::debug!(
        shard = context.shard_id,
        open = context.connections_open.get(),
        "connection refused: limit reached"
    );
}

enum HeadOutcome {
    Closed,
    Refused(HeadError),
}

/// Reads until a complete head is buffered. A kept-alive connection may idle for the idle
/// timeout before its next request; once a request has started (its first byte arrived, or the
/// connection is new: `deadline` is then given), the whole head must arrive within the
/// header-read timeout, however the client spreads its bytes (slowloris).
async fn read_head(
    settings: &runtime::SharedSettings,
    connection: &mut Connection,
    mut deadline: Option<Instant>,
) -> Result<crate::request::RequestHead, HeadOutcome> {
    let head_time = settings.request_head_timeout;
    if deadline.is_none() && !connection.unconsumed().is_empty() {
        deadline = Some(Instant::now() + head_time);
    }
    loop {
        match parse_head(connection.unconsumed()) {
            Ok(Some(head)) => return Ok(head),
            Ok(None) => {}
            Err(error) => return Err(HeadOutcome::Refused(error)),
        }
        if connection.unconsumed().len() >= REQUEST_HEAD_BYTES_MAX {
            return Err(HeadOutcome::Refused(HeadError::TooManyHeaders));
        }
        let timeout = match deadline {
            Some(deadline) => deadline.saturating_duration_since(std::time::Instant::now()),
            None => settings.idle_timeout,
        };
        if timeout.is_zero() || connection.fill(timeout).await.is_err() {
            return Err(HeadOutcome::Closed);
        }
        deadline.get_or_insert_with(|| std::time::Instant::now() + head_time);
    }
}

async fn hand_over(context: &ShardContext, connection: Connection, shard_id: u32) {
    // The request is counted by the shard that serves it.
    let (stream, buffered, tls) = connection.into_parts();
    let raw = stream.into_raw_fd();
    // SAFETY: `raw` was just released by the monoio stream (no operation is in flight on it:
    // the head was read to completion) and is owned by nothing else.
    #[allow(unsafe_code)]
    let stream = unsafe { std::net::TcpStream::from_raw_fd(raw) };
    let message = MeshMessage::Connection {
        stream,
        buffered,
        tls,
    };
    // A full inbox makes this connection wait (backpressure); other tasks keep running.
    if context.inboxes[shard_id as usize]
        .send_async(message)
        .await
        .is_err()
    {
        tracing::debug!(to = shard_id, "owner shard stopped; connection closed");
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
    if let Some(answer) = handlers::cors::console_preflight(context, &head) {
        return answer_outside_s3(connection, &head, "OptionsObject", answer, &request_id).await;
    }
    if let Some(answer) = handlers::metrics::answer(context, &head).await {
        return answer_outside_s3(connection, &head, "Metrics", answer, &request_id).await;
    }
    if let Some(response) = handlers::health::answer(context, &head).await {
        connection.accounting.operation = Some("Health");
        let keep_alive = head.keep_alive && !head.has_body();
        let bytes =
            response::response_bytes(&response, head.method == "HEAD", keep_alive, &request_id);
        return connection.write_all(bytes).await.is_ok() && keep_alive;
    }
    let prepared = prepare(context, &head, routed, connection);
    let (route, query, access_key_id, payload, principal, object_acl_gate) = match prepared {
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
        object_acl_gate,
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

/// Writes the answer to a request served before routing (a console preflight, a metrics
/// scrape); returns whether the connection stays open.
async fn answer_outside_s3(
    connection: &mut Connection,
    head: &RequestHead,
    operation: &'static str,
    answer: Result<response::Response, S3Error>,
    request_id: &str,
) -> bool {
    connection.accounting.operation = Some(operation);
    let keep_alive = head.keep_alive && !head.has_body();
    let bytes = match answer {
        Ok(response) => response::response_bytes(&response, false, keep_alive, request_id),
        Err(error) => response::error_bytes(&error, &[], keep_alive, request_id),
    };
    connection.write_all(bytes).await.is_ok() && keep_alive
}

/// Answers a request that could not be routed, authenticated or authorized; returns whether
/// the connection stays open.
async fn refuse(
    context: &Rc<ShardContext>,
    connection: &mut Connection,
    head: &RequestHead,
    refusal: Refusal,
    request_id: &str,
) -> bool {
    let Refusal {
        error,
        route,
        signer,
    } = refusal;
    let bucket = route.as_ref().and_then(|route| route.bucket.as_deref());
    let cors_headers = cors::headers_for_request(context, head, bucket);
    if let Some(route) = route {
        // A request refused after its signature verified is recorded with who signed it.
        let (principal, access_key_id) = match &signer {
            Some(signed) => (Some(&signed.principal), signed.access_key_id.as_str()),
            None => (None, ""),
        };
        let actor = actor_of(principal, access_key_id, request_id, connection);
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

/// A request ready for its handler: route, query, signer's access key, payload mode, signer,
/// and the permission the object's ACL must grant (`auth::acls::Verdict::IfObjectAcl`).
type Prepared = (
    Route,
    QueryParams,
    String,
    PayloadMode,
    Option<Principal>,
    Option<Permission>,
);

/// Why `prepare` refused a request: the error, the route when it was known, and who signed
/// it when the signature verified (the refusal is then an authorization's).
struct Refusal {
    error: S3Error,
    route: Option<Route>,
    signer: Option<SignedBy>,
}

impl Refusal {
    fn unsigned(error: S3Error, route: Option<Route>) -> Box<Refusal> {
        Box::new(Refusal {
            error,
            route,
            signer: None,
        })
    }
}

/// Routes, authenticates and authorizes a request. On failure, the route (when known) comes
/// back with the error so that a denied request can be logged.
fn prepare(
    context: &ShardContext,
    head: &RequestHead,
    routed: Option<Routed>,
    connection: &Connection,
) -> Result<Prepared, Box<Refusal>> {
    let (route, query) = if let Some(Routed { route, query }) = routed {
        (route, query)
    } else {
        let query =
            QueryParams::parse(&head.raw_query).map_err(|error| Refusal::unsigned(error, None))?;
        let route =
            route_request(context, head, &query).map_err(|error| Refusal::unsigned(error, None))?;
        (route, query)
    };
    if matches!(
        route.operation,
        Operation::PostObject | Operation::SecurityTokenService
    ) {
        // The form carries the signature (POST upload), or signs for STS with the body's
        // hash: the handler verifies it before anything else.
        return Ok((
            route,
            query,
            String::new(),
            PayloadMode::Unsigned,
            None,
            None,
        ));
    }
    if route.operation == Operation::OptionsObject {
        // A CORS preflight: browsers send it without credentials, and the answer reveals
        // only the bucket's CORS rules (as on S3).
        return Ok((
            route,
            query,
            String::new(),
            PayloadMode::Unsigned,
            None,
            None,
        ));
    }
    let authenticated = match authenticate_head(context, head) {
        Ok(authenticated) => authenticated,
        Err(error) => return Err(Refusal::unsigned(error, Some(route))),
    };
    let Some(signed) = authenticated else {
        return match admit_anonymous(context, head, &route, &query, connection) {
            Ok((payload, gate)) => Ok((route, query, String::new(), payload, None, gate)),
            Err(error) => Err(Refusal::unsigned(error, Some(route))),
        };
    };
    // CreateBucket of a taken name answers BucketAlreadyExists in its handler.
    let bucket = route
        .bucket
        .as_deref()
        .filter(|_| route.operation != Operation::CreateBucket);
    let operation = route.operation.as_str();
    let checked = authorize(context, &signed.principal, operation, bucket).and_then(|()| {
        // Every signed request asks the policies, ListBuckets and CreateBucket too (their
        // identity policies say whether the user may; no bucket policy applies to them).
        let named = route.bucket.as_deref().unwrap_or("");
        let question = policy_question(&route, &query, named);
        let facts = RequestFacts::of(head, &query, connection);
        check_with_acls(context, Some(&signed.principal), &question, &facts)
    });
    match checked {
        Ok(verdict) => Ok((
            route,
            query,
            signed.access_key_id,
            signed.payload,
            Some(signed.principal),
            gate_of(verdict),
        )),
        Err(error) => Err(Box::new(Refusal {
            error,
            route: Some(route),
            signer: Some(signed),
        })),
    }
}

/// An unsigned request: only a bucket policy can admit it (never ListBuckets or
/// CreateBucket). The body still goes through every check a signed one does (Content-MD5,
/// checksums, a hex `x-amz-content-sha256`); only the signature is missing.
fn admit_anonymous(
    context: &ShardContext,
    head: &RequestHead,
    route: &Route,
    query: &QueryParams,
    connection: &Connection,
) -> Result<(PayloadMode, Option<Permission>), S3Error> {
    let bucket = route
        .bucket
        .as_deref()
        .filter(|_| route.operation != Operation::CreateBucket)
        .ok_or_else(|| S3Error::new(S3ErrorCode::AccessDenied))?;
    let question = policy_question(route, query, bucket);
    let facts = RequestFacts::of(head, query, connection);
    let gate = gate_of(check_with_acls(context, None, &question, &facts)?);
    let headers: Vec<(&str, &[u8])> = head
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let payload = s3_proto::sigv4::anonymous_payload(&headers)
        .map_err(|error| crate::s3_error::from_sigv4(&error, &context.settings.region))?;
    Ok((payload, gate))
}

fn gate_of(verdict: Verdict) -> Option<Permission> {
    match verdict {
        Verdict::Allowed => None,
        Verdict::IfObjectAcl(permission) => Some(permission),
    }
}

fn policy_question<'a>(
    route: &'a Route,
    query: &QueryParams,
    bucket: &'a str,
) -> PolicyQuestion<'a> {
    PolicyQuestion {
        operation: route.operation.as_str(),
        bucket,
        key: route.key.as_deref(),
        version_id: query.has("versionId"),
    }
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
    let mut all_headers = headers.to_vec();
    all_headers.extend(error.headers.iter().cloned());
    let bytes = if head.method == "HEAD" {
        response::head_error_bytes(&error, &all_headers, keep_alive, request_id)
    } else {
        response::error_bytes(&error, &all_headers, keep_alive, request_id)
    };
    connection.write_all(bytes).await.is_ok()
}

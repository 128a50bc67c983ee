//! `GET /metrics`: Prometheus text for the whole server, merged from every shard at scrape
//! time (see `runtime::metrics`). Diagnostic endpoints are not public (BAD-INPUTS Z3): a
//! scraper presents the configured bearer token (`--metrics-token`), anything else must be a
//! request signed by a known identity.

use std::rc::Rc;

use runtime::ShardContext;
use s3_proto::error::{S3Error, S3ErrorCode};
use subtle::ConstantTimeEq as _;

use crate::auth::authenticate_head;
use crate::request::RequestHead;
use crate::response::Response;

/// The answer when `head` is a metrics scrape, else `None` (the request is an S3 one).
/// Only the exact path without a query: `/metrics?list-type=2` still lists a bucket named
/// `metrics`.
pub async fn answer(
    context: &Rc<ShardContext>,
    head: &RequestHead,
) -> Option<Result<Response, S3Error>> {
    if head.method != "GET" || head.raw_path != "/metrics" || !head.raw_query.is_empty() {
        return None;
    }
    if let Err(error) = authorize(context, head) {
        return Some(Err(error));
    }
    let snapshots = runtime::metrics::gather(context).await;
    let text = telemetry::render(&snapshots, &runtime::metrics::server_gauges(context));
    let mut response = Response::new(200);
    response.headers.push((
        "Content-Type",
        "text/plain; version=0.0.4; charset=utf-8".to_owned(),
    ));
    response.body = text.into_bytes();
    Some(Ok(response))
}

fn authorize(context: &ShardContext, head: &RequestHead) -> Result<(), S3Error> {
    let presented = head
        .header("authorization")
        .and_then(|value| value.strip_prefix(b"Bearer "));
    if let (Some(token), Some(presented)) = (&context.settings.metrics_token, presented) {
        if bool::from(presented.ct_eq(token.as_bytes())) {
            return Ok(());
        }
        return Err(S3Error::new(S3ErrorCode::AccessDenied));
    }
    // Metrics cover every tenant's traffic: only the root and global admins may read them.
    match authenticate_head(context, head)? {
        Some(signed) if signed.principal.is_global_admin() => Ok(()),
        Some(_) | None => Err(S3Error::new(S3ErrorCode::AccessDenied)),
    }
}

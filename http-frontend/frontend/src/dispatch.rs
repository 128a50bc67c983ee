//! Routing: which S3 operation a request is, and which shard must serve it. Only object
//! operations move; everything else runs where it arrived.

use runtime::ShardContext;
use s3_proto::error::S3Error;
use s3_proto::router::{Operation, QueryParams, Route, RouteHeaders, route_with};

use crate::auth::host_bucket;
use crate::connection::Connection;
use crate::handlers;
use crate::request::{BodyFraming, RequestHead};

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
        let continue_line = crate::response::CONTINUE_HEAD.to_vec();
        if connection.write_all(continue_line).await.is_err() {
            return Placement::Here(Some(routed));
        }
    }
    // Bounded: each round reads more bytes until `wanted_bytes` are buffered, all within the
    // head-read time (the form's fields are part of what decides where the request runs, so
    // they get the head's deadline, not a body's idle timeout per read).
    let deadline = std::time::Instant::now() + context.settings.request_head_timeout;
    loop {
        let body = &connection.unconsumed()[head.head_length..];
        if let Some(key) = peek_key(content_type, body) {
            let owner = context.owner_of_key(&bucket, &key);
            if owner != context.shard_id {
                return Placement::Elsewhere(owner);
            }
            return Placement::Here(Some(routed));
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if body.len() >= wanted_bytes || left.is_zero() || connection.fill_body(left).await.is_err()
        {
            return Placement::Here(Some(routed));
        }
    }
}

/// The one classification of a request, used for placement and for serving.
pub(crate) fn route_request(
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

//! `/health/live` and `/health/ready` (and MinIO's `/minio/health/...`): unauthenticated,
//! cheap, answered by whichever shard holds the connection.

use runtime::ShardContext;

use crate::request::RequestHead;
use crate::response::Response;

pub fn answer(context: &ShardContext, head: &RequestHead) -> Option<Response> {
    if head.method != "GET" && head.method != "HEAD" {
        return None;
    }
    let path = head
        .raw_path
        .strip_prefix("/minio")
        .unwrap_or(&head.raw_path);
    match path {
        "/health/live" => Some(json(200, "{\"status\":\"ok\"}".to_owned())),
        "/health/ready" => {
            let full = context.storage_full();
            let ready = !full && !context.shutting_down.get();
            let driver = if context.settings.io_uring {
                "io_uring"
            } else {
                "epoll"
            };
            let body = format!(
                "{{\"status\":\"{}\",\"shards\":{},\"io_driver\":\"{driver}\",\
                 \"storage_full\":{full}}}",
                if ready { "ready" } else { "not_ready" },
                context.shard_count,
            );
            Some(json(if ready { 200 } else { 503 }, body))
        }
        _ => None,
    }
}

fn json(status: u16, body: String) -> Response {
    let mut response = Response::new(status);
    response
        .headers
        .push(("Content-Type", "application/json".to_owned()));
    response.body = body.into_bytes();
    response
}

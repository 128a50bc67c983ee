//! `/health/live` and `/health/ready` (and MinIO's `/minio/health/...`): unauthenticated and
//! cheap. Live means this process answers; ready means it can take writes (see
//! `runtime::readiness`), with the detail as JSON.

use std::rc::Rc;

use runtime::ShardContext;
use runtime::readiness::{Readiness, check};

use crate::request::RequestHead;
use crate::response::Response;

pub async fn answer(context: &Rc<ShardContext>, head: &RequestHead) -> Option<Response> {
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
            let readiness = check(context).await;
            let status = if readiness.is_ready() { 200 } else { 503 };
            Some(json(status, ready_json(context, &readiness)))
        }
        _ => None,
    }
}

fn ready_json(context: &ShardContext, readiness: &Readiness) -> String {
    let driver = if context.settings.io_uring {
        "io_uring"
    } else {
        "epoll"
    };
    let free = readiness
        .free_bytes
        .map_or("null".to_owned(), |bytes| bytes.to_string());
    format!(
        "{{\"status\":\"{}\",\"shards\":{},\"shards_serving\":{},\"io_driver\":\"{driver}\",\
         \"metadata_writable\":{},\"storage_full\":{},\"free_bytes\":{free},\
         \"free_bytes_critical\":{},\"shutting_down\":{}}}",
        if readiness.is_ready() {
            "ready"
        } else {
            "not_ready"
        },
        readiness.shard_count,
        readiness.shards_serving,
        readiness.metadata_writable,
        readiness.storage_full,
        readiness.free_bytes_critical,
        readiness.shutting_down,
    )
}

fn json(status: u16, body: String) -> Response {
    let mut response = Response::new(status);
    response
        .headers
        .push(("Content-Type", "application/json".to_owned()));
    response.body = body.into_bytes();
    response
}

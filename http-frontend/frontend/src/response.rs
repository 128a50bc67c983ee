//! Response heads and bodies as bytes. Every response carries `x-amz-request-id`, `Date` and
//! `Server`; errors carry the S3 XML body produced by `s3_proto::error`.

use std::cell::Cell;
use std::fmt::Write;

use runtime::ShardContext;
use s3_proto::error::{S3Error, error_response_xml};

thread_local! {
    /// Per-shard request counter: ids are unique per process without shared atomics.
    static REQUEST_COUNTER: Cell<u64> = const { Cell::new(0) };
}

/// A request id: shard, process start and a per-shard counter, as 16 hex digits upper case.
pub fn new_request_id(context: &ShardContext) -> String {
    let count = REQUEST_COUNTER.with(|counter| {
        let next = counter.get().wrapping_add(1);
        counter.set(next);
        next
    });
    format!(
        "{:04X}{:012X}",
        context.shard_id & 0xFFFF,
        count & 0xFFFF_FFFF_FFFF
    )
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        507 => "Insufficient Storage",
        _ => "Unknown",
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// For HEAD: the Content-Length to announce without a body.
    pub content_length_override: Option<u64>,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            content_length_override: None,
        }
    }

    pub fn xml(body: String) -> Response {
        let mut response = Response::new(200);
        response
            .headers
            .push(("Content-Type", "application/xml".to_owned()));
        response.body = body.into_bytes();
        response
    }

    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }
}

/// Serialises a head; `content_length` is what the body will be.
pub fn head_bytes(
    status: u16,
    headers: &[(&'static str, String)],
    extra_headers: &[(String, String)],
    content_length: u64,
    keep_alive: bool,
    request_id: &str,
) -> Vec<u8> {
    let mut head = String::with_capacity(512);
    let _ = write!(head, "HTTP/1.1 {status} {}\r\n", reason(status));
    let _ = write!(
        head,
        "Server: MaxIOFS\r\nx-amz-request-id: {request_id}\r\nx-amz-id-2: {request_id}\r\n"
    );
    let _ = write!(
        head,
        "Date: {}\r\n",
        httpdate::fmt_http_date(std::time::SystemTime::now())
    );
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    for (name, value) in extra_headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let _ = write!(head, "Content-Length: {content_length}\r\n");
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// The full bytes of a response (head and body); HEAD requests get the head only.
pub fn response_bytes(
    response: &Response,
    is_head: bool,
    keep_alive: bool,
    request_id: &str,
) -> Vec<u8> {
    let length = response
        .content_length_override
        .unwrap_or(response.body.len() as u64);
    let mut bytes = head_bytes(
        response.status,
        &response.headers,
        &[],
        length,
        keep_alive,
        request_id,
    );
    if !is_head {
        bytes.extend_from_slice(&response.body);
    }
    bytes
}

/// The full bytes of an S3 error response, with `headers` (CORS) besides the usual ones.
pub fn error_bytes(
    error: &S3Error,
    headers: &[(&'static str, String)],
    keep_alive: bool,
    request_id: &str,
) -> Vec<u8> {
    let body = error_response_xml(error, request_id, request_id);
    let mut response = Response::new(error.http_status());
    response
        .headers
        .push(("Content-Type", "application/xml".to_owned()));
    response.headers.extend_from_slice(headers);
    response.body = body.into_bytes();
    response_bytes(&response, false, keep_alive, request_id)
}

/// An error answer to a HEAD request: status and headers, no body (as S3 does).
pub fn head_error_bytes(
    error: &S3Error,
    headers: &[(&'static str, String)],
    keep_alive: bool,
    request_id: &str,
) -> Vec<u8> {
    let mut all_headers = vec![("x-amz-error-code", error.code.as_str().to_owned())];
    all_headers.extend_from_slice(headers);
    head_bytes(
        error.http_status(),
        &all_headers,
        &[],
        0,
        keep_alive,
        request_id,
    )
}

//! Response heads and bodies as bytes. Every response carries `x-amz-request-id`, `Date` and
//! `Server`; errors carry the S3 XML body produced by `s3_proto::error`.
//!
//! This is the only place a response head is serialised (tidy checks that no status line is
//! spelled elsewhere), and every field in it passes one rule: the name is an HTTP token, the
//! value holds no CR, LF, NUL or other control character (`s3_proto::http_field`). A field that
//! fails is dropped and logged, never written (see [`HeadWriter::field`] for why dropped and
//! not a 500). Handlers refuse such values where they are accepted, with
//! [`check_header_argument`] (S3's `InvalidArgument`), so a client learns why.

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

/// The interim answer to `Expect: 100-continue`: a fixed head, written only from here.
pub const CONTINUE_HEAD: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// A response head under construction. Every field goes through [`HeadWriter::field`], which
/// writes it only if the name is a token and the value holds no CR, LF, NUL or other control
/// character (`s3_proto::http_field`): whatever a client stored or asked to have echoed, the
/// head stays one head.
struct HeadWriter<'a> {
    head: String,
    request_id: &'a str,
}

impl HeadWriter<'_> {
    /// A field that fails the rule is dropped, with a warning, rather than failing the whole
    /// answer: values are validated where they are accepted, so one that reaches here was
    /// stored before that validation existed (or is a bug), and dropping it keeps the object
    /// readable and deletable instead of unreadable forever. The dropped field's name is
    /// logged escaped (`?`), so the log line cannot be split either.
    fn field(&mut self, name: &str, value: &str) {
        use s3_proto::http_field::{is_field_name, is_field_value};
        if !is_field_name(name.as_bytes()) || !is_field_value(value.as_bytes()) {
            tracing::warn!(
                request_id = self.request_id,
                header = ?name,
                value_bytes = value.len(),
                "response header dropped: not a valid HTTP field (control character in the \
                 value or a name that is not a token)"
            );
            return;
        }
        self.head.push_str(name);
        self.head.push_str(": ");
        self.head.push_str(value);
        self.head.push_str("\r\n");
    }
}

/// Serialises a head; `content_length` is what the body will be. This is the only writer of
/// final response heads (the tidy rule `status_lines_are_written_only_by_response_rs`).
pub fn head_bytes(
    status: u16,
    headers: &[(&'static str, String)],
    extra_headers: &[(String, String)],
    content_length: u64,
    keep_alive: bool,
    request_id: &str,
) -> Vec<u8> {
    let mut writer = HeadWriter {
        head: String::with_capacity(512),
        request_id,
    };
    // The status line is a number and a fixed reason: nothing of the client's.
    let _ = write!(writer.head, "HTTP/1.1 {status} {}\r\n", reason(status));
    writer.field("Server", "MaxIOFS");
    writer.field("x-amz-request-id", request_id);
    writer.field("x-amz-id-2", request_id);
    writer.field(
        "Date",
        &httpdate::fmt_http_date(std::time::SystemTime::now()),
    );
    for (name, value) in headers {
        writer.field(name, value);
    }
    for (name, value) in extra_headers {
        writer.field(name, value);
    }
    let mut head = writer.head;
    // Numbers and fixed text: written directly (no allocation on the GET path).
    let _ = write!(head, "Content-Length: {content_length}\r\n");
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Refuses a client value that would become a response header (stored, or echoed in this
/// answer) unless it passes the response writer's rule: S3's `InvalidArgument`, naming it.
pub fn check_header_argument(name: &str, value: &str) -> Result<(), S3Error> {
    use s3_proto::http_field::{is_field_name, is_field_value};
    if is_field_name(name.as_bytes()) && is_field_value(value.as_bytes()) {
        return Ok(());
    }
    Err(S3Error::invalid_argument(
        format!("{name:?} is not a valid HTTP header (control characters are not allowed)"),
        name,
        value,
    ))
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

#[cfg(test)]
mod tests;

use s3_proto::error::{S3Error, S3ErrorCode};

use super::{
    CONTINUE_HEAD, Response, check_header_argument, error_bytes, head_bytes, head_error_bytes,
    response_bytes,
};

/// Parses `bytes` as exactly one response: one head httparse accepts, no control byte on any
/// line, no `Set-Cookie`, and exactly the announced body after it (none for HEAD). Returns the
/// header (name, value) pairs.
fn one_response(bytes: &[u8], head_request: bool) -> Vec<(String, String)> {
    assert!(bytes.starts_with(b"HTTP/1.1 "), "{bytes:?}");
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut slots);
    let httparse::Status::Complete(head_length) = response.parse(bytes).expect("a valid head")
    else {
        panic!("incomplete head: {:?}", String::from_utf8_lossy(bytes));
    };
    let first_end = bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a head end");
    assert_eq!(head_length, first_end + 4, "one header section");
    let head = &bytes[..first_end];
    for line in head.split(|&byte| byte == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(
            line.iter()
                .all(|&byte| byte == b'\t' || (byte >= b' ' && byte != 0x7F)),
            "control byte in {:?}",
            String::from_utf8_lossy(line)
        );
    }
    assert!(
        !String::from_utf8_lossy(head)
            .to_ascii_lowercase()
            .contains("set-cookie"),
        "{}",
        String::from_utf8_lossy(head)
    );
    let headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|header| {
            (
                header.name.to_ascii_lowercase(),
                String::from_utf8_lossy(header.value).into_owned(),
            )
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map(|(_, value)| value.parse().unwrap())
        .expect("Content-Length");
    let body = &bytes[head_length..];
    assert_eq!(body.len(), if head_request { 0 } else { length });
    assert!(!body.windows(8).any(|window| window == b"HTTP/1.1"));
    assert!(headers.iter().any(|(name, _)| name == "x-amz-request-id"));
    headers
}

const EVIL_VALUES: [&str; 7] = [
    "a\r\nSet-Cookie: x=1",
    "a\nSet-Cookie: x=1",
    "a\rSet-Cookie: x=1",
    "a\0Set-Cookie: x=1",
    "a\r\n\r\nHTTP/1.1 200 OK\r\nSet-Cookie: x=1\r\nContent-Length: 0",
    "\r\n",
    "a\u{b}\u{c}\u{1b}\u{7f}",
];

/// Every writer of a response head, fed one value (in a header that carries client input on
/// that path); returns the bytes and whether they answer a HEAD.
type Path = fn(&str) -> (Vec<u8>, bool);

/// (path, the lower-case name (prefix) of the header that carries the value, the writer).
const PATHS: [(&str, &str, Path); 8] = [
    (
        "response_bytes (handlers' answers)",
        "content-disposition",
        |value| {
            let response = Response::new(200).header("Content-Disposition", value);
            (response_bytes(&response, false, true, "RID"), false)
        },
    ),
    ("response_bytes for HEAD", "location", |value| {
        let response = Response::xml("<a/>".into()).header("Location", value);
        (response_bytes(&response, true, false, "RID"), true)
    }),
    (
        "error_bytes with CORS headers",
        "access-control-expose",
        |value| {
            let error = S3Error::new(S3ErrorCode::NoSuchKey);
            let cors = [("Access-Control-Expose-Headers", value.to_owned())];
            (error_bytes(&error, &cors, true, "RID"), false)
        },
    ),
    (
        "head_error_bytes with CORS headers",
        "access-control-allow-origin",
        |value| {
            let error = S3Error::new(S3ErrorCode::NoSuchKey);
            let cors = [("Access-Control-Allow-Origin", value.to_owned())];
            (head_error_bytes(&error, &cors, false, "RID"), true)
        },
    ),
    (
        "head_bytes: streamed GET, stored value",
        "content-type",
        |value| {
            let fixed = [("ETag", "\"e\"".to_owned())];
            let stored = [("content-type".to_owned(), value.to_owned())];
            let mut bytes = head_bytes(200, &fixed, &stored, 5, true, "RID");
            bytes.extend_from_slice(b"hello");
            (bytes, false)
        },
    ),
    (
        "head_bytes: streamed GET, stored name",
        "x-amz-meta-",
        |value| {
            let stored = [(format!("x-amz-meta-{value}"), "v".to_owned())];
            (head_bytes(200, &[], &stored, 0, true, "RID"), true)
        },
    ),
    (
        "head_bytes: preflight headers",
        "access-control-allow",
        |value| {
            let mut response = Response::new(200);
            response.headers = vec![
                ("Access-Control-Allow-Origin", value.to_owned()),
                ("Access-Control-Allow-Headers", value.to_owned()),
            ];
            (response_bytes(&response, false, true, "RID"), false)
        },
    ),
    (
        "100-continue, then a final answer",
        "cache-control",
        |value| {
            let mut bytes = CONTINUE_HEAD.to_vec();
            let response = Response::new(204).header("Cache-Control", value);
            bytes.extend(response_bytes(&response, false, true, "RID"));
            (bytes, false)
        },
    ),
];

#[test]
fn no_value_on_any_path_splits_the_head() {
    for (path, carrier, write) in PATHS {
        let written = |value: &str| {
            let (bytes, head_request) = write(value);
            let bytes = bytes.strip_prefix(CONTINUE_HEAD).unwrap_or(&bytes).to_vec();
            one_response(&bytes, head_request)
        };
        for value in EVIL_VALUES {
            let headers = written(value);
            // The field that carried the value was dropped, not rewritten.
            assert!(
                !headers.iter().any(|(name, _)| name.starts_with(carrier)),
                "{path}: {value:?} -> {headers:?}"
            );
        }
        // A clean value on the same path is written.
        let headers = written("clean");
        assert!(
            headers.iter().any(|(name, _)| name.starts_with(carrier)),
            "{path}: {headers:?}"
        );
    }
}

#[test]
fn every_control_character_in_a_name_or_value_is_refused() {
    for byte in (0u8..0x20).chain([0x7F]) {
        let control = char::from(byte);
        let extra = [
            ("x-value".to_owned(), format!("a{control}b")),
            (format!("x-name{control}"), "v".to_owned()),
            ("x-kept".to_owned(), "kept".to_owned()),
        ];
        let bytes = head_bytes(200, &[], &extra, 0, true, "RID");
        let headers = one_response(&bytes, false);
        let value = headers.iter().find(|(name, _)| name == "x-value");
        if byte == b'\t' {
            // HTAB is allowed inside a field value (RFC 9110 §5.5).
            assert_eq!(value.map(|(_, value)| value.as_str()), Some("a\tb"));
        } else {
            assert_eq!(value, None, "{byte:#04x}");
            assert!(check_header_argument("x-value", &format!("a{control}b")).is_err());
        }
        assert!(!headers.iter().any(|(name, _)| name.starts_with("x-name")));
        assert!(headers.iter().any(|(name, _)| name == "x-kept"));
        assert!(!bytes.contains(&byte) || byte == b'\r' || byte == b'\n' || byte == b'\t');
        assert!(check_header_argument(&format!("x-name{control}"), "v").is_err());
    }
    // Names that are not tokens, and obs-text (UTF-8 metadata) that is a valid value.
    let extra = [
        ("x a".to_owned(), "v".to_owned()),
        ("x:a".to_owned(), "v".to_owned()),
        (String::new(), "v".to_owned()),
        ("x-amz-meta-note".to_owned(), "caf\u{e9}".to_owned()),
    ];
    let headers = one_response(&head_bytes(200, &[], &extra, 0, true, "RID"), false);
    assert!(!headers.iter().any(|(name, _)| name == "x a" || name == "x"));
    assert!(
        headers
            .iter()
            .any(|(name, value)| name == "x-amz-meta-note" && value == "caf\u{e9}")
    );
    assert!(check_header_argument("x-amz-meta-note", "caf\u{e9}").is_ok());
}

#[test]
fn the_continue_head_is_one_interim_line() {
    assert_eq!(CONTINUE_HEAD, b"HTTP/1.1 100 Continue\r\n\r\n");
}

//! The request head parser (frontend `request.rs`) and the router behind it (s3-proto
//! `router.rs`), both fed raw request heads as they arrive on a connection.

use base::limits::REQUEST_HEAD_BYTES_MAX;
use base::names::{validate_bucket_name, validate_object_key};
use frontend::request::{BodyFraming, RequestHead, parse_head};
use s3_proto::router::{QueryParams, RouteHeaders, bucket_from_host, route_with};

/// Virtual-host domains the router target is configured with (`bucket.s3.example.com`).
const DOMAINS: [&str; 2] = ["s3.example.com", "localhost"];

/// Input: the bytes a client sent, from the start of a request.
pub fn http_head(data: &[u8]) {
    let Ok(Some(head)) = parse_head(data) else {
        return;
    };
    check_head(&head, data);
    // The head must not depend on bytes after it: the same bytes cut at `head_length` parse
    // to the same head (the connection may have read part of the body or the next request).
    let alone = parse_head(&data[..head.head_length]);
    let Ok(Some(alone)) = alone else {
        panic!("the head alone does not parse: {alone:?}");
    };
    assert_eq!(alone.head_length, head.head_length);
    assert_eq!(alone.headers, head.headers);
    assert_eq!(alone.framing, head.framing);
    assert_eq!(
        (&alone.method, &alone.raw_path, &alone.raw_query),
        (&head.method, &head.raw_path, &head.raw_query)
    );
}

fn check_head(head: &RequestHead, data: &[u8]) {
    assert!(head.head_length <= data.len());
    assert!(head.head_length <= REQUEST_HEAD_BYTES_MAX);
    assert!(!head.method.is_empty());
    // Origin-form only (BAD-INPUTS P4), and the query is split off exactly once.
    assert!(head.raw_path.starts_with('/'), "{:?}", head.raw_path);
    assert!(!head.raw_path.contains('?'));
    for (name, value) in &head.headers {
        assert!(!name.is_empty());
        assert!(
            !name.bytes().any(|byte| byte.is_ascii_uppercase()),
            "{name}"
        );
        // A header value with CR or LF would let a value smuggle a header into anything that
        // copies it into a response or a signed canonical request.
        assert!(
            !value.iter().any(|&byte| matches!(byte, b'\r' | b'\n' | 0)),
            "{name}: {value:?}"
        );
    }
    let count = |name: &str| head.headers.iter().filter(|(n, _)| n == name).count();
    match head.framing {
        BodyFraming::None => assert_eq!(count("transfer-encoding"), 0),
        BodyFraming::ContentLength(length) => {
            assert!(length > 0);
            assert_eq!(count("content-length"), 1);
            assert_eq!(count("transfer-encoding"), 0);
        }
        BodyFraming::Chunked => {
            assert_eq!(count("transfer-encoding"), 1);
            assert_eq!(count("content-length"), 0);
        }
    }
}

/// Input: a request head, as for [`http_head`]; it is routed as dispatch.rs routes it, with
/// virtual-host domains [`DOMAINS`].
pub fn router(data: &[u8]) {
    let Ok(Some(head)) = parse_head(data) else {
        return;
    };
    let Ok(query) = QueryParams::parse(&head.raw_query) else {
        return;
    };
    let domains: Vec<String> = DOMAINS.iter().map(|domain| (*domain).to_owned()).collect();
    let host_bucket = head
        .header_str("host")
        .and_then(|host| bucket_from_host(host, &domains));
    if let Some(bucket) = host_bucket {
        assert!(!bucket.is_empty());
    }
    let headers = RouteHeaders {
        host_bucket,
        has_copy_source_header: head.has_header("x-amz-copy-source"),
        content_type: head.header("content-type"),
    };
    let Ok(route) = route_with(&head.method, &head.raw_path, &query, &headers) else {
        return;
    };
    // Whatever the router hands on is a valid name (the storage layer trusts it): checked
    // after all decoding (BAD-INPUTS P1-P4).
    if let Some(bucket) = &route.bucket {
        assert!(validate_bucket_name(bucket).is_ok(), "{route:?}");
    }
    if let Some(key) = &route.key {
        assert!(route.bucket.is_some(), "{route:?}");
        assert!(!key.is_empty());
        assert!(validate_object_key(key).is_ok(), "{route:?}");
    }
}

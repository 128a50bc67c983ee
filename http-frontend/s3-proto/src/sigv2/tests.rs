//! `SigV2` verifier tests: the examples of the S3 guide's "Signing and authenticating REST
//! requests" (bucket `johnsmith`, key AKIAIOSFODNN7EXAMPLE) and negative cases.

use super::authenticate;
use crate::sigv4::tests::{EXAMPLE_ACCESS_KEY_ID, example_store};
use crate::sigv4::{AuthContext, Authenticated, PayloadMode, SigV4Error, SignedRequest};

/// Tue, 27 Mar 2007 19:36:42 +0000, the time of the guide's GET example.
const GUIDE_UNIX_SECS: i64 = 1_175_024_202;

fn run(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    now_unix_secs: i64,
    host_bucket: Option<&str>,
) -> Result<Authenticated, SigV4Error> {
    let headers: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (*name, value.as_bytes()))
        .collect();
    let req = SignedRequest {
        method,
        raw_path: path,
        raw_query: query,
        headers: &headers,
    };
    let ctx = AuthContext {
        region: "us-east-1",
        now_unix_secs,
    };
    authenticate(&req, &ctx, host_bucket, &example_store())
}

fn assert_signed(result: Result<Authenticated, SigV4Error>) {
    match result {
        Ok(Authenticated::Signed {
            access_key_id,
            payload: PayloadMode::Unsigned,
        }) => assert_eq!(access_key_id, EXAMPLE_ACCESS_KEY_ID),
        other => panic!("expected a verified SigV2 request, got {other:?}"),
    }
}

#[test]
fn guide_get_object_virtual_host() {
    let headers = [
        ("Host", "johnsmith.s3.amazonaws.com"),
        ("Date", "Tue, 27 Mar 2007 19:36:42 +0000"),
        (
            "Authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
        ),
    ];
    let host_bucket = Some("johnsmith");
    assert_signed(run(
        "GET",
        "/photos/puppy.jpg",
        "",
        &headers,
        GUIDE_UNIX_SECS,
        host_bucket,
    ));
    // The same request path-style signs the same resource.
    assert_signed(run(
        "GET",
        "/johnsmith/photos/puppy.jpg",
        "",
        &headers,
        GUIDE_UNIX_SECS,
        None,
    ));
    // Without the host's bucket the resource differs.
    let result = run(
        "GET",
        "/photos/puppy.jpg",
        "",
        &headers,
        GUIDE_UNIX_SECS,
        None,
    );
    assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn guide_put_object_signs_content_type() {
    let mut headers = vec![
        ("Content-Type", "image/jpeg"),
        ("Content-Length", "94328"),
        ("Host", "johnsmith.s3.amazonaws.com"),
        ("Date", "Tue, 27 Mar 2007 21:15:45 +0000"),
        (
            "Authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:MyyxeRY7whkBe+bq8fHCL/2kKUg=",
        ),
    ];
    let now = GUIDE_UNIX_SECS + 5943;
    assert_signed(run(
        "PUT",
        "/photos/puppy.jpg",
        "",
        &headers,
        now,
        Some("johnsmith"),
    ));
    headers[0].1 = "image/png";
    let result = run(
        "PUT",
        "/photos/puppy.jpg",
        "",
        &headers,
        now,
        Some("johnsmith"),
    );
    assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn guide_list_and_acl_sign_subresources_only() {
    let headers = [
        ("Host", "johnsmith.s3.amazonaws.com"),
        ("Date", "Tue, 27 Mar 2007 19:42:41 +0000"),
        (
            "Authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:htDYFYduRNen8P9ZfE/s9SuKy0U=",
        ),
    ];
    let now = GUIDE_UNIX_SECS + 359;
    // Listing parameters are not sub-resources: not signed.
    let query = "prefix=photos&max-keys=50&marker=puppy";
    assert_signed(run("GET", "/", query, &headers, now, Some("johnsmith")));
    let headers = [
        ("Host", "johnsmith.s3.amazonaws.com"),
        ("Date", "Tue, 27 Mar 2007 19:44:46 +0000"),
        (
            "Authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:c2WLPFtWHVgbEmeEG93a4cG37dM=",
        ),
    ];
    let now = GUIDE_UNIX_SECS + 484;
    assert_signed(run("GET", "/", "acl", &headers, now, Some("johnsmith")));
    // Dropping the signed sub-resource changes the resource.
    let result = run("GET", "/", "", &headers, now, Some("johnsmith"));
    assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn guide_delete_with_x_amz_date() {
    let headers = [
        ("Host", "s3.us-west-1.amazonaws.com"),
        ("Date", "Tue, 27 Mar 2007 21:20:27 +0000"),
        ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
        (
            "Authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:lx3byBScXR6KzyMaifNkardMwNk=",
        ),
    ];
    let now = GUIDE_UNIX_SECS + 6224;
    assert_signed(run(
        "DELETE",
        "/johnsmith/photos/puppy.jpg",
        "",
        &headers,
        now,
        None,
    ));
}

#[test]
fn guide_query_string_authentication() {
    let headers = [("Host", "johnsmith.s3.amazonaws.com")];
    let query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620\
                 &Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D";
    let path = "/photos/puppy.jpg";
    assert_signed(run(
        "GET",
        path,
        query,
        &headers,
        1_175_139_000,
        Some("johnsmith"),
    ));
    let result = run(
        "GET",
        path,
        query,
        &headers,
        1_175_139_621,
        Some("johnsmith"),
    );
    assert_eq!(result.unwrap_err(), SigV4Error::ExpiredPresignedRequest);
    let result = run(
        "HEAD",
        path,
        query,
        &headers,
        1_175_139_000,
        Some("johnsmith"),
    );
    assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let tampered = query.replace("1175139620", "1175139629");
    let result = run(
        "GET",
        path,
        &tampered,
        &headers,
        1_175_139_000,
        Some("johnsmith"),
    );
    assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn header_auth_checks_clock_skew_and_key() {
    let headers = [
        ("Date", "Tue, 27 Mar 2007 19:36:42 +0000"),
        (
            "Authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
        ),
    ];
    let path = "/johnsmith/photos/puppy.jpg";
    assert_signed(run("GET", path, "", &headers, GUIDE_UNIX_SECS + 900, None));
    let result = run("GET", path, "", &headers, GUIDE_UNIX_SECS + 901, None);
    assert_eq!(result.unwrap_err(), SigV4Error::RequestTimeTooSkewed);
    let result = run("GET", path, "", &headers, GUIDE_UNIX_SECS - 901, None);
    assert_eq!(result.unwrap_err(), SigV4Error::RequestTimeTooSkewed);
    let unknown = [
        headers[0],
        (
            "Authorization",
            "AWS AKIDUNKNOWN:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
        ),
    ];
    let result = run("GET", path, "", &unknown, GUIDE_UNIX_SECS, None);
    assert_eq!(result.unwrap_err(), SigV4Error::InvalidAccessKeyId);
}

#[test]
fn malformed_and_mixed_requests_are_rejected() {
    let date = ("Date", "Tue, 27 Mar 2007 19:36:42 +0000");
    let path = "/johnsmith/photos/puppy.jpg";
    for authorization in ["AWS ", "AWS AKIAIOSFODNN7EXAMPLE", "AWS :sig", "AWS AK:"] {
        let headers = [date, ("Authorization", authorization)];
        let result = run("GET", path, "", &headers, GUIDE_UNIX_SECS, None);
        assert!(
            matches!(result, Err(SigV4Error::AuthorizationHeaderMalformed { .. })),
            "{authorization}: {result:?}"
        );
    }
    // Not base64, or the wrong length: never equal.
    for signature in ["!!!!", "bWq2s1WEIj+Ydj0vQ697zp+IXMU", "AAAA"] {
        let authorization = format!("AWS AKIAIOSFODNN7EXAMPLE:{signature}");
        let headers = [date, ("Authorization", authorization.as_str())];
        let result = run("GET", path, "", &headers, GUIDE_UNIX_SECS, None);
        assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    }
    let headers = [(
        "Authorization",
        "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
    )];
    let result = run("GET", path, "", &headers, GUIDE_UNIX_SECS, None);
    assert_eq!(result.unwrap_err(), SigV4Error::DateMissingOrInvalid);
    let headers = [
        date,
        (
            "Authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
        ),
    ];
    let query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=x";
    let result = run("GET", path, query, &headers, GUIDE_UNIX_SECS, None);
    assert_eq!(result.unwrap_err(), SigV4Error::MultipleAuthMechanisms);
    let result = run(
        "GET",
        path,
        "X-Amz-Signature=a",
        &headers,
        GUIDE_UNIX_SECS,
        None,
    );
    assert_eq!(result.unwrap_err(), SigV4Error::MultipleAuthMechanisms);
    // A presigned URL needs each parameter exactly once.
    for query in [
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=x",
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=-1&Signature=x",
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1&Expires=2&Signature=x",
    ] {
        let result = run("GET", path, query, &[], GUIDE_UNIX_SECS, None);
        assert!(
            matches!(
                result,
                Err(SigV4Error::AuthorizationQueryParametersError { .. })
            ),
            "{query}: {result:?}"
        );
    }
}

#[test]
fn amz_headers_are_canonicalized() {
    // botocore's HmacV1Auth signs lowercase names, sorted, values joined with ','.
    let mut out = String::new();
    let headers: [(&str, &[u8]); 4] = [
        ("X-Amz-Meta-B", b"two"),
        ("x-amz-meta-a", b"  one   spaced "),
        ("x-amz-meta-b", b"three"),
        ("Content-Type", b"text/plain"),
    ];
    super::canonical_amz_headers(&headers, false, &mut out);
    assert_eq!(out, "x-amz-meta-a:one spaced\nx-amz-meta-b:two,three\n");
}

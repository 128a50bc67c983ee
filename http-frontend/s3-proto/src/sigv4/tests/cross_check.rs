//! Cross-check: requests signed by the `aws-sigv4` crate (the signer of aws-sdk-rust) in S3 mode
//! (single encoding, no path normalization) must verify with our verifier, in header and
//! presigned form; plus the presigned negatives of BAD-INPUTS (A5, A6, A7).

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;

use super::super::canonical::encode_into;
use super::super::{
    AuthContext, Authenticated, PayloadMode, SigV4Error, SignedRequest, SigningKeyCache,
    authenticate,
};
use super::{EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_KEY, EXAMPLE_UNIX_SECS, example_store};

/// Object keys that must survive unnormalized, as the SDK encodes them (AWS rules, `/` kept).
const KEYS: &[&str] = &[
    "plain.txt",
    "my-object//example//photo.user",
    "a/./b/../c",
    "../escape",
    "with space and +plus",
    "ütf8/ключ/鍵",
    "trailing/",
    "~tilde_under-dash.dot",
    "percent%sign&amp=eq?q#hash",
];

const QUERIES: &[&str] = &[
    "",
    "x-id=PutObject",
    "list-type=2&prefix=a%2Fb&delimiter=%2F&encoding-type=url",
    "uploadId=abc%3D%3D&partNumber=7",
    "acl",
    "versionId=&tagging",
    "prefix=%E2%82%AC%20euro&max-keys=1000",
];

struct SignedParts {
    raw_path: String,
    raw_query: String,
    headers: Vec<(String, Vec<u8>)>,
}

fn encoded_path(bucket: &str, key: &str) -> String {
    let mut path = format!("/{bucket}/").into_bytes();
    encode_into(key.as_bytes(), true, &mut path);
    String::from_utf8(path).unwrap()
}

/// Signs with aws-sigv4 and returns the request as it would travel on the wire.
fn sign_with_aws_sigv4(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    body: SignableBody<'_>,
    location: SignatureLocation,
) -> SignedParts {
    let identity = Credentials::new(
        EXAMPLE_ACCESS_KEY_ID,
        EXAMPLE_SECRET_KEY,
        None,
        None,
        "test",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.signature_location = location;
    if location == SignatureLocation::QueryParams {
        settings.expires_in = Some(Duration::from_hours(1));
        settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    } else {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(UNIX_EPOCH + Duration::from_secs(EXAMPLE_UNIX_SECS.unsigned_abs()))
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = if raw_query.is_empty() {
        format!("http://127.0.0.1:9000{raw_path}")
    } else {
        format!("http://127.0.0.1:9000{raw_path}?{raw_query}")
    };
    let base_headers = [
        ("host", "127.0.0.1:9000"),
        ("content-type", "text/plain"),
        ("x-amz-meta-note", "  two   spaces  "),
        ("x-amz-checksum-crc32", "DUoRhQ=="),
    ];
    let signable = SignableRequest::new(method, uri, base_headers.iter().copied(), body).unwrap();
    let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
    let (added_headers, added_params) = instructions.into_parts();
    let mut headers: Vec<(String, Vec<u8>)> = base_headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.as_bytes().to_vec()))
        .collect();
    for header in added_headers {
        headers.push((header.name().to_owned(), header.value().as_bytes().to_vec()));
    }
    let mut query = raw_query.to_owned();
    for (name, value) in added_params {
        if !query.is_empty() {
            query.push('&');
        }
        let mut encoded = Vec::new();
        encode_into(value.as_bytes(), false, &mut encoded);
        query.push_str(name);
        query.push('=');
        query.push_str(std::str::from_utf8(&encoded).unwrap());
    }
    SignedParts {
        raw_path: raw_path.to_owned(),
        raw_query: query,
        headers,
    }
}

fn verify(
    method: &str,
    parts: &SignedParts,
    now_unix_secs: i64,
) -> Result<Authenticated, SigV4Error> {
    let header_refs: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let req = SignedRequest {
        method,
        raw_path: &parts.raw_path,
        raw_query: &parts.raw_query,
        headers: &header_refs,
    };
    let ctx = AuthContext {
        region: "us-east-1",
        now_unix_secs,
    };
    authenticate(&req, &ctx, &example_store(), &mut SigningKeyCache::new())
}

#[test]
fn aws_sigv4_signed_s3_requests_verify() {
    let mut verified_count = 0;
    let mut paths: Vec<String> = KEYS.iter().map(|key| encoded_path("bkt", key)).collect();
    // A key whose `/` a client chose to encode: signed verbatim, must stay distinct from `/`.
    paths.push("/bkt/a%2Fb".to_owned());
    paths.push("/bkt".to_owned());
    paths.push("/".to_owned());
    for path in &paths {
        for query in QUERIES {
            for method in ["GET", "PUT"] {
                let body = SignableBody::Bytes(b"hello world");
                let parts =
                    sign_with_aws_sigv4(method, path, query, body, SignatureLocation::Headers);
                let result = verify(method, &parts, EXAMPLE_UNIX_SECS);
                assert!(
                    matches!(
                        result,
                        Ok(Authenticated::Signed {
                            payload: PayloadMode::Sha256(_),
                            ..
                        })
                    ),
                    "header {method} {path}?{query}: {result:?}"
                );
                let parts = sign_with_aws_sigv4(
                    method,
                    path,
                    query,
                    SignableBody::UnsignedPayload,
                    SignatureLocation::QueryParams,
                );
                let result = verify(method, &parts, EXAMPLE_UNIX_SECS + 60);
                assert!(
                    matches!(
                        result,
                        Ok(Authenticated::Signed {
                            payload: PayloadMode::Unsigned,
                            ..
                        })
                    ),
                    "query {method} {path}?{query}: {result:?}"
                );
                verified_count += 2;
            }
        }
    }
    println!("aws-sigv4 cross-check: {verified_count} requests verified");
    assert_eq!(verified_count, paths.len() * QUERIES.len() * 4);
}

#[test]
fn encoded_slash_is_not_a_path_separator() {
    // Signed for key "a/b" with the slash kept; sent with the slash encoded: must not verify.
    let mut parts = sign_with_aws_sigv4(
        "GET",
        "/bkt/a/b",
        "",
        SignableBody::empty(),
        SignatureLocation::Headers,
    );
    assert!(verify("GET", &parts, EXAMPLE_UNIX_SECS).is_ok());
    parts.raw_path = "/bkt/a%2Fb".to_owned();
    assert_eq!(
        verify("GET", &parts, EXAMPLE_UNIX_SECS).unwrap_err(),
        SigV4Error::SignatureDoesNotMatch
    );
}

#[test]
fn streaming_payload_values_select_modes() {
    let cases = [
        (SignableBody::StreamingSignedPayloadTrailer, "trailer"),
        (SignableBody::StreamingUnsignedPayloadTrailer, "unsigned"),
        (
            SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into()),
            "signed",
        ),
    ];
    for (body, expected) in cases {
        let parts = sign_with_aws_sigv4("PUT", "/bkt/key", "", body, SignatureLocation::Headers);
        let result = verify("PUT", &parts, EXAMPLE_UNIX_SECS).unwrap();
        let Authenticated::Signed { payload, .. } = result else {
            panic!("anonymous")
        };
        let matched = match expected {
            "trailer" => matches!(payload, PayloadMode::StreamingSignedTrailer(_)),
            "unsigned" => matches!(payload, PayloadMode::StreamingUnsignedTrailer),
            _ => matches!(payload, PayloadMode::StreamingSigned(_)),
        };
        assert!(matched, "{expected}: {payload:?}");
    }
}

fn presigned(query: &str) -> SignedParts {
    sign_with_aws_sigv4(
        "GET",
        "/bkt/key",
        query,
        SignableBody::UnsignedPayload,
        SignatureLocation::QueryParams,
    )
}

/// A5: presigned URL used after `X-Amz-Date + X-Amz-Expires`.
#[test]
fn expired_presigned_url_is_expired() {
    let parts = presigned("");
    assert!(verify("GET", &parts, EXAMPLE_UNIX_SECS + 3600).is_ok());
    let result = verify("GET", &parts, EXAMPLE_UNIX_SECS + 3601);
    assert_eq!(result.unwrap_err(), SigV4Error::ExpiredPresignedRequest);
}

/// A8: presigned X-Amz-Date beyond the skew in the future.
#[test]
fn future_presigned_url_is_not_yet_valid() {
    let parts = presigned("");
    assert!(verify("GET", &parts, EXAMPLE_UNIX_SECS - 15 * 60).is_ok());
    let result = verify("GET", &parts, EXAMPLE_UNIX_SECS - 16 * 60);
    assert_eq!(result.unwrap_err(), SigV4Error::PresignedRequestNotYetValid);
}

/// A6: `X-Amz-Expires` = 0, negative, 604801, non-numeric, missing, duplicated.
#[test]
fn bad_presigned_expires_is_query_parameters_error() {
    let parts = presigned("");
    let error = SigV4Error::AuthorizationQueryParametersError {
        expected_region: None,
    };
    for replacement in [
        "X-Amz-Expires=0",
        "X-Amz-Expires=-1",
        "X-Amz-Expires=604801",
        "X-Amz-Expires=abc",
        "X-Amz-Expires=",
        "X-Amz-Expires=+5",
        "X-Amz-Expires=1e3",
        "",
        "X-Amz-Expires=3600&X-Amz-Expires=3600",
    ] {
        let mut bad = SignedParts {
            raw_path: parts.raw_path.clone(),
            raw_query: parts.raw_query.replace("X-Amz-Expires=3600", replacement),
            headers: parts.headers.clone(),
        };
        bad.raw_query = bad.raw_query.replace("&&", "&");
        assert_eq!(
            verify("GET", &bad, EXAMPLE_UNIX_SECS).unwrap_err(),
            error,
            "{replacement}"
        );
    }
    // The largest allowed lifetime is accepted up to the signature check.
    let mut max = SignedParts {
        raw_path: parts.raw_path.clone(),
        raw_query: parts
            .raw_query
            .replace("X-Amz-Expires=3600", "X-Amz-Expires=604800"),
        headers: parts.headers.clone(),
    };
    assert_eq!(
        verify("GET", &max, EXAMPLE_UNIX_SECS).unwrap_err(),
        SigV4Error::SignatureDoesNotMatch
    );
    max.raw_query.push_str("&X-Amz-Algorithm=AWS4-HMAC-SHA256");
    assert_eq!(verify("GET", &max, EXAMPLE_UNIX_SECS).unwrap_err(), error);
}

/// A7: presigned URL with a wrong signature (only the expiry would pass); also a changed
/// parameter, an extended expiry, and a wrong region.
#[test]
fn tampered_presigned_url_is_rejected() {
    let parts = presigned("x-id=GetObject");
    assert!(verify("GET", &parts, EXAMPLE_UNIX_SECS).is_ok());
    let signature_at = parts.raw_query.find("X-Amz-Signature=").unwrap() + 16;
    let mut flipped = parts.raw_query.clone();
    let old = &parts.raw_query[signature_at..=signature_at];
    flipped.replace_range(
        signature_at..=signature_at,
        if old == "0" { "1" } else { "0" },
    );
    let tampered = [
        flipped,
        parts.raw_query.replace("x-id=GetObject", "x-id=PutObject"),
        parts
            .raw_query
            .replace("X-Amz-Expires=3600", "X-Amz-Expires=7200"),
        format!("{}&extra=1", parts.raw_query),
    ];
    for raw_query in tampered {
        let bad = SignedParts {
            raw_path: parts.raw_path.clone(),
            raw_query,
            headers: parts.headers.clone(),
        };
        assert_eq!(
            verify("GET", &bad, EXAMPLE_UNIX_SECS).unwrap_err(),
            SigV4Error::SignatureDoesNotMatch
        );
    }
    let bad = SignedParts {
        raw_path: "/bkt/key2".into(),
        raw_query: parts.raw_query.clone(),
        headers: parts.headers.clone(),
    };
    assert_eq!(
        verify("GET", &bad, EXAMPLE_UNIX_SECS).unwrap_err(),
        SigV4Error::SignatureDoesNotMatch
    );
    let bad = SignedParts {
        raw_path: parts.raw_path.clone(),
        raw_query: parts.raw_query.replace("us-east-1", "eu-west-1"),
        headers: parts.headers.clone(),
    };
    assert_eq!(
        verify("GET", &bad, EXAMPLE_UNIX_SECS).unwrap_err(),
        SigV4Error::AuthorizationQueryParametersError {
            expected_region: Some("us-east-1".into())
        }
    );
}

//! `SigV4` verifier tests: AWS documentation examples, BAD-INPUTS A-row negatives, the AWS
//! signing test suite (`suite`) and a cross-check against the `aws-sigv4` signer
//! (`cross_check`).

mod cross_check;
mod suite;

use super::{
    AuthContext, Authenticated, ChunkSignatureChain, CredentialStore, PayloadMode, SigV4Error,
    SignedRequest, SigningKeyCache, authenticate,
};

pub(crate) const EXAMPLE_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub(crate) const EXAMPLE_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// 2013-05-24T00:00:00Z, the time of the S3 documentation examples.
pub(crate) const EXAMPLE_UNIX_SECS: i64 = 1_369_353_600;
pub(crate) const SEED_SIGNATURE: &str =
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

pub(crate) struct TestStore(pub Vec<(String, String)>);

impl CredentialStore for TestStore {
    fn secret_key(&self, access_key_id: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(id, _)| id == access_key_id)
            .map(|(_, secret)| secret.as_str())
    }
}

pub(crate) fn example_store() -> TestStore {
    TestStore(vec![(
        EXAMPLE_ACCESS_KEY_ID.to_owned(),
        EXAMPLE_SECRET_KEY.to_owned(),
    )])
}

fn example_ctx() -> AuthContext<'static> {
    AuthContext {
        region: "us-east-1",
        now_unix_secs: EXAMPLE_UNIX_SECS,
    }
}

/// Headers of the S3 docs' "Transferring Payload in Multiple Chunks" example.
fn streaming_example_headers(authorization: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        ("Host".into(), b"s3.amazonaws.com".to_vec()),
        ("x-amz-storage-class".into(), b"REDUCED_REDUNDANCY".to_vec()),
        ("Content-Encoding".into(), b"aws-chunked".to_vec()),
        ("x-amz-decoded-content-length".into(), b"66560".to_vec()),
        ("Content-Length".into(), b"66824".to_vec()),
        ("x-amz-date".into(), b"20130524T000000Z".to_vec()),
        (
            "x-amz-content-sha256".into(),
            b"STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_vec(),
        ),
        ("Authorization".into(), authorization.as_bytes().to_vec()),
    ]
}

fn streaming_example_authorization(signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
         x-amz-decoded-content-length;x-amz-storage-class, Signature={signature}"
    )
}

fn run(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &[(String, Vec<u8>)],
    ctx: &AuthContext<'_>,
) -> Result<Authenticated, SigV4Error> {
    let header_refs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let req = SignedRequest {
        method,
        raw_path,
        raw_query,
        headers: &header_refs,
    };
    authenticate(&req, ctx, &example_store(), &mut SigningKeyCache::new())
}

/// The seed chain of the S3 streaming example, obtained through [`authenticate`].
pub(crate) fn example_streaming_chain() -> ChunkSignatureChain {
    let headers = streaming_example_headers(&streaming_example_authorization(SEED_SIGNATURE));
    let result = run(
        "PUT",
        "/examplebucket/chunkObject.txt",
        "",
        &headers,
        &example_ctx(),
    );
    match result {
        Ok(Authenticated::Signed {
            payload: PayloadMode::StreamingSigned(chain),
            ..
        }) => chain,
        other => panic!("seed request did not verify: {other:?}"),
    }
}

#[test]
fn streaming_example_seed_signature_verifies() {
    let headers = streaming_example_headers(&streaming_example_authorization(SEED_SIGNATURE));
    let result = run(
        "PUT",
        "/examplebucket/chunkObject.txt",
        "",
        &headers,
        &example_ctx(),
    );
    let Ok(Authenticated::Signed {
        access_key_id,
        payload,
    }) = result
    else {
        panic!("{result:?}");
    };
    assert_eq!(access_key_id, EXAMPLE_ACCESS_KEY_ID);
    assert!(matches!(payload, PayloadMode::StreamingSigned(_)));
}

#[test]
fn streaming_example_chunk_chain_verifies() {
    use sha2::{Digest, Sha256};
    let mut chain = example_streaming_chain();
    let chunk1: [u8; 32] = Sha256::digest(vec![b'a'; 65536]).into();
    let chunk2: [u8; 32] = Sha256::digest(vec![b'a'; 1024]).into();
    let empty: [u8; 32] = Sha256::digest(b"").into();
    let sig1 = b"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
    let sig2 = b"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
    let sig3 = b"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";
    chain.verify_chunk(&chunk1, sig1).unwrap();
    chain.verify_chunk(&chunk2, sig2).unwrap();
    chain.verify_chunk(&empty, sig3).unwrap();
    // aws-c-auth / CRT: trailing headers first:1st, second:2nd, third:3rd after the final chunk.
    let trailer_sig = b"df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c";
    chain
        .verify_trailer(b"first:1st\nsecond:2nd\nthird:3rd\n", trailer_sig)
        .unwrap();
}

#[test]
fn chunk_chain_rejects_skip_and_poisons() {
    use sha2::{Digest, Sha256};
    let mut chain = example_streaming_chain();
    let chunk2: [u8; 32] = Sha256::digest(vec![b'a'; 1024]).into();
    let sig2 = b"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
    // Skipping chunk 1: chunk 2's signature chains from chunk 1's, not from the seed.
    assert_eq!(
        chain.verify_chunk(&chunk2, sig2),
        Err(SigV4Error::SignatureDoesNotMatch)
    );
    let chunk1: [u8; 32] = Sha256::digest(vec![b'a'; 65536]).into();
    let sig1 = b"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
    // Poisoned: even the correct next signature is refused now.
    assert_eq!(
        chain.verify_chunk(&chunk1, sig1),
        Err(SigV4Error::SignatureDoesNotMatch)
    );
}

#[test]
fn chunk_chain_rejects_uppercase_signature_before_compare() {
    use sha2::{Digest, Sha256};
    let mut chain = example_streaming_chain();
    let chunk1: [u8; 32] = Sha256::digest(vec![b'a'; 65536]).into();
    let sig1 = b"AD80C730A21E5B8D04586A2213DD63B9A0E99E0E2307B0ADE35A65485A288648";
    assert_eq!(
        chain.verify_chunk(&chunk1, sig1),
        Err(SigV4Error::SignatureMalformed)
    );
}

/// S3 docs "Signature Calculations for the Authorization Header: Transferring Payload in a
/// Single Chunk", GET Object example.
fn get_object_example_headers(signature: &str, date: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        ("Host".into(), b"examplebucket.s3.amazonaws.com".to_vec()),
        ("Range".into(), b"bytes=0-9".to_vec()),
        (
            "x-amz-content-sha256".into(),
            b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_vec(),
        ),
        ("x-amz-date".into(), date.as_bytes().to_vec()),
        (
            "Authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/\
                 aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
                 Signature={signature}"
            )
            .into_bytes(),
        ),
    ]
}

const GET_EXAMPLE_SIGNATURE: &str =
    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

fn check_get_example(
    signature: &str,
    headers_edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>),
    now_unix_secs: i64,
) -> Result<Authenticated, SigV4Error> {
    let mut headers = get_object_example_headers(signature, "20130524T000000Z");
    headers_edit(&mut headers);
    let ctx = AuthContext {
        region: "us-east-1",
        now_unix_secs,
    };
    run("GET", "/test.txt", "", &headers, &ctx)
}

#[test]
fn get_object_example_verifies() {
    let result = check_get_example(GET_EXAMPLE_SIGNATURE, |_| {}, EXAMPLE_UNIX_SECS);
    let Ok(Authenticated::Signed {
        payload: PayloadMode::Sha256(hash),
        ..
    }) = result
    else {
        panic!("{result:?}");
    };
    assert_eq!(
        hex::encode(hash),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn signing_key_cache_reuses_and_bounds() {
    let headers = get_object_example_headers(GET_EXAMPLE_SIGNATURE, "20130524T000000Z");
    let header_refs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let req = SignedRequest {
        method: "GET",
        raw_path: "/test.txt",
        raw_query: "",
        headers: &header_refs,
    };
    let mut cache = SigningKeyCache::default();
    for _ in 0..3 {
        authenticate(&req, &example_ctx(), &example_store(), &mut cache).unwrap();
    }
    assert_eq!(cache.len(), 1);
    // A rotated secret must not verify with the cached key.
    let rotated = TestStore(vec![(
        EXAMPLE_ACCESS_KEY_ID.to_owned(),
        "other-secret".to_owned(),
    )]);
    let result = authenticate(&req, &example_ctx(), &rotated, &mut cache);
    assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    assert_eq!(cache.len(), 1);
    // Bounded whatever the number of distinct keys.
    for idx in 0..200 {
        let scope = super::Scope {
            access_key_id: &format!("AK{idx}"),
            date: *b"20130524",
            region: "us-east-1",
            service: "s3",
        };
        cache.signing_key(&scope, "secret");
    }
    assert_eq!(cache.len(), super::SIGNING_KEY_CACHE_ENTRY_COUNT_MAX);
}

/// A1: one hex digit of the signature changed.
#[test]
fn flipped_signature_digit_is_signature_does_not_match() {
    let mut flipped = GET_EXAMPLE_SIGNATURE.to_owned();
    flipped.replace_range(63..64, "0");
    let result = check_get_example(&flipped, |_| {}, EXAMPLE_UNIX_SECS);
    assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut flipped_first = GET_EXAMPLE_SIGNATURE.to_owned();
    flipped_first.replace_range(0..1, "e");
    let result = check_get_example(&flipped_first, |_| {}, EXAMPLE_UNIX_SECS);
    assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

/// A3: uppercase, wrong-length or non-hex signatures are rejected before any compare.
#[test]
fn malformed_signatures_are_rejected_before_compare() {
    let uppercase = GET_EXAMPLE_SIGNATURE.to_ascii_uppercase();
    let short = &GET_EXAMPLE_SIGNATURE[..63];
    let long = format!("{GET_EXAMPLE_SIGNATURE}0");
    let non_hex = format!("{}g", &GET_EXAMPLE_SIGNATURE[..63]);
    for signature in [
        uppercase.as_str(),
        short,
        long.as_str(),
        non_hex.as_str(),
        "",
    ] {
        let result = check_get_example(signature, |_| {}, EXAMPLE_UNIX_SECS);
        assert_eq!(
            result.unwrap_err(),
            SigV4Error::SignatureMalformed,
            "{signature}"
        );
    }
}

/// A4: x-amz-date 16 minutes off, header auth.
#[test]
fn header_auth_sixteen_minutes_skew_is_request_time_too_skewed() {
    for now in [EXAMPLE_UNIX_SECS + 16 * 60, EXAMPLE_UNIX_SECS - 16 * 60] {
        let result = check_get_example(GET_EXAMPLE_SIGNATURE, |_| {}, now);
        assert_eq!(result.unwrap_err(), SigV4Error::RequestTimeTooSkewed);
    }
    for now in [EXAMPLE_UNIX_SECS + 14 * 60, EXAMPLE_UNIX_SECS - 14 * 60] {
        assert!(check_get_example(GET_EXAMPLE_SIGNATURE, |_| {}, now).is_ok());
    }
}

/// A9: credential scope with wrong region, service, date or terminator.
#[test]
fn wrong_credential_scope_is_rejected() {
    let cases = [
        ("/20130524/eu-west-1/s3/aws4_request", "eu-west-1"),
        ("/20130524/us-east-1/s4/aws4_request", ""),
        ("/20130525/us-east-1/s3/aws4_request", ""),
        ("/20130524/us-east-1/s3/aws5_request", ""),
        ("/20130524/us-east-1/s3", ""),
        ("/20130524/us-east-1/s3/aws4_request/x", ""),
    ];
    for (scope, wrong_region) in cases {
        let result = check_get_example(
            GET_EXAMPLE_SIGNATURE,
            |headers| {
                let authorization = &mut headers.last_mut().unwrap().1;
                let text = String::from_utf8(authorization.clone()).unwrap();
                let text = text.replace("/20130524/us-east-1/s3/aws4_request", scope);
                *authorization = text.into_bytes();
            },
            EXAMPLE_UNIX_SECS,
        );
        let expected_region = (!wrong_region.is_empty()).then(|| "us-east-1".to_owned());
        assert_eq!(
            result.unwrap_err(),
            SigV4Error::AuthorizationHeaderMalformed { expected_region },
            "{scope}"
        );
    }
}

/// A10: a signed header missing from the request; `host` not signed.
#[test]
fn missing_signed_header_or_unsigned_host_is_rejected() {
    let result = check_get_example(
        GET_EXAMPLE_SIGNATURE,
        |headers| headers.retain(|(name, _)| name != "Range"),
        EXAMPLE_UNIX_SECS,
    );
    assert_eq!(result.unwrap_err(), SigV4Error::SignedHeaderMissing);
    let result = check_get_example(
        GET_EXAMPLE_SIGNATURE,
        |headers| {
            let authorization = &mut headers.last_mut().unwrap().1;
            let text = String::from_utf8(authorization.clone()).unwrap();
            *authorization = text.replace("host;range", "range").into_bytes();
        },
        EXAMPLE_UNIX_SECS,
    );
    assert_eq!(
        result.unwrap_err(),
        SigV4Error::AuthorizationHeaderMalformed {
            expected_region: None
        }
    );
}

/// Security issue 14: an `x-amz-*` header outside `SignedHeaders` (it could turn the request
/// into another operation) is refused after the signature verified; a non-`x-amz-` header
/// and an unsigned `x-amz-content-sha256` are not.
#[test]
fn unsigned_amz_headers_are_refused() {
    let result = check_get_example(
        GET_EXAMPLE_SIGNATURE,
        |headers| {
            headers.push(("X-Amz-Copy-Source".into(), b"/other/key".to_vec()));
            headers.push(("x-amz-meta-a".into(), b"1".to_vec()));
            headers.push(("x-amz-copy-source".into(), b"/again".to_vec()));
        },
        EXAMPLE_UNIX_SECS,
    );
    assert_eq!(
        result.unwrap_err(),
        SigV4Error::HeadersNotSigned {
            names: "x-amz-copy-source,x-amz-meta-a".into()
        }
    );
    let result = check_get_example(
        GET_EXAMPLE_SIGNATURE,
        |headers| headers.push(("user-agent".into(), b"any".to_vec())),
        EXAMPLE_UNIX_SECS,
    );
    assert!(result.is_ok(), "{result:?}");
    // The signed set stays what the client signed: dropping x-amz-content-sha256 from
    // SignedHeaders changes the canonical request, so the signature no longer matches.
    let result = check_get_example(
        GET_EXAMPLE_SIGNATURE,
        |headers| {
            let authorization = &mut headers.last_mut().unwrap().1;
            let text = String::from_utf8(authorization.clone()).unwrap();
            *authorization = text.replace(";x-amz-content-sha256", "").into_bytes();
        },
        EXAMPLE_UNIX_SECS,
    );
    assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn changed_signed_header_value_is_signature_does_not_match() {
    let result = check_get_example(
        GET_EXAMPLE_SIGNATURE,
        |headers| headers[1].1 = b"bytes=0-10".to_vec(),
        EXAMPLE_UNIX_SECS,
    );
    assert_eq!(result.unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn header_value_whitespace_is_canonicalized() {
    let result = check_get_example(
        GET_EXAMPLE_SIGNATURE,
        |headers| headers[1].1 = b"  bytes=0-9 \t ".to_vec(),
        EXAMPLE_UNIX_SECS,
    );
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn unknown_access_key_is_invalid_access_key_id() {
    let result = check_get_example(
        GET_EXAMPLE_SIGNATURE,
        |headers| {
            let authorization = &mut headers.last_mut().unwrap().1;
            let text = String::from_utf8(authorization.clone()).unwrap();
            *authorization = text
                .replace("AKIAIOSFODNN7EXAMPLE", "AKIDUNKNOWN")
                .into_bytes();
        },
        EXAMPLE_UNIX_SECS,
    );
    assert_eq!(result.unwrap_err(), SigV4Error::InvalidAccessKeyId);
}

#[test]
fn missing_or_invalid_content_sha256_is_rejected() {
    let drop_header = |headers: &mut Vec<(String, Vec<u8>)>| {
        headers.retain(|(name, _)| name != "x-amz-content-sha256");
    };
    let result = check_get_example(GET_EXAMPLE_SIGNATURE, drop_header, EXAMPLE_UNIX_SECS);
    assert_eq!(result.unwrap_err(), SigV4Error::XAmzContentSha256Missing);
    for value in [&b"abc"[..], b"STREAMING-FOO", &[b'g'; 64]] {
        let result = check_get_example(
            GET_EXAMPLE_SIGNATURE,
            |headers| headers[2].1 = value.to_vec(),
            EXAMPLE_UNIX_SECS,
        );
        assert_eq!(result.unwrap_err(), SigV4Error::XAmzContentSha256Invalid);
    }
    let result = check_get_example(
        GET_EXAMPLE_SIGNATURE,
        |headers| headers[2].1 = b"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD".to_vec(),
        EXAMPLE_UNIX_SECS,
    );
    assert_eq!(result.unwrap_err(), SigV4Error::UnsupportedAlgorithm);
}

#[test]
fn missing_or_bad_date_is_date_missing_or_invalid() {
    let drop_date = |headers: &mut Vec<(String, Vec<u8>)>| {
        headers.retain(|(name, _)| name != "x-amz-date");
    };
    let result = check_get_example(GET_EXAMPLE_SIGNATURE, drop_date, EXAMPLE_UNIX_SECS);
    // x-amz-date is also a signed header, but the date check comes first.
    assert_eq!(result.unwrap_err(), SigV4Error::DateMissingOrInvalid);
    for bad in [
        "20130524T000000",
        "2013-05-24T00:00:00Z",
        "20131324T000000Z",
        "x",
    ] {
        let result = check_get_example(
            GET_EXAMPLE_SIGNATURE,
            |headers| headers[3].1 = bad.as_bytes().to_vec(),
            EXAMPLE_UNIX_SECS,
        );
        assert_eq!(
            result.unwrap_err(),
            SigV4Error::DateMissingOrInvalid,
            "{bad}"
        );
    }
}

#[test]
fn no_credentials_is_anonymous() {
    let headers = vec![("Host".to_owned(), b"example.com".to_vec())];
    let result = run(
        "GET",
        "/bkt/key",
        "x-id=GetObject&list-type=2",
        &headers,
        &example_ctx(),
    );
    assert!(matches!(result, Ok(Authenticated::Anonymous)));
}

#[test]
fn header_and_query_auth_together_is_rejected() {
    let mut headers = get_object_example_headers(GET_EXAMPLE_SIGNATURE, "20130524T000000Z");
    headers.push(("x".into(), b"y".to_vec()));
    let result = run(
        "GET",
        "/test.txt",
        "X-Amz-Signature=abc",
        &headers,
        &example_ctx(),
    );
    assert_eq!(result.unwrap_err(), SigV4Error::MultipleAuthMechanisms);
}

/// `SigV2` shapes go to the `SigV2` verifier (`sigv2/tests.rs`); `SigV4a` stays unsupported.
#[test]
fn sigv2_is_dispatched_and_sigv4a_is_unsupported() {
    let headers = vec![
        ("Host".to_owned(), b"example.com".to_vec()),
        (
            "Authorization".to_owned(),
            b"AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=".to_vec(),
        ),
    ];
    let result = run("GET", "/b/k", "", &headers, &example_ctx());
    assert_eq!(result.unwrap_err(), SigV4Error::DateMissingOrInvalid);
    let headers = vec![
        ("Host".to_owned(), b"example.com".to_vec()),
        (
            "Authorization".to_owned(),
            b"AWS4-ECDSA-P256-SHA256 Credential=a/b".to_vec(),
        ),
    ];
    let result = run("GET", "/b/k", "", &headers, &example_ctx());
    assert_eq!(result.unwrap_err(), SigV4Error::UnsupportedAlgorithm);
    let headers = vec![("Host".to_owned(), b"example.com".to_vec())];
    let query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1&Signature=abc";
    let result = run("GET", "/b/k", query, &headers, &example_ctx());
    assert_eq!(result.unwrap_err(), SigV4Error::ExpiredPresignedRequest);
}

#[test]
fn malformed_authorization_headers_are_rejected() {
    let malformed = SigV4Error::AuthorizationHeaderMalformed {
        expected_region: None,
    };
    let long = format!("AWS4-HMAC-SHA256 Credential={}", "a".repeat(5000));
    let bad_values = [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
        "AWS4-HMAC-SHA256 Credential=a, Credential=b, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Foo=bar",
        "Bearer abc",
        long.as_str(),
    ];
    for value in bad_values {
        let headers = vec![
            ("Host".to_owned(), b"example.com".to_vec()),
            ("x-amz-date".to_owned(), b"20130524T000000Z".to_vec()),
            (
                "x-amz-content-sha256".to_owned(),
                b"UNSIGNED-PAYLOAD".to_vec(),
            ),
            ("Authorization".to_owned(), value.as_bytes().to_vec()),
        ];
        let result = run("GET", "/b/k", "", &headers, &example_ctx());
        assert_eq!(result.unwrap_err(), malformed, "{value}");
    }
    // Two Authorization headers.
    let mut headers = get_object_example_headers(GET_EXAMPLE_SIGNATURE, "20130524T000000Z");
    headers.push(headers.last().unwrap().clone());
    let result = run("GET", "/test.txt", "", &headers, &example_ctx());
    assert_eq!(result.unwrap_err(), malformed);
}

#[test]
fn too_many_signed_headers_or_query_parameters_are_rejected() {
    let signed: Vec<String> = (0..65).map(|idx| format!("h{idx:02}")).collect();
    let mut headers = get_object_example_headers(GET_EXAMPLE_SIGNATURE, "20130524T000000Z");
    let authorization = String::from_utf8(headers.last().unwrap().1.clone()).unwrap();
    let authorization = authorization.replace(
        "SignedHeaders=host;",
        &format!("SignedHeaders={};host;", signed.join(";")),
    );
    headers.last_mut().unwrap().1 = authorization.into_bytes();
    for name in &signed {
        headers.push((name.clone(), b"v".to_vec()));
    }
    let result = run("GET", "/test.txt", "", &headers, &example_ctx());
    assert_eq!(
        result.unwrap_err(),
        SigV4Error::AuthorizationHeaderMalformed {
            expected_region: None
        }
    );

    let query: Vec<String> = (0..129).map(|idx| format!("p{idx}=v")).collect();
    let headers = get_object_example_headers(GET_EXAMPLE_SIGNATURE, "20130524T000000Z");
    let result = run(
        "GET",
        "/test.txt",
        &query.join("&"),
        &headers,
        &example_ctx(),
    );
    assert_eq!(result.unwrap_err(), SigV4Error::TooManyQueryParameters);
}

#[test]
fn an_unsigned_session_token_header_is_refused() {
    // Session tokens are resolved by the caller; one the signature does not cover could have
    // been swapped for another session's.
    let mut headers = get_object_example_headers(GET_EXAMPLE_SIGNATURE, "20130524T000000Z");
    headers.push(("X-Amz-Security-Token".into(), b"token".to_vec()));
    let result = run("GET", "/test.txt", "", &headers, &example_ctx());
    let Err(SigV4Error::HeadersNotSigned { names }) = result else {
        panic!("{result:?}");
    };
    assert_eq!(names, "x-amz-security-token");
}

#[test]
fn date_header_fallback_verifies() {
    // The aws-c-auth chunked example signs with "Date: Fri, 24 May 2013 00:00:00 GMT"
    // semantics; here: same GET example but x-amz-date replaced by Date.
    let result = check_get_example(
        GET_EXAMPLE_SIGNATURE,
        |headers| {
            headers.retain(|(name, _)| name != "x-amz-date");
            headers.push(("Date".into(), b"Fri, 24 May 2013 00:00:00 GMT".to_vec()));
        },
        EXAMPLE_UNIX_SECS,
    );
    // x-amz-date is signed, so it is missing; the date itself parsed fine.
    assert_eq!(result.unwrap_err(), SigV4Error::SignedHeaderMissing);
}

#[test]
fn anonymous_payload_keeps_every_check_a_signature_does_not_carry() {
    use super::anonymous_payload;
    assert!(matches!(anonymous_payload(&[]), Ok(PayloadMode::Unsigned)));
    let hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let mode = anonymous_payload(&[("x-amz-content-sha256", hash.as_bytes())]);
    assert!(matches!(mode, Ok(PayloadMode::Sha256(bytes)) if bytes[0] == 0xe3));
    let trailer: &[u8] = b"STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    assert!(matches!(
        anonymous_payload(&[("x-amz-content-sha256", trailer)]),
        Ok(PayloadMode::StreamingUnsignedTrailer)
    ));
    // Chunk signatures chain from a signature an anonymous request does not have.
    for refused in [
        &b"STREAMING-AWS4-HMAC-SHA256-PAYLOAD"[..],
        b"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        b"not-a-hash",
    ] {
        assert_eq!(
            anonymous_payload(&[("x-amz-content-sha256", refused)]).err(),
            Some(SigV4Error::XAmzContentSha256Invalid)
        );
    }
    let twice = [
        ("x-amz-content-sha256", hash.as_bytes()),
        ("x-amz-content-sha256", hash.as_bytes()),
    ];
    assert!(anonymous_payload(&twice).is_err());
}

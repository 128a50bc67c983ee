//! Request authentication: SigV4 (header and presigned) and SigV2, fed raw request heads
//! parsed by the front end's head parser, as dispatch.rs does. The credential store knows one
//! key (the AWS documentation's example key) and the clock is fixed at the documentation's
//! example time, so a seed from the docs passes every check before the signature and the
//! fuzzer works on canonicalisation.

use s3_proto::aws_chunked::{AwsChunkedDecoder, ChunkedSigning, ChunkedStep};
use s3_proto::sigv4::sign::{STREAMING_SIGNED_PAYLOAD, Signer, amz_date};
use s3_proto::sigv4::{
    AuthContext, Authenticated, ChunkSignatureChain, CredentialStore, PayloadMode, SigV4Error,
    SignedRequest, SigningKeyCache, authenticate, authenticate_for_host,
};

use frontend::request::parse_head;

pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const REGION: &str = "us-east-1";
/// 2013-05-24T00:00:00Z, the time of the S3 documentation's signing examples.
pub const AMZ_DATE: &str = "20130524T000000Z";
pub const NOW_UNIX_SECS: i64 = 1_369_353_600;

/// A credential store with exactly one key.
pub struct OneKey;

impl CredentialStore for OneKey {
    fn secret_key(&self, access_key_id: &str) -> Option<&str> {
        (access_key_id == ACCESS_KEY).then_some(SECRET_KEY)
    }
}

fn context() -> AuthContext<'static> {
    AuthContext {
        region: REGION,
        now_unix_secs: NOW_UNIX_SECS,
    }
}

/// A verified seed chain for an aws-chunked body (`trailer`: the signed-trailer mode), the
/// signer that made it and the seed signature, obtained the way the server obtains it: by
/// authenticating a signed request.
pub(crate) fn streaming_chain(trailer: bool) -> (ChunkSignatureChain, Signer, String) {
    let payload = if trailer {
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    } else {
        STREAMING_SIGNED_PAYLOAD
    };
    let signer = Signer::new(ACCESS_KEY, SECRET_KEY, REGION, AMZ_DATE).expect("example date");
    let mut headers: Vec<(&str, Vec<u8>)> = vec![
        ("host", b"localhost:9000".to_vec()),
        ("x-amz-content-sha256", payload.as_bytes().to_vec()),
        ("x-amz-date", AMZ_DATE.as_bytes().to_vec()),
    ];
    let signed_headers = "host;x-amz-content-sha256;x-amz-date";
    let signature_of = |headers: &[(&str, &[u8])]| {
        let request = SignedRequest {
            method: "PUT",
            raw_path: "/bucket/key",
            raw_query: "",
            headers,
        };
        signer
            .authorization(&request, signed_headers, AMZ_DATE, payload)
            .expect("signable")
    };
    let borrowed: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_slice())).collect();
    let authorization = signature_of(&borrowed);
    let seed = authorization
        .rsplit_once("Signature=")
        .expect("signature")
        .1
        .to_owned();
    headers.push(("authorization", authorization.into_bytes()));
    let borrowed: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_slice())).collect();
    let request = SignedRequest {
        method: "PUT",
        raw_path: "/bucket/key",
        raw_query: "",
        headers: &borrowed,
    };
    let authenticated = authenticate(&request, &context(), &OneKey, &mut SigningKeyCache::new());
    let chain = match authenticated {
        Ok(Authenticated::Signed {
            payload:
                PayloadMode::StreamingSigned(chain) | PayloadMode::StreamingSignedTrailer(chain),
            ..
        }) => chain,
        other => panic!("our own signed request does not verify: {other:?}"),
    };
    (chain, signer, seed)
}

/// Input: byte 0 flags (bit 0: replace the `Signature=` of the `Authorization` header by the
/// correct one first, so that the fuzzer gets past the signature; bit 1: the request came on
/// the virtual host `examplebucket.s3.example.com`), then a request head and its body.
pub fn sigv4(data: &[u8]) {
    let Some((&flags, request)) = data.split_first() else {
        return;
    };
    let Ok(Some(head)) = parse_head(request) else {
        return;
    };
    let original: Vec<(&str, &[u8])> = head
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), &v[..]))
        .collect();
    let original_request = SignedRequest {
        method: &head.method,
        raw_path: &head.raw_path,
        raw_query: &head.raw_query,
        headers: &original,
    };
    let resigned = if flags & 1 == 0 {
        None
    } else {
        resign(&original_request)
    };
    let was_resigned = resigned.is_some();
    let mut headers = head.headers.clone();
    if let Some((index, authorization)) = resigned {
        headers[index].1 = authorization.into_bytes();
    }
    let borrowed: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (n.as_str(), &v[..])).collect();
    let signed = SignedRequest {
        headers: &borrowed,
        ..original_request
    };
    let host_bucket = (flags & 2 != 0).then_some("examplebucket");
    let result = authenticate_for_host(
        &signed,
        &context(),
        host_bucket,
        &OneKey,
        &mut SigningKeyCache::new(),
    );
    let is_sigv2 = s3_proto::sigv2::is_sigv2(&signed);
    if was_resigned && !is_sigv2 {
        // Our signer and our verifier share the canonical request code, but not the parsing
        // of the Authorization header, the dates and the payload hash: they must agree.
        assert_ne!(
            result.as_ref().err(),
            Some(&SigV4Error::SignatureDoesNotMatch),
            "a request re-signed by our signer does not verify"
        );
    }
    if let Ok(Authenticated::Signed { payload, .. }) = result {
        let body = &request[head.head_length..];
        let trailer = head.header_str("x-amz-trailer");
        let decoded_length = head
            .header_str("x-amz-decoded-content-length")
            .and_then(|value| value.parse().ok());
        let signing = match payload {
            PayloadMode::StreamingSigned(chain) => ChunkedSigning::Signed(chain),
            PayloadMode::StreamingSignedTrailer(chain) => ChunkedSigning::SignedWithTrailer(chain),
            PayloadMode::StreamingUnsignedTrailer => ChunkedSigning::UnsignedWithTrailer,
            PayloadMode::Sha256(_) | PayloadMode::Unsigned => return,
        };
        decode_body(
            AwsChunkedDecoder::new(signing, trailer, decoded_length),
            body,
        );
    }
}

/// The index of the `Authorization` header and its value with the signature our signer
/// computes for the request as it stands; `None` when the request is not a well-formed
/// header-signed request with our key (then there is nothing to compare).
fn resign(request: &SignedRequest<'_>) -> Option<(usize, String)> {
    let index = request
        .headers
        .iter()
        .position(|(name, _)| *name == "authorization")?;
    let authorization = std::str::from_utf8(request.headers[index].1).ok()?;
    let (algorithm, rest) = authorization.trim().split_once(' ')?;
    let mut signed_headers = None;
    let mut credential = None;
    for component in rest.split(',') {
        let component = component.trim_matches([' ', '\t']);
        if let Some(value) = component.strip_prefix("SignedHeaders=") {
            signed_headers = Some(value);
        }
        if let Some(value) = component.strip_prefix("Credential=") {
            credential = Some(value);
        }
    }
    let (signed_headers, credential) = (signed_headers?, credential?);
    // Re-signing changes the Authorization header: it must not be signed itself.
    if algorithm != "AWS4-HMAC-SHA256" || signed_headers.split(';').any(|h| h == "authorization") {
        return None;
    }
    let request_date = request_amz_date(request.headers)?;
    let scope = format!("{}/{REGION}/s3/aws4_request", request_date.get(..8)?);
    if credential != format!("{ACCESS_KEY}/{scope}") {
        return None;
    }
    let payload_hash = single(request.headers, "x-amz-content-sha256")?;
    let signer = Signer::new(ACCESS_KEY, SECRET_KEY, REGION, &request_date).ok()?;
    let signature = signer
        .signature(request, signed_headers, &request_date, payload_hash)
        .ok()?;
    let replaced: Vec<String> = rest
        .split(',')
        .map(|component| {
            let trimmed = component.trim_start_matches([' ', '\t']);
            match trimmed.strip_prefix("Signature=") {
                Some(_) => {
                    let indent = &component[..component.len() - trimmed.len()];
                    format!("{indent}Signature={signature}")
                }
                None => component.to_owned(),
            }
        })
        .collect();
    let prefix_length = authorization.len() - authorization.trim_start().len();
    let value = format!(
        "{}{algorithm} {}",
        &authorization[..prefix_length],
        replaced.join(",")
    );
    Some((index, value))
}

/// The request time the verifier signs with: `x-amz-date`, else `Date` in amz form.
fn request_amz_date(headers: &[(&str, &[u8])]) -> Option<String> {
    if let Some(value) = single(headers, "x-amz-date") {
        return Some(value.to_owned());
    }
    let date = single(headers, "date")?;
    let time = s3_proto::time_format::parse_http_date(date.trim())?;
    amz_date(time)
}

fn single<'a>(headers: &[(&str, &'a [u8])], name: &str) -> Option<&'a str> {
    let mut values = headers.iter().filter(|(n, _)| *n == name);
    let (_, value) = values.next()?;
    if values.next().is_some() {
        return None;
    }
    std::str::from_utf8(value).ok()
}

/// Runs an aws-chunked body through the decoder, in one piece.
fn decode_body(mut decoder: AwsChunkedDecoder, body: &[u8]) {
    let mut offset = 0;
    let mut decoded_bytes = 0;
    // Bounded: every Data step consumes at least one byte.
    while let Ok(step) = decoder.decode(&body[offset..]) {
        match step {
            ChunkedStep::Data { data, consumed } => {
                decoded_bytes += data.len();
                offset += consumed;
            }
            ChunkedStep::NeedMore { .. } | ChunkedStep::Done { .. } => break,
        }
    }
    assert!(decoded_bytes <= body.len());
}

/// Input: a request head, verified with the SigV2 verifier directly (header or query form;
/// `Date: Fri, 24 May 2013 00:00:00 GMT` or `Expires` after the fixed clock pass the time
/// checks).
pub fn sigv2(data: &[u8]) {
    let Ok(Some(head)) = parse_head(data) else {
        return;
    };
    let borrowed: Vec<(&str, &[u8])> = head
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), &v[..]))
        .collect();
    let signed = SignedRequest {
        method: &head.method,
        raw_path: &head.raw_path,
        raw_query: &head.raw_query,
        headers: &borrowed,
    };
    for host_bucket in [None, Some("examplebucket")] {
        let result = s3_proto::sigv2::authenticate(&signed, &context(), host_bucket, &OneKey);
        if let Ok(Authenticated::Signed {
            access_key_id,
            payload,
        }) = result
        {
            // SigV2 never signs a body, and only our one key can verify.
            assert_eq!(access_key_id, ACCESS_KEY);
            assert!(matches!(payload, PayloadMode::Unsigned));
        }
    }
}

//! Client-side `SigV4` signing for our own tools (the load generator, benchmarks): the same
//! canonical request code as the verifier, so a request signed here verifies there by
//! construction, and the tests below check it against the verifier and the AWS examples.
//!
//! Header form only, with a signing key derived once per (access key, day, region).

use sha2::{Digest, Sha256};

use super::canonical::{
    SignedHeadersError, canonical_headers, canonical_query, canonical_uri, collect_query_parameters,
};
use super::{
    ALGORITHM, EMPTY_SHA256_HEX, SCOPE_TERMINATOR, SERVICE_S3, SigV4Error, SignedRequest,
    derive_signing_key, format_amz_date, hmac_sha256,
};

/// `UNSIGNED-PAYLOAD`, for `x-amz-content-sha256` when the body is not hashed by the client.
pub const UNSIGNED_PAYLOAD: &str = super::UNSIGNED_PAYLOAD;
/// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, for aws-chunked bodies with chunk signatures.
pub const STREAMING_SIGNED_PAYLOAD: &str = super::STREAMING_SIGNED;

/// A signing key for one access key, day and region (service `s3`).
#[derive(Clone)]
pub struct Signer {
    access_key_id: String,
    /// `yyyymmdd` the key was derived for; requests must carry an `x-amz-date` of that day.
    date: String,
    /// `yyyymmdd/region/s3/aws4_request`.
    scope: String,
    key: [u8; 32],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("access_key_id", &self.access_key_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// `yyyymmddThhmmssZ` for Unix seconds (the `x-amz-date` format).
pub fn amz_date(unix_secs: i64) -> Option<String> {
    format_amz_date(unix_secs)
}

impl Signer {
    /// Derives the key for the day of `amz_date` (`yyyymmddThhmmssZ`).
    pub fn new(
        access_key_id: &str,
        secret_key: &str,
        region: &str,
        amz_date: &str,
    ) -> Result<Signer, SigV4Error> {
        let date = amz_date
            .get(..8)
            .filter(|date| date.bytes().all(|byte| byte.is_ascii_digit()))
            .ok_or(SigV4Error::DateMissingOrInvalid)?;
        let mut date_bytes = [0_u8; 8];
        date_bytes.copy_from_slice(date.as_bytes());
        Ok(Signer {
            access_key_id: access_key_id.to_owned(),
            date: date.to_owned(),
            scope: format!("{date}/{region}/{SERVICE_S3}/{SCOPE_TERMINATOR}"),
            key: derive_signing_key(secret_key, date_bytes, region, SERVICE_S3),
        })
    }

    /// Whether this key signs requests dated `amz_date` (same day).
    pub fn covers(&self, amz_date: &str) -> bool {
        amz_date.starts_with(&self.date)
    }

    /// The hex signature of `req`, whose headers must hold every name in `signed_headers`
    /// (`;`-separated, lowercase, `host` included), `x-amz-date` = `amz_date` and
    /// `x-amz-content-sha256` = `payload_hash`.
    pub fn signature(
        &self,
        req: &SignedRequest<'_>,
        signed_headers: &str,
        amz_date: &str,
        payload_hash: &str,
    ) -> Result<String, SigV4Error> {
        if !self.covers(amz_date) {
            return Err(SigV4Error::DateMissingOrInvalid);
        }
        let mut canonical_request = Vec::with_capacity(512);
        canonical_request.extend_from_slice(req.method.as_bytes());
        canonical_request.push(b'\n');
        canonical_uri(req.raw_path, false, &mut canonical_request);
        canonical_request.push(b'\n');
        let query = collect_query_parameters(req.raw_query)?;
        canonical_query(&query, false, &mut canonical_request);
        canonical_request.push(b'\n');
        canonical_headers(req.headers, signed_headers, &mut canonical_request).map_err(
            |error| match error {
                SignedHeadersError::Malformed => SigV4Error::AuthorizationHeaderMalformed {
                    expected_region: None,
                },
                SignedHeadersError::HeaderMissing => SigV4Error::SignedHeaderMissing,
            },
        )?;
        canonical_request.push(b'\n');
        canonical_request.extend_from_slice(signed_headers.as_bytes());
        canonical_request.push(b'\n');
        canonical_request.extend_from_slice(payload_hash.as_bytes());

        let mut string_to_sign = Vec::with_capacity(256);
        for part in [ALGORITHM, amz_date, &self.scope] {
            string_to_sign.extend_from_slice(part.as_bytes());
            string_to_sign.push(b'\n');
        }
        string_to_sign
            .extend_from_slice(hex::encode(Sha256::digest(&canonical_request)).as_bytes());
        Ok(hex::encode(hmac_sha256(&self.key, &string_to_sign)))
    }

    /// The `Authorization` header value for [`Signer::signature`]'s arguments.
    pub fn authorization(
        &self,
        req: &SignedRequest<'_>,
        signed_headers: &str,
        amz_date: &str,
        payload_hash: &str,
    ) -> Result<String, SigV4Error> {
        let signature = self.signature(req, signed_headers, amz_date, payload_hash)?;
        Ok(format!(
            "{ALGORITHM} Credential={}/{},SignedHeaders={signed_headers},Signature={signature}",
            self.access_key_id, self.scope
        ))
    }

    /// The signature of one aws-chunked chunk whose data hashes to `chunk_sha256`, chained
    /// from `previous_signature_hex` (the request's signature for the first chunk).
    pub fn chunk_signature(
        &self,
        amz_date: &str,
        previous_signature_hex: &str,
        chunk_sha256: &[u8; 32],
    ) -> String {
        let mut string_to_sign = Vec::with_capacity(320);
        for part in [
            "AWS4-HMAC-SHA256-PAYLOAD",
            amz_date,
            &self.scope,
            previous_signature_hex,
            EMPTY_SHA256_HEX,
        ] {
            string_to_sign.extend_from_slice(part.as_bytes());
            string_to_sign.push(b'\n');
        }
        string_to_sign.extend_from_slice(hex::encode(chunk_sha256).as_bytes());
        hex::encode(hmac_sha256(&self.key, &string_to_sign))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sha2::{Digest, Sha256};

    use super::super::tests::example_store;
    use super::super::{
        AuthContext, Authenticated, PayloadMode, SignedRequest, SigningKeyCache, authenticate,
    };
    use super::{STREAMING_SIGNED_PAYLOAD, Signer, UNSIGNED_PAYLOAD, amz_date};

    const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const EXAMPLE_DATE: &str = "20130524T000000Z";

    /// The S3 documentation's GET Object example signs to this value.
    #[test]
    fn get_object_example_signature_matches_aws() {
        let signer = Signer::new(ACCESS_KEY, SECRET_KEY, "us-east-1", EXAMPLE_DATE).unwrap();
        let empty = hex::encode(Sha256::digest(b""));
        let headers: [(&str, &[u8]); 4] = [
            ("Host", b"examplebucket.s3.amazonaws.com"),
            ("Range", b"bytes=0-9"),
            ("x-amz-content-sha256", empty.as_bytes()),
            ("x-amz-date", EXAMPLE_DATE.as_bytes()),
        ];
        let req = SignedRequest {
            method: "GET",
            raw_path: "/test.txt",
            raw_query: "",
            headers: &headers,
        };
        let signature = signer
            .signature(
                &req,
                "host;range;x-amz-content-sha256;x-amz-date",
                EXAMPLE_DATE,
                &empty,
            )
            .unwrap();
        assert_eq!(
            signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    /// The S3 documentation's aws-chunked example: seed and first chunk signatures.
    #[test]
    fn streaming_example_chunk_signature_matches_aws() {
        let signer = Signer::new(ACCESS_KEY, SECRET_KEY, "us-east-1", EXAMPLE_DATE).unwrap();
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let chunk = vec![b'a'; 65_536];
        let chunk_hash: [u8; 32] = Sha256::digest(&chunk).into();
        assert_eq!(
            signer.chunk_signature(EXAMPLE_DATE, seed, &chunk_hash),
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
    }

    fn verify(
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &[u8])],
        now: i64,
    ) -> Authenticated {
        let req = SignedRequest {
            method,
            raw_path: path,
            raw_query: query,
            headers,
        };
        let ctx = AuthContext {
            region: "us-east-1",
            now_unix_secs: now,
        };
        authenticate(&req, &ctx, &example_store(), &mut SigningKeyCache::new()).unwrap()
    }

    /// Requests signed here, with queries, odd keys and each payload mode, pass the verifier.
    #[test]
    fn signed_requests_pass_the_verifier() {
        let now = 1_700_000_000;
        let date = amz_date(now).unwrap();
        let signer = Signer::new(ACCESS_KEY, SECRET_KEY, "us-east-1", &date).unwrap();
        let body_hash = hex::encode(Sha256::digest(b"hello"));
        let cases = [
            ("PUT", "/bkt/a%20b/c~d", "", body_hash.as_str()),
            (
                "GET",
                "/bkt",
                "list-type=2&prefix=a%2Fb&max-keys=1000",
                UNSIGNED_PAYLOAD,
            ),
            ("POST", "/bkt/key", "uploads", UNSIGNED_PAYLOAD),
            (
                "PUT",
                "/bkt/key",
                "partNumber=2&uploadId=x_y",
                STREAMING_SIGNED_PAYLOAD,
            ),
        ];
        for (method, path, query, payload) in cases {
            let mut headers: Vec<(&str, &[u8])> = vec![
                ("host", b"127.0.0.1:9000"),
                ("x-amz-date", date.as_bytes()),
                ("x-amz-content-sha256", payload.as_bytes()),
            ];
            let req = SignedRequest {
                method,
                raw_path: path,
                raw_query: query,
                headers: &headers,
            };
            let signed_headers = "host;x-amz-content-sha256;x-amz-date";
            let authorization = signer
                .authorization(&req, signed_headers, &date, payload)
                .unwrap();
            headers.push(("authorization", authorization.as_bytes()));
            let outcome = verify(method, path, query, &headers, now);
            let Authenticated::Signed {
                access_key_id,
                payload,
            } = outcome
            else {
                panic!("{method} {path}?{query}: {outcome:?}");
            };
            assert_eq!(access_key_id, ACCESS_KEY);
            if method == "PUT" && query.is_empty() {
                assert!(matches!(payload, PayloadMode::Sha256(_)), "{payload:?}");
            }
        }
    }

    /// A chunk chain signed here is accepted by the verifier's chain, and a wrong day refused.
    #[test]
    fn chunk_chain_and_day_checks() {
        let now = 1_700_000_000;
        let date = amz_date(now).unwrap();
        let signer = Signer::new(ACCESS_KEY, SECRET_KEY, "us-east-1", &date).unwrap();
        let mut headers: Vec<(&str, &[u8])> = vec![
            ("host", b"localhost"),
            ("x-amz-date", date.as_bytes()),
            ("x-amz-content-sha256", STREAMING_SIGNED_PAYLOAD.as_bytes()),
        ];
        let req = SignedRequest {
            method: "PUT",
            raw_path: "/bkt/k",
            raw_query: "",
            headers: &headers,
        };
        let signed_headers = "host;x-amz-content-sha256;x-amz-date";
        let seed = signer
            .signature(&req, signed_headers, &date, STREAMING_SIGNED_PAYLOAD)
            .unwrap();
        let authorization = signer
            .authorization(&req, signed_headers, &date, STREAMING_SIGNED_PAYLOAD)
            .unwrap();
        headers.push(("authorization", authorization.as_bytes()));
        let Authenticated::Signed {
            payload: PayloadMode::StreamingSigned(mut chain),
            ..
        } = verify("PUT", "/bkt/k", "", &headers, now)
        else {
            panic!("not a streaming payload");
        };
        let first: [u8; 32] = Sha256::digest(b"chunk one").into();
        let first_signature = signer.chunk_signature(&date, &seed, &first);
        chain
            .verify_chunk(&first, first_signature.as_bytes())
            .unwrap();
        let last: [u8; 32] = Sha256::digest(b"").into();
        let last_signature = signer.chunk_signature(&date, &first_signature, &last);
        chain
            .verify_chunk(&last, last_signature.as_bytes())
            .unwrap();

        let next_day = amz_date(now + 86_400).unwrap();
        assert!(!signer.covers(&next_day));
        let req = SignedRequest {
            method: "PUT",
            raw_path: "/bkt/k",
            raw_query: "",
            headers: &headers,
        };
        assert!(
            signer
                .signature(&req, signed_headers, &next_day, UNSIGNED_PAYLOAD)
                .is_err()
        );
    }
}

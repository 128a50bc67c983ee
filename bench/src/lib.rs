//! Fixtures shared by the criterion benchmarks in `benches/` (one file per subsystem):
//! random payloads, requests signed with our own signer, aws-chunked bodies.
//!
//! `cargo bench -p bench` runs them all; `cargo bench -p bench --bench sigv4` one file. CI only
//! compiles them (`cargo build --workspace --all-targets`): timings are never assertions.

use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use s3_proto::sigv4::sign::{Signer, amz_date};
use s3_proto::sigv4::{CredentialStore, SignedRequest};
use sha2::{Digest, Sha256};

pub const ACCESS_KEY: &str = "benchaccesskey";
pub const SECRET_KEY: &str = "benchsecretkey1";
pub const REGION: &str = "us-east-1";
/// A fixed request time, so signatures are deterministic.
pub const NOW_UNIX_SECS: i64 = 1_764_000_000;

/// Random, incompressible bytes (fixed seed: every run measures the same input).
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut bytes = vec![0_u8; len];
    SmallRng::seed_from_u64(seed).fill_bytes(&mut bytes);
    bytes
}

/// The one credential the benchmarks sign with.
pub struct BenchStore;

impl CredentialStore for BenchStore {
    fn secret_key(&self, access_key_id: &str) -> Option<&str> {
        (access_key_id == ACCESS_KEY).then_some(SECRET_KEY)
    }
}

/// A signed request as the server receives it: owned header names and values.
pub struct SignedFixture {
    pub method: &'static str,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, Vec<u8>)>,
    /// The request signature (the seed of an aws-chunked chain).
    pub signature: String,
    pub amz_date: String,
    pub signer: Signer,
}

impl SignedFixture {
    /// Signs `method path?query` the way an SDK does: host, x-amz-content-sha256, x-amz-date
    /// and a few unsigned extras (user agent, content length).
    pub fn new(method: &'static str, path: &str, query: &str, payload_hash: &str) -> Self {
        let date = amz_date(NOW_UNIX_SECS).expect("fixed date formats");
        let signer = Signer::new(ACCESS_KEY, SECRET_KEY, REGION, &date).expect("valid date");
        let mut headers: Vec<(String, Vec<u8>)> = vec![
            ("Host".into(), b"127.0.0.1:9000".to_vec()),
            (
                "User-Agent".into(),
                b"aws-sdk-rust/1.0 os/linux lang/rust".to_vec(),
            ),
            (
                "x-amz-content-sha256".into(),
                payload_hash.as_bytes().to_vec(),
            ),
            ("x-amz-date".into(), date.as_bytes().to_vec()),
        ];
        let signed_headers = "host;x-amz-content-sha256;x-amz-date";
        let signature = {
            let borrowed = borrow_headers(&headers);
            let request = SignedRequest {
                method,
                raw_path: path,
                raw_query: query,
                headers: &borrowed,
            };
            signer
                .signature(&request, signed_headers, &date, payload_hash)
                .expect("fixture signs")
        };
        headers.push((
            "Authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{}/{REGION}/s3/aws4_request,\
                 SignedHeaders={signed_headers},Signature={signature}",
                &date[..8]
            )
            .into_bytes(),
        ));
        SignedFixture {
            method,
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            signature,
            amz_date: date,
            signer,
        }
    }

    /// An aws-chunked body of `data` in `chunk_bytes` chunks, signed from this request.
    pub fn aws_chunked_body(&self, data: &[u8], chunk_bytes: usize) -> Vec<u8> {
        let mut body = Vec::with_capacity(data.len() + data.len() / chunk_bytes * 100 + 200);
        let mut previous = self.signature.clone();
        let mut chunks: Vec<&[u8]> = data.chunks(chunk_bytes).collect();
        chunks.push(&[]);
        for chunk in chunks {
            let hash: [u8; 32] = Sha256::digest(chunk).into();
            let signature = self
                .signer
                .chunk_signature(&self.amz_date, &previous, &hash);
            body.extend_from_slice(
                format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
            );
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
            previous = signature;
        }
        body
    }
}

/// Header pairs in the shape `SignedRequest` takes.
pub fn borrow_headers(headers: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect()
}

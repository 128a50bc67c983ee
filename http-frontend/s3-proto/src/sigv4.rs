//! AWS Signature Version 4 verification, server side, for S3.
//!
//! Handles header authentication (`Authorization: AWS4-HMAC-SHA256 ...`) and presigned query
//! authentication (`X-Amz-Algorithm=...&X-Amz-Signature=...`), decides the payload mode from the
//! signed `x-amz-content-sha256` value, and seeds the chunk-signature chain used by
//! [`crate::aws_chunked`].
//!
//! Architecture invariant: this module never does IO and never reads a request body; the caller
//! hashes the body (or runs the aws-chunked decoder) and compares against [`PayloadMode`].
//! Architecture invariant: signatures are compared only with `subtle::ConstantTimeEq`, after a
//! format check (exactly 64 lowercase hex digits); no signature type implements `PartialEq`.
//! Architecture invariant: every loop over client input is bounded by a constant below.
//! Architecture invariant: S3 paths are never normalized (`//`, `/./`, `/../` in keys survive).
//! Canonical URI: each `%XX` is decoded once and the byte re-encoded (unreserved kept, `%XX`
//! uppercase), except that an encoded slash stays `%2F`, so `/bkt/a%2Fb` and `/bkt/a/b` differ.

mod canonical;
pub mod sign;
#[cfg(test)]
pub(crate) mod tests;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use canonical::{
    QueryParameter, canonical_headers, canonical_query, canonical_uri, collect_query_parameters,
};

/// Longest `Authorization` header we parse; real ones are ~200-600 bytes (64 signed headers of
/// ~30 bytes each still fit).
pub const AUTHORIZATION_HEADER_BYTES_MAX: usize = 4096;
/// Most names in `SignedHeaders` / `X-Amz-SignedHeaders`; SDKs sign fewer than 20.
pub const SIGNED_HEADER_COUNT_MAX: usize = 64;
/// Most `&`-separated query parameters a signed request may carry; S3 requests use fewer than 20.
pub const QUERY_PARAMETER_COUNT_MAX: usize = 128;
/// Largest allowed distance between the request time and the server clock (AWS: 15 minutes).
pub const CLOCK_SKEW_SECS_MAX: i64 = 900;
/// Longest presigned URL lifetime (`X-Amz-Expires`), 7 days as on AWS.
pub const PRESIGNED_EXPIRES_SECS_MAX: i64 = 604_800;
/// Entries kept in a [`SigningKeyCache`]; one per (access key, day, region) in use.
pub const SIGNING_KEY_CACHE_ENTRY_COUNT_MAX: usize = 64;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const ALGORITHM_SIGV4A: &str = "AWS4-ECDSA-P256-SHA256";
const SERVICE_S3: &str = "s3";
const SCOPE_TERMINATOR: &str = "aws4_request";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
const STREAMING_SIGV4A_PREFIX: &str = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD";
/// Hex SHA-256 of the empty string, used in every chunk string-to-sign.
const EMPTY_SHA256_HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

type HmacSha256 = Hmac<Sha256>;

/// Looks up secret keys by access key id.
pub trait CredentialStore {
    /// The secret access key of `access_key_id`, or `None` if the key does not exist or is
    /// disabled.
    fn secret_key(&self, access_key_id: &str) -> Option<&str>;
}

/// The parts of an HTTP request that `SigV4` covers, exactly as received.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// Request method, e.g. `"PUT"`.
    pub method: &'a str,
    /// Request-target path exactly as on the wire, before `?`, e.g. `"/bkt/a%20b"`.
    pub raw_path: &'a str,
    /// Request-target query after `?`, `""` if none, exactly as on the wire.
    pub raw_query: &'a str,
    /// Header names as received (any case) and raw values; duplicates possible.
    pub headers: &'a [(&'a str, &'a [u8])],
}

/// Server-side facts the verifier needs. The service is always `s3`.
#[derive(Debug, Clone, Copy)]
pub struct AuthContext<'a> {
    /// The configured region; a credential scope naming another region is rejected.
    pub region: &'a str,
    /// The server clock, seconds since the Unix epoch.
    pub now_unix_secs: i64,
}

/// Outcome of a successful [`authenticate`].
#[derive(Debug)]
pub enum Authenticated {
    /// No `Authorization` header and no presigned query parameters.
    Anonymous,
    /// The signature verified for this access key.
    Signed {
        access_key_id: String,
        /// What the caller must still check about the body.
        payload: PayloadMode,
    },
}

/// How the body is protected, decided from the signed `x-amz-content-sha256` value.
#[derive(Debug)]
pub enum PayloadMode {
    /// Hex `x-amz-content-sha256`: the body must hash to this (else `XAmzContentSHA256Mismatch`).
    Sha256([u8; 32]),
    /// `UNSIGNED-PAYLOAD` (header auth or presigned, including presigned without the header).
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked body with chunk signatures.
    StreamingSigned(ChunkSignatureChain),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: chunk signatures plus a signed trailer.
    StreamingSignedTrailer(ChunkSignatureChain),
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked body without signatures, with a trailer.
    StreamingUnsignedTrailer,
}

/// Why a request failed authentication. Each variant documents the S3 error it maps to
/// (the mapping itself lives in the front end's single error table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// The computed signature differs from the claimed one.
    /// S3: 403 `SignatureDoesNotMatch`.
    SignatureDoesNotMatch,
    /// The claimed signature is not exactly 64 lowercase hex digits (rejected before comparing).
    /// S3: 403 `SignatureDoesNotMatch`.
    SignatureMalformed,
    /// The access key id is unknown to the credential store.
    /// S3: 403 `InvalidAccessKeyId`.
    InvalidAccessKeyId,
    /// Header auth: `x-amz-date` (or `Date`) is more than 15 minutes from the server clock.
    /// S3: 403 `RequestTimeTooSkewed`.
    RequestTimeTooSkewed,
    /// Presigned: `X-Amz-Date + X-Amz-Expires` is in the past.
    /// S3: 403 `AccessDenied` ("Request has expired").
    ExpiredPresignedRequest,
    /// Presigned: `X-Amz-Date` is more than 15 minutes in the future (`MinIO`:
    /// `RequestNotReadyYet`). S3: 403 `AccessDenied` ("Request is not valid yet").
    PresignedRequestNotYetValid,
    /// The `Authorization` header cannot be parsed, or its credential scope is wrong (date,
    /// service, terminator, or region; for a region mismatch `expected_region` is set so the
    /// client can self-correct). S3: 400 `AuthorizationHeaderMalformed` (with `<Region>`).
    AuthorizationHeaderMalformed { expected_region: Option<String> },
    /// A presigned query parameter is missing, duplicated or invalid (including `X-Amz-Expires`
    /// outside 1..=604800), or its credential scope is wrong (`expected_region` as above).
    /// S3: 400 `AuthorizationQueryParametersError` (with `<Region>`).
    AuthorizationQueryParametersError { expected_region: Option<String> },
    /// Both an `Authorization` header and presigned query parameters are present.
    /// S3: 400 `InvalidArgument` ("Only one auth mechanism allowed").
    MultipleAuthMechanisms,
    /// `x-amz-content-sha256` is neither 64 hex digits nor a known keyword.
    /// S3: 400 `InvalidArgument` ("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, ...").
    XAmzContentSha256Invalid,
    /// Header auth without `x-amz-content-sha256` (S3 requires it for `SigV4`).
    /// S3: 400 `InvalidRequest` ("Missing required header for this request:
    /// x-amz-content-sha256").
    XAmzContentSha256Missing,
    /// Neither `x-amz-date` nor `Date` is present, or the one used is not a valid date.
    /// S3: 403 `AccessDenied` ("AWS authentication requires a valid Date or x-amz-date header").
    DateMissingOrInvalid,
    /// A header named in `SignedHeaders` is absent from the request.
    /// S3: 403 `AccessDenied` (AWS computes a mismatching signature: `SignatureDoesNotMatch` is
    /// also acceptable).
    SignedHeaderMissing,
    /// `SigV2` (`AWS AKID:sig`, `AWSAccessKeyId=`), `SigV4a` (`AWS4-ECDSA-P256-SHA256`) or an
    /// `STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD*` body. S3: 501 `NotImplemented`.
    UnsupportedAlgorithm,
    /// `x-amz-security-token` / `X-Amz-Security-Token` present: we issue no temporary
    /// credentials. S3: 400 `InvalidToken`.
    SessionTokenUnsupported,
    /// More than [`QUERY_PARAMETER_COUNT_MAX`] query parameters.
    /// S3: 400 `InvalidArgument`.
    TooManyQueryParameters,
    /// The signature verified, but the request carries `x-amz-*` headers that it does not
    /// cover (`names`: lowercase, comma-separated, in arrival order). Such a header can change
    /// what the request does (`x-amz-copy-source` turns a presigned PUT into a copy of another
    /// object), so a signature over the rest of the request does not authorize it.
    /// S3: 403 `AccessDenied` ("There were headers present in the request which were not
    /// signed", with `<HeadersNotSigned>`).
    HeadersNotSigned { names: String },
    /// `SigV2`: the operation is chosen by a query parameter that `SigV2` does not sign (it
    /// signs only its fixed list of sub-resources), so the signer did not choose it.
    /// S3: 403 `AccessDenied`.
    UnsignedOperationParameter { name: String },
}

impl std::fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for SigV4Error {}

/// Signing keys derived from secrets, keyed by (access key, `yyyymmdd`, region, service).
///
/// Bounded to [`SIGNING_KEY_CACHE_ENTRY_COUNT_MAX`] entries; when full, entries are replaced
/// round-robin. Each entry keeps the secret it was derived from and is used only if the store
/// still returns the same secret, so a rotated secret never verifies with a stale key.
pub struct SigningKeyCache {
    entries: Vec<SigningKeyCacheEntry>,
    /// Index of the entry replaced next when the cache is full.
    evict_idx: usize,
}

struct SigningKeyCacheEntry {
    access_key_id: String,
    date: [u8; 8],
    region: String,
    service: String,
    secret_key: String,
    signing_key: [u8; 32],
}

impl SigningKeyCache {
    pub fn new() -> Self {
        Self {
            entries: Vec::with_capacity(SIGNING_KEY_CACHE_ENTRY_COUNT_MAX),
            evict_idx: 0,
        }
    }

    /// Number of cached keys (for tests and metrics).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn signing_key(&mut self, scope: &Scope<'_>, secret_key: &str) -> [u8; 32] {
        for entry in &self.entries {
            if entry.access_key_id == scope.access_key_id
                && entry.date == scope.date
                && entry.region == scope.region
                && entry.service == scope.service
                && bool::from(entry.secret_key.as_bytes().ct_eq(secret_key.as_bytes()))
            {
                return entry.signing_key;
            }
        }
        let signing_key = derive_signing_key(secret_key, scope.date, scope.region, scope.service);
        let entry = SigningKeyCacheEntry {
            access_key_id: scope.access_key_id.to_owned(),
            date: scope.date,
            region: scope.region.to_owned(),
            service: scope.service.to_owned(),
            secret_key: secret_key.to_owned(),
            signing_key,
        };
        // Replace a stale entry for the same key and scope (secret rotated) before growing.
        let same_scope = self.entries.iter().position(|existing| {
            existing.access_key_id == scope.access_key_id
                && existing.date == scope.date
                && existing.region == scope.region
                && existing.service == scope.service
        });
        if let Some(idx) = same_scope {
            self.entries[idx] = entry;
        } else if self.entries.len() < SIGNING_KEY_CACHE_ENTRY_COUNT_MAX {
            self.entries.push(entry);
        } else {
            self.entries[self.evict_idx] = entry;
            self.evict_idx = (self.evict_idx + 1) % SIGNING_KEY_CACHE_ENTRY_COUNT_MAX;
        }
        assert!(self.entries.len() <= SIGNING_KEY_CACHE_ENTRY_COUNT_MAX);
        signing_key
    }
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("len", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// The running state of an aws-chunked signature chain: each chunk's signature covers the
/// previous one, starting from the seed (request) signature.
///
/// After any failed verification the chain is poisoned and rejects everything after it.
pub struct ChunkSignatureChain {
    signing_key: [u8; 32],
    /// `yyyymmddThhmmssZ` of the request.
    amz_date: String,
    /// `yyyymmdd/region/s3/aws4_request`.
    scope: String,
    /// Lowercase hex of the last verified signature.
    previous_signature_hex: [u8; 64],
    poisoned: bool,
}

impl std::fmt::Debug for ChunkSignatureChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSignatureChain")
            .field("amz_date", &self.amz_date)
            .field("scope", &self.scope)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl ChunkSignatureChain {
    /// Verifies the signature of one chunk (the final zero-length chunk included) given the
    /// SHA-256 of its data, and advances the chain.
    pub fn verify_chunk(
        &mut self,
        chunk_sha256: &[u8; 32],
        claimed_signature_hex: &[u8],
    ) -> Result<(), SigV4Error> {
        let mut string_to_sign = self.string_to_sign_prefix("AWS4-HMAC-SHA256-PAYLOAD");
        string_to_sign.extend_from_slice(EMPTY_SHA256_HEX.as_bytes());
        string_to_sign.push(b'\n');
        string_to_sign.extend_from_slice(hex::encode(chunk_sha256).as_bytes());
        self.verify_and_advance(&string_to_sign, claimed_signature_hex)
    }

    /// Verifies `x-amz-trailer-signature` over the canonical trailer (each trailer header as
    /// `name:value\n`, lowercase name, trimmed value) and advances the chain.
    pub fn verify_trailer(
        &mut self,
        canonical_trailer: &[u8],
        claimed_signature_hex: &[u8],
    ) -> Result<(), SigV4Error> {
        let mut string_to_sign = self.string_to_sign_prefix("AWS4-HMAC-SHA256-TRAILER");
        string_to_sign.extend_from_slice(hex::encode(Sha256::digest(canonical_trailer)).as_bytes());
        self.verify_and_advance(&string_to_sign, claimed_signature_hex)
    }

    fn string_to_sign_prefix(&self, algorithm: &str) -> Vec<u8> {
        let mut string_to_sign = Vec::with_capacity(320);
        for part in [
            algorithm.as_bytes(),
            self.amz_date.as_bytes(),
            self.scope.as_bytes(),
        ] {
            string_to_sign.extend_from_slice(part);
            string_to_sign.push(b'\n');
        }
        string_to_sign.extend_from_slice(&self.previous_signature_hex);
        string_to_sign.push(b'\n');
        string_to_sign
    }

    fn verify_and_advance(
        &mut self,
        string_to_sign: &[u8],
        claimed_signature_hex: &[u8],
    ) -> Result<(), SigV4Error> {
        if self.poisoned {
            return Err(SigV4Error::SignatureDoesNotMatch);
        }
        let result = verify_signature(&self.signing_key, string_to_sign, claimed_signature_hex);
        match result {
            Ok(()) => self
                .previous_signature_hex
                .copy_from_slice(claimed_signature_hex),
            Err(_) => self.poisoned = true,
        }
        result
    }
}

/// Verifies the `SigV4` signature of `req` (header or presigned form) for S3.
///
/// Returns [`Authenticated::Anonymous`] when the request carries no signature at all.
pub fn authenticate(
    req: &SignedRequest<'_>,
    ctx: &AuthContext<'_>,
    store: &impl CredentialStore,
    cache: &mut SigningKeyCache,
) -> Result<Authenticated, SigV4Error> {
    authenticate_for_host(req, ctx, None, store, cache)
}

/// [`authenticate`] for a request whose bucket came from a virtual-host `Host` header:
/// `SigV2` signs `/bucket` + path, `SigV4` the path as sent. A `SigV2` shape
/// ([`crate::sigv2::is_sigv2`]) goes to the `SigV2` verifier.
pub fn authenticate_for_host(
    req: &SignedRequest<'_>,
    ctx: &AuthContext<'_>,
    host_bucket: Option<&str>,
    store: &impl CredentialStore,
    cache: &mut SigningKeyCache,
) -> Result<Authenticated, SigV4Error> {
    if crate::sigv2::is_sigv2(req) {
        return crate::sigv2::authenticate(req, ctx, host_bucket, store);
    }
    authenticate_with_profile(req, ctx, store, cache, &VerifyProfile::S3)
}

/// What differs between S3 and the generic-service AWS test suite. Only [`VerifyProfile::S3`]
/// is used outside tests.
pub(crate) struct VerifyProfile<'a> {
    pub service: &'a str,
    /// Remove `.`/`..` segments and empty segments from the path (generic services; never S3).
    pub normalize_path: bool,
    /// Payload hash used when no `x-amz-content-sha256` is given; `None` means S3 rules
    /// (required for header auth, `UNSIGNED-PAYLOAD` for presigned).
    pub default_payload_hash_hex: Option<&'a str>,
    pub accept_session_token: bool,
    /// Refuse `x-amz-*` headers the signature does not cover (S3's rule; the generic suite
    /// has a case that adds a session token after signing).
    pub require_signed_amz_headers: bool,
}

impl VerifyProfile<'static> {
    pub(crate) const S3: Self = Self {
        service: SERVICE_S3,
        normalize_path: false,
        default_payload_hash_hex: None,
        // The caller resolves the token (`x-amz-security-token` must then be signed, as
        // every `x-amz-*` header).
        accept_session_token: true,
        require_signed_amz_headers: true,
    };
}

/// [`authenticate`] for a request to another AWS service that the S3 port answers (STS:
/// form-encoded `POST /`, signed for `service`), whose body the caller has read: its SHA-256
/// stands in for a missing `x-amz-content-sha256` (SDKs send that header to S3 only). When
/// the header is present, the caller still compares the returned `PayloadMode::Sha256` with
/// the body's hash.
pub fn authenticate_service(
    req: &SignedRequest<'_>,
    ctx: &AuthContext<'_>,
    service: &str,
    body_sha256_hex: &str,
    store: &impl CredentialStore,
    cache: &mut SigningKeyCache,
) -> Result<Authenticated, SigV4Error> {
    let profile = VerifyProfile {
        service,
        normalize_path: false,
        default_payload_hash_hex: Some(body_sha256_hex),
        accept_session_token: true,
        require_signed_amz_headers: true,
    };
    authenticate_with_profile(req, ctx, store, cache, &profile)
}

/// Which of the two `SigV4` forms a request uses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AuthForm {
    Header,
    Query,
}

impl AuthForm {
    fn malformed(self, expected_region: Option<String>) -> SigV4Error {
        match self {
            Self::Header => SigV4Error::AuthorizationHeaderMalformed { expected_region },
            Self::Query => SigV4Error::AuthorizationQueryParametersError { expected_region },
        }
    }
}

/// The credential scope `AK/yyyymmdd/region/service/aws4_request`, split.
struct Scope<'a> {
    access_key_id: &'a str,
    date: [u8; 8],
    region: &'a str,
    service: &'a str,
}

/// Everything both forms extract before computing the signature.
struct ParsedAuth<'a> {
    form: AuthForm,
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a [u8],
    /// `yyyymmddThhmmssZ`.
    amz_date: String,
    request_time_unix_secs: i64,
    /// Presigned only.
    expires_secs: Option<i64>,
    payload_hash: &'a str,
}

pub(crate) fn authenticate_with_profile(
    req: &SignedRequest<'_>,
    ctx: &AuthContext<'_>,
    store: &impl CredentialStore,
    cache: &mut SigningKeyCache,
    profile: &VerifyProfile<'_>,
) -> Result<Authenticated, SigV4Error> {
    let authorization = single_header(req.headers, "authorization").map_err(|()| {
        SigV4Error::AuthorizationHeaderMalformed {
            expected_region: None,
        }
    })?;
    let query_parameters = collect_query_parameters(req.raw_query)?;
    let presigned = query_parameters.iter().any(|parameter| {
        matches!(
            parameter.key.as_slice(),
            b"X-Amz-Signature" | b"X-Amz-Credential" | b"X-Amz-Algorithm"
        )
    });
    if query_parameters
        .iter()
        .any(|parameter| parameter.key == b"AWSAccessKeyId")
    {
        return Err(SigV4Error::UnsupportedAlgorithm);
    }
    let parsed = match (authorization, presigned) {
        (None, false) => return Ok(Authenticated::Anonymous),
        (Some(_), true) => return Err(SigV4Error::MultipleAuthMechanisms),
        (Some(authorization), false) => parse_header_auth(req, authorization, profile)?,
        (None, true) => parse_query_auth(req, &query_parameters, profile)?,
    };
    let scope = parse_scope(
        parsed.credential,
        &parsed.amz_date,
        ctx,
        profile,
        parsed.form,
    )?;
    check_time(&parsed, ctx)?;
    if !profile.accept_session_token && has_session_token(req, &query_parameters) {
        return Err(SigV4Error::SessionTokenUnsupported);
    }
    let payload_kind = parse_payload_hash(parsed.payload_hash)?;
    check_signature_format(parsed.signature)?;
    let secret_key = store
        .secret_key(scope.access_key_id)
        .ok_or(SigV4Error::InvalidAccessKeyId)?;

    let canonical_request = build_canonical_request(req, &query_parameters, &parsed, profile)?;
    let scope_string = format!(
        "{}/{}/{}/{SCOPE_TERMINATOR}",
        std::str::from_utf8(&scope.date).unwrap_or_default(),
        scope.region,
        scope.service
    );
    let mut string_to_sign = Vec::with_capacity(256);
    for part in [ALGORITHM, &parsed.amz_date, &scope_string] {
        string_to_sign.extend_from_slice(part.as_bytes());
        string_to_sign.push(b'\n');
    }
    string_to_sign.extend_from_slice(hex::encode(Sha256::digest(&canonical_request)).as_bytes());

    let signing_key = cache.signing_key(&scope, secret_key);
    verify_signature(&signing_key, &string_to_sign, parsed.signature)?;
    if profile.require_signed_amz_headers {
        check_amz_headers_signed(req.headers, parsed.signed_headers)?;
    }

    let seed_chain = || {
        let mut previous_signature_hex = [0_u8; 64];
        previous_signature_hex.copy_from_slice(parsed.signature);
        ChunkSignatureChain {
            signing_key,
            amz_date: parsed.amz_date.clone(),
            scope: scope_string.clone(),
            previous_signature_hex,
            poisoned: false,
        }
    };
    let payload = match payload_kind {
        PayloadKind::Sha256(hash) => PayloadMode::Sha256(hash),
        PayloadKind::Unsigned => PayloadMode::Unsigned,
        PayloadKind::StreamingSigned => PayloadMode::StreamingSigned(seed_chain()),
        PayloadKind::StreamingSignedTrailer => PayloadMode::StreamingSignedTrailer(seed_chain()),
        PayloadKind::StreamingUnsignedTrailer => PayloadMode::StreamingUnsignedTrailer,
    };
    Ok(Authenticated::Signed {
        access_key_id: scope.access_key_id.to_owned(),
        payload,
    })
}

/// How the body of an anonymous request (no signature: admitted by a bucket policy) is
/// checked: a hex `x-amz-content-sha256` still binds the body to that hash, and an unsigned
/// trailer still carries its checksum. Chunk signatures need a signature to chain from, so
/// the signed streaming modes are refused (`XAmzContentSha256Invalid`).
pub fn anonymous_payload(headers: &[(&str, &[u8])]) -> Result<PayloadMode, SigV4Error> {
    let value = match single_header(headers, "x-amz-content-sha256") {
        Err(()) => return Err(SigV4Error::XAmzContentSha256Invalid),
        Ok(None) => return Ok(PayloadMode::Unsigned),
        Ok(Some(value)) => {
            std::str::from_utf8(value).map_err(|_| SigV4Error::XAmzContentSha256Invalid)?
        }
    };
    match parse_payload_hash(value)? {
        PayloadKind::Sha256(hash) => Ok(PayloadMode::Sha256(hash)),
        PayloadKind::Unsigned => Ok(PayloadMode::Unsigned),
        PayloadKind::StreamingUnsignedTrailer => Ok(PayloadMode::StreamingUnsignedTrailer),
        PayloadKind::StreamingSigned | PayloadKind::StreamingSignedTrailer => {
            Err(SigV4Error::XAmzContentSha256Invalid)
        }
    }
}

/// Finds the only header named `name` (lowercase). `Err` if it appears more than once.
/// Shared with the SigV2 verifier.
pub(crate) fn single_header<'a>(
    headers: &[(&str, &'a [u8])],
    name: &str,
) -> Result<Option<&'a [u8]>, ()> {
    let mut found = None;
    for (header_name, value) in headers {
        if header_name.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return Err(());
            }
            found = Some(*value);
        }
    }
    Ok(found)
}

fn parse_header_auth<'a>(
    req: &SignedRequest<'a>,
    authorization: &'a [u8],
    profile: &VerifyProfile<'a>,
) -> Result<ParsedAuth<'a>, SigV4Error> {
    let malformed = SigV4Error::AuthorizationHeaderMalformed {
        expected_region: None,
    };
    if authorization.len() > AUTHORIZATION_HEADER_BYTES_MAX {
        return Err(malformed);
    }
    let authorization = std::str::from_utf8(authorization).map_err(|_| malformed.clone())?;
    let authorization = authorization.trim_matches(|c: char| c == ' ' || c == '\t');
    let (algorithm, rest) = authorization.split_once(' ').unwrap_or((authorization, ""));
    if algorithm == ALGORITHM_SIGV4A || algorithm == "AWS" {
        return Err(SigV4Error::UnsupportedAlgorithm);
    }
    if algorithm != ALGORITHM {
        return Err(malformed);
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    // Bounded: the header is at most AUTHORIZATION_HEADER_BYTES_MAX bytes.
    for component in rest.split(',') {
        let component = component.trim_matches(|c: char| c == ' ' || c == '\t');
        let (key, value) = component.split_once('=').ok_or_else(|| malformed.clone())?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(malformed),
        };
        if slot.replace(value).is_some() {
            return Err(malformed);
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(malformed);
    };

    let (amz_date, request_time_unix_secs) = header_request_time(req.headers)?;
    let payload_hash = match single_header(req.headers, "x-amz-content-sha256") {
        Err(()) => return Err(SigV4Error::XAmzContentSha256Invalid),
        Ok(Some(value)) => {
            std::str::from_utf8(value).map_err(|_| SigV4Error::XAmzContentSha256Invalid)?
        }
        Ok(None) => profile
            .default_payload_hash_hex
            .ok_or(SigV4Error::XAmzContentSha256Missing)?,
    };
    Ok(ParsedAuth {
        form: AuthForm::Header,
        credential,
        signed_headers,
        signature: signature.as_bytes(),
        amz_date,
        request_time_unix_secs,
        expires_secs: None,
        payload_hash,
    })
}

/// The request time of header auth: `x-amz-date`, else `Date`.
fn header_request_time(headers: &[(&str, &[u8])]) -> Result<(String, i64), SigV4Error> {
    let invalid = SigV4Error::DateMissingOrInvalid;
    if let Some(value) = single_header(headers, "x-amz-date").map_err(|()| invalid.clone())? {
        let value = std::str::from_utf8(value).map_err(|_| invalid.clone())?;
        let unix_secs = parse_amz_date(value).ok_or(invalid)?;
        return Ok((value.to_owned(), unix_secs));
    }
    let value = single_header(headers, "date")
        .map_err(|()| invalid.clone())?
        .ok_or_else(|| invalid.clone())?;
    let value = std::str::from_utf8(value).map_err(|_| invalid.clone())?;
    let unix_secs = crate::time_format::parse_request_date(value).ok_or_else(|| invalid.clone())?;
    let amz_date = format_amz_date(unix_secs).ok_or(invalid)?;
    Ok((amz_date, unix_secs))
}

fn parse_query_auth<'a>(
    req: &SignedRequest<'a>,
    query_parameters: &'a [QueryParameter],
    profile: &VerifyProfile<'a>,
) -> Result<ParsedAuth<'a>, SigV4Error> {
    let malformed = SigV4Error::AuthorizationQueryParametersError {
        expected_region: None,
    };
    let find = |key: &[u8]| -> Result<Option<&'a str>, SigV4Error> {
        let mut found = None;
        for parameter in query_parameters {
            if parameter.key == key {
                if found.is_some() {
                    return Err(malformed.clone());
                }
                found = Some(std::str::from_utf8(&parameter.value).map_err(|_| malformed.clone())?);
            }
        }
        Ok(found)
    };
    let required = |key: &[u8]| find(key)?.ok_or_else(|| malformed.clone());
    let algorithm = required(b"X-Amz-Algorithm")?;
    if algorithm == ALGORITHM_SIGV4A {
        return Err(SigV4Error::UnsupportedAlgorithm);
    }
    if algorithm != ALGORITHM {
        return Err(malformed);
    }
    let credential = required(b"X-Amz-Credential")?;
    let amz_date = required(b"X-Amz-Date")?;
    let expires = required(b"X-Amz-Expires")?;
    let signed_headers = required(b"X-Amz-SignedHeaders")?;
    let signature = required(b"X-Amz-Signature")?;
    let request_time_unix_secs = parse_amz_date(amz_date).ok_or_else(|| malformed.clone())?;
    let expires_secs = parse_expires(expires).ok_or_else(|| malformed.clone())?;
    let payload_hash = match find(b"X-Amz-Content-Sha256")? {
        Some(value) => value,
        None => match single_header(req.headers, "x-amz-content-sha256") {
            Err(()) => return Err(SigV4Error::XAmzContentSha256Invalid),
            Ok(Some(value)) => {
                std::str::from_utf8(value).map_err(|_| SigV4Error::XAmzContentSha256Invalid)?
            }
            Ok(None) => profile.default_payload_hash_hex.unwrap_or(UNSIGNED_PAYLOAD),
        },
    };
    Ok(ParsedAuth {
        form: AuthForm::Query,
        credential,
        signed_headers,
        signature: signature.as_bytes(),
        amz_date: amz_date.to_owned(),
        request_time_unix_secs,
        expires_secs: Some(expires_secs),
        payload_hash,
    })
}

/// `X-Amz-Expires`: decimal digits only, 1..=604800.
fn parse_expires(value: &str) -> Option<i64> {
    if value.is_empty() || value.len() > 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let expires_secs: i64 = value.parse().ok()?;
    (1..=PRESIGNED_EXPIRES_SECS_MAX)
        .contains(&expires_secs)
        .then_some(expires_secs)
}

fn parse_scope<'a>(
    credential: &'a str,
    amz_date: &str,
    ctx: &AuthContext<'_>,
    profile: &VerifyProfile<'_>,
    form: AuthForm,
) -> Result<Scope<'a>, SigV4Error> {
    let mut parts = credential.split('/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(form.malformed(None));
    };
    if access_key_id.is_empty()
        || service != profile.service
        || terminator != SCOPE_TERMINATOR
        || date.len() != 8
        || !amz_date.starts_with(date)
    {
        return Err(form.malformed(None));
    }
    if region != ctx.region {
        return Err(form.malformed(Some(ctx.region.to_owned())));
    }
    let mut date_bytes = [0_u8; 8];
    date_bytes.copy_from_slice(date.as_bytes());
    Ok(Scope {
        access_key_id,
        date: date_bytes,
        region,
        service,
    })
}

fn check_time(parsed: &ParsedAuth<'_>, ctx: &AuthContext<'_>) -> Result<(), SigV4Error> {
    let request_time = parsed.request_time_unix_secs;
    match parsed.expires_secs {
        None => {
            if (ctx.now_unix_secs - request_time).abs() > CLOCK_SKEW_SECS_MAX {
                return Err(SigV4Error::RequestTimeTooSkewed);
            }
        }
        Some(expires_secs) => {
            if request_time - ctx.now_unix_secs > CLOCK_SKEW_SECS_MAX {
                return Err(SigV4Error::PresignedRequestNotYetValid);
            }
            if request_time + expires_secs < ctx.now_unix_secs {
                return Err(SigV4Error::ExpiredPresignedRequest);
            }
        }
    }
    Ok(())
}

fn has_session_token(req: &SignedRequest<'_>, query_parameters: &[QueryParameter]) -> bool {
    req.headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("x-amz-security-token"))
        || query_parameters
            .iter()
            .any(|parameter| parameter.key == b"X-Amz-Security-Token")
}

/// The payload hash value, classified; kept apart from [`PayloadMode`] because the chain can
/// only be seeded after the signature verified.
enum PayloadKind {
    Sha256([u8; 32]),
    Unsigned,
    StreamingSigned,
    StreamingSignedTrailer,
    StreamingUnsignedTrailer,
}

fn parse_payload_hash(value: &str) -> Result<PayloadKind, SigV4Error> {
    Ok(match value {
        UNSIGNED_PAYLOAD => PayloadKind::Unsigned,
        STREAMING_SIGNED => PayloadKind::StreamingSigned,
        STREAMING_SIGNED_TRAILER => PayloadKind::StreamingSignedTrailer,
        STREAMING_UNSIGNED_TRAILER => PayloadKind::StreamingUnsignedTrailer,
        _ if value.starts_with(STREAMING_SIGV4A_PREFIX) => {
            return Err(SigV4Error::UnsupportedAlgorithm);
        }
        _ => {
            let mut hash = [0_u8; 32];
            if value.len() != 64 {
                return Err(SigV4Error::XAmzContentSha256Invalid);
            }
            hex::decode_to_slice(value, &mut hash)
                .map_err(|_| SigV4Error::XAmzContentSha256Invalid)?;
            PayloadKind::Sha256(hash)
        }
    })
}

/// `x-amz-*` headers a signature need not cover. AWS accepts `x-amz-content-sha256` unsigned
/// (clients that sign only `host` send it); its value is the last line of the canonical
/// request whether it is signed or not, so changing it breaks the signature anyway.
const UNSIGNED_AMZ_HEADERS_ALLOWED: &[&str] = &["x-amz-content-sha256"];

/// Refuses a request that carries an `x-amz-*` header its `SignedHeaders` omit (other than
/// [`UNSIGNED_AMZ_HEADERS_ALLOWED`]), in header and presigned auth alike. Bounded by the
/// request's header count (the head parser's limit).
fn check_amz_headers_signed(
    headers: &[(&str, &[u8])],
    signed_headers: &str,
) -> Result<(), SigV4Error> {
    let mut unsigned: Vec<String> = Vec::new();
    for (name, _) in headers {
        let is_amz = name
            .get(..6)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("x-amz-"));
        if !is_amz
            || UNSIGNED_AMZ_HEADERS_ALLOWED
                .iter()
                .any(|allowed| name.eq_ignore_ascii_case(allowed))
            || signed_headers
                .split(';')
                .any(|signed| name.eq_ignore_ascii_case(signed))
        {
            continue;
        }
        let name = name.to_ascii_lowercase();
        if !unsigned.contains(&name) {
            unsigned.push(name);
        }
    }
    if unsigned.is_empty() {
        Ok(())
    } else {
        Err(SigV4Error::HeadersNotSigned {
            names: unsigned.join(","),
        })
    }
}

fn check_signature_format(signature: &[u8]) -> Result<(), SigV4Error> {
    let lowercase_hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
    if signature.len() == 64 && signature.iter().all(lowercase_hex) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureMalformed)
    }
}

fn build_canonical_request(
    req: &SignedRequest<'_>,
    query_parameters: &[QueryParameter],
    parsed: &ParsedAuth<'_>,
    profile: &VerifyProfile<'_>,
) -> Result<Vec<u8>, SigV4Error> {
    let mut canonical_request = Vec::with_capacity(1024);
    canonical_request.extend_from_slice(req.method.as_bytes());
    canonical_request.push(b'\n');
    canonical_uri(req.raw_path, profile.normalize_path, &mut canonical_request);
    canonical_request.push(b'\n');
    let skip_signature = parsed.form == AuthForm::Query;
    canonical_query(query_parameters, skip_signature, &mut canonical_request);
    canonical_request.push(b'\n');
    canonical_headers(req.headers, parsed.signed_headers, &mut canonical_request).map_err(
        |error| match error {
            canonical::SignedHeadersError::Malformed => parsed.form.malformed(None),
            canonical::SignedHeadersError::HeaderMissing => SigV4Error::SignedHeaderMissing,
        },
    )?;
    canonical_request.push(b'\n');
    canonical_request.extend_from_slice(parsed.signed_headers.as_bytes());
    canonical_request.push(b'\n');
    canonical_request.extend_from_slice(parsed.payload_hash.as_bytes());
    Ok(canonical_request)
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub(crate) fn derive_signing_key(
    secret_key: &str,
    date: [u8; 8],
    region: &str,
    service: &str,
) -> [u8; 32] {
    let mut secret = Vec::with_capacity(4 + secret_key.len());
    secret.extend_from_slice(b"AWS4");
    secret.extend_from_slice(secret_key.as_bytes());
    let date_key = hmac_sha256(&secret, &date);
    let region_key = hmac_sha256(&date_key, region.as_bytes());
    let service_key = hmac_sha256(&region_key, service.as_bytes());
    hmac_sha256(&service_key, SCOPE_TERMINATOR.as_bytes())
}

/// Checks the claimed signature format, then compares in constant time.
fn verify_signature(
    signing_key: &[u8; 32],
    string_to_sign: &[u8],
    claimed_signature_hex: &[u8],
) -> Result<(), SigV4Error> {
    check_signature_format(claimed_signature_hex)?;
    let expected_hex = hex::encode(hmac_sha256(signing_key, string_to_sign));
    if bool::from(expected_hex.as_bytes().ct_eq(claimed_signature_hex)) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureDoesNotMatch)
    }
}

/// Parses `yyyymmddThhmmssZ` into Unix seconds.
fn parse_amz_date(value: &str) -> Option<i64> {
    let bytes = value.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let slice = &bytes[range];
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(slice).ok()?.parse().ok()
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let day = u8::try_from(digits(6..8)?).ok()?;
    let hour = u8::try_from(digits(9..11)?).ok()?;
    let minute = u8::try_from(digits(11..13)?).ok()?;
    let second = u8::try_from(digits(13..15)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let time_of_day = time::Time::from_hms(hour, minute, second).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, time_of_day)
            .assume_utc()
            .unix_timestamp(),
    )
}

/// Formats Unix seconds as `yyyymmddThhmmssZ`.
fn format_amz_date(unix_secs: i64) -> Option<String> {
    let date_time = time::OffsetDateTime::from_unix_timestamp(unix_secs).ok()?;
    Some(format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        date_time.year(),
        u8::from(date_time.month()),
        date_time.day(),
        date_time.hour(),
        date_time.minute(),
        date_time.second()
    ))
}

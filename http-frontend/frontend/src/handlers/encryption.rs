//! Server-side encryption on the object handlers, with AWS's semantics: which key a write
//! encrypts with, which key a read must present, and the headers that say so. The mechanics
//! (runs, tags, the single streaming pass) are in `shard::encryption`.
//!
//! A write uses, in order: the request's SSE-C key, the request's `x-amz-server-side-
//! encryption: AES256`, the bucket's default encryption, the server-wide
//! `security.encrypt_all_objects` setting; else it stores plaintext. SSE-KMS is refused with
//! AWS's error for an unknown key: this server has no KMS, and storing plaintext under an
//! encryption request would be a lie.

use std::rc::Rc;

use control::settings::keys;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::sse::{
    AES256, CustomerKeyHeaders, SSE_HEADER, SseRequest, parse_copy_source_customer_key,
    parse_sse_request,
};
use shard::encryption::{
    EncryptedRun, EncryptionMode, KeySource, ReadDecryption, StoredEncryption, mode_for,
    new_run_cipher,
};
use shard::{ObjectRecord, ObjectWriter, WrittenData};
use sse::SseError;
use sse::cipher::ObjectCipher;
use sse::customer::CustomerKey;
use sse::master::MasterKeys;

use crate::exchange::Exchange;
use crate::response::Response;

const CUSTOMER_ALGORITHM_HEADER: &str = "x-amz-server-side-encryption-customer-algorithm";
const CUSTOMER_KEY_MD5_HEADER: &str = "x-amz-server-side-encryption-customer-key-MD5";

/// The key a write encrypts with.
pub(crate) enum WriteKey {
    Plain,
    Master(Rc<MasterKeys>),
    Customer(CustomerKey),
}

/// A run being written: what the record needs besides the writer's tags.
pub(crate) struct RunStart {
    wrapped_key: Vec<u8>,
    cipher: ObjectCipher,
}

impl WriteKey {
    fn source(&self) -> Option<KeySource<'_>> {
        match self {
            WriteKey::Plain => None,
            WriteKey::Master(keys) => Some(KeySource::Master(keys)),
            WriteKey::Customer(key) => Some(KeySource::Customer(key)),
        }
    }

    /// The mode to record (a fresh fingerprint for SSE-C).
    pub(crate) fn mode(&self) -> Option<EncryptionMode> {
        self.source().map(|source| mode_for(&source))
    }

    /// Makes `writer` encrypt with a fresh data key; `None` when the write is plaintext.
    pub(crate) fn start_run(&self, writer: &mut ObjectWriter) -> Option<RunStart> {
        let source = self.source()?;
        let (cipher, wrapped_key) = new_run_cipher(&source);
        writer.encrypt_with(cipher.clone());
        Some(RunStart {
            wrapped_key,
            cipher,
        })
    }

    /// The headers a write's response carries.
    pub(crate) fn response_headers(&self) -> Vec<(&'static str, String)> {
        match self {
            WriteKey::Plain => Vec::new(),
            WriteKey::Master(_) => vec![(SSE_HEADER, AES256.to_owned())],
            WriteKey::Customer(key) => customer_headers(&key.md5_base64()),
        }
    }

    /// `response` with this key's headers.
    pub(crate) fn add_headers(&self, mut response: Response) -> Response {
        for (name, value) in self.response_headers() {
            response = response.header(name, value);
        }
        response
    }
}

impl RunStart {
    /// The record's encryption for what the writer wrote, in `mode`.
    fn finish(self, mode: EncryptionMode, written: &WrittenData) -> StoredEncryption {
        StoredEncryption {
            mode,
            runs: vec![EncryptedRun::written(
                &self.cipher,
                self.wrapped_key,
                written,
            )],
        }
    }

    /// The ETag to store: the MD5 for SSE-S3, an opaque keyed value for SSE-C.
    fn etag(&self, mode: &EncryptionMode, md5: &[u8]) -> String {
        match mode {
            EncryptionMode::Master => hex::encode(md5),
            EncryptionMode::Customer { .. } => hex::encode(self.cipher.opaque_etag(md5)),
        }
    }
}

/// The ETag and the record's encryption of a finished write: `run` (from `start_run`) sealed
/// in `mode` (the request's, or for a part its upload's). Plaintext: the MD5 and `None`.
pub(crate) fn seal(
    mode: Option<EncryptionMode>,
    run: Option<RunStart>,
    md5: &[u8],
    written: &WrittenData,
) -> (String, Option<StoredEncryption>) {
    match (run, mode) {
        (Some(run), Some(mode)) => (run.etag(&mode, md5), Some(run.finish(mode, written))),
        _ => (hex::encode(md5), None),
    }
}

/// The key a PutObject, CopyObject or CreateMultipartUpload encrypts with.
pub(crate) fn write_key(exchange: &Exchange<'_>) -> Result<WriteKey, S3Error> {
    write_key_from(exchange, |name| exchange.head.header_str(name))
}

/// `write_key` with the SSE headers read through `header` (a POST upload's form fields).
pub(crate) fn write_key_from<'a>(
    exchange: &Exchange<'_>,
    header: impl Fn(&str) -> Option<&'a str>,
) -> Result<WriteKey, S3Error> {
    match parse_sse_request(header)? {
        SseRequest::Customer(headers) => Ok(WriteKey::Customer(customer_key(exchange, &headers)?)),
        SseRequest::S3 => Ok(WriteKey::Master(exchange.context.master_keys())),
        SseRequest::Kms { key_id, .. } => Err(unknown_kms_key(key_id.as_deref())),
        SseRequest::None => default_write_key(exchange),
    }
}

/// No SSE header: the bucket's default encryption, else the server-wide setting.
fn default_write_key(exchange: &Exchange<'_>) -> Result<WriteKey, S3Error> {
    let context = exchange.context;
    // Not `context.bucket()`: that clones the whole record (tags ...) on every write.
    let bucket_default = context
        .buckets
        .borrow()
        .get(exchange.bucket())
        .and_then(|entry| entry.record.encryption.clone());
    if let Some(default) = bucket_default {
        // PutBucketEncryption accepts only AES256; a KMS rule stored by another version
        // must not turn into plaintext.
        return if default.algorithm == AES256 {
            Ok(WriteKey::Master(context.master_keys()))
        } else {
            Err(unknown_kms_key(default.kms_key_id.as_deref()))
        };
    }
    if context
        .dynamic_settings()
        .flag(keys::ENCRYPT_ALL_OBJECTS, false)
    {
        return Ok(WriteKey::Master(context.master_keys()));
    }
    Ok(WriteKey::Plain)
}

/// `KMS.NotFoundException`, as AWS answers a key id it does not know.
pub(crate) fn unknown_kms_key(key_id: Option<&str>) -> S3Error {
    let message = match key_id {
        Some(key_id) => format!("Invalid keyId {key_id}"),
        None => "This server has no KMS key; use SSE-S3 (AES256) or SSE-C".to_owned(),
    };
    S3Error::with_message(S3ErrorCode::KmsNotFoundException, message)
}

/// A customer key from its headers, if SSE-C is allowed on this connection: always over TLS,
/// over plain HTTP only when a flag or setting says so (AWS refuses it).
fn customer_key(
    exchange: &Exchange<'_>,
    headers: &CustomerKeyHeaders,
) -> Result<CustomerKey, S3Error> {
    if !crate::handlers::request_guards::customer_keys_allowed(exchange) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Requests specifying Server Side Encryption with Customer provided keys must be \
             made over a secure connection.",
        ));
    }
    CustomerKey::from_headers(&headers.key_base64, &headers.key_md5_base64).map_err(|error| {
        let message = match error {
            SseError::CustomerKeyMd5Mismatch => {
                "The calculated MD5 hash of the key did not match the hash that was provided."
            }
            _ => "The secret key was invalid for the specified algorithm.",
        };
        S3Error::with_message(S3ErrorCode::InvalidArgument, message)
    })
}

/// The SSE-C key headers of the request (not those of a copy source), if any.
fn presented_customer_key(exchange: &Exchange<'_>) -> Result<Option<CustomerKeyHeaders>, S3Error> {
    match parse_sse_request(|name| exchange.head.header_str(name))? {
        SseRequest::Customer(headers) => Ok(Some(headers)),
        _ => Ok(None),
    }
}

/// The customer key of an UploadPart or UploadPartCopy into `upload_mode`'s upload: SSE-C
/// uploads need the upload's key on every part, others take no customer key: the same rules
/// as a read of an object in that mode (`check_presented_key`).
pub(crate) fn part_write_key(
    exchange: &Exchange<'_>,
    upload_mode: Option<&EncryptionMode>,
) -> Result<WriteKey, S3Error> {
    let presented = presented_customer_key(exchange)?;
    let key = match check_presented_key(exchange, upload_mode, presented.as_ref())? {
        ReadKey::Plain => WriteKey::Plain,
        ReadKey::Master => WriteKey::Master(exchange.context.master_keys()),
        ReadKey::Customer(key) => WriteKey::Customer(key),
    };
    Ok(key)
}

/// The key a read of a stored object was allowed with: checked against the object (a
/// customer key against its fingerprint), its data keys not unwrapped yet. HEAD, a 304 and
/// GetObjectAttributes stop here; only a read that returns bytes unwraps (`decryption`).
pub(crate) enum ReadKey {
    Plain,
    Master,
    Customer(CustomerKey),
}

impl ReadKey {
    /// The decryption the reader needs for `record` (the record this key was checked
    /// against); `None` for a plaintext object.
    pub(crate) fn decryption(
        &self,
        exchange: &Exchange<'_>,
        record: &ObjectRecord,
    ) -> Result<Option<ReadDecryption>, S3Error> {
        let Some(encryption) = &record.encryption else {
            return Ok(None);
        };
        let ciphers = match self {
            ReadKey::Master => {
                let keys = exchange.context.master_keys();
                encryption
                    .ciphers(&KeySource::Master(&keys))
                    .map_err(|error| unreadable(&error))?
            }
            ReadKey::Customer(key) => encryption
                .ciphers(&KeySource::Customer(key))
                .map_err(|_| wrong_customer_key())?,
            // `read_key` never answers Plain for an encrypted record: never serve ciphertext.
            ReadKey::Plain => return Err(unreadable(&SseError::Authentication)),
        };
        ReadDecryption::new(encryption, ciphers, &record.extents)
            .map(Some)
            .map_err(|error| crate::s3_error::from_shard(&error))
    }
}

/// The key a GET, HEAD or GetObjectAttributes of `record` is allowed with, from the request's
/// SSE-C headers. Errors as AWS: a customer key for an object that has none, a missing or
/// wrong key for an SSE-C object.
pub(crate) fn read_key(exchange: &Exchange<'_>, record: &ObjectRecord) -> Result<ReadKey, S3Error> {
    let presented = presented_customer_key(exchange)?;
    check_presented_key(exchange, stored_mode(record), presented.as_ref())
}

/// The decryption a copy's source needs, from the `x-amz-copy-source-...-customer-*` headers.
pub(crate) fn copy_source_decryption(
    exchange: &Exchange<'_>,
    source: &ObjectRecord,
) -> Result<Option<ReadDecryption>, S3Error> {
    let presented = parse_copy_source_customer_key(|name| exchange.head.header_str(name))?;
    check_presented_key(exchange, stored_mode(source), presented.as_ref())?
        .decryption(exchange, source)
}

fn stored_mode(record: &ObjectRecord) -> Option<&EncryptionMode> {
    record
        .encryption
        .as_ref()
        .map(|encryption| &encryption.mode)
}

/// Whether the presented SSE-C headers fit what was stored in `mode` (an object, or an
/// upload for its parts): the key its mode needs, or AWS's error.
fn check_presented_key(
    exchange: &Exchange<'_>,
    mode: Option<&EncryptionMode>,
    presented: Option<&CustomerKeyHeaders>,
) -> Result<ReadKey, S3Error> {
    match (mode, presented) {
        (None, None) => Ok(ReadKey::Plain),
        (Some(EncryptionMode::Master), None) => Ok(ReadKey::Master),
        (Some(EncryptionMode::Customer { fingerprint, .. }), Some(headers)) => {
            let key = customer_key(exchange, headers)?;
            if !key.matches(fingerprint) {
                return Err(wrong_customer_key());
            }
            Ok(ReadKey::Customer(key))
        }
        (Some(EncryptionMode::Customer { .. }), None) => Err(missing_customer_key()),
        (_, Some(_)) => Err(not_applicable()),
    }
}

/// The encryption headers of a GET, HEAD or copy response for a stored object.
pub(crate) fn stored_headers(encryption: Option<&StoredEncryption>) -> Vec<(&'static str, String)> {
    match encryption.map(|encryption| &encryption.mode) {
        None => Vec::new(),
        Some(EncryptionMode::Master) => vec![(SSE_HEADER, AES256.to_owned())],
        Some(EncryptionMode::Customer { key_md5_base64, .. }) => customer_headers(key_md5_base64),
    }
}

/// `response` with the encryption headers of a stored object.
pub(crate) fn add_stored_headers(
    mut response: Response,
    encryption: Option<&StoredEncryption>,
) -> Response {
    for (name, value) in stored_headers(encryption) {
        response = response.header(name, value);
    }
    response
}

fn customer_headers(key_md5_base64: &str) -> Vec<(&'static str, String)> {
    vec![
        (CUSTOMER_ALGORITHM_HEADER, AES256.to_owned()),
        (CUSTOMER_KEY_MD5_HEADER, key_md5_base64.to_owned()),
    ]
}

/// Whether the request names any encryption for its target (a copy onto itself may change
/// only its encryption).
pub(crate) fn requests_encryption(exchange: &Exchange<'_>) -> bool {
    exchange.head.header_str(SSE_HEADER).is_some()
        || exchange
            .head
            .header_str(CUSTOMER_ALGORITHM_HEADER)
            .is_some()
}

fn missing_customer_key() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "The object was stored using a form of Server Side Encryption. The correct parameters \
         must be provided to retrieve the object.",
    )
}

fn wrong_customer_key() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessDenied,
        "The provided customer key does not match the key the object was encrypted with.",
    )
}

fn not_applicable() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "The encryption parameters are not applicable to this object.",
    )
}

/// A stored data key that the master keys cannot unwrap: a lost or replaced keyring, or
/// tampered metadata. Logged; the client gets a 500 and no bytes.
fn unreadable(error: &SseError) -> S3Error {
    tracing::error!(%error, "cannot unwrap a stored data key with the master keys");
    S3Error::with_message(
        S3ErrorCode::InternalError,
        "The object's encryption key cannot be unwrapped by this server's master keys.",
    )
}

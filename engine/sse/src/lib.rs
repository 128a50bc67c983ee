//! Server-side encryption primitives (DESIGN.md §4), with no knowledge of HTTP or storage:
//!
//! - `master`: the master keys (KEKs), versioned, loaded from a key file or the environment, or
//!   generated at first start and stored with mode 0600; rotation adds a version.
//! - `envelope`: a random per-object `DataKey` (an AES-256 key for the data and a MAC key),
//!   wrapped with AES-256-GCM by a KEK version (SSE-S3) or by the customer's key (SSE-C).
//! - `cipher`: AES-256-GCM per stored check block (CTR keystream plus a GHASH tag, so a range
//!   read decrypts only the blocks it returns), and the format-1 scheme (AES-256-CTR with a
//!   keyed BLAKE3 tag per block) that older objects still use; either way tampering
//!   and bit rot are errors, never wrong plaintext.
//! - `customer`: SSE-C keys: the headers' key and MD5 checked, and a salted keyed hash kept to
//!   reject a wrong key without storing the key.
//!
//! The data path applies `cipher` in its one streaming pass (DESIGN.md §3); nothing here
//! buffers a whole object.

pub mod cipher;
pub mod customer;
pub mod envelope;
pub mod master;

/// Errors of this crate; callers map them to S3 codes.
#[derive(Debug, PartialEq, Eq)]
pub enum SseError {
    /// A wrapped key or tag did not authenticate: wrong key, or tampered or rotten bytes.
    Authentication,
    /// The KEK version a key was wrapped with is not in the keyring.
    UnknownKekVersion(u32),
    /// Stored bytes that are not in a format this version reads.
    Format(&'static str),
    /// A customer key (SSE-C) that is not 32 bytes of base64, or an MD5 header that is not
    /// base64.
    InvalidCustomerKey(&'static str),
    /// A customer key whose MD5 is not the one its `-key-MD5` header names (AWS answers this
    /// case with its own message).
    CustomerKeyMd5Mismatch,
    Io(String),
}

impl std::fmt::Display for SseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SseError::Authentication => write!(f, "authentication of encrypted data failed"),
            SseError::UnknownKekVersion(version) => {
                write!(f, "unknown master key version {version}")
            }
            SseError::Format(what) => write!(f, "malformed {what}"),
            SseError::InvalidCustomerKey(what) => write!(f, "invalid customer key: {what}"),
            SseError::CustomerKeyMd5Mismatch => {
                write!(
                    f,
                    "invalid customer key: the key MD5 does not match the key"
                )
            }
            SseError::Io(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for SseError {}

//! SSE-C: the customer's key arrives with every request (`x-amz-server-side-encryption-
//! customer-algorithm`, `-key` (base64 of 32 bytes) and `-key-MD5`) and is never stored. What
//! is stored is a salted keyed hash of it, to answer a request with the wrong key with 403
//! before touching data, and the object's data key wrapped by it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::SseError;

const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;
/// Stored fingerprint: salt then HMAC-SHA256(salt, key).
pub const FINGERPRINT_BYTES: usize = SALT_BYTES + HASH_BYTES;

/// A customer key from the request headers, checked against its MD5.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomerKey([u8; 32]);

impl std::fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerKey(..)")
    }
}

impl CustomerKey {
    /// From the base64 `-key` header and the base64 `-key-MD5` header.
    pub fn from_headers(key_base64: &str, md5_base64: &str) -> Result<Self, SseError> {
        let key = BASE64
            .decode(key_base64.trim())
            .map_err(|_| SseError::InvalidCustomerKey("the key is not base64"))?;
        let key: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| SseError::InvalidCustomerKey("the key must be 256 bits"))?;
        let digest = Md5::digest(key);
        let given = BASE64
            .decode(md5_base64.trim())
            .map_err(|_| SseError::InvalidCustomerKey("the key MD5 is not base64"))?;
        if !bool::from(digest.as_slice().ct_eq(&given)) {
            return Err(SseError::CustomerKeyMd5Mismatch);
        }
        Ok(CustomerKey(key))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The base64 MD5 of the key, returned in `x-amz-server-side-encryption-customer-key-MD5`.
    pub fn md5_base64(&self) -> String {
        BASE64.encode(Md5::digest(self.0))
    }

    /// A new salted fingerprint to store with the object.
    pub fn fingerprint(&self) -> Vec<u8> {
        let salt: [u8; SALT_BYTES] = rand::random();
        let mut out = salt.to_vec();
        out.extend_from_slice(&keyed_hash(&salt, &self.0));
        out
    }

    /// Whether this key is the one `fingerprint` was made from (constant time).
    pub fn matches(&self, fingerprint: &[u8]) -> bool {
        if fingerprint.len() != FINGERPRINT_BYTES {
            return false;
        }
        let (salt, hash) = fingerprint.split_at(SALT_BYTES);
        bool::from(keyed_hash(salt, &self.0).ct_eq(hash))
    }
}

fn keyed_hash(salt: &[u8], key: &[u8; 32]) -> [u8; HASH_BYTES] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(salt).expect("HMAC takes keys of any length");
    mac.update(b"maxiofs-sse-c-fingerprint-v1");
    mac.update(key);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(key: &[u8; 32]) -> (String, String) {
        (BASE64.encode(key), BASE64.encode(Md5::digest(key)))
    }

    #[test]
    fn the_right_key_matches_its_fingerprint_and_no_other_does() {
        let (key, md5) = headers(&[3u8; 32]);
        let customer = CustomerKey::from_headers(&key, &md5).unwrap();
        let fingerprint = customer.fingerprint();
        assert!(customer.matches(&fingerprint));
        // Salted: the same key fingerprints differently each time.
        assert_ne!(customer.fingerprint(), fingerprint);
        let (other, other_md5) = headers(&[4u8; 32]);
        let other = CustomerKey::from_headers(&other, &other_md5).unwrap();
        assert!(!other.matches(&fingerprint));
        assert!(!customer.matches(&fingerprint[1..]));
        assert_eq!(customer.md5_base64(), md5);
    }

    #[test]
    fn malformed_keys_are_refused() {
        let (key, md5) = headers(&[3u8; 32]);
        let (_, wrong_md5) = headers(&[4u8; 32]);
        assert_eq!(
            CustomerKey::from_headers(&key, &wrong_md5),
            Err(SseError::CustomerKeyMd5Mismatch)
        );
        assert!(CustomerKey::from_headers("c2hvcnQ=", &md5).is_err());
        assert!(CustomerKey::from_headers("***", &md5).is_err());
        assert!(CustomerKey::from_headers(&key, "***").is_err());
    }
}

//! Per-object data keys and their wrapping (envelope encryption).
//!
//! A `DataKey` is 64 random bytes: an AES-256 key for the data (GCM blocks, or format 1's
//! CTR) and a MAC key (format 1's BLAKE3 block tags, SSE-C's opaque ETags). It is stored
//! only wrapped, with AES-256-GCM, by a master key version (SSE-S3) or by the customer's key
//! (SSE-C). GCM authenticates the wrapped key: a wrong key or a flipped bit
//! fails to unwrap. Rotation re-wraps data keys under the new master key; the data is never
//! re-encrypted.
//!
//! Wrapped form (98 bytes): format 1, kind (1 = master key, 2 = customer key), master key
//! version (u32 big-endian, 0 for customer keys), 12-byte nonce, 64 bytes of ciphertext and
//! the 16-byte GCM tag.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::SseError;
use crate::master::MasterKeys;

const FORMAT: u8 = 1;
const KIND_MASTER: u8 = 1;
const KIND_CUSTOMER: u8 = 2;
const NONCE_BYTES: usize = 12;
const KEY_BYTES: usize = 64;
pub const WRAPPED_BYTES: usize = 1 + 1 + 4 + NONCE_BYTES + KEY_BYTES + 16;

/// An object's secret key material; zeroed when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; KEY_BYTES]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        // Best effort: volatile writes so the compiler keeps them.
        for byte in &mut self.0 {
            // SAFETY: `byte` is a valid, aligned, exclusive reference into our own array.
            #[allow(unsafe_code)]
            unsafe {
                std::ptr::write_volatile(byte, 0);
            }
        }
    }
}

impl DataKey {
    pub fn random() -> Self {
        let mut bytes = [0u8; KEY_BYTES];
        rand::fill(&mut bytes[..]);
        DataKey(bytes)
    }

    pub fn encryption_key(&self) -> &[u8; 32] {
        self.0[..32]
            .try_into()
            .expect("bytes 0..32 of a 64-byte key")
    }

    pub fn mac_key(&self) -> &[u8; 32] {
        self.0[32..]
            .try_into()
            .expect("bytes 32..64 of a 64-byte key")
    }
}

fn gcm_key(kek: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, kek).expect("AES_256_GCM takes 32 bytes"))
}

fn seal(kek: &[u8; 32], kind: u8, version: u32, key: &DataKey) -> Vec<u8> {
    let nonce: [u8; NONCE_BYTES] = rand::random();
    let mut out = Vec::with_capacity(WRAPPED_BYTES);
    out.push(FORMAT);
    out.push(kind);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&nonce);
    // The header is the associated data: kind and version cannot be swapped either.
    let header_bytes = out.len();
    out.extend_from_slice(&key.0);
    let (header, sealed) = out.split_at_mut(header_bytes);
    let tag = gcm_key(kek)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&*header),
            sealed,
        )
        .expect("AES-GCM encryption of 64 bytes cannot fail");
    out.extend_from_slice(tag.as_ref());
    out
}

/// The fields of a wrapped key.
struct Parsed<'a> {
    kind: u8,
    version: u32,
    nonce: &'a [u8],
    sealed: &'a [u8],
}

fn parse(wrapped: &[u8]) -> Result<Parsed<'_>, SseError> {
    if wrapped.len() != WRAPPED_BYTES || wrapped[0] != FORMAT {
        return Err(SseError::Format("wrapped data key"));
    }
    Ok(Parsed {
        kind: wrapped[1],
        version: u32::from_be_bytes(wrapped[2..6].try_into().expect("4 bytes")),
        nonce: &wrapped[6..6 + NONCE_BYTES],
        sealed: &wrapped[6 + NONCE_BYTES..],
    })
}

fn open(kek: &[u8; 32], wrapped: &[u8], nonce: &[u8], sealed: &[u8]) -> Result<DataKey, SseError> {
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SseError::Format("nonce"))?;
    let mut in_out = sealed.to_vec();
    let opened = gcm_key(kek)
        .open_in_place(nonce, Aad::from(&wrapped[..6 + NONCE_BYTES]), &mut in_out)
        .map(|plain| <[u8; KEY_BYTES]>::try_from(&*plain));
    // Whatever the outcome, no copy of key material stays in the scratch buffer.
    in_out.fill(0);
    match opened {
        Ok(Ok(bytes)) => Ok(DataKey(bytes)),
        Ok(Err(_)) => Err(SseError::Format("data key length")),
        Err(_) => Err(SseError::Authentication),
    }
}

/// SSE-S3: wraps with the current master key version.
pub fn wrap_with_master(keys: &MasterKeys, key: &DataKey) -> Vec<u8> {
    let (version, kek) = keys.current();
    seal(kek, KIND_MASTER, version, key)
}

/// SSE-C: wraps with the customer's 256-bit key.
pub fn wrap_with_customer(customer_key: &[u8; 32], key: &DataKey) -> Vec<u8> {
    seal(customer_key, KIND_CUSTOMER, 0, key)
}

pub fn unwrap_with_master(keys: &MasterKeys, wrapped: &[u8]) -> Result<DataKey, SseError> {
    let parsed = parse(wrapped)?;
    if parsed.kind != KIND_MASTER {
        return Err(SseError::Format("not a master-key-wrapped data key"));
    }
    let kek = keys
        .get(parsed.version)
        .ok_or(SseError::UnknownKekVersion(parsed.version))?;
    open(kek, wrapped, parsed.nonce, parsed.sealed)
}

pub fn unwrap_with_customer(customer_key: &[u8; 32], wrapped: &[u8]) -> Result<DataKey, SseError> {
    let parsed = parse(wrapped)?;
    if parsed.kind != KIND_CUSTOMER {
        return Err(SseError::Format("not a customer-key-wrapped data key"));
    }
    open(customer_key, wrapped, parsed.nonce, parsed.sealed)
}

/// The master key version a wrapped key needs (`None` for customer-wrapped keys).
pub fn master_version(wrapped: &[u8]) -> Result<Option<u32>, SseError> {
    let parsed = parse(wrapped)?;
    Ok((parsed.kind == KIND_MASTER).then_some(parsed.version))
}

/// Rotation: the key re-wrapped under the current master key, or `None` if it already is.
pub fn rewrap(keys: &MasterKeys, wrapped: &[u8]) -> Result<Option<Vec<u8>>, SseError> {
    match master_version(wrapped)? {
        Some(version) if version != keys.current().0 => {
            let key = unwrap_with_master(keys, wrapped)?;
            Ok(Some(wrap_with_master(keys, &key)))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapped_form_is_plain_aes_256_gcm_over_the_header() {
        // An independent AES-256-GCM (RustCrypto's) opens what we seal: the format does not
        // depend on the library.
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        let kek = [9u8; 32];
        let key = DataKey::random();
        let wrapped = wrap_with_customer(&kek, &key);
        let reference = aes_gcm::Aes256Gcm::new(&kek.into());
        let plain = reference
            .decrypt(
                aes_gcm::Nonce::from_slice(&wrapped[6..6 + NONCE_BYTES]),
                Payload {
                    msg: &wrapped[6 + NONCE_BYTES..],
                    aad: &wrapped[..6 + NONCE_BYTES],
                },
            )
            .unwrap();
        assert_eq!(plain, key.0);
    }

    #[test]
    fn master_wrapping_round_trips_and_rotation_rewraps() {
        let mut keys = MasterKeys::generate();
        let key = DataKey::random();
        let wrapped = wrap_with_master(&keys, &key);
        assert_eq!(wrapped.len(), WRAPPED_BYTES);
        assert_eq!(unwrap_with_master(&keys, &wrapped).unwrap(), key);
        assert_eq!(rewrap(&keys, &wrapped).unwrap(), None);

        keys.rotate();
        // The old version still opens old keys...
        assert_eq!(unwrap_with_master(&keys, &wrapped).unwrap(), key);
        // ...and rotation moves them to the new one.
        let rewrapped = rewrap(&keys, &wrapped)
            .unwrap()
            .expect("old version re-wrapped");
        assert_eq!(master_version(&rewrapped).unwrap(), Some(2));
        assert_eq!(unwrap_with_master(&keys, &rewrapped).unwrap(), key);
    }

    #[test]
    fn wrong_keys_and_flipped_bits_do_not_unwrap() {
        let keys = MasterKeys::generate();
        let other = MasterKeys::generate();
        let key = DataKey::random();
        let wrapped = wrap_with_master(&keys, &key);
        assert_eq!(
            unwrap_with_master(&other, &wrapped),
            Err(SseError::Authentication)
        );
        for index in 0..wrapped.len() {
            let mut bad = wrapped.clone();
            bad[index] ^= 0x20;
            assert!(unwrap_with_master(&keys, &bad).is_err(), "byte {index}");
        }
        let customer = [7u8; 32];
        let by_customer = wrap_with_customer(&customer, &key);
        assert_eq!(unwrap_with_customer(&customer, &by_customer).unwrap(), key);
        assert_eq!(
            unwrap_with_customer(&[8u8; 32], &by_customer),
            Err(SseError::Authentication)
        );
        assert!(unwrap_with_master(&keys, &by_customer).is_err());
    }
}

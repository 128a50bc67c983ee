//! AES-256-CTR over an object's bytes plus a tag per stored block.
//!
//! The keystream is addressed by byte offset in the object: counter block = IV + offset / 16,
//! so any range decrypts without touching what precedes it, and an object written in pieces
//! (multipart parts at their offsets) encrypts as one stream. Each part of a multipart upload
//! gets its own data key and IV, so part boundaries never reuse a keystream.
//!
//! Tags: BLAKE3 in keyed mode (a PRF, so a MAC) with the data key's MAC key, over the block's
//! ciphertext, its index and its length, truncated to 16 bytes. Measured here per core on
//! 64 KiB blocks: BLAKE3 2.7 GB/s (AVX-512), HMAC-SHA256 1.4 GB/s (SHA-NI), POLYVAL as in
//! RustCrypto's polyval 1.0 GB/s; AES-256-CTR itself 3.5-4.5 GB/s.
//! A GET verifies each block's tag before decrypting any of it: wrong bytes are an error,
//! never plaintext. The block is the storage layer's checksum block.

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use subtle::ConstantTimeEq;

use crate::SseError;
use crate::envelope::DataKey;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

pub const TAG_BYTES: usize = 16;
pub const IV_BYTES: usize = 16;

/// The cipher of one object (or one multipart part).
#[derive(Clone)]
pub struct ObjectCipher {
    key: DataKey,
    iv: [u8; IV_BYTES],
}

impl ObjectCipher {
    pub fn new(key: DataKey, iv: [u8; IV_BYTES]) -> Self {
        ObjectCipher { key, iv }
    }

    /// A fresh random IV for a new object or part.
    pub fn random_iv() -> [u8; IV_BYTES] {
        rand::random()
    }

    pub fn iv(&self) -> [u8; IV_BYTES] {
        self.iv
    }

    pub fn data_key(&self) -> &DataKey {
        &self.key
    }

    /// Encrypts or decrypts (the same operation in CTR) `bytes`, which sit at `offset` in the
    /// object.
    pub fn apply_at(&self, offset: u64, bytes: &mut [u8]) {
        let mut stream = Aes256Ctr::new(self.key.encryption_key().into(), (&self.iv).into());
        stream.seek(offset);
        stream.apply_keystream(bytes);
    }

    /// The tag of stored block number `index` holding `ciphertext`.
    pub fn block_tag(&self, index: u64, ciphertext: &[u8]) -> [u8; TAG_BYTES] {
        let mut hasher = self.tag_hasher(index);
        hasher.update(ciphertext);
        hasher.finish()
    }

    /// A tag computed piece by piece, for a block that arrives in several writes.
    pub fn tag_hasher(&self, index: u64) -> TagHasher {
        TagHasher {
            hasher: blake3::Hasher::new_keyed(self.key.mac_key()),
            index,
            length_bytes: 0,
        }
    }

    /// The ETag of an SSE-C object or part: a keyed hash of the plaintext's MD5, so that a
    /// listing, which needs no key, reveals nothing about the plaintext (AWS's SSE-C ETags are
    /// not MD5s either).
    pub fn opaque_etag(&self, md5: &[u8]) -> [u8; 16] {
        let mut hasher = blake3::Hasher::new_keyed(self.key.mac_key());
        hasher.update(b"etag");
        hasher.update(md5);
        let mut etag = [0u8; 16];
        etag.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        etag
    }

    /// Checks a stored block's tag in constant time.
    pub fn verify_block(
        &self,
        index: u64,
        ciphertext: &[u8],
        tag: &[u8; TAG_BYTES],
    ) -> Result<(), SseError> {
        if bool::from(self.block_tag(index, ciphertext).ct_eq(tag)) {
            Ok(())
        } else {
            Err(SseError::Authentication)
        }
    }
}

/// Keyed BLAKE3 over `ciphertext || index (u64 BE) || length (u64 BE)`: both numbers are fixed
/// size and last, so no two (index, ciphertext) pairs hash the same input. The ciphertext comes
/// first so that it starts on a BLAKE3 chunk boundary, where the SIMD path hashes whole chunks
/// in parallel: with an 8-byte prefix a 4 KiB block hashed 3x slower (1.5 against 4.5 GiB/s).
pub struct TagHasher {
    hasher: blake3::Hasher,
    index: u64,
    length_bytes: u64,
}

impl TagHasher {
    pub fn update(&mut self, ciphertext: &[u8]) {
        self.hasher.update(ciphertext);
        self.length_bytes += ciphertext.len() as u64;
    }

    pub fn finish(mut self) -> [u8; TAG_BYTES] {
        self.hasher.update(&self.index.to_be_bytes());
        self.hasher.update(&self.length_bytes.to_be_bytes());
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&self.hasher.finalize().as_bytes()[..TAG_BYTES]);
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> ObjectCipher {
        ObjectCipher::new(DataKey::random(), ObjectCipher::random_iv())
    }

    #[allow(clippy::cast_possible_truncation)] // reduced modulo 256 first
    fn plaintext(length: usize) -> Vec<u8> {
        (0..length)
            .map(|i| ((i * 7 + i / 251) % 256) as u8)
            .collect()
    }

    #[test]
    fn any_range_decrypts_alone() {
        let cipher = cipher();
        let plain = plaintext(300_000);
        let mut whole = plain.clone();
        cipher.apply_at(0, &mut whole);
        assert_ne!(whole, plain);
        for (start, end) in [
            (0, 1),
            (1, 17),
            (15, 16),
            (16, 48),
            (65_535, 65_537),
            (123_457, 300_000),
        ] {
            let mut piece = whole[start..end].to_vec();
            cipher.apply_at(start as u64, &mut piece);
            assert_eq!(piece, plain[start..end], "range {start}..{end}");
        }
    }

    #[test]
    fn encrypting_in_pieces_equals_encrypting_at_once() {
        let cipher = cipher();
        let plain = plaintext(100_003);
        let mut whole = plain.clone();
        cipher.apply_at(0, &mut whole);
        let mut pieces = plain.clone();
        let mut offset = 0;
        for size in [1usize, 15, 4096, 33, 65_536] {
            let end = (offset + size).min(pieces.len());
            cipher.apply_at(offset as u64, &mut pieces[offset..end]);
            offset = end;
        }
        cipher.apply_at(offset as u64, &mut pieces[offset..]);
        assert_eq!(pieces, whole);
    }

    #[test]
    fn a_tag_computed_in_pieces_equals_the_whole_block_tag() {
        let cipher = cipher();
        let block = plaintext(65_536);
        let mut hasher = cipher.tag_hasher(7);
        for piece in block.chunks(10_000) {
            hasher.update(piece);
        }
        assert_eq!(hasher.finish(), cipher.block_tag(7, &block));
    }

    #[test]
    fn a_flipped_bit_or_a_moved_block_fails_the_tag() {
        let cipher = cipher();
        let mut block = plaintext(65_536);
        cipher.apply_at(0, &mut block);
        let tag = cipher.block_tag(0, &block);
        assert_eq!(cipher.verify_block(0, &block, &tag), Ok(()));
        assert_eq!(
            cipher.verify_block(1, &block, &tag),
            Err(SseError::Authentication)
        );
        block[40_000] ^= 1;
        assert_eq!(
            cipher.verify_block(0, &block, &tag),
            Err(SseError::Authentication)
        );
        assert_eq!(
            cipher.verify_block(0, &block[..100], &tag),
            Err(SseError::Authentication)
        );
    }
}

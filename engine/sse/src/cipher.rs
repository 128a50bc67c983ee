//! The encryption of a run's bytes (an object, a multipart part or a copy) and a tag per
//! stored check block. Two schemes, recorded per run:
//!
//! - **GCM blocks** (written since format 2 of the `sse` record): each check block is one
//!   AES-256-GCM message under the run's data key, nonce = the run IV's first 4 bytes and the
//!   block's index (u64 big-endian), no associated data. GCM is AES-256-CTR for the bytes plus a
//!   GHASH tag, so a range read still decrypts only the blocks it returns, and the index in the
//!   nonce means a block moved elsewhere in the run fails its tag. Why GCM and not CTR with a
//!   separate MAC: with VAES and VPCLMULQDQ (AVX-512), aws-lc's stitched AES-GCM runs
//!   authenticated decryption at ~13 GiB/s per core, where AES-256-CTR (RustCrypto, 128-bit
//!   AES-NI) plus keyed BLAKE3 came to ~3.1 GiB/s (docs/PERFORMANCE.md, issue 8). Sealing needs
//!   a whole block at once: the writer flushes whole check blocks (engine/shard `partition.rs`).
//! - **CTR + BLAKE3** (format 1, read only): AES-256-CTR addressed by byte offset in the run
//!   (counter block = IV + offset / 16) and keyed BLAKE3 over the block's ciphertext, its index
//!   and its length, truncated to 16 bytes. Objects written before format 2 keep it.
//!
//! Either way a read checks a block's tag before any of its plaintext is used: tampering and
//! bit rot are errors, never wrong plaintext.

use std::sync::Arc;

use aes::Aes256;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ctr::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use subtle::ConstantTimeEq;

use crate::SseError;
use crate::envelope::DataKey;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

pub const TAG_BYTES: usize = 16;
pub const IV_BYTES: usize = 16;

/// A block tag as stored.
pub type Tag = [u8; TAG_BYTES];

/// How a run's blocks are encrypted and tagged (stored as one byte per run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockScheme {
    /// Format 1, read only: AES-256-CTR by byte offset, keyed BLAKE3 tags.
    CtrBlake3,
    /// AES-256-GCM per check block.
    Gcm,
}

impl BlockScheme {
    pub fn code(self) -> u8 {
        match self {
            BlockScheme::CtrBlake3 => 1,
            BlockScheme::Gcm => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<BlockScheme> {
        match code {
            1 => Some(BlockScheme::CtrBlake3),
            2 => Some(BlockScheme::Gcm),
            _ => None,
        }
    }
}

/// The cipher of one run.
#[derive(Clone)]
pub struct ObjectCipher {
    key: DataKey,
    iv: [u8; IV_BYTES],
    blocks: Blocks,
}

/// What a scheme keeps besides the data key.
#[derive(Clone)]
enum Blocks {
    /// The expanded AES key and GHASH tables, built once per run (shared by clones).
    Gcm(Arc<LessSafeKey>),
    /// Format 1 keys its CTR stream and BLAKE3 hasher from the data key per call.
    CtrBlake3,
}

impl ObjectCipher {
    /// The cipher of a new run: always the current scheme.
    pub fn for_new_run(key: DataKey) -> Self {
        ObjectCipher::new(key, rand::random(), BlockScheme::Gcm)
    }

    /// The cipher of a stored run.
    pub fn new(key: DataKey, iv: [u8; IV_BYTES], scheme: BlockScheme) -> Self {
        let blocks = match scheme {
            BlockScheme::Gcm => {
                let unbound = UnboundKey::new(&AES_256_GCM, key.encryption_key())
                    .expect("AES_256_GCM takes a 32-byte key");
                Blocks::Gcm(Arc::new(LessSafeKey::new(unbound)))
            }
            BlockScheme::CtrBlake3 => Blocks::CtrBlake3,
        };
        ObjectCipher { key, iv, blocks }
    }

    pub fn iv(&self) -> [u8; IV_BYTES] {
        self.iv
    }

    pub fn scheme(&self) -> BlockScheme {
        match self.blocks {
            Blocks::Gcm(_) => BlockScheme::Gcm,
            Blocks::CtrBlake3 => BlockScheme::CtrBlake3,
        }
    }

    pub fn data_key(&self) -> &DataKey {
        &self.key
    }

    fn gcm_nonce(&self, index: u64) -> Nonce {
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.iv[..4]);
        nonce[4..].copy_from_slice(&index.to_be_bytes());
        Nonce::assume_unique_for_key(nonce)
    }

    /// Encrypts block number `index` of the run in place and returns its tag. Only the
    /// current scheme writes: format-1 runs are read only.
    pub fn seal_block(&self, index: u64, block: &mut [u8]) -> Result<Tag, SseError> {
        let Blocks::Gcm(gcm) = &self.blocks else {
            return Err(SseError::Format("a format-1 run cannot be written"));
        };
        let tag = gcm
            .seal_in_place_separate_tag(self.gcm_nonce(index), Aad::empty(), block)
            .map_err(|_| SseError::Format("block too large for AES-GCM"))?;
        let mut out = [0u8; TAG_BYTES];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Checks block number `index` of the run, which starts `offset_in_run` bytes into it,
    /// against `tag`, and only then decrypts it in place. On `Err` the block's bytes are
    /// unspecified and must not be used.
    pub fn open_block(
        &self,
        index: u64,
        offset_in_run: u64,
        block: &mut [u8],
        tag: &Tag,
    ) -> Result<(), SseError> {
        match &self.blocks {
            Blocks::Gcm(gcm) => gcm
                .open_in_place_separate_tag(self.gcm_nonce(index), Aad::empty(), tag, block)
                .map(|_| ())
                .map_err(|_| SseError::Authentication),
            Blocks::CtrBlake3 => {
                if !bool::from(self.block_tag(index, block).ct_eq(tag)) {
                    return Err(SseError::Authentication);
                }
                self.apply_at(offset_in_run, block);
                Ok(())
            }
        }
    }

    /// Format 1: encrypts or decrypts (the same operation in CTR) `bytes`, which sit at
    /// `offset` in the run. Public for the tests that write format-1 runs.
    pub fn apply_at(&self, offset: u64, bytes: &mut [u8]) {
        let mut stream = Aes256Ctr::new(self.key.encryption_key().into(), (&self.iv).into());
        stream.seek(offset);
        stream.apply_keystream(bytes);
    }

    /// Format 1: the tag of block number `index` holding `ciphertext`.
    pub fn block_tag(&self, index: u64, ciphertext: &[u8]) -> Tag {
        let mut hasher = blake3::Hasher::new_keyed(self.key.mac_key());
        hasher.update(ciphertext);
        // Fixed-size numbers last: no two (index, ciphertext) pairs hash the same input, and
        // the ciphertext starts on a BLAKE3 chunk boundary (its SIMD path).
        hasher.update(&index.to_be_bytes());
        hasher.update(&(ciphertext.len() as u64).to_be_bytes());
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&hasher.finalize().as_bytes()[..TAG_BYTES]);
        tag
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: usize = 65_536;

    fn cipher(scheme: BlockScheme) -> ObjectCipher {
        ObjectCipher::new(DataKey::random(), rand::random(), scheme)
    }

    #[allow(clippy::cast_possible_truncation)] // reduced modulo 256 first
    fn plaintext(length: usize) -> Vec<u8> {
        (0..length)
            .map(|i| ((i * 7 + i / 251) % 256) as u8)
            .collect()
    }

    /// Seals `plain` block by block; the ciphertext and the tags.
    fn seal_all(cipher: &ObjectCipher, plain: &[u8]) -> (Vec<u8>, Vec<Tag>) {
        let mut sealed = plain.to_vec();
        let tags = sealed
            .chunks_mut(BLOCK)
            .enumerate()
            .map(|(index, block)| cipher.seal_block(index as u64, block).unwrap())
            .collect();
        (sealed, tags)
    }

    #[test]
    fn gcm_blocks_round_trip_and_hide_the_plaintext() {
        let cipher = cipher(BlockScheme::Gcm);
        let plain = plaintext(3 * BLOCK + 1234);
        let (sealed, tags) = seal_all(&cipher, &plain);
        assert_eq!(tags.len(), 4);
        assert!(
            sealed
                .chunks(BLOCK)
                .zip(plain.chunks(BLOCK))
                .all(|(c, p)| c != p)
        );
        for (index, block) in sealed.chunks(BLOCK).enumerate() {
            let mut opened = block.to_vec();
            let offset = (index * BLOCK) as u64;
            cipher
                .open_block(index as u64, offset, &mut opened, &tags[index])
                .unwrap();
            assert_eq!(opened, plain[index * BLOCK..][..block.len()]);
        }
    }

    #[test]
    fn gcm_is_aes_256_gcm_with_the_documented_nonce() {
        // The same block sealed by an independent AES-256-GCM (RustCrypto's) with the nonce
        // the format documents: IV bytes 0..4, then the index big-endian.
        use aes_gcm::aead::{AeadInPlace, KeyInit};
        let cipher = cipher(BlockScheme::Gcm);
        let plain = plaintext(5000);
        let mut ours = plain.clone();
        let tag = cipher.seal_block(9, &mut ours).unwrap();
        let reference = aes_gcm::Aes256Gcm::new(cipher.data_key().encryption_key().into());
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&cipher.iv()[..4]);
        nonce[4..].copy_from_slice(&9u64.to_be_bytes());
        let mut theirs = plain.clone();
        let their_tag = reference
            .encrypt_in_place_detached(aes_gcm::Nonce::from_slice(&nonce), b"", &mut theirs)
            .unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(tag.as_slice(), their_tag.as_slice());
    }

    #[test]
    fn a_flipped_bit_a_moved_block_or_a_cut_block_fails_the_tag() {
        for scheme in [BlockScheme::Gcm, BlockScheme::CtrBlake3] {
            let cipher = cipher(scheme);
            let plain = plaintext(BLOCK);
            let (sealed, tag) = match scheme {
                BlockScheme::Gcm => {
                    let (sealed, tags) = seal_all(&cipher, &plain);
                    (sealed, tags[0])
                }
                BlockScheme::CtrBlake3 => {
                    let mut sealed = plain.clone();
                    cipher.apply_at(0, &mut sealed);
                    let tag = cipher.block_tag(0, &sealed);
                    (sealed, tag)
                }
            };
            let open = |index: u64, bytes: &[u8]| {
                let mut copy = bytes.to_vec();
                cipher.open_block(index, 0, &mut copy, &tag).map(|()| copy)
            };
            assert_eq!(open(0, &sealed), Ok(plain.clone()), "{scheme:?}");
            assert_eq!(open(1, &sealed), Err(SseError::Authentication));
            let mut flipped = sealed.clone();
            flipped[40_000] ^= 1;
            assert_eq!(open(0, &flipped), Err(SseError::Authentication));
            assert_eq!(open(0, &sealed[..100]), Err(SseError::Authentication));
        }
    }

    #[test]
    fn format_1_runs_decrypt_any_range_alone_and_are_read_only() {
        let cipher = cipher(BlockScheme::CtrBlake3);
        let plain = plaintext(300_000);
        let mut whole = plain.clone();
        cipher.apply_at(0, &mut whole);
        assert_ne!(whole, plain);
        for (start, end) in [(0, 1), (15, 16), (65_535, 65_537), (123_457, 300_000)] {
            let mut piece = whole[start..end].to_vec();
            cipher.apply_at(start as u64, &mut piece);
            assert_eq!(piece, plain[start..end], "range {start}..{end}");
        }
        // A block that is not the run's first opens at its own offset.
        let second = &whole[BLOCK..2 * BLOCK];
        let tag = cipher.block_tag(1, second);
        let mut opened = second.to_vec();
        cipher
            .open_block(1, BLOCK as u64, &mut opened, &tag)
            .unwrap();
        assert_eq!(opened, plain[BLOCK..2 * BLOCK]);
        assert!(cipher.seal_block(0, &mut opened).is_err());
    }

    #[test]
    fn scheme_codes_round_trip() {
        for scheme in [BlockScheme::CtrBlake3, BlockScheme::Gcm] {
            assert_eq!(BlockScheme::from_code(scheme.code()), Some(scheme));
        }
        assert_eq!(BlockScheme::from_code(0), None);
        assert_eq!(BlockScheme::from_code(3), None);
    }
}

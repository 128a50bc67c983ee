//! Server-side encryption of stored object bytes (SSE-S3 and SSE-C; DESIGN.md §4), as the
//! shard stores and applies it. The primitives live in the `sse` crate; this module holds
//! what a record says about them and applies them in the one pass of a write or a read.
//!
//! An encrypted object is a sequence of **runs**: one for a PUT or a copy, one per part for a
//! completed multipart upload (completion stays a metadata operation, so each part keeps the
//! key it was written with). Each run has its own random data key, wrapped by the current
//! master key (SSE-S3) or by the customer's key (SSE-C), its own IV, its block scheme
//! (`sse::cipher`: AES-256-GCM per check block, or format 1's CTR + BLAKE3, read only) and one
//! tag per check block of its extents. A read checks the tag of every block it touches before
//! any of its plaintext is used, so tampering and bit rot are errors, never wrong plaintext.
//! The block CRC32Cs of the extents (over ciphertext) stay: the scrubber, which has no customer
//! keys, checks those.
//!
//! GCM seals a whole check block at once, so a GCM run's check blocks must be whole blocks of
//! the run: every extent of the run but its last holds whole check blocks (the writer
//! guarantees it; `covers` checks it), and block `i` of the run is bytes `[i * 64 KiB, ...)`.
//!
//! Stored in the `sse` columns (schema 5), little-endian, empty for a plain object:
//! `u8 version=2, u8 mode (1 master, 2 customer), [customer: string key MD5 (base64),
//! bytes fingerprint], u32 run_count, run_count x (u8 scheme (1 CTR + BLAKE3, 2 GCM), u64
//! length, bytes wrapped_key, 16 x u8 iv, u32 tag_count, tag_count x 16 x u8 tag)`, strings and
//! bytes as `u32 length, bytes`. Version 1 (still read) is the same without the scheme byte;
//! its runs are all CTR + BLAKE3.

use sse::SseError;
use sse::cipher::{BlockScheme, IV_BYTES, ObjectCipher, TAG_BYTES};
use sse::customer::CustomerKey;
use sse::envelope::{self, DataKey};
use sse::master::MasterKeys;

use crate::error::ShardError;
use crate::record::{
    CHECK_BLOCK_BYTES, DecodeError, Extent, Reader, len_u32, put_bytes, put_u32, put_u64,
};

/// Version 1 had no per-run scheme (every run CTR + BLAKE3).
const FORMAT_VERSION_1: u8 = 1;
const FORMAT_VERSION: u8 = 2;
const MODE_MASTER: u8 = 1;
const MODE_CUSTOMER: u8 = 2;

pub use sse::cipher::Tag;

/// Whose key wraps the data keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncryptionMode {
    /// SSE-S3: a master key version (recorded in each wrapped key).
    Master,
    /// SSE-C: the customer's key, which is never stored; `fingerprint` is a salted keyed hash
    /// of it (`sse::customer`) to reject a wrong key before any data is read.
    Customer {
        key_md5_base64: String,
        fingerprint: Vec<u8>,
    },
}

/// A span of the object encrypted with one data key and IV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedRun {
    pub scheme: BlockScheme,
    pub length_bytes: u64,
    /// The data key, wrapped (`sse::envelope`).
    pub wrapped_key: Vec<u8>,
    pub iv: [u8; IV_BYTES],
    /// One per check block of the run's extents, in order.
    pub tags: Vec<Tag>,
}

impl EncryptedRun {
    /// The run a writer encrypting with `cipher` (its data key wrapped as `wrapped_key`)
    /// wrote.
    pub fn written(
        cipher: &ObjectCipher,
        wrapped_key: Vec<u8>,
        written: &crate::WrittenData,
    ) -> EncryptedRun {
        EncryptedRun {
            scheme: cipher.scheme(),
            length_bytes: written.size_bytes,
            wrapped_key,
            iv: cipher.iv(),
            tags: written.tags.clone(),
        }
    }
}

/// How an object's (or a part's) bytes are encrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEncryption {
    pub mode: EncryptionMode,
    pub runs: Vec<EncryptedRun>,
}

/// The key that unwraps a record's data keys.
pub enum KeySource<'a> {
    Master(&'a MasterKeys),
    Customer(&'a CustomerKey),
}

impl StoredEncryption {
    /// One cipher per run, its data key unwrapped. `Authentication` when a customer key is
    /// not the one the object was written with (checked against the fingerprint first) or a
    /// wrapped key does not authenticate.
    pub fn ciphers(&self, key: &KeySource<'_>) -> Result<Vec<ObjectCipher>, SseError> {
        if let (EncryptionMode::Customer { fingerprint, .. }, KeySource::Customer(customer)) =
            (&self.mode, key)
            && !customer.matches(fingerprint)
        {
            return Err(SseError::Authentication);
        }
        self.runs
            .iter()
            .map(|run| {
                let data_key = match (&self.mode, key) {
                    (EncryptionMode::Master, KeySource::Master(keys)) => {
                        envelope::unwrap_with_master(keys, &run.wrapped_key)?
                    }
                    (EncryptionMode::Customer { .. }, KeySource::Customer(customer)) => {
                        envelope::unwrap_with_customer(customer.bytes(), &run.wrapped_key)?
                    }
                    _ => return Err(SseError::Authentication),
                };
                Ok(ObjectCipher::new(data_key, run.iv, run.scheme))
            })
            .collect()
    }

    /// The master key version of each run wrapped by one (SSE-S3).
    pub fn master_versions(&self) -> Vec<u32> {
        self.runs
            .iter()
            .filter_map(|run| envelope::master_version(&run.wrapped_key).ok().flatten())
            .collect()
    }

    /// Re-wraps every run wrapped by an older master key version with the current one;
    /// whether anything changed. Customer-keyed records never change (no key here).
    pub fn rewrap(&mut self, keys: &MasterKeys) -> Result<bool, SseError> {
        let mut changed = false;
        for run in &mut self.runs {
            if let Some(rewrapped) = envelope::rewrap(keys, &run.wrapped_key)? {
                run.wrapped_key = rewrapped;
                changed = true;
            }
        }
        Ok(changed)
    }

    /// Whether the runs cover exactly `extents` (`size_bytes` in all), each run ending on an
    /// extent boundary with one tag per check block, and a GCM run's extents but its last
    /// holding whole check blocks.
    pub(crate) fn covers(&self, extents: &[Extent]) -> bool {
        let mut remaining = extents.iter();
        for run in &self.runs {
            let mut run_bytes = 0u64;
            let mut run_blocks = 0usize;
            while run_bytes < run.length_bytes {
                let Some(extent) = remaining.next() else {
                    return false;
                };
                if run.scheme == BlockScheme::Gcm && !run_bytes.is_multiple_of(CHECK_BLOCK_BYTES) {
                    return false;
                }
                run_bytes += extent.length_bytes;
                run_blocks += extent.check_block_count();
            }
            if run_bytes != run.length_bytes || run_blocks != run.tags.len() {
                return false;
            }
        }
        remaining.next().is_none()
    }
}

/// A fresh data key and IV for a new run, the key wrapped by `key`.
pub fn new_run_cipher(key: &KeySource<'_>) -> (ObjectCipher, Vec<u8>) {
    let data_key = DataKey::random();
    let wrapped = match key {
        KeySource::Master(keys) => envelope::wrap_with_master(keys, &data_key),
        KeySource::Customer(customer) => envelope::wrap_with_customer(customer.bytes(), &data_key),
    };
    (ObjectCipher::for_new_run(data_key), wrapped)
}

/// The mode to record for writes under `key`; SSE-C gets a fresh salted fingerprint.
pub fn mode_for(key: &KeySource<'_>) -> EncryptionMode {
    match key {
        KeySource::Master(_) => EncryptionMode::Master,
        KeySource::Customer(customer) => EncryptionMode::Customer {
            key_md5_base64: customer.md5_base64(),
            fingerprint: customer.fingerprint(),
        },
    }
}

pub fn encode_encryption(encryption: Option<&StoredEncryption>) -> Vec<u8> {
    let Some(encryption) = encryption else {
        return Vec::new();
    };
    let mut out = vec![FORMAT_VERSION];
    match &encryption.mode {
        EncryptionMode::Master => out.push(MODE_MASTER),
        EncryptionMode::Customer {
            key_md5_base64,
            fingerprint,
        } => {
            out.push(MODE_CUSTOMER);
            put_bytes(&mut out, key_md5_base64.as_bytes());
            put_bytes(&mut out, fingerprint);
        }
    }
    put_u32(&mut out, len_u32(encryption.runs.len()));
    for run in &encryption.runs {
        out.push(run.scheme.code());
        put_u64(&mut out, run.length_bytes);
        put_bytes(&mut out, &run.wrapped_key);
        out.extend_from_slice(&run.iv);
        put_u32(&mut out, len_u32(run.tags.len()));
        for tag in &run.tags {
            out.extend_from_slice(tag);
        }
    }
    out
}

pub fn decode_encryption(bytes: &[u8]) -> Result<Option<StoredEncryption>, DecodeError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let mut reader = Reader::new(bytes);
    let version = reader.u8()?;
    if version != FORMAT_VERSION && version != FORMAT_VERSION_1 {
        return Err(DecodeError("encryption: unknown format version"));
    }
    let mode = match reader.u8()? {
        MODE_MASTER => EncryptionMode::Master,
        MODE_CUSTOMER => {
            let key_md5_base64 = reader.string()?;
            let length = reader.u32()? as usize;
            let fingerprint = reader.take(length)?.to_vec();
            EncryptionMode::Customer {
                key_md5_base64,
                fingerprint,
            }
        }
        _ => return Err(DecodeError("encryption: unknown mode")),
    };
    let count = reader.u32()? as usize;
    if count > bytes.len() / 32 {
        return Err(DecodeError("encryption: run count exceeds record"));
    }
    let mut runs = Vec::with_capacity(count);
    for _ in 0..count {
        let scheme = if version == FORMAT_VERSION_1 {
            BlockScheme::CtrBlake3
        } else {
            BlockScheme::from_code(reader.u8()?)
                .ok_or(DecodeError("encryption: unknown block scheme"))?
        };
        let length_bytes = reader.u64()?;
        let wrapped_length = reader.u32()? as usize;
        let wrapped_key = reader.take(wrapped_length)?.to_vec();
        let mut iv = [0u8; IV_BYTES];
        iv.copy_from_slice(reader.take(IV_BYTES)?);
        let tag_count = reader.u32()? as usize;
        if tag_count > bytes.len() / TAG_BYTES {
            return Err(DecodeError("encryption: tag count exceeds record"));
        }
        let tags = reader
            .take(tag_count * TAG_BYTES)?
            .chunks_exact(TAG_BYTES)
            .map(|chunk| {
                let mut tag = [0u8; TAG_BYTES];
                tag.copy_from_slice(chunk);
                tag
            })
            .collect();
        runs.push(EncryptedRun {
            scheme,
            length_bytes,
            wrapped_key,
            iv,
            tags,
        });
    }
    reader.finish()?;
    Ok(Some(StoredEncryption { mode, runs }))
}

/// The write side: seals each check block of the run in place before it goes to disk.
pub(crate) struct WriteEncryption {
    cipher: ObjectCipher,
    tags: Vec<Tag>,
}

impl WriteEncryption {
    pub(crate) fn new(cipher: ObjectCipher) -> Self {
        WriteEncryption {
            cipher,
            tags: Vec::new(),
        }
    }

    /// Seals `bytes`, the run's next plaintext, in place, block by block. They start on a
    /// check block boundary of the run, and hold whole check blocks unless they are the run's
    /// `last` bytes.
    pub(crate) fn seal(&mut self, bytes: &mut [u8], last: bool) -> Result<(), ShardError> {
        let block_bytes = usize::try_from(CHECK_BLOCK_BYTES).unwrap_or(usize::MAX);
        if !last && !bytes.len().is_multiple_of(block_bytes) {
            return Err(ShardError::CorruptRecord(
                "an encrypted write flushed part of a check block",
            ));
        }
        for block in bytes.chunks_mut(block_bytes) {
            let index = self.tags.len() as u64;
            let tag = self
                .cipher
                .seal_block(index, block)
                .map_err(|_| ShardError::CorruptRecord("sealing a block failed"))?;
            self.tags.push(tag);
        }
        Ok(())
    }

    pub(crate) fn take_tags(&mut self) -> Vec<Tag> {
        std::mem::take(&mut self.tags)
    }
}

/// Where an extent sits in the runs of an object.
#[derive(Clone, Copy, Debug)]
struct ExtentPlace {
    run: usize,
    /// Offset of the extent's first byte in its run (the keystream offset).
    offset_in_run_bytes: u64,
    /// Index in the run of the extent's first check block (its tag index).
    first_block_in_run: u64,
}

/// The read side: verifies tags and decrypts, for one object's extents.
pub struct ReadDecryption {
    ciphers: Vec<ObjectCipher>,
    tags: Vec<Vec<Tag>>,
    places: Vec<ExtentPlace>,
}

impl ReadDecryption {
    /// For a record's `encryption` over its `extents`, with the ciphers from
    /// `StoredEncryption::ciphers`.
    pub fn new(
        encryption: &StoredEncryption,
        ciphers: Vec<ObjectCipher>,
        extents: &[Extent],
    ) -> Result<ReadDecryption, ShardError> {
        if !encryption.covers(extents) || ciphers.len() != encryption.runs.len() {
            return Err(ShardError::CorruptRecord(
                "encryption runs do not match the extents",
            ));
        }
        let mut places = Vec::with_capacity(extents.len());
        let mut run = 0usize;
        let mut offset_in_run_bytes = 0u64;
        let mut first_block_in_run = 0u64;
        for extent in extents {
            // `covers` checked that a run holds this extent; skip the finished (and empty) ones.
            while encryption
                .runs
                .get(run)
                .is_some_and(|current| offset_in_run_bytes == current.length_bytes)
            {
                run += 1;
                offset_in_run_bytes = 0;
                first_block_in_run = 0;
            }
            places.push(ExtentPlace {
                run,
                offset_in_run_bytes,
                first_block_in_run,
            });
            offset_in_run_bytes += extent.length_bytes;
            first_block_in_run += extent.check_block_count() as u64;
        }
        Ok(ReadDecryption {
            ciphers,
            tags: encryption.runs.iter().map(|run| run.tags.clone()).collect(),
            places,
        })
    }

    /// Checks the tag of check block `block_in_extent` of extent `extent_index` and only then
    /// decrypts the block in place; whether it was authentic (if not, its bytes are garbage).
    pub(crate) fn open(&self, extent_index: usize, block_in_extent: u64, block: &mut [u8]) -> bool {
        let Some(place) = self.places.get(extent_index) else {
            return false;
        };
        let index = place.first_block_in_run + block_in_extent;
        let expected = usize::try_from(index)
            .ok()
            .and_then(|index| self.tags[place.run].get(index));
        let offset_in_run = place.offset_in_run_bytes + block_in_extent * CHECK_BLOCK_BYTES;
        expected.is_some_and(|tag| {
            self.ciphers[place.run]
                .open_block(index, offset_in_run, block, tag)
                .is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(length_bytes: u64, tags: usize) -> EncryptedRun {
        EncryptedRun {
            scheme: BlockScheme::Gcm,
            length_bytes,
            wrapped_key: vec![7; 98],
            iv: [3; IV_BYTES],
            tags: vec![[9; TAG_BYTES]; tags],
        }
    }

    #[test]
    fn records_round_trip() {
        for mode in [
            EncryptionMode::Master,
            EncryptionMode::Customer {
                key_md5_base64: "abc==".to_owned(),
                fingerprint: vec![1; 48],
            },
        ] {
            let encryption = StoredEncryption {
                mode,
                runs: vec![run(100, 1), run(70_000, 2)],
            };
            let bytes = encode_encryption(Some(&encryption));
            assert_eq!(decode_encryption(&bytes), Ok(Some(encryption)));
        }
        assert_eq!(decode_encryption(&encode_encryption(None)), Ok(None));
    }

    #[test]
    fn corrupt_records_are_errors_not_panics() {
        let encryption = StoredEncryption {
            mode: EncryptionMode::Master,
            runs: vec![run(100, 1)],
        };
        let bytes = encode_encryption(Some(&encryption));
        for cut in 1..bytes.len() {
            assert!(decode_encryption(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut huge = bytes.clone();
        huge[2..6].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_encryption(&huge).is_err());
        let mut unknown_scheme = bytes.clone();
        unknown_scheme[6] = 9;
        assert!(decode_encryption(&unknown_scheme).is_err());
    }

    #[test]
    fn version_1_records_still_decode_as_ctr_blake3_runs() {
        // A version-1 record as the previous release wrote it: one master-key run of 100
        // bytes, a 3-byte wrapped key, IV 0x03.., one tag 0x09...
        let mut bytes = vec![1u8, 1];
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&100u64.to_le_bytes());
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(&[7, 7, 7]);
        bytes.extend_from_slice(&[3; IV_BYTES]);
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&[9; TAG_BYTES]);
        let decoded = decode_encryption(&bytes).unwrap().unwrap();
        assert_eq!(
            decoded,
            StoredEncryption {
                mode: EncryptionMode::Master,
                runs: vec![EncryptedRun {
                    scheme: BlockScheme::CtrBlake3,
                    length_bytes: 100,
                    wrapped_key: vec![7; 3],
                    iv: [3; IV_BYTES],
                    tags: vec![[9; TAG_BYTES]],
                }],
            }
        );
        // Re-encoded (a key rotation rewrites the record) it becomes version 2, same runs.
        let reencoded = encode_encryption(Some(&decoded));
        assert_eq!(reencoded[0], FORMAT_VERSION);
        assert_eq!(decode_encryption(&reencoded), Ok(Some(decoded)));
    }

    #[test]
    fn runs_must_end_on_extent_boundaries_with_a_tag_per_block() {
        let extent = |length_bytes| Extent {
            segment_id: 1,
            offset_bytes: 0,
            length_bytes,
        };
        // Ragged extents, as format 1 allowed: the per-run checks alone.
        let extents = [extent(70_000), extent(10)];
        let run = |length_bytes, tags| EncryptedRun {
            scheme: BlockScheme::CtrBlake3,
            ..run(length_bytes, tags)
        };
        let good = StoredEncryption {
            mode: EncryptionMode::Master,
            runs: vec![run(70_000, 2), run(10, 1)],
        };
        assert!(good.covers(&extents));
        let one_run = StoredEncryption {
            mode: EncryptionMode::Master,
            runs: vec![run(70_010, 3)],
        };
        assert!(one_run.covers(&extents));
        let missing_tag = StoredEncryption {
            mode: EncryptionMode::Master,
            runs: vec![run(70_010, 2)],
        };
        assert!(!missing_tag.covers(&extents));
        let mid_extent = StoredEncryption {
            mode: EncryptionMode::Master,
            runs: vec![run(100, 1), run(69_910, 2)],
        };
        assert!(!mid_extent.covers(&extents));
    }

    #[test]
    fn gcm_runs_need_whole_check_blocks_in_every_extent_but_the_last() {
        let extent = |length_bytes| Extent {
            segment_id: 1,
            offset_bytes: 0,
            length_bytes,
        };
        // 70,000 bytes then 10: the second extent's block would start mid-block of the run.
        let ragged = [extent(70_000), extent(10)];
        let aligned = [extent(131_072), extent(10)];
        let gcm = |length_bytes, tags| StoredEncryption {
            mode: EncryptionMode::Master,
            runs: vec![run(length_bytes, tags)],
        };
        assert!(!gcm(70_010, 3).covers(&ragged));
        assert!(gcm(131_082, 3).covers(&aligned));
        let mut format_1 = gcm(70_010, 3);
        format_1.runs[0].scheme = BlockScheme::CtrBlake3;
        assert!(format_1.covers(&ragged));
    }
}

//! Encrypted objects on a real partition: the single-pass write, reads at any offset, no
//! plaintext on disk, tampering detected, multipart runs, and master key rotation.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)] // test helpers: fail loudly

use shard::Versioning;
use std::rc::Rc;

use shard::encryption::{
    EncryptedRun, EncryptionMode, KeySource, ReadDecryption, StoredEncryption, mode_for,
    new_run_cipher,
};
use shard::meta::{CompleteUpload, MetaOp, PartRecord, WriteCondition};
use shard::{ObjectReader, Partition, ShardError, UploadRecord, WrittenData};
use sse::customer::CustomerKey;
use sse::master::MasterKeys;

mod common;

use common::{commit_written, drain, run};

/// Incompressible-looking bytes with no long repeats, so a window of them is a fingerprint.
fn body(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// How the body reaches the writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Feed {
    /// `write` in uneven pieces, so buffers and check blocks straddle writes.
    Pieces,
    /// Appended to the lent buffer (`lend_buffer`), as a Content-Length PUT does.
    LentBuffer,
}

/// Writes `data` encrypted under `key`; the record's encryption (one run) and what was written.
async fn write_encrypted(
    partition: &Rc<Partition>,
    key: &KeySource<'_>,
    mode: EncryptionMode,
    data: &[u8],
) -> (StoredEncryption, WrittenData) {
    write_encrypted_by(partition, key, mode, data, Feed::Pieces).await
}

async fn write_encrypted_by(
    partition: &Rc<Partition>,
    key: &KeySource<'_>,
    mode: EncryptionMode,
    data: &[u8],
    feed: Feed,
) -> (StoredEncryption, WrittenData) {
    let mut writer = partition.writer(Some(data.len() as u64));
    let (cipher, wrapped_key) = new_run_cipher(key);
    writer.encrypt_with(cipher.clone());
    match feed {
        Feed::Pieces => {
            for piece in data.chunks(300_007) {
                writer.write(piece).await.unwrap();
            }
        }
        Feed::LentBuffer => {
            let mut rest = data;
            while !rest.is_empty() {
                let mut buf = writer.lend_buffer().unwrap();
                let taken = buf.extend_from_slice(&rest[..rest.len().min(100_003)]);
                rest = &rest[taken..];
                writer.return_buffer(buf).await.unwrap();
            }
        }
    }
    let written = writer.finish().await.unwrap();
    let encryption = StoredEncryption {
        mode,
        runs: vec![EncryptedRun::written(&cipher, wrapped_key, &written)],
    };
    (encryption, written)
}

async fn put_encrypted(partition: &Rc<Partition>, keys: &MasterKeys, key: &str, data: &[u8]) {
    let source = KeySource::Master(keys);
    let (encryption, written) =
        write_encrypted(partition, &source, EncryptionMode::Master, data).await;
    commit_written(partition, "b", key, written, Some(encryption)).await;
}

/// Reads `range` of `key`, decrypting with `source` when given.
async fn read(
    partition: &Rc<Partition>,
    key: &str,
    range: std::ops::Range<u64>,
    source: Option<&KeySource<'_>>,
) -> Result<Vec<u8>, ShardError> {
    let (record, pin) = partition.lookup_pinned("b", key).unwrap().unwrap();
    let mut reader = ObjectReader::new(partition, &record, pin, range);
    if let Some(source) = source {
        let encryption = record.encryption.as_ref().unwrap();
        let ciphers = encryption
            .ciphers(source)
            .map_err(|_| ShardError::ShuttingDown)?;
        reader = reader.decrypting(ReadDecryption::new(encryption, ciphers, &record.extents)?);
    }
    drain(reader).await
}

/// Every byte of every segment file of the partition (the test inspects the disk directly).
#[allow(clippy::disallowed_methods)]
fn segment_bytes(partition: &Partition) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(partition.dir().join("segments")).unwrap() {
        all.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[test]
fn encrypted_objects_read_back_at_any_range_and_leave_no_plaintext_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let keys = MasterKeys::generate();
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        let source = KeySource::Master(&keys);
        for (index, size) in [0usize, 1, 4097, 65_536, 300_001, (2 << 20) + 3]
            .into_iter()
            .enumerate()
        {
            let data = body(size, index as u64 + 1);
            let key = format!("k{index}");
            put_encrypted(&partition, &keys, &key, &data).await;
            let whole = read(&partition, &key, 0..size as u64, Some(&source)).await;
            assert_eq!(whole.unwrap(), data, "size {size}");
            for (start, end) in [(0, 1), (1, 17), (65_535, 65_537), (131_000, 300_001)] {
                let (start, end) = (start.min(size), end.min(size));
                let piece = read(&partition, &key, start as u64..end as u64, Some(&source));
                assert_eq!(piece.await.unwrap(), &data[start..end], "{start}..{end}");
            }
            // Without the keys the reader returns the CRC-checked ciphertext (the scrubber).
            if size > 64 {
                let raw = read(&partition, &key, 0..size as u64, None).await.unwrap();
                assert_ne!(raw, data);
            }
        }
        let disk = segment_bytes(&partition);
        for (index, size) in [(4, 300_001usize), (5, (2 << 20) + 3)] {
            let data = body(size, index + 1);
            for offset in [0, size / 2, size - 64] {
                assert!(
                    !contains(&disk, &data[offset..offset + 64]),
                    "plaintext at {offset}"
                );
            }
        }
    });
}

#[test]
fn a_flipped_ciphertext_byte_fails_the_tag_and_the_crc() {
    use std::os::unix::fs::FileExt;
    let dir = tempfile::tempdir().unwrap();
    let keys = MasterKeys::generate();
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        let data = body(300_000, 7);
        put_encrypted(&partition, &keys, "k", &data).await;
        let extent = partition.object("b", "k").unwrap().unwrap().extents[0];
        let path = partition
            .dir()
            .join("segments")
            .join(format!("{:08}.seg", extent.segment_id));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        let mut byte = [0u8];
        file.read_exact_at(&mut byte, extent.offset_bytes + 150_000)
            .unwrap();
        byte[0] ^= 1;
        file.write_all_at(&byte, extent.offset_bytes + 150_000)
            .unwrap();
        file.sync_all().unwrap();
        let source = KeySource::Master(&keys);
        let error = read(&partition, "k", 0..300_000, Some(&source)).await;
        assert!(
            matches!(error, Err(ShardError::DataCorrupt { .. })),
            "{error:?}"
        );
        let in_block = read(&partition, "k", 149_000..149_001, Some(&source)).await;
        assert!(matches!(in_block, Err(ShardError::DataCorrupt { .. })));
        let before = read(&partition, "k", 0..131_072, Some(&source)).await;
        assert_eq!(before.unwrap(), &data[..131_072]);
        // The scrubber's view (no keys) sees it through the ciphertext's CRC.
        let scrub = read(&partition, "k", 0..300_000, None).await;
        assert!(matches!(scrub, Err(ShardError::DataCorrupt { .. })));
    });
}

/// Segments of 300 KiB: every object over ~4 check blocks splits at a segment end, which
/// must fall on a check block boundary of the object for GCM sealing (the writer leaves a
/// segment's last partial check block unused). Written through both writer entries: `write`
/// in uneven pieces, and the lent buffer (the PUT path).
#[test]
fn encrypted_writes_across_segment_ends_keep_whole_check_blocks_in_each_extent() {
    let dir = tempfile::tempdir().unwrap();
    let keys = MasterKeys::generate();
    run(async {
        let options = shard::PartitionOptions {
            segment_size_bytes: Some(300 << 10),
            ..shard::PartitionOptions::default()
        };
        let (partition, _) = Partition::open_with(dir.path(), 0, options).unwrap();
        let source = KeySource::Master(&keys);
        for (index, size) in [200_000usize, 700_001, (2 << 20) + 3]
            .into_iter()
            .enumerate()
        {
            for feed in [Feed::Pieces, Feed::LentBuffer] {
                let data = body(size, index as u64 + 40);
                let key = format!("k{index}-{feed:?}");
                let (encryption, written) =
                    write_encrypted_by(&partition, &source, EncryptionMode::Master, &data, feed)
                        .await;
                let extents = written.extents.clone();
                commit_written(&partition, "b", &key, written, Some(encryption)).await;
                if size > 300 << 10 {
                    assert!(extents.len() > 1, "{key}: {extents:?}");
                }
                for extent in &extents[..extents.len() - 1] {
                    assert_eq!(extent.length_bytes % (64 << 10), 0, "{key}: {extents:?}");
                }
                let whole = read(&partition, &key, 0..size as u64, Some(&source)).await;
                assert_eq!(whole.unwrap(), data, "{key}");
                // Ranges across each extent boundary.
                let mut boundary = 0usize;
                for extent in &extents[..extents.len() - 1] {
                    boundary += extent.length_bytes as usize;
                    let range = boundary - 5..(boundary + 70_000).min(size);
                    let piece = read(
                        &partition,
                        &key,
                        range.start as u64..range.end as u64,
                        Some(&source),
                    )
                    .await;
                    assert_eq!(piece.unwrap(), &data[range], "{key} at {boundary}");
                }
            }
        }
    });
}

/// A writer refuses bytes past its declared size: that flush would be sealed as the last
/// (partial block) and then followed by more.
#[test]
fn a_writer_refuses_more_than_its_declared_size() {
    let dir = tempfile::tempdir().unwrap();
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        let mut writer = partition.writer(Some(5000));
        writer.write(&[1; 5000]).await.unwrap();
        let error = writer.write(&[1; 10]).await;
        assert!(matches!(error, Err(ShardError::Io { .. })), "{error:?}");
    });
}

/// Objects written before GCM (format 1: AES-256-CTR by byte offset and a keyed BLAKE3 tag
/// per check block) still read: their ciphertext is written here as those writers did.
#[test]
fn format_1_objects_still_read() {
    use sse::cipher::{BlockScheme, ObjectCipher};
    use sse::envelope::{DataKey, wrap_with_master};
    let dir = tempfile::tempdir().unwrap();
    let keys = MasterKeys::generate();
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        let data = body(300_001, 77);
        let data_key = DataKey::random();
        let wrapped_key = wrap_with_master(&keys, &data_key);
        let cipher = ObjectCipher::new(data_key, [5; 16], BlockScheme::CtrBlake3);
        let mut ciphertext = data.clone();
        cipher.apply_at(0, &mut ciphertext);
        let mut writer = partition.writer(Some(data.len() as u64));
        writer.write(&ciphertext).await.unwrap();
        let written = writer.finish().await.unwrap();
        let mut tags = Vec::new();
        let mut extent_start = 0usize;
        for extent in &written.extents {
            let bytes = &ciphertext[extent_start..][..extent.length_bytes as usize];
            for block in bytes.chunks(64 << 10) {
                tags.push(cipher.block_tag(tags.len() as u64, block));
            }
            extent_start += bytes.len();
        }
        let encryption = StoredEncryption {
            mode: EncryptionMode::Master,
            runs: vec![EncryptedRun {
                scheme: BlockScheme::CtrBlake3,
                length_bytes: written.size_bytes,
                wrapped_key,
                iv: [5; 16],
                tags,
            }],
        };
        commit_written(&partition, "b", "old", written, Some(encryption)).await;
        let source = KeySource::Master(&keys);
        for (start, end) in [(0, 300_001), (1, 17), (65_535, 65_537), (131_000, 300_001)] {
            let piece = read(&partition, "old", start as u64..end as u64, Some(&source));
            assert_eq!(piece.await.unwrap(), &data[start..end], "{start}..{end}");
        }
    });
}

/// An SSE-C multipart upload: one run per part, each with its own data key, read across the
/// part boundary; a wrong customer key unwraps nothing.
#[test]
fn multipart_objects_keep_one_run_per_part() {
    let dir = tempfile::tempdir().unwrap();
    let key = [7u8; 32];
    let customer = CustomerKey::from_headers(&base64_encode(&key), &md5_b64(&key)).unwrap();
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        let source = KeySource::Customer(&customer);
        let mode = mode_for(&source);
        let upload = UploadRecord {
            upload_id: "u1".into(),
            bucket: "b".into(),
            key: "big".into(),
            encryption: Some(mode.clone()),
            ..Default::default()
        };
        partition
            .commit(MetaOp::CreateUpload { upload }, vec![])
            .await
            .unwrap();
        let parts = [body(5 << 20, 1), body(70_001, 2)];
        let mut listed = Vec::new();
        for (index, part) in parts.iter().enumerate() {
            let (encryption, written) =
                write_encrypted(&partition, &source, mode.clone(), part).await;
            let etag = format!("{:032x}", index + 1);
            let record = PartRecord {
                part_number: index as u32 + 1,
                size_bytes: written.size_bytes,
                etag: etag.clone(),
                last_modified_ms: 1,
                block_checksums: written.block_checksums,
                extents: written.extents,
                checksum: None,
                encryption: Some(encryption),
            };
            let op = MetaOp::PutPart {
                upload_id: "u1".into(),
                part: record,
            };
            partition
                .commit_and_release(op, written.dirty_segments)
                .await
                .unwrap();
            listed.push((index as u32 + 1, etag));
        }
        let complete = CompleteUpload {
            bucket: "b".into(),
            key: "big".into(),
            upload_id: "u1".into(),
            parts: listed,
            last_modified_ms: 2,
            condition: WriteCondition::default(),
            checksum: None,
            versioning: Versioning::Unversioned,
            retention: None,
            legal_hold: false,
        };
        let outcome = partition
            .commit(MetaOp::CompleteUpload(complete), vec![])
            .await
            .unwrap();
        let completed = outcome.completed.unwrap();
        assert_eq!(completed.encryption.as_ref().unwrap().runs.len(), 2);
        let (record, _) = partition.lookup_pinned("b", "big").unwrap().unwrap();
        assert_eq!(record.encryption, completed.encryption);
        let expected = parts.concat();
        let boundary = (5 << 20) - 100..(5 << 20) + 100;
        let (start, end) = (boundary.start as u64, boundary.end as u64);
        let piece = read(&partition, "big", start..end, Some(&source)).await;
        assert_eq!(piece.unwrap(), &expected[boundary]);
        let whole = read(&partition, "big", 0..expected.len() as u64, Some(&source)).await;
        assert_eq!(whole.unwrap(), expected);
        let other_key = [9u8; 32];
        let other = CustomerKey::from_headers(&base64_encode(&other_key), &md5_b64(&other_key));
        let other = other.unwrap();
        let wrong = record.encryption.as_ref().unwrap();
        assert!(wrong.ciphers(&KeySource::Customer(&other)).is_err());
    });
}

#[test]
fn rotation_rewraps_every_data_key_and_old_keyrings_cannot_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut keys = MasterKeys::generate();
    let before = MasterKeys::decode(&keys.encode()).unwrap();
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        let objects: Vec<Vec<u8>> = (0..7)
            .map(|index| body(10_000 + index, index as u64))
            .collect();
        for (index, data) in objects.iter().enumerate() {
            put_encrypted(&partition, &keys, &format!("k{index}"), data).await;
        }
        let counts = partition.data_keys_by_kek_version().unwrap();
        assert_eq!(counts.into_iter().collect::<Vec<_>>(), vec![(1, 7)]);
        let version = keys.rotate();
        let mut rewrapped = 0;
        let mut calls = 0;
        loop {
            let progress = partition.rewrap_data_keys(&keys, 3).await.unwrap();
            rewrapped += progress.rewrapped;
            calls += 1;
            if progress.pass_done {
                break;
            }
            assert!(calls < 10, "a pass of 7 rows in batches of 3 must end");
        }
        assert_eq!(rewrapped, 7);
        let counts = partition.data_keys_by_kek_version().unwrap();
        assert_eq!(counts.into_iter().collect::<Vec<_>>(), vec![(version, 7)]);
        // A second pass finds nothing to do.
        let again = partition.rewrap_data_keys(&keys, 100).await.unwrap();
        assert_eq!((again.rewrapped, again.pass_done), (0, true));
        for (index, data) in objects.iter().enumerate() {
            let key = format!("k{index}");
            let size = data.len() as u64;
            let fresh = read(&partition, &key, 0..size, Some(&KeySource::Master(&keys))).await;
            assert_eq!(&fresh.unwrap(), data);
            let stale = read(&partition, &key, 0..size, Some(&KeySource::Master(&before))).await;
            assert!(stale.is_err(), "the old keyring has no version {version}");
        }
        // The finished re-wrap is recorded durably, so a restart need not read the rows again.
        assert_eq!(partition.rewrapped_kek_version().unwrap(), None);
        partition.mark_rewrapped(version).await.unwrap();
        assert_eq!(partition.rewrapped_kek_version().unwrap(), Some(version));
        drop(partition);
        let (reopened, _) = Partition::open(dir.path(), 0).unwrap();
        assert_eq!(reopened.rewrapped_kek_version().unwrap(), Some(version));
    });
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn md5_b64(bytes: &[u8]) -> String {
    use md5::Digest as _;
    base64_encode(&md5::Md5::digest(bytes))
}

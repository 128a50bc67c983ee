//! Partition round trips on a real temp dir with the real io_uring (or epoll) runtime.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)] // test helpers: fail loudly

use shard::Versioning;
use shard::meta::ObjectDelete;
use std::rc::Rc;

use shard::meta::{CompleteUpload, MetaOp, PartRecord, WriteCondition};
use shard::{ListStart, ObjectReader, Partition, UploadRecord};

mod common;

use common::{commit_written, drain, put_plain, run};

async fn put(partition: &Rc<Partition>, bucket: &str, key: &str, body: &[u8]) {
    put_plain(partition, bucket, key, body, 300_000).await;
}

async fn read(
    partition: &Rc<Partition>,
    bucket: &str,
    key: &str,
    range: std::ops::Range<u64>,
) -> Vec<u8> {
    let (record, pin) = partition.lookup_pinned(bucket, key).unwrap().unwrap();
    drain(ObjectReader::new(partition, &record, pin, range))
        .await
        .unwrap()
}

fn body(size: usize, seed: u8) -> Vec<u8> {
    (0..size)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn objects_round_trip_across_sizes_ranges_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let sizes = [
        0usize,
        1,
        4095,
        4096,
        4097,
        1 << 20,
        (1 << 20) + 1,
        3_000_000,
    ];
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        for (index, size) in sizes.iter().enumerate() {
            put(
                &partition,
                "b",
                &format!("k{index}"),
                &body(*size, index as u8),
            )
            .await;
        }
        for (index, size) in sizes.iter().enumerate() {
            let expected = body(*size, index as u8);
            let key = format!("k{index}");
            assert_eq!(read(&partition, "b", &key, 0..*size as u64).await, expected);
            if *size > 10 {
                let (a, b) = (*size as u64 / 3, *size as u64 - 3);
                assert_eq!(
                    read(&partition, "b", &key, a..b).await,
                    &expected[a as usize..b as usize]
                );
            }
        }
        // Overwrite and list.
        put(&partition, "b", "k1", b"new").await;
        assert_eq!(read(&partition, "b", "k1", 0..3).await, b"new");
        let listed = partition
            .list("b", &ListStart::After(vec![]), b"k", 100, false)
            .unwrap();
        assert_eq!(listed.len(), sizes.len());
        let after = partition
            .list("b", &ListStart::After(b"k3".to_vec()), b"", 100, false)
            .unwrap();
        assert_eq!(after.first().unwrap().key, b"k4");
    });
    run(async {
        let (partition, report) = Partition::open(dir.path(), 0).unwrap();
        assert_eq!(report.object_count, sizes.len() as u64);
        assert_eq!(read(&partition, "b", "k1", 0..3).await, b"new");
        let size = sizes[7];
        assert_eq!(
            read(&partition, "b", "k7", 0..size as u64).await,
            body(size, 7)
        );
    });
}

#[test]
fn multipart_completion_concatenates_parts_without_copying() {
    let dir = tempfile::tempdir().unwrap();
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        let upload = UploadRecord {
            upload_id: "u1".into(),
            bucket: "b".into(),
            key: "big".into(),
            initiated_ms: 1,
            headers: vec![],
            ..Default::default()
        };
        partition
            .commit(MetaOp::CreateUpload { upload }, vec![])
            .await
            .unwrap();
        let parts = [body(5 << 20, 1), body(5 << 20, 2), body(12345, 3)];
        let mut listed = Vec::new();
        for (index, part) in parts.iter().enumerate() {
            let mut writer = partition.writer(Some(part.len() as u64));
            writer.write(part).await.unwrap();
            let written = writer.finish().await.unwrap();
            let etag = format!("{:032x}", index + 1);
            let record = PartRecord {
                part_number: index as u32 + 1,
                size_bytes: written.size_bytes,
                etag: etag.clone(),
                last_modified_ms: 1,
                block_checksums: written.block_checksums,
                extents: written.extents,
                checksum: None,
                encryption: None,
            };
            partition
                .commit_and_release(
                    MetaOp::PutPart {
                        upload_id: "u1".into(),
                        part: record,
                    },
                    written.dirty_segments,
                )
                .await
                .unwrap();
            listed.push((index as u32 + 1, etag));
        }
        let bad_order = CompleteUpload {
            bucket: "b".into(),
            key: "big".into(),
            upload_id: "u1".into(),
            parts: vec![listed[1].clone(), listed[0].clone()],
            last_modified_ms: 2,
            condition: WriteCondition::default(),
            checksum: None,
            versioning: Versioning::Unversioned,
            retention: None,
            legal_hold: false,
        };
        let error = partition
            .commit(MetaOp::CompleteUpload(bad_order), vec![])
            .await
            .unwrap_err();
        assert_eq!(error, shard::ShardError::InvalidPartOrder);
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
        let record = outcome.completed.unwrap();
        assert!(record.etag.ends_with("-3"));
        let expected: Vec<u8> = parts.concat();
        assert_eq!(
            read(&partition, "b", "big", 0..expected.len() as u64).await,
            expected
        );
        let middle = (5 << 20) - 10..(5 << 20) + 10;
        assert_eq!(
            read(
                &partition,
                "b",
                "big",
                middle.start as u64..middle.end as u64
            )
            .await,
            &expected[middle]
        );
        assert!(partition.upload("u1").unwrap().is_none());
    });
}

#[test]
fn dropped_writer_leaves_nothing_visible() {
    let dir = tempfile::tempdir().unwrap();
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        let mut writer = partition.writer(Some(10 << 20));
        writer.write(&body(3 << 20, 9)).await.unwrap();
        drop(writer);
        assert!(partition.object("b", "x").unwrap().is_none());
        put(&partition, "b", "x", b"after").await;
        assert_eq!(read(&partition, "b", "x", 0..5).await, b"after");
    });
}

/// Bytes appended in place to the lent IO buffer (how the front end reads a PUT body from the
/// socket), mixed with plain writes, store exactly the same object as `write` alone: sizes,
/// buffer flushes at the 1 MiB boundary and the check-block checksums all come out right.
#[test]
fn bytes_appended_to_the_lent_buffer_are_stored_like_written_ones() {
    let dir = tempfile::tempdir().unwrap();
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        let expected = body((3 << 20) + 12_345, 11);
        let mut writer = partition.writer(Some(expected.len() as u64));
        let mut written = 0;
        let mut step = 0;
        while written < expected.len() {
            step += 1;
            let count = (step * 77_777).min(expected.len() - written);
            if step % 3 == 0 {
                writer
                    .write(&expected[written..written + count])
                    .await
                    .unwrap();
                written += count;
                continue;
            }
            let mut buf = writer.lend_buffer().unwrap();
            let taken = buf.extend_from_slice(&expected[written..written + count]);
            assert!(taken > 0, "a lent buffer always has room");
            written += taken;
            writer.return_buffer(buf).await.unwrap();
        }
        assert_eq!(writer.size_bytes(), expected.len() as u64);
        let data = writer.finish().await.unwrap();
        commit_written(&partition, "b", "lent", data, None).await;
        let length = expected.len() as u64;
        assert_eq!(read(&partition, "b", "lent", 0..length).await, expected);
    });
}

/// Small objects' records are cached on the shard: every kind of change through `commit` is
/// seen by the next read, as if there were no cache.
#[test]
fn cached_records_follow_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        put(&partition, "b", "k", b"first").await;
        for _ in 0..2 {
            assert_eq!(read(&partition, "b", "k", 0..5).await, b"first");
        }
        put(&partition, "b", "k", b"second!").await;
        assert_eq!(read(&partition, "b", "k", 0..7).await, b"second!");
        let tags = vec![("t".to_owned(), "v".to_owned())];
        partition
            .commit(
                MetaOp::SetObjectTags {
                    bucket: "b".into(),
                    key: "k".into(),
                    version: None,
                    tags: tags.clone(),
                },
                Vec::new(),
            )
            .await
            .unwrap();
        assert_eq!(partition.object("b", "k").unwrap().unwrap().tags, tags);
        assert_eq!(read(&partition, "b", "k", 0..7).await, b"second!");
        partition
            .commit_and_release(
                MetaOp::DeleteObject(ObjectDelete::latest("b", "k", Versioning::Unversioned, 1)),
                Vec::new(),
            )
            .await
            .unwrap();
        assert!(partition.object("b", "k").unwrap().is_none());
        assert!(partition.lookup_pinned("b", "k").unwrap().is_none());
    });
}

/// Reads a range and returns the first error, if any.
async fn try_read(
    partition: &Rc<Partition>,
    key: &str,
    range: std::ops::Range<u64>,
) -> Result<Vec<u8>, shard::ShardError> {
    let (record, pin) = partition.lookup_pinned("b", key).unwrap().unwrap();
    drain(ObjectReader::new(partition, &record, pin, range)).await
}

#[test]
fn a_flipped_byte_on_disk_is_an_error_never_data() {
    use std::os::unix::fs::FileExt;
    let dir = tempfile::tempdir().unwrap();
    let size = 300_000usize;
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        put(&partition, "b", "k", &body(size, 9)).await;
        let record = partition.object("b", "k").unwrap().unwrap();
        // 300,000 bytes: 5 check blocks of 64 KiB, the last one short.
        assert_eq!(record.block_checksums.len(), 5);
        let extent = record.extents[0];
        // Flip one byte in the third check block (bytes 131072..196608 of the object).
        let victim = 150_000u64;
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
        file.read_exact_at(&mut byte, extent.offset_bytes + victim)
            .unwrap();
        byte[0] ^= 0x40;
        file.write_all_at(&byte, extent.offset_bytes + victim)
            .unwrap();
        file.sync_all().unwrap();

        let error = try_read(&partition, "k", 0..size as u64).await.unwrap_err();
        let expected_block = extent.offset_bytes + 2 * shard::record::CHECK_BLOCK_BYTES;
        assert_eq!(
            error,
            shard::ShardError::DataCorrupt {
                segment_id: extent.segment_id,
                offset_bytes: expected_block,
            }
        );
        // A range inside the bad block fails too; ranges away from it read intact.
        assert!(try_read(&partition, "k", 149_990..150_010).await.is_err());
        let expected = body(size, 9);
        assert_eq!(
            try_read(&partition, "k", 0..131_072).await.unwrap(),
            &expected[..131_072]
        );
        assert_eq!(
            try_read(&partition, "k", 196_608..size as u64)
                .await
                .unwrap(),
            &expected[196_608..]
        );
        assert_eq!(partition.integrity_counters().checksum_errors, 2);
        partition.flush().await;
        let damaged = partition.damaged().unwrap();
        assert_eq!(damaged.len(), 1, "{damaged:?}");
        assert_eq!(damaged[0].offset_bytes, expected_block);
        assert_eq!(damaged[0].length_bytes, shard::record::CHECK_BLOCK_BYTES);
        assert_eq!(
            (damaged[0].bucket.as_str(), &damaged[0].key[..]),
            ("b", &b"k"[..])
        );

        // Overwriting the object frees the damaged block; the record is dropped at next open.
        put(&partition, "b", "k", b"fresh").await;
    });
    run(async {
        let (partition, _) = Partition::open(dir.path(), 0).unwrap();
        assert!(partition.damaged().unwrap().is_empty());
        assert_eq!(try_read(&partition, "k", 0..5).await.unwrap(), b"fresh");
    });
}

//! Helpers shared by the partition tests: a runtime, committing written bytes as an object,
//! draining a reader. Each test binary uses some of them.
#![allow(dead_code, clippy::unwrap_used)]

use shard::Versioning;
use std::rc::Rc;

use shard::aligned::AlignedBuf;
use shard::encryption::StoredEncryption;
use shard::meta::{MetaOp, WriteCondition};
use shard::{ObjectReader, ObjectRecord, Partition, ShardError, WrittenData};

/// Runs `future` on the real monoio runtime (io_uring, or epoll where it is blocked).
pub fn run<F: std::future::Future<Output = ()>>(future: F) {
    let mut runtime = monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
        .enable_timer()
        .build()
        .expect("runtime");
    runtime.block_on(future);
}

/// Commits what a writer wrote as `bucket/key` (ETag "00", no headers).
pub async fn commit_written(
    partition: &Rc<Partition>,
    bucket: &str,
    key: &str,
    written: WrittenData,
    encryption: Option<StoredEncryption>,
) {
    let record = ObjectRecord {
        size_bytes: written.size_bytes,
        etag: "00".into(),
        last_modified_ms: 1,
        block_checksums: written.block_checksums,
        extents: written.extents,
        encryption,
        ..Default::default()
    };
    let op = MetaOp::PutObject {
        bucket: bucket.into(),
        key: key.into(),
        record,
        condition: WriteCondition::default(),
        versioning: Versioning::Unversioned,
    };
    partition
        .commit_and_release(op, written.dirty_segments)
        .await
        .unwrap();
}

/// Writes `body` (in pieces of `piece_bytes`) and commits it as a plaintext object.
pub async fn put_plain(
    partition: &Rc<Partition>,
    bucket: &str,
    key: &str,
    body: &[u8],
    piece_bytes: usize,
) {
    let mut writer = partition.writer(Some(body.len() as u64));
    for piece in body.chunks(piece_bytes.max(1)) {
        writer.write(piece).await.unwrap();
    }
    let written = writer.finish().await.unwrap();
    commit_written(partition, bucket, key, written, None).await;
}

/// Everything `reader` returns, or its first error.
pub async fn drain(mut reader: ObjectReader) -> Result<Vec<u8>, ShardError> {
    let mut buf = AlignedBuf::new(reader.buffer_size_bytes());
    let mut out = Vec::new();
    loop {
        let (result, returned) = reader.next(buf).await;
        buf = returned;
        match result? {
            Some(valid) => out.extend_from_slice(&buf.as_slice()[valid]),
            None => return Ok(out),
        }
    }
}

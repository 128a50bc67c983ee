//! The shard's put and get path on a temp dir, on the real monoio runtime (io_uring, or epoll
//! where io_uring is blocked): write a body into segment extents with O_DIRECT, group-commit it
//! (fdatasync + SQLite), look it up and read it back. Durable writes: what is measured is
//! mostly this disk's fdatasync latency for PUT, and the read path's CPU for GET. Each runs
//! plain (block CRC32Cs) and encrypted (SSE-S3: AES-256-GCM per block in the write's pass, a GCM
//! tag per 64 KiB block verified, and the returned bytes decrypted, on GET).

use shard::Versioning;
use std::rc::Rc;

use bench::random_bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use shard::aligned::AlignedBuf;
use shard::encryption::{
    EncryptedRun, EncryptionMode, KeySource, ReadDecryption, StoredEncryption, new_run_cipher,
};
use shard::meta::{MetaOp, WriteCondition};
use shard::{ObjectReader, ObjectRecord, Partition};
use sse::master::MasterKeys;

type Runtime = monoio::FusionRuntime<
    monoio::time::TimeDriver<monoio::IoUringDriver>,
    monoio::time::TimeDriver<monoio::LegacyDriver>,
>;

fn runtime() -> Runtime {
    monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
        .enable_timer()
        .build()
        .expect("monoio runtime")
}

/// Writes `body` under `key`, encrypted with a fresh data key under `keys` when given.
async fn put(partition: &Rc<Partition>, key: &str, body: &[u8], keys: Option<&MasterKeys>) {
    let mut writer = partition.writer(Some(body.len() as u64));
    let run = keys.map(|keys| {
        let (cipher, wrapped_key) = new_run_cipher(&KeySource::Master(keys));
        writer.encrypt_with(cipher.clone());
        (cipher, wrapped_key)
    });
    for piece in body.chunks(256 * 1024) {
        writer.write(piece).await.expect("write");
    }
    let written = writer.finish().await.expect("finish");
    let encryption = run.map(|(cipher, wrapped_key)| StoredEncryption {
        mode: EncryptionMode::Master,
        runs: vec![EncryptedRun::written(&cipher, wrapped_key, &written)],
    });
    let record = ObjectRecord {
        size_bytes: written.size_bytes,
        etag: "9b2cf535f27731c974343645a3985328".into(),
        last_modified_ms: 1,
        extents: written.extents,
        block_checksums: written.block_checksums,
        encryption,
        ..Default::default()
    };
    partition
        .commit_and_release(
            MetaOp::PutObject {
                bucket: "bench".into(),
                key: key.into(),
                record,
                condition: WriteCondition::default(),
                versioning: Versioning::Unversioned,
            },
            written.dirty_segments,
        )
        .await
        .expect("commit");
}

/// Reads `key` whole, as a GET does: verified, and decrypted (unwrapping its data key) when
/// `keys` are given.
async fn get(
    partition: &Rc<Partition>,
    key: &str,
    keys: Option<&MasterKeys>,
    buf: AlignedBuf,
) -> (usize, AlignedBuf) {
    let (record, pin) = partition
        .lookup_pinned("bench", key)
        .expect("lookup")
        .expect("present");
    let size = record.size_bytes;
    let mut reader = ObjectReader::new(partition, &record, pin, 0..size);
    if let (Some(keys), Some(encryption)) = (keys, &record.encryption) {
        let ciphers = encryption
            .ciphers(&KeySource::Master(keys))
            .expect("unwrap data key");
        let decryption =
            ReadDecryption::new(encryption, ciphers, &record.extents).expect("decryption");
        reader = reader.decrypting(decryption);
    }
    let mut buf = buf;
    let mut total = 0;
    loop {
        let (result, returned) = reader.next(buf).await;
        buf = returned;
        match result.expect("read") {
            Some(valid) => total += valid.len(),
            None => return (total, buf),
        }
    }
}

fn shard_io(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut runtime = runtime();
    let partition = runtime.block_on(async {
        let (partition, _) = Partition::open(dir.path(), 0).expect("open partition");
        partition
    });
    let mut group = c.benchmark_group("shard_io");
    // Durable PUTs are paced by fdatasync: few samples keep the run short.
    group.sample_size(20);
    let master_keys = MasterKeys::generate();
    for (mode, keys) in [("plain", None), ("sse-s3", Some(&master_keys))] {
        for size in [4096_usize, 1 << 20] {
            let body = random_bytes(size, 5);
            group.throughput(Throughput::Bytes(size as u64));
            let mut counter = 0_u64;
            let name = format!("put durable {mode}");
            group.bench_function(BenchmarkId::new(name, size), |b| {
                b.iter(|| {
                    counter += 1;
                    let key = format!("put/{mode}/{size}/{}", counter % 64);
                    runtime.block_on(put(&partition, &key, &body, keys));
                });
            });
            let key = format!("get/{mode}/{size}");
            runtime.block_on(put(&partition, &key, &body, keys));
            let mut buf = Some(AlignedBuf::new(size.next_multiple_of(4096) + 4096));
            group.bench_function(BenchmarkId::new(format!("get {mode}"), size), |b| {
                b.iter(|| {
                    let taken = buf.take().expect("buffer returned");
                    let (read, returned) = runtime.block_on(get(&partition, &key, keys, taken));
                    assert_eq!(read, size);
                    buf = Some(returned);
                });
            });
        }
    }
    group.finish();
    drop(partition);
}

criterion_group!(benches, shard_io);
criterion_main!(benches);

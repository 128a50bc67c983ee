//! Deterministic simulation (RELIABILITY-GOALS.md T3a, T6): random workloads of puts,
//! overwrites, deletes, multipart uploads, clean restarts and crashes run against a partition on
//! a simulated disk (`shard::storage::sim::SimDisk`) that injects faults from a seed, and are
//! checked against a model after every step:
//!
//! - an acknowledged write reads back exactly, after any number of restarts and crashes;
//! - a failed write is not visible (the key keeps its previous value);
//! - a read returns the right bytes or an error, never wrong bytes (corrupted reads must be
//!   caught by the block checksums);
//! - after a restart, space no record references is given back (the disk holds no more
//!   non-zero bytes than the live objects).
//!
//! Everything runs on one thread with the partition's worker inline, so a seed replays
//! exactly. On failure the test prints `SEED=n`; replay with
//! `SIM_SEED=n cargo test -p shard --test simulation`. `SIM_SEEDS=n` runs n seeds (default
//! 2000, the CI run), `SIM_FIRST_SEED` moves the range.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)] // test code: fail loudly

use shard::Versioning;
use shard::meta::ObjectDelete;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shard::aligned::AlignedBuf;
use shard::encryption::{
    EncryptedRun, EncryptionMode, KeySource, ReadDecryption, StoredEncryption, new_run_cipher,
};
use shard::meta::{CompleteUpload, MetaOp, PartRecord, WriteCondition};
use shard::storage::sim::{FaultCounts, Faults, SimDisk};
use shard::{ListStart, ObjectReader, ObjectRecord, Partition, PartitionOptions, UploadRecord};
use sse::master::MasterKeys;

const SEEDS_DEFAULT: u64 = 2000;
const STEPS_PER_SEED: usize = 40;
const BUCKET: &str = "sim";
const KEYS: [&str; 6] = ["a", "b", "c", "d/e", "f", "g"];
const SIZES: [usize; 11] = [
    0, 1, 100, 4095, 4096, 4097, 65_535, 65_536, 65_537, 200_000, 1_048_579,
];
const PART_MIN: usize = 5 << 20;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
}

#[test]
fn simulated_workloads_never_lose_or_corrupt_acknowledged_data() {
    let seeds: Vec<u64> = if let Some(seed) = env_u64("SIM_SEED") {
        vec![seed]
    } else {
        let first = env_u64("SIM_FIRST_SEED").unwrap_or(0);
        (first..first + env_u64("SIM_SEEDS").unwrap_or(SEEDS_DEFAULT)).collect()
    };
    // SQLite files live in memory-backed storage when there is one: the simulated disk
    // replaces the segments, and the metadata's fsyncs are not what this test measures.
    let base = Path::new("/dev/shm");
    let mut totals = FaultCounts::default();
    let mut steps = 0usize;
    for seed in &seeds {
        let dir = if base.is_dir() {
            tempfile::tempdir_in(base).unwrap()
        } else {
            tempfile::tempdir().unwrap()
        };
        let outcome = std::panic::catch_unwind(|| simulate(*seed, dir.path()));
        match outcome {
            Ok((counts, ran)) => {
                steps += ran;
                add(&mut totals, &counts);
            }
            Err(panic) => {
                eprintln!(
                    "SEED={seed} failed; replay: SIM_SEED={seed} cargo test -p shard --test \
                     simulation"
                );
                std::panic::resume_unwind(panic);
            }
        }
    }
    eprintln!(
        "simulation: {} seeds, {steps} steps, faults injected: {totals:?}",
        seeds.len()
    );
    assert!(steps >= seeds.len() * STEPS_PER_SEED);
}

fn add(total: &mut FaultCounts, counts: &FaultCounts) {
    total.write_errors += counts.write_errors;
    total.sync_errors += counts.sync_errors;
    total.read_errors += counts.read_errors;
    total.corrupt_reads += counts.corrupt_reads;
    total.no_space += counts.no_space;
    total.torn_writes += counts.torn_writes;
    total.crashes += counts.crashes;
}

/// Fault rates for a seed: a quarter of the seeds run without faults (so long workloads make
/// progress), the rest with rates drawn per seed.
fn faults_for(rng: &mut StdRng) -> Faults {
    if rng.random_bool(0.25) {
        return Faults {
            torn_write: 0.5,
            ..Faults::default()
        };
    }
    Faults {
        write_error: rng.random_range(0.0..0.05),
        sync_error: rng.random_range(0.0..0.03),
        read_error: rng.random_range(0.0..0.05),
        corrupt_read: rng.random_range(0.0..0.1),
        no_space: rng.random_range(0.0..0.05),
        torn_write: 0.5,
    }
}

struct Upload {
    key: String,
    parts: BTreeMap<u32, (String, Vec<u8>)>,
}

struct World {
    rng: StdRng,
    disk: SimDisk,
    faults: Faults,
    dir: std::path::PathBuf,
    partition: Option<Rc<Partition>>,
    /// Acknowledged state: key → bytes.
    objects: BTreeMap<String, Vec<u8>>,
    uploads: BTreeMap<String, Upload>,
    next_upload: u32,
    /// Odd seeds use segments of 1 MiB + 36 KiB, so objects and parts split across segment
    /// ends (with the 1 GiB default no simulated write reaches one).
    segment_size_bytes: Option<u64>,
    /// SSE-S3 master keys: 40 % of PutObjects are encrypted (GCM blocks, sealed whole by the
    /// writer, which is what segment ends and torn writes test here).
    keys: MasterKeys,
}

fn simulate(seed: u64, dir: &Path) -> (FaultCounts, usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let faults = faults_for(&mut rng);
    let disk = SimDisk::new(rng.random(), faults);
    let mut world = World {
        rng,
        disk,
        faults,
        dir: dir.to_path_buf(),
        partition: None,
        objects: BTreeMap::new(),
        uploads: BTreeMap::new(),
        next_upload: 0,
        segment_size_bytes: (seed % 2 == 1).then_some((1 << 20) + (36 << 10)),
        keys: MasterKeys::generate(),
    };
    let mut runtime = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .build()
        .unwrap();
    runtime.block_on(async {
        world.open();
        for _ in 0..STEPS_PER_SEED {
            world.step().await;
        }
        world.restart(true).await;
    });
    (world.disk.fault_counts(), STEPS_PER_SEED)
}

impl World {
    fn partition(&self) -> Rc<Partition> {
        Rc::clone(self.partition.as_ref().unwrap())
    }

    fn open(&mut self) {
        let options = PartitionOptions {
            storage: Some(self.disk.storage()),
            inline_worker: true,
            segment_size_bytes: self.segment_size_bytes,
        };
        // Recovery itself may hit an injected fault; a real operator would restart again.
        for _ in 0..100 {
            match Partition::open_with(&self.dir, 0, options_clone(&self.disk, &options)) {
                Ok((partition, _)) => {
                    self.partition = Some(partition);
                    return;
                }
                Err(_) => self.disk.restart(),
            }
        }
        panic!("the partition did not open in 100 attempts");
    }

    async fn step(&mut self) {
        let roll = self.rng.random_range(0..100);
        match roll {
            0..40 => self.put().await,
            40..60 => self.get().await,
            60..70 => self.delete().await,
            70..78 => self.multipart().await,
            78..84 => self.write_then_crash().await,
            84..88 => self.restart(false).await,
            88..92 => self.restart(true).await,
            _ => self.check_listing(),
        }
    }

    fn key(&mut self) -> String {
        KEYS[self.rng.random_range(0..KEYS.len())].to_owned()
    }

    /// A body of `size` bytes cut at a random place from a random pool: overwrites differ, and
    /// making one costs a copy (generating random bytes per body dominates in test builds).
    fn body(&mut self, size: usize) -> Vec<u8> {
        let pool = pool();
        let start = self.rng.random_range(0..=pool.len() - size);
        pool[start..start + size].to_vec()
    }

    /// Writes a body; `None` when the storage failed (the writer is dropped, freeing it).
    async fn write(&mut self, body: &[u8]) -> Option<shard::WrittenData> {
        self.write_encrypted(body, false)
            .await
            .map(|(written, _)| written)
    }

    /// `write`, encrypted under the master keys when `encrypt`.
    async fn write_encrypted(
        &mut self,
        body: &[u8],
        encrypt: bool,
    ) -> Option<(shard::WrittenData, Option<StoredEncryption>)> {
        let partition = self.partition();
        let mut writer = partition.writer(Some(body.len() as u64));
        let run = encrypt.then(|| {
            let (cipher, wrapped_key) = new_run_cipher(&KeySource::Master(&self.keys));
            writer.encrypt_with(cipher.clone());
            (cipher, wrapped_key)
        });
        let piece = self.rng.random_range(1..300_000);
        for chunk in body.chunks(piece) {
            writer.write(chunk).await.ok()?;
        }
        let written = writer.finish().await.ok()?;
        let encryption = run.map(|(cipher, wrapped_key)| StoredEncryption {
            mode: EncryptionMode::Master,
            runs: vec![EncryptedRun::written(&cipher, wrapped_key, &written)],
        });
        Some((written, encryption))
    }

    async fn put(&mut self) {
        let key = self.key();
        let size = SIZES[self.rng.random_range(0..SIZES.len())];
        let body = self.body(size);
        let encrypt = self.rng.random_bool(0.4);
        let Some((written, encryption)) = self.write_encrypted(&body, encrypt).await else {
            return self.expect_unchanged(&key).await;
        };
        let record = ObjectRecord {
            size_bytes: written.size_bytes,
            etag: format!("{:032x}", body.len()),
            last_modified_ms: 1,
            extents: written.extents.clone(),
            block_checksums: written.block_checksums.clone(),
            encryption,
            ..ObjectRecord::default()
        };
        let op = MetaOp::PutObject {
            bucket: BUCKET.into(),
            key: key.clone(),
            record,
            condition: WriteCondition::default(),
            versioning: Versioning::Unversioned,
        };
        let partition = self.partition();
        let committed = partition
            .commit_and_release(op, written.dirty_segments)
            .await;
        if committed.is_ok() {
            self.objects.insert(key, body);
        } else {
            partition.release(written.extents);
            self.expect_unchanged(&key).await;
        }
    }

    /// A failed write left the key as the model has it.
    async fn expect_unchanged(&mut self, key: &str) {
        self.read_and_check(key, false).await;
    }

    async fn get(&mut self) {
        let key = self.key();
        self.read_and_check(&key, true).await;
    }

    /// Reads `key` (whole, or a random range when `ranged`) and compares with the model.
    /// Errors are acceptable only while read faults are being injected.
    async fn read_and_check(&mut self, key: &str, ranged: bool) {
        let partition = self.partition();
        let expected = self.objects.get(key).cloned();
        let found = partition.lookup_pinned(BUCKET, key).unwrap();
        let Some((record, pin)) = found else {
            assert!(expected.is_none(), "{key}: acknowledged object is missing");
            return;
        };
        let expected = expected.unwrap_or_else(|| panic!("{key}: unacknowledged object visible"));
        assert_eq!(record.size_bytes, expected.len() as u64, "{key}: size");
        let size = expected.len() as u64;
        let range = if ranged && size > 0 {
            let start = self.rng.random_range(0..size);
            start..self.rng.random_range(start..=size)
        } else {
            0..size
        };
        let mut reader = ObjectReader::new(&partition, &record, pin, range.clone());
        if let Some(encryption) = &record.encryption {
            let ciphers = encryption.ciphers(&KeySource::Master(&self.keys)).unwrap();
            let decryption = ReadDecryption::new(encryption, ciphers, &record.extents);
            reader = reader.decrypting(decryption.expect("runs cover the extents"));
        }
        let mut buf = AlignedBuf::new(reader.buffer_size_bytes());
        let mut out = Vec::new();
        loop {
            let (result, returned) = reader.next(buf).await;
            buf = returned;
            match result {
                Ok(Some(valid)) => out.extend_from_slice(&buf.as_slice()[valid]),
                Ok(None) => break,
                Err(error) => {
                    let read_faults =
                        self.faults.read_error > 0.0 || self.faults.corrupt_read > 0.0;
                    assert!(
                        read_faults,
                        "{key}: read failed without injected faults: {error}"
                    );
                    return;
                }
            }
        }
        let range = range.start as usize..range.end as usize;
        assert!(
            out == expected[range.clone()],
            "{key}: wrong bytes in {range:?}"
        );
    }

    async fn delete(&mut self) {
        let key = self.key();
        let op = MetaOp::DeleteObject(ObjectDelete::latest(
            BUCKET,
            &key,
            Versioning::Unversioned,
            1,
        ));
        if self
            .partition()
            .commit_and_release(op, vec![])
            .await
            .is_ok()
        {
            self.objects.remove(&key);
        }
        self.expect_unchanged(&key).await;
    }

    async fn multipart(&mut self) {
        // Continue an open upload or start one.
        let upload_id = match self.uploads.keys().next().cloned() {
            Some(upload_id) if self.rng.random_bool(0.7) => upload_id,
            _ => {
                let key = self.key();
                self.next_upload += 1;
                let upload_id = format!("u{}", self.next_upload);
                let upload = UploadRecord {
                    upload_id: upload_id.clone(),
                    bucket: BUCKET.into(),
                    key: key.clone(),
                    initiated_ms: 1,
                    ..UploadRecord::default()
                };
                let op = MetaOp::CreateUpload { upload };
                if self.partition().commit(op, vec![]).await.is_err() {
                    return;
                }
                let parts = BTreeMap::new();
                self.uploads
                    .insert(upload_id.clone(), Upload { key, parts });
                upload_id
            }
        };
        match self.rng.random_range(0..10) {
            0..6 => self.upload_part(&upload_id).await,
            6..9 => self.complete(&upload_id).await,
            _ => self.abort(&upload_id).await,
        }
    }

    async fn upload_part(&mut self, upload_id: &str) {
        let part_number = self.rng.random_range(1..=3u32);
        // Every part but the last must be 5 MiB: make part 1 that big now and then.
        let size = if part_number == 1 && self.rng.random_bool(0.15) {
            PART_MIN
        } else {
            SIZES[self.rng.random_range(0..SIZES.len())]
        };
        let body = self.body(size);
        let Some(written) = self.write(&body).await else {
            return;
        };
        let etag = format!("{:032x}", self.rng.random::<u64>());
        let part = PartRecord {
            part_number,
            size_bytes: written.size_bytes,
            etag: etag.clone(),
            last_modified_ms: 1,
            extents: written.extents.clone(),
            block_checksums: written.block_checksums.clone(),
            checksum: None,
            encryption: None,
        };
        let op = MetaOp::PutPart {
            upload_id: upload_id.to_owned(),
            part,
        };
        let partition = self.partition();
        match partition
            .commit_and_release(op, written.dirty_segments)
            .await
        {
            Ok(_) => {
                let upload = self.uploads.get_mut(upload_id).unwrap();
                upload.parts.insert(part_number, (etag, body));
            }
            Err(_) => partition.release(written.extents),
        }
    }

    async fn complete(&mut self, upload_id: &str) {
        let upload = &self.uploads[upload_id];
        let key = upload.key.clone();
        let listed: Vec<(u32, String)> = upload
            .parts
            .iter()
            .map(|(number, (etag, _))| (*number, etag.clone()))
            .collect();
        let valid = !listed.is_empty()
            && upload
                .parts
                .values()
                .rev()
                .skip(1)
                .all(|(_, body)| body.len() >= PART_MIN);
        let body: Vec<u8> = upload
            .parts
            .values()
            .flat_map(|(_, body)| body.clone())
            .collect();
        let op = MetaOp::CompleteUpload(CompleteUpload {
            bucket: BUCKET.into(),
            key: key.clone(),
            upload_id: upload_id.to_owned(),
            parts: listed,
            last_modified_ms: 1,
            condition: WriteCondition::default(),
            checksum: None,
            versioning: Versioning::Unversioned,
            retention: None,
            legal_hold: false,
        });
        match self.partition().commit_and_release(op, vec![]).await {
            Ok(_) => {
                assert!(valid, "{upload_id}: an invalid part list completed");
                self.uploads.remove(upload_id);
                self.objects.insert(key.clone(), body);
            }
            Err(
                shard::ShardError::EntityTooSmall { .. } | shard::ShardError::InvalidPart { .. },
            ) => {
                assert!(!valid, "{upload_id}: a valid part list was refused");
            }
            Err(_) => {}
        }
        self.expect_unchanged(&key).await;
    }

    async fn abort(&mut self, upload_id: &str) {
        let key = self.uploads[upload_id].key.clone();
        let op = MetaOp::AbortUpload {
            bucket: BUCKET.into(),
            key,
            upload_id: upload_id.to_owned(),
        };
        if self
            .partition()
            .commit_and_release(op, vec![])
            .await
            .is_ok()
        {
            self.uploads.remove(upload_id);
        }
    }

    /// Bytes written but not committed when the power goes: they must vanish, torn or not.
    async fn write_then_crash(&mut self) {
        let size = SIZES[self.rng.random_range(0..SIZES.len())];
        let body = self.body(size);
        let partition = self.partition();
        let mut writer = partition.writer(Some(body.len() as u64));
        let _ = writer.write(&body).await;
        self.disk.crash();
        drop(writer);
        drop(partition);
        self.partition = None;
        self.disk.restart();
        self.open();
        self.check_everything().await;
    }

    /// A clean restart, or a crash between operations.
    async fn restart(&mut self, crash: bool) {
        if crash {
            self.disk.crash();
        } else if let Some(partition) = &self.partition {
            partition.flush().await;
        }
        self.partition = None;
        self.disk.restart();
        self.open();
        self.check_everything().await;
    }

    /// Every acknowledged object reads back exactly (faults paused), nothing else is listed,
    /// and unreferenced space was given back at open.
    async fn check_everything(&mut self) {
        self.disk.set_faults(Faults::default());
        let saved = std::mem::take(&mut self.faults);
        let keys: Vec<String> = self.objects.keys().cloned().collect();
        for key in &keys {
            self.read_and_check(key, false).await;
        }
        self.check_listing();
        // Live data in 4 KiB blocks (each extent starts on a block), plus one block of slack
        // per record for an extent split at a segment's end.
        let blocks = |body: &Vec<u8>| (body.len() as u64).div_ceil(4096) + 1;
        let live: u64 = self.objects.values().map(blocks).sum::<u64>()
            + self
                .uploads
                .values()
                .flat_map(|upload| upload.parts.values())
                .map(|(_, body)| blocks(body))
                .sum::<u64>();
        let held = self.disk.nonzero_durable_blocks();
        assert!(
            held <= live,
            "after restart the disk holds {held} blocks, live data {live}"
        );
        self.faults = saved;
        self.disk.set_faults(saved);
    }

    fn check_listing(&mut self) {
        let listed: Vec<String> = self
            .partition()
            .list(BUCKET, &ListStart::After(Vec::new()), b"", 100)
            .unwrap()
            .into_iter()
            .map(|entry| String::from_utf8(entry.key).unwrap())
            .collect();
        let expected: Vec<String> = self.objects.keys().cloned().collect();
        assert_eq!(
            listed, expected,
            "listing disagrees with the acknowledged state"
        );
    }
}

/// Random bytes shared by every seed (bodies are slices of it at random offsets).
fn pool() -> &'static [u8] {
    static POOL: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let mut pool = vec![0u8; PART_MIN + (1 << 20)];
        StdRng::seed_from_u64(0x5eed).fill(&mut pool[..]);
        pool
    })
}

fn options_clone(disk: &SimDisk, options: &PartitionOptions) -> PartitionOptions {
    PartitionOptions {
        storage: Some(disk.storage()),
        inline_worker: options.inline_worker,
        segment_size_bytes: options.segment_size_bytes,
    }
}

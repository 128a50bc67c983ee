//! Deterministic simulation (RELIABILITY-GOALS.md T3a, T6): random workloads of puts,
//! overwrites, deletes, multipart uploads, clean restarts and crashes run against a partition on
//! a simulated disk (`shard::storage::sim::SimDisk`) that injects faults from a seed, and are
//! checked against a model after every step. Two buckets: one never versioned, one whose
//! versioning the simulation switches (unversioned, then Enabled and Suspended in turn), with
//! delete markers, deletes of one version by id (existing, forged or missing), and object lock
//! (retention, legal holds) that must refuse every destruction while it protects a version:
//!
//! - an acknowledged write reads back exactly, after any number of restarts and crashes;
//! - every acknowledged version and delete marker survives, in order (newest first), with its
//!   id, retention and legal hold, and reads back by id (`simulation/model.rs`);
//! - a failed write is not visible (the key keeps its previous versions);
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

#[path = "simulation/model.rs"]
mod model;

use shard::meta::ObjectDelete;
use shard::{ObjectRetention, RetentionMode, ShardError, VersionRef, VersionStart, Versioning};
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use model::{Model, Version, retention_change_allowed};
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
/// Never versioned.
const BUCKET: &str = "sim";
/// Its versioning state is `World::versioning`.
const VBUCKET: &str = "simv";
const KEYS: [&str; 6] = ["a", "b", "c", "d/e", "f", "g"];
const SIZES: [usize; 11] = [
    0, 1, 100, 4095, 4096, 4097, 65_535, 65_536, 65_537, 200_000, 1_048_579,
];
const PART_MIN: usize = 5 << 20;
/// Writes and deletes object lock refused (as the model predicted), over every seed run.
static LOCK_REFUSALS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

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
    let refusals = LOCK_REFUSALS.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "simulation: {} seeds, {steps} steps, faults injected: {totals:?}, object lock \
         refusals: {refusals}",
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
    bucket: &'static str,
    key: String,
    parts: BTreeMap<u32, (String, Vec<u8>)>,
}

struct World {
    rng: StdRng,
    disk: SimDisk,
    faults: Faults,
    dir: std::path::PathBuf,
    partition: Option<Rc<Partition>>,
    /// Acknowledged state: per (bucket, key), its versions.
    model: Model,
    /// The versioning state of `VBUCKET` (`BUCKET` is never versioned).
    versioning: Versioning,
    /// The simulation's clock: one millisecond per step (retention dates pass during a run).
    now_ms: i64,
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
        model: Model::default(),
        versioning: Versioning::Unversioned,
        now_ms: 1,
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
        self.now_ms += 1;
        let roll = self.rng.random_range(0..100);
        match roll {
            0..32 => self.put().await,
            32..44 => self.get().await,
            44..51 => self.delete().await,
            51..59 => self.delete_version().await,
            59..63 => self.lock().await,
            63..65 => self.switch_versioning(),
            65..72 => self.multipart().await,
            72..78 => self.write_then_crash().await,
            78..82 => self.restart(false).await,
            82..86 => self.restart(true).await,
            _ => self.check_listing(),
        }
    }

    fn key(&mut self) -> String {
        KEYS[self.rng.random_range(0..KEYS.len())].to_owned()
    }

    /// The unversioned bucket or the versioned one, evenly.
    fn bucket(&mut self) -> &'static str {
        if self.rng.random_bool(0.5) {
            VBUCKET
        } else {
            BUCKET
        }
    }

    fn versioning_of(&self, bucket: &str) -> Versioning {
        if bucket == VBUCKET {
            self.versioning
        } else {
            Versioning::Unversioned
        }
    }

    /// The first switch enables versioning; later ones suspend and re-enable it (a bucket
    /// never returns to unversioned).
    fn switch_versioning(&mut self) {
        self.versioning = match self.versioning {
            Versioning::Enabled => Versioning::Suspended,
            Versioning::Unversioned | Versioning::Suspended => Versioning::Enabled,
        };
    }

    /// A retention that ends a few steps from now (so some expire during the run), or none.
    fn retention(&mut self) -> Option<ObjectRetention> {
        let mode = match self.rng.random_range(0..3) {
            0 => return None,
            1 => RetentionMode::Governance,
            _ => RetentionMode::Compliance,
        };
        Some(ObjectRetention {
            mode,
            retain_until_ms: self.now_ms + self.rng.random_range(0..30),
        })
    }

    /// Whether any fault that can fail a commit is injected (otherwise every refusal must be
    /// one the model predicts).
    fn commits_may_fail(&self) -> bool {
        self.faults.write_error > 0.0 || self.faults.sync_error > 0.0 || self.faults.no_space > 0.0
    }

    /// A commit failed: `ObjectLocked` exactly when the model said so; otherwise an injected
    /// fault.
    fn expect_failure(&self, error: &ShardError, expected: Option<&ShardError>) {
        let refusal = matches!(
            error,
            ShardError::ObjectLocked | ShardError::NoSuchVersion | ShardError::DeleteMarker
        );
        if refusal || !self.commits_may_fail() {
            assert_eq!(
                Some(error),
                expected,
                "refused otherwise than the model says"
            );
        }
        if *error == ShardError::ObjectLocked {
            LOCK_REFUSALS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
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
        let bucket = self.bucket();
        let key = self.key();
        let versioning = self.versioning_of(bucket);
        let size = SIZES[self.rng.random_range(0..SIZES.len())];
        let body = self.body(size);
        let encrypt = self.rng.random_bool(0.4);
        let Some((written, encryption)) = self.write_encrypted(&body, encrypt).await else {
            return self.expect_unchanged(bucket, &key).await;
        };
        // Versions of the versioned bucket are locked now and then.
        let locked = bucket == VBUCKET && self.rng.random_bool(0.4);
        let (retention, hold) = if locked {
            (self.retention(), self.rng.random_bool(0.3))
        } else {
            (None, false)
        };
        let record = ObjectRecord {
            size_bytes: written.size_bytes,
            etag: format!("{:032x}", body.len()),
            last_modified_ms: self.now_ms,
            extents: written.extents.clone(),
            block_checksums: written.block_checksums.clone(),
            encryption,
            retention,
            legal_hold: hold,
            ..ObjectRecord::default()
        };
        let op = MetaOp::PutObject {
            bucket: bucket.into(),
            key: key.clone(),
            record,
            condition: WriteCondition::default(),
            versioning,
        };
        let refused = self
            .model
            .replaces_protected(bucket, &key, versioning, self.now_ms);
        let partition = self.partition();
        match partition
            .commit_and_release(op, written.dirty_segments)
            .await
        {
            Ok(outcome) => {
                assert!(!refused, "{key}: a protected null version was replaced");
                let id = outcome.version.unwrap().version_id;
                let body = Some(body);
                let version = Version {
                    id,
                    body,
                    retention,
                    hold,
                };
                self.model.put(bucket, &key, versioning, version);
            }
            Err(error) => {
                self.expect_failure(&error, refused.then_some(&ShardError::ObjectLocked));
                partition.release(written.extents);
            }
        }
        self.expect_unchanged(bucket, &key).await;
    }

    /// The key is as the model has it: its versions, and the latest one's bytes.
    async fn expect_unchanged(&mut self, bucket: &str, key: &str) {
        self.check_key(bucket, key);
        self.read_and_check(bucket, key, None, false).await;
    }

    async fn get(&mut self) {
        let bucket = self.bucket();
        let key = self.key();
        let versions = self.model.versions(bucket, &key);
        let version = if !versions.is_empty() && self.rng.random_bool(0.5) {
            Some(versions[self.rng.random_range(0..versions.len())].vref())
        } else {
            None
        };
        self.read_and_check(bucket, &key, version.as_ref(), true)
            .await;
    }

    /// Reads a version of `key` (the latest when `version` is `None`; whole, or a random range
    /// when `ranged`) and compares with the model. Errors are acceptable only while read
    /// faults are being injected.
    async fn read_and_check(
        &mut self,
        bucket: &str,
        key: &str,
        version: Option<&VersionRef>,
        ranged: bool,
    ) {
        let partition = self.partition();
        let expected = match version {
            None => self.model.latest(bucket, key),
            Some(version) => self.model.find(bucket, key, version),
        };
        let latest_id = self.model.latest(bucket, key).map(|v| v.id.clone());
        let expected = expected.cloned();
        let found = partition
            .lookup_version_pinned(bucket, key, version)
            .unwrap();
        let Some((record, is_latest, pin)) = found else {
            assert!(expected.is_none(), "{key}: acknowledged version is missing");
            return;
        };
        let expected = expected.unwrap_or_else(|| panic!("{key}: unacknowledged version visible"));
        assert_eq!(record.version_id, expected.id, "{key}: version id");
        assert_eq!(
            is_latest,
            latest_id == Some(expected.id),
            "{key}: is latest"
        );
        let Some(expected) = expected.body else {
            assert!(record.delete_marker, "{key}: a delete marker reads as data");
            return;
        };
        assert!(
            !record.delete_marker,
            "{key}: data reads as a delete marker"
        );
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

    /// A DELETE without a version id: removes the null version (unversioned), or writes a
    /// delete marker (with an id when Enabled, the null one when Suspended).
    async fn delete(&mut self) {
        let bucket = self.bucket();
        let key = self.key();
        let versioning = self.versioning_of(bucket);
        let op = MetaOp::DeleteObject(ObjectDelete::latest(bucket, &key, versioning, self.now_ms));
        let refused = self
            .model
            .replaces_protected(bucket, &key, versioning, self.now_ms);
        match self.partition().commit_and_release(op, vec![]).await {
            Ok(outcome) => {
                assert!(!refused, "{key}: a protected null version was deleted");
                if versioning == Versioning::Unversioned {
                    assert_eq!(outcome.version, None);
                    self.model.delete_null(bucket, &key);
                } else {
                    let marker = outcome.version.unwrap();
                    assert!(marker.delete_marker);
                    let version = Version {
                        id: marker.version_id,
                        body: None,
                        retention: None,
                        hold: false,
                    };
                    self.model.put(bucket, &key, versioning, version);
                }
            }
            Err(error) => {
                self.expect_failure(&error, refused.then_some(&ShardError::ObjectLocked));
            }
        }
        self.expect_unchanged(bucket, &key).await;
    }

    /// A version to address in the versioned bucket: mostly an existing one (marker or not),
    /// else the null version, an id forged from an existing one's seq, or a new one.
    fn pick_version(&mut self, key: &str) -> VersionRef {
        let versions = self.model.versions(VBUCKET, key);
        let roll = self.rng.random_range(0..10);
        if versions.is_empty() || roll == 0 {
            return VersionRef::Null;
        }
        let existing = versions[self.rng.random_range(0..versions.len())].vref();
        match (roll, existing) {
            (1, VersionRef::Id(id)) => {
                let last = if id.ends_with('0') { '1' } else { '0' };
                VersionRef::Id(format!("{}{last}", &id[..31]))
            }
            (2, _) => VersionRef::Id(format!("{:032x}", self.rng.random::<u128>())),
            (_, existing) => existing,
        }
    }

    /// DeleteObject with a version id: removes exactly that version, unless object lock
    /// protects it; one that does not exist is no error.
    async fn delete_version(&mut self) {
        let key = self.key();
        let version = self.pick_version(&key);
        let bypass = self.rng.random_bool(0.5);
        let expected = self.model.find(VBUCKET, &key, &version).cloned();
        let refused = expected
            .as_ref()
            .is_some_and(|v| v.protected(self.now_ms, bypass));
        let op = MetaOp::DeleteObject(ObjectDelete {
            version: Some(version.clone()),
            bypass_governance: bypass,
            ..ObjectDelete::latest(VBUCKET, &key, self.versioning, self.now_ms)
        });
        match self.partition().commit_and_release(op, vec![]).await {
            Ok(outcome) => {
                assert!(!refused, "{key}: a protected version was deleted");
                match expected {
                    None => assert_eq!(outcome.version, None, "{key}: deleted a missing version"),
                    Some(expected) => {
                        let removed = outcome.version.unwrap();
                        assert_eq!(removed.version_id, expected.id);
                        assert_eq!(removed.delete_marker, expected.body.is_none());
                        self.model.remove(VBUCKET, &key, &version);
                    }
                }
            }
            Err(error) => {
                self.expect_failure(&error, refused.then_some(&ShardError::ObjectLocked));
            }
        }
        self.expect_unchanged(VBUCKET, &key).await;
    }

    /// PutObjectRetention or PutObjectLegalHold on a version of the versioned bucket.
    async fn lock(&mut self) {
        let key = self.key();
        let version = self.pick_version(&key);
        let current = self.model.find(VBUCKET, &key, &version).cloned();
        let (op, allowed) = if self.rng.random_bool(0.4) {
            let on = self.rng.random_bool(0.5);
            let op = MetaOp::SetLegalHold {
                bucket: VBUCKET.into(),
                key: key.clone(),
                version: Some(version.clone()),
                on,
            };
            (op, (true, None, Some(on)))
        } else {
            let new = self.retention();
            let bypass = self.rng.random_bool(0.5);
            let old = current.as_ref().and_then(|v| v.retention);
            let allowed = retention_change_allowed(old, new, self.now_ms, bypass);
            let op = MetaOp::SetRetention {
                bucket: VBUCKET.into(),
                key: key.clone(),
                version: Some(version.clone()),
                retention: new,
                bypass_governance: bypass,
                now_ms: self.now_ms,
            };
            (op, (allowed, Some(new), None))
        };
        let (allowed, retention, hold) = allowed;
        let expected_error = match &current {
            None => Some(ShardError::NoSuchVersion),
            Some(v) if v.body.is_none() => Some(ShardError::DeleteMarker),
            Some(_) => (!allowed).then_some(ShardError::ObjectLocked),
        };
        match self.partition().commit_and_release(op, vec![]).await {
            Ok(_) => {
                assert_eq!(
                    expected_error, None,
                    "{key}: a lock change the model refuses"
                );
                let stored = self.model.version_mut(VBUCKET, &key, &version).unwrap();
                if let Some(retention) = retention {
                    stored.retention = retention;
                }
                if let Some(hold) = hold {
                    stored.hold = hold;
                }
            }
            Err(error) => self.expect_failure(&error, expected_error.as_ref()),
        }
        self.check_key(VBUCKET, &key);
    }

    async fn multipart(&mut self) {
        // Continue an open upload or start one.
        let upload_id = match self.uploads.keys().next().cloned() {
            Some(upload_id) if self.rng.random_bool(0.7) => upload_id,
            _ => {
                let bucket = self.bucket();
                let key = self.key();
                self.next_upload += 1;
                let upload_id = format!("u{}", self.next_upload);
                let upload = UploadRecord {
                    upload_id: upload_id.clone(),
                    bucket: bucket.into(),
                    key: key.clone(),
                    initiated_ms: 1,
                    ..UploadRecord::default()
                };
                let op = MetaOp::CreateUpload { upload };
                if self.partition().commit(op, vec![]).await.is_err() {
                    return;
                }
                let parts = BTreeMap::new();
                let upload = Upload { bucket, key, parts };
                self.uploads.insert(upload_id.clone(), upload);
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
        let (bucket, key) = (upload.bucket, upload.key.clone());
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
        let versioning = self.versioning_of(bucket);
        let op = MetaOp::CompleteUpload(CompleteUpload {
            bucket: bucket.into(),
            key: key.clone(),
            upload_id: upload_id.to_owned(),
            parts: listed,
            last_modified_ms: self.now_ms,
            condition: WriteCondition::default(),
            checksum: None,
            versioning,
            retention: None,
            legal_hold: false,
        });
        let refused = self
            .model
            .replaces_protected(bucket, &key, versioning, self.now_ms);
        match self.partition().commit_and_release(op, vec![]).await {
            Ok(outcome) => {
                assert!(valid, "{upload_id}: an invalid part list completed");
                assert!(!refused, "{upload_id}: replaced a protected null version");
                self.uploads.remove(upload_id);
                let version = Version {
                    id: outcome.version.unwrap().version_id,
                    body: Some(body),
                    retention: None,
                    hold: false,
                };
                self.model.put(bucket, &key, versioning, version);
            }
            Err(
                shard::ShardError::EntityTooSmall { .. } | shard::ShardError::InvalidPart { .. },
            ) => {
                assert!(!valid, "{upload_id}: a valid part list was refused");
            }
            Err(ShardError::ObjectLocked) => assert!(valid && refused, "{upload_id}: locked"),
            Err(_) => {}
        }
        self.expect_unchanged(bucket, &key).await;
    }

    async fn abort(&mut self, upload_id: &str) {
        let upload = &self.uploads[upload_id];
        let op = MetaOp::AbortUpload {
            bucket: upload.bucket.into(),
            key: upload.key.clone(),
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

    /// Every acknowledged version and marker is there, in order, and every version reads
    /// back exactly (faults paused); nothing else is listed; unreferenced space was given
    /// back at open.
    async fn check_everything(&mut self) {
        self.disk.set_faults(Faults::default());
        let saved = std::mem::take(&mut self.faults);
        let mut versions: Vec<(&str, String, VersionRef)> = Vec::new();
        for bucket in [BUCKET, VBUCKET] {
            for (key, stored) in self.model.keys_of(bucket) {
                versions.extend(stored.iter().map(|v| (bucket, key.to_owned(), v.vref())));
            }
        }
        for (bucket, key, version) in &versions {
            self.check_key(bucket, key);
            self.read_and_check(bucket, key, Some(version), false).await;
        }
        self.check_listing();
        // Live data in 4 KiB blocks (each extent starts on a block), plus one block of slack
        // per record for an extent split at a segment's end.
        let blocks = |body: &Vec<u8>| (body.len() as u64).div_ceil(4096) + 1;
        let live: u64 = self.model.bodies().map(blocks).sum::<u64>()
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

    /// The key's versions as ListObjectVersions and a lookup by id give them: the model's,
    /// in order, with their markers, retention and legal holds; the latest through the
    /// record cache too.
    fn check_key(&self, bucket: &str, key: &str) {
        let partition = self.partition();
        let start = VersionStart::AtOrAfterKey(key.into());
        let listed: Vec<_> = partition
            .list_versions(bucket, &start, key.as_bytes(), 1000)
            .unwrap()
            .into_iter()
            .filter(|entry| entry.key == key.as_bytes())
            .map(|entry| (entry.version_id, entry.delete_marker, entry.is_latest))
            .collect();
        let versions = self.model.versions(bucket, key);
        let expected: Vec<_> = versions
            .iter()
            .enumerate()
            .map(|(index, v)| (v.id.clone(), v.body.is_none(), index == 0))
            .collect();
        assert_eq!(listed, expected, "{bucket}/{key}: versions");
        for version in versions {
            let (record, _) = partition
                .object_version(bucket, key, &version.vref())
                .unwrap()
                .unwrap_or_else(|| panic!("{bucket}/{key}: {:?} missing", version.id));
            assert_eq!(
                record.delete_marker,
                version.body.is_none(),
                "{key}: marker"
            );
            assert_eq!(record.retention, version.retention, "{key}: retention");
            assert_eq!(record.legal_hold, version.hold, "{key}: legal hold");
        }
        let latest = partition.object(bucket, key).unwrap();
        assert_eq!(
            latest.map(|record| record.version_id),
            versions.first().map(|v| v.id.clone()),
            "{bucket}/{key}: latest"
        );
    }

    /// ListObjects shows the keys whose latest version holds data; ListObjectVersions, paged,
    /// every version and marker of every key exactly once, in (key, newest first) order.
    fn check_listing(&mut self) {
        let partition = self.partition();
        for bucket in [BUCKET, VBUCKET] {
            let listed: Vec<String> = partition
                .list(
                    bucket,
                    &ListStart::After(Vec::new()),
                    b"",
                    100,
                    bucket == VBUCKET,
                )
                .unwrap()
                .into_iter()
                .map(|entry| String::from_utf8(entry.key).unwrap())
                .collect();
            let expected: Vec<String> = self
                .model
                .keys_of(bucket)
                .filter(|(_, versions)| versions[0].body.is_some())
                .map(|(key, _)| key.to_owned())
                .collect();
            assert_eq!(
                listed, expected,
                "{bucket}: listing disagrees with the acknowledged state"
            );
            let page = self.rng.random_range(1..8);
            let mut start = VersionStart::AtOrAfterKey(Vec::new());
            let mut listed = Vec::new();
            loop {
                let entries = partition.list_versions(bucket, &start, b"", page).unwrap();
                let Some(last) = entries.last() else { break };
                start = VersionStart::AfterVersion {
                    key: last.key.clone(),
                    seq: last.seq,
                };
                listed.extend(entries.into_iter().map(|entry| {
                    let key = String::from_utf8(entry.key).unwrap();
                    (key, entry.version_id, entry.delete_marker, entry.is_latest)
                }));
            }
            let expected: Vec<_> = self
                .model
                .keys_of(bucket)
                .flat_map(|(key, versions)| {
                    versions.iter().enumerate().map(move |(index, v)| {
                        (key.to_owned(), v.id.clone(), v.body.is_none(), index == 0)
                    })
                })
                .collect();
            assert_eq!(
                listed, expected,
                "{bucket}: versions listing, pages of {page}"
            );
        }
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

//! A partition: one slice of the key space of every bucket, with its own segment files, its own
//! SQLite metadata and its own worker thread. A partition is owned by exactly one shard and is
//! only ever touched from that shard's thread (it is `!Send`).
//!
//! Visibility rule: object bytes are written first, then the commit that references them is
//! made durable by the worker; only then is the request answered. Freed extents are punched only
//! once no GET that might still read them is running (reader epochs).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use sse::cipher::ObjectCipher;
use sse::master::MasterKeys;

use crate::aligned::{AlignedBuf, round_down_to_block, round_up_to_block};
use crate::encryption::{ReadDecryption, Tag, WriteEncryption};
use crate::error::ShardError;
use crate::meta::{
    Damage, MetaOp, MetaOutcome, MetaReader, MetaWriter, PartSummary, UploadStart, UploadSummary,
};
use crate::record::{
    BlockChecksums, BucketRecord, CHECK_BLOCK_BYTES, Extent, ListEntry, ListStart, ObjectRecord,
    UploadRecord, VersionRef, block_checksum, checksums_cover,
};
use crate::record_cache::RecordCache;
use crate::rewrap::{self, RewrapCursor, RewrapProgress};
use crate::segments::{CacheStats, SEGMENT_SIZE_BYTES_MAX, SegmentStore, reclaim_unreferenced};
use crate::storage::Storage;
use crate::tasks::{TaskCounters, TaskStats, TaskType};
use crate::versions::{VersionEntry, VersionStart};
use crate::worker::{WORKER_QUEUE_DEPTH, Worker, WorkerJob};

/// Size of the aligned buffer a PUT fills before each O_DIRECT write, and of the largest read.
pub const IO_BUFFER_BYTES: usize = 1 << 20;
/// Reservation for bodies of unknown length (HTTP chunked without a decoded length).
const UNKNOWN_LENGTH_RESERVATION_BYTES: u64 = 8 << 20;

/// What opening a partition found and did; logged at start.
#[derive(Debug, Clone)]
pub struct RecoveryReport {
    pub partition_id: u32,
    pub object_count: u64,
    pub live_extent_count: usize,
    pub reclaimed_bytes: u64,
    pub elapsed: Duration,
}

/// Counters of the partition's data integrity, read at scrape time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntegrityCounters {
    /// Check blocks whose bytes did not match their checksum (GETs, copies and scrubs).
    pub checksum_errors: u64,
    /// Check blocks verified by reads of any kind.
    pub blocks_verified: u64,
    /// Objects read without block checksums (written before they existed).
    pub unverified_reads: u64,
    /// Scrub passes finished over this partition.
    pub scrub_passes: u64,
    /// Objects and bytes the scrubber read, and objects it found damaged.
    pub scrub_objects: u64,
    pub scrub_bytes: u64,
    pub scrub_damaged_objects: u64,
}

struct ReaderEpochs {
    current: u64,
    /// Epoch → number of GETs pinned at that epoch.
    active: BTreeMap<u64, u32>,
    /// Extents freed at an epoch, waiting until no reader pinned at or before it remains.
    deferred: Vec<(u64, Vec<Extent>)>,
}

pub struct Partition {
    id: u32,
    dir: PathBuf,
    segments: SegmentStore,
    reader: MetaReader,
    jobs: Option<WorkerHandle>,
    worker_thread: Option<std::thread::JoinHandle<()>>,
    epochs: RefCell<ReaderEpochs>,
    /// Set by the worker when a failed fdatasync made it refuse writes until restart.
    writes_failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    integrity: Cell<IntegrityCounters>,
    /// Where the current master key rotation pass is (`rewrap.rs`).
    rewrap_cursor: RefCell<RewrapCursor>,
    /// Background work of this partition, shared with its worker (`tasks.rs`).
    tasks: std::sync::Arc<TaskCounters>,
    /// Records of small objects, kept coherent by `commit` (`record_cache.rs`).
    records: RefCell<RecordCache>,
}

/// How commits reach the partition's worker.
enum WorkerHandle {
    /// The worker's own thread, through a bounded queue (the server).
    Thread(flume::Sender<WorkerJob>),
    /// The worker runs each job inline on the shard thread when it is submitted: one thread,
    /// so a simulation is deterministic.
    Inline(Box<RefCell<Worker>>),
}

/// How to open a partition; the default is the server's (real files, worker thread).
#[derive(Default)]
pub struct PartitionOptions {
    /// Segment storage; `None` means the real files under the partition directory.
    pub storage: Option<Storage>,
    /// Run the worker inline (see `WorkerHandle::Inline`).
    pub inline_worker: bool,
    /// Segment size; `None` means `SEGMENT_SIZE_BYTES_MAX`. Tests make it small so that writes
    /// cross segment ends, where an object's extents split.
    pub segment_size_bytes: Option<u64>,
}

pub fn partition_dir(data_dir: &Path, partition_id: u32) -> PathBuf {
    data_dir
        .join("partitions")
        .join(format!("{partition_id:04}"))
}

impl Partition {
    /// Opens or creates the partition under `data_dir`, reclaims space no committed record
    /// references (left by a crash or by frees that were not punched yet) and starts its worker.
    /// Must run on the thread of the shard that will own it.
    pub fn open(
        data_dir: &Path,
        partition_id: u32,
    ) -> Result<(Rc<Partition>, RecoveryReport), ShardError> {
        Partition::open_with(data_dir, partition_id, PartitionOptions::default())
    }

    /// `open` with a chosen storage and worker mode (the simulation's entry point).
    pub fn open_with(
        data_dir: &Path,
        partition_id: u32,
        options: PartitionOptions,
    ) -> Result<(Rc<Partition>, RecoveryReport), ShardError> {
        let started = Instant::now();
        let dir = partition_dir(data_dir, partition_id);
        let segments_dir = dir.join("segments");
        std::fs::create_dir_all(&segments_dir)
            .map_err(|e| ShardError::io("create partition", &e))?;
        let mut writer = MetaWriter::open(&dir)?;
        // The reserve protects the file system the real segments share with SQLite; a
        // simulated disk has no such neighbour (and the simulation opens thousands of times).
        let reserve = if options.storage.is_none() {
            crate::worker::take_reserve(&dir)
        } else {
            Ok(())
        };
        if let Err(error) = reserve {
            // Not fatal: the server runs, but a full disk may then refuse deletes too.
            tracing::warn!(
                partition = partition_id,
                %error,
                "cannot allocate the metadata reserve"
            );
        }
        let mut live = writer.live_extents()?;
        writer.forget_unreferenced_damage(&live)?;
        let object_count = writer.object_count()?;
        let Storage {
            io,
            mut maintenance,
        } = options
            .storage
            .unwrap_or_else(|| Storage::direct(&segments_dir));
        let segment_ids = maintenance
            .list()
            .map_err(|e| ShardError::io("list segments", &e))?;
        let reclaimed_bytes = reclaim_unreferenced(maintenance.as_mut(), &mut live)
            .map_err(|e| ShardError::io("reclaim segments", &e))?;
        let segment_size_bytes = options
            .segment_size_bytes
            .map_or(SEGMENT_SIZE_BYTES_MAX, |bytes| {
                round_up_to_block(bytes).clamp(CHECK_BLOCK_BYTES, SEGMENT_SIZE_BYTES_MAX)
            });
        let segments = SegmentStore::open(io, &segment_ids, segment_size_bytes)?;
        let reader = MetaReader::open(&dir)?;
        let writes_failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tasks = std::sync::Arc::new(TaskCounters::default());
        let worker = Worker::new(
            writer,
            dir.clone(),
            maintenance,
            std::sync::Arc::clone(&writes_failed),
            std::sync::Arc::clone(&tasks),
        );
        let (jobs, worker_thread) = if options.inline_worker {
            (WorkerHandle::Inline(Box::new(RefCell::new(worker))), None)
        } else {
            let (jobs, receiver) = flume::bounded(WORKER_QUEUE_DEPTH);
            let thread = std::thread::Builder::new()
                .name(format!("part-{partition_id}-sync"))
                .spawn(move || worker.run(&receiver))
                .map_err(|e| ShardError::io("spawn partition worker", &e))?;
            (WorkerHandle::Thread(jobs), Some(thread))
        };
        let report = RecoveryReport {
            partition_id,
            object_count,
            live_extent_count: live.len(),
            reclaimed_bytes,
            elapsed: started.elapsed(),
        };
        // A failed recovery fails the start (the error above), so only successes are counted.
        tasks.record(TaskType::Recovery, report.elapsed, true);
        let partition = Partition {
            id: partition_id,
            dir,
            segments,
            reader,
            jobs: Some(jobs),
            worker_thread,
            epochs: RefCell::new(ReaderEpochs {
                current: 0,
                active: BTreeMap::new(),
                deferred: Vec::new(),
            }),
            writes_failed,
            integrity: Cell::new(IntegrityCounters::default()),
            rewrap_cursor: RefCell::new(RewrapCursor::Start),
            tasks,
            records: RefCell::new(RecordCache::default()),
        };
        Ok((Rc::new(partition), report))
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn is_full(&self) -> bool {
        self.segments.is_full()
    }

    /// Whether the worker refuses writes after a failed fdatasync (until restart).
    pub fn writes_failed(&self) -> bool {
        self.writes_failed
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn integrity_counters(&self) -> IntegrityCounters {
        self.integrity.get()
    }

    /// Counts what the scrubber did; it lives in the runtime, the counters live here.
    pub fn count_scrub(&self, objects: u64, bytes: u64, damaged_objects: u64, pass_done: bool) {
        self.count_integrity(|counters| {
            counters.scrub_objects += objects;
            counters.scrub_bytes += bytes;
            counters.scrub_damaged_objects += damaged_objects;
            counters.scrub_passes += u64::from(pass_done);
        });
    }

    /// A background task of this partition run elsewhere (the scrubber, an event-log trim).
    pub fn count_task(&self, task_type: TaskType, elapsed: Duration, succeeded: bool) {
        self.tasks.record(task_type, elapsed, succeeded);
    }

    /// Every task type's counters, for a scrape.
    pub fn task_stats(&self) -> Vec<(TaskType, TaskStats)> {
        self.tasks.snapshot()
    }

    /// The small-read cache's counters, for a scrape.
    pub fn cache_stats(&self) -> CacheStats {
        self.segments.cache_stats()
    }

    fn count_integrity(&self, update: impl FnOnce(&mut IntegrityCounters)) {
        let mut counters = self.integrity.get();
        update(&mut counters);
        self.integrity.set(counters);
    }

    /// Damaged blocks recorded so far (by GETs and the scrubber), for reports and repair.
    pub fn damaged(&self) -> Result<Vec<Damage>, ShardError> {
        self.reader.damaged()
    }

    /// A page of (bucket, key) pairs in (bucket, key) order after `after`: the scrubber's cursor.
    pub fn object_keys_after(
        &self,
        after: Option<&(String, Vec<u8>)>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, ShardError> {
        self.reader.object_keys_after(after, limit)
    }

    /// A check block failed verification: log it, count it, and have the worker record it
    /// for repair. Never fails: the read that found it fails instead.
    fn report_damage(&self, extent: &Extent, block_start_bytes: u64, block_length_bytes: u64) {
        let offset_bytes = extent.offset_bytes + block_start_bytes;
        tracing::error!(
            partition = self.id,
            segment_id = extent.segment_id,
            offset_bytes,
            length_bytes = block_length_bytes,
            "stored data does not match its checksum; not served"
        );
        self.count_integrity(|counters| counters.checksum_errors += 1);
        let detected_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            });
        let damage = Damage {
            segment_id: extent.segment_id,
            offset_bytes,
            length_bytes: block_length_bytes,
            detected_ms,
            bucket: String::new(),
            key: Vec::new(),
        };
        if !self.try_submit(WorkerJob::RecordDamage { damage }) {
            // The log line and the counter above still report it; the next read records it.
            tracing::warn!(
                partition = self.id,
                "worker queue full; damage not recorded"
            );
        }
    }

    /// Hands a job to the worker without waiting; false when the queue is full or closed.
    fn try_submit(&self, job: WorkerJob) -> bool {
        match &self.jobs {
            Some(WorkerHandle::Thread(jobs)) => jobs.try_send(job).is_ok(),
            Some(WorkerHandle::Inline(worker)) => {
                worker.borrow_mut().run_batch(vec![job]);
                true
            }
            None => false,
        }
    }

    /// Hands a job to the worker, waiting for room in its queue.
    async fn submit(&self, job: WorkerJob) -> Result<(), ShardError> {
        match &self.jobs {
            Some(WorkerHandle::Thread(jobs)) => jobs
                .send_async(job)
                .await
                .map_err(|_| ShardError::ShuttingDown),
            Some(WorkerHandle::Inline(worker)) => {
                worker.borrow_mut().run_batch(vec![job]);
                Ok(())
            }
            None => Err(ShardError::ShuttingDown),
        }
    }

    /// Makes `op` durable (group-committed with every other pending write of the partition)
    /// after fdatasyncing `dirty_segments`; returns when it is on disk.
    pub async fn commit(
        &self,
        op: MetaOp,
        dirty_segments: Vec<u32>,
    ) -> Result<MetaOutcome, ShardError> {
        let touched = self.records.borrow_mut().commit_started(&op);
        let (reply, response) = flume::bounded(1);
        let submitted = self
            .submit(WorkerJob::Commit {
                op: Box::new(op),
                dirty_segments,
                reply,
            })
            .await;
        let outcome = match submitted {
            Ok(()) => response
                .recv_async()
                .await
                .unwrap_or(Err(ShardError::ShuttingDown)),
            Err(error) => Err(error),
        };
        // Whatever the outcome: the worker may have applied the operation before failing. (A
        // commit future dropped before this point leaves the cache refusing new records for
        // good, which costs speed, never correctness; no caller drops one today.)
        self.records.borrow_mut().commit_finished(&touched);
        if matches!(outcome, Err(ShardError::StorageFull)) {
            // SQLite found no room for its pages: the partition is full even if its segments
            // had room (readiness reports it until a later allocation succeeds).
            self.segments.mark_full();
        }
        outcome
    }

    /// Commits and then releases whatever the commit freed.
    pub async fn commit_and_release(
        &self,
        op: MetaOp,
        dirty_segments: Vec<u32>,
    ) -> Result<MetaOutcome, ShardError> {
        let mut outcome = self.commit(op, dirty_segments).await?;
        self.release(std::mem::take(&mut outcome.freed));
        Ok(outcome)
    }

    /// Re-wraps the data keys of up to `max_rows` more rows with `keys`' current version (a
    /// master key rotation; `rewrap.rs`). Call until `pass_done`.
    pub async fn rewrap_data_keys(
        &self,
        keys: &MasterKeys,
        max_rows: usize,
    ) -> Result<RewrapProgress, ShardError> {
        let cursor = self.rewrap_cursor.borrow().clone();
        let (updates, next, mut progress) =
            rewrap::plan_batch(self.reader.connection(), keys, &cursor, max_rows)?;
        if !updates.is_empty() {
            progress.rewrapped = updates.len() as u64;
            self.commit(MetaOp::SetEncryption { updates }, Vec::new())
                .await?;
        }
        *self.rewrap_cursor.borrow_mut() = next;
        Ok(progress)
    }

    /// The master key version a finished re-wrap recorded (`mark_rewrapped`): while it is the
    /// current one, there is nothing to re-wrap.
    pub fn rewrapped_kek_version(&self) -> Result<Option<u32>, ShardError> {
        rewrap::finished_version(self.reader.connection())
    }

    /// Records that every data key of this partition is wrapped by `kek_version`, or by a
    /// version the keyring lacks (which no re-wrap can change).
    pub async fn mark_rewrapped(&self, kek_version: u32) -> Result<(), ShardError> {
        self.commit(MetaOp::RewrapFinished { kek_version }, Vec::new())
            .await
            .map(|_| ())
    }

    /// How many stored data keys each master key version wraps (a full scan of the
    /// partition's encrypted rows: for status pages, not for a hot path).
    pub fn data_keys_by_kek_version(&self) -> Result<BTreeMap<u32, u64>, ShardError> {
        rewrap::data_keys_by_version(self.reader.connection())
    }

    /// Waits until the worker has finished everything queued so far.
    pub async fn flush(&self) {
        let (reply, done) = flume::bounded(1);
        if self.submit(WorkerJob::Flush { reply }).await.is_ok() {
            let _ = done.recv_async().await;
        }
    }

    /// Hands freed extents back once no running reader can still see them.
    pub fn release(&self, extents: Vec<Extent>) {
        if extents.is_empty() {
            return;
        }
        self.segments.forget(&extents);
        {
            let mut epochs = self.epochs.borrow_mut();
            let epoch = epochs.current;
            epochs.deferred.push((epoch, extents));
            epochs.current += 1;
        }
        self.punch_released();
    }

    fn punch_released(&self) {
        let ready: Vec<Extent> = {
            let mut epochs = self.epochs.borrow_mut();
            let oldest_reader = epochs.active.keys().next().copied().unwrap_or(u64::MAX);
            let (ready, waiting): (Vec<_>, Vec<_>) = epochs
                .deferred
                .drain(..)
                .partition(|(epoch, _)| *epoch < oldest_reader);
            epochs.deferred = waiting;
            ready.into_iter().flat_map(|(_, extents)| extents).collect()
        };
        if ready.is_empty() {
            return;
        }
        // A full queue only delays reclamation: the next start punches unreferenced space.
        if !self.try_submit(WorkerJob::Punch { extents: ready }) {
            tracing::debug!(
                partition = self.id,
                "worker queue full; reclamation deferred to restart"
            );
        }
    }

    fn pin(self: &Rc<Self>) -> ReadPin {
        let mut epochs = self.epochs.borrow_mut();
        let epoch = epochs.current;
        *epochs.active.entry(epoch).or_insert(0) += 1;
        ReadPin {
            partition: Rc::clone(self),
            epoch,
        }
    }

    /// Looks up an object and pins its extents against reclamation, atomically with respect to
    /// this shard's tasks (no await in between).
    pub fn lookup_pinned(
        self: &Rc<Self>,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectRecord, ReadPin)>, ShardError> {
        let record = self.object(bucket, key)?;
        Ok(record.map(|record| (record, self.pin())))
    }

    /// Looks up one version of an object (the latest when `version` is `None`) and pins its
    /// extents against reclamation; also says whether it is the latest.
    pub fn lookup_version_pinned(
        self: &Rc<Self>,
        bucket: &str,
        key: &str,
        version: Option<&VersionRef>,
    ) -> Result<Option<(ObjectRecord, bool, ReadPin)>, ShardError> {
        let found = match version {
            None => self.object(bucket, key)?.map(|record| (record, true)),
            Some(version) => self.reader.object_version(bucket, key, version)?,
        };
        Ok(found.map(|(record, is_latest)| (record, is_latest, self.pin())))
    }

    /// One version of an object, and whether it is the latest.
    pub fn object_version(
        &self,
        bucket: &str,
        key: &str,
        version: &VersionRef,
    ) -> Result<Option<(ObjectRecord, bool)>, ShardError> {
        self.reader.object_version(bucket, key, version)
    }

    pub fn list_versions(
        &self,
        bucket: &str,
        start: &VersionStart,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<VersionEntry>, ShardError> {
        self.reader.list_versions(bucket, start, prefix, limit)
    }

    pub fn seq_of_version(
        &self,
        bucket: &str,
        key: &str,
        version: &VersionRef,
    ) -> Result<Option<u64>, ShardError> {
        self.reader.seq_of_version(bucket, key, version)
    }

    /// The committed record of an object: from the record cache, or SQLite (then cached).
    pub fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, ShardError> {
        if let Some(record) = self.records.borrow().get(bucket, key) {
            return Ok(Some(record));
        }
        let record = self.reader.object(bucket, key)?;
        if let Some(record) = &record {
            self.records.borrow_mut().insert(bucket, key, record);
        }
        Ok(record)
    }

    pub fn list(
        &self,
        bucket: &str,
        start: &ListStart,
        prefix: &[u8],
        limit: usize,
        versioned: bool,
    ) -> Result<Vec<ListEntry>, ShardError> {
        self.reader.list(bucket, start, prefix, limit, versioned)
    }

    pub fn bucket_has_objects(&self, bucket: &str) -> Result<bool, ShardError> {
        self.reader.bucket_has_objects(bucket)
    }

    pub fn upload(&self, upload_id: &str) -> Result<Option<UploadRecord>, ShardError> {
        self.reader.upload(upload_id)
    }

    pub fn buckets(&self) -> Result<Vec<BucketRecord>, ShardError> {
        self.reader.buckets()
    }

    /// The read-only metadata connection (event log, usage) of this partition.
    pub fn meta(&self) -> &MetaReader {
        &self.reader
    }

    /// Commits queued for the worker and not yet taken: how far behind it is.
    pub fn queue_depth(&self) -> usize {
        match &self.jobs {
            Some(WorkerHandle::Thread(sender)) => sender.len(),
            // Inline jobs run when submitted: nothing ever waits.
            Some(WorkerHandle::Inline(_)) | None => 0,
        }
    }

    pub fn parts(
        &self,
        upload_id: &str,
        after_part_number: u32,
        limit: usize,
    ) -> Result<Vec<PartSummary>, ShardError> {
        self.reader.parts(upload_id, after_part_number, limit)
    }

    pub fn uploads(
        &self,
        bucket: &str,
        start: &UploadStart,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<UploadSummary>, ShardError> {
        self.reader.uploads(bucket, start, prefix, limit)
    }

    /// Starts writing a new object body; `size_hint_bytes` is the exact size when known.
    pub fn writer(self: &Rc<Self>, size_hint_bytes: Option<u64>) -> ObjectWriter {
        // Small objects get a small buffer: a 1 MiB allocation per 4 KiB PUT costs more than
        // the PUT's own work (mmap, page faults, munmap).
        let buffer_bytes = size_hint_bytes.map_or(IO_BUFFER_BYTES, |size| {
            let wanted = round_up_to_block(size.max(1));
            usize::try_from(wanted)
                .unwrap_or(IO_BUFFER_BYTES)
                .min(IO_BUFFER_BYTES)
        });
        ObjectWriter {
            partition: Rc::clone(self),
            buf: Some(AlignedBuf::new(buffer_bytes)),
            extents: Vec::new(),
            reservation: None,
            reservation_used_bytes: 0,
            size_hint_bytes,
            flushed_bytes: 0,
            size_bytes: 0,
            dirty_segments: Vec::new(),
            block_checksums: Vec::new(),
            summer: BlockSummer::default(),
            encryption: None,
            lent_at_len: None,
            finished: false,
        }
    }
}

impl Drop for Partition {
    fn drop(&mut self) {
        // Closing the queue lets the worker finish what is queued and exit.
        self.jobs = None;
        if let Some(thread) = self.worker_thread.take() {
            let _ = thread.join();
        }
    }
}

/// Holds back reclamation of extents freed after this pin was taken, while a GET reads.
pub struct ReadPin {
    partition: Rc<Partition>,
    epoch: u64,
}

impl Drop for ReadPin {
    fn drop(&mut self) {
        {
            let mut epochs = self.partition.epochs.borrow_mut();
            if let Some(count) = epochs.active.get_mut(&self.epoch) {
                *count -= 1;
                if *count == 0 {
                    epochs.active.remove(&self.epoch);
                }
            }
        }
        self.partition.punch_released();
    }
}

/// The bytes of a finished write, ready to be referenced by a commit.
#[derive(Debug)]
pub struct WrittenData {
    pub extents: Vec<Extent>,
    /// CRC32C of each check block of `extents`, for the record that will reference them.
    pub block_checksums: BlockChecksums,
    pub size_bytes: u64,
    pub dirty_segments: Vec<u32>,
    /// When the writer encrypted: the tag of each check block, for the record's run.
    pub tags: Vec<Tag>,
}

/// Streams an object body into segment extents. Dropping it without `finish` frees what it
/// reserved, so an aborted request leaves no garbage behind.
pub struct ObjectWriter {
    partition: Rc<Partition>,
    buf: Option<AlignedBuf>,
    /// Extents completely written, with their logical lengths.
    extents: Vec<Extent>,
    /// The extent being filled; its `length_bytes` is the reserved (aligned) size.
    reservation: Option<Extent>,
    reservation_used_bytes: u64,
    size_hint_bytes: Option<u64>,
    flushed_bytes: u64,
    size_bytes: u64,
    dirty_segments: Vec<u32>,
    /// Checksums of the check blocks of `extents`, flattened.
    block_checksums: BlockChecksums,
    /// Checksums of the reservation being filled.
    summer: BlockSummer,
    /// Seals each check block before it is written, when the writer encrypts.
    encryption: Option<WriteEncryption>,
    /// Length of the buffer when it was lent (`lend_buffer`), until it comes back.
    lent_at_len: Option<usize>,
    finished: bool,
}

/// Cuts the bytes written into one extent into check blocks and checksums each.
#[derive(Default)]
struct BlockSummer {
    checksums: Vec<u32>,
    crc: Option<crc_fast::Digest>,
    block_filled_bytes: u64,
}

impl BlockSummer {
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room =
                usize::try_from(CHECK_BLOCK_BYTES - self.block_filled_bytes).unwrap_or(usize::MAX);
            let (now, rest) = data.split_at(room.min(data.len()));
            self.crc
                .get_or_insert_with(|| crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi))
                .update(now);
            self.block_filled_bytes += now.len() as u64;
            data = rest;
            if self.block_filled_bytes == CHECK_BLOCK_BYTES {
                self.close_block();
            }
        }
    }

    fn close_block(&mut self) {
        if let Some(crc) = self.crc.take() {
            let crc = u32::try_from(crc.finalize()).expect("a CRC32C fits in 32 bits");
            self.checksums.push(crc);
        }
        self.block_filled_bytes = 0;
    }

    /// The checksums of the extent, its partial last block included; resets for the next.
    fn finish(&mut self) -> Vec<u32> {
        self.close_block();
        std::mem::take(&mut self.checksums)
    }
}

impl ObjectWriter {
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    /// Encrypts everything this writer writes with `cipher` (one run), sealing every check
    /// block. Called before the first write.
    pub fn encrypt_with(&mut self, cipher: ObjectCipher) {
        assert_eq!(self.size_bytes, 0, "encryption starts with the first byte");
        self.encryption = Some(WriteEncryption::new(cipher));
    }

    pub async fn write(&mut self, mut data: &[u8]) -> Result<(), ShardError> {
        while !data.is_empty() {
            let buf = self.buf.as_mut().ok_or(ShardError::ShuttingDown)?;
            let taken = buf.extend_from_slice(data);
            data = &data[taken..];
            self.size_bytes += taken as u64;
            self.check_size_hint()?;
            if self.buf.as_ref().is_some_and(|buf| buf.remaining() == 0) {
                self.flush_buffer(false).await?;
            }
        }
        Ok(())
    }

    /// A declared size is a promise: the buffer and the reservation were sized by it, and the
    /// flush that reaches it is the object's last (the one that may end mid check block).
    /// The front end never writes more (its body readers stop at the declared length).
    fn check_size_hint(&self) -> Result<(), ShardError> {
        match self.size_hint_bytes {
            Some(hint) if self.size_bytes > hint => Err(ShardError::Io {
                context: "write object",
                kind: std::io::ErrorKind::InvalidInput,
                message: format!("more than the declared {hint} bytes"),
            }),
            _ => Ok(()),
        }
    }

    /// Lends the IO buffer, which always has free room, to a caller that appends body bytes
    /// to it in place: a socket read straight into the O_DIRECT buffer saves a copy of every
    /// byte (1 MiB PUT, perf). Give it back with `return_buffer` before any other call.
    pub fn lend_buffer(&mut self) -> Result<AlignedBuf, ShardError> {
        let buf = self.buf.take().ok_or(ShardError::ShuttingDown)?;
        debug_assert!(buf.remaining() > 0, "a full buffer is always flushed");
        self.lent_at_len = Some(buf.len());
        Ok(buf)
    }

    /// Takes back the lent buffer with the bytes appended to it; writes it when full (through
    /// `flush_buffer`, the one place a buffer is written). The bytes before the lent length
    /// must be unchanged.
    pub async fn return_buffer(&mut self, buf: AlignedBuf) -> Result<(), ShardError> {
        let lent_at_len = self
            .lent_at_len
            .take()
            .expect("return_buffer without lend_buffer");
        assert!(self.buf.is_none() && buf.len() >= lent_at_len);
        self.size_bytes += (buf.len() - lent_at_len) as u64;
        let full = buf.remaining() == 0;
        self.buf = Some(buf);
        self.check_size_hint()?;
        if full {
            self.flush_buffer(false).await?;
        }
        Ok(())
    }

    /// Writes the buffered bytes (zero-padded to a block) into reserved extents.
    ///
    /// Every flush but the object's last holds whole check blocks (a full buffer of a
    /// multiple of 64 KiB, or a small buffer that is full only at the declared size, which
    /// makes it the last), and every extent but the last holds whole check blocks (a
    /// reservation too short for the rest takes only whole blocks): so check block `i` of any
    /// extent is block `offset / 64 KiB` of the object, which GCM sealing needs.
    async fn flush_buffer(&mut self, finishing: bool) -> Result<(), ShardError> {
        let mut buf = self.buf.take().ok_or(ShardError::ShuttingDown)?;
        let logical = buf.len();
        // In place, while the bytes are still in cache from the copy into the buffer.
        if let Some(encryption) = self.encryption.as_mut() {
            let last =
                finishing || self.size_hint_bytes == Some(self.flushed_bytes + logical as u64);
            if let Err(error) = encryption.seal(buf.as_mut_slice(), last) {
                self.buf = Some(buf);
                return Err(error);
            }
        }
        buf.pad_to_block();
        let padded = buf.len();
        let mut position = 0usize;
        while position < padded {
            let pending = (padded - position) as u64;
            let reservation = match self.reservation {
                Some(extent) if self.usable_bytes(&extent, pending) > 0 => extent,
                _ => self.reserve(pending)?,
            };
            let count =
                usize::try_from(self.usable_bytes(&reservation, pending)).unwrap_or(usize::MAX);
            let offset = reservation.offset_bytes + self.reservation_used_bytes;
            let (result, returned) = self
                .partition
                .segments
                .write(
                    reservation.segment_id,
                    offset,
                    buf,
                    position,
                    position + count,
                )
                .await;
            buf = returned;
            if let Err(error) = result {
                self.buf = Some(buf);
                return Err(error);
            }
            // Only object bytes are checksummed: the zero padding of the last block is not.
            let logical_end = (position + count).min(logical);
            if let Some(written) = buf.as_slice().get(position..logical_end) {
                self.summer.feed(written);
            }
            if !self.dirty_segments.contains(&reservation.segment_id) {
                self.dirty_segments.push(reservation.segment_id);
            }
            self.reservation_used_bytes += count as u64;
            position += count;
        }
        self.flushed_bytes += logical as u64;
        // Padding is only ever written by the last flush; remove it from the logical length.
        self.reservation_used_bytes -= (padded - logical) as u64;
        buf.clear();
        self.buf = Some(buf);
        Ok(())
    }

    /// How many of `pending` bytes go into `reservation` now: all if they fit, else as many
    /// whole check blocks as fit (see `flush_buffer`; the used part is whole blocks already).
    fn usable_bytes(&self, reservation: &Extent, pending_bytes: u64) -> u64 {
        let space = reservation.length_bytes - self.reservation_used_bytes;
        if space >= pending_bytes {
            pending_bytes
        } else {
            space / CHECK_BLOCK_BYTES * CHECK_BLOCK_BYTES
        }
    }

    /// Closes the current reservation and reserves the next one, with room for at least a
    /// check block or for all of `pending_bytes`.
    fn reserve(&mut self, pending_bytes: u64) -> Result<Extent, ShardError> {
        self.close_reservation();
        let wanted = match self.size_hint_bytes {
            Some(hint) => hint.saturating_sub(self.flushed_bytes).max(pending_bytes),
            None => UNKNOWN_LENGTH_RESERVATION_BYTES.max(pending_bytes),
        };
        let mut extent = self.partition.segments.allocate(wanted)?;
        if extent.length_bytes < pending_bytes.min(CHECK_BLOCK_BYTES) {
            // The end of a segment, too short for a check block: left unused (released, not
            // given back to the tail, so the next allocation starts a new segment).
            self.partition.release(vec![extent]);
            extent = self.partition.segments.allocate(wanted)?;
        }
        self.reservation = Some(extent);
        self.reservation_used_bytes = 0;
        Ok(extent)
    }

    /// Moves the used part of the reservation to `extents` and frees the unused tail.
    fn close_reservation(&mut self) {
        let Some(reservation) = self.reservation.take() else {
            return;
        };
        let used = self.reservation_used_bytes;
        let checksums = self.summer.finish();
        if used > 0 {
            self.extents.push(Extent {
                length_bytes: used,
                ..reservation
            });
            self.block_checksums.extend(checksums);
        }
        let used_disk = round_up_to_block(used);
        if used_disk < reservation.length_bytes {
            let unused = Extent {
                segment_id: reservation.segment_id,
                offset_bytes: reservation.offset_bytes + used_disk,
                length_bytes: reservation.length_bytes - used_disk,
            };
            if !self.partition.segments.try_shrink_tail(&unused) {
                self.partition.release(vec![unused]);
            }
        }
        self.reservation_used_bytes = 0;
    }

    /// Writes what is buffered and returns the extents, ready for a commit.
    pub async fn finish(mut self) -> Result<WrittenData, ShardError> {
        if self.buf.as_ref().is_some_and(|buf| !buf.is_empty()) {
            self.flush_buffer(true).await?;
        }
        self.close_reservation();
        self.finished = true;
        assert_eq!(
            self.extents.iter().map(|e| e.length_bytes).sum::<u64>(),
            self.size_bytes
        );
        assert!(checksums_cover(&self.extents, &self.block_checksums));
        let tags = self
            .encryption
            .as_mut()
            .map(WriteEncryption::take_tags)
            .unwrap_or_default();
        Ok(WrittenData {
            extents: std::mem::take(&mut self.extents),
            block_checksums: std::mem::take(&mut self.block_checksums),
            size_bytes: self.size_bytes,
            dirty_segments: std::mem::take(&mut self.dirty_segments),
            tags,
        })
    }
}

impl Drop for ObjectWriter {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut garbage = std::mem::take(&mut self.extents);
        if let Some(reservation) = self.reservation.take() {
            garbage.push(reservation);
        }
        self.partition.release(garbage);
    }
}

/// Reads `[start, end)` of an object in block-aligned transfers of at most `IO_BUFFER_BYTES`.
///
/// When the object has block checksums, every transfer covers whole check blocks and each is
/// verified before `next` returns any of its bytes: a damaged block is an error
/// (`ShardError::DataCorrupt`), never data. Callers that have not sent a response head yet turn
/// it into an error status; later ones cut the connection short.
pub struct ObjectReader {
    partition: Rc<Partition>,
    _pin: ReadPin,
    extents: Vec<Extent>,
    /// Flattened per extent (see `BlockChecksums`); empty: read unverified.
    block_checksums: BlockChecksums,
    /// Index in `block_checksums` of each extent's first check block.
    first_block_of_extent: Vec<usize>,
    extent_index: usize,
    offset_in_extent_bytes: u64,
    remaining_bytes: u64,
    /// Small reads may come from the segment store's read cache; the scrubber turns this off.
    cached: bool,
    /// Encrypted objects: tags checked in place of the CRCs, and each block decrypted.
    decryption: Option<ReadDecryption>,
}

impl ObjectReader {
    /// Reads from the disk only, never from the read cache (the scrubber).
    #[must_use]
    pub fn bypass_cache(mut self) -> ObjectReader {
        self.cached = false;
        self
    }

    /// Verifies each block's tag (instead of its CRC, which the tag subsumes) and decrypts
    /// the blocks it reads, so it returns plaintext. Without this an encrypted object reads as
    /// its CRC-checked ciphertext (the scrubber).
    #[must_use]
    pub fn decrypting(mut self, decryption: ReadDecryption) -> ObjectReader {
        self.decryption = Some(decryption);
        self
    }

    /// Whether reads cover whole check blocks and verify each.
    fn verifies(&self) -> bool {
        !self.block_checksums.is_empty() || self.decryption.is_some()
    }

    /// `start..end` must lie within the object (the caller validated the range).
    pub fn new(
        partition: &Rc<Partition>,
        record: &ObjectRecord,
        pin: ReadPin,
        range: Range<u64>,
    ) -> ObjectReader {
        assert!(range.start <= range.end && range.end <= record.size_bytes);
        let mut skip = range.start;
        let mut extent_index = 0;
        while extent_index < record.extents.len()
            && skip >= record.extents[extent_index].length_bytes
        {
            skip -= record.extents[extent_index].length_bytes;
            extent_index += 1;
        }
        let mut first_block_of_extent = Vec::with_capacity(record.extents.len());
        let mut blocks = 0usize;
        for extent in &record.extents {
            first_block_of_extent.push(blocks);
            blocks += extent.check_block_count();
        }
        // `decode_extents_checked` rejects partial sets; a record built in memory must not
        // carry one either.
        assert!(
            record.block_checksums.is_empty()
                || checksums_cover(&record.extents, &record.block_checksums)
        );
        if record.block_checksums.is_empty() && !record.extents.is_empty() {
            partition.count_integrity(|counters| counters.unverified_reads += 1);
        }
        ObjectReader {
            partition: Rc::clone(partition),
            _pin: pin,
            extents: record.extents.clone(),
            block_checksums: record.block_checksums.clone(),
            first_block_of_extent,
            extent_index,
            cached: true,
            decryption: None,
            offset_in_extent_bytes: skip,
            remaining_bytes: range.end - range.start,
        }
    }

    /// A buffer size that fits this read without waste, and always at least one whole check
    /// block of every extent it touches.
    pub fn buffer_size_bytes(&self) -> usize {
        let mut wanted = round_up_to_block(self.remaining_bytes + 4096);
        if self.verifies() {
            let largest_block = self.extents[self.extent_index.min(self.extents.len())..]
                .iter()
                .map(|extent| extent.disk_length_bytes().min(CHECK_BLOCK_BYTES))
                .max()
                .unwrap_or(0);
            wanted = wanted.max(largest_block);
        }
        usize::try_from(wanted)
            .unwrap_or(IO_BUFFER_BYTES)
            .clamp(4096, IO_BUFFER_BYTES)
    }

    pub fn remaining_bytes(&self) -> u64 {
        self.remaining_bytes
    }

    /// Reads the next piece into `buf`; returns the range of `buf` holding object bytes, or
    /// `None` at the end.
    pub async fn next(
        &mut self,
        buf: AlignedBuf,
    ) -> (Result<Option<Range<usize>>, ShardError>, AlignedBuf) {
        if self.remaining_bytes == 0 {
            return (Ok(None), buf);
        }
        let Some(extent) = self.extents.get(self.extent_index).copied() else {
            return (
                Err(ShardError::CorruptRecord(
                    "object extents shorter than its size",
                )),
                buf,
            );
        };
        let verified = self.verifies();
        let in_extent = extent.length_bytes - self.offset_in_extent_bytes;
        let wanted = in_extent.min(self.remaining_bytes);
        let capacity = buf.capacity() as u64;
        let (aligned_start, read_length) = if verified {
            // Whole check blocks only, as many as fit (at least one: see buffer_size_bytes).
            let aligned_start = self.offset_in_extent_bytes / CHECK_BLOCK_BYTES * CHECK_BLOCK_BYTES;
            let blocks_fitting = (capacity / CHECK_BLOCK_BYTES).max(1);
            let read_length = (blocks_fitting * CHECK_BLOCK_BYTES)
                .min(extent.disk_length_bytes() - aligned_start);
            if read_length > capacity {
                return (
                    Err(ShardError::Io {
                        context: "read segment",
                        kind: std::io::ErrorKind::InvalidInput,
                        message: "read buffer smaller than a check block".to_owned(),
                    }),
                    buf,
                );
            }
            (aligned_start, read_length)
        } else {
            let aligned_start = round_down_to_block(self.offset_in_extent_bytes);
            let read_length = (round_up_to_block(self.offset_in_extent_bytes + wanted)
                - aligned_start)
                .min(capacity);
            (aligned_start, read_length)
        };
        let lead = self.offset_in_extent_bytes - aligned_start;
        let valid = wanted.min(read_length - lead);
        let read_length_usize = usize::try_from(read_length).unwrap_or(usize::MAX);
        let segments = &self.partition.segments;
        let offset_bytes = extent.offset_bytes + aligned_start;
        let (result, buf) = if self.cached {
            segments
                .read(extent.segment_id, offset_bytes, buf, read_length_usize)
                .await
        } else {
            segments
                .read_uncached(extent.segment_id, offset_bytes, buf, read_length_usize)
                .await
        };
        if let Err(error) = result {
            return (Err(error), buf);
        }
        let mut buf = buf;
        if verified && let Err(error) = self.verify(&extent, aligned_start, read_length, &mut buf) {
            return (Err(error), buf);
        }
        let (lead_usize, valid_usize) = (
            usize::try_from(lead).unwrap_or(0),
            usize::try_from(valid).unwrap_or(0),
        );
        self.offset_in_extent_bytes += valid;
        self.remaining_bytes -= valid;
        if self.offset_in_extent_bytes == extent.length_bytes {
            self.extent_index += 1;
            self.offset_in_extent_bytes = 0;
        }
        (Ok(Some(lead_usize..lead_usize + valid_usize)), buf)
    }

    /// Checks every check block in `buf`, which holds `[aligned_start, +read_length)` of the
    /// current extent (block-aligned, whole check blocks); decrypts them when decrypting.
    fn verify(
        &self,
        extent: &Extent,
        aligned_start: u64,
        read_length: u64,
        buf: &mut AlignedBuf,
    ) -> Result<(), ShardError> {
        let first_block = self.first_block_of_extent[self.extent_index];
        let mut block_start = aligned_start;
        while block_start < aligned_start + read_length && block_start < extent.length_bytes {
            let block_end = (block_start + CHECK_BLOCK_BYTES).min(extent.length_bytes);
            let in_buf = usize::try_from(block_start - aligned_start).unwrap_or(usize::MAX)
                ..usize::try_from(block_end - aligned_start).unwrap_or(usize::MAX);
            let index = first_block
                + usize::try_from(block_start / CHECK_BLOCK_BYTES).unwrap_or(usize::MAX);
            let block = buf.as_mut_slice().get_mut(in_buf);
            let intact = match (&self.decryption, block) {
                (Some(decryption), Some(block)) => {
                    decryption.open(self.extent_index, block_start / CHECK_BLOCK_BYTES, block)
                }
                (None, Some(block)) => {
                    self.block_checksums.get(index).copied() == Some(block_checksum(block))
                }
                (_, None) => false,
            };
            if !intact {
                self.partition
                    .report_damage(extent, block_start, block_end - block_start);
                return Err(ShardError::DataCorrupt {
                    segment_id: extent.segment_id,
                    offset_bytes: extent.offset_bytes + block_start,
                });
            }
            self.partition
                .count_integrity(|counters| counters.blocks_verified += 1);
            block_start = block_end;
        }
        Ok(())
    }
}

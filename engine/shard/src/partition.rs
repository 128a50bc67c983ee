//! A partition: one slice of the key space of every bucket, with its own segment files, its own
//! SQLite metadata and its own worker thread. A partition is owned by exactly one shard and is
//! only ever touched from that shard's thread (it is `!Send`).
//!
//! Visibility rule: object bytes are written first, then the commit that references them is
//! made durable by the worker; only then is the request answered. Freed extents are punched only
//! once no GET that might still read them is running (reader epochs).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::aligned::{AlignedBuf, round_down_to_block, round_up_to_block};
use crate::error::ShardError;
use crate::meta::{
    MetaOp, MetaOutcome, MetaReader, MetaWriter, PartSummary, UploadStart, UploadSummary,
};
use crate::record::{BucketRecord, Extent, ListEntry, ListStart, ObjectRecord, UploadRecord};
use crate::segments::{SegmentStore, list_segment_ids, reclaim_unreferenced};
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
    jobs: Option<flume::Sender<WorkerJob>>,
    worker_thread: Option<std::thread::JoinHandle<()>>,
    epochs: RefCell<ReaderEpochs>,
    /// Set by the worker when a failed fdatasync made it refuse writes until restart.
    writes_failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
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
        let started = Instant::now();
        let dir = partition_dir(data_dir, partition_id);
        let segments_dir = dir.join("segments");
        std::fs::create_dir_all(&segments_dir)
            .map_err(|e| ShardError::io("create partition", &e))?;
        let writer = MetaWriter::open(&dir)?;
        let mut live = writer.live_extents()?;
        let object_count = writer.object_count()?;
        let segment_ids =
            list_segment_ids(&segments_dir).map_err(|e| ShardError::io("list segments", &e))?;
        let reclaimed_bytes = reclaim_unreferenced(&segments_dir, &segment_ids, &mut live)
            .map_err(|e| ShardError::io("reclaim segments", &e))?;
        let segments = SegmentStore::open(&segments_dir, &segment_ids)?;
        let reader = MetaReader::open(&dir)?;
        let (jobs, receiver) = flume::bounded(WORKER_QUEUE_DEPTH);
        let writes_failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let worker = Worker::new(writer, segments_dir, std::sync::Arc::clone(&writes_failed));
        let worker_thread = std::thread::Builder::new()
            .name(format!("part-{partition_id}-sync"))
            .spawn(move || worker.run(&receiver))
            .map_err(|e| ShardError::io("spawn partition worker", &e))?;
        let report = RecoveryReport {
            partition_id,
            object_count,
            live_extent_count: live.len(),
            reclaimed_bytes,
            elapsed: started.elapsed(),
        };
        let partition = Partition {
            id: partition_id,
            dir,
            segments,
            reader,
            jobs: Some(jobs),
            worker_thread: Some(worker_thread),
            epochs: RefCell::new(ReaderEpochs {
                current: 0,
                active: BTreeMap::new(),
                deferred: Vec::new(),
            }),
            writes_failed,
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

    fn jobs(&self) -> Result<&flume::Sender<WorkerJob>, ShardError> {
        self.jobs.as_ref().ok_or(ShardError::ShuttingDown)
    }

    /// Makes `op` durable (group-committed with every other pending write of the partition)
    /// after fdatasyncing `dirty_segments`; returns when it is on disk.
    pub async fn commit(
        &self,
        op: MetaOp,
        dirty_segments: Vec<u32>,
    ) -> Result<MetaOutcome, ShardError> {
        let (reply, response) = flume::bounded(1);
        self.jobs()?
            .send_async(WorkerJob::Commit {
                op: Box::new(op),
                dirty_segments,
                reply,
            })
            .await
            .map_err(|_| ShardError::ShuttingDown)?;
        let outcome = response
            .recv_async()
            .await
            .map_err(|_| ShardError::ShuttingDown)??;
        Ok(outcome)
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

    /// Waits until the worker has finished everything queued so far.
    pub async fn flush(&self) {
        let (reply, done) = flume::bounded(1);
        if let Ok(jobs) = self.jobs()
            && jobs.send_async(WorkerJob::Flush { reply }).await.is_ok()
        {
            let _ = done.recv_async().await;
        }
    }

    /// Hands freed extents back once no running reader can still see them.
    pub fn release(&self, extents: Vec<Extent>) {
        if extents.is_empty() {
            return;
        }
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
        if let Ok(jobs) = self.jobs() {
            // A full queue only delays reclamation: the next start punches unreferenced space.
            if jobs.try_send(WorkerJob::Punch { extents: ready }).is_err() {
                tracing::debug!(
                    partition = self.id,
                    "worker queue full; reclamation deferred to restart"
                );
            }
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
        let record = self.reader.object(bucket, key)?;
        Ok(record.map(|record| (record, self.pin())))
    }

    pub fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, ShardError> {
        self.reader.object(bucket, key)
    }

    pub fn list(
        &self,
        bucket: &str,
        start: &ListStart,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<ListEntry>, ShardError> {
        self.reader.list(bucket, start, prefix, limit)
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
        self.jobs.as_ref().map_or(0, flume::Sender::len)
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
    pub size_bytes: u64,
    pub dirty_segments: Vec<u32>,
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
    finished: bool,
}

impl ObjectWriter {
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    pub async fn write(&mut self, mut data: &[u8]) -> Result<(), ShardError> {
        while !data.is_empty() {
            let buf = self.buf.as_mut().ok_or(ShardError::ShuttingDown)?;
            let taken = buf.extend_from_slice(data);
            data = &data[taken..];
            self.size_bytes += taken as u64;
            if buf.remaining() == 0 {
                self.flush_buffer().await?;
            }
        }
        Ok(())
    }

    /// Writes the buffered bytes (zero-padded to a block) into reserved extents.
    async fn flush_buffer(&mut self) -> Result<(), ShardError> {
        let mut buf = self.buf.take().ok_or(ShardError::ShuttingDown)?;
        let logical = buf.len();
        buf.pad_to_block();
        let padded = buf.len();
        let mut position = 0usize;
        while position < padded {
            let pending = (padded - position) as u64;
            let reservation = match self.reservation {
                Some(extent) if self.reservation_used_bytes < extent.length_bytes => extent,
                _ => self.reserve(pending)?,
            };
            let space = reservation.length_bytes - self.reservation_used_bytes;
            let count = usize::try_from(space.min(pending)).unwrap_or(usize::MAX);
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

    /// Closes the current reservation and reserves the next one.
    fn reserve(&mut self, pending_bytes: u64) -> Result<Extent, ShardError> {
        self.close_reservation();
        let wanted = match self.size_hint_bytes {
            Some(hint) => hint.saturating_sub(self.flushed_bytes).max(pending_bytes),
            None => UNKNOWN_LENGTH_RESERVATION_BYTES.max(pending_bytes),
        };
        let extent = self.partition.segments.allocate(wanted)?;
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
        if used > 0 {
            self.extents.push(Extent {
                length_bytes: used,
                ..reservation
            });
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
            self.flush_buffer().await?;
        }
        self.close_reservation();
        self.finished = true;
        assert_eq!(
            self.extents.iter().map(|e| e.length_bytes).sum::<u64>(),
            self.size_bytes
        );
        Ok(WrittenData {
            extents: std::mem::take(&mut self.extents),
            size_bytes: self.size_bytes,
            dirty_segments: std::mem::take(&mut self.dirty_segments),
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
pub struct ObjectReader {
    partition: Rc<Partition>,
    _pin: ReadPin,
    extents: Vec<Extent>,
    extent_index: usize,
    offset_in_extent_bytes: u64,
    remaining_bytes: u64,
}

impl ObjectReader {
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
        ObjectReader {
            partition: Rc::clone(partition),
            _pin: pin,
            extents: record.extents.clone(),
            extent_index,
            offset_in_extent_bytes: skip,
            remaining_bytes: range.end - range.start,
        }
    }

    /// A buffer size that fits this read without waste.
    pub fn buffer_size_bytes(&self) -> usize {
        let wanted = round_up_to_block(self.remaining_bytes + 4096);
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
        let in_extent = extent.length_bytes - self.offset_in_extent_bytes;
        let wanted = in_extent.min(self.remaining_bytes);
        let aligned_start = round_down_to_block(self.offset_in_extent_bytes);
        let lead = self.offset_in_extent_bytes - aligned_start;
        let capacity = buf.capacity() as u64;
        let read_length =
            (round_up_to_block(self.offset_in_extent_bytes + wanted) - aligned_start).min(capacity);
        let valid = wanted.min(read_length - lead);
        let read_length = usize::try_from(read_length).unwrap_or(usize::MAX);
        let (result, buf) = self
            .partition
            .segments
            .read(
                extent.segment_id,
                extent.offset_bytes + aligned_start,
                buf,
                read_length,
            )
            .await;
        if let Err(error) = result {
            return (Err(error), buf);
        }
        self.offset_in_extent_bytes += valid;
        self.remaining_bytes -= valid;
        if self.offset_in_extent_bytes == extent.length_bytes {
            self.extent_index += 1;
            self.offset_in_extent_bytes = 0;
        }
        let lead = usize::try_from(lead).unwrap_or(0);
        let valid = usize::try_from(valid).unwrap_or(0);
        (Ok(Some(lead..lead + valid)), buf)
    }
}

//! The partition worker: one OS thread per partition that makes writes durable.
//!
//! The shard thread never blocks on fsync. It sends each metadata mutation here with the list of
//! segments it wrote; the worker drains everything queued (group commit), fdatasyncs the dirty
//! segments, applies the whole batch in one SQLite transaction with `synchronous=FULL`, and only
//! then answers each request. While one batch syncs, the next accumulates, so the fsync cost is
//! shared by all concurrent writers of the partition.
//!
//! The worker also punches holes for freed extents, after the commit that freed them.
//!
//! Failure policy (fsyncgate): after a failed fdatasync the state of the written pages is
//! unknown, so the worker fails the batch and refuses every later commit until restart; reads
//! keep working.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::error::ShardError;
use crate::meta::{MetaOp, MetaOutcome, MetaWriter};
use crate::record::Extent;
use crate::segments::fallocate_file;
use crate::storage::SegmentMaintenance;
use crate::tasks::{TaskCounters, TaskType};

/// Size of each partition's reserve file: space held back so that metadata commits (deletes
/// above all) still succeed when the file system is full. SQLite needs WAL pages to delete.
pub const RESERVE_BYTES: u64 = 8 << 20;
/// Name of the reserve file in the partition directory.
pub const RESERVE_FILE_NAME: &str = "reserve";
/// After the reserve was released, how often the worker tries to take the space back.
const RESERVE_RETRY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Creates (or completes) the reserve file; fails with ENOSPC on a full file system.
pub fn take_reserve(partition_dir: &std::path::Path) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(partition_dir.join(RESERVE_FILE_NAME))?;
    fallocate_file(&file, 0, RESERVE_BYTES)?;
    file.sync_all()
}

/// Most commit requests in one group commit; bounds the transaction and the reply fan-out.
const BATCH_OPS_MAX: usize = 512;
/// Queue between a shard and its partition worker; a full queue is backpressure on PUTs.
pub const WORKER_QUEUE_DEPTH: usize = 4096;

pub type CommitReply = flume::Sender<Result<MetaOutcome, ShardError>>;

pub enum WorkerJob {
    Commit {
        /// Boxed: object records are large and most queued jobs are small.
        op: Box<MetaOp>,
        dirty_segments: Vec<u32>,
        reply: CommitReply,
    },
    Punch {
        extents: Vec<Extent>,
    },
    /// A check block failed verification: record it in the `damaged` table for repair.
    RecordDamage {
        damage: crate::meta::Damage,
    },
    /// Answered once every job queued before it is done.
    Flush {
        reply: flume::Sender<()>,
    },
}

pub struct Worker {
    writer: MetaWriter,
    /// The partition directory (for the reserve file).
    partition_dir: PathBuf,
    /// fdatasync and hole punching of segments (the storage interface's worker half).
    storage: Box<dyn SegmentMaintenance>,
    /// Set by a failed fdatasync or COMMIT; every later commit fails with it.
    poisoned: Option<ShardError>,
    /// Mirrors `poisoned` for the owning shard's readiness check (read only on /health/ready).
    writes_failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// When the reserve file was given back to the file system (`None`: it is held).
    reserve_released_at: Option<std::time::Instant>,
    /// Punch batches and reserve changes, for `maxiofs_background_tasks_total`.
    tasks: Arc<TaskCounters>,
}

impl Worker {
    pub fn new(
        writer: MetaWriter,
        partition_dir: PathBuf,
        storage: Box<dyn SegmentMaintenance>,
        writes_failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
        tasks: Arc<TaskCounters>,
    ) -> Worker {
        Worker {
            writer,
            partition_dir,
            storage,
            poisoned: None,
            writes_failed,
            reserve_released_at: None,
            tasks,
        }
    }

    /// Runs until every sender of `jobs` is gone.
    pub fn run(mut self, jobs: &flume::Receiver<WorkerJob>) {
        while let Ok(first) = jobs.recv() {
            let mut batch = vec![first];
            while batch.len() < BATCH_OPS_MAX
                && let Ok(job) = jobs.try_recv()
            {
                batch.push(job);
            }
            self.run_batch(batch);
        }
    }

    /// One group commit: every commit of `jobs` shares one round of fdatasyncs and one
    /// transaction; punches run after it. The simulation calls this inline, job by job.
    pub fn run_batch(&mut self, jobs: Vec<WorkerJob>) {
        let mut commits: Vec<(MetaOp, CommitReply)> = Vec::new();
        let mut dirty: Vec<u32> = Vec::new();
        let mut punches: Vec<Extent> = Vec::new();
        let mut flushes: Vec<flume::Sender<()>> = Vec::new();
        for job in jobs {
            match job {
                WorkerJob::Commit {
                    op,
                    dirty_segments,
                    reply,
                } => {
                    dirty.extend(dirty_segments);
                    commits.push((*op, reply));
                }
                WorkerJob::Punch { extents } => punches.extend(extents),
                WorkerJob::RecordDamage { damage } => {
                    if let Err(error) = self.writer.record_damage(damage) {
                        tracing::error!(%error, "recording a damaged block failed");
                    }
                }
                WorkerJob::Flush { reply } => flushes.push(reply),
            }
        }
        self.commit_batch(&mut commits, &mut dirty);
        self.punch(&mut punches);
        for reply in flushes {
            let _ = reply.send(());
        }
    }

    fn commit_batch(&mut self, commits: &mut Vec<(MetaOp, CommitReply)>, dirty: &mut Vec<u32>) {
        if commits.is_empty() {
            return;
        }
        dirty.sort_unstable();
        dirty.dedup();
        if self.poisoned.is_none() {
            for segment_id in dirty.drain(..) {
                if let Err(error) = self.sync_segment(segment_id) {
                    tracing::error!(
                        %error,
                        segment_id,
                        "fdatasync failed; partition refuses writes until restart"
                    );
                    self.poisoned = Some(error);
                    self.writes_failed
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    break;
                }
            }
        }
        dirty.clear();
        let (ops, replies): (Vec<MetaOp>, Vec<CommitReply>) = commits.drain(..).unzip();
        let results = match &self.poisoned {
            Some(error) => ops.iter().map(|_| Err(error.clone())).collect(),
            None => self.apply_with_reserve(ops),
        };
        for (result, reply) in results.into_iter().zip(replies) {
            // The requester may have gone (connection closed); the commit stands regardless.
            let _ = reply.send(result);
        }
    }

    /// Applies the batch; ops that failed for lack of space are retried once after the
    /// reserve file is released, so that deletes (which give space back) work on a full disk.
    fn apply_with_reserve(&mut self, ops: Vec<MetaOp>) -> Vec<Result<MetaOutcome, ShardError>> {
        let mut results = self.writer.apply_batch(&ops);
        let full = |result: &Result<MetaOutcome, ShardError>| {
            matches!(result, Err(ShardError::StorageFull))
        };
        if !results.iter().any(full) {
            self.retake_reserve();
            return results;
        }
        // Only operations that give space back may use the reserve; a write that would eat it
        // would leave the disk full with nothing left to delete with.
        let frees_space = MetaOp::frees_space;
        let retry_wanted = ops
            .iter()
            .zip(&results)
            .any(|(op, result)| full(result) && frees_space(op));
        if !retry_wanted || !self.release_reserve() {
            return results;
        }
        let (retry_indices, retry_ops): (Vec<usize>, Vec<MetaOp>) = ops
            .into_iter()
            .enumerate()
            .filter(|(index, op)| full(&results[*index]) && frees_space(op))
            .unzip();
        let retried = self.writer.apply_batch(&retry_ops);
        for (index, result) in retry_indices.into_iter().zip(retried) {
            results[index] = result;
        }
        results
    }

    /// Gives the reserve file's space back; false when it was already released.
    fn release_reserve(&mut self) -> bool {
        if self.reserve_released_at.is_some() {
            return false;
        }
        let started = Instant::now();
        self.reserve_released_at = Some(started);
        let partition_dir = &self.partition_dir;
        let released = match std::fs::remove_file(partition_dir.join(RESERVE_FILE_NAME)) {
            Ok(()) => {
                tracing::warn!(
                    dir = %partition_dir.display(),
                    "file system full: released the metadata reserve so deletes keep working"
                );
                true
            }
            Err(error) => {
                tracing::warn!(%error, "file system full and no metadata reserve to release");
                false
            }
        };
        self.tasks
            .record(TaskType::ReserveRelease, started.elapsed(), released);
        released
    }

    /// Takes the reserve back once space has returned (tried at most every few seconds).
    fn retake_reserve(&mut self) {
        let Some(released_at) = self.reserve_released_at else {
            return;
        };
        if released_at.elapsed() < RESERVE_RETRY_INTERVAL {
            return;
        }
        let started = Instant::now();
        let restored = take_reserve(&self.partition_dir);
        // A failure here means the disk is still (nearly) full; the next batch tries again.
        self.tasks.record(
            TaskType::ReserveRestore,
            started.elapsed(),
            restored.is_ok(),
        );
        match restored {
            Ok(()) => {
                let dir = self.partition_dir.display();
                tracing::info!(%dir, "metadata reserve restored");
                self.reserve_released_at = None;
            }
            Err(_) => self.reserve_released_at = Some(std::time::Instant::now()),
        }
    }

    fn sync_segment(&mut self, segment_id: u32) -> Result<(), ShardError> {
        self.storage
            .sync(segment_id)
            .map_err(|e| ShardError::io("fdatasync segment", &e))
    }

    /// Punches a batch of freed extents: one `reclaim` task, failed if any punch failed.
    fn punch(&mut self, extents: &mut Vec<Extent>) {
        if extents.is_empty() {
            return;
        }
        let started = Instant::now();
        let mut all_punched = true;
        for extent in extents.drain(..) {
            let result = self.storage.punch_hole(
                extent.segment_id,
                extent.offset_bytes,
                extent.disk_length_bytes(),
            );
            if let Err(error) = result {
                // Not fatal: the range stays allocated until the next start reclaims it.
                tracing::warn!(%error, ?extent, "punching a freed extent failed");
                all_punched = false;
            }
        }
        self.tasks
            .record(TaskType::Reclaim, started.elapsed(), all_punched);
    }
}

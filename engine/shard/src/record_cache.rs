//! A bounded cache of small objects' records on the partition's shard, so that a hot small
//! GET skips the SQLite lookup (10 % of a 4 KiB GET's CPU, with two `fcntl` lock calls per
//! read transaction: docs/PERFORMANCE.md).
//!
//! Coherence without a lock: every metadata write of a partition goes through
//! `Partition::commit` on the shard that owns it. A commit drops the cached records of the keys
//! it touches (all of them when it cannot say which) before it is queued and again when it
//! returns, and nothing is cached while any commit is in flight, so a cached record is always
//! the committed one: the same answer SQLite would give.

use std::collections::HashMap;

use crate::meta::MetaOp;
use crate::record::ObjectRecord;

/// Records cached per partition; when full, the cache starts over (a hot set refills it).
const RECORDS_MAX: usize = 1024;
/// Only records of objects up to this size are cached: their lookup is a large share of
/// serving them, and their records are small (a handful of extents and check blocks).
const OBJECT_BYTES_MAX: u64 = 64 * 1024;

#[derive(Default)]
pub(crate) struct RecordCache {
    records: HashMap<(String, String), ObjectRecord>,
    /// Commits queued and not yet answered: while any is, nothing new is cached.
    commits_in_flight: usize,
}

/// Which objects a metadata operation may change.
pub(crate) enum Touched {
    Nothing,
    Key(String, String),
    /// Anything (bucket-wide operations): every cached record is dropped.
    Everything,
}

impl Touched {
    fn of(op: &MetaOp) -> Touched {
        // Exhaustive on purpose: a new operation must say which objects it changes.
        match op {
            MetaOp::PutObject { bucket, key, .. }
            | MetaOp::SetObjectTags { bucket, key, .. }
            | MetaOp::SetObjectAcl { bucket, key, .. }
            | MetaOp::SetRetention { bucket, key, .. }
            | MetaOp::SetLegalHold { bucket, key, .. } => Touched::Key(bucket.clone(), key.clone()),
            MetaOp::DeleteObject(delete) => Touched::Key(delete.bucket.clone(), delete.key.clone()),
            MetaOp::CompleteUpload(complete) => {
                Touched::Key(complete.bucket.clone(), complete.key.clone())
            }
            MetaOp::Logged { op, .. } => Touched::of(op),
            // A master key rotation re-wraps many objects' keys; it is rare, so it simply
            // empties the cache.
            MetaOp::DeleteBucket { .. }
            | MetaOp::PurgeBucket { .. }
            | MetaOp::SetEncryption { .. } => Touched::Everything,
            MetaOp::CreateUpload { .. }
            | MetaOp::PutPart { .. }
            | MetaOp::AbortUpload { .. }
            | MetaOp::CreateBucket { .. }
            | MetaOp::UpdateBucket { .. }
            | MetaOp::AppendEvents { .. }
            | MetaOp::TrimEvents { .. }
            | MetaOp::RewrapFinished { .. }
            | MetaOp::SaveLifecycleCursor { .. } => Touched::Nothing,
        }
    }
}

impl RecordCache {
    pub(crate) fn get(&self, bucket: &str, key: &str) -> Option<ObjectRecord> {
        if self.records.is_empty() {
            return None;
        }
        self.records
            .get(&(bucket.to_owned(), key.to_owned()))
            .cloned()
    }

    /// Caches a record just read from SQLite, if no commit could make it stale meanwhile.
    pub(crate) fn insert(&mut self, bucket: &str, key: &str, record: &ObjectRecord) {
        if self.commits_in_flight > 0 || record.size_bytes > OBJECT_BYTES_MAX {
            return;
        }
        if self.records.len() >= RECORDS_MAX {
            self.records.clear();
        }
        self.records
            .insert((bucket.to_owned(), key.to_owned()), record.clone());
    }

    /// Called before `op` is queued: drops what it may change and stops caching until
    /// `commit_finished` is called with what this returns.
    pub(crate) fn commit_started(&mut self, op: &MetaOp) -> Touched {
        self.commits_in_flight += 1;
        let touched = Touched::of(op);
        self.forget(&touched);
        touched
    }

    /// Called once the commit is answered, or failed to be queued.
    pub(crate) fn commit_finished(&mut self, touched: &Touched) {
        self.commits_in_flight -= 1;
        self.forget(touched);
    }

    fn forget(&mut self, touched: &Touched) {
        match touched {
            Touched::Nothing => {}
            Touched::Key(bucket, key) => {
                self.records.remove(&(bucket.clone(), key.clone()));
            }
            Touched::Everything => self.records.clear(),
        }
    }
}

//! Counters of the background work a partition does, read at scrape time: how often each kind
//! of task ran, whether it succeeded, and how long it took.
//!
//! Some of this work runs on the partition's worker thread (hole punching, the disk-full
//! reserve) and some on the shard thread (recovery, scrub passes, event-log trims), so the
//! counters are relaxed atomics behind one `Arc` per partition: a task pays a handful of
//! uncontended increments, the only other reader is the owning shard's scrape, and no lock is
//! ever taken. A scrape may see a task's status counted before its duration; the histogram's
//! count is derived from its buckets, so the histogram itself is always consistent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The kinds of background work, as the `task_type` label names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskType {
    /// Opening a partition at start: reading its records and punching unreferenced space.
    Recovery,
    /// One scrub pass over a partition (`runtime::scrubber`).
    Scrub,
    /// One batch of freed extents punched by the worker after the commits that freed them.
    Reclaim,
    /// The disk-full reserve file given back so that deletes can commit.
    ReserveRelease,
    /// An attempt to take the reserve back once space may have returned.
    ReserveRestore,
    /// Deleting event-log rows the admin has stored (requested over the control socket).
    EventLogTrim,
    /// Re-wrapping a partition's data keys after a master key rotation (`runtime::rewrap`).
    KeyRewrap,
    /// One lifecycle pass over a partition (`runtime::lifecycle`).
    Lifecycle,
}

impl TaskType {
    pub const ALL: [TaskType; 8] = [
        TaskType::Recovery,
        TaskType::Scrub,
        TaskType::Reclaim,
        TaskType::ReserveRelease,
        TaskType::ReserveRestore,
        TaskType::EventLogTrim,
        TaskType::KeyRewrap,
        TaskType::Lifecycle,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskType::Recovery => "recovery",
            TaskType::Scrub => "scrub",
            TaskType::Reclaim => "reclaim",
            TaskType::ReserveRelease => "reserve_release",
            TaskType::ReserveRestore => "reserve_restore",
            TaskType::EventLogTrim => "event_log_trim",
            TaskType::KeyRewrap => "key_rewrap",
            TaskType::Lifecycle => "lifecycle",
        }
    }

    fn index(self) -> usize {
        match self {
            TaskType::Recovery => 0,
            TaskType::Scrub => 1,
            TaskType::Reclaim => 2,
            TaskType::ReserveRelease => 3,
            TaskType::ReserveRestore => 4,
            TaskType::EventLogTrim => 5,
            TaskType::KeyRewrap => 6,
            TaskType::Lifecycle => 7,
        }
    }
}

/// Upper bounds (seconds) of the task duration buckets: a punch batch takes microseconds, a
/// scrub pass paced to a few MiB/s over a large partition takes hours.
pub const TASK_DURATION_BUCKETS_SECONDS: [f64; 15] = [
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0, 1800.0,
    3600.0,
];
const BUCKET_SLOTS: usize = TASK_DURATION_BUCKETS_SECONDS.len() + 1;

#[derive(Default)]
struct TaskSlot {
    succeeded: AtomicU64,
    failed: AtomicU64,
    /// Non-cumulative counts per bound, plus one for +Inf.
    duration_buckets: [AtomicU64; BUCKET_SLOTS],
    duration_sum_nanos: AtomicU64,
}

/// One partition's task counters; shared (through an `Arc`) by its shard and its worker.
#[derive(Default)]
pub struct TaskCounters {
    slots: [TaskSlot; TaskType::ALL.len()],
}

/// A copy of one task type's counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskStats {
    pub succeeded: u64,
    pub failed: u64,
    /// Non-cumulative counts per `TASK_DURATION_BUCKETS_SECONDS` bound, plus one for +Inf.
    pub duration_buckets: Vec<u64>,
    pub duration_sum_seconds: f64,
}

impl TaskStats {
    /// Adds `other` (of the same task type, from another partition).
    pub fn add(&mut self, other: &TaskStats) {
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        if self.duration_buckets.len() < other.duration_buckets.len() {
            self.duration_buckets
                .resize(other.duration_buckets.len(), 0);
        }
        for (mine, theirs) in self
            .duration_buckets
            .iter_mut()
            .zip(&other.duration_buckets)
        {
            *mine += theirs;
        }
        self.duration_sum_seconds += other.duration_sum_seconds;
    }
}

impl TaskCounters {
    /// One finished task of `task_type` that took `elapsed`.
    pub fn record(&self, task_type: TaskType, elapsed: Duration, succeeded: bool) {
        let slot = &self.slots[task_type.index()];
        let status = if succeeded {
            &slot.succeeded
        } else {
            &slot.failed
        };
        status.fetch_add(1, Ordering::Relaxed);
        let seconds = elapsed.as_secs_f64();
        let bucket = TASK_DURATION_BUCKETS_SECONDS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(TASK_DURATION_BUCKETS_SECONDS.len());
        slot.duration_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        slot.duration_sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// A copy of every task type's counters, for a scrape.
    pub fn snapshot(&self) -> Vec<(TaskType, TaskStats)> {
        TaskType::ALL
            .iter()
            .map(|task_type| {
                let slot = &self.slots[task_type.index()];
                let nanos = slot.duration_sum_nanos.load(Ordering::Relaxed);
                let stats = TaskStats {
                    succeeded: slot.succeeded.load(Ordering::Relaxed),
                    failed: slot.failed.load(Ordering::Relaxed),
                    duration_buckets: slot
                        .duration_buckets
                        .iter()
                        .map(|count| count.load(Ordering::Relaxed))
                        .collect(),
                    duration_sum_seconds: Duration::from_nanos(nanos).as_secs_f64(),
                };
                (*task_type, stats)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_counted_by_type_status_and_duration() {
        let counters = TaskCounters::default();
        counters.record(TaskType::Reclaim, Duration::from_micros(50), true);
        counters.record(TaskType::Reclaim, Duration::from_millis(3), false);
        counters.record(TaskType::Scrub, Duration::from_hours(2), true);
        let snapshot = counters.snapshot();
        let stats = |wanted: TaskType| {
            snapshot
                .iter()
                .find(|(task_type, _)| *task_type == wanted)
                .map(|(_, stats)| stats.clone())
                .unwrap()
        };
        let reclaim = stats(TaskType::Reclaim);
        assert_eq!((reclaim.succeeded, reclaim.failed), (1, 1));
        // 50 us in the first bucket (<= 100 us), 3 ms in the <= 5 ms one.
        assert_eq!(reclaim.duration_buckets[0], 1);
        assert_eq!(reclaim.duration_buckets[3], 1);
        assert_eq!(reclaim.duration_buckets.iter().sum::<u64>(), 2);
        assert!((reclaim.duration_sum_seconds - 0.003_05).abs() < 1e-9);
        // Longer than the last bound: +Inf.
        let scrub = stats(TaskType::Scrub);
        assert_eq!(
            scrub.duration_buckets[TASK_DURATION_BUCKETS_SECONDS.len()],
            1
        );
        assert_eq!(
            stats(TaskType::Recovery),
            TaskStats {
                duration_buckets: vec![0; BUCKET_SLOTS],
                ..TaskStats::default()
            }
        );
        let mut merged = reclaim.clone();
        merged.add(&reclaim);
        assert_eq!((merged.succeeded, merged.failed), (2, 2));
        assert_eq!(merged.duration_buckets[3], 2);
    }
}

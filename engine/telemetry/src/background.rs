//! The background-task and read-cache families: what each shard's partitions did besides
//! serving requests, and how well the small-read cache works. The counters live in the shard
//! crate (per partition); the runtime copies them into each shard's snapshot at scrape time,
//! and they are added up here.

use std::collections::BTreeMap;

use prometheus::proto::{MetricFamily, MetricType};

use crate::{Buckets, MetricsSnapshot, as_f64, buckets_metric, counter, family, gauge, label};

/// One background task type's counters over one shard's partitions.
#[derive(Clone, Debug)]
pub struct BackgroundTaskSample {
    /// `recovery`, `scrub`, `reclaim`, `reserve_release`, `reserve_restore`, `event_log_trim`,
    /// `key_rewrap`.
    pub task_type: &'static str,
    pub succeeded: u64,
    pub failed: u64,
    pub durations: Buckets,
}

/// The small-read cache of one shard's partitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheSample {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub size_bytes: u64,
    pub capacity_bytes: u64,
}

impl CacheSample {
    fn add(&mut self, other: &CacheSample) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.evictions += other.evictions;
        self.size_bytes += other.size_bytes;
        self.capacity_bytes += other.capacity_bytes;
    }
}

/// `maxiofs_background_tasks_total` and `maxiofs_background_task_duration_seconds`. Every task
/// type a shard reported shows both statuses, zeros included, so that a rule on failures has a
/// series to compare from the first scrape on.
pub(crate) fn background_families(snapshots: &[MetricsSnapshot]) -> Vec<MetricFamily> {
    let mut merged: BTreeMap<&'static str, (u64, u64, Buckets)> = BTreeMap::new();
    for sample in snapshots
        .iter()
        .flat_map(|snapshot| &snapshot.background_tasks)
    {
        if let Some((succeeded, failed, durations)) = merged.get_mut(sample.task_type) {
            *succeeded += sample.succeeded;
            *failed += sample.failed;
            durations.merge(&sample.durations);
        } else {
            let entry = (sample.succeeded, sample.failed, sample.durations.clone());
            merged.insert(sample.task_type, entry);
        }
    }
    let mut tasks = Vec::new();
    let mut durations = Vec::new();
    for (task_type, (succeeded, failed, buckets)) in &merged {
        for (status, count) in [("success", succeeded), ("failure", failed)] {
            let labels = vec![label("task_type", task_type), label("status", status)];
            tasks.push(counter(labels, as_f64(*count)));
        }
        durations.push(buckets_metric(vec![label("task_type", task_type)], buckets));
    }
    vec![
        family(
            "maxiofs_background_tasks_total",
            "Background tasks finished, by type and status: recovery (a partition opened at \
             start), scrub (a pass over a partition), reclaim (a batch of freed extents \
             punched), reserve_release and reserve_restore (the disk-full reserve), \
             event_log_trim (stored events deleted for the admin), key_rewrap (a partition's \
             data keys re-wrapped after a master key rotation).",
            MetricType::COUNTER,
            tasks,
        ),
        family(
            "maxiofs_background_task_duration_seconds",
            "Duration of finished background tasks, by type.",
            MetricType::HISTOGRAM,
            durations,
        ),
    ]
}

/// The small-read cache families, summed over every partition.
pub(crate) fn cache_families(snapshots: &[MetricsSnapshot]) -> Vec<MetricFamily> {
    let mut total = CacheSample::default();
    for snapshot in snapshots {
        total.add(&snapshot.cache);
    }
    let one = |name: &str, help: &str, kind: MetricType, value: u64| {
        let metric = if kind == MetricType::COUNTER {
            counter(Vec::new(), as_f64(value))
        } else {
            gauge(Vec::new(), as_f64(value))
        };
        family(name, help, kind, vec![metric])
    };
    let lookups = total.hits + total.misses;
    // No lookup yet: a ratio of 0/0 has no value, and a made-up one would mislead.
    let hit_rate = (lookups > 0).then(|| as_f64(total.hits) / as_f64(lookups));
    let mut families = vec![
        one(
            "maxiofs_cache_hits_total",
            "Small reads (at most 64 KiB) served from the read cache.",
            MetricType::COUNTER,
            total.hits,
        ),
        one(
            "maxiofs_cache_misses_total",
            "Small reads (at most 64 KiB) that went to the disk.",
            MetricType::COUNTER,
            total.misses,
        ),
        one(
            "maxiofs_cache_evictions_total",
            "Cached reads dropped to make room (not counting those of freed extents).",
            MetricType::COUNTER,
            total.evictions,
        ),
        one(
            "maxiofs_cache_size_bytes",
            "Bytes held by the read caches of every partition.",
            MetricType::GAUGE,
            total.size_bytes,
        ),
        one(
            "maxiofs_cache_capacity_bytes",
            "Bytes the read caches of every partition may hold.",
            MetricType::GAUGE,
            total.capacity_bytes,
        ),
    ];
    if let Some(rate) = hit_rate {
        families.push(family(
            "maxiofs_cache_hit_rate",
            "Share of small reads served from the read cache since the server started (0 to \
             1; not windowed). For a recent rate use rate() of maxiofs_cache_hits_total and \
             maxiofs_cache_misses_total.",
            MetricType::GAUGE,
            vec![gauge(Vec::new(), rate)],
        ));
    }
    families
}

//! Scrape-time gathering of every shard's metrics: the shard that received the scrape asks the
//! others through their inboxes and renders the merged result. Nothing is shared between
//! shards in between scrapes.

use std::rc::Rc;
use std::time::Duration;

use crate::context::ShardContext;
use crate::host;
use crate::mesh::{MeshMessage, ask_others};

/// How long a scrape waits for each shard: a stuck shard must not hang the scrape, it shows up
/// as missing from `maxiofs_shards_serving` instead.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(1);

/// This shard's metrics, copied.
pub fn snapshot(context: &ShardContext) -> telemetry::MetricsSnapshot {
    let mut storage = telemetry::StorageCounters::default();
    let mut cache = shard::CacheStats::default();
    let mut tasks: Vec<(shard::TaskType, shard::TaskStats)> = Vec::new();
    for partition in context.partitions.values() {
        cache.add(&partition.cache_stats());
        for (task_type, stats) in partition.task_stats() {
            match tasks.iter_mut().find(|(known, _)| *known == task_type) {
                Some((_, total)) => total.add(&stats),
                None => tasks.push((task_type, stats)),
            }
        }
        let counters = partition.integrity_counters();
        storage.add(&telemetry::StorageCounters {
            checksum_errors: counters.checksum_errors,
            blocks_verified: counters.blocks_verified,
            unverified_reads: counters.unverified_reads,
            scrub_passes: counters.scrub_passes,
            scrub_objects: counters.scrub_objects,
            scrub_bytes: counters.scrub_bytes,
            scrub_damaged_objects: counters.scrub_damaged_objects,
        });
    }
    telemetry::MetricsSnapshot {
        shard_id: context.shard_id,
        metrics: context.metrics.borrow().clone(),
        storage,
        lifecycle: context.lifecycle_counters.get(),
        requests_in_flight: context.requests_in_flight.get(),
        connections_open: u64::from(context.connections_open.get()),
        connections_refused: context.connections_refused.get(),
        tls_handshakes_failed: context.tls_counters.handshakes_failed.get(),
        plain_http_refused: context.tls_counters.plain_http_refused.get(),
        io_uring: context.settings.io_uring,
        bucket_usage: context
            .usage
            .borrow()
            .local_buckets()
            .into_iter()
            .map(|(bucket, usage)| telemetry::BucketUsageSample {
                bucket,
                objects: usage.objects,
                bytes: usage.bytes,
            })
            .collect(),
        background_tasks: tasks
            .into_iter()
            .map(|(task_type, stats)| telemetry::BackgroundTaskSample {
                task_type: task_type.as_str(),
                succeeded: stats.succeeded,
                failed: stats.failed,
                durations: telemetry::Buckets::from_counts(
                    &shard::tasks::TASK_DURATION_BUCKETS_SECONDS,
                    stats.duration_buckets,
                    stats.duration_sum_seconds,
                ),
            })
            .collect(),
        cache: telemetry::CacheSample {
            hits: cache.hits,
            misses: cache.misses,
            evictions: cache.evictions,
            size_bytes: cache.size_bytes,
            capacity_bytes: cache.capacity_bytes,
        },
    }
}

/// Every shard's snapshot, this one's first; shards that are stopping are left out.
pub async fn gather(context: &Rc<ShardContext>) -> Vec<telemetry::MetricsSnapshot> {
    let mut snapshots = vec![snapshot(context)];
    snapshots.extend(
        ask_others(context, SNAPSHOT_TIMEOUT, |reply| {
            MeshMessage::MetricsSnapshot { reply }
        })
        .await,
    );
    snapshots
}

/// The process-wide gauges as seen from this shard.
pub fn server_gauges(context: &ShardContext) -> telemetry::ServerGauges {
    let process = host::process();
    let memory = host::memory();
    let space = host::fs_space(&context.settings.data_dir);
    telemetry::ServerGauges {
        bucket_count: u64::try_from(context.bucket_list().len()).unwrap_or(u64::MAX),
        storage_full: context.storage_full(),
        shard_count: context.shard_count,
        now_unix_secs: telemetry::unix_seconds(),
        started_unix_secs: process.map_or(0, |process| process.start_unix_secs),
        bucket_owners: context
            .bucket_list()
            .into_iter()
            .map(|record| (record.name, record.owner_tenant))
            .collect(),
        system: telemetry::SystemGauges {
            cpu_usage_percent: host::cpu_usage_percent(),
            memory_total_bytes: memory.map(|(total, _)| total),
            memory_available_bytes: memory.map(|(_, available)| available),
            disk_total_bytes: space.map(|space| space.total_bytes),
            disk_free_bytes: space.map(|space| space.available_bytes),
            process_cpu_seconds: process.map(|process| process.cpu_seconds),
            process_resident_bytes: process.map(|process| process.resident_bytes),
            process_open_fds: host::open_fds(),
        },
    }
}

/// The console's figures (`control::metrics`) from every shard's snapshot: counters summed
/// per operation and listed per shard, latency quantiles over the merged sliding window.
pub fn summary(
    snapshots: &[telemetry::MetricsSnapshot],
    shard_count: u32,
) -> control::metrics::MetricsSummary {
    use control::metrics::{MetricsSummary, OperationFigures, ShardFigures};
    use std::collections::BTreeMap;

    let now_secs = telemetry::unix_seconds();
    let window = telemetry::window::WindowTotals::merge(
        snapshots.iter().map(|snapshot| &snapshot.metrics.window),
        now_secs,
    );
    let mut operations: BTreeMap<&'static str, OperationFigures> = BTreeMap::new();
    let mut shards = Vec::with_capacity(snapshots.len());
    for snapshot in snapshots {
        let mut requests = 0;
        for (&(operation, status), &count) in &snapshot.metrics.operations {
            let figures = operations.entry(operation).or_default();
            figures.requests += count;
            match status {
                400..=499 => figures.client_errors += count,
                500..=599 => figures.server_errors += count,
                _ => {}
            }
            requests += count;
        }
        shards.push(ShardFigures {
            shard: snapshot.shard_id,
            requests,
            in_flight: snapshot.requests_in_flight,
            connections_open: snapshot.connections_open,
            received_bytes: snapshot.metrics.received_bytes,
            sent_bytes: snapshot.metrics.sent_bytes,
        });
    }
    shards.sort_by_key(|figures| figures.shard);
    let milliseconds = |recent: &telemetry::window::SlotOperation, quantile: f64| {
        #[allow(clippy::cast_precision_loss)] // microseconds are exact in f64
        let micros = recent.latency_us.value_at_quantile(quantile) as f64;
        micros / 1000.0
    };
    let operations = operations
        .into_iter()
        .map(|(operation, mut figures)| {
            operation.clone_into(&mut figures.operation);
            if let Some(recent) = window.operations.get(operation)
                && recent.requests > 0
            {
                figures.p50_ms = Some(milliseconds(recent, 0.5));
                figures.p99_ms = Some(milliseconds(recent, 0.99));
            }
            figures
        })
        .collect();
    MetricsSummary {
        at_unix_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            }),
        shard_count,
        operations,
        shards,
    }
}

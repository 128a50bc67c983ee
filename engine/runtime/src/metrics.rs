//! Scrape-time gathering of every shard's metrics: the shard that received the scrape asks the
//! others through their inboxes and renders the merged result. Nothing is shared between
//! shards in between scrapes.

use std::rc::Rc;

use shard::ShardError;

use crate::context::ShardContext;
use crate::mesh::{MeshMessage, request};

/// This shard's metrics, copied.
pub fn snapshot(context: &ShardContext) -> telemetry::MetricsSnapshot {
    let mut storage = telemetry::StorageCounters::default();
    for partition in context.partitions.values() {
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
        requests_in_flight: context.requests_in_flight.get(),
        io_uring: context.settings.io_uring,
    }
}

/// Every shard's snapshot, this one's first; shards that are stopping are left out.
pub async fn gather(context: &Rc<ShardContext>) -> Vec<telemetry::MetricsSnapshot> {
    let mut snapshots = vec![snapshot(context)];
    for (shard_id, inbox) in (0u32..).zip(&context.inboxes) {
        if shard_id == context.shard_id {
            continue;
        }
        let answer: Result<telemetry::MetricsSnapshot, ShardError> =
            request(inbox, |reply| MeshMessage::MetricsSnapshot { reply }).await;
        if let Ok(snapshot) = answer {
            snapshots.push(snapshot);
        }
    }
    snapshots
}

/// The process-wide gauges as seen from this shard.
pub fn server_gauges(context: &ShardContext) -> telemetry::ServerGauges {
    telemetry::ServerGauges {
        bucket_count: u64::try_from(context.bucket_list().len()).unwrap_or(u64::MAX),
        storage_full: context.storage_full(),
    }
}

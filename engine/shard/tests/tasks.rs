//! What a partition reports at scrape time about its background work and its read cache:
//! recovery at open, one reclamation task per batch of freed extents (failed when a punch
//! fails), and the small-read cache's hits and misses.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)] // test helpers: fail loudly

use shard::Versioning;
use shard::meta::ObjectDelete;
use std::rc::Rc;

use shard::meta::MetaOp;
use shard::storage::sim::{Faults, SimDisk};
use shard::{ObjectReader, Partition, PartitionOptions, TaskStats, TaskType};

const BUCKET: &str = "b";

mod common;

use common::{drain, put_plain, run};

fn stats(partition: &Partition, wanted: TaskType) -> (u64, u64, u64) {
    let (_, stats): (TaskType, TaskStats) = partition
        .task_stats()
        .into_iter()
        .find(|(task_type, _)| *task_type == wanted)
        .unwrap();
    let observed = stats.duration_buckets.iter().sum();
    (stats.succeeded, stats.failed, observed)
}

async fn put(partition: &Rc<Partition>, key: &str, body: &[u8]) {
    put_plain(partition, BUCKET, key, body, body.len()).await;
}

async fn read(partition: &Rc<Partition>, key: &str) -> Vec<u8> {
    let (record, pin) = partition.lookup_pinned(BUCKET, key).unwrap().unwrap();
    let range = 0..record.size_bytes;
    drain(ObjectReader::new(partition, &record, pin, range))
        .await
        .unwrap()
}

async fn delete(partition: &Rc<Partition>, key: &str) {
    let op = MetaOp::DeleteObject(ObjectDelete::latest(
        BUCKET,
        key,
        Versioning::Unversioned,
        1,
    ));
    partition.commit_and_release(op, Vec::new()).await.unwrap();
}

#[test]
fn recovery_reclamation_and_the_read_cache_are_counted() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let disk = SimDisk::new(7, Faults::default());
        let options = PartitionOptions {
            storage: Some(disk.storage()),
            inline_worker: true,
            ..PartitionOptions::default()
        };
        let (partition, _) = Partition::open_with(dir.path(), 0, options).unwrap();
        assert_eq!(stats(&partition, TaskType::Recovery), (1, 0, 1));

        let body: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
        put(&partition, "first", &body).await;
        put(&partition, "second", &body).await;
        // A write of a known length frees nothing.
        assert_eq!(stats(&partition, TaskType::Reclaim), (0, 0, 0));
        assert_eq!(read(&partition, "first").await, body);
        assert_eq!(read(&partition, "first").await, body);
        let cache = partition.cache_stats();
        assert_eq!((cache.hits, cache.misses, cache.evictions), (1, 1, 0));
        assert!(cache.size_bytes >= 4000 && cache.size_bytes <= cache.capacity_bytes);

        delete(&partition, "first").await;
        assert_eq!(stats(&partition, TaskType::Reclaim), (1, 0, 1));
        // Freeing an extent drops its cached read.
        assert_eq!(partition.cache_stats().size_bytes, 0);

        // The disk stops answering: the delete commits (metadata is elsewhere), the punch
        // fails and is counted as a failed reclamation.
        disk.crash();
        delete(&partition, "second").await;
        assert_eq!(stats(&partition, TaskType::Reclaim), (1, 1, 2));
        assert_eq!(stats(&partition, TaskType::Scrub), (0, 0, 0));
    });
}

//! What `/health/ready` means: every shard answers its inbox, no partition refuses writes after
//! a failed fdatasync, no partition ran out of space, free space on the data directory is
//! above the critical threshold, and the server is not stopping.

use std::rc::Rc;
use std::time::Duration;

use crate::context::ShardContext;
use crate::mesh::{MeshMessage, ask_others};

/// How long a shard may take to answer a readiness probe before it counts as not serving.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// One shard's own view of its partitions.
#[derive(Clone, Copy, Debug)]
pub struct ShardHealth {
    pub writable: bool,
    pub full: bool,
}

/// The whole server's readiness, as one shard sees it.
#[derive(Clone, Debug)]
pub struct Readiness {
    pub shards_serving: u32,
    pub shard_count: u32,
    pub metadata_writable: bool,
    pub storage_full: bool,
    pub free_bytes: Option<u64>,
    pub free_bytes_critical: u64,
    pub shutting_down: bool,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.shards_serving == self.shard_count
            && self.metadata_writable
            && !self.storage_full
            && self
                .free_bytes
                .is_some_and(|free| free >= self.free_bytes_critical)
            && !self.shutting_down
    }
}

pub fn own_health(context: &ShardContext) -> ShardHealth {
    ShardHealth {
        writable: context
            .partitions
            .values()
            .all(|partition| !partition.writes_failed()),
        full: context.storage_full(),
    }
}

/// Probes every other shard (bounded by `PING_TIMEOUT` each) and the file system.
pub async fn check(context: &Rc<ShardContext>) -> Readiness {
    let mut healths = vec![own_health(context)];
    healths.extend(ask_others(context, PING_TIMEOUT, |reply| MeshMessage::Ping { reply }).await);
    Readiness {
        shards_serving: u32::try_from(healths.len()).unwrap_or(u32::MAX),
        shard_count: context.shard_count,
        metadata_writable: healths.iter().all(|health| health.writable),
        storage_full: healths.iter().any(|health| health.full),
        free_bytes: crate::host::fs_space(&context.settings.data_dir)
            .map(|space| space.available_bytes),
        free_bytes_critical: context.settings.free_bytes_critical,
        shutting_down: context.shutting_down.get(),
    }
}

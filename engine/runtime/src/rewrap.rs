//! Master key rotation on a shard: the new keyring swapped in, then the data keys of every
//! partition this shard owns re-wrapped with the current version in the background, in
//! bounded batches (`Partition::rewrap_data_keys`), so requests keep being served. Data is
//! never re-encrypted: only the wrapped keys in the metadata change.
//!
//! A rotation that arrives while a re-wrap runs starts a new one (a generation counter stops
//! the old task at its next batch). A pass ends when the partition's cursor wraps around; as
//! an interrupted pass may have left rows behind its cursor, the task then counts the keys
//! still on old versions and passes again until none is left (or `MAX_PASSES`), and records
//! in the partition that its keys are all on the current version. At start, a keyring with
//! more than one version resumes a re-wrap a restart interrupted, in the partitions whose
//! record names another version: after a finished re-wrap a restart reads no rows.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use shard::{Partition, ShardError, TaskType};
use sse::master::MasterKeys;

use crate::context::ShardContext;

/// Rows read (and at most re-wrapped) per batch: one small metadata commit.
pub const REWRAP_BATCH_ROWS: usize = 256;
/// Pause between batches, so a re-wrap never monopolises the shard or its worker.
const BATCH_PAUSE: Duration = Duration::from_millis(2);
/// Full passes over a partition before giving up (logged): the first may be partial, the
/// second is complete; more are only needed when rotations keep arriving.
const MAX_PASSES: u32 = 4;

/// Swaps in a new keyring (a rotation) and starts re-wrapping with it.
pub fn apply_keyring(context: &Rc<ShardContext>, keys: &MasterKeys) {
    *context.master_keys.borrow_mut() = Rc::new(keys.clone());
    start(context);
}

/// Starts a background re-wrap of this shard's partitions with the keyring in force,
/// stopping any that runs.
pub fn start(context: &Rc<ShardContext>) {
    let generation = context.rewrap_generation.get() + 1;
    context.rewrap_generation.set(generation);
    monoio::spawn(run(Rc::clone(context), generation));
}

/// Whether a newer rotation or shutdown has taken over from the task of `generation`.
fn superseded(context: &ShardContext, generation: u64) -> bool {
    context.shutting_down.get() || context.rewrap_generation.get() != generation
}

async fn run(context: Rc<ShardContext>, generation: u64) {
    let keys = context.master_keys();
    let mut partition_ids: Vec<u32> = context.partitions.keys().copied().collect();
    partition_ids.sort_unstable();
    let mut rewrapped = 0u64;
    for partition_id in partition_ids {
        let partition = Rc::clone(&context.partitions[&partition_id]);
        if partition.rewrapped_kek_version().ok().flatten() == Some(keys.current().0) {
            continue;
        }
        let started = std::time::Instant::now();
        let result = rewrap_partition(&context, generation, &partition, &keys).await;
        if !matches!(result, Ok(None)) {
            partition.count_task(TaskType::KeyRewrap, started.elapsed(), result.is_ok());
        }
        match result {
            Ok(Some(count)) => rewrapped += count,
            Ok(None) => return,
            Err(error) => {
                // The partition keeps its old wrappings, which still open every object; the
                // next rotation or restart tries again.
                tracing::error!(
                    shard = context.shard_id,
                    partition = partition_id,
                    %error,
                    "re-wrapping data keys failed"
                );
            }
        }
    }
    if rewrapped > 0 {
        tracing::info!(
            shard = context.shard_id,
            rewrapped,
            version = keys.current().0,
            "data keys re-wrapped with the current master key"
        );
    }
}

/// Re-wraps one partition; `None` when superseded, else how many keys were re-wrapped.
async fn rewrap_partition(
    context: &ShardContext,
    generation: u64,
    partition: &Partition,
    keys: &MasterKeys,
) -> Result<Option<u64>, ShardError> {
    let mut rewrapped = 0;
    for _ in 0..MAX_PASSES {
        loop {
            if superseded(context, generation) {
                return Ok(None);
            }
            let progress = partition.rewrap_data_keys(keys, REWRAP_BATCH_ROWS).await?;
            rewrapped += progress.rewrapped;
            monoio::time::sleep(BATCH_PAUSE).await;
            if progress.pass_done {
                break;
            }
        }
        if rewrappable(&partition.data_keys_by_kek_version()?, keys) == 0 {
            // Keys written from now on are wrapped by the current version too.
            partition.mark_rewrapped(keys.current().0).await?;
            return Ok(Some(rewrapped));
        }
    }
    tracing::warn!(
        partition = partition.id(),
        "data keys still on old master key versions after {MAX_PASSES} passes"
    );
    Ok(Some(rewrapped))
}

/// Data keys wrapped by a version of `keys` other than the current one (keys of versions the
/// keyring lacks cannot be re-wrapped and are not counted).
fn rewrappable(counts: &BTreeMap<u32, u64>, keys: &MasterKeys) -> u64 {
    let current = keys.current().0;
    counts
        .iter()
        .filter(|(version, _)| **version != current && keys.get(**version).is_some())
        .map(|(_, count)| count)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_versions_the_keyring_holds_are_left_to_rewrap() {
        let mut keys = MasterKeys::generate();
        keys.rotate();
        keys.rotate();
        let counts = BTreeMap::from([(1, 4), (2, 3), (3, 10), (9, 7)]);
        assert_eq!(rewrappable(&counts, &keys), 7);
        assert_eq!(rewrappable(&BTreeMap::from([(3, 10)]), &keys), 0);
    }
}

//! Expiry of abandoned multipart uploads: a background task per shard aborts the uploads of
//! its partitions that were started longer ago than the dynamic setting
//! `multipart.abort_incomplete_after_secs` (default 7 days; 0 disables it), through the same
//! commit as AbortMultipartUpload, so their parts' space is reclaimed. Without it a client that
//! starts uploads and never finishes them keeps their parts (and quota) for ever. Lifecycle
//! rules (`AbortIncompleteMultipartUpload`) will add per-bucket ages on top of this floor.

use std::rc::Rc;
use std::time::Duration;

use control::settings::{defaults, keys};
use shard::meta::MetaOp;

use crate::context::ShardContext;

/// Uploads aborted per partition per sweep: bounds one sweep's work; the next takes the rest.
const UPLOADS_PER_SWEEP_MAX: usize = 1000;
/// Sweeps run a quarter of the expiry age apart, within these bounds: an upload lives at most
/// about 1.25 times the age, and a long age costs one cheap query per partition every 10 min.
const SWEEP_INTERVAL_MIN: Duration = Duration::from_secs(1);
const SWEEP_INTERVAL_MAX: Duration = Duration::from_mins(10);
/// Longest single sleep, so that shutdown and a changed setting are noticed promptly.
const SLEEP_STEP: Duration = Duration::from_millis(500);

/// The expiry age in force, `None` when expiry is off.
fn expiry_age(context: &ShardContext) -> Option<Duration> {
    let secs = context.dynamic_settings.borrow().number(
        keys::MULTIPART_ABORT_INCOMPLETE_AFTER_SECS,
        defaults::MULTIPART_ABORT_INCOMPLETE_AFTER_SECS,
    );
    (secs > 0).then(|| Duration::from_secs(secs))
}

fn sweep_interval(age: Duration) -> Duration {
    (age / 4).clamp(SWEEP_INTERVAL_MIN, SWEEP_INTERVAL_MAX)
}

/// The per-shard loop.
pub async fn run(context: Rc<ShardContext>) {
    let mut waited = Duration::ZERO;
    while !context.shutting_down.get() {
        monoio::time::sleep(SLEEP_STEP).await;
        waited += SLEEP_STEP;
        let Some(age) = expiry_age(&context) else {
            continue;
        };
        if waited < sweep_interval(age) {
            continue;
        }
        waited = Duration::ZERO;
        let aborted = sweep(&context, age).await;
        if aborted > 0 {
            tracing::info!(
                shard = context.shard_id,
                aborted,
                age_secs = age.as_secs(),
                "aborted multipart uploads older than the expiry age"
            );
        }
    }
}

/// Aborts this shard's uploads older than `age`; returns how many.
pub async fn sweep(context: &ShardContext, age: Duration) -> u64 {
    let now_ms = crate::events::now_ms();
    let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
    let before_ms = now_ms.saturating_sub(age_ms);
    let mut aborted = 0;
    let mut partition_ids: Vec<u32> = context.partitions.keys().copied().collect();
    partition_ids.sort_unstable();
    for partition_id in partition_ids {
        let partition = Rc::clone(&context.partitions[&partition_id]);
        let stale = match partition
            .meta()
            .uploads_started_before(before_ms, UPLOADS_PER_SWEEP_MAX)
        {
            Ok(stale) => stale,
            Err(error) => {
                tracing::warn!(partition = partition_id, %error, "listing stale uploads failed");
                continue;
            }
        };
        for (bucket, key, upload_id) in stale {
            if context.shutting_down.get() {
                return aborted;
            }
            let op = MetaOp::AbortUpload {
                bucket,
                key,
                upload_id,
            };
            // NoSuchUpload: a client completed or aborted it meanwhile; nothing to do.
            match partition.commit_and_release(op, Vec::new()).await {
                Ok(_) => aborted += 1,
                Err(shard::ShardError::NoSuchUpload) => {}
                Err(error) => {
                    tracing::warn!(
                        partition = partition_id,
                        %error,
                        "aborting a stale upload failed"
                    );
                }
            }
        }
    }
    aborted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_run_a_quarter_of_the_age_apart_within_bounds() {
        assert_eq!(sweep_interval(Duration::from_secs(2)), SWEEP_INTERVAL_MIN);
        assert_eq!(
            sweep_interval(Duration::from_secs(40)),
            Duration::from_secs(10)
        );
        assert_eq!(
            sweep_interval(Duration::from_hours(7 * 24)),
            SWEEP_INTERVAL_MAX
        );
    }
}

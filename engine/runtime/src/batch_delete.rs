//! DeleteObjects on the shard side: the keys of one request that this shard owns, deleted
//! together so that each partition's worker group-commits them. The front end calls it for its
//! own keys and sends the rest to their owners (`MeshMessage::DeleteObjects`).

use std::rc::Rc;

use shard::meta::ObjectDelete;
use shard::{ShardError, VersionOutcome, VersionRef};

use crate::context::ShardContext;
use crate::events::{Actor, EventKind};

/// One key of a DeleteObjects request: its key and, when given, the version to delete.
pub type DeleteTarget = (String, Option<VersionRef>);

/// Deletes keys of `bucket` whose partitions this shard owns (DeleteObjects), every commit
/// queued at once so each partition's worker group-commits them; one result per key, in order
/// (the version removed or the delete marker written, as `versions::delete_*` report it).
/// Each key's `ObjectRemoved` event commits with its delete. The bucket's versioning state is
/// this shard's copy of the catalogue's.
pub async fn delete_owned_keys(
    context: &Rc<ShardContext>,
    bucket: &str,
    targets: Vec<DeleteTarget>,
    bypass_governance: bool,
    actor: &Actor,
) -> Vec<Result<Option<VersionOutcome>, ShardError>> {
    let _write = match context.begin_write(bucket) {
        Ok(guard) => guard,
        Err(error) => return targets.iter().map(|_| Err(error.clone())).collect(),
    };
    let versioning = context
        .with_bucket(bucket, |record| record.versioning)
        .unwrap_or_default();
    let now_ms = crate::events::now_ms();
    let tasks: Vec<_> = targets
        .into_iter()
        .map(|(key, version)| {
            let partition = context.local_partition(bucket, &key);
            // Without a version in a bucket with versions, the delete writes a marker.
            let kind = if version.is_none() && versioning != shard::Versioning::Unversioned {
                EventKind::DeleteMarkerCreated
            } else {
                EventKind::ObjectRemoved
            };
            let mut event =
                crate::events::record(kind, "DeleteObjects", bucket, Some(&key), actor, 200);
            event.version_id = version.as_ref().map(|version| version.as_str().to_owned());
            let delete = ObjectDelete {
                version,
                bypass_governance,
                ..ObjectDelete::latest(bucket, &key, versioning, now_ms)
            };
            let op = crate::events::logged(shard::meta::MetaOp::DeleteObject(delete), event);
            monoio::spawn(async move { partition.commit_and_release(op, Vec::new()).await })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.map(|outcome| outcome.version));
    }
    results
}

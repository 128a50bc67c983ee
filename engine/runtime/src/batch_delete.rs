//! DeleteObjects on the shard side: the keys of one request that this shard owns, deleted
//! together so that each partition's worker group-commits them. The front end calls it for its
//! own keys and sends the rest to their owners (`MeshMessage::DeleteObjects`).

use std::rc::Rc;

use shard::ShardError;

use crate::context::ShardContext;
use crate::events::{Actor, EventKind};

/// Deletes keys of `bucket` whose partitions this shard owns (DeleteObjects), every commit
/// queued at once so each partition's worker group-commits them; one result per key, in order.
/// Each key's `ObjectRemoved` event commits with its delete.
pub async fn delete_owned_keys(
    context: &Rc<ShardContext>,
    bucket: &str,
    keys: Vec<String>,
    actor: &Actor,
) -> Vec<Result<(), ShardError>> {
    let _write = match context.begin_write(bucket) {
        Ok(guard) => guard,
        Err(error) => return keys.iter().map(|_| Err(error.clone())).collect(),
    };
    let tasks: Vec<_> = keys
        .into_iter()
        .map(|key| {
            let partition = context.local_partition(bucket, &key);
            let event = crate::events::record(
                EventKind::ObjectRemoved,
                "DeleteObjects",
                bucket,
                Some(&key),
                actor,
                200,
            );
            let op = crate::events::logged(
                shard::meta::MetaOp::DeleteObject {
                    bucket: bucket.to_owned(),
                    key,
                },
                event,
            );
            monoio::spawn(async move { partition.commit_and_release(op, Vec::new()).await })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.map(|_| ()));
    }
    results
}

//! Storage usage for quotas: objects and bytes per bucket, bytes per tenant.
//!
//! Each partition keeps its per-bucket usage in SQLite, updated by triggers in the same
//! transaction as the writes (`shard::meta`), so it is exact and survives restarts. Each shard
//! re-reads its partitions' usage when they committed something (SQLite's `data_version`),
//! every `USAGE_INTERVAL`, sums it per tenant with the bucket owners of its catalogue copy and
//! sends the totals to every other shard when they changed. A shard's view of a tenant's usage
//! is its own total plus the last totals the others sent: it lags the truth by at most about
//! two intervals (one to notice, one to deliver), so a storage quota can be overshot by what
//! the tenant writes in that time (about half a second).

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use shard::{BucketUsage, ShardError};

use crate::context::ShardContext;
use crate::mesh::{ControlMessage, MeshMessage};

/// How often a shard looks for changed usage and tells the others.
pub const USAGE_INTERVAL: Duration = Duration::from_millis(250);
/// Totals are re-sent at least this often (in intervals) even when unchanged, so a message
/// dropped on a full inbox is repaired.
const RESEND_EVERY_INTERVALS: u32 = 20;

/// What a tenant stores: bytes of objects and of the parts of uploads in progress (both
/// count toward its storage quota), and how many uploads are in progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TenantUsage {
    pub bytes: u64,
    pub uploads: u64,
}

/// Usage per tenant id.
pub type TenantTotals = HashMap<String, TenantUsage>;

#[derive(Debug, Default)]
pub struct UsageView {
    /// Per owned partition: the `data_version` last read and its per-bucket usage.
    partitions: HashMap<u32, (i64, HashMap<String, BucketUsage>)>,
    /// This shard's usage per tenant, as last sent.
    local_tenants: TenantTotals,
    /// Other shards' usage per tenant, as they last sent it.
    remote: HashMap<u32, TenantTotals>,
}

impl UsageView {
    /// What `tenant` stores as this shard knows it: its own totals plus the others' last.
    pub fn tenant_usage(&self, tenant: &str) -> TenantUsage {
        let local = self.local_tenants.get(tenant).copied().unwrap_or_default();
        self.remote
            .values()
            .filter_map(|totals| totals.get(tenant))
            .fold(local, |sum, usage| TenantUsage {
                bytes: sum.bytes.saturating_add(usage.bytes),
                uploads: sum.uploads.saturating_add(usage.uploads),
            })
    }

    /// Bytes stored by `tenant` (objects and parts of uploads in progress).
    pub fn tenant_bytes(&self, tenant: &str) -> u64 {
        self.tenant_usage(tenant).bytes
    }

    /// Usage of every bucket over this shard's partitions.
    pub fn local_buckets(&self) -> HashMap<String, BucketUsage> {
        let mut buckets: HashMap<String, BucketUsage> = HashMap::new();
        for (_, usage) in self.partitions.values() {
            for (bucket, partition_usage) in usage {
                let total = buckets.entry(bucket.clone()).or_default();
                total.objects += partition_usage.objects;
                total.bytes += partition_usage.bytes;
                total.uploads += partition_usage.uploads;
                total.upload_bytes += partition_usage.upload_bytes;
            }
        }
        buckets
    }
}

/// Re-reads changed partitions and recomputes this shard's per-tenant totals; returns whether
/// they changed.
pub fn refresh(context: &ShardContext) -> Result<bool, ShardError> {
    let mut view = context.usage.borrow_mut();
    for (partition_id, partition) in &context.partitions {
        let version = partition.meta().data_version()?;
        if view
            .partitions
            .get(partition_id)
            .is_some_and(|(seen, _)| *seen == version)
        {
            continue;
        }
        let usage = partition.meta().bucket_usage()?.into_iter().collect();
        view.partitions.insert(*partition_id, (version, usage));
    }
    let buckets = context.buckets.borrow();
    let mut tenants = TenantTotals::new();
    for (bucket, usage) in view.local_buckets() {
        let owner = buckets
            .get(&bucket)
            .and_then(|entry| entry.record.owner_tenant.clone());
        if let Some(tenant) = owner {
            let total = tenants.entry(tenant).or_default();
            total.bytes += usage.bytes + usage.upload_bytes;
            total.uploads += usage.uploads;
        }
    }
    let changed = tenants != view.local_tenants;
    view.local_tenants = tenants;
    Ok(changed)
}

/// The per-shard loop: refresh, and tell the others when something changed.
pub async fn run(context: Rc<ShardContext>) {
    let mut intervals = 0u32;
    while !context.shutting_down.get() {
        intervals = intervals.wrapping_add(1);
        match refresh(&context) {
            Ok(changed) => {
                if changed || intervals.is_multiple_of(RESEND_EVERY_INTERVALS) {
                    send_totals(&context);
                }
            }
            Err(error) => tracing::warn!(shard = context.shard_id, %error, "usage refresh failed"),
        }
        monoio::time::sleep(USAGE_INTERVAL).await;
    }
}

fn send_totals(context: &ShardContext) {
    let totals = context.usage.borrow().local_tenants.clone();
    for (shard_id, inbox) in (0u32..).zip(&context.inboxes) {
        if shard_id == context.shard_id {
            continue;
        }
        // Never wait on a busy shard: the next resend repairs a dropped message.
        let _ = inbox.try_send(MeshMessage::Control(ControlMessage::TenantUsage {
            from_shard: context.shard_id,
            totals: totals.clone(),
        }));
    }
}

pub fn apply_remote(context: &ShardContext, from_shard: u32, totals: TenantTotals) {
    context.usage.borrow_mut().remote.insert(from_shard, totals);
}

/// Refuses a write of `incoming_bytes` to a bucket of `tenant` that would take the tenant over
/// its storage quota, as far as this shard knows the tenant's usage.
pub fn check_storage_quota(
    context: &ShardContext,
    tenant: Option<&str>,
    incoming_bytes: u64,
) -> Result<(), ShardError> {
    let Some(tenant) = tenant else {
        return Ok(());
    };
    let identity = context.identity();
    let Some(limit) = identity
        .quota(tenant)
        .and_then(|quota| quota.max_storage_bytes)
    else {
        return Ok(());
    };
    let used = context.usage.borrow().tenant_bytes(tenant);
    if used.saturating_add(incoming_bytes) > limit {
        return Err(ShardError::QuotaExceeded);
    }
    Ok(())
}

/// Refuses when `tenant` is over its storage quota, counting at least `known_bytes` as
/// stored (bytes this shard knows are stored, though their usage may not have arrived from
/// the partitions yet): a multipart completion adds nothing but must not finish an upload
/// whose parts took the tenant over.
pub fn check_storage_at_least(
    context: &ShardContext,
    tenant: Option<&str>,
    known_bytes: u64,
) -> Result<(), ShardError> {
    let Some(tenant) = tenant else {
        return Ok(());
    };
    let used = context.usage.borrow().tenant_bytes(tenant);
    check_storage_quota(context, Some(tenant), known_bytes.saturating_sub(used))
}

/// Refuses a new multipart upload in a bucket of `tenant` when the tenant already has the
/// most uploads in progress the dynamic setting allows (as far as this shard knows: the
/// count lags like the byte totals). Buckets without a tenant have no cap.
pub fn check_open_uploads(context: &ShardContext, tenant: Option<&str>) -> Result<(), ShardError> {
    let Some(tenant) = tenant else {
        return Ok(());
    };
    let limit = context.dynamic_settings.borrow().number(
        control::settings::keys::MULTIPART_MAX_OPEN_UPLOADS_PER_TENANT,
        control::settings::defaults::MULTIPART_MAX_OPEN_UPLOADS_PER_TENANT,
    );
    if limit > 0 && context.usage.borrow().tenant_usage(tenant).uploads >= limit {
        return Err(ShardError::TooManyUploads);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_usage_is_own_plus_the_others_last_totals() {
        let bytes = |bytes| TenantUsage { bytes, uploads: 1 };
        let mut view = UsageView::default();
        view.local_tenants.insert("acme".into(), bytes(10));
        view.remote
            .insert(1, HashMap::from([("acme".into(), bytes(5))]));
        view.remote
            .insert(2, HashMap::from([("other".into(), bytes(7))]));
        assert_eq!(view.tenant_bytes("acme"), 15);
        assert_eq!(view.tenant_usage("acme").uploads, 2);
        assert_eq!(view.tenant_bytes("other"), 7);
        assert_eq!(view.tenant_bytes("nobody"), 0);
        // A newer total from shard 1 replaces its old one (totals, not deltas).
        view.remote
            .insert(1, HashMap::from([("acme".into(), bytes(1))]));
        assert_eq!(view.tenant_bytes("acme"), 11);
    }

    #[test]
    fn bucket_usage_sums_the_partitions() {
        let mut view = UsageView::default();
        let usage = |objects, bytes| BucketUsage {
            objects,
            bytes,
            ..BucketUsage::default()
        };
        view.partitions
            .insert(0, (1, HashMap::from([("a".into(), usage(1, 10))])));
        view.partitions.insert(
            2,
            (
                1,
                HashMap::from([("a".into(), usage(2, 5)), ("b".into(), usage(1, 1))]),
            ),
        );
        let buckets = view.local_buckets();
        assert_eq!(buckets["a"], usage(3, 15));
        assert_eq!(buckets["b"], usage(1, 1));
    }
}

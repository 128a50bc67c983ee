//! The bucket catalogue: durable in partition 0 (owned by shard 0, the coordinator), copied in
//! every shard's memory so that a request checks its bucket without leaving its core.
//!
//! Every change is committed by the coordinator and then broadcast; the client gets its answer
//! only after every shard has applied the change, so a PUT on any core right after CreateBucket
//! sees the bucket. DeleteBucket is two-phase: every shard first confirms it holds no object of
//! the bucket and no write to it is running, and refuses new writes; then the coordinator
//! commits, or abandons and re-enables writes.

use std::rc::Rc;

use base::lifecycle::LifecycleConfiguration;
use base::object_lock::ObjectLockConfiguration;
use shard::meta::MetaOp;
use shard::record::Tags;
use shard::{BucketRecord, ShardError, Versioning};

use control::events::EventKind;

use crate::context::{BucketEntry, ShardContext};
use crate::events::{Actor, logged};
use crate::mesh::{BucketConfigMessage, MeshMessage, request};

/// The shard that owns partition 0 and with it the catalogue.
pub const COORDINATOR_SHARD: u32 = 0;
const CATALOGUE_PARTITION: u32 = 0;

/// CreateBucket from any shard.
pub async fn create_bucket(
    context: &Rc<ShardContext>,
    record: BucketRecord,
    actor: Actor,
) -> Result<(), ShardError> {
    if context.shard_id == COORDINATOR_SHARD {
        coordinate_create(context, record, actor).await
    } else {
        let inbox = &context.inboxes[COORDINATOR_SHARD as usize];
        request(inbox, |reply| MeshMessage::CreateBucket {
            record,
            actor,
            reply,
        })
        .await
    }
}

/// DeleteBucket from any shard.
pub async fn delete_bucket(
    context: &Rc<ShardContext>,
    name: String,
    actor: Actor,
) -> Result<(), ShardError> {
    if context.shard_id == COORDINATOR_SHARD {
        coordinate_delete(context, name, actor).await
    } else {
        let inbox = &context.inboxes[COORDINATOR_SHARD as usize];
        request(inbox, |reply| MeshMessage::DeleteBucket {
            name,
            actor,
            reply,
        })
        .await
    }
}

/// Marks `name` busy on the coordinator for the duration of a catalogue change.
struct BusyGuard {
    context: Rc<ShardContext>,
    name: String,
}

impl BusyGuard {
    fn acquire(context: &Rc<ShardContext>, name: &str) -> Option<BusyGuard> {
        let inserted = context.catalogue_busy.borrow_mut().insert(name.to_owned());
        inserted.then(|| BusyGuard {
            context: Rc::clone(context),
            name: name.to_owned(),
        })
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.context.catalogue_busy.borrow_mut().remove(&self.name);
    }
}

pub async fn coordinate_create(
    context: &Rc<ShardContext>,
    record: BucketRecord,
    actor: Actor,
) -> Result<(), ShardError> {
    assert_eq!(context.shard_id, COORDINATOR_SHARD);
    if context.buckets.borrow().contains_key(&record.name) {
        return Err(ShardError::BucketAlreadyOwnedByYou);
    }
    // A concurrent create or delete of the same name: S3 reports a conflict as "exists".
    let Some(_busy) = BusyGuard::acquire(context, &record.name) else {
        return Err(ShardError::BucketAlreadyOwnedByYou);
    };
    check_bucket_quota(context, record.owner_tenant.as_deref())?;
    let _pending = record
        .owner_tenant
        .as_deref()
        .map(|tenant| PendingCreate::new(context, tenant));
    let partition = &context.partitions[&CATALOGUE_PARTITION];
    let event = crate::events::record(
        EventKind::BucketCreated,
        "CreateBucket",
        &record.name,
        None,
        &actor,
        200,
    );
    partition
        .commit(
            logged(
                MetaOp::CreateBucket {
                    record: record.clone(),
                },
                event,
            ),
            Vec::new(),
        )
        .await?;
    apply_created(context, record.clone());
    broadcast(context, |reply| MeshMessage::BucketCreated {
        record: record.clone(),
        reply,
    })
    .await?;
    Ok(())
}

/// Counts a create in progress against its tenant's bucket quota until it is done.
struct PendingCreate {
    context: Rc<ShardContext>,
    tenant: String,
}

impl PendingCreate {
    fn new(context: &Rc<ShardContext>, tenant: &str) -> PendingCreate {
        *context
            .creating_for_tenant
            .borrow_mut()
            .entry(tenant.to_owned())
            .or_default() += 1;
        PendingCreate {
            context: Rc::clone(context),
            tenant: tenant.to_owned(),
        }
    }
}

impl Drop for PendingCreate {
    fn drop(&mut self) {
        let mut creating = self.context.creating_for_tenant.borrow_mut();
        if let Some(count) = creating.get_mut(&self.tenant) {
            *count -= 1;
            if *count == 0 {
                creating.remove(&self.tenant);
            }
        }
    }
}

/// Refuses a bucket beyond the owner tenant's `max_buckets`. The count includes buckets being
/// created right now (busy names not yet in the catalogue), so concurrent creates of one
/// tenant cannot overshoot it.
fn check_bucket_quota(context: &ShardContext, tenant: Option<&str>) -> Result<(), ShardError> {
    let Some(tenant) = tenant else {
        return Ok(());
    };
    let Some(limit) = context
        .identity()
        .quota(tenant)
        .and_then(|quota| quota.max_buckets)
    else {
        return Ok(());
    };
    let owned = context
        .buckets
        .borrow()
        .values()
        .filter(|entry| entry.record.owner_tenant.as_deref() == Some(tenant))
        .count();
    let pending = context.creating_for_tenant.borrow().get(tenant).copied();
    if owned + pending.unwrap_or(0) >= limit as usize {
        return Err(ShardError::TooManyBuckets);
    }
    Ok(())
}

pub async fn coordinate_delete(
    context: &Rc<ShardContext>,
    name: String,
    actor: Actor,
) -> Result<(), ShardError> {
    assert_eq!(context.shard_id, COORDINATOR_SHARD);
    if !context.bucket_exists(&name) {
        return Err(ShardError::NoSuchBucket);
    }
    let Some(_busy) = BusyGuard::acquire(context, &name) else {
        return Err(ShardError::BucketNotEmpty);
    };
    let prepared = match prepare_delete(context, &name) {
        Ok(()) => {
            broadcast(context, |reply| MeshMessage::PrepareBucketDelete {
                name: name.clone(),
                reply,
            })
            .await
        }
        Err(error) => Err(error),
    };
    if let Err(error) = prepared {
        return abandon_delete(context, &name, error).await;
    }
    let partition = &context.partitions[&CATALOGUE_PARTITION];
    let event = crate::events::record(
        EventKind::BucketRemoved,
        "DeleteBucket",
        &name,
        None,
        &actor,
        204,
    );
    if let Err(error) = partition
        .commit(
            logged(MetaOp::DeleteBucket { name: name.clone() }, event),
            Vec::new(),
        )
        .await
    {
        return abandon_delete(context, &name, error).await;
    }
    apply_deleted(context, &name).await?;
    broadcast(context, |reply| MeshMessage::BucketDeleted {
        name: name.clone(),
        reply,
    })
    .await?;
    Ok(())
}

/// Re-enables writes to `name` everywhere and reports why the delete did not happen.
async fn abandon_delete(
    context: &Rc<ShardContext>,
    name: &str,
    error: ShardError,
) -> Result<(), ShardError> {
    abort_delete(context, name);
    broadcast(context, |reply| MeshMessage::AbortBucketDelete {
        name: name.to_owned(),
        reply,
    })
    .await?;
    Err(error)
}

/// Sends a message to every other shard and waits for all answers; the first error wins.
async fn broadcast(
    context: &Rc<ShardContext>,
    build: impl Fn(crate::mesh::Reply<()>) -> MeshMessage,
) -> Result<(), ShardError> {
    let mut first_error = None;
    for (shard_id, inbox) in (0u32..).zip(&context.inboxes) {
        if shard_id == context.shard_id {
            continue;
        }
        if let Err(error) = request(inbox, &build).await {
            first_error.get_or_insert(error);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// A change to a bucket's configuration. It travels to the coordinator, which applies it to
/// the current record, so two changes of different settings never undo each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketConfigChange {
    /// Replaces the tag set (empty: DeleteBucketTagging).
    Tags(Tags),
    /// Replaces the default encryption (`None`: DeleteBucketEncryption).
    Encryption(Option<shard::BucketEncryption>),
    /// Replaces the CORS rules (empty: DeleteBucketCors).
    Cors(Vec<shard::CorsRule>),
    /// PutBucketVersioning: Enabled or Suspended (never back to unversioned).
    Versioning(Versioning),
    /// PutObjectLockConfiguration: turns object lock on (for good) or changes its default
    /// retention.
    ObjectLock(ObjectLockConfiguration),
    /// Replaces the lifecycle rules (`None`: DeleteBucketLifecycle).
    Lifecycle(Option<LifecycleConfiguration>),
    /// Replaces the bucket policy text, validated by the caller (`None`: DeleteBucketPolicy).
    Policy(Option<String>),
    /// Replaces the public access block (`None`: DeletePublicAccessBlock).
    PublicAccessBlock(Option<shard::record::PublicAccessBlock>),
    /// Put/DeleteBucketOwnershipControls.
    ObjectOwnership(base::acl::ObjectOwnership),
    /// PutBucketAcl (`None`: private).
    Acl(Option<base::acl::Acl>),
}

impl BucketConfigChange {
    /// Applies the change to the bucket's current record, refusing what its state forbids:
    /// the check and the change are one step on the coordinator, so two racing changes
    /// cannot each pass the check against the state the other replaces.
    fn apply_to(self, record: &mut BucketRecord) -> Result<(), ShardError> {
        match self {
            BucketConfigChange::Tags(tags) => record.tags = tags,
            BucketConfigChange::Encryption(encryption) => record.encryption = encryption,
            BucketConfigChange::Cors(rules) => record.cors = rules,
            BucketConfigChange::Versioning(state) => {
                if state != Versioning::Enabled && record.object_lock.is_some() {
                    return Err(ShardError::InvalidBucketState(
                        "An Object Lock configuration is present on this bucket, so the \
                         versioning state cannot be changed.",
                    ));
                }
                if state == Versioning::Unversioned {
                    return Err(ShardError::InvalidBucketState(
                        "A bucket cannot return to unversioned once versioning was enabled.",
                    ));
                }
                record.versioning = state;
            }
            BucketConfigChange::ObjectLock(config) => {
                if record.versioning != Versioning::Enabled {
                    return Err(ShardError::InvalidBucketState(
                        "Versioning must be 'Enabled' on the bucket to apply a Object Lock \
                         configuration",
                    ));
                }
                record.object_lock = Some(config);
            }
            BucketConfigChange::Lifecycle(config) => record.lifecycle = config,
            BucketConfigChange::Policy(text) => {
                // Checked here, against the block in force in the same step: a racing
                // PutPublicAccessBlock cannot let a public policy slip in.
                let blocked = record
                    .public_access_block
                    .is_some_and(|block| block.block_public_policy);
                let public = text.as_deref().is_some_and(|text| {
                    policy::parse_bucket_policy(text, &record.name)
                        .is_ok_and(|policy| policy.is_public())
                });
                if blocked && public {
                    return Err(ShardError::AccessDenied(
                        "The bucket's public access block (BlockPublicPolicy) refuses a public \
                         policy.",
                    ));
                }
                record.policy = text;
            }
            BucketConfigChange::PublicAccessBlock(block) => record.public_access_block = block,
            BucketConfigChange::ObjectOwnership(ownership) => {
                // S3 refuses to disable ACLs while the bucket's ACL grants anyone else
                // anything (its objects' ACLs are simply no longer evaluated).
                let grants_others = record.acl.as_ref().is_some_and(|acl| !acl.owner_only());
                if !ownership.acls_enabled() && grants_others {
                    return Err(ShardError::AclGrantsOthers);
                }
                record.object_ownership = ownership;
            }
            BucketConfigChange::Acl(acl) => {
                // Checked against the settings in force in the same step (see Policy).
                if !record.object_ownership.acls_enabled() {
                    return Err(ShardError::AclsDisabled);
                }
                let blocked = record
                    .public_access_block
                    .is_some_and(|block| block.block_public_acls);
                if blocked && acl.as_ref().is_some_and(base::acl::Acl::is_public) {
                    return Err(ShardError::AccessDenied(
                        "The bucket's public access block (BlockPublicAcls) refuses a public ACL.",
                    ));
                }
                record.acl = acl;
            }
        }
        Ok(())
    }

    /// The S3 operation that made this change, for the event log.
    fn operation(&self) -> &'static str {
        match self {
            BucketConfigChange::Tags(tags) if tags.is_empty() => "DeleteBucketTagging",
            BucketConfigChange::Tags(_) => "PutBucketTagging",
            BucketConfigChange::Encryption(None) => "DeleteBucketEncryption",
            BucketConfigChange::Encryption(Some(_)) => "PutBucketEncryption",
            BucketConfigChange::Cors(rules) if rules.is_empty() => "DeleteBucketCors",
            BucketConfigChange::Cors(_) => "PutBucketCors",
            BucketConfigChange::Versioning(_) => "PutBucketVersioning",
            BucketConfigChange::ObjectLock(_) => "PutObjectLockConfiguration",
            BucketConfigChange::Lifecycle(None) => "DeleteBucketLifecycle",
            BucketConfigChange::Lifecycle(Some(_)) => "PutBucketLifecycleConfiguration",
            BucketConfigChange::Policy(None) => "DeleteBucketPolicy",
            BucketConfigChange::Policy(Some(_)) => "PutBucketPolicy",
            BucketConfigChange::PublicAccessBlock(None) => "DeletePublicAccessBlock",
            BucketConfigChange::PublicAccessBlock(Some(_)) => "PutPublicAccessBlock",
            BucketConfigChange::ObjectOwnership(base::acl::ObjectOwnership::Unset) => {
                "DeleteBucketOwnershipControls"
            }
            BucketConfigChange::ObjectOwnership(_) => "PutBucketOwnershipControls",
            BucketConfigChange::Acl(_) => "PutBucketAcl",
        }
    }
}

/// Changes a bucket's configuration from any shard; returns once every shard has the new
/// record.
pub async fn update_bucket(
    context: &Rc<ShardContext>,
    name: String,
    change: BucketConfigChange,
    actor: Actor,
) -> Result<(), ShardError> {
    if context.shard_id == COORDINATOR_SHARD {
        coordinate_update(context, name, change, actor).await
    } else {
        let inbox = &context.inboxes[COORDINATOR_SHARD as usize];
        request(inbox, |reply| {
            MeshMessage::BucketConfig(BucketConfigMessage::Update {
                name,
                change,
                actor,
                reply,
            })
        })
        .await
    }
}

/// Longest wait for another catalogue change of the same bucket to finish.
const BUSY_WAIT_MAX: std::time::Duration = std::time::Duration::from_secs(30);

/// Commits a configuration change in partition 0, then broadcasts the whole new record.
/// Changes of one bucket are serialized by its busy mark, so each starts from the last one.
pub async fn coordinate_update(
    context: &Rc<ShardContext>,
    name: String,
    change: BucketConfigChange,
    actor: Actor,
) -> Result<(), ShardError> {
    assert_eq!(context.shard_id, COORDINATOR_SHARD);
    let started = std::time::Instant::now();
    let _busy = loop {
        if let Some(busy) = BusyGuard::acquire(context, &name) {
            break busy;
        }
        if started.elapsed() > BUSY_WAIT_MAX {
            return Err(ShardError::ShuttingDown);
        }
        monoio::time::sleep(std::time::Duration::from_millis(1)).await;
    };
    let Some(mut record) = context.bucket(&name) else {
        return Err(ShardError::NoSuchBucket);
    };
    let event = crate::events::record(
        EventKind::BucketConfigChanged,
        change.operation(),
        &name,
        None,
        &actor,
        200,
    );
    change.apply_to(&mut record)?;
    let partition = &context.partitions[&CATALOGUE_PARTITION];
    partition
        .commit(
            logged(
                MetaOp::UpdateBucket {
                    record: record.clone(),
                },
                event,
            ),
            Vec::new(),
        )
        .await?;
    apply_config_changed(context, record.clone());
    broadcast(context, |reply| {
        MeshMessage::BucketConfig(BucketConfigMessage::Changed {
            record: record.clone(),
            reply,
        })
    })
    .await
}

/// Serves a configuration message from a shard's inbox.
pub fn serve_config(context: &Rc<ShardContext>, message: BucketConfigMessage) {
    match message {
        BucketConfigMessage::Update {
            name,
            change,
            actor,
            reply,
        } => {
            let context = Rc::clone(context);
            monoio::spawn(async move {
                let _ = reply.send(coordinate_update(&context, name, change, actor).await);
            });
        }
        BucketConfigMessage::Changed { record, reply } => {
            apply_config_changed(context, record);
            let _ = reply.send(Ok(()));
        }
    }
}

/// Replaces this shard's copy of a bucket's record (a no-op if the bucket is gone).
pub fn apply_config_changed(context: &ShardContext, record: BucketRecord) {
    if let Some(entry) = context.buckets.borrow_mut().get_mut(&record.name) {
        entry.replace_record(record);
    }
}

pub fn apply_created(context: &ShardContext, record: BucketRecord) {
    context
        .buckets
        .borrow_mut()
        .insert(record.name.clone(), BucketEntry::new(record));
}

/// Phase one of a delete on this shard.
pub fn prepare_delete(context: &ShardContext, name: &str) -> Result<(), ShardError> {
    let mut buckets = context.buckets.borrow_mut();
    let Some(entry) = buckets.get_mut(name) else {
        return Err(ShardError::NoSuchBucket);
    };
    if entry.writes_in_flight > 0 {
        return Err(ShardError::BucketNotEmpty);
    }
    for partition in context.partitions.values() {
        if partition.bucket_has_objects(name)? {
            return Err(ShardError::BucketNotEmpty);
        }
    }
    entry.deleting = true;
    Ok(())
}

pub fn abort_delete(context: &ShardContext, name: &str) {
    if let Some(entry) = context.buckets.borrow_mut().get_mut(name) {
        entry.deleting = false;
    }
}

/// Phase two on this shard: forget the bucket and purge its incomplete uploads.
pub async fn apply_deleted(context: &ShardContext, name: &str) -> Result<(), ShardError> {
    context.buckets.borrow_mut().remove(name);
    for partition in context.partitions.values() {
        partition
            .commit_and_release(
                MetaOp::PurgeBucket {
                    name: name.to_owned(),
                },
                Vec::new(),
            )
            .await?;
    }
    Ok(())
}

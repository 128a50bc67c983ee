//! Service and bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
//! GetBucketLocation. The catalogue lives in every shard's memory; changes go through the
//! coordinator (`runtime::catalogue`). Default encryption: `encryption`.

pub mod encryption;

use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::xml::{
    Bucket, ListAllMyBucketsResult, location_constraint_xml, parse_create_bucket_configuration,
    versioning_configuration_xml,
};
use shard::BucketRecord;

use crate::exchange::Exchange;
use crate::handlers::payload::read_small_body;
use crate::response::Response;
use crate::s3_error;

/// Bytes of a CreateBucketConfiguration body we accept.
const CREATE_BUCKET_BODY_BYTES_MAX: usize = 64 * 1024;

pub fn owner(exchange: &Exchange<'_>) -> s3_proto::xml::Owner {
    use sha2::Digest as _;
    let id = sha2::Sha256::digest(format!(
        "maxiofs-owner:{}",
        exchange.context.settings.root_access_key_id
    ));
    s3_proto::xml::Owner {
        id: hex::encode(id),
        display_name: "maxiofs".to_owned(),
    }
}

/// Lists the buckets the principal may reach: all for root and global admins, their
/// tenant's for tenant users, the buckets of no tenant for global users.
pub fn list_buckets(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let principal = exchange
        .principal
        .clone()
        .ok_or_else(|| S3Error::new(S3ErrorCode::AccessDenied))?;
    let buckets = exchange
        .context
        .bucket_list()
        .into_iter()
        .filter(|record| principal.may_access(record.owner_tenant.as_deref()))
        .map(|record| Bucket {
            name: record.name,
            creation_date_ms: record.created_ms,
            bucket_region: Some(record.region),
        })
        .collect();
    let result = ListAllMyBucketsResult {
        owner: owner(exchange),
        buckets,
        continuation_token: None,
        prefix: None,
    };
    Ok(Response::xml(result.to_xml()))
}

pub async fn create_bucket(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let body = read_small_body(exchange, CREATE_BUCKET_BODY_BYTES_MAX).await?;
    let region = exchange.context.settings.region.clone();
    if let Some(constraint) = parse_create_bucket_configuration(&body)? {
        let matches = constraint == region || (region == "us-east-1" && constraint == "US");
        if !matches {
            return Err(S3Error::with_message(
                S3ErrorCode::IllegalLocationConstraintException,
                format!(
                    "The {constraint} location constraint is incompatible \
                     with the region of this endpoint ({region})."
                ),
            ));
        }
    }
    let name = exchange.bucket().to_owned();
    let principal = exchange
        .principal
        .clone()
        .ok_or_else(|| S3Error::new(S3ErrorCode::AccessDenied))?;
    if let Some(existing) = exchange.context.bucket(&name)
        && !principal.may_access(existing.owner_tenant.as_deref())
    {
        // Someone else's bucket: AWS answers BucketAlreadyExists, not ...OwnedByYou.
        return Err(S3Error::new(S3ErrorCode::BucketAlreadyExists).resource(format!("/{name}")));
    }
    // The bucket belongs to the creator's tenant (none for root and global users).
    let record = BucketRecord {
        name: name.clone(),
        created_ms: now_ms(),
        region,
        tags: Vec::new(),
        owner_tenant: principal.tenant_id().map(str::to_owned),
        owner_user: principal.user_id().map(str::to_owned),
        ..BucketRecord::default()
    };
    let actor = exchange.actor();
    runtime::catalogue::create_bucket(exchange.context, record, actor)
        .await
        .map_err(|error| s3_error::from_shard(&error).resource(format!("/{name}")))?;
    Ok(Response::new(200).header("Location", format!("/{name}")))
}

pub fn head_bucket(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    Ok(Response::new(200).header("x-amz-bucket-region", record.region))
}

pub async fn delete_bucket(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let name = exchange.bucket().to_owned();
    let actor = exchange.actor();
    runtime::catalogue::delete_bucket(exchange.context, name, actor)
        .await
        .map_err(|error| s3_error::from_shard(&error))?;
    Ok(Response::new(204))
}

pub fn get_bucket_location(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    Ok(Response::xml(location_constraint_xml(&record.region)))
}

/// Buckets are never versioned yet (versioning is a later issue), so the answer is the one AWS
/// gives for a bucket that never had versioning configured. rclone asks before purging.
pub fn get_bucket_versioning(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    Ok(Response::xml(versioning_configuration_xml(None)))
}

/// The clock of record times, shared with the runtime's events and upload expiry.
pub use runtime::events::now_ms;

/// Fails with NoSuchBucket unless the bucket exists on this shard's catalogue copy.
/// The request's bucket, or `NoSuchBucket`.
pub fn bucket_record(exchange: &Exchange<'_>) -> Result<BucketRecord, S3Error> {
    exchange
        .context
        .bucket(exchange.bucket())
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchBucket))
}

/// Applies a configuration change to the request's bucket (through the coordinator); returns
/// once every shard has the new record.
pub async fn change_bucket_config(
    exchange: &Exchange<'_>,
    change: runtime::catalogue::BucketConfigChange,
) -> Result<(), S3Error> {
    let name = exchange.bucket().to_owned();
    let actor = exchange.actor();
    runtime::catalogue::update_bucket(exchange.context, name, change, actor)
        .await
        .map_err(|e| s3_error::from_shard(&e))
}

pub fn require_bucket(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    if exchange.context.bucket_exists(exchange.bucket()) {
        Ok(())
    } else {
        Err(S3Error::new(S3ErrorCode::NoSuchBucket))
    }
}

//! Service and bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
//! GetBucketLocation. The catalogue lives in every shard's memory; changes go through the
//! coordinator (`runtime::catalogue`). Default encryption: `encryption`.

pub mod encryption;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as TOKEN_BASE64;
use runtime::catalogue::BucketConfigChange;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::xml::{
    Bucket, ListAllMyBucketsResult, MfaDelete, VersioningConfiguration, VersioningStatus,
    bucket_versioning_xml, location_constraint_xml, parse_create_bucket_configuration,
    parse_versioning_configuration,
};
use shard::{BucketRecord, Versioning};

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

/// `x-amz-expected-bucket-owner` (and, on copies, `x-amz-source-expected-bucket-owner`): a
/// request that names an owner other than the bucket's is refused with AccessDenied, as on
/// S3, before anything else happens. Every bucket here has the one owner id `owner` reports.
pub fn check_expected_owner(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    for header in [
        "x-amz-expected-bucket-owner",
        "x-amz-source-expected-bucket-owner",
    ] {
        if let Some(expected) = exchange.head.header_str(header)
            && expected.trim() != owner(exchange).id
        {
            return Err(S3Error::new(S3ErrorCode::AccessDenied));
        }
    }
    Ok(())
}

/// Most buckets one ListBuckets page may ask for (`max-buckets`), as AWS documents.
const MAX_BUCKETS_PER_PAGE: usize = 10_000;

/// Lists the buckets the principal may reach: all for root and global admins, their
/// tenant's for tenant users, the buckets of no tenant for global users. `prefix` and
/// `bucket-region` filter; `max-buckets` pages in name order, `continuation-token` (the last
/// name returned, base64) resumes.
pub fn list_buckets(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let principal = exchange
        .principal
        .clone()
        .ok_or_else(|| S3Error::new(S3ErrorCode::AccessDenied))?;
    let page = ListBucketsPage::from_query(exchange)?;
    let mut buckets: Vec<BucketRecord> = exchange
        .context
        .bucket_list()
        .into_iter()
        .filter(|record| principal.may_access(record.owner_tenant.as_deref()))
        .filter(|record| page.admits(record))
        .collect();
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    let truncated = page.max_buckets.is_some_and(|max| buckets.len() > max);
    if let Some(max) = page.max_buckets {
        buckets.truncate(max);
    }
    let continuation_token = truncated
        .then(|| buckets.last().map(|last| TOKEN_BASE64.encode(&last.name)))
        .flatten();
    let result = ListAllMyBucketsResult {
        owner: owner(exchange),
        buckets: buckets
            .into_iter()
            .map(|record| Bucket {
                name: record.name,
                creation_date_ms: record.created_ms,
                bucket_region: Some(record.region),
            })
            .collect(),
        continuation_token,
        prefix: page.prefix,
    };
    Ok(Response::xml(result.to_xml()))
}

/// ListBuckets' query parameters.
struct ListBucketsPage {
    prefix: Option<String>,
    region: Option<String>,
    /// Names strictly after this one (from `continuation-token`).
    after: Option<String>,
    max_buckets: Option<usize>,
}

impl ListBucketsPage {
    fn from_query(exchange: &Exchange<'_>) -> Result<ListBucketsPage, S3Error> {
        let query = &exchange.query;
        let max_buckets = query
            .get("max-buckets")
            .map(|value| {
                value
                    .parse::<usize>()
                    .ok()
                    .filter(|count| (1..=MAX_BUCKETS_PER_PAGE).contains(count))
                    .ok_or_else(|| {
                        S3Error::invalid_argument(
                            "Argument max-buckets must be an integer between 1 and 10000",
                            "max-buckets",
                            value,
                        )
                    })
            })
            .transpose()?;
        let after = query
            .get("continuation-token")
            .map(|token| {
                TOKEN_BASE64
                    .decode(token)
                    .ok()
                    .and_then(|raw| String::from_utf8(raw).ok())
                    .filter(|name| !name.is_empty())
                    .ok_or_else(|| {
                        S3Error::invalid_argument(
                            "The continuation token provided is incorrect",
                            "continuation-token",
                            token,
                        )
                    })
            })
            .transpose()?;
        Ok(ListBucketsPage {
            prefix: query.get("prefix").map(str::to_owned),
            region: query.get("bucket-region").map(str::to_owned),
            after,
            max_buckets,
        })
    }

    fn admits(&self, record: &BucketRecord) -> bool {
        self.prefix
            .as_deref()
            .is_none_or(|prefix| record.name.starts_with(prefix))
            && self
                .region
                .as_deref()
                .is_none_or(|region| record.region == region)
            && self
                .after
                .as_deref()
                .is_none_or(|after| record.name.as_str() > after)
    }
}

/// A new bucket's Object Ownership (`x-amz-object-ownership`) and ACL (`x-amz-acl`,
/// `x-amz-grant-*`): an ACL that grants anyone but the owner needs ACLs enabled.
fn requested_access(
    exchange: &Exchange<'_>,
) -> Result<(base::acl::ObjectOwnership, Option<base::acl::Acl>), S3Error> {
    let ownership = crate::handlers::acl::requested_ownership(exchange)?;
    let code = S3ErrorCode::InvalidBucketAclWithObjectOwnership;
    let acl = crate::handlers::acl::from_headers(exchange, &owner(exchange).id)
        .map_err(|error| crate::handlers::acl::while_disabled(error, ownership, code))?;
    let grants_others = acl.as_ref().is_some_and(|acl| !acl.owner_only());
    if grants_others && !ownership.acls_enabled() {
        return Err(S3Error::new(
            S3ErrorCode::InvalidBucketAclWithObjectOwnership,
        ));
    }
    let acl = acl.filter(|acl| ownership.acls_enabled() && *acl != base::acl::Acl::private());
    Ok((ownership, acl))
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
    // Object lock at creation turns versioning on for good, as on S3.
    let object_lock = object_lock_requested(exchange)?;
    let (object_ownership, acl) = requested_access(exchange)?;
    // The bucket belongs to the creator's tenant (none for root and global users).
    let record = BucketRecord {
        name: name.clone(),
        created_ms: now_ms(),
        region,
        tags: Vec::new(),
        owner_tenant: principal.tenant_id().map(str::to_owned),
        owner_user: principal.user_id().map(str::to_owned),
        versioning: if object_lock {
            Versioning::Enabled
        } else {
            Versioning::Unversioned
        },
        object_lock: object_lock.then(base::object_lock::ObjectLockConfiguration::default),
        object_ownership,
        acl,
        ..BucketRecord::default()
    };
    let actor = exchange.actor();
    runtime::catalogue::create_bucket(exchange.context, record, actor)
        .await
        .map_err(|error| s3_error::from_shard(&error).resource(format!("/{name}")))?;
    Ok(Response::new(200).header("Location", format!("/{name}")))
}

/// `x-amz-bucket-object-lock-enabled` of CreateBucket: `true` or `false` (any case); anything
/// else is InvalidArgument rather than a bucket without the lock the client asked for.
fn object_lock_requested(exchange: &Exchange<'_>) -> Result<bool, S3Error> {
    let Some(value) = exchange.head.header_str("x-amz-bucket-object-lock-enabled") else {
        return Ok(false);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(S3Error::invalid_argument(
            "x-amz-bucket-object-lock-enabled must be true or false",
            "x-amz-bucket-object-lock-enabled",
            value,
        )),
    }
}

pub fn head_bucket(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    let mut response = Response::new(200).header("x-amz-bucket-region", record.region);
    if record.object_lock.is_some() {
        // As MaxIOFS answers (Veeam asks HeadBucket whether immutability is available).
        response = response.header("x-amz-bucket-object-lock-enabled", "true");
    }
    Ok(response)
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

/// GetBucketVersioning: empty for a bucket that never had versioning, else its status.
pub fn get_bucket_versioning(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    let status = match record.versioning {
        Versioning::Unversioned => None,
        Versioning::Enabled => Some(VersioningStatus::Enabled),
        Versioning::Suspended => Some(VersioningStatus::Suspended),
    };
    let configuration = VersioningConfiguration {
        status,
        mfa_delete: None,
    };
    Ok(Response::xml(bucket_versioning_xml(&configuration)))
}

/// PutBucketVersioning: Enabled or Suspended. MFA delete cannot be honoured (this server has
/// no MFA devices for S3 requests), so asking for it is refused, not ignored; a bucket with
/// object lock stays Enabled.
pub async fn put_bucket_versioning(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    let body = read_small_body(exchange, base::limits::XML_BODY_BYTES_MAX).await?;
    let configuration = parse_versioning_configuration(&body)?;
    if configuration.mfa_delete == Some(MfaDelete::Enabled) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "MFA delete is not supported by this server",
        ));
    }
    let Some(status) = configuration.status else {
        // No Status: nothing to change (S3 accepts the empty configuration).
        return Ok(Response::new(200));
    };
    let state = match status {
        VersioningStatus::Enabled => Versioning::Enabled,
        VersioningStatus::Suspended => Versioning::Suspended,
    };
    change_bucket_config(exchange, BucketConfigChange::Versioning(state)).await?;
    Ok(Response::new(200))
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

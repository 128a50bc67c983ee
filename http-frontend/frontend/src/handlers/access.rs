//! Who besides the owner may reach a bucket: the public access block (Put/Get/
//! DeletePublicAccessBlock), Object Ownership (Put/Get/DeleteBucketOwnershipControls) and
//! the ACL operations (Put/GetBucketAcl, Put/GetObjectAcl).
//!
//! Every bucket has ACLs disabled: Object Ownership `BucketOwnerEnforced`, AWS's default for
//! new buckets since April 2023. So, as AWS answers under that setting, an ACL read shows the
//! owner with full control, an ACL write is accepted only when it grants exactly that
//! (`AccessControlListNotSupported` otherwise; the headers are checked in
//! `request_guards`), and the ownership setting is always `BucketOwnerEnforced`: turning ACLs
//! on (another setting, or deleting the controls) answers 501, since this server keeps no
//! per-object ACL to honour. The public access block is stored with the bucket and enforced
//! where it has an effect here: BlockPublicPolicy in the coordinator's PutBucketPolicy step,
//! RestrictPublicBuckets in `auth::check_bucket_policy`; the two ACL switches are kept and
//! reported (public ACLs are refused whatever they say).

use runtime::catalogue::BucketConfigChange;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::xml::{
    grants_owner_full_control_only, owner_full_control_xml, ownership_controls_xml,
    parse_ownership_controls, parse_public_access_block, public_access_block_xml,
};

use crate::exchange::Exchange;
use crate::handlers::bucket::{bucket_record, change_bucket_config, owner, require_bucket};
use crate::handlers::delete_objects::require_integrity_header;
use crate::handlers::payload::read_small_body;
// These settings belong to the bucket's owner side, as its policy does.
use crate::handlers::policy::require_signed;
use crate::handlers::versioning::find_version;
use crate::response::Response;

/// Access documents are a few hundred bytes; an ACL lists at most 100 grants on S3.
const ACCESS_BODY_BYTES_MAX: usize = 64 * 1024;

pub async fn put_public_access_block(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_bucket(exchange)?;
    require_integrity_header(exchange)?;
    let body = read_small_body(exchange, ACCESS_BODY_BYTES_MAX).await?;
    let block = parse_public_access_block(&body)?;
    change_bucket_config(exchange, BucketConfigChange::PublicAccessBlock(Some(block))).await?;
    Ok(Response::new(200))
}

pub fn get_public_access_block(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    let record = bucket_record(exchange)?;
    let block = record.public_access_block.ok_or_else(|| {
        S3Error::new(S3ErrorCode::NoSuchPublicAccessBlockConfiguration)
            .extra("BucketName", record.name.clone())
    })?;
    Ok(Response::xml(public_access_block_xml(block)))
}

pub async fn delete_public_access_block(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_bucket(exchange)?;
    change_bucket_config(exchange, BucketConfigChange::PublicAccessBlock(None)).await?;
    Ok(Response::new(204))
}

const ENFORCED: &str = "BucketOwnerEnforced";

/// The answer to anything that would turn ACLs on (request_guards uses it for CreateBucket's
/// `x-amz-object-ownership`).
pub(crate) fn acls_not_built() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        "ACLs are not supported: every bucket uses Object Ownership BucketOwnerEnforced \
         (ACLs disabled); use bucket policies",
    )
}

pub async fn put_bucket_ownership_controls(
    exchange: &mut Exchange<'_>,
) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_bucket(exchange)?;
    require_integrity_header(exchange)?;
    let body = read_small_body(exchange, ACCESS_BODY_BYTES_MAX).await?;
    if parse_ownership_controls(&body)? != ENFORCED {
        return Err(acls_not_built());
    }
    Ok(Response::new(200))
}

pub fn get_bucket_ownership_controls(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_bucket(exchange)?;
    Ok(Response::xml(ownership_controls_xml(ENFORCED)))
}

pub fn delete_bucket_ownership_controls(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_bucket(exchange)?;
    // Without controls a bucket is ObjectWriter on S3: ACLs on, which this server cannot do.
    Err(acls_not_built())
}

fn owner_acl(exchange: &Exchange<'_>) -> Response {
    let owner = owner(exchange);
    Response::xml(owner_full_control_xml(&owner.id, &owner.display_name))
}

pub fn get_bucket_acl(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_bucket(exchange)?;
    Ok(owner_acl(exchange))
}

pub fn get_object_acl(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_object(exchange)?;
    Ok(owner_acl(exchange))
}

/// PutBucketAcl / PutObjectAcl: `x-amz-acl` and `x-amz-grant-*` were checked by
/// `request_guards`; an `AccessControlPolicy` body must grant the owner full control and no
/// one anything else. Nothing is stored: that is the ACL every bucket and object has.
async fn put_acl(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    let body = read_small_body(exchange, ACCESS_BODY_BYTES_MAX).await?;
    let has_headers = exchange.head.has_header("x-amz-acl")
        || exchange
            .head
            .headers
            .iter()
            .any(|(name, _)| name.starts_with("x-amz-grant-"));
    if body.is_empty() {
        return if has_headers {
            Ok(Response::new(200))
        } else {
            Err(S3Error::new(S3ErrorCode::MissingSecurityHeader))
        };
    }
    if has_headers {
        return Err(S3Error::with_message(
            S3ErrorCode::UnexpectedContent,
            "This request does not support content when ACL headers are sent",
        ));
    }
    if grants_owner_full_control_only(&body, &owner(exchange).id)? {
        Ok(Response::new(200))
    } else {
        Err(S3Error::new(S3ErrorCode::AccessControlListNotSupported))
    }
}

pub async fn put_bucket_acl(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    put_acl(exchange).await
}

pub async fn put_object_acl(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_object(exchange)?;
    put_acl(exchange).await
}

/// The object (or the version asked for) exists: NoSuchKey / NoSuchVersion otherwise.
fn require_object(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    require_bucket(exchange)?;
    find_version(exchange).map(|_| ())
}

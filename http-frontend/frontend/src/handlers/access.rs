//! Who besides the owner may reach a bucket: the public access block (Put/Get/
//! DeletePublicAccessBlock), Object Ownership (Put/Get/DeleteBucketOwnershipControls) and
//! the ACL operations (Put/GetBucketAcl, Put/GetObjectAcl).
//!
//! A new bucket has ACLs disabled (`BucketOwnerEnforced`, AWS's default since April 2023):
//! ACL reads show the owner with full control and writes are accepted only when they grant
//! exactly that. Another Object Ownership (or none) turns ACLs on: they are stored with the
//! bucket and each object version, and evaluated by `auth::acls`. What a request's ACL may
//! say, and what is stored for it: `handlers::acl`. The public access block is stored with
//! the bucket: BlockPublicPolicy and BlockPublicAcls are checked in the coordinator's step
//! (and by `handlers::acl` for objects), RestrictPublicBuckets in `auth::check_bucket_policy`,
//! IgnorePublicAcls in `handlers::acl::in_force`.

use base::acl::{Acl, Grant, ObjectOwnership};
use runtime::catalogue::BucketConfigChange;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::xml::{
    access_control_policy_xml, ownership_controls_xml, parse_access_control_policy,
    parse_ownership_controls, parse_public_access_block, public_access_block_xml,
};
use shard::BucketRecord;
use shard::meta::MetaOp;

use crate::exchange::Exchange;
use crate::handlers::bucket::{bucket_record, change_bucket_config, owner, require_bucket};
use crate::handlers::delete_objects::require_integrity_header;
use crate::handlers::payload::read_small_body;
// These settings belong to the bucket's owner side, as its policy does.
use crate::handlers::acl;
use crate::handlers::policy::require_signed;
use crate::handlers::tagging::set_object_subresource;
use crate::handlers::versioning::{
    VERSION_ID_HEADER, bucket_versioning, find_version, version_id_value,
};
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

pub async fn put_bucket_ownership_controls(
    exchange: &mut Exchange<'_>,
) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_bucket(exchange)?;
    require_integrity_header(exchange)?;
    let body = read_small_body(exchange, ACCESS_BODY_BYTES_MAX).await?;
    let ownership = ObjectOwnership::parse(&parse_ownership_controls(&body)?)
        .ok_or_else(|| S3Error::new(S3ErrorCode::MalformedXML))?;
    change_bucket_config(exchange, BucketConfigChange::ObjectOwnership(ownership)).await?;
    Ok(Response::new(200))
}

pub fn get_bucket_ownership_controls(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    let record = bucket_record(exchange)?;
    let ownership = record.object_ownership.as_str().ok_or_else(|| {
        S3Error::new(S3ErrorCode::OwnershipControlsNotFoundError)
            .extra("BucketName", record.name.clone())
    })?;
    Ok(Response::xml(ownership_controls_xml(ownership)))
}

/// Without controls, S3 behaves as ObjectWriter: ACLs on.
pub async fn delete_bucket_ownership_controls(
    exchange: &mut Exchange<'_>,
) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_bucket(exchange)?;
    let unset = BucketConfigChange::ObjectOwnership(ObjectOwnership::Unset);
    change_bucket_config(exchange, unset).await?;
    Ok(Response::new(204))
}

/// An ACL as S3 answers it: under BucketOwnerEnforced always the owner's full control.
fn acl_answer(exchange: &Exchange<'_>, record: &BucketRecord, acl: Option<&Acl>) -> Response {
    let owner = owner(exchange);
    let private = Acl::private();
    let shown = if record.object_ownership.acls_enabled() {
        acl.unwrap_or(&private)
    } else {
        &private
    };
    Response::xml(access_control_policy_xml(
        &owner.id,
        &owner.display_name,
        shown,
    ))
}

pub fn get_bucket_acl(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    Ok(acl_answer(exchange, &record, record.acl.as_ref()))
}

pub fn get_object_acl(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let bucket = bucket_record(exchange)?;
    let object = gated_version(exchange)?;
    let mut response = acl_answer(exchange, &bucket, object.acl.as_ref());
    let versioning = bucket_versioning(exchange);
    if let Some(id) = version_id_value(versioning, object.version_id.as_deref()) {
        response = response.header(VERSION_ID_HEADER, id);
    }
    Ok(response)
}

/// The ACL a PutBucketAcl / PutObjectAcl asks for: its headers, or else its
/// `AccessControlPolicy` body (never both).
async fn requested_acl(exchange: &mut Exchange<'_>, bucket: &BucketRecord) -> Result<Acl, S3Error> {
    let not_supported = S3ErrorCode::AccessControlListNotSupported;
    let owner_id = owner(exchange).id;
    let from_headers = acl::from_headers(exchange, &owner_id)
        .map_err(|error| acl::while_disabled(error, bucket.object_ownership, not_supported))?;
    let body = read_small_body(exchange, ACCESS_BODY_BYTES_MAX).await?;
    match (from_headers, body.is_empty()) {
        (Some(acl), true) => Ok(acl),
        (None, true) => Err(S3Error::new(S3ErrorCode::MissingSecurityHeader)),
        (Some(_), false) => Err(S3Error::with_message(
            S3ErrorCode::UnexpectedContent,
            "This request does not support content when ACL headers are sent",
        )),
        (None, false) => {
            let document = parse_access_control_policy(&body)?;
            if document
                .owner_id
                .as_deref()
                .is_some_and(|id| id != owner_id)
            {
                return Err(S3Error::with_message(
                    S3ErrorCode::AccessDenied,
                    "The ACL's Owner is not the bucket's owner",
                ));
            }
            let grants = document
                .grants
                .into_iter()
                .map(|(grantee, permission)| {
                    let grantee = acl::grantee(&grantee.kind, &grantee.value, &owner_id).map_err(
                        |error| acl::while_disabled(error, bucket.object_ownership, not_supported),
                    )?;
                    Ok(Grant {
                        grantee,
                        permission,
                    })
                })
                .collect::<Result<Vec<Grant>, S3Error>>()?;
            Ok(Acl { grants })
        }
    }
}

pub async fn put_bucket_acl(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    let requested = requested_acl(exchange, &record).await?;
    if !record.object_ownership.acls_enabled() {
        // As S3: accepted when it grants the owner alone (nothing to store).
        acl::to_store(&record, Some(requested))?;
        return Ok(Response::new(200));
    }
    let stored = (requested != Acl::private()).then_some(requested);
    change_bucket_config(exchange, BucketConfigChange::Acl(stored)).await?;
    Ok(Response::new(200))
}

pub async fn put_object_acl(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    gated_version(exchange)?;
    let requested = requested_acl(exchange, &record).await?;
    let enabled = record.object_ownership.acls_enabled();
    let stored = acl::to_store(&record, Some(requested))?;
    if !enabled {
        return Ok(Response::new(200));
    }
    let set_acl = |bucket, key, version| MetaOp::SetObjectAcl {
        bucket,
        key,
        version,
        acl: stored,
    };
    set_object_subresource(exchange, set_acl, 200).await
}

/// The object version asked for, checked against the object ACL gate (`handlers::acl`).
fn gated_version(exchange: &Exchange<'_>) -> Result<shard::ObjectRecord, S3Error> {
    let object = find_version(exchange).map_err(|error| acl::gate_lookup_error(exchange, error))?;
    acl::check_object_gate(exchange, &object)?;
    Ok(object)
}

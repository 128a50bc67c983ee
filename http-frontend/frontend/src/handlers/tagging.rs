//! Object tagging (on the shard that owns the key: tags live in the object's record) and bucket
//! tagging (bucket configuration: committed by the coordinator and copied to every shard).

use base::limits::XML_BODY_BYTES_MAX;
use runtime::catalogue::BucketConfigChange;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::xml::{TagTarget, parse_tagging, parse_tagging_header, tagging_xml, validate_tags};
use shard::meta::MetaOp;
use shard::record::Tags;

use crate::exchange::Exchange;
use crate::handlers::bucket::{bucket_record, change_bucket_config, require_bucket};
use crate::handlers::payload::read_small_body;
use crate::handlers::versioning::{
    VERSION_ID_HEADER, bucket_versioning, find_version, requested_version, version_id_value,
};
use crate::response::Response;
use crate::s3_error;

/// The tags of `x-amz-tagging` (PutObject, CreateMultipartUpload), validated; none without
/// the header.
pub fn request_tags(exchange: &Exchange<'_>) -> Result<Tags, S3Error> {
    let Some(value) = exchange.head.header("x-amz-tagging") else {
        return Ok(Vec::new());
    };
    let value = std::str::from_utf8(value).map_err(|_| {
        S3Error::with_message(S3ErrorCode::InvalidArgument, "x-amz-tagging is not UTF-8")
    })?;
    let tags = parse_tagging_header(value.trim())?;
    validate_tags(&tags, TagTarget::Object)?;
    Ok(tags)
}

/// The `x-amz-tagging-count` header GET and HEAD carry when the object has tags.
pub fn tagging_count_header(tags: &Tags) -> Option<(String, String)> {
    (!tags.is_empty()).then(|| ("x-amz-tagging-count".to_owned(), tags.len().to_string()))
}

async fn read_tags(exchange: &mut Exchange<'_>, target: TagTarget) -> Result<Tags, S3Error> {
    let body = read_small_body(exchange, XML_BODY_BYTES_MAX).await?;
    let tags = parse_tagging(&body)?;
    validate_tags(&tags, target)?;
    Ok(tags)
}

/// Replaces the tags of the object's version (the latest unless `versionId` names one); ETag
/// and Last-Modified do not change (tags are a subresource). The answer names the version.
async fn set_object_tags(
    exchange: &Exchange<'_>,
    tags: Tags,
    status: u16,
) -> Result<Response, S3Error> {
    let set_tags = |bucket, key, version| MetaOp::SetObjectTags {
        bucket,
        key,
        version,
        tags,
    };
    set_object_subresource(exchange, set_tags, status).await
}

/// Commits a change of one object version's subresource (tags, ACL): `make` builds the op
/// from the bucket, the key and the version asked for (`None`: the latest). Answers `status`
/// with the version's id.
pub(crate) async fn set_object_subresource(
    exchange: &Exchange<'_>,
    make: impl FnOnce(String, String, Option<shard::record::VersionRef>) -> MetaOp,
    status: u16,
) -> Result<Response, S3Error> {
    let context = exchange.context;
    let version = requested_version(exchange)?;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    let op = make(
        exchange.bucket().to_owned(),
        exchange.key().to_owned(),
        version,
    );
    let outcome = partition
        .commit(op, Vec::new())
        .await
        .map_err(|e| not_found_with_resource(exchange, &e))?;
    let mut response = Response::new(status);
    let versioning = bucket_versioning(exchange);
    if let Some(id) = outcome
        .version
        .and_then(|version| version_id_value(versioning, version.version_id.as_deref()))
    {
        response = response.header(VERSION_ID_HEADER, id);
    }
    Ok(response)
}

fn not_found_with_resource(exchange: &Exchange<'_>, error: &shard::ShardError) -> S3Error {
    let error = s3_error::from_shard(error);
    if error.code == S3ErrorCode::NoSuchKey {
        error.resource(format!("/{}/{}", exchange.bucket(), exchange.key()))
    } else {
        error
    }
}

pub async fn put_object_tagging(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    let tags = read_tags(exchange, TagTarget::Object).await?;
    set_object_tags(exchange, tags, 200).await
}

pub async fn delete_object_tagging(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    set_object_tags(exchange, Vec::new(), 204).await
}

pub fn get_object_tagging(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    let record = find_version(exchange)?;
    let mut response = Response::xml(tagging_xml(&record.tags));
    if let Some(id) = version_id_value(bucket_versioning(exchange), record.version_id.as_deref()) {
        response = response.header(VERSION_ID_HEADER, id);
    }
    Ok(response)
}

pub async fn put_bucket_tagging(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    let tags = read_tags(exchange, TagTarget::Bucket).await?;
    change_bucket_config(exchange, BucketConfigChange::Tags(tags)).await?;
    Ok(Response::new(204))
}

pub async fn delete_bucket_tagging(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    change_bucket_config(exchange, BucketConfigChange::Tags(Vec::new())).await?;
    Ok(Response::new(204))
}

pub fn get_bucket_tagging(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    if record.tags.is_empty() {
        return Err(S3Error::new(S3ErrorCode::NoSuchTagSet).extra("BucketName", record.name));
    }
    Ok(Response::xml(tagging_xml(&record.tags)))
}

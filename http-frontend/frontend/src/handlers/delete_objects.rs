//! DeleteObjects: up to 1000 keys of one bucket in one request. The keys live in partitions of
//! every shard: this shard deletes its own and sends each other shard its share through the
//! mesh, all at once; the answer lists a result per key (only the errors in quiet mode). A key
//! that does not exist is reported as deleted, as S3 does.

use std::collections::BTreeMap;

use base::limits::XML_BODY_BYTES_MAX;
use base::names::{NameError, validate_object_key};
use runtime::batch_delete::DeleteTarget;
use runtime::batch_delete::delete_owned_keys;
use runtime::mesh::{MeshMessage, request};
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::xml::{DeleteError, DeleteResult, Deleted, ObjectIdentifier, parse_delete};
use shard::{ShardError, VersionOutcome, VersionRef, Versioning};

use crate::auth::acls::{Verdict, check_with_acls};
use crate::auth::{PolicyQuestion, RequestFacts, record_denied_on};
use crate::checksum::ChecksumAlgorithm;
use crate::exchange::Exchange;
use crate::handlers::payload::read_small_body;
use crate::handlers::versioning::{bucket_versioning, bypass_governance};
use crate::response::Response;
use crate::s3_error;

/// S3 requires an integrity check of the body: Content-MD5 or an additional checksum (header
/// or aws-chunked trailer). `read_small_body` verifies whichever is sent. Also required of
/// the object lock operations and of writes that set object lock.
pub(crate) fn require_integrity_header(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    let head = &exchange.head;
    let has_checksum = ChecksumAlgorithm::ALL
        .iter()
        .any(|algorithm| head.has_header(algorithm.header_name()));
    let has_trailer = head
        .header_str("x-amz-trailer")
        .and_then(|name| ChecksumAlgorithm::from_header_name(name.trim()))
        .is_some();
    if head.has_header("content-md5") || has_checksum || has_trailer {
        return Ok(());
    }
    Err(S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "Missing required header for this request: Content-Md5",
    ))
}

fn key_error(error: &NameError) -> (S3ErrorCode, String) {
    match error {
        NameError::KeyTooLong { .. } => (
            S3ErrorCode::KeyTooLongError,
            S3ErrorCode::KeyTooLongError.default_message().to_owned(),
        ),
        _ => (
            S3ErrorCode::InvalidArgument,
            format!("Invalid object key: {error}."),
        ),
    }
}

/// Why one listed object cannot be deleted before any shard is asked.
fn check_object(object: &ObjectIdentifier) -> Result<(), (S3ErrorCode, String)> {
    validate_object_key(&object.key).map_err(|error| key_error(&error))?;
    if let Some(version) = &object.version_id
        && VersionRef::parse(version).is_none()
    {
        // Per key, S3 reports an id it could never have issued as a version that does not
        // exist.
        return Err((
            S3ErrorCode::NoSuchVersion,
            S3ErrorCode::NoSuchVersion.default_message().to_owned(),
        ));
    }
    if object.etag.is_some() || object.last_modified_time.is_some() || object.size_bytes.is_some() {
        return Err((
            S3ErrorCode::NotImplemented,
            "Conditional deletes are not implemented by this server".to_owned(),
        ));
    }
    Ok(())
}

/// What deleting one listed object did, or why it failed (code, message).
type Outcome = Result<Option<VersionOutcome>, (S3ErrorCode, String)>;

/// A `<Deleted>` entry: the version removed, or the delete marker written. A delete that
/// wrote or removed a marker reports `DeleteMarker` and the marker's `DeleteMarkerVersionId`
/// (AWS: the marker created, or the version deleted when one was named).
fn deleted_entry(
    object: ObjectIdentifier,
    version: Option<VersionOutcome>,
    versioning: Versioning,
) -> Deleted {
    let mut deleted = Deleted {
        key: object.key,
        version_id: object.version_id.clone(),
        ..Deleted::default()
    };
    if let Some(version) = version
        && version.delete_marker
    {
        deleted.delete_marker = true;
        deleted.delete_marker_version_id = crate::handlers::versioning::version_id_value(
            versioning,
            version.version_id.as_deref(),
        );
    }
    deleted
}

/// The bucket policy's word on one listed key (`s3:DeleteObject`, or
/// `s3:DeleteObjectVersion` with a version id, on the key's ARN). A refused key is a denial of
/// its own: counted, and audited as a DeleteObject of that key.
fn policy_allows(
    exchange: &Exchange<'_>,
    bucket: &str,
    object: &ObjectIdentifier,
    facts: &RequestFacts<'_>,
) -> Result<(), (S3ErrorCode, String)> {
    let question = PolicyQuestion {
        operation: "DeleteObject",
        bucket,
        key: Some(&object.key),
        version_id: object.version_id.is_some(),
    };
    let principal = exchange.principal.as_ref();
    // DeleteObject is granted on the bucket (ACL WRITE): never left to an object's ACL.
    let verdict =
        check_with_acls(exchange.context, principal, &question, facts).map_err(|error| {
            let actor = exchange.actor();
            record_denied_on(exchange.context, &error, &question, &actor);
            let message = error.code.default_message().to_owned();
            (error.code, error.message.unwrap_or(message))
        })?;
    match verdict {
        Verdict::Allowed => Ok(()),
        Verdict::IfObjectAcl(_) => Err((
            S3ErrorCode::AccessDenied,
            S3ErrorCode::AccessDenied.default_message().to_owned(),
        )),
    }
}

/// Checks each listed key (name rules, then the bucket policy) and groups the keys that pass
/// by owner shard: owner -> (index in the request, key and version). A refused key gets its
/// outcome in `outcomes` now.
fn shares_by_owner(
    exchange: &Exchange<'_>,
    bucket: &str,
    objects: &[ObjectIdentifier],
    outcomes: &mut [Option<Outcome>],
) -> BTreeMap<u32, Vec<(usize, DeleteTarget)>> {
    let context = exchange.context;
    let facts = RequestFacts::of(&exchange.head, &exchange.query, exchange.connection);
    let mut shares: BTreeMap<u32, Vec<(usize, DeleteTarget)>> = BTreeMap::new();
    for (index, object) in objects.iter().enumerate() {
        let allowed = || policy_allows(exchange, bucket, object, &facts);
        match check_object(object).and_then(|()| allowed()) {
            Ok(()) => shares
                .entry(context.owner_of_key(bucket, &object.key))
                .or_default()
                .push((
                    index,
                    (
                        object.key.clone(),
                        object.version_id.as_deref().and_then(VersionRef::parse),
                    ),
                )),
            Err(error) => outcomes[index] = Some(Err(error)),
        }
    }
    shares
}

pub async fn delete_objects(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let context = exchange.context;
    if !context.bucket_exists(exchange.bucket()) {
        return Err(S3Error::new(S3ErrorCode::NoSuchBucket));
    }
    require_integrity_header(exchange)?;
    let body = read_small_body(exchange, XML_BODY_BYTES_MAX).await?;
    let delete = parse_delete(&body)?;
    let bucket = exchange.bucket().to_owned();
    let actor = exchange.actor();
    let bypass_governance = bypass_governance(exchange)?;
    let mut outcomes: Vec<Option<Outcome>> = vec![None; delete.objects.len()];
    let shares = shares_by_owner(exchange, &bucket, &delete.objects, &mut outcomes);
    let mut local = None;
    let mut remote = Vec::new();
    for (owner, share) in shares {
        let (indexes, targets): (Vec<usize>, Vec<DeleteTarget>) = share.into_iter().unzip();
        if owner == context.shard_id {
            local = Some((indexes, targets));
            continue;
        }
        let inbox = context.inboxes[owner as usize].clone();
        let bucket = bucket.clone();
        let actor = actor.clone();
        let count = targets.len();
        let task = monoio::spawn(async move {
            let answer = request(&inbox, |reply| MeshMessage::DeleteObjects {
                bucket,
                targets,
                bypass_governance,
                actor,
                reply,
            })
            .await;
            // The whole request failed (shutting down): every key of the share fails.
            answer.unwrap_or_else(|error| vec![Err(error); count])
        });
        remote.push((indexes, task));
    }
    let mut record =
        |indexes: Vec<usize>, results: Vec<Result<Option<VersionOutcome>, ShardError>>| {
            for (index, result) in indexes.into_iter().zip(results) {
                outcomes[index] = Some(result.map_err(|error| {
                    let error = s3_error::from_shard(&error);
                    let message = error
                        .message
                        .unwrap_or_else(|| error.code.default_message().to_owned());
                    (error.code, message)
                }));
            }
        };
    if let Some((indexes, targets)) = local {
        let results = delete_owned_keys(context, &bucket, targets, bypass_governance, &actor).await;
        record(indexes, results);
    }
    for (indexes, task) in remote {
        record(indexes, task.await);
    }
    let versioning = bucket_versioning(exchange);
    let mut result = DeleteResult::default();
    for (object, outcome) in delete.objects.into_iter().zip(outcomes) {
        match outcome {
            Some(Ok(version)) => {
                if !delete.quiet {
                    result
                        .deleted
                        .push(deleted_entry(object, version, versioning));
                }
            }
            Some(Err((code, message))) => result.errors.push(DeleteError {
                key: object.key,
                version_id: object.version_id,
                code,
                message: Some(message),
            }),
            None => result.errors.push(DeleteError {
                key: object.key,
                version_id: object.version_id,
                code: S3ErrorCode::InternalError,
                message: None,
            }),
        }
    }
    Ok(Response::xml(result.to_xml()))
}

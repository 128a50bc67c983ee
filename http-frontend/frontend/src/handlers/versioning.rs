//! What the object handlers share about versions: the `versionId` a request names, the
//! bucket's versioning state, the headers that report versions, and how a delete marker or a
//! missing version answers.

use std::rc::Rc;

use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::time_format::http_date_from_millis;
use shard::{ObjectRecord, Partition, ReadPin, VersionRef, Versioning};

use crate::exchange::Exchange;
use crate::s3_error;

pub const VERSION_ID_HEADER: &str = "x-amz-version-id";
pub const DELETE_MARKER_HEADER: &str = "x-amz-delete-marker";

/// The version the request's `versionId` names; `None` when it names none (the latest).
/// Empty or malformed: InvalidArgument, as S3 answers.
pub fn requested_version(exchange: &Exchange<'_>) -> Result<Option<VersionRef>, S3Error> {
    let Some(value) = exchange.query.get("versionId") else {
        return Ok(None);
    };
    parse_version(value, "versionId").map(Some)
}

/// A client's version id (query parameter, copy source, DeleteObjects entry).
pub fn parse_version(value: &str, argument: &str) -> Result<VersionRef, S3Error> {
    if value.is_empty() {
        return Err(S3Error::invalid_argument(
            "Version id cannot be the empty string",
            argument,
            value,
        ));
    }
    VersionRef::parse(value)
        .ok_or_else(|| S3Error::invalid_argument("Invalid version id specified", argument, value))
}

/// The bucket's versioning state in this shard's copy of the catalogue.
pub fn bucket_versioning(exchange: &Exchange<'_>) -> Versioning {
    exchange
        .context
        .with_bucket(exchange.bucket(), |record| record.versioning)
        .unwrap_or_default()
}

/// The `x-amz-version-id` of a version, if the answer carries one: a version with an id
/// always; the null version only in a bucket that has had versioning (S3 sends nothing
/// about versions for a bucket that never had it).
pub fn version_id_value(versioning: Versioning, version_id: Option<&str>) -> Option<String> {
    match version_id {
        Some(id) => Some(id.to_owned()),
        None if versioning != Versioning::Unversioned => Some("null".to_owned()),
        None => None,
    }
}

/// `x-amz-version-id` as a header pair, for `extend`.
pub fn version_header(
    versioning: Versioning,
    version_id: Option<&str>,
) -> Option<(String, String)> {
    version_id_value(versioning, version_id).map(|id| (VERSION_ID_HEADER.to_owned(), id))
}

/// Whether the request asks to bypass GOVERNANCE retention and its identity may: root and
/// global admins (until bucket policies grant `s3:BypassGovernanceRetention`). Asking without
/// the right is AccessDenied rather than silently ignored.
pub fn bypass_governance(exchange: &Exchange<'_>) -> Result<bool, S3Error> {
    let asked = exchange
        .head
        .header_str("x-amz-bypass-governance-retention")
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
    if !asked {
        return Ok(false);
    }
    let allowed = exchange
        .principal
        .as_ref()
        .is_some_and(runtime::identity::Principal::is_global_admin);
    if allowed {
        Ok(true)
    } else {
        Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "Access Denied: bypassing governance retention requires \
             s3:BypassGovernanceRetention",
        ))
    }
}

/// The version a GET or HEAD reads, pinned. The latest being a delete marker is NoSuchKey with
/// the marker's headers; a named version that is a marker is MethodNotAllowed (it has no
/// data); a named version that does not exist is NoSuchVersion.
pub fn lookup_for_read(
    exchange: &Exchange<'_>,
    partition: &Rc<Partition>,
    version: Option<&VersionRef>,
) -> Result<(ObjectRecord, ReadPin), S3Error> {
    let resource = || format!("/{}/{}", exchange.bucket(), exchange.key());
    let found = partition
        .lookup_version_pinned(exchange.bucket(), exchange.key(), version)
        .map_err(|e| s3_error::from_shard(&e))?;
    let Some((record, _, pin)) = found else {
        let code = if version.is_some() {
            S3ErrorCode::NoSuchVersion
        } else {
            S3ErrorCode::NoSuchKey
        };
        let mut error = S3Error::new(code).resource(resource());
        if let Some(version) = version {
            error = error.extra("VersionId", version.as_str());
        }
        return Err(error);
    };
    if record.delete_marker {
        return Err(delete_marker_error(exchange, &record, version.is_some()));
    }
    Ok((record, pin))
}

/// The answer to a read of a delete marker: 404 NoSuchKey when it is the latest version of
/// the key asked for, 405 MethodNotAllowed when it was named by id; both with
/// `x-amz-delete-marker: true` and the marker's id.
pub fn delete_marker_error(exchange: &Exchange<'_>, record: &ObjectRecord, named: bool) -> S3Error {
    let version_id = record.version_id.as_deref().unwrap_or("null").to_owned();
    let resource = format!("/{}/{}", exchange.bucket(), exchange.key());
    let error = if named {
        S3Error::new(S3ErrorCode::MethodNotAllowed)
            .extra("Method", exchange.head.method.clone())
            .extra("ResourceType", "DeleteMarker")
            .header(
                "Last-Modified",
                http_date_from_millis(record.last_modified_ms),
            )
            .header("Allow", "DELETE")
    } else {
        S3Error::new(S3ErrorCode::NoSuchKey)
    };
    error
        .resource(resource)
        .header(DELETE_MARKER_HEADER, "true")
        .header(VERSION_ID_HEADER, version_id)
}

/// The version a subresource operation (tagging, attributes, retention, legal hold, ACL)
/// works on: the one `versionId` names, else the latest. Delete markers have no subresources.
pub fn find_version(exchange: &Exchange<'_>) -> Result<ObjectRecord, S3Error> {
    let version = requested_version(exchange)?;
    let version = version.as_ref();
    let (bucket, key) = (exchange.bucket(), exchange.key());
    let partition = exchange.context.local_partition(bucket, key);
    let found = match version {
        None => partition.object(bucket, key),
        Some(version) => partition
            .object_version(bucket, key, version)
            .map(|found| found.map(|(record, _)| record)),
    }
    .map_err(|e| s3_error::from_shard(&e))?;
    match found {
        Some(record) if record.delete_marker => {
            Err(delete_marker_error(exchange, &record, version.is_some()))
        }
        Some(record) => Ok(record),
        None if version.is_some() => Err(S3Error::new(S3ErrorCode::NoSuchVersion)),
        None => Err(S3Error::new(S3ErrorCode::NoSuchKey)),
    }
}

//! CopyObject and UploadPartCopy, on the shard that owns the destination key.
//!
//! The source key usually belongs to another shard: its owner opens it and streams its bytes
//! here through a bounded channel (`runtime::object_stream`), under a read pin held for the
//! whole copy, so a copy is always one whole committed version of the source. The copy is
//! written like a PUT (new extents, MD5 computed while writing, one commit); nothing is shared
//! with the source's extents, so copying onto itself rewrites the bytes too.

use std::ops::Range;
use std::rc::Rc;

use base::limits::{PART_SIZE_BYTES_MAX, PUT_OBJECT_SIZE_BYTES_MAX};
use base::names::{NameError, validate_bucket_name, validate_object_key};
use md5::{Digest as _, Md5};
use runtime::object_stream::{SourceStream, StreamStart, open_object};
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::router::{QueryParams, parse_part_number};
use s3_proto::time_format::parse_http_date;
use s3_proto::xml::{CopyObjectResult, CopyPartResult};
use shard::VersionRef;
use shard::meta::{MetaOp, PartRecord};
use shard::record::Tags;
use shard::{ObjectRecord, Partition, ShardError, WrittenData};

use crate::checksum::{ChecksumAlgorithm, Checksummer};
use crate::exchange::Exchange;
use crate::handlers::bucket::now_ms;
use crate::handlers::conditional::{etag_matches, write_condition};
use crate::handlers::encryption::{
    RunStart, WriteKey, copy_source_decryption, part_write_key, requests_encryption, seal,
    write_key,
};
use crate::handlers::multipart::{require_upload, upload_id};
use crate::handlers::object::{check_storage_quota, commit_object, stored_headers};
use crate::handlers::tagging::request_tags;
use crate::handlers::versioning::{VERSION_ID_HEADER, version_id_value};
use crate::response::Response;
use crate::s3_error;

/// The object named by `x-amz-copy-source`, decoded and validated.
#[derive(Debug, PartialEq, Eq)]
pub struct CopySource {
    pub bucket: String,
    pub key: String,
    /// `?versionId=` of the copy source; `None`: its latest version.
    pub version: Option<VersionRef>,
}

/// `x-amz-metadata-directive` / `x-amz-tagging-directive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    Copy,
    Replace,
}

const COPY_SOURCE_MESSAGE: &str =
    "Copy Source must mention the source bucket and key: sourcebucket/sourcekey";

const COPY_TO_ITSELF_MESSAGE: &str = "This copy request is illegal because it is trying to copy \
     an object to itself without changing the object's metadata, storage class, website \
     redirect location or encryption attributes.";

const COPY_RANGE_MESSAGE: &str = "The x-amz-copy-source-range value must be of the form \
     bytes=first-last where first and last are the zero-based offsets of the first and last \
     bytes to copy";

fn invalid_copy_source(value: &str) -> S3Error {
    S3Error::invalid_argument(COPY_SOURCE_MESSAGE, "x-amz-copy-source", value)
}

/// Parses `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, optionally
/// followed by `?versionId=`. The bucket and key are validated after the one decode.
pub fn parse_copy_source(value: &str) -> Result<CopySource, S3Error> {
    let (path, query) = value.split_once('?').unwrap_or((value, ""));
    let mut version = None;
    if !query.is_empty() {
        let query = QueryParams::parse(query).map_err(|_| invalid_copy_source(value))?;
        if let Some(id) = query.get("versionId") {
            // An id this server could never have issued names no version of the source.
            version =
                Some(VersionRef::parse(id).ok_or_else(|| {
                    S3Error::new(S3ErrorCode::NoSuchVersion).extra("VersionId", id)
                })?);
        }
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    let Some((raw_bucket, raw_key)) = path.split_once('/') else {
        return Err(invalid_copy_source(value));
    };
    if raw_bucket.is_empty() || raw_key.is_empty() {
        return Err(invalid_copy_source(value));
    }
    let decode = |raw: &str| {
        let invalid = || {
            S3Error::invalid_argument("Invalid copy source encoding", "x-amz-copy-source", value)
        };
        // percent_decode_str passes a stray `%` through; S3 rejects it, as the path router does.
        let bytes = raw.as_bytes();
        let escapes_valid = bytes.iter().enumerate().all(|(idx, byte)| {
            *byte != b'%'
                || bytes
                    .get(idx + 1..idx + 3)
                    .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
        });
        if !escapes_valid {
            return Err(invalid());
        }
        percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map(std::borrow::Cow::into_owned)
            .map_err(|_| invalid())
    };
    let bucket = decode(raw_bucket)?;
    let key = decode(raw_key)?;
    validate_bucket_name(&bucket).map_err(|error| {
        S3Error::with_message(
            S3ErrorCode::InvalidBucketName,
            format!("The specified bucket is not valid: {error}."),
        )
        .extra("BucketName", bucket.clone())
    })?;
    validate_object_key(&key).map_err(|error| match error {
        NameError::KeyTooLong { .. } => S3Error::new(S3ErrorCode::KeyTooLongError),
        other => S3Error::invalid_argument(
            format!("Invalid copy source object key: {other}."),
            "x-amz-copy-source",
            value,
        ),
    })?;
    Ok(CopySource {
        bucket,
        key,
        version,
    })
}

const COPY_SOURCE_VERSION_HEADER: &str = "x-amz-copy-source-version-id";

/// `x-amz-copy-source-version-id`: the version copied, when the source bucket has versions.
fn copy_source_version_header(
    exchange: &Exchange<'_>,
    source_bucket: &str,
    version_id: Option<&str>,
) -> Option<String> {
    let versioning = exchange
        .context
        .with_bucket(source_bucket, |record| record.versioning)
        .unwrap_or_default();
    version_id_value(versioning, version_id)
}

fn copy_source(exchange: &Exchange<'_>) -> Result<CopySource, S3Error> {
    let value = exchange
        .head
        .header_str("x-amz-copy-source")
        .ok_or_else(|| S3Error::invalid_argument(COPY_SOURCE_MESSAGE, "x-amz-copy-source", ""))?;
    parse_copy_source(value.trim())
}

/// A directive header: absent means COPY, as in S3; values are case-sensitive there too.
fn directive(exchange: &Exchange<'_>, header: &'static str) -> Result<Directive, S3Error> {
    match exchange.head.header_str(header).map(str::trim) {
        None | Some("COPY") => Ok(Directive::Copy),
        Some("REPLACE") => Ok(Directive::Replace),
        Some(other) => {
            let what = if header == "x-amz-tagging-directive" {
                "tagging"
            } else {
                "metadata"
            };
            Err(S3Error::invalid_argument(
                format!("Unknown {what} directive."),
                header,
                other,
            ))
        }
    }
}

fn source_precondition_failed(condition: &'static str) -> S3Error {
    S3Error::new(S3ErrorCode::PreconditionFailed).extra("Condition", condition)
}

/// The `x-amz-copy-source-if-*` conditions, as S3 evaluates them: a true `if-match` makes it
/// ignore `if-unmodified-since`, a false `if-none-match` (no match) makes it ignore
/// `if-modified-since`; every failure is 412 (a copy never answers 304). Unparsable dates
/// are ignored.
pub fn check_source_conditions(
    exchange: &Exchange<'_>,
    record: &ObjectRecord,
) -> Result<(), S3Error> {
    let head = &exchange.head;
    let last_modified_secs = record.last_modified_ms.div_euclid(1000);
    let date = |name: &str| head.header_str(name).and_then(parse_http_date);
    if let Some(value) = head.header_str("x-amz-copy-source-if-match") {
        if !etag_matches(value, &record.etag) {
            return Err(source_precondition_failed("x-amz-copy-source-If-Match"));
        }
    } else if let Some(since) = date("x-amz-copy-source-if-unmodified-since")
        && last_modified_secs > since
    {
        return Err(source_precondition_failed(
            "x-amz-copy-source-If-Unmodified-Since",
        ));
    }
    if let Some(value) = head.header_str("x-amz-copy-source-if-none-match") {
        if etag_matches(value, &record.etag) {
            return Err(source_precondition_failed(
                "x-amz-copy-source-If-None-Match",
            ));
        }
    } else if let Some(since) = date("x-amz-copy-source-if-modified-since")
        && last_modified_secs <= since
    {
        return Err(source_precondition_failed(
            "x-amz-copy-source-If-Modified-Since",
        ));
    }
    Ok(())
}

/// Parses `x-amz-copy-source-range`: exactly `bytes=first-last` (inclusive, decimal digits).
pub fn parse_copy_range(value: &str) -> Result<(u64, u64), S3Error> {
    let invalid =
        || S3Error::invalid_argument(COPY_RANGE_MESSAGE, "x-amz-copy-source-range", value);
    let spec = value.trim().strip_prefix("bytes=").ok_or_else(invalid)?;
    let (first, last) = spec.split_once('-').ok_or_else(invalid)?;
    let number = |text: &str| {
        if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        text.parse::<u64>().map_err(|_| invalid())
    };
    Ok((number(first)?, number(last)?))
}

/// The byte range a part copy reads: the whole source, or the asked range if it lies within
/// the source (`InvalidRange` otherwise, as S3 answers).
fn part_copy_range(requested: Option<(u64, u64)>, size_bytes: u64) -> Result<Range<u64>, S3Error> {
    let Some((first, last)) = requested else {
        return Ok(0..size_bytes);
    };
    if first > last || last >= size_bytes {
        return Err(S3Error::new(S3ErrorCode::InvalidRange)
            .extra("ActualObjectSize", size_bytes.to_string()));
    }
    Ok(first..last + 1)
}

fn copy_source_too_large(size_max_bytes: u64) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        format!(
            "The specified copy source is larger than the maximum allowable size for a copy \
             source: {size_max_bytes}"
        ),
    )
}

/// Opens the source on whichever shard owns it; the source bucket must exist and the
/// principal must be allowed into it (a copy reads it: tenant isolation applies), and the
/// source bucket's policy must allow reading the source (`s3:GetObject` there; an anonymous
/// copy needs that policy's Allow).
async fn open_source(
    exchange: &Exchange<'_>,
    source: &CopySource,
) -> Result<SourceStream, S3Error> {
    use crate::auth::acls::{Verdict, check_with_acls};
    use crate::auth::{PolicyQuestion, RequestFacts, authorize};
    let principal = exchange.principal.as_ref();
    if let Some(principal) = principal {
        authorize(
            exchange.context,
            principal,
            "GetObject",
            Some(&source.bucket),
        )?;
    }
    let question = PolicyQuestion {
        operation: "GetObject",
        bucket: &source.bucket,
        key: Some(&source.key),
        version_id: source.version.is_some(),
    };
    let facts = RequestFacts::of(&exchange.head, &exchange.query, exchange.connection);
    let verdict = check_with_acls(exchange.context, principal, &question, &facts)?;
    if !exchange.context.bucket_exists(&source.bucket) {
        return Err(S3Error::new(S3ErrorCode::NoSuchBucket).extra("BucketName", &*source.bucket));
    }
    let version = source.version.clone();
    let gate = match verdict {
        Verdict::Allowed => None,
        Verdict::IfObjectAcl(permission) => Some(permission),
    };
    let opened = open_object(exchange.context, &source.bucket, &source.key, version)
        .await
        .map_err(|error| match error {
            // Only the source's ACL could allow the read: its existence is not revealed.
            _ if gate.is_some() => S3Error::new(S3ErrorCode::AccessDenied),
            ShardError::NoSuchKey => s3_error::from_shard(&error).extra("Key", &*source.key),
            ShardError::DeleteMarker => S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The source of a copy request may not specifically refer to a delete marker \
                 by version id.",
            ),
            other => s3_error::from_shard(&other),
        })?;
    if let Some(permission) = gate {
        let bucket = exchange
            .context
            .buckets
            .borrow()
            .get(&source.bucket)
            .map(|entry| {
                crate::handlers::acl::object_grants(
                    &entry.record,
                    &opened.record,
                    principal,
                    permission,
                )
            });
        if bucket != Some(true) {
            return Err(S3Error::new(S3ErrorCode::AccessDenied));
        }
    }
    Ok(opened)
}

/// Streams `range` of the source into new extents of `partition`; returns them with the hex
/// MD5 of the bytes and, when `checksum` names an algorithm, its base64 value. A stream that
/// ends short means the source shard stopped: the copy fails and its extents are freed (the
/// writer is dropped unfinished).
async fn copy_bytes(
    partition: &Rc<Partition>,
    stream: SourceStream,
    start: StreamStart,
    checksum: Option<ChecksumAlgorithm>,
    key: &WriteKey,
) -> Result<CopiedBytes, S3Error> {
    let length_bytes = start.range.end - start.range.start;
    let shard_error = |error: &ShardError| s3_error::from_shard(error);
    stream
        .start
        .send_async(start)
        .await
        .map_err(|_| shard_error(&ShardError::ShuttingDown))?;
    let mut writer = partition.writer(Some(length_bytes));
    let run = key.start_run(&mut writer);
    let mut md5 = Md5::new();
    let mut checksummer = checksum.map(Checksummer::new);
    while let Ok(chunk) = stream.chunks.recv_async().await {
        let chunk = chunk.map_err(|error| shard_error(&error))?;
        if writer.size_bytes() + chunk.len() as u64 > length_bytes {
            return Err(shard_error(&ShardError::CorruptRecord(
                "copy stream longer than its range",
            )));
        }
        md5.update(&chunk);
        if let Some(checksummer) = checksummer.as_mut() {
            checksummer.update(&chunk);
        }
        writer
            .write(&chunk)
            .await
            .map_err(|error| shard_error(&error))?;
    }
    if writer.size_bytes() != length_bytes {
        return Err(shard_error(&ShardError::ShuttingDown));
    }
    let written = writer.finish().await.map_err(|error| shard_error(&error))?;
    let checksum = checksummer.map(Checksummer::finish_base64);
    Ok(CopiedBytes {
        written,
        md5: md5.finalize().into(),
        checksum,
        run,
    })
}

/// What `copy_bytes` wrote.
struct CopiedBytes {
    written: WrittenData,
    md5: [u8; 16],
    /// Base64 of the requested additional checksum.
    checksum: Option<String>,
    /// The destination's encryption run, when it is encrypted.
    run: Option<RunStart>,
}

/// The headers the copy keeps: the source's (COPY) or the request's (REPLACE). A stored
/// checksum describes the bytes, not the metadata, so it follows the bytes either way; a
/// multipart source's checksum is of its parts and would be wrong for the single-part copy.
fn copied_headers(
    exchange: &Exchange<'_>,
    source: &ObjectRecord,
    metadata: Directive,
) -> Result<Vec<(String, String)>, S3Error> {
    let is_checksum = |name: &str| name.starts_with("x-amz-checksum-");
    let mut headers = match metadata {
        Directive::Replace => stored_headers(exchange)?,
        Directive::Copy => source.headers.clone(),
    };
    headers.retain(|(name, _)| !is_checksum(name));
    if source.part_sizes_bytes.is_empty() {
        let checksums = source.headers.iter().filter(|(name, _)| is_checksum(name));
        headers.extend(checksums.cloned());
    }
    Ok(headers)
}

/// `x-amz-checksum-algorithm` of a CopyObject: the algorithm the new object's checksum is
/// computed with, from the bytes as they are copied.
fn requested_checksum(exchange: &Exchange<'_>) -> Result<Option<ChecksumAlgorithm>, S3Error> {
    exchange
        .head
        .header_str("x-amz-checksum-algorithm")
        .map(|name| {
            ChecksumAlgorithm::from_name(name.trim())
                .ok_or_else(crate::checksum::unsupported_algorithm)
        })
        .transpose()
}

/// Stores a checksum computed during the copy in place of any the headers carried, and
/// returns the checksum the new object has (for CopyObjectResult).
fn replace_checksum(
    headers: &mut Vec<(String, String)>,
    computed: Option<(ChecksumAlgorithm, String)>,
) -> Option<(&'static str, String)> {
    use crate::handlers::object::{CHECKSUM_TYPE_HEADER, FULL_OBJECT};
    if let Some((algorithm, value)) = computed {
        headers.retain(|(name, _)| !name.starts_with("x-amz-checksum-"));
        headers.push((algorithm.header_name().to_owned(), value));
        headers.push((CHECKSUM_TYPE_HEADER.to_owned(), FULL_OBJECT.to_owned()));
    }
    headers.iter().find_map(|(name, value)| {
        ChecksumAlgorithm::from_header_name(name)
            .map(|algorithm| (algorithm.xml_element(), value.clone()))
    })
}

/// The tag set the copy gets: the source's (COPY) or `x-amz-tagging`, validated as on
/// PutObject (REPLACE; absent means no tags).
fn copied_tags(
    exchange: &Exchange<'_>,
    source: &ObjectRecord,
    tagging: Directive,
) -> Result<Tags, S3Error> {
    match tagging {
        Directive::Copy => Ok(source.tags.clone()),
        Directive::Replace => request_tags(exchange),
    }
}

pub async fn copy_object(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let source = copy_source(exchange)?;
    crate::handlers::bucket::require_bucket(exchange)?;
    crate::handlers::object::check_storage_class(exchange)?;
    let lock = crate::handlers::object_lock::new_version_lock(exchange, false)?;
    // A copy gets the ACL its request asks for (private by default), never the source's.
    let acl = crate::handlers::acl::of_new_object(exchange)?;
    let metadata = directive(exchange, "x-amz-metadata-directive")?;
    let tagging = directive(exchange, "x-amz-tagging-directive")?;
    let condition = write_condition(exchange)?;
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    let key = write_key(exchange)?;
    let stream = open_source(exchange, &source).await?;
    let decryption = copy_source_decryption(exchange, &stream.record)?;
    check_source_conditions(exchange, &stream.record)?;
    let onto_itself = source.bucket == exchange.bucket() && source.key == exchange.key();
    if onto_itself && metadata == Directive::Copy && !requests_encryption(exchange) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            COPY_TO_ITSELF_MESSAGE,
        ));
    }
    let stream_version = stream.record.version_id.clone();
    let size_bytes = stream.record.size_bytes;
    if size_bytes > PUT_OBJECT_SIZE_BYTES_MAX {
        return Err(copy_source_too_large(PUT_OBJECT_SIZE_BYTES_MAX));
    }
    check_storage_quota(exchange, size_bytes)?;
    let mut headers = copied_headers(exchange, &stream.record, metadata)?;
    let tags = copied_tags(exchange, &stream.record, tagging)?;
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    let start = StreamStart {
        range: 0..size_bytes,
        decryption,
    };
    let requested = requested_checksum(exchange)?;
    let copied = copy_bytes(&partition, stream, start, requested, &key).await?;
    let checksum = replace_checksum(&mut headers, requested.zip(copied.checksum));
    let (etag, encryption) = seal(key.mode(), copied.run, &copied.md5, &copied.written);
    let written = copied.written;
    let last_modified_ms = now_ms();
    let record = ObjectRecord {
        size_bytes: written.size_bytes,
        etag: etag.clone(),
        last_modified_ms,
        headers,
        extents: written.extents.clone(),
        block_checksums: written.block_checksums.clone(),
        tags,
        acl,
        encryption,
        retention: lock.retention,
        legal_hold: lock.legal_hold,
        ..ObjectRecord::default()
    };
    let source_version =
        copy_source_version_header(exchange, &source.bucket, stream_version.as_deref());
    let version_id = commit_object(exchange, &partition, record, condition, written).await?;
    let result = CopyObjectResult {
        etag,
        last_modified_ms,
        checksum,
    };
    let mut response = Response::xml(result.to_xml());
    if let Some(id) = version_id {
        response = response.header(VERSION_ID_HEADER, id);
    }
    if let Some(id) = source_version {
        response = response.header(COPY_SOURCE_VERSION_HEADER, id);
    }
    Ok(key.add_headers(response))
}

pub async fn upload_part_copy(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let part_number = parse_part_number(exchange.query.get("partNumber").unwrap_or(""))?;
    let upload_id = upload_id(exchange)?;
    let source = copy_source(exchange)?;
    let requested = exchange
        .head
        .header_str("x-amz-copy-source-range")
        .map(parse_copy_range)
        .transpose()?;
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    let upload = require_upload(exchange, &upload_id)?;
    // A part of an upload created with a checksum algorithm carries that checksum, as an
    // UploadPart does: CompleteMultipartUpload needs it and the response reports it.
    let algorithm = upload
        .checksum
        .and_then(|checksum| ChecksumAlgorithm::from_name(&checksum.algorithm));
    let key = part_write_key(exchange, upload.encryption.as_ref())?;
    let stream = open_source(exchange, &source).await?;
    let decryption = copy_source_decryption(exchange, &stream.record)?;
    check_source_conditions(exchange, &stream.record)?;
    let range = part_copy_range(requested, stream.record.size_bytes)?;
    let source_version = stream.record.version_id.clone();
    if range.end - range.start > PART_SIZE_BYTES_MAX {
        return Err(copy_source_too_large(PART_SIZE_BYTES_MAX));
    }
    check_storage_quota(exchange, range.end - range.start)?;
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    let start = StreamStart { range, decryption };
    let copied = copy_bytes(&partition, stream, start, algorithm, &key).await?;
    let (etag, encryption) = seal(upload.encryption, copied.run, &copied.md5, &copied.written);
    let (written, value) = (copied.written, copied.checksum);
    let checksum = algorithm.zip(value);
    let last_modified_ms = now_ms();
    let part = PartRecord {
        part_number,
        size_bytes: written.size_bytes,
        etag: etag.clone(),
        last_modified_ms,
        extents: written.extents.clone(),
        block_checksums: written.block_checksums.clone(),
        checksum: checksum
            .clone()
            .map(|(algorithm, value)| (algorithm.name().to_owned(), value)),
        encryption,
    };
    let committed = partition
        .commit_and_release(MetaOp::PutPart { upload_id, part }, written.dirty_segments)
        .await;
    if let Err(error) = committed {
        // The upload was aborted or completed meanwhile: the part's bytes are garbage.
        partition.release(written.extents);
        return Err(s3_error::from_shard(&error));
    }
    let result = CopyPartResult {
        etag,
        last_modified_ms,
        checksum: checksum.map(|(algorithm, value)| (algorithm.xml_element(), value)),
    };
    let mut response = Response::xml(result.to_xml());
    if let Some(id) =
        copy_source_version_header(exchange, &source.bucket, source_version.as_deref())
    {
        response = response.header(COPY_SOURCE_VERSION_HEADER, id);
    }
    Ok(key.add_headers(response))
}

#[cfg(test)]
mod tests;

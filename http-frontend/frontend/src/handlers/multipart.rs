//! CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, on the
//! shard that owns the key. Completion is a metadata operation: the object becomes the list of
//! its parts' extents and no byte is rewritten.

use base::limits::{PART_SIZE_BYTES_MAX, XML_BODY_BYTES_MAX};
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::router::parse_part_number;
use s3_proto::xml::{
    CompleteMultipartUploadResult, InitiateMultipartUploadResult, parse_complete_multipart_upload,
};
use shard::UploadRecord;
use shard::meta::{CompleteUpload, MetaOp, PartRecord};

use runtime::events::{EventKind, logged};

use crate::exchange::Exchange;
use crate::handlers::bucket::now_ms;
use crate::handlers::conditional::write_condition;
use crate::handlers::encryption::{self, part_write_key, seal, write_key};
use crate::handlers::object::stored_headers;
use crate::handlers::object::{check_storage_quota, object_event};
use crate::handlers::object_lock;
use crate::handlers::payload::{Sink, read_body, read_small_body, upload_size};
use crate::handlers::versioning::{VERSION_ID_HEADER, bucket_versioning, version_id_value};
use crate::response::Response;
use crate::s3_error;

pub(crate) fn upload_id(exchange: &Exchange<'_>) -> Result<String, S3Error> {
    let id = exchange.query.get("uploadId").unwrap_or("");
    // Ours are 32 hex digits; anything else cannot name an upload.
    if id.len() == 32 && id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        Ok(id.to_owned())
    } else {
        Err(S3Error::new(S3ErrorCode::NoSuchUpload))
    }
}

pub(crate) fn require_upload(
    exchange: &Exchange<'_>,
    upload_id: &str,
) -> Result<UploadRecord, S3Error> {
    let partition = exchange
        .context
        .local_partition(exchange.bucket(), exchange.key());
    match partition
        .upload(upload_id)
        .map_err(|e| s3_error::from_shard(&e))?
    {
        Some(upload) if upload.bucket == exchange.bucket() && upload.key == exchange.key() => {
            Ok(upload)
        }
        _ => Err(S3Error::new(S3ErrorCode::NoSuchUpload)),
    }
}

thread_local! {
    /// The last time prefix handed out on this shard, so ids from one shard strictly increase.
    static LAST_UPLOAD_TIME_NS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// 32 hex digits: 16 of creation time in nanoseconds, 16 random. Hex order is then creation
/// order, which is how S3 lists several uploads of one key, and it stays consistent with the
/// "greater than upload-id-marker" rule. All uploads of a key are created on one shard.
fn new_upload_id() -> String {
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
        });
    let time_ns = LAST_UPLOAD_TIME_NS.with(|last| {
        let next = now_ns.max(last.get() + 1);
        last.set(next);
        next
    });
    format!("{time_ns:016x}{}", hex::encode(rand::random::<[u8; 8]>()))
}

pub async fn create_multipart_upload(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    crate::handlers::object::check_storage_class(exchange)?;
    let mut headers = stored_headers(exchange)?;
    // An explicit lock is kept with the upload; the bucket's default retention is applied when
    // the object comes to exist, at completion.
    let lock = object_lock::new_version_lock(exchange, false)?;
    if object_lock::has_lock_headers(exchange) {
        headers.extend(object_lock::lock_headers(&lock));
    }
    let tags = crate::handlers::tagging::request_tags(exchange)?;
    let acl = crate::handlers::acl::of_new_object(exchange)?;
    let checksum = crate::checksum::upload_checksum(
        exchange.head.header_str("x-amz-checksum-algorithm"),
        exchange.head.header_str("x-amz-checksum-type"),
    )?;
    let key = write_key(exchange)?;
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    // Uploads in progress hold stored parts and count toward usage; a tenant may have only
    // so many open (abandoned ones expire: `runtime::upload_expiry`).
    runtime::usage::check_open_uploads(context, exchange.bucket_tenant().as_deref())
        .map_err(|e| s3_error::from_shard(&e))?;
    let upload_id = new_upload_id();
    let upload = UploadRecord {
        upload_id: upload_id.clone(),
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        initiated_ms: now_ms(),
        headers,
        tags,
        checksum: checksum.clone(),
        encryption: key.mode(),
        acl,
    };
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    partition
        .commit(MetaOp::CreateUpload { upload }, Vec::new())
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    let result = InitiateMultipartUploadResult {
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        upload_id,
    };
    let mut response = key.add_headers(Response::xml(result.to_xml()));
    if let Some(checksum) = checksum {
        let checksum_type = if checksum.full_object {
            "FULL_OBJECT"
        } else {
            "COMPOSITE"
        };
        response = response
            .header("x-amz-checksum-algorithm", checksum.algorithm)
            .header("x-amz-checksum-type", checksum_type);
    }
    Ok(response)
}

pub async fn upload_part(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let part_number = parse_part_number(exchange.query.get("partNumber").unwrap_or(""))?;
    let upload_id = upload_id(exchange)?;
    let size_hint = upload_size(exchange, PART_SIZE_BYTES_MAX)?;
    // Parts are not usage until completed, but a part that alone exceeds what is left of the
    // quota can never complete: refuse it before its bytes are stored.
    check_storage_quota(exchange, size_hint.unwrap_or(0))?;
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    let upload = require_upload(exchange, &upload_id)?;
    let key = part_write_key(exchange, upload.encryption.as_ref())?;
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    let mut writer = partition.writer(size_hint);
    let run = key.start_run(&mut writer);
    let summary = read_body(exchange, Sink::Object(&mut writer), PART_SIZE_BYTES_MAX).await?;
    let written = writer
        .finish()
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    let (etag, encryption) = seal(upload.encryption, run, &summary.md5, &written);
    if let Err(error) = check_part_checksum(exchange, &upload_id, summary.checksum.as_ref()) {
        partition.release(written.extents);
        return Err(error);
    }
    let part = PartRecord {
        part_number,
        size_bytes: written.size_bytes,
        etag: etag.clone(),
        last_modified_ms: now_ms(),
        extents: written.extents.clone(),
        block_checksums: written.block_checksums.clone(),
        checksum: summary
            .checksum
            .as_ref()
            .map(|(algorithm, value)| (algorithm.name().to_owned(), value.clone())),
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
    let mut response = key.add_headers(Response::new(200).header("ETag", format!("\"{etag}\"")));
    if let Some((algorithm, value)) = summary.checksum {
        response = response.header(algorithm.header_name(), value);
    }
    Ok(response)
}

/// A part of an upload created with a checksum algorithm must carry that algorithm's checksum.
fn check_part_checksum(
    exchange: &Exchange<'_>,
    upload_id: &str,
    checksum: Option<&(crate::checksum::ChecksumAlgorithm, String)>,
) -> Result<(), S3Error> {
    let partition = exchange
        .context
        .local_partition(exchange.bucket(), exchange.key());
    let upload = partition
        .upload(upload_id)
        .map_err(|e| s3_error::from_shard(&e))?;
    let Some(expected) = upload.and_then(|upload| upload.checksum) else {
        return Ok(());
    };
    let actual = checksum.map(|(algorithm, _)| algorithm.name());
    if actual == Some(expected.algorithm.as_str()) {
        return Ok(());
    }
    Err(S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        format!(
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum \
             Type: {}",
            expected.algorithm.to_ascii_lowercase(),
            actual.map_or_else(|| "null".to_owned(), str::to_ascii_lowercase)
        ),
    ))
}

/// Checks the listed part checksums and computes the object's, from the stored parts.
fn completion_checksum(
    exchange: &Exchange<'_>,
    upload_id: &str,
    parts: &[s3_proto::xml::CompletedPart],
) -> Result<Option<crate::checksum::MultipartChecksum>, S3Error> {
    let partition = exchange
        .context
        .local_partition(exchange.bucket(), exchange.key());
    let upload = partition
        .upload(upload_id)
        .map_err(|e| s3_error::from_shard(&e))?
        .filter(|upload| upload.bucket == exchange.bucket() && upload.key == exchange.key())
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchUpload))?;
    let lists_checksums = parts.iter().any(|part| {
        crate::checksum::ChecksumAlgorithm::ALL
            .into_iter()
            .any(|algorithm| algorithm.listed_value(part).is_some())
    });
    if upload.checksum.is_none() && !lists_checksums {
        return Ok(None);
    }
    // At most 10,000 parts exist; one more than that cannot.
    let stored = partition
        .parts(upload_id, 0, base::limits::PART_NUMBER_MAX as usize + 1)
        .map_err(|e| s3_error::from_shard(&e))?;
    crate::checksum::multipart_checksum(upload.checksum.as_ref(), parts, &stored)
}

pub async fn complete_multipart_upload(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let upload_id = upload_id(exchange)?;
    let condition = write_condition(exchange)?;
    let body = read_small_body(exchange, XML_BODY_BYTES_MAX).await?;
    let parts = parse_complete_multipart_upload(&body)?;
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    if let Some(done) = completed_before(exchange, &upload_id)? {
        return Ok(completed_again(exchange, done));
    }
    let checksum = completion_checksum(exchange, &upload_id, &parts)?;
    check_declared_object_checksum(exchange, checksum.as_ref())?;
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    // The parts' bytes count toward usage since they were stored, and completing moves them
    // to the object without adding any; but a part accepted while usage was still travelling
    // between shards may have taken the tenant over its quota: then it cannot complete. The
    // tenant stores at least these parts, whatever usage has arrived yet.
    let parts_bytes = listed_parts_size(&partition, &upload_id, &parts)?;
    let tenant = exchange.bucket_tenant();
    runtime::usage::check_storage_at_least(context, tenant.as_deref(), parts_bytes)
        .map_err(|e| s3_error::from_shard(&e))?;
    let lock = completion_lock(exchange, &partition, &upload_id)?;
    let event = object_event(exchange, EventKind::ObjectCreated, 200);
    let complete = CompleteUpload {
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        upload_id,
        parts: parts
            .into_iter()
            .map(|part| (part.part_number, part.etag))
            .collect(),
        last_modified_ms: now_ms(),
        condition,
        checksum: checksum
            .as_ref()
            .map(|checksum| Box::new(checksum.commit.clone())),
        versioning: bucket_versioning(exchange),
        retention: lock.retention,
        legal_hold: lock.legal_hold,
    };
    // The event's size and ETag are filled in from the completed object inside the commit.
    let outcome = partition
        .commit_and_release(logged(MetaOp::CompleteUpload(complete), event), Vec::new())
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    let completed = outcome.completed.unwrap_or_default();
    let etag = completed.etag.clone();
    let mut result = CompleteMultipartUploadResult {
        location: format!("/{}/{}", exchange.bucket(), exchange.key()),
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        etag,
        ..CompleteMultipartUploadResult::default()
    };
    if let Some(checksum) = checksum {
        crate::checksum::set_result_checksum(&mut result, checksum.algorithm, checksum.value);
        result.checksum_type = Some(checksum.checksum_type.to_owned());
    }
    let mut response = Response::xml(result.to_xml());
    let versioning = bucket_versioning(exchange);
    if let Some(id) = version_id_value(versioning, completed.version_id.as_deref()) {
        response = response.header(VERSION_ID_HEADER, id);
    }
    Ok(encryption::add_stored_headers(
        response,
        completed.encryption.as_ref(),
    ))
}

/// The recent completion of this upload of this key, when the upload itself is gone: the
/// request is a retry of a completion whose answer was lost.
fn completed_before(
    exchange: &Exchange<'_>,
    upload_id: &str,
) -> Result<Option<shard::meta::CompletedUpload>, S3Error> {
    let partition = exchange
        .context
        .local_partition(exchange.bucket(), exchange.key());
    if partition
        .upload(upload_id)
        .map_err(|e| s3_error::from_shard(&e))?
        .is_some()
    {
        return Ok(None);
    }
    let done = partition
        .meta()
        .completed_upload(upload_id)
        .map_err(|e| s3_error::from_shard(&e))?;
    Ok(done.filter(|done| done.bucket == exchange.bucket() && done.key == exchange.key()))
}

/// The answer a completion gave, again (S3 answers a retried completion with 200 and the
/// same result, so an SDK that lost the first answer succeeds). Nothing is written.
fn completed_again(exchange: &Exchange<'_>, done: shard::meta::CompletedUpload) -> Response {
    let mut result = CompleteMultipartUploadResult {
        location: format!("/{}/{}", exchange.bucket(), exchange.key()),
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        etag: done.etag,
        ..CompleteMultipartUploadResult::default()
    };
    for (name, value) in &done.checksum_headers {
        if name == "x-amz-checksum-type" {
            result.checksum_type = Some(value.clone());
        } else if let Some(algorithm) = crate::checksum::ChecksumAlgorithm::from_header_name(name) {
            crate::checksum::set_result_checksum(&mut result, algorithm, value.clone());
        }
    }
    let mut response = Response::xml(result.to_xml());
    if let Some(id) = version_id_value(bucket_versioning(exchange), done.version_id.as_deref()) {
        response = response.header(VERSION_ID_HEADER, id);
    }
    let encryption = done
        .encryption
        .map(|mode| shard::encryption::StoredEncryption {
            mode,
            runs: Vec::new(),
        });
    encryption::add_stored_headers(response, encryption.as_ref())
}

/// The whole object's checksum a CompleteMultipartUpload may carry (`x-amz-checksum-<algo>`,
/// as SDKs send it for FULL_OBJECT uploads) must be the one the server computes from the
/// parts: BadDigest otherwise, and InvalidRequest for an algorithm the upload was not created
/// with. A composite value may be sent with or without its `-<part count>` suffix.
fn check_declared_object_checksum(
    exchange: &Exchange<'_>,
    computed: Option<&crate::checksum::MultipartChecksum>,
) -> Result<(), S3Error> {
    for algorithm in crate::checksum::ChecksumAlgorithm::ALL {
        let Some(claimed) = exchange.head.header_str(algorithm.header_name()) else {
            continue;
        };
        let Some(computed) = computed.filter(|computed| computed.algorithm == algorithm) else {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!(
                    "The upload was not created with a {} checksum.",
                    algorithm.name().to_ascii_lowercase()
                ),
            ));
        };
        let claimed = claimed.trim();
        let bare = computed.value.split('-').next().unwrap_or(&computed.value);
        if claimed != computed.value && claimed != bare {
            return Err(S3Error::with_message(
                S3ErrorCode::BadDigest,
                format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.header_name()
                ),
            ));
        }
    }
    Ok(())
}

/// The lock the completed object gets: what CreateMultipartUpload asked for, else the
/// bucket's default retention from now.
fn completion_lock(
    exchange: &Exchange<'_>,
    partition: &shard::Partition,
    upload_id: &str,
) -> Result<object_lock::NewVersionLock, S3Error> {
    let upload = partition
        .upload(upload_id)
        .map_err(|e| s3_error::from_shard(&e))?
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchUpload))?;
    let mut lock = object_lock::lock_of_upload(&upload.headers)?;
    if lock.retention.is_none() {
        lock.retention = exchange
            .context
            .with_bucket(exchange.bucket(), object_lock::default_retention_now)
            .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchBucket))?;
    }
    Ok(lock)
}

/// The size the completed object would have: the stored sizes of the listed parts (a part
/// listed but missing fails the completion later with InvalidPart).
fn listed_parts_size(
    partition: &shard::Partition,
    upload_id: &str,
    parts: &[s3_proto::xml::CompletedPart],
) -> Result<u64, S3Error> {
    let stored = partition
        .parts(upload_id, 0, base::limits::PART_NUMBER_MAX as usize + 1)
        .map_err(|e| s3_error::from_shard(&e))?;
    let sizes: std::collections::HashMap<u32, u64> = stored
        .iter()
        .map(|part| (part.part_number, part.size_bytes))
        .collect();
    Ok(parts
        .iter()
        .filter_map(|part| sizes.get(&part.part_number))
        .sum())
}

pub async fn abort_multipart_upload(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let upload_id = upload_id(exchange)?;
    let context = exchange.context;
    if !context.bucket_exists(exchange.bucket()) {
        return Err(S3Error::new(S3ErrorCode::NoSuchBucket));
    }
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    let op = MetaOp::AbortUpload {
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        upload_id,
    };
    partition
        .commit_and_release(op, Vec::new())
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    Ok(Response::new(204))
}

// ListParts and ListMultipartUploads: reads only, no write guard.

use runtime::listing::{ListItem, ListQuery, key_after_prefix, list_uploads};
use s3_proto::xml::{
    CommonPrefix, EncodingType, ListMultipartUploadsResult, ListPartsResult, ListedPart,
    ListedUpload,
};
use shard::meta::UploadStart;

use crate::handlers::bucket::{owner, require_bucket};
use crate::handlers::list::{delimiter, is_common_prefix, non_negative, page_size, query_bytes};

const STORAGE_CLASS: &str = "STANDARD";

/// ListParts: the upload's parts numbered above `part-number-marker`, at most `max-parts`
/// (≤ 1000), from the key's partition on this shard.
pub fn list_parts(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let upload_id = upload_id(exchange)?;
    let max_parts = page_size(exchange, "max-parts")?;
    let part_number_marker = match exchange.query.get("part-number-marker") {
        None => 0,
        Some(value) => non_negative("part-number-marker", value)?,
    };
    require_bucket(exchange)?;
    require_upload(exchange, &upload_id)?;
    let partition = exchange
        .context
        .local_partition(exchange.bucket(), exchange.key());
    // One more than asked tells whether the page is truncated.
    let mut parts = partition
        .parts(&upload_id, part_number_marker, max_parts as usize + 1)
        .map_err(|e| s3_error::from_shard(&e))?;
    let is_truncated = parts.len() > max_parts as usize;
    parts.truncate(max_parts as usize);
    let owner = owner(exchange);
    let result = ListPartsResult {
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        upload_id,
        initiator: owner.clone(),
        owner,
        storage_class: STORAGE_CLASS.to_owned(),
        part_number_marker,
        next_part_number_marker: Some(parts.last().map_or(part_number_marker, |p| p.part_number)),
        max_parts,
        is_truncated,
        parts: parts
            .into_iter()
            .map(|part| ListedPart {
                part_number: part.part_number,
                last_modified_ms: part.last_modified_ms,
                etag: part.etag,
                size_bytes: part.size_bytes,
                checksum: part.checksum.and_then(|(name, value)| {
                    crate::checksum::ChecksumAlgorithm::from_name(&name)
                        .map(|algorithm| (algorithm.xml_element(), value))
                }),
            })
            .collect(),
    };
    Ok(Response::xml(result.to_xml()))
}

/// ListMultipartUploads: the uploads in progress of every partition, sorted by key bytes and,
/// within a key, by upload id, so that `key-marker` + `upload-id-marker` name an exact
/// position ("uploads of key-marker with an upload id lexicographically greater", as AWS
/// documents the markers) even when that upload has completed since. `upload-id-marker`
/// without `key-marker` is ignored, as in AWS.
pub async fn list_multipart_uploads(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    let max_uploads = page_size(exchange, "max-uploads")?;
    let encoding_type = EncodingType::from_query(exchange.query.get("encoding-type"))?;
    let key_marker = exchange.query.get("key-marker").unwrap_or("").to_owned();
    let upload_id_marker = exchange
        .query
        .get("upload-id-marker")
        .unwrap_or("")
        .to_owned();
    let prefix = query_bytes(exchange, "prefix");
    let delimiter_bytes = query_bytes(exchange, "delimiter");
    let marker = key_marker.as_bytes().to_vec();
    let start = if marker.is_empty() {
        UploadStart::AtOrAfterKey(Vec::new())
    } else if is_common_prefix(&marker, &prefix, &delimiter_bytes) {
        // The previous page ended with this common prefix: skip everything under it.
        UploadStart::AtOrAfterKey(key_after_prefix(&marker))
    } else if upload_id_marker.is_empty() {
        UploadStart::AfterKey(marker)
    } else {
        UploadStart::AfterUpload {
            key: marker,
            upload_id: upload_id_marker.clone(),
        }
    };
    let query = ListQuery {
        bucket: exchange.bucket().to_owned(),
        prefix,
        delimiter: delimiter_bytes,
        start,
        max_keys: max_uploads as usize,
        versioned: false,
    };
    let page = list_uploads(exchange.context, &query)
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    let (next_key_marker, next_upload_id_marker) = match (page.is_truncated, page.items.last()) {
        (true, Some(ListItem::Entry(upload))) => (
            Some(String::from_utf8_lossy(&upload.key).into_owned()),
            Some(upload.upload_id.clone()),
        ),
        (true, Some(ListItem::CommonPrefix(prefix))) => {
            (Some(String::from_utf8_lossy(prefix).into_owned()), None)
        }
        _ => (None, None),
    };
    let owner = owner(exchange);
    let mut uploads = Vec::new();
    let mut common_prefixes = Vec::new();
    for item in page.items {
        match item {
            ListItem::Entry(upload) => uploads.push(ListedUpload {
                key: String::from_utf8_lossy(&upload.key).into_owned(),
                upload_id: upload.upload_id,
                initiator: owner.clone(),
                owner: owner.clone(),
                storage_class: STORAGE_CLASS.to_owned(),
                initiated_ms: upload.initiated_ms,
            }),
            ListItem::CommonPrefix(prefix) => common_prefixes.push(CommonPrefix {
                prefix: String::from_utf8_lossy(&prefix).into_owned(),
            }),
        }
    }
    let result = ListMultipartUploadsResult {
        bucket: exchange.bucket().to_owned(),
        key_marker,
        upload_id_marker,
        next_key_marker,
        next_upload_id_marker,
        delimiter: delimiter(exchange),
        prefix: exchange.query.get("prefix").unwrap_or("").to_owned(),
        max_uploads,
        is_truncated: page.is_truncated,
        encoding_type,
        uploads,
        common_prefixes,
    };
    Ok(Response::xml(result.to_xml()))
}

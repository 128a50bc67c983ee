//! PutObject, GetObject, HeadObject, DeleteObject, on the shard that owns the key.

use std::ops::Range;

use base::limits::{PUT_HEADER_BYTES_MAX, PUT_OBJECT_SIZE_BYTES_MAX, USER_METADATA_BYTES_MAX};
use runtime::events::{EventKind, logged};
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::time_format::http_date_from_millis;
use shard::aligned::AlignedBuf;
use shard::meta::{MetaOp, ObjectDelete, WriteCondition};
use shard::{EventRecord, ObjectReader, ObjectRecord, Partition, Versioning, WrittenData};

use crate::exchange::Exchange;
use crate::handlers::bucket::now_ms;
use crate::handlers::conditional::{ReadDecision, evaluate_read, write_condition};
use crate::handlers::encryption::{self, read_key, seal, write_key};
use crate::handlers::object_lock::{new_version_lock, object_lock_response_headers};
use crate::handlers::payload::{Sink, read_body, upload_size};
use crate::handlers::versioning::{
    DELETE_MARKER_HEADER, VERSION_ID_HEADER, bucket_versioning, bypass_governance, lookup_for_read,
    requested_version, version_header, version_id_value,
};
use crate::response::{Response, check_header_argument, head_bytes};
use crate::s3_error;

/// Stored request headers that come back on GET and HEAD.
const STORED_HEADERS: [&str; 7] = [
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
    WEBSITE_REDIRECT_HEADER,
];

pub(crate) const WEBSITE_REDIRECT_HEADER: &str = "x-amz-website-redirect-location";
/// AWS's limit on `x-amz-website-redirect-location`.
const WEBSITE_REDIRECT_BYTES_MAX: usize = 2048;

/// Storage classes a write may name. This server has one class; `STANDARD` and
/// `REDUCED_REDUNDANCY` (a weaker promise than what is kept) are stored as STANDARD; the
/// archive and infrequent-access classes AWS has are refused rather than silently not
/// honoured (docs/design/s3-compatibility.md).
const ACCEPTED_STORAGE_CLASSES: [&str; 2] = ["STANDARD", "REDUCED_REDUNDANCY"];
const AWS_STORAGE_CLASSES: [&str; 11] = [
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
];

/// `x-amz-storage-class` of PutObject, CopyObject and CreateMultipartUpload: InvalidStorageClass
/// for a name AWS does not have, and for a class this server cannot provide.
pub fn check_storage_class(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    check_storage_class_value(exchange.head.header_str("x-amz-storage-class"))
}

/// The rule of [`check_storage_class`] for a class given elsewhere (a POST form field).
pub fn check_storage_class_value(class: Option<&str>) -> Result<(), S3Error> {
    let Some(class) = class else {
        return Ok(());
    };
    let class = class.trim();
    if ACCEPTED_STORAGE_CLASSES.contains(&class) {
        return Ok(());
    }
    let message = if AWS_STORAGE_CLASSES.contains(&class) {
        format!("This server has only the STANDARD storage class; {class} is not available.")
    } else {
        "The storage class you specified is not valid".to_owned()
    };
    Err(
        S3Error::with_message(S3ErrorCode::InvalidStorageClass, message)
            .extra("StorageClassRequested", class.to_owned()),
    )
}

/// `x-amz-website-redirect-location`, as AWS validates it: a path starting with `/`, or an
/// http(s) URL, at most 2 KB.
pub(crate) fn check_website_redirect(value: &str) -> Result<(), S3Error> {
    let valid = value.len() <= WEBSITE_REDIRECT_BYTES_MAX
        && (value.starts_with('/')
            || value.starts_with("http://")
            || value.starts_with("https://"));
    if valid {
        Ok(())
    } else {
        Err(S3Error::invalid_argument(
            "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.",
            WEBSITE_REDIRECT_HEADER,
            value,
        ))
    }
}

/// Stored with an object's checksum: `COMPOSITE` or `FULL_OBJECT`.
pub const CHECKSUM_TYPE_HEADER: &str = "x-amz-checksum-type";
pub const FULL_OBJECT: &str = "FULL_OBJECT";

/// The headers of a PUT or CreateMultipartUpload that the object keeps.
pub fn stored_headers(exchange: &Exchange<'_>) -> Result<Vec<(String, String)>, S3Error> {
    let mut headers = Vec::new();
    let mut user_metadata_bytes = 0usize;
    for (name, value) in &exchange.head.headers {
        let keep = STORED_HEADERS.contains(&name.as_str()) || name.starts_with("x-amz-meta-");
        if !keep {
            continue;
        }
        let Ok(value) = std::str::from_utf8(value) else {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                format!("Header {name} is not UTF-8"),
            ));
        };
        // httparse already refuses CR, LF, NUL and obs-fold in a request header; checked again
        // because the value is stored and served back for the object's lifetime, and this is
        // the one place PUT, Copy (REPLACE) and CreateMultipartUpload store headers.
        check_header_argument(name, value)?;
        let mut value = value.trim().to_owned();
        if name == WEBSITE_REDIRECT_HEADER {
            check_website_redirect(&value)?;
        }
        if name == "content-encoding" {
            // aws-chunked is framing, not an encoding of the stored object.
            value = value
                .split(',')
                .map(str::trim)
                .filter(|token| !token.eq_ignore_ascii_case("aws-chunked") && !token.is_empty())
                .collect::<Vec<_>>()
                .join(",");
            if value.is_empty() {
                continue;
            }
        }
        if name.starts_with("x-amz-meta-") {
            user_metadata_bytes += name.len() - "x-amz-meta-".len() + value.len();
        }
        headers.push((name.clone(), value));
    }
    let header_bytes: usize = exchange
        .head
        .headers
        .iter()
        .map(|(name, value)| name.len() + value.len() + 4)
        .sum();
    if user_metadata_bytes > USER_METADATA_BYTES_MAX || header_bytes > PUT_HEADER_BYTES_MAX {
        return Err(S3Error::new(S3ErrorCode::MetadataTooLarge));
    }
    Ok(headers)
}

pub async fn put_object(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    crate::handlers::bucket::require_bucket(exchange)?;
    check_storage_class(exchange)?;
    let lock = new_version_lock(exchange, true)?;
    let mut headers = stored_headers(exchange)?;
    let tags = crate::handlers::tagging::request_tags(exchange)?;
    let acl = crate::handlers::acl::of_new_object(exchange)?;
    let condition = write_condition(exchange)?;
    let key = write_key(exchange)?;
    let size_hint = upload_size(exchange, PUT_OBJECT_SIZE_BYTES_MAX)?;
    // Refused before the body is read when the declared size is already too much.
    check_storage_quota(exchange, size_hint.unwrap_or(0))?;
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    let mut writer = partition.writer(size_hint);
    let run = key.start_run(&mut writer);
    let summary = read_body(
        exchange,
        Sink::Object(&mut writer),
        PUT_OBJECT_SIZE_BYTES_MAX,
    )
    .await?;
    let written = writer
        .finish()
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    let (etag, encryption) = seal(key.mode(), run, &summary.md5, &written);
    if let Some((algorithm, value)) = &summary.checksum {
        headers.push((algorithm.header_name().to_owned(), value.clone()));
        headers.push((CHECKSUM_TYPE_HEADER.to_owned(), FULL_OBJECT.to_owned()));
    }
    let record = ObjectRecord {
        size_bytes: written.size_bytes,
        etag: etag.clone(),
        last_modified_ms: now_ms(),
        headers,
        extents: written.extents.clone(),
        block_checksums: written.block_checksums.clone(),
        part_sizes_bytes: Vec::new(),
        tags,
        acl,
        part_checksums: Vec::new(),
        encryption,
        retention: lock.retention,
        legal_hold: lock.legal_hold,
        ..ObjectRecord::default()
    };
    // What x-amz-expiration is judged on: the new version's key, size, tags and time.
    let expiring = ObjectRecord {
        size_bytes: record.size_bytes,
        last_modified_ms: record.last_modified_ms,
        tags: record.tags.clone(),
        ..ObjectRecord::default()
    };
    let version_id = commit_object(exchange, &partition, record, condition, written).await?;
    let mut response = key.add_headers(Response::new(200).header("ETag", format!("\"{etag}\"")));
    if let Some(version_id) = version_id {
        response = response.header(VERSION_ID_HEADER, version_id);
    }
    if let Some((_, value)) = crate::handlers::lifecycle::expiration_header(exchange, &expiring) {
        response = response.header(crate::handlers::lifecycle::EXPIRATION_HEADER, value);
    }
    if let Some((algorithm, value)) = summary.checksum {
        response = response
            .header(algorithm.header_name(), value)
            .header(CHECKSUM_TYPE_HEADER, FULL_OBJECT);
    }
    Ok(response)
}

/// Makes a freshly written object visible under the request's key (PutObject, CopyObject),
/// with its `ObjectCreated` event in the same commit: on any failure, a failed precondition
/// or storage quota included, its bytes are given back. Returns the `x-amz-version-id` the
/// answer carries, if any.
pub(crate) async fn commit_object(
    exchange: &Exchange<'_>,
    partition: &Partition,
    record: ObjectRecord,
    condition: WriteCondition,
    written: WrittenData,
) -> Result<Option<String>, S3Error> {
    let versioning = bucket_versioning(exchange);
    if let Err(error) = check_storage_quota(exchange, record.size_bytes) {
        partition.release(written.extents);
        return Err(error);
    }
    let mut event = object_event(exchange, EventKind::ObjectCreated, 200);
    event.size_bytes = Some(record.size_bytes);
    event.etag = Some(record.etag.clone());
    let op = logged(
        MetaOp::PutObject {
            bucket: exchange.bucket().to_owned(),
            key: exchange.key().to_owned(),
            record,
            condition,
            versioning,
        },
        event,
    );
    let dirty_segments = written.dirty_segments;
    match partition.commit_and_release(op, dirty_segments).await {
        Ok(outcome) => Ok(outcome
            .version
            .and_then(|version| version_id_value(versioning, version.version_id.as_deref()))),
        Err(error) => {
            // Nothing references the new bytes (a failed precondition, a failed commit).
            partition.release(written.extents);
            Err(s3_error::from_shard(&error))
        }
    }
}

/// DeleteObject: without `versionId`, removes the key (unversioned) or writes a delete
/// marker; with one, deletes that version for good unless object lock protects it. A version
/// or key that does not exist is still 204, as on S3.
pub async fn delete_object(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let context = exchange.context;
    let version = requested_version(exchange)?;
    let bypass_governance = bypass_governance(exchange)?;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    let versioning = bucket_versioning(exchange);
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    // A plain delete in a bucket with versions writes a delete marker (S3's event
    // s3:ObjectRemoved:DeleteMarkerCreated).
    let kind = if version.is_none() && versioning != Versioning::Unversioned {
        EventKind::DeleteMarkerCreated
    } else {
        EventKind::ObjectRemoved
    };
    let mut event = object_event(exchange, kind, 204);
    event.version_id = version.as_ref().map(|version| version.as_str().to_owned());
    let delete = ObjectDelete {
        version,
        bypass_governance,
        ..ObjectDelete::latest(exchange.bucket(), exchange.key(), versioning, now_ms())
    };
    let op = logged(MetaOp::DeleteObject(delete), event);
    let outcome = partition
        .commit_and_release(op, Vec::new())
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    let mut response = Response::new(204);
    if let Some(version) = outcome.version {
        if version.delete_marker {
            response = response.header(DELETE_MARKER_HEADER, "true");
        }
        if let Some(id) = version_id_value(versioning, version.version_id.as_deref()) {
            response = response.header(VERSION_ID_HEADER, id);
        }
    }
    Ok(response)
}

/// An event about the request's object, by the request's principal.
pub(crate) fn object_event(exchange: &Exchange<'_>, kind: EventKind, status: u16) -> EventRecord {
    runtime::events::record(
        kind,
        exchange.route.operation.as_str(),
        exchange.bucket(),
        Some(exchange.key()),
        &exchange.actor(),
        status,
    )
}

/// Refuses a write of `incoming_bytes` that would take the bucket's tenant over its storage
/// quota (as far as this shard knows the tenant's usage: see `runtime::usage`).
pub(crate) fn check_storage_quota(
    exchange: &Exchange<'_>,
    incoming_bytes: u64,
) -> Result<(), S3Error> {
    let tenant = exchange.bucket_tenant();
    runtime::usage::check_storage_quota(exchange.context, tenant.as_deref(), incoming_bytes)
        .map_err(|error| s3_error::from_shard(&error))
}

/// Parses a single `bytes=` range against `size`: `Ok(None)` means the whole object (no or
/// ignorable Range header), `Err(InvalidRange)` an unsatisfiable one.
pub fn parse_range(value: &str, size: u64) -> Result<Option<Range<u64>>, S3Error> {
    let invalid =
        || S3Error::new(S3ErrorCode::InvalidRange).extra("ActualObjectSize", size.to_string());
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Multiple ranges: S3 ignores the header and returns the whole object.
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |text: &str| text.parse::<u64>().ok();
    if first.is_empty() {
        let Some(suffix) = parse(last) else {
            return Ok(None);
        };
        if suffix == 0 || size == 0 {
            return Err(invalid());
        }
        return Ok(Some(size - suffix.min(size)..size));
    }
    let Some(start) = parse(first) else {
        return Ok(None);
    };
    if start >= size {
        return Err(invalid());
    }
    let end = if last.is_empty() {
        size
    } else {
        let Some(last) = parse(last) else {
            return Ok(None);
        };
        if last < start {
            return Ok(None);
        }
        last.min(size - 1) + 1
    };
    Ok(Some(start..end))
}

/// The byte range of part `part_number` (1-based) of a record.
fn part_range(record: &ObjectRecord, part_number: u32) -> Result<Range<u64>, S3Error> {
    let sizes: Vec<u64> = if record.part_sizes_bytes.is_empty() {
        vec![record.size_bytes]
    } else {
        record.part_sizes_bytes.clone()
    };
    let index = part_number as usize - 1;
    if index >= sizes.len() {
        // AWS names the request and the count beside the code.
        return Err(S3Error::new(S3ErrorCode::InvalidPartNumber)
            .extra("PartNumberRequested", part_number.to_string())
            .extra("ActualPartCount", sizes.len().to_string()));
    }
    let start: u64 = sizes[..index].iter().sum();
    Ok(start..start + sizes[index])
}

/// The status, byte range and range headers a GET or HEAD answers with.
type Selection = (u16, Range<u64>, Vec<(String, String)>);

fn select_range(exchange: &Exchange<'_>, record: &ObjectRecord) -> Result<Selection, S3Error> {
    let size = record.size_bytes;
    let mut extra = Vec::new();
    let range = if let Some(part_number) = exchange.query.get("partNumber") {
        let part_number = s3_proto::router::parse_part_number(part_number)?;
        // Not in the API reference; S3's answer (with this text) to a request with both.
        if exchange.head.header("range").is_some() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter",
            ));
        }
        // The count "is only returned if ... the object was uploaded as a multipart upload"
        // (GetObject, HeadObject): a PutObject object answers part 1 without it, as S3 does.
        if !record.part_sizes_bytes.is_empty() {
            let parts = record.part_sizes_bytes.len();
            extra.push(("x-amz-mp-parts-count".to_owned(), parts.to_string()));
        }
        part_range(record, part_number)?
    } else if let Some(value) = exchange.head.header_str("range")
        && let Some(requested) = parse_range(value, size)?
    {
        requested
    } else {
        return Ok((200, 0..size, extra));
    };
    let last = range.end.saturating_sub(1).max(range.start);
    extra.push((
        "Content-Range".to_owned(),
        format!("bytes {}-{last}/{size}", range.start),
    ));
    Ok((206, range, extra))
}

/// The `response-*` query parameters of a GET or HEAD (AWS's six: one per stored header),
/// percent-decoded: each replaces its header in the answer, so each must be a valid header
/// value (`%0D%0A` would split the head). Other `response-*` names override nothing.
fn response_overrides(exchange: &Exchange<'_>) -> Result<Vec<(&'static str, String)>, S3Error> {
    let mut overrides = Vec::new();
    for header in STORED_HEADERS {
        let parameter = format!("response-{header}");
        if let Some(value) = exchange.query.get(&parameter) {
            if !s3_proto::http_field::is_field_value(value.as_bytes()) {
                return Err(S3Error::invalid_argument(
                    format!("{parameter} must not contain control characters"),
                    &parameter,
                    value,
                ));
            }
            overrides.push((header, value.to_owned()));
        }
    }
    Ok(overrides)
}

/// The stored headers as returned, with `response-*` overrides and checksums when asked.
fn object_headers(
    exchange: &Exchange<'_>,
    record: &ObjectRecord,
    status: u16,
    overrides: &[(&'static str, String)],
) -> Vec<(String, String)> {
    let checksum_mode = exchange
        .head
        .header_str("x-amz-checksum-mode")
        .is_some_and(|value| value.eq_ignore_ascii_case("ENABLED"));
    let mut headers = Vec::new();
    for (name, value) in &record.headers {
        // A checksum covers the whole object, so a partial answer never carries it.
        if name.starts_with("x-amz-checksum-") && (!checksum_mode || status == 206) {
            continue;
        }
        // A header stored before values were checked where accepted (security issue 14) is
        // treated as absent: the response writer would drop it anyway, and a dropped
        // Content-Type must become the default below rather than none (browsers sniff).
        if !s3_proto::http_field::is_field_name(name.as_bytes())
            || !s3_proto::http_field::is_field_value(value.as_bytes())
        {
            continue;
        }
        let value = overrides
            .iter()
            .find(|(header, _)| header == name)
            .map_or(value, |(_, value)| value);
        headers.push((name.clone(), value.to_owned()));
    }
    // Objects stored before checksum types were recorded were all single PUTs: full-object.
    let has_type = record
        .headers
        .iter()
        .any(|(name, _)| name == CHECKSUM_TYPE_HEADER);
    let has_checksum = shard::record::checksum_algorithm_of(&record.headers).is_some();
    if checksum_mode && status != 206 && has_checksum && !has_type {
        headers.push((CHECKSUM_TYPE_HEADER.to_owned(), FULL_OBJECT.to_owned()));
    }
    for (header, value) in overrides {
        // Already written in the stored header's place (replacing its value) unless that was
        // absent or skipped above.
        let written = headers.iter().any(|(name, _)| name == header);
        if !written {
            headers.push(((*header).to_owned(), value.clone()));
        }
    }
    if !headers.iter().any(|(name, _)| name == "content-type") {
        headers.push(("content-type".to_owned(), "binary/octet-stream".to_owned()));
    }
    headers
}

/// Largest body sent in the same write as the response head (copied behind it).
const INLINE_BODY_BYTES_MAX: usize = 64 * 1024;

pub async fn get_object(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let context = exchange.context;
    let overrides = response_overrides(exchange)?;
    if !context.bucket_exists(exchange.bucket()) {
        return Err(S3Error::new(S3ErrorCode::NoSuchBucket));
    }
    let version = requested_version(exchange)?;
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    let (record, pin) = lookup_for_read(exchange, &partition, version.as_ref())
        .map_err(|error| crate::handlers::acl::gate_lookup_error(exchange, error))?;
    crate::handlers::acl::check_object_gate(exchange, &record)?;
    // The key is checked before anything about the object is revealed.
    let read_key = read_key(exchange, &record)?;
    let etag = format!("\"{}\"", record.etag);
    let last_modified = http_date_from_millis(record.last_modified_ms);
    if evaluate_read(exchange, &record)? == ReadDecision::NotModified {
        return Ok(Response::new(304)
            .header("ETag", etag)
            .header("Last-Modified", last_modified));
    }
    let (status, range, mut extra) = select_range(exchange, &record)?;
    extra.extend(object_headers(exchange, &record, status, &overrides));
    extra.extend(crate::handlers::tagging::tagging_count_header(&record.tags));
    extra.extend(version_header(
        bucket_versioning(exchange),
        record.version_id.as_deref(),
    ));
    extra.extend(object_lock_response_headers(&record));
    if version.is_none() {
        extra.extend(crate::handlers::lifecycle::expiration_header(
            exchange, &record,
        ));
    }
    let encryption_headers = encryption::stored_headers(record.encryption.as_ref());
    extra.extend(
        encryption_headers
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value)),
    );
    // This handler writes its own head: the dispatcher cannot add the CORS headers.
    extra.extend(
        exchange
            .cors_headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone())),
    );
    let headers = [
        ("ETag", etag),
        ("Last-Modified", last_modified),
        ("Accept-Ranges", "bytes".to_owned()),
    ];
    let length = range.end - range.start;
    let keep_alive = exchange.keep_alive();
    let head = head_bytes(
        status,
        &headers,
        &extra,
        length,
        keep_alive,
        &exchange.request_id,
    );
    if exchange.is_head() {
        send_head(exchange, head).await?;
        return Ok(Response::new(status));
    }
    // Unwrapped only now: HEAD and 304 answers need no data key.
    let decryption = read_key.decryption(exchange, &record)?;
    let mut reader = ObjectReader::new(&partition, &record, pin, range);
    if let Some(decryption) = decryption {
        reader = reader.decrypting(decryption);
    }
    let mut buf = AlignedBuf::new(reader.buffer_size_bytes());
    // Read the first piece before the head goes out, so a storage error is still an S3 error.
    let (first, returned) = reader.next(buf).await;
    buf = returned;
    let mut valid = first.map_err(|e| s3_error::from_shard(&e))?;
    let mut head = head;
    if let Some(piece) = valid.clone()
        && reader.remaining_bytes() == 0
        && piece.len() <= INLINE_BODY_BYTES_MAX
    {
        // The whole (small) body goes out with the head in one send: one io_uring operation
        // and one wake-up of the client instead of two (4 KiB GET, perf).
        head.extend_from_slice(&buf.as_slice()[piece]);
        valid = None;
    }
    send_head(exchange, head).await?;
    while let Some(piece) = valid {
        exchange.connection.accounting.sent_bytes += piece.len() as u64;
        let (result, returned) = exchange.connection.write_aligned(buf, piece).await;
        buf = returned;
        result.map_err(|_| closed())?;
        let (next, returned) = reader.next(buf).await;
        buf = returned;
        // After the head is sent an error can only cut the connection short of Content-Length.
        valid = next.map_err(|e| s3_error::from_shard(&e))?;
    }
    Ok(Response::new(status))
}

/// Writes a response head; from here on the handler has answered.
async fn send_head(exchange: &mut Exchange<'_>, head: Vec<u8>) -> Result<(), S3Error> {
    exchange.responded = true;
    exchange
        .connection
        .write_all(head)
        .await
        .map_err(|_| closed())
}

/// The client went away mid-answer; the connection is closed, nobody reads this error.
fn closed() -> S3Error {
    S3Error::new(S3ErrorCode::InternalError)
}

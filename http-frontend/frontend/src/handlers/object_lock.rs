//! Object lock: the bucket's configuration (Put/GetObjectLockConfiguration), a version's
//! retention and legal hold (Put/GetObjectRetention, Put/GetObjectLegalHold), the lock a new
//! version gets from a write's `x-amz-object-lock-*` headers or the bucket's default
//! retention, and the headers GET and HEAD report it with.
//!
//! The rules that protect a version (what may be shortened, removed or deleted, by whom) are
//! `base::object_lock`'s, applied by the partition's worker inside the transaction that would
//! change or destroy the version (`shard::versions`).

use base::limits::XML_BODY_BYTES_MAX;
use base::object_lock::{
    LegalHold, ObjectLockConfiguration, ObjectRetention, default_retain_until_ms,
};
use runtime::catalogue::BucketConfigChange;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::time_format::iso8601_millis;
use s3_proto::xml::{
    check_retain_until_in_future, legal_hold_xml, object_lock_configuration_xml, parse_legal_hold,
    parse_object_lock_configuration, parse_object_lock_headers, parse_retention, retention_xml,
};
use shard::meta::MetaOp;
use shard::{BucketRecord, ObjectRecord};

use crate::exchange::Exchange;
use crate::handlers::bucket::{bucket_record, change_bucket_config, now_ms};
use crate::handlers::delete_objects::require_integrity_header;
use crate::handlers::payload::read_small_body;
use crate::handlers::versioning::{bypass_governance, find_version, requested_version};
use crate::response::Response;
use crate::s3_error;

pub const MODE_HEADER: &str = "x-amz-object-lock-mode";
pub const RETAIN_UNTIL_HEADER: &str = "x-amz-object-lock-retain-until-date";
pub const LEGAL_HOLD_HEADER: &str = "x-amz-object-lock-legal-hold";

/// The lock a new version gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewVersionLock {
    pub retention: Option<ObjectRetention>,
    pub legal_hold: bool,
}

fn missing_configuration() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "Bucket is missing Object Lock Configuration",
    )
}

/// The lock of a version written by this request (PutObject, CopyObject,
/// CreateMultipartUpload, POST): from its `x-amz-object-lock-*` headers, else the bucket's
/// default retention. Lock headers on a bucket without object lock are InvalidRequest, never
/// ignored; with lock headers S3 requires Content-MD5 or a checksum (`check_integrity`: a
/// multipart upload carries its checksums on the parts, so CreateMultipartUpload skips it).
pub fn new_version_lock(
    exchange: &Exchange<'_>,
    check_integrity: bool,
) -> Result<NewVersionLock, S3Error> {
    let object_lock = exchange
        .context
        .with_bucket(exchange.bucket(), |bucket| bucket.object_lock)
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchBucket))?;
    let head = &exchange.head;
    let headers = parse_object_lock_headers(
        head.header_str(MODE_HEADER),
        head.header_str(RETAIN_UNTIL_HEADER),
        head.header_str(LEGAL_HOLD_HEADER),
    )?;
    let Some(config) = &object_lock else {
        if headers.is_empty() {
            return Ok(NewVersionLock::default());
        }
        return Err(missing_configuration());
    };
    let now = now_ms();
    if !headers.is_empty() && check_integrity {
        require_integrity_header(exchange).map_err(|_| {
            S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests \
                 with Object Lock parameters",
            )
        })?;
    }
    if let Some(retention) = &headers.retention {
        check_retain_until_in_future(retention.retain_until_ms, now, RETAIN_UNTIL_HEADER)?;
    }
    let retention = headers.retention.or_else(|| default_retention(config, now));
    Ok(NewVersionLock {
        retention,
        legal_hold: headers.legal_hold == Some(LegalHold::On),
    })
}

/// Whether the request carries any `x-amz-object-lock-*` header.
pub fn has_lock_headers(exchange: &Exchange<'_>) -> bool {
    [MODE_HEADER, RETAIN_UNTIL_HEADER, LEGAL_HOLD_HEADER]
        .iter()
        .any(|name| exchange.head.has_header(name))
}

/// The bucket's default retention for a version created now, if it has one.
pub fn default_retention_now(bucket: &BucketRecord) -> Option<ObjectRetention> {
    bucket
        .object_lock
        .as_ref()
        .and_then(|config| default_retention(config, now_ms()))
}

fn default_retention(config: &ObjectLockConfiguration, now: i64) -> Option<ObjectRetention> {
    config.rule.map(|rule| ObjectRetention {
        mode: rule.mode,
        retain_until_ms: default_retain_until_ms(now, rule.period),
    })
}

/// The lock as headers, for an upload's stored headers (CreateMultipartUpload keeps them
/// until the upload completes: `lock_of_upload`).
pub fn lock_headers(lock: &NewVersionLock) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if let Some(retention) = &lock.retention {
        headers.push((MODE_HEADER.to_owned(), retention.mode.as_str().to_owned()));
        headers.push((
            RETAIN_UNTIL_HEADER.to_owned(),
            iso8601_millis(retention.retain_until_ms),
        ));
    }
    if lock.legal_hold {
        headers.push((LEGAL_HOLD_HEADER.to_owned(), "ON".to_owned()));
    }
    headers
}

/// The lock an upload's stored headers carry (written by `lock_headers`).
pub fn lock_of_upload(headers: &[(String, String)]) -> Result<NewVersionLock, S3Error> {
    let find = |name: &str| {
        headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    };
    let parsed = parse_object_lock_headers(
        find(MODE_HEADER),
        find(RETAIN_UNTIL_HEADER),
        find(LEGAL_HOLD_HEADER),
    )?;
    Ok(NewVersionLock {
        retention: parsed.retention,
        legal_hold: parsed.legal_hold == Some(LegalHold::On),
    })
}

/// What GET and HEAD report about a version's lock.
pub fn object_lock_response_headers(record: &ObjectRecord) -> Vec<(String, String)> {
    let mut headers = lock_headers(&NewVersionLock {
        retention: record.retention,
        legal_hold: false,
    });
    if record.legal_hold {
        headers.push((LEGAL_HOLD_HEADER.to_owned(), "ON".to_owned()));
    }
    headers
}

fn locked_bucket(exchange: &Exchange<'_>) -> Result<BucketRecord, S3Error> {
    let record = bucket_record(exchange)?;
    if record.object_lock.is_none() {
        return Err(missing_configuration());
    }
    Ok(record)
}

pub async fn put_object_lock_configuration(
    exchange: &mut Exchange<'_>,
) -> Result<Response, S3Error> {
    bucket_record(exchange)?;
    require_integrity_header(exchange)?;
    let body = read_small_body(exchange, XML_BODY_BYTES_MAX).await?;
    let config = parse_object_lock_configuration(&body)?;
    change_bucket_config(exchange, BucketConfigChange::ObjectLock(config)).await?;
    Ok(Response::new(200))
}

pub fn get_object_lock_configuration(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    let config = record
        .object_lock
        .ok_or_else(|| S3Error::new(S3ErrorCode::ObjectLockConfigurationNotFoundError))?;
    Ok(Response::xml(object_lock_configuration_xml(&config)))
}

pub async fn put_object_retention(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    locked_bucket(exchange)?;
    let version = requested_version(exchange)?;
    let bypass_governance = bypass_governance(exchange)?;
    require_integrity_header(exchange)?;
    let body = read_small_body(exchange, XML_BODY_BYTES_MAX).await?;
    let retention = parse_retention(&body)?;
    let now = now_ms();
    if let Some(retention) = &retention {
        check_retain_until_in_future(retention.retain_until_ms, now, "RetainUntilDate")?;
    }
    let op = MetaOp::SetRetention {
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        version,
        retention,
        bypass_governance,
        now_ms: now,
    };
    commit_lock_change(exchange, op).await
}

pub async fn put_object_legal_hold(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    locked_bucket(exchange)?;
    let version = requested_version(exchange)?;
    require_integrity_header(exchange)?;
    let body = read_small_body(exchange, XML_BODY_BYTES_MAX).await?;
    let hold = parse_legal_hold(&body)?;
    let op = MetaOp::SetLegalHold {
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        version,
        on: hold == LegalHold::On,
    };
    commit_lock_change(exchange, op).await
}

async fn commit_lock_change(exchange: &Exchange<'_>, op: MetaOp) -> Result<Response, S3Error> {
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    partition
        .commit(op, Vec::new())
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    Ok(Response::new(200))
}

/// The version a GetObjectRetention or GetObjectLegalHold reads, in a bucket with object lock.
fn locked_version(exchange: &Exchange<'_>) -> Result<ObjectRecord, S3Error> {
    locked_bucket(exchange)?;
    find_version(exchange)
}

pub fn get_object_retention(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = locked_version(exchange)?;
    let retention = record
        .retention
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchObjectLockConfiguration))?;
    Ok(Response::xml(retention_xml(&retention)))
}

pub fn get_object_legal_hold(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = locked_version(exchange)?;
    let hold = match (record.legal_hold, record.legal_hold_set) {
        (true, _) => LegalHold::On,
        (false, true) => LegalHold::Off,
        (false, false) => return Err(S3Error::new(S3ErrorCode::NoSuchObjectLockConfiguration)),
    };
    Ok(Response::xml(legal_hold_xml(hold)))
}

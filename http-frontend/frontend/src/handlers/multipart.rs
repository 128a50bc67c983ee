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

use crate::dispatch::Exchange;
use crate::handlers::bucket::now_ms;
use crate::handlers::object::stored_headers;
use crate::handlers::payload::{Sink, read_body, read_small_body, upload_size};
use crate::response::Response;
use crate::s3_error;

fn upload_id(exchange: &Exchange<'_>) -> Result<String, S3Error> {
    let id = exchange.query.get("uploadId").unwrap_or("");
    // Ours are 32 hex digits; anything else cannot name an upload.
    if id.len() == 32 && id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        Ok(id.to_owned())
    } else {
        Err(S3Error::new(S3ErrorCode::NoSuchUpload))
    }
}

fn require_upload(exchange: &Exchange<'_>, upload_id: &str) -> Result<(), S3Error> {
    let partition = exchange
        .context
        .local_partition(exchange.bucket(), exchange.key());
    match partition
        .upload(upload_id)
        .map_err(|e| s3_error::from_shard(&e))?
    {
        Some(upload) if upload.bucket == exchange.bucket() && upload.key == exchange.key() => {
            Ok(())
        }
        _ => Err(S3Error::new(S3ErrorCode::NoSuchUpload)),
    }
}

pub async fn create_multipart_upload(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let headers = stored_headers(exchange)?;
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    let upload_id = hex::encode(rand::random::<[u8; 16]>());
    let upload = UploadRecord {
        upload_id: upload_id.clone(),
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        initiated_ms: now_ms(),
        headers,
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
    Ok(Response::xml(result.to_xml()))
}

pub async fn upload_part(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let part_number = parse_part_number(exchange.query.get("partNumber").unwrap_or(""))?;
    let upload_id = upload_id(exchange)?;
    let size_hint = upload_size(exchange, PART_SIZE_BYTES_MAX)?;
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    require_upload(exchange, &upload_id)?;
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    let mut writer = partition.writer(size_hint);
    let summary = read_body(exchange, Sink::Object(&mut writer), PART_SIZE_BYTES_MAX).await?;
    let written = writer
        .finish()
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    let etag = hex::encode(summary.md5);
    let part = PartRecord {
        part_number,
        size_bytes: written.size_bytes,
        etag: etag.clone(),
        last_modified_ms: now_ms(),
        extents: written.extents.clone(),
    };
    let committed = partition
        .commit_and_release(MetaOp::PutPart { upload_id, part }, written.dirty_segments)
        .await;
    if let Err(error) = committed {
        // The upload was aborted or completed meanwhile: the part's bytes are garbage.
        partition.release(written.extents);
        return Err(s3_error::from_shard(&error));
    }
    let mut response = Response::new(200).header("ETag", format!("\"{etag}\""));
    if let Some((algorithm, value)) = summary.checksum {
        response = response.header(algorithm.header_name(), value);
    }
    Ok(response)
}

pub async fn complete_multipart_upload(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let upload_id = upload_id(exchange)?;
    let body = read_small_body(exchange, XML_BODY_BYTES_MAX).await?;
    let parts = parse_complete_multipart_upload(&body)?;
    let context = exchange.context;
    let _write = context
        .begin_write(exchange.bucket())
        .map_err(|e| s3_error::from_shard(&e))?;
    let partition = context.local_partition(exchange.bucket(), exchange.key());
    let complete = CompleteUpload {
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        upload_id,
        parts: parts
            .into_iter()
            .map(|part| (part.part_number, part.etag))
            .collect(),
        last_modified_ms: now_ms(),
    };
    let outcome = partition
        .commit_and_release(MetaOp::CompleteUpload(complete), Vec::new())
        .await
        .map_err(|e| s3_error::from_shard(&e))?;
    let etag = outcome
        .completed
        .map(|record| record.etag)
        .unwrap_or_default();
    let result = CompleteMultipartUploadResult {
        location: format!("/{}/{}", exchange.bucket(), exchange.key()),
        bucket: exchange.bucket().to_owned(),
        key: exchange.key().to_owned(),
        etag,
        ..CompleteMultipartUploadResult::default()
    };
    Ok(Response::xml(result.to_xml()))
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

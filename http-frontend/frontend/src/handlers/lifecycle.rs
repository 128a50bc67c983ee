//! Bucket lifecycle configuration (Put/Get/DeleteBucketLifecycleConfiguration: bucket
//! configuration, committed by the coordinator and copied to every shard) and the
//! `x-amz-expiration` header that tells a client when a rule will expire an object. The rules
//! run in `runtime::lifecycle`.

use base::limits::LIFECYCLE_BODY_BYTES_MAX;
use runtime::catalogue::BucketConfigChange;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::xml::{
    expiration_header_value, lifecycle_configuration_xml, parse_lifecycle_configuration,
};
use shard::ObjectRecord;

use crate::exchange::Exchange;
use crate::handlers::bucket::{bucket_record, change_bucket_config};
use crate::handlers::delete_objects::require_integrity_header;
use crate::handlers::payload::read_small_body;
use crate::response::Response;

pub const EXPIRATION_HEADER: &str = "x-amz-expiration";

pub async fn put_bucket_lifecycle_configuration(
    exchange: &mut Exchange<'_>,
) -> Result<Response, S3Error> {
    bucket_record(exchange)?;
    require_integrity_header(exchange)?;
    let body = read_small_body(exchange, LIFECYCLE_BODY_BYTES_MAX).await?;
    let mut config = parse_lifecycle_configuration(&body)?;
    config.transition_minimum_varies_by_class = transition_minimum_varies(exchange)?;
    let echoed = config.transition_minimum();
    change_bucket_config(exchange, BucketConfigChange::Lifecycle(Some(config))).await?;
    Ok(Response::new(200).header(TRANSITION_MINIMUM_HEADER, echoed))
}

const TRANSITION_MINIMUM_HEADER: &str = "x-amz-transition-default-minimum-object-size";

/// `x-amz-transition-default-minimum-object-size`: one of AWS's two values (absent: the
/// default, all classes at 128 KiB).
fn transition_minimum_varies(exchange: &Exchange<'_>) -> Result<bool, S3Error> {
    use base::lifecycle::{TRANSITION_MINIMUM_ALL_CLASSES, TRANSITION_MINIMUM_VARIES};
    match exchange
        .head
        .header_str(TRANSITION_MINIMUM_HEADER)
        .map(str::trim)
    {
        None => Ok(false),
        Some(value) if value == TRANSITION_MINIMUM_ALL_CLASSES => Ok(false),
        Some(value) if value == TRANSITION_MINIMUM_VARIES => Ok(true),
        Some(_) => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Invalid value for x-amz-transition-default-minimum-object-size: expected \
             all_storage_classes_128K or varies_by_storage_class",
        )),
    }
}

pub fn get_bucket_lifecycle_configuration(
    exchange: &mut Exchange<'_>,
) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    let config = record.lifecycle.ok_or_else(|| {
        S3Error::new(S3ErrorCode::NoSuchLifecycleConfiguration).extra("BucketName", record.name)
    })?;
    Ok(Response::xml(lifecycle_configuration_xml(&config))
        .header(TRANSITION_MINIMUM_HEADER, config.transition_minimum()))
}

pub async fn delete_bucket_lifecycle(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    bucket_record(exchange)?;
    change_bucket_config(exchange, BucketConfigChange::Lifecycle(None)).await?;
    Ok(Response::new(204))
}

/// `x-amz-expiration` for the latest version `record` of the request's key, when an enabled
/// rule of the bucket will expire it: the earliest such expiry and its rule. A value that is
/// not a valid header field (a rule ID with a quote cannot break it, control characters are
/// refused when the rules are stored) is left out.
pub fn expiration_header(
    exchange: &Exchange<'_>,
    record: &ObjectRecord,
) -> Option<(String, String)> {
    let day_ms = i64::try_from(exchange.context.settings.lifecycle.day.as_millis()).ok()?;
    let (expiry_ms, rule_id) = exchange
        .context
        .with_bucket(exchange.bucket(), |bucket| {
            base::lifecycle::expiration_header_for(
                bucket.lifecycle.as_ref()?,
                exchange.key(),
                record.size_bytes,
                &record.tags,
                record.last_modified_ms,
                day_ms,
            )
        })
        .flatten()?;
    let value = expiration_header_value(expiry_ms, &rule_id);
    s3_proto::http_field::is_field_value(value.as_bytes())
        .then(|| (EXPIRATION_HEADER.to_owned(), value))
}

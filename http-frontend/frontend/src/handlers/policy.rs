//! Bucket policies: Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus. The document is
//! validated with the `policy` crate, stored as sent in the bucket's record (committed by the
//! coordinator and copied to every shard like the other bucket configuration) and compiled
//! once per shard when the record arrives (`runtime::context::BucketEntry`). Enforcement is
//! in `crate::auth`.
//!
//! Only the bucket's owner side manages a policy: the tenant check already keeps other
//! tenants out; anonymous callers are refused here even if a policy allowed them
//! `s3:PutBucketPolicy` (a policy must not be able to hand itself to the world).

use policy::BUCKET_POLICY_SIZE_BYTES_MAX;
use runtime::catalogue::BucketConfigChange;
use s3_proto::error::{S3Error, S3ErrorCode};

use crate::exchange::Exchange;
use crate::handlers::bucket::{bucket_record, change_bucket_config, require_bucket};
use crate::handlers::payload::read_small_body;
use crate::response::Response;

/// A bucket's policy and its other access settings belong to its owner's side: an anonymous
/// caller never reads or changes them, whatever a policy allows (handlers/access.rs too).
pub(crate) fn require_signed(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    if exchange.principal.is_some() {
        Ok(())
    } else {
        Err(S3Error::new(S3ErrorCode::AccessDenied))
    }
}

fn malformed(message: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::MalformedPolicy, message)
}

pub async fn put_bucket_policy(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_bucket(exchange)?;
    let body = read_small_body(exchange, BUCKET_POLICY_SIZE_BYTES_MAX)
        .await
        .map_err(|error| match error.code {
            S3ErrorCode::MaxMessageLengthExceeded | S3ErrorCode::EntityTooLarge => {
                malformed("Policy exceeds the maximum allowed document size.")
            }
            _ => error,
        })?;
    let text = String::from_utf8(body).map_err(|_| malformed("Policies must be valid JSON"))?;
    // Validated here, compiled again by every shard: the text is what is stored.
    policy::parse_bucket_policy(&text, exchange.bucket())
        .map_err(|error| malformed(error.to_string()))?;
    change_bucket_config(exchange, BucketConfigChange::Policy(Some(text))).await?;
    Ok(Response::new(204))
}

pub fn get_bucket_policy(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    let record = bucket_record(exchange)?;
    let Some(text) = record.policy else {
        return Err(no_policy(&record.name));
    };
    let mut response = Response::new(200).header("Content-Type", "application/json");
    response.body = text.into_bytes();
    Ok(response)
}

pub async fn delete_bucket_policy(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    require_bucket(exchange)?;
    // Deleting what is not there answers 204, as on S3.
    change_bucket_config(exchange, BucketConfigChange::Policy(None)).await?;
    Ok(Response::new(204))
}

pub fn get_bucket_policy_status(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_signed(exchange)?;
    let name = exchange.bucket();
    let public = exchange
        .context
        .buckets
        .borrow()
        .get(name)
        .filter(|entry| !entry.deleting)
        .map(|entry| entry.policy.as_ref().map(|policy| policy.is_public()))
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchBucket))?
        .ok_or_else(|| no_policy(name))?;
    Ok(Response::xml(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PolicyStatus \
         xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsPublic>{public}</IsPublic>\
         </PolicyStatus>"
    )))
}

fn no_policy(bucket: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NoSuchBucketPolicy,
        "The bucket policy does not exist",
    )
    .extra("BucketName", bucket)
}

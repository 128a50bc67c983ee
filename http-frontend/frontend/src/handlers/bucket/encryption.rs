//! Bucket default encryption (Put/Get/DeleteBucketEncryption): bucket configuration, committed
//! by the coordinator and copied to every shard like bucket tags. The object handlers apply it
//! to writes that carry no encryption header.
//!
//! This server has no KMS: a configuration naming `aws:kms` or `aws:kms:dsse` is refused with
//! the error AWS gives for a key it does not know, never stored and silently ignored (which
//! would leave objects in plaintext that the owner believes encrypted).

use base::limits::XML_BODY_BYTES_MAX;
use runtime::catalogue::BucketConfigChange;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::xml::{
    BucketEncryption as XmlEncryption, bucket_encryption_xml, parse_bucket_encryption,
};
use shard::BucketEncryption;

use crate::exchange::Exchange;
use crate::handlers::bucket::{bucket_record, change_bucket_config, require_bucket};
use crate::handlers::payload::read_small_body;
use crate::response::Response;

/// The one algorithm this server can apply by default (SSE-S3).
const SSE_S3_ALGORITHM: &str = "AES256";

/// The stored configuration for a parsed document, or the KMS error AWS answers.
fn accepted(parsed: XmlEncryption) -> Result<BucketEncryption, S3Error> {
    if parsed.algorithm != SSE_S3_ALGORITHM {
        let message = match &parsed.kms_key_id {
            Some(key_id) => format!("Invalid keyId {key_id}"),
            None => "This server has no KMS; use SSEAlgorithm AES256".to_owned(),
        };
        return Err(S3Error::with_message(
            S3ErrorCode::KmsNotFoundException,
            message,
        ));
    }
    Ok(BucketEncryption {
        algorithm: parsed.algorithm,
        kms_key_id: parsed.kms_key_id,
        bucket_key_enabled: parsed.bucket_key_enabled,
    })
}

pub async fn put_bucket_encryption(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    let body = read_small_body(exchange, XML_BODY_BYTES_MAX).await?;
    let encryption = accepted(parse_bucket_encryption(&body)?)?;
    change_bucket_config(exchange, BucketConfigChange::Encryption(Some(encryption))).await?;
    Ok(Response::new(200))
}

pub async fn delete_bucket_encryption(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    require_bucket(exchange)?;
    change_bucket_config(exchange, BucketConfigChange::Encryption(None)).await?;
    Ok(Response::new(204))
}

pub fn get_bucket_encryption(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let record = bucket_record(exchange)?;
    let Some(encryption) = record.encryption else {
        return Err(
            S3Error::new(S3ErrorCode::ServerSideEncryptionConfigurationNotFoundError)
                .extra("BucketName", record.name),
        );
    };
    Ok(Response::xml(bucket_encryption_xml(&XmlEncryption {
        algorithm: encryption.algorithm,
        kms_key_id: encryption.kms_key_id,
        bucket_key_enabled: encryption.bucket_key_enabled,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(algorithm: &str, kms_key_id: Option<&str>) -> XmlEncryption {
        XmlEncryption {
            algorithm: algorithm.to_owned(),
            kms_key_id: kms_key_id.map(str::to_owned),
            bucket_key_enabled: true,
        }
    }

    #[test]
    fn only_sse_s3_is_accepted_and_kms_gets_the_aws_error() {
        let stored = accepted(parsed("AES256", None)).unwrap();
        assert_eq!(stored.algorithm, "AES256");
        assert!(stored.bucket_key_enabled);
        for (algorithm, key_id) in [
            ("aws:kms", Some("arn:aws:kms:us-east-1:111122223333:key/x")),
            ("aws:kms", None),
            ("aws:kms:dsse", None),
        ] {
            let error = accepted(parsed(algorithm, key_id)).unwrap_err();
            assert_eq!(error.code, S3ErrorCode::KmsNotFoundException);
        }
    }
}

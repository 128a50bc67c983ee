//! The one place where engine, signature and framing errors become S3 errors.
//!
//! Every match is exhaustive without a wildcard arm, so a new error variant cannot reach a
//! client without someone deciding its S3 code here.
#![deny(clippy::wildcard_enum_match_arm)]

use s3_proto::aws_chunked::AwsChunkedError;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::sigv4::SigV4Error;
use shard::ShardError;

use s3_proto::post_policy::PostPolicyError;

use crate::body::BodyError;
use crate::form_data::FormError;
use crate::http_chunked::HttpChunkedError;

pub fn from_shard(error: &ShardError) -> S3Error {
    match error {
        ShardError::NoSuchBucket => S3Error::new(S3ErrorCode::NoSuchBucket),
        ShardError::BucketAlreadyOwnedByYou => S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou),
        ShardError::BucketNotEmpty => S3Error::new(S3ErrorCode::BucketNotEmpty),
        ShardError::NoSuchKey => S3Error::new(S3ErrorCode::NoSuchKey),
        ShardError::NoSuchUpload => S3Error::new(S3ErrorCode::NoSuchUpload),
        ShardError::PreconditionFailed => S3Error::new(S3ErrorCode::PreconditionFailed),
        ShardError::InvalidPart { part_number } => {
            S3Error::new(S3ErrorCode::InvalidPart).extra("PartNumber", part_number.to_string())
        }
        ShardError::InvalidPartOrder => S3Error::new(S3ErrorCode::InvalidPartOrder),
        ShardError::EntityTooSmall { part_number } => S3Error::new(S3ErrorCode::EntityTooSmall)
            .extra("PartNumber", part_number.to_string())
            .extra(
                "MinSizeAllowed",
                shard::meta::PART_SIZE_BYTES_MIN.to_string(),
            ),
        ShardError::StorageFull => S3Error::new(S3ErrorCode::XMinioStorageFull),
        ShardError::TooManyBuckets => S3Error::new(S3ErrorCode::TooManyBuckets),
        ShardError::QuotaExceeded => S3Error::new(S3ErrorCode::QuotaExceeded),
        ShardError::TooManyUploads => S3Error::with_message(
            S3ErrorCode::QuotaExceeded,
            "The account has as many multipart uploads in progress as allowed; complete or \
             abort some first.",
        ),
        ShardError::NoSuchVersion => S3Error::new(S3ErrorCode::NoSuchVersion),
        ShardError::AccessDenied(reason) => {
            S3Error::with_message(S3ErrorCode::AccessDenied, *reason)
        }
        ShardError::AclsDisabled => S3Error::new(S3ErrorCode::AccessControlListNotSupported),
        ShardError::AclGrantsOthers => {
            S3Error::new(S3ErrorCode::InvalidBucketAclWithObjectOwnership)
        }
        ShardError::InvalidBucketState(reason) => {
            S3Error::with_message(S3ErrorCode::InvalidBucketState, *reason)
        }
        ShardError::DeleteMarker => S3Error::with_message(
            S3ErrorCode::MethodNotAllowed,
            "The specified method is not allowed against a delete marker.",
        ),
        ShardError::ObjectLocked => S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "Access Denied because object protected by object lock.",
        ),
        ShardError::ShuttingDown => S3Error::with_message(
            S3ErrorCode::ServiceUnavailable,
            "The server is shutting down; retry.",
        ),
        // The shard has logged, counted and recorded the damaged block; the client gets a
        // retryable 500 and never the bytes.
        ShardError::DataCorrupt { .. } => S3Error::with_message(
            S3ErrorCode::InternalError,
            "The stored object failed its integrity check and cannot be served.",
        ),
        ShardError::Io { .. } | ShardError::Metadata(_) | ShardError::CorruptRecord(_) => {
            tracing::error!(%error, "internal storage error");
            S3Error::new(S3ErrorCode::InternalError)
        }
    }
}

pub fn from_sigv4(error: &SigV4Error, region: &str) -> S3Error {
    match error {
        SigV4Error::SignatureDoesNotMatch | SigV4Error::SignatureMalformed => {
            S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
        }
        SigV4Error::InvalidAccessKeyId => S3Error::new(S3ErrorCode::InvalidAccessKeyId),
        SigV4Error::RequestTimeTooSkewed => S3Error::new(S3ErrorCode::RequestTimeTooSkewed),
        SigV4Error::ExpiredPresignedRequest => {
            S3Error::with_message(S3ErrorCode::AccessDenied, "Request has expired")
        }
        SigV4Error::PresignedRequestNotYetValid => {
            S3Error::with_message(S3ErrorCode::AccessDenied, "Request is not valid yet")
        }
        SigV4Error::AuthorizationHeaderMalformed { expected_region } => with_region(
            S3Error::new(S3ErrorCode::AuthorizationHeaderMalformed),
            expected_region.as_ref(),
            region,
        ),
        SigV4Error::AuthorizationQueryParametersError { expected_region } => with_region(
            S3Error::new(S3ErrorCode::AuthorizationQueryParametersError),
            expected_region.as_ref(),
            region,
        ),
        SigV4Error::MultipleAuthMechanisms => S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Only one auth mechanism allowed",
        ),
        SigV4Error::XAmzContentSha256Invalid => S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, \
             a STREAMING-* value or a SHA-256 hex digest",
        ),
        SigV4Error::XAmzContentSha256Missing => S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Missing required header for this request: x-amz-content-sha256",
        ),
        SigV4Error::DateMissingOrInvalid => S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        ),
        SigV4Error::SignedHeaderMissing => S3Error::new(S3ErrorCode::SignatureDoesNotMatch),
        SigV4Error::UnsupportedAlgorithm => S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "This authentication scheme is not implemented",
        ),
        SigV4Error::SessionTokenUnsupported => S3Error::new(S3ErrorCode::InvalidToken),
        SigV4Error::TooManyQueryParameters => {
            S3Error::with_message(S3ErrorCode::InvalidArgument, "Too many query parameters")
        }
        SigV4Error::HeadersNotSigned { names } => S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "There were headers present in the request which were not signed",
        )
        .extra("HeadersNotSigned", names.clone()),
        SigV4Error::UnsignedOperationParameter { name } => S3Error::with_message(
            S3ErrorCode::AccessDenied,
            format!(
                "The query parameter '{name}' chooses the operation but is not covered by a \
                 Signature Version 2 signature; sign the request with Signature Version 4"
            ),
        ),
    }
}

/// Adds `<Region>` when the verifier found a region mismatch, so clients can self-correct.
fn with_region(error: S3Error, expected_region: Option<&String>, region: &str) -> S3Error {
    if expected_region.is_some() {
        error.extra("Region", region)
    } else {
        error
    }
}

pub fn from_body(error: &BodyError) -> S3Error {
    match error {
        BodyError::TimedOut => S3Error::new(S3ErrorCode::RequestTimeout),
        BodyError::Incomplete | BodyError::Io(_) => S3Error::new(S3ErrorCode::IncompleteBody),
        BodyError::HttpChunked(error) => from_http_chunked(error),
        BodyError::AwsChunked(error) => from_aws_chunked(error),
    }
}

fn from_http_chunked(error: &HttpChunkedError) -> S3Error {
    match error {
        HttpChunkedError::InvalidChunkSize
        | HttpChunkedError::InvalidChunkExtension
        | HttpChunkedError::ChunkSizeLineTooLong
        | HttpChunkedError::MissingCrlf
        | HttpChunkedError::TrailerSectionTooLarge => S3Error::with_message(
            S3ErrorCode::BadRequest,
            "Malformed chunked transfer encoding",
        ),
        HttpChunkedError::Truncated => S3Error::new(S3ErrorCode::IncompleteBody),
    }
}

fn from_aws_chunked(error: &AwsChunkedError) -> S3Error {
    match error {
        AwsChunkedError::Malformed
        | AwsChunkedError::IncompleteBody
        | AwsChunkedError::DecodedLengthMismatch => S3Error::new(S3ErrorCode::IncompleteBody),
        AwsChunkedError::ChunkTooLarge => {
            S3Error::with_message(S3ErrorCode::InvalidRequest, "aws-chunked chunk too large")
        }
        AwsChunkedError::SignatureDoesNotMatch => S3Error::new(S3ErrorCode::SignatureDoesNotMatch),
        AwsChunkedError::UnexpectedTrailer | AwsChunkedError::TrailerTooLarge => {
            S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Unexpected or oversized trailer",
            )
        }
        AwsChunkedError::TrailerMissing => S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The declared trailer is missing from the request body",
        ),
    }
}

pub fn from_form(error: &FormError) -> S3Error {
    match error {
        FormError::Malformed(reason) => S3Error::with_message(
            S3ErrorCode::MalformedPOSTRequest,
            format!(
                "The body of your POST request is not well-formed multipart/form-data: {reason}"
            ),
        ),
        FormError::TooManyParts => S3Error::with_message(
            S3ErrorCode::MalformedPOSTRequest,
            "The POST form has too many fields",
        ),
    }
}

pub fn from_post_policy(error: &PostPolicyError, region: &str) -> S3Error {
    match error {
        PostPolicyError::MissingField(name) => S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("Bucket POST must contain a field named '{name}'."),
        )
        .extra("ArgumentName", *name),
        PostPolicyError::InvalidPolicyDocument(reason) => S3Error::with_message(
            S3ErrorCode::InvalidPolicyDocument,
            format!("Invalid Policy: {reason}"),
        ),
        PostPolicyError::Expired => S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "Invalid according to Policy: Policy expired.",
        ),
        PostPolicyError::ConditionFailed(condition) => S3Error::with_message(
            S3ErrorCode::AccessDenied,
            format!("Invalid according to Policy: {condition}"),
        ),
        PostPolicyError::Signature(error) => from_sigv4(error, region),
    }
}

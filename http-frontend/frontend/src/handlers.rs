//! One module per group of S3 operations; `run` picks the handler for the routed operation.

pub mod access;
pub mod acl;
pub mod attributes;
pub mod bucket;
pub mod conditional;
pub mod copy;
pub mod cors;
pub mod delete_objects;
pub mod encryption;
pub mod health;
pub mod lifecycle;
pub mod list;
pub mod metrics;
pub mod multipart;
pub mod object;
pub mod object_lock;
pub mod payload;
pub mod policy;
pub mod post_object;
pub mod request_guards;
pub mod sts;
pub mod tagging;
pub mod versioning;

use s3_proto::error::S3Error;
use s3_proto::router::Operation;

use crate::exchange::{Exchange, not_implemented};
use crate::response::Response;

pub async fn run(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    if exchange.route.bucket.is_some() {
        bucket::check_expected_owner(exchange)?;
    }
    request_guards::refuse_unhonoured(exchange)?;
    match exchange.route.operation {
        Operation::ListBuckets => bucket::list_buckets(exchange),
        Operation::SecurityTokenService => sts::sts_request(exchange).await,
        Operation::CreateBucket => bucket::create_bucket(exchange).await,
        Operation::HeadBucket => bucket::head_bucket(exchange),
        Operation::DeleteBucket => bucket::delete_bucket(exchange).await,
        Operation::GetBucketLocation => bucket::get_bucket_location(exchange),
        Operation::GetBucketVersioning => bucket::get_bucket_versioning(exchange),
        Operation::PutBucketVersioning => bucket::put_bucket_versioning(exchange).await,
        Operation::PutObjectLockConfiguration => {
            object_lock::put_object_lock_configuration(exchange).await
        }
        Operation::GetObjectLockConfiguration => {
            object_lock::get_object_lock_configuration(exchange)
        }
        Operation::PutBucketLifecycleConfiguration => {
            lifecycle::put_bucket_lifecycle_configuration(exchange).await
        }
        Operation::GetBucketLifecycleConfiguration => {
            lifecycle::get_bucket_lifecycle_configuration(exchange)
        }
        Operation::DeleteBucketLifecycle => lifecycle::delete_bucket_lifecycle(exchange).await,
        Operation::PutObjectRetention => object_lock::put_object_retention(exchange).await,
        Operation::GetObjectRetention => object_lock::get_object_retention(exchange),
        Operation::PutObjectLegalHold => object_lock::put_object_legal_hold(exchange).await,
        Operation::GetObjectLegalHold => object_lock::get_object_legal_hold(exchange),
        Operation::ListObjectsV2 => list::list_objects_v2(exchange).await,
        Operation::ListObjects => list::list_objects_v1(exchange).await,
        Operation::ListObjectVersions => list::list_object_versions(exchange).await,
        Operation::PutObject => object::put_object(exchange).await,
        Operation::GetObject | Operation::HeadObject => object::get_object(exchange).await,
        Operation::DeleteObject => object::delete_object(exchange).await,
        Operation::CopyObject => copy::copy_object(exchange).await,
        Operation::UploadPartCopy => copy::upload_part_copy(exchange).await,
        Operation::DeleteObjects => delete_objects::delete_objects(exchange).await,
        Operation::CreateMultipartUpload => multipart::create_multipart_upload(exchange).await,
        Operation::UploadPart => multipart::upload_part(exchange).await,
        Operation::CompleteMultipartUpload => multipart::complete_multipart_upload(exchange).await,
        Operation::AbortMultipartUpload => multipart::abort_multipart_upload(exchange).await,
        Operation::ListParts => multipart::list_parts(exchange),
        Operation::ListMultipartUploads => multipart::list_multipart_uploads(exchange).await,
        Operation::PostObject => post_object::post_object(exchange).await,
        Operation::PutObjectTagging => tagging::put_object_tagging(exchange).await,
        Operation::GetObjectTagging => tagging::get_object_tagging(exchange),
        Operation::DeleteObjectTagging => tagging::delete_object_tagging(exchange).await,
        Operation::PutBucketTagging => tagging::put_bucket_tagging(exchange).await,
        Operation::GetBucketTagging => tagging::get_bucket_tagging(exchange),
        Operation::DeleteBucketTagging => tagging::delete_bucket_tagging(exchange).await,
        Operation::PutBucketEncryption => bucket::encryption::put_bucket_encryption(exchange).await,
        Operation::GetBucketEncryption => bucket::encryption::get_bucket_encryption(exchange),
        Operation::DeleteBucketEncryption => {
            bucket::encryption::delete_bucket_encryption(exchange).await
        }
        Operation::GetObjectAttributes => attributes::get_object_attributes(exchange),
        Operation::PutBucketCors => cors::put_bucket_cors(exchange).await,
        Operation::GetBucketCors => cors::get_bucket_cors(exchange),
        Operation::DeleteBucketCors => cors::delete_bucket_cors(exchange).await,
        Operation::OptionsObject => cors::preflight(exchange),
        Operation::PutBucketPolicy => policy::put_bucket_policy(exchange).await,
        Operation::GetBucketPolicy => policy::get_bucket_policy(exchange),
        Operation::DeleteBucketPolicy => policy::delete_bucket_policy(exchange).await,
        Operation::GetBucketPolicyStatus => policy::get_bucket_policy_status(exchange),
        Operation::PutPublicAccessBlock => access::put_public_access_block(exchange).await,
        Operation::GetPublicAccessBlock => access::get_public_access_block(exchange),
        Operation::DeletePublicAccessBlock => access::delete_public_access_block(exchange).await,
        Operation::PutBucketOwnershipControls => {
            access::put_bucket_ownership_controls(exchange).await
        }
        Operation::GetBucketOwnershipControls => access::get_bucket_ownership_controls(exchange),
        Operation::DeleteBucketOwnershipControls => {
            access::delete_bucket_ownership_controls(exchange).await
        }
        Operation::GetBucketAcl => access::get_bucket_acl(exchange),
        Operation::PutBucketAcl => access::put_bucket_acl(exchange).await,
        Operation::GetObjectAcl => access::get_object_acl(exchange),
        Operation::PutObjectAcl => access::put_object_acl(exchange).await,
        other => Err(not_implemented(other)),
    }
}

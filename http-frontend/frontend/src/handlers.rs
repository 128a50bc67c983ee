//! One module per group of S3 operations; `run` picks the handler for the routed operation.

pub mod bucket;
pub mod conditional;
pub mod delete_objects;
pub mod health;
pub mod list;
pub mod multipart;
pub mod object;
pub mod payload;

use s3_proto::error::S3Error;
use s3_proto::router::Operation;

use crate::dispatch::{Exchange, not_implemented};
use crate::response::Response;

pub async fn run(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    match exchange.route.operation {
        Operation::ListBuckets => bucket::list_buckets(exchange),
        Operation::CreateBucket => bucket::create_bucket(exchange).await,
        Operation::HeadBucket => bucket::head_bucket(exchange),
        Operation::DeleteBucket => bucket::delete_bucket(exchange).await,
        Operation::GetBucketLocation => bucket::get_bucket_location(exchange),
        Operation::ListObjectsV2 => list::list_objects_v2(exchange).await,
        Operation::ListObjects => list::list_objects_v1(exchange).await,
        Operation::ListObjectVersions => list::list_object_versions(exchange).await,
        Operation::PutObject => object::put_object(exchange).await,
        Operation::GetObject | Operation::HeadObject => object::get_object(exchange).await,
        Operation::DeleteObject => object::delete_object(exchange).await,
        Operation::DeleteObjects => delete_objects::delete_objects(exchange).await,
        Operation::CreateMultipartUpload => multipart::create_multipart_upload(exchange).await,
        Operation::UploadPart => multipart::upload_part(exchange).await,
        Operation::CompleteMultipartUpload => multipart::complete_multipart_upload(exchange).await,
        Operation::AbortMultipartUpload => multipart::abort_multipart_upload(exchange).await,
        Operation::ListParts => multipart::list_parts(exchange),
        Operation::ListMultipartUploads => multipart::list_multipart_uploads(exchange).await,
        other => Err(not_implemented(other)),
    }
}

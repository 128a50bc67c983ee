//! Black-box tests of the real `maxiofs` binary with aws-sdk-rust (aws-sdk-s3), over plain
//! HTTP, path-style, region us-east-1: the request shapes S3-CLIENTS.md records for this SDK
//! (`?x-id=` on every request, in-memory bodies with `x-amz-checksum-crc32`, streamed bodies as
//! `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` with an `x-amz-checksum-crc32` trailer).

use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::{ByteStream, Length, SdkBody};
use aws_sdk_s3::types::{ChecksumMode, CompletedMultipartUpload, CompletedPart};
use base64::Engine as _;
use it::{ACCESS_KEY, SECRET_KEY, Server};
use md5::{Digest as _, Md5};

const MIB: usize = 1024 * 1024;

fn client_with(server: &Server, access_key: &str, secret_key: &str) -> Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(access_key, secret_key, None, None, "it"))
        .endpoint_url(server.endpoint())
        .force_path_style(true)
        // Plain-HTTP hyper 1 connector: no TLS stack is compiled in.
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        // A retried 5xx would hide a server bug: every request is sent exactly once.
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

fn client(server: &Server) -> Client {
    client_with(server, ACCESS_KEY, SECRET_KEY)
}

/// Deterministic pseudo-random bytes (xorshift64*), so failures are reproducible.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

fn quoted_md5(bytes: &[u8]) -> String {
    format!("\"{}\"", md5_hex(bytes))
}

fn crc32_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(bytes).to_be_bytes())
}

/// The service error code of a failed call, panicking with the full error if it succeeded.
fn error_code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::error::Error + 'static, R>(
    result: Result<T, SdkError<E, R>>,
) -> String
where
    R: std::fmt::Debug,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => match e.code() {
            Some(code) => code.to_owned(),
            None => panic!("error without a service code: {}", DisplayErrorContext(&e)),
        },
    }
}

fn http_status<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

async fn create_bucket(c: &Client, bucket: &str) {
    c.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateBucket {bucket}: {}", DisplayErrorContext(&e)));
}

async fn get_bytes(c: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetObject {bucket}/{key}: {}", DisplayErrorContext(&e)));
    out.body
        .collect()
        .await
        .expect("read GetObject body")
        .into_bytes()
        .to_vec()
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

#[tokio::test]
async fn bucket_lifecycle() {
    let server = Server::start();
    let c = client(&server);
    create_bucket(&c, "life-bkt").await;
    create_bucket(&c, "life-bkt-2").await;

    c.head_bucket()
        .bucket("life-bkt")
        .send()
        .await
        .expect("HeadBucket");
    let names: Vec<String> = c
        .list_buckets()
        .send()
        .await
        .expect("ListBuckets")
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["life-bkt", "life-bkt-2"]);

    let loc = c
        .get_bucket_location()
        .bucket("life-bkt")
        .send()
        .await
        .expect("GetBucketLocation");
    // us-east-1 is answered with an empty LocationConstraint.
    assert!(
        loc.location_constraint()
            .is_none_or(|l| l.as_str().is_empty()),
        "unexpected LocationConstraint {loc:?}"
    );

    assert_eq!(
        error_code(c.create_bucket().bucket("life-bkt").send().await),
        "BucketAlreadyOwnedByYou"
    );

    c.delete_bucket()
        .bucket("life-bkt-2")
        .send()
        .await
        .expect("DeleteBucket");
    let err = c
        .head_bucket()
        .bucket("life-bkt-2")
        .send()
        .await
        .expect_err("HeadBucket gone");
    assert_eq!(
        http_status(&err),
        Some(404),
        "{}",
        DisplayErrorContext(&err)
    );
    assert_eq!(
        error_code(c.delete_bucket().bucket("life-bkt-2").send().await),
        "NoSuchBucket"
    );
}

#[tokio::test]
async fn put_get_in_memory_body_with_metadata() {
    let server = Server::start();
    let c = client(&server);
    create_bucket(&c, "mem-bkt").await;
    let body = data(4321, 1);

    let put = c
        .put_object()
        .bucket("mem-bkt")
        .key("dir/sub/hello.bin")
        .body(ByteStream::from(body.clone()))
        .content_type("application/x-maxiofs-test")
        .metadata("color", "blue")
        .metadata("answer", "42")
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject: {}", DisplayErrorContext(&e)));
    assert_eq!(put.e_tag(), Some(quoted_md5(&body).as_str()));

    let get = c
        .get_object()
        .bucket("mem-bkt")
        .key("dir/sub/hello.bin")
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetObject: {}", DisplayErrorContext(&e)));
    assert_eq!(get.e_tag(), Some(quoted_md5(&body).as_str()));
    assert_eq!(get.content_type(), Some("application/x-maxiofs-test"));
    assert_eq!(get.content_length(), Some(4321));
    let meta = get.metadata().expect("user metadata");
    assert_eq!(meta.get("color").map(String::as_str), Some("blue"));
    assert_eq!(meta.get("answer").map(String::as_str), Some("42"));
    assert_eq!(meta.len(), 2, "{meta:?}");
    let got = get.body.collect().await.expect("body").into_bytes();
    assert!(got.as_ref() == body.as_slice(), "GetObject body differs");

    let head = c
        .head_object()
        .bucket("mem-bkt")
        .key("dir/sub/hello.bin")
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.content_length(), Some(4321));
    assert_eq!(head.e_tag(), Some(quoted_md5(&body).as_str()));
    assert_eq!(head.content_type(), Some("application/x-maxiofs-test"));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("color"))
            .map(String::as_str),
        Some("blue")
    );

    // Overwrite with an empty body, then delete.
    let put = c
        .put_object()
        .bucket("mem-bkt")
        .key("dir/sub/hello.bin")
        .body(ByteStream::from_static(b""))
        .send()
        .await
        .expect("PutObject empty");
    assert_eq!(put.e_tag(), Some(quoted_md5(b"").as_str()));
    assert!(
        get_bytes(&c, "mem-bkt", "dir/sub/hello.bin")
            .await
            .is_empty()
    );
    c.delete_object()
        .bucket("mem-bkt")
        .key("dir/sub/hello.bin")
        .send()
        .await
        .expect("DeleteObject");
    assert_eq!(
        error_code(
            c.get_object()
                .bucket("mem-bkt")
                .key("dir/sub/hello.bin")
                .send()
                .await
        ),
        "NoSuchKey"
    );
}

/// `ByteStream::from_path` is sent as `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` with an
/// `x-amz-checksum-crc32` trailer over plain HTTP.
#[tokio::test]
async fn put_streamed_body_signed_trailer() {
    let server = Server::start();
    let c = client(&server);
    create_bucket(&c, "stream-bkt").await;
    let dir = tempfile::tempdir().expect("tempdir");

    for (key, len, seed) in [("small.bin", 10, 2), ("big.bin", 3 * MIB + 1, 3)] {
        let body = data(len, seed);
        let path = write_file(dir.path(), key, &body);
        let put = c
            .put_object()
            .bucket("stream-bkt")
            .key(key)
            .body(
                ByteStream::from_path(&path)
                    .await
                    .expect("ByteStream::from_path"),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("streamed PutObject {key}: {}", DisplayErrorContext(&e)));
        assert_eq!(put.e_tag(), Some(quoted_md5(&body).as_str()), "{key}");

        let get = c
            .get_object()
            .bucket("stream-bkt")
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {key}: {}", DisplayErrorContext(&e)));
        assert_eq!(
            get.content_length(),
            Some(i64::try_from(len).expect("len")),
            "{key}"
        );
        assert_eq!(get.e_tag(), Some(quoted_md5(&body).as_str()), "{key}");
        assert_eq!(
            get.checksum_crc32(),
            Some(crc32_b64(&body).as_str()),
            "{key}: stored CRC32 of the trailer"
        );
        let got = get.body.collect().await.expect("body").into_bytes();
        assert_eq!(got.len(), len, "{key}");
        assert!(
            got.as_ref() == body.as_slice(),
            "{key}: GetObject body differs"
        );
    }
}

#[tokio::test]
async fn multipart_upload_streamed_parts() {
    let server = Server::start();
    let c = client(&server);
    create_bucket(&c, "mpu-bkt").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sizes = [5 * MIB, 5 * MIB, MIB];
    let body = data(sizes.iter().sum(), 4);
    let path = write_file(dir.path(), "whole.bin", &body);

    let create = c
        .create_multipart_upload()
        .bucket("mpu-bkt")
        .key("big/object.bin")
        .content_type("application/octet-stream")
        .metadata("kind", "mpu")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateMultipartUpload: {}", DisplayErrorContext(&e)));
    let upload_id = create.upload_id().expect("UploadId").to_owned();

    let mut parts = Vec::new();
    let mut part_md5s = Vec::new();
    let mut offset = 0;
    for (i, size) in sizes.iter().copied().enumerate() {
        let number = i32::try_from(i + 1).expect("part number");
        let stream = ByteStream::read_from()
            .path(&path)
            .offset(offset as u64)
            .length(Length::Exact(size as u64))
            .build()
            .await
            .expect("part ByteStream");
        let chunk = &body[offset..offset + size];
        let out = c
            .upload_part()
            .bucket("mpu-bkt")
            .key("big/object.bin")
            .upload_id(&upload_id)
            .part_number(number)
            .body(stream)
            .send()
            .await
            .unwrap_or_else(|e| panic!("UploadPart {number}: {}", DisplayErrorContext(&e)));
        let etag = out.e_tag().expect("part ETag").to_owned();
        assert_eq!(etag, quoted_md5(chunk), "part {number}");
        part_md5s.extend_from_slice(&Md5::digest(chunk));
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(etag)
                .build(),
        );
        offset += size;
    }

    let done = c
        .complete_multipart_upload()
        .bucket("mpu-bkt")
        .key("big/object.bin")
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("CompleteMultipartUpload: {}", DisplayErrorContext(&e)));
    let expected_etag = format!("\"{}-3\"", md5_hex(&part_md5s));
    assert_eq!(done.e_tag(), Some(expected_etag.as_str()));

    let head = c
        .head_object()
        .bucket("mpu-bkt")
        .key("big/object.bin")
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(
        head.content_length(),
        Some(i64::try_from(body.len()).expect("len"))
    );
    assert_eq!(head.e_tag(), Some(expected_etag.as_str()));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("kind"))
            .map(String::as_str),
        Some("mpu")
    );

    let got = get_bytes(&c, "mpu-bkt", "big/object.bin").await;
    assert_eq!(got.len(), body.len());
    assert!(got == body, "multipart object body differs");
}

#[tokio::test]
async fn multipart_abort() {
    let server = Server::start();
    let c = client(&server);
    create_bucket(&c, "abort-bkt").await;
    let upload_id = c
        .create_multipart_upload()
        .bucket("abort-bkt")
        .key("gone.bin")
        .send()
        .await
        .expect("CreateMultipartUpload")
        .upload_id()
        .expect("UploadId")
        .to_owned();
    c.upload_part()
        .bucket("abort-bkt")
        .key("gone.bin")
        .upload_id(&upload_id)
        .part_number(1)
        .body(ByteStream::from(data(1000, 5)))
        .send()
        .await
        .expect("UploadPart");
    c.abort_multipart_upload()
        .bucket("abort-bkt")
        .key("gone.bin")
        .upload_id(&upload_id)
        .send()
        .await
        .expect("AbortMultipartUpload");

    assert_eq!(
        error_code(
            c.upload_part()
                .bucket("abort-bkt")
                .key("gone.bin")
                .upload_id(&upload_id)
                .part_number(2)
                .body(ByteStream::from_static(b"late"))
                .send()
                .await
        ),
        "NoSuchUpload"
    );
    assert_eq!(
        error_code(
            c.complete_multipart_upload()
                .bucket("abort-bkt")
                .key("gone.bin")
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .parts(
                            CompletedPart::builder()
                                .part_number(1)
                                .e_tag("\"x\"")
                                .build()
                        )
                        .build()
                )
                .send()
                .await
        ),
        "NoSuchUpload"
    );
    assert_eq!(
        error_code(
            c.get_object()
                .bucket("abort-bkt")
                .key("gone.bin")
                .send()
                .await
        ),
        "NoSuchKey"
    );
    // Nothing left behind: the bucket is empty and can be deleted.
    c.delete_bucket()
        .bucket("abort-bkt")
        .send()
        .await
        .expect("DeleteBucket");
}

#[tokio::test]
async fn ranged_get() {
    let server = Server::start();
    let c = client(&server);
    create_bucket(&c, "range-bkt").await;
    let body = data(1000, 6);
    c.put_object()
        .bucket("range-bkt")
        .key("r.bin")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("PutObject");

    for (range, from, to) in [("bytes=100-199", 100, 200), ("bytes=-10", 990, 1000)] {
        let out = c
            .get_object()
            .bucket("range-bkt")
            .key("r.bin")
            .range(range)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {range}: {}", DisplayErrorContext(&e)));
        let want_range = format!("bytes {from}-{}/1000", to - 1);
        assert_eq!(out.content_range(), Some(want_range.as_str()), "{range}");
        assert_eq!(
            out.content_length(),
            Some(i64::try_from(to - from).expect("len")),
            "{range}"
        );
        let got = out.body.collect().await.expect("body").into_bytes();
        assert_eq!(got.as_ref(), &body[from..to], "{range}");
    }

    assert_eq!(
        error_code(
            c.get_object()
                .bucket("range-bkt")
                .key("r.bin")
                .range("bytes=1000-")
                .send()
                .await
        ),
        "InvalidRange"
    );
}

#[tokio::test]
async fn list_objects_v2_paginates_in_order() {
    let server = Server::start();
    let c = client(&server);
    create_bucket(&c, "list-bkt").await;

    // 30 keys, uploaded in a scrambled order (7 is coprime with 30).
    let mut expected: Vec<String> = (0..30)
        .map(|i| format!("k/{i:02}-{}", "x".repeat(i % 4)))
        .collect();
    for i in 0..30 {
        let key = &expected[(i * 7) % 30];
        c.put_object()
            .bucket("list-bkt")
            .key(key)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {key}: {}", DisplayErrorContext(&e)));
    }
    expected.sort();

    let mut pages = c
        .list_objects_v2()
        .bucket("list-bkt")
        .max_keys(7)
        .into_paginator()
        .send();
    let mut keys = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.next().await {
        let page = page.unwrap_or_else(|e| panic!("ListObjectsV2: {}", DisplayErrorContext(&e)));
        page_count += 1;
        let contents = page.contents();
        assert!(contents.len() <= 7, "page of {} keys", contents.len());
        assert_eq!(
            page.key_count(),
            Some(i32::try_from(contents.len()).expect("count"))
        );
        for obj in contents {
            let key = obj.key().expect("Key").to_owned();
            assert_eq!(
                obj.size(),
                Some(i64::try_from(key.len()).expect("len")),
                "{key}"
            );
            keys.push(key);
        }
        assert!(page_count <= 10, "paginator does not terminate");
    }
    assert_eq!(keys, expected, "every key once, sorted");
    assert_eq!(page_count, 5, "30 keys at 7 per page");

    // Prefix + delimiter on the same data.
    let out = c
        .list_objects_v2()
        .bucket("list-bkt")
        .delimiter("/")
        .send()
        .await
        .expect("ListObjectsV2 delimiter");
    let prefixes: Vec<&str> = out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["k/"]);
    assert!(out.contents().is_empty());
}

#[tokio::test]
async fn error_codes() {
    let server = Server::start();
    let c = client(&server);
    create_bucket(&c, "err-bkt").await;

    // Missing key and missing bucket.
    let err = c
        .get_object()
        .bucket("err-bkt")
        .key("nope")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(http_status(&err), Some(404));
    assert!(
        err.as_service_error()
            .is_some_and(GetObjectError::is_no_such_key),
        "{}",
        DisplayErrorContext(&err)
    );
    assert_eq!(error_code(Err::<(), _>(err)), "NoSuchKey");
    assert_eq!(
        error_code(c.get_object().bucket("no-such-bkt").key("k").send().await),
        "NoSuchBucket"
    );
    let err = c
        .head_object()
        .bucket("err-bkt")
        .key("nope")
        .send()
        .await
        .expect_err("head");
    assert_eq!(
        http_status(&err),
        Some(404),
        "{}",
        DisplayErrorContext(&err)
    );

    // A non-empty bucket cannot be deleted.
    c.put_object()
        .bucket("err-bkt")
        .key("keep")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("PutObject");
    let err = c
        .delete_bucket()
        .bucket("err-bkt")
        .send()
        .await
        .expect_err("non-empty");
    assert_eq!(http_status(&err), Some(409));
    assert_eq!(error_code(Err::<(), _>(err)), "BucketNotEmpty");

    // An operation the server does not implement, on an existing bucket.
    let err = c
        .get_bucket_website()
        .bucket("err-bkt")
        .send()
        .await
        .expect_err("website");
    assert_eq!(
        http_status(&err),
        Some(501),
        "{}",
        DisplayErrorContext(&err)
    );
    assert_eq!(error_code(Err::<(), _>(err)), "NotImplemented");

    c.delete_object()
        .bucket("err-bkt")
        .key("keep")
        .send()
        .await
        .expect("DeleteObject");
    c.delete_bucket()
        .bucket("err-bkt")
        .send()
        .await
        .expect("DeleteBucket");
}

#[tokio::test]
async fn auth_error_codes() {
    let server = Server::start();
    let c = client(&server);
    create_bucket(&c, "auth-bkt").await;

    // Wrong secret and unknown access key, with an empty and with a streamed body.
    let wrong = client_with(&server, ACCESS_KEY, "definitely-not-the-secret");
    let err = wrong.list_buckets().send().await.expect_err("wrong secret");
    assert_eq!(http_status(&err), Some(403));
    assert_eq!(error_code(Err::<(), _>(err)), "SignatureDoesNotMatch");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_file(dir.path(), "f.bin", &data(100, 7));
    assert_eq!(
        error_code(
            wrong
                .put_object()
                .bucket("auth-bkt")
                .key("f.bin")
                .body(ByteStream::from_path(&path).await.expect("from_path"))
                .send()
                .await
        ),
        "SignatureDoesNotMatch"
    );
    assert_eq!(
        error_code(
            client_with(&server, "NOSUCHKEY", SECRET_KEY)
                .list_buckets()
                .send()
                .await
        ),
        "InvalidAccessKeyId"
    );
    assert_eq!(
        error_code(c.get_object().bucket("auth-bkt").key("f.bin").send().await),
        "NoSuchKey",
        "a rejected PutObject must not store anything"
    );
}

/// Rewrites the framed request body on the wire, after the SDK has signed it: the byte right
/// after the first occurrence of `marker` is replaced by `replace(byte)`. The framed length is
/// unchanged, so the request stays well-formed HTTP and only a signature check can catch it.
#[derive(Debug)]
struct Tamper {
    marker: &'static [u8],
    replace: fn(u8) -> u8,
}

impl Intercept for Tamper {
    fn name(&self) -> &'static str {
        "Tamper"
    }

    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (marker, replace) = (self.marker, self.replace);
        let body = ctx.request_mut().take_body();
        *ctx.request_mut().body_mut() = body.map(move |inner| {
            SdkBody::from_body_1_x(TamperBody {
                inner,
                marker,
                replace,
                matched: 0,
                done: false,
            })
        });
        Ok(())
    }
}

struct TamperBody {
    inner: SdkBody,
    marker: &'static [u8],
    replace: fn(u8) -> u8,
    /// How many bytes of `marker` the stream has matched so far (naive matcher: fine for the
    /// markers used here, whose prefixes do not repeat).
    matched: usize,
    done: bool,
}

impl http_body::Body for TamperBody {
    type Data = bytes::Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, BoxError>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        let frame = match frame.into_data() {
            Ok(data) if !self.done => {
                let mut data = data.to_vec();
                for byte in &mut data {
                    if self.matched == self.marker.len() {
                        *byte = (self.replace)(*byte);
                        self.done = true;
                        break;
                    }
                    if *byte == self.marker[self.matched] {
                        self.matched += 1;
                    } else {
                        self.matched = usize::from(*byte == self.marker[0]);
                    }
                }
                http_body::Frame::data(bytes::Bytes::from(data))
            }
            Ok(data) => http_body::Frame::data(data),
            Err(frame) => frame,
        };
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

/// What to tamper with, after which marker, and how.
type TamperCase = (&'static str, &'static [u8], fn(u8) -> u8);

fn flip_low_bit(b: u8) -> u8 {
    b ^ 1
}

fn other_hex_digit(b: u8) -> u8 {
    if b == b'0' { b'1' } else { b'0' }
}

fn other_base64_char(b: u8) -> u8 {
    if b == b'A' { b'B' } else { b'A' }
}

/// A streamed (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`) upload whose framed body is
/// altered after signing must be refused with `SignatureDoesNotMatch` and store nothing:
/// a payload byte (breaks the chunk signature), the trailer's checksum value, or the trailer
/// signature itself.
#[tokio::test]
async fn tampered_streaming_body_is_rejected() {
    let server = Server::start();
    let c = client(&server);
    create_bucket(&c, "tamper-bkt").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let body = data(10, 8);
    let path = write_file(dir.path(), "t.bin", &body);

    let cases: [TamperCase; 3] = [
        // The first CRLF ends the first chunk header; the next byte is payload.
        ("payload byte", b"\r\n", flip_low_bit),
        (
            "trailer checksum",
            b"x-amz-checksum-crc32:",
            other_base64_char,
        ),
        (
            "trailer signature",
            b"x-amz-trailer-signature:",
            other_hex_digit,
        ),
    ];
    for (what, marker, replace) in cases {
        let err = c
            .put_object()
            .bucket("tamper-bkt")
            .key("t.bin")
            .body(ByteStream::from_path(&path).await.expect("from_path"))
            .customize()
            .interceptor(Tamper { marker, replace })
            .send()
            .await
            .expect_err(what);
        assert_eq!(
            err.code(),
            Some("SignatureDoesNotMatch"),
            "{what}: {}",
            DisplayErrorContext(&err)
        );
        assert_eq!(http_status(&err), Some(403), "{what}");
        assert_eq!(
            error_code(
                c.head_object()
                    .bucket("tamper-bkt")
                    .key("t.bin")
                    .send()
                    .await
            ),
            "NotFound",
            "{what}: a rejected upload must store nothing"
        );
    }

    // A payload byte in the first 64 KiB chunk of a 3 MiB upload: the server answers while
    // the client is still sending.
    let big = write_file(dir.path(), "big.bin", &data(3 * MIB + 1, 9));
    let err = c
        .put_object()
        .bucket("tamper-bkt")
        .key("big.bin")
        .body(ByteStream::from_path(&big).await.expect("from_path"))
        .customize()
        .interceptor(Tamper {
            marker: b"\r\n",
            replace: flip_low_bit,
        })
        .send()
        .await
        .expect_err("tampered 3 MiB upload");
    assert_eq!(
        err.code(),
        Some("SignatureDoesNotMatch"),
        "{}",
        DisplayErrorContext(&err)
    );
    assert_eq!(
        error_code(
            c.head_object()
                .bucket("tamper-bkt")
                .key("big.bin")
                .send()
                .await
        ),
        "NotFound"
    );

    // The same upload untampered goes through (the interceptor is what broke it).
    c.put_object()
        .bucket("tamper-bkt")
        .key("t.bin")
        .body(ByteStream::from_path(&path).await.expect("from_path"))
        .customize()
        .interceptor(Tamper {
            marker: b"no such marker in the body",
            replace: flip_low_bit,
        })
        .send()
        .await
        .unwrap_or_else(|e| panic!("untampered PutObject: {}", DisplayErrorContext(&e)));
    assert_eq!(get_bytes(&c, "tamper-bkt", "t.bin").await, body);
}

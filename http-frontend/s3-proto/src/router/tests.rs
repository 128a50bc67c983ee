use super::{
    Operation, QueryParams, Route, RouteHeaders, bucket_from_host, form_data_content_type,
    parse_part_number, route_with,
};
use crate::error::S3ErrorCode;
use Operation as Op;

/// Routes one request; `copy` says whether `x-amz-copy-source` is present. Every request
/// carries a form Content-Type, which only a bucket POST reads (see `post_object_needs_form`).
fn classify(method: &str, target: &str, copy: bool) -> Result<Route, S3ErrorCode> {
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    let query = QueryParams::parse(raw_query).map_err(|err| err.code)?;
    let headers = RouteHeaders {
        has_copy_source_header: copy,
        content_type: Some(b"multipart/form-data; boundary=b"),
        host_bucket: None,
    };
    route_with(method, raw_path, &query, &headers).map_err(|err| err.code)
}

/// BAD-INPUTS Z9: one reading of Content-Type decides PostObject.
#[test]
fn post_object_needs_form() {
    let query = QueryParams::parse("").unwrap();
    let post = |content_type: Option<&'static [u8]>| {
        let headers = RouteHeaders {
            content_type,
            ..RouteHeaders::default()
        };
        route_with("POST", "/bkt", &query, &headers).map(|route| route.operation)
    };
    for good in [
        &b"multipart/form-data; boundary=abc"[..],
        b"MULTIPART/FORM-DATA; boundary=abc",
        b"multipart/form-data",
        b" multipart/form-data ;boundary=\"a b\"",
    ] {
        assert_eq!(post(Some(good)), Ok(Op::PostObject), "{good:?}");
    }
    for bad in [
        &b"multipart/form-data-evil; boundary=abc"[..],
        b"text/plain; multipart/form-data",
        b"multipart/mixed; boundary=abc",
        b"application/x-www-form-urlencoded",
        b"",
    ] {
        let code = post(Some(bad)).map_err(|err| err.code);
        assert_eq!(code, Err(S3ErrorCode::PreconditionFailed), "{bad:?}");
    }
    let code = post(None).map_err(|err| err.code);
    assert_eq!(code, Err(S3ErrorCode::PreconditionFailed));
    let parsed = form_data_content_type(b"multipart/form-data; boundary=\"a b\"").unwrap();
    assert_eq!(parsed.boundary.as_deref(), Some("a b"));
    let parsed = form_data_content_type(b"multipart/form-data").unwrap();
    assert_eq!(parsed.boundary, None);
}

#[test]
fn virtual_host_addressing() {
    let domains = vec!["s3.local".to_owned(), "example.com".to_owned()];
    assert_eq!(bucket_from_host("bkt.s3.local:9000", &domains), Some("bkt"));
    assert_eq!(bucket_from_host("bkt.S3.LOCAL", &domains), Some("bkt"));
    assert_eq!(bucket_from_host("a.b.s3.local", &domains), Some("a.b"));
    assert_eq!(
        bucket_from_host("bkt.s3.example.com", &domains),
        Some("bkt.s3")
    );
    for path_style in [
        "s3.local:9000",
        "127.0.0.1:9000",
        "[::1]:9000",
        "xs3.local",
        "other",
    ] {
        assert_eq!(bucket_from_host(path_style, &domains), None, "{path_style}");
    }
    let query = QueryParams::parse("").unwrap();
    let headers = RouteHeaders {
        host_bucket: Some("bkt"),
        ..RouteHeaders::default()
    };
    let route = route_with("GET", "/a/b%20c", &query, &headers).unwrap();
    assert_eq!(route.operation, Op::GetObject);
    assert_eq!(route.bucket.as_deref(), Some("bkt"));
    assert_eq!(route.key.as_deref(), Some("a/b c"));
    let route = route_with("GET", "/", &query, &headers).unwrap();
    assert_eq!(route.operation, Op::ListObjects);
    assert_eq!(route.key, None);
    let route = route_with("GET", "//x", &query, &headers).unwrap();
    assert_eq!(route.key.as_deref(), Some("/x"));
    let bad = RouteHeaders {
        host_bucket: Some("Bad_Bucket"),
        ..RouteHeaders::default()
    };
    let code = route_with("GET", "/", &query, &bad).map_err(|err| err.code);
    assert_eq!(code.unwrap_err(), S3ErrorCode::InvalidBucketName);
}

fn check(method: &str, target: &str, copy: bool, expected: Operation) {
    match classify(method, target, copy) {
        Ok(route) => assert_eq!(route.operation, expected, "{method} {target}"),
        Err(code) => panic!("{method} {target}: expected {expected:?}, got error {code:?}"),
    }
}

fn check_error(method: &str, target: &str, expected: S3ErrorCode) {
    assert_eq!(
        classify(method, target, false).map(|r| r.operation),
        Err(expected),
        "{method} {target}"
    );
}

/// One line per operation: (method, target, has x-amz-copy-source, expected operation).
const ROUTES: &[(&str, &str, bool, Operation)] = &[
    ("GET", "/", false, Op::ListBuckets),
    ("POST", "/", false, Op::SecurityTokenService),
    ("HEAD", "/", false, Op::ListBuckets),
    ("PUT", "/bkt", false, Op::CreateBucket),
    ("DELETE", "/bkt", false, Op::DeleteBucket),
    ("HEAD", "/bkt", false, Op::HeadBucket),
    ("GET", "/bkt?location", false, Op::GetBucketLocation),
    ("GET", "/bkt", false, Op::ListObjects),
    ("GET", "/bkt?list-type=2", false, Op::ListObjectsV2),
    ("GET", "/bkt?versions", false, Op::ListObjectVersions),
    ("GET", "/bkt?uploads", false, Op::ListMultipartUploads),
    ("POST", "/bkt?delete", false, Op::DeleteObjects),
    ("POST", "/bkt", false, Op::PostObject),
    ("GET", "/bkt?session", false, Op::CreateSession),
    ("GET", "/bkt?acl", false, Op::GetBucketAcl),
    ("PUT", "/bkt?acl", false, Op::PutBucketAcl),
    ("GET", "/bkt?policy", false, Op::GetBucketPolicy),
    ("PUT", "/bkt?policy", false, Op::PutBucketPolicy),
    ("DELETE", "/bkt?policy", false, Op::DeleteBucketPolicy),
    ("GET", "/bkt?policyStatus", false, Op::GetBucketPolicyStatus),
    ("GET", "/bkt?cors", false, Op::GetBucketCors),
    ("PUT", "/bkt?cors", false, Op::PutBucketCors),
    ("DELETE", "/bkt?cors", false, Op::DeleteBucketCors),
    (
        "GET",
        "/bkt?lifecycle",
        false,
        Op::GetBucketLifecycleConfiguration,
    ),
    (
        "PUT",
        "/bkt?lifecycle",
        false,
        Op::PutBucketLifecycleConfiguration,
    ),
    ("DELETE", "/bkt?lifecycle", false, Op::DeleteBucketLifecycle),
    ("GET", "/bkt?versioning", false, Op::GetBucketVersioning),
    ("PUT", "/bkt?versioning", false, Op::PutBucketVersioning),
    ("GET", "/bkt?encryption", false, Op::GetBucketEncryption),
    ("PUT", "/bkt?encryption", false, Op::PutBucketEncryption),
    (
        "DELETE",
        "/bkt?encryption",
        false,
        Op::DeleteBucketEncryption,
    ),
    (
        "GET",
        "/bkt?object-lock",
        false,
        Op::GetObjectLockConfiguration,
    ),
    (
        "PUT",
        "/bkt?object-lock",
        false,
        Op::PutObjectLockConfiguration,
    ),
    ("GET", "/bkt?tagging", false, Op::GetBucketTagging),
    ("PUT", "/bkt?tagging", false, Op::PutBucketTagging),
    ("DELETE", "/bkt?tagging", false, Op::DeleteBucketTagging),
    (
        "GET",
        "/bkt?notification",
        false,
        Op::GetBucketNotificationConfiguration,
    ),
    (
        "PUT",
        "/bkt?notification",
        false,
        Op::PutBucketNotificationConfiguration,
    ),
    ("GET", "/bkt?replication", false, Op::GetBucketReplication),
    ("PUT", "/bkt?replication", false, Op::PutBucketReplication),
    (
        "DELETE",
        "/bkt?replication",
        false,
        Op::DeleteBucketReplication,
    ),
    ("GET", "/bkt?website", false, Op::GetBucketWebsite),
    ("PUT", "/bkt?website", false, Op::PutBucketWebsite),
    ("DELETE", "/bkt?website", false, Op::DeleteBucketWebsite),
    ("GET", "/bkt?logging", false, Op::GetBucketLogging),
    ("PUT", "/bkt?logging", false, Op::PutBucketLogging),
    (
        "GET",
        "/bkt?ownershipControls",
        false,
        Op::GetBucketOwnershipControls,
    ),
    (
        "PUT",
        "/bkt?ownershipControls",
        false,
        Op::PutBucketOwnershipControls,
    ),
    (
        "DELETE",
        "/bkt?ownershipControls",
        false,
        Op::DeleteBucketOwnershipControls,
    ),
    (
        "GET",
        "/bkt?publicAccessBlock",
        false,
        Op::GetPublicAccessBlock,
    ),
    (
        "PUT",
        "/bkt?publicAccessBlock",
        false,
        Op::PutPublicAccessBlock,
    ),
    (
        "DELETE",
        "/bkt?publicAccessBlock",
        false,
        Op::DeletePublicAccessBlock,
    ),
    (
        "GET",
        "/bkt?accelerate",
        false,
        Op::GetBucketAccelerateConfiguration,
    ),
    (
        "PUT",
        "/bkt?accelerate",
        false,
        Op::PutBucketAccelerateConfiguration,
    ),
    (
        "GET",
        "/bkt?requestPayment",
        false,
        Op::GetBucketRequestPayment,
    ),
    (
        "PUT",
        "/bkt?requestPayment",
        false,
        Op::PutBucketRequestPayment,
    ),
    (
        "GET",
        "/bkt?analytics&id=a",
        false,
        Op::GetBucketAnalyticsConfiguration,
    ),
    (
        "PUT",
        "/bkt?analytics&id=a",
        false,
        Op::PutBucketAnalyticsConfiguration,
    ),
    (
        "DELETE",
        "/bkt?analytics&id=a",
        false,
        Op::DeleteBucketAnalyticsConfiguration,
    ),
    (
        "GET",
        "/bkt?analytics",
        false,
        Op::ListBucketAnalyticsConfigurations,
    ),
    (
        "GET",
        "/bkt?inventory&id=a",
        false,
        Op::GetBucketInventoryConfiguration,
    ),
    (
        "PUT",
        "/bkt?inventory&id=a",
        false,
        Op::PutBucketInventoryConfiguration,
    ),
    (
        "DELETE",
        "/bkt?inventory&id=a",
        false,
        Op::DeleteBucketInventoryConfiguration,
    ),
    (
        "GET",
        "/bkt?inventory",
        false,
        Op::ListBucketInventoryConfigurations,
    ),
    (
        "GET",
        "/bkt?metrics&id=a",
        false,
        Op::GetBucketMetricsConfiguration,
    ),
    (
        "PUT",
        "/bkt?metrics&id=a",
        false,
        Op::PutBucketMetricsConfiguration,
    ),
    (
        "DELETE",
        "/bkt?metrics&id=a",
        false,
        Op::DeleteBucketMetricsConfiguration,
    ),
    (
        "GET",
        "/bkt?metrics",
        false,
        Op::ListBucketMetricsConfigurations,
    ),
    (
        "GET",
        "/bkt?intelligent-tiering&id=a",
        false,
        Op::GetBucketIntelligentTieringConfiguration,
    ),
    (
        "PUT",
        "/bkt?intelligent-tiering&id=a",
        false,
        Op::PutBucketIntelligentTieringConfiguration,
    ),
    (
        "DELETE",
        "/bkt?intelligent-tiering&id=a",
        false,
        Op::DeleteBucketIntelligentTieringConfiguration,
    ),
    (
        "GET",
        "/bkt?intelligent-tiering",
        false,
        Op::ListBucketIntelligentTieringConfigurations,
    ),
    (
        "POST",
        "/bkt?metadataTable",
        false,
        Op::CreateBucketMetadataTableConfiguration,
    ),
    (
        "GET",
        "/bkt?metadataTable",
        false,
        Op::GetBucketMetadataTableConfiguration,
    ),
    (
        "DELETE",
        "/bkt?metadataTable",
        false,
        Op::DeleteBucketMetadataTableConfiguration,
    ),
    (
        "POST",
        "/bkt?metadataConfiguration",
        false,
        Op::CreateBucketMetadataConfiguration,
    ),
    (
        "GET",
        "/bkt?metadataConfiguration",
        false,
        Op::GetBucketMetadataConfiguration,
    ),
    (
        "DELETE",
        "/bkt?metadataConfiguration",
        false,
        Op::DeleteBucketMetadataConfiguration,
    ),
    (
        "PUT",
        "/bkt?metadataInventoryTable",
        false,
        Op::UpdateBucketMetadataInventoryTableConfiguration,
    ),
    (
        "PUT",
        "/bkt?metadataJournalTable",
        false,
        Op::UpdateBucketMetadataJournalTableConfiguration,
    ),
    ("GET", "/bkt/key", false, Op::GetObject),
    ("HEAD", "/bkt/key", false, Op::HeadObject),
    ("PUT", "/bkt/key", false, Op::PutObject),
    ("PUT", "/bkt/key", true, Op::CopyObject),
    ("DELETE", "/bkt/key", false, Op::DeleteObject),
    ("PUT", "/bkt/key?renameObject", false, Op::RenameObject),
    (
        "PUT",
        "/bkt/key?encryption",
        false,
        Op::UpdateObjectEncryption,
    ),
    ("GET", "/bkt?abac", false, Op::GetBucketAbac),
    ("PUT", "/bkt?abac", false, Op::PutBucketAbac),
    ("GET", "/bkt/key?acl", false, Op::GetObjectAcl),
    ("PUT", "/bkt/key?acl", false, Op::PutObjectAcl),
    ("GET", "/bkt/key?tagging", false, Op::GetObjectTagging),
    ("PUT", "/bkt/key?tagging", false, Op::PutObjectTagging),
    ("DELETE", "/bkt/key?tagging", false, Op::DeleteObjectTagging),
    ("GET", "/bkt/key?retention", false, Op::GetObjectRetention),
    ("PUT", "/bkt/key?retention", false, Op::PutObjectRetention),
    ("GET", "/bkt/key?legal-hold", false, Op::GetObjectLegalHold),
    ("PUT", "/bkt/key?legal-hold", false, Op::PutObjectLegalHold),
    ("GET", "/bkt/key?attributes", false, Op::GetObjectAttributes),
    ("GET", "/bkt/key?torrent", false, Op::GetObjectTorrent),
    ("POST", "/bkt/key?restore", false, Op::RestoreObject),
    (
        "POST",
        "/bkt/key?select&select-type=2",
        false,
        Op::SelectObjectContent,
    ),
    ("OPTIONS", "/bkt/key", false, Op::OptionsObject),
    (
        "POST",
        "/WriteGetObjectResponse",
        false,
        Op::WriteGetObjectResponse,
    ),
    ("POST", "/bkt/key?uploads", false, Op::CreateMultipartUpload),
    (
        "PUT",
        "/bkt/key?partNumber=1&uploadId=u1",
        false,
        Op::UploadPart,
    ),
    (
        "PUT",
        "/bkt/key?partNumber=1&uploadId=u1",
        true,
        Op::UploadPartCopy,
    ),
    (
        "POST",
        "/bkt/key?uploadId=u1",
        false,
        Op::CompleteMultipartUpload,
    ),
    (
        "DELETE",
        "/bkt/key?uploadId=u1",
        false,
        Op::AbortMultipartUpload,
    ),
    ("GET", "/bkt/key?uploadId=u1", false, Op::ListParts),
];

#[test]
fn every_operation_is_reachable() {
    let table = ROUTES;
    for (method, target, copy, expected) in table {
        check(method, target, *copy, *expected);
    }
    for operation in Operation::ALL {
        assert!(
            table
                .iter()
                .any(|(_, _, _, expected)| expected == operation),
            "{operation:?} has no routing test"
        );
        assert_eq!(operation.as_str(), format!("{operation:?}"));
    }
}

#[test]
fn client_quirks_route_like_aws() {
    // restic: GetBucketLocation with trailing slash and empty value.
    check("GET", "/bkt/?location=", false, Op::GetBucketLocation);
    // rclone: ListObjects v1 with empty delimiter.
    check(
        "GET",
        "/bkt?delimiter=&max-keys=1000&prefix=",
        false,
        Op::ListObjects,
    );
    // s3cmd: trailing slash on bucket operations.
    check("GET", "/bkt/?delimiter=%2F", false, Op::ListObjects);
    check("PUT", "/bkt/", false, Op::CreateBucket);
    // boto3: ListObjectsV2 with encoding-type=url.
    check(
        "GET",
        "/bkt?list-type=2&prefix=a%2F&delimiter=%2F&encoding-type=url",
        false,
        Op::ListObjectsV2,
    );
    // restic: fetch-owner.
    check(
        "GET",
        "/bkt/?list-type=2&fetch-owner=true&encoding-type=url",
        false,
        Op::ListObjectsV2,
    );
    // aws-sdk-rust / JS v3: x-id never changes the operation.
    check(
        "PUT",
        "/rust-bkt/?x-id=CreateBucket",
        false,
        Op::CreateBucket,
    );
    check("PUT", "/bkt/key?x-id=PutObject", false, Op::PutObject);
    check("GET", "/bkt/key?x-id=GetObject", false, Op::GetObject);
    check(
        "POST",
        "/bkt?delete&x-id=DeleteObjects",
        false,
        Op::DeleteObjects,
    );
    check(
        "PUT",
        "/bkt/key?x-id=UploadPart&partNumber=2&uploadId=u",
        false,
        Op::UploadPart,
    );
    // Other non-subresource parameters.
    check("GET", "/bkt/key?versionId=v1", false, Op::GetObject);
    check("DELETE", "/bkt/key?versionId=v1", false, Op::DeleteObject);
    check(
        "GET",
        "/bkt/key?response-content-type=text%2Fplain",
        false,
        Op::GetObject,
    );
    check("GET", "/bkt/key?partNumber=3", false, Op::GetObject);
    check("HEAD", "/bkt/key?partNumber=3", false, Op::HeadObject);
    check(
        "GET",
        "/bkt/key?tagging&versionId=v1",
        false,
        Op::GetObjectTagging,
    );
    check(
        "GET",
        "/bkt/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=60&X-Amz-Signature=ab",
        false,
        Op::GetObject,
    );
    // Bucket-level subresource names on an object path are plain parameters (as in AWS).
    check("GET", "/bkt/key?versioning", false, Op::GetObject);
    // list-type other than 2 is v1.
    check("GET", "/bkt?list-type=1", false, Op::ListObjects);
}

#[test]
fn paths_decode_exactly_once() {
    let route = classify("GET", "/bkt/a%2Fb%252e%20c+d", false).unwrap();
    assert_eq!(route.bucket.as_deref(), Some("bkt"));
    assert_eq!(route.key.as_deref(), Some("a/b%2e c+d"));
    let route = classify("GET", "/bkt/%2e%2e%2f%2e%2e%2fetc", false).unwrap();
    assert_eq!(route.key.as_deref(), Some("../../etc"));
    let route = classify("GET", "/bkt//", false).unwrap();
    assert_eq!(route.key.as_deref(), Some("/"));
    let route = classify("GET", "/bkt/dir/", false).unwrap();
    assert_eq!(route.key.as_deref(), Some("dir/"));
    let route = classify("GET", "/bkt/%E6%97%A5%E6%9C%AC", false).unwrap();
    assert_eq!(route.key.as_deref(), Some("日本"));
    let route = classify("GET", "/bkt", false).unwrap();
    assert_eq!((route.bucket.as_deref(), route.key), (Some("bkt"), None));
}

#[test]
fn bad_paths_are_rejected() {
    check_error("GET", "bkt/key", S3ErrorCode::InvalidURI);
    check_error("PUT", "../b/k", S3ErrorCode::InvalidURI);
    check_error("GET", "", S3ErrorCode::InvalidURI);
    check_error("GET", "/bkt/%c0%ae", S3ErrorCode::InvalidURI);
    check_error("GET", "/bkt/%zz", S3ErrorCode::InvalidURI);
    check_error("GET", "/bkt/abc%2", S3ErrorCode::InvalidURI);
    check_error("GET", "/bkt/%ff", S3ErrorCode::InvalidURI);
    check_error("GET", "/bkt/a%00b", S3ErrorCode::InvalidArgument);
    check_error("PUT", "/../b/k", S3ErrorCode::InvalidBucketName);
    check_error("PUT", "/./k", S3ErrorCode::InvalidBucketName);
    check_error("PUT", "/%2e%2e/k", S3ErrorCode::InvalidBucketName);
    check_error("PUT", "/bk%2Ft/k", S3ErrorCode::InvalidBucketName);
    check_error("PUT", "/Bucket", S3ErrorCode::InvalidBucketName);
    check_error("PUT", "/ab", S3ErrorCode::InvalidBucketName);
    check_error("PUT", "/192.168.1.1", S3ErrorCode::InvalidBucketName);
    check_error("PUT", "/xn--abc", S3ErrorCode::InvalidBucketName);
    check_error("GET", "//key", S3ErrorCode::InvalidBucketName);
    check_error(
        "GET",
        "/WriteGetObjectResponse",
        S3ErrorCode::InvalidBucketName,
    );
    let long_key = format!("/bkt/{}", "k".repeat(1025));
    check_error("PUT", &long_key, S3ErrorCode::KeyTooLongError);
    let max_key = format!("/bkt/{}", "k".repeat(1024));
    check("PUT", &max_key, false, Operation::PutObject);
}

#[test]
fn wrong_methods_are_method_not_allowed() {
    for (method, target) in [
        ("PATCH", "/bkt/key"),
        ("get", "/bkt/key"),
        ("PUT", "/"),
        ("DELETE", "/"),
        ("POST", "/bkt/key"),
        ("DELETE", "/bkt?versioning"),
        ("DELETE", "/bkt?acl"),
        ("DELETE", "/bkt?location"),
        ("PUT", "/bkt?location"),
        ("POST", "/bkt?uploads"),
        ("GET", "/bkt?delete"),
        ("DELETE", "/bkt?uploadId=u"),
        ("GET", "/bkt?retention"),
        ("HEAD", "/bkt/key?uploadId=u"),
        ("GET", "/bkt/key?uploads"),
        ("DELETE", "/bkt/key?acl"),
        ("GET", "/bkt/key?restore"),
    ] {
        check_error(method, target, S3ErrorCode::MethodNotAllowed);
    }
}

#[test]
fn ambiguous_or_incomplete_subresources_are_rejected() {
    check_error("GET", "/bkt?acl&policy", S3ErrorCode::InvalidRequest);
    check_error(
        "DELETE",
        "/bkt/key?uploadId=u&tagging",
        S3ErrorCode::InvalidRequest,
    );
    check_error("PUT", "/bkt/key?uploadId=u", S3ErrorCode::InvalidArgument);
    check_error("POST", "/bkt/key?select", S3ErrorCode::InvalidArgument);
    check_error(
        "GET",
        "/bkt?prefix=a&prefix=b",
        S3ErrorCode::InvalidArgument,
    );
}

#[test]
fn query_params_decode_names_and_values() {
    let query =
        QueryParams::parse("prefix=a%2Fb+c%2B&delimiter=&uploads&&x-id=GetObject&").unwrap();
    assert_eq!(query.get("prefix"), Some("a/b c+"));
    assert_eq!(query.get("delimiter"), Some(""));
    assert_eq!(query.get("uploads"), Some(""));
    assert!(query.has("uploads"));
    assert!(!query.has("Uploads"));
    assert_eq!(query.get("missing"), None);
    assert_eq!(query.len(), 4);
    let names: Vec<&str> = query.iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["prefix", "delimiter", "uploads", "x-id"]);
    let query = QueryParams::parse("a=b=c").unwrap();
    assert_eq!(query.get("a"), Some("b=c"));
    assert!(QueryParams::parse("").unwrap().is_empty());
}

#[test]
fn query_params_are_bounded() {
    let many: Vec<String> = (0..101).map(|idx| format!("p{idx}=1")).collect();
    assert_eq!(
        QueryParams::parse(&many.join("&")).unwrap_err().code,
        S3ErrorCode::InvalidURI
    );
    assert_eq!(
        QueryParams::parse(&many[..100].join("&")).unwrap().len(),
        100
    );
    let long = format!("prefix={}", "a".repeat(16 * 1024));
    assert_eq!(
        QueryParams::parse(&long).unwrap_err().code,
        S3ErrorCode::InvalidURI
    );
    assert_eq!(
        QueryParams::parse("a=%zz").unwrap_err().code,
        S3ErrorCode::InvalidURI
    );
    assert_eq!(
        QueryParams::parse("a=%ff").unwrap_err().code,
        S3ErrorCode::InvalidURI
    );
}

#[test]
fn part_numbers_are_1_to_10000_digits_only() {
    assert_eq!(parse_part_number("1").unwrap(), 1);
    assert_eq!(parse_part_number("10000").unwrap(), 10_000);
    assert_eq!(parse_part_number("00007").unwrap(), 7);
    for bad in [
        "0",
        "10001",
        "-1",
        "+1",
        "1e3",
        "0x10",
        "",
        " 1",
        "99999999999",
    ] {
        let err = parse_part_number(bad).unwrap_err();
        assert_eq!(err.code, S3ErrorCode::InvalidArgument, "{bad:?}");
    }
}

use super::{ResourceType, S3_ACTIONS, known_actions, s3_action};

#[test]
fn table_is_sorted_for_binary_search() {
    for pair in S3_ACTIONS.windows(2) {
        assert!(pair[0].operation < pair[1].operation, "{pair:?}");
    }
}

fn check(operation: &str, with_version_id: bool, action: &str, resource: ResourceType) {
    assert_eq!(
        s3_action(operation, with_version_id),
        Some((action, resource)),
        "{operation} (versionId: {with_version_id})"
    );
}

#[test]
fn object_operations_map_to_aws_actions() {
    let object = ResourceType::Object;
    check("GetObject", false, "s3:GetObject", object);
    check("GetObject", true, "s3:GetObjectVersion", object);
    check("HeadObject", true, "s3:GetObjectVersion", object);
    check("PutObject", false, "s3:PutObject", object);
    check("UploadPart", false, "s3:PutObject", object);
    check("UploadPartCopy", false, "s3:PutObject", object);
    check("CompleteMultipartUpload", false, "s3:PutObject", object);
    check("ListParts", false, "s3:ListMultipartUploadParts", object);
    check(
        "AbortMultipartUpload",
        false,
        "s3:AbortMultipartUpload",
        object,
    );
    check("DeleteObject", true, "s3:DeleteObjectVersion", object);
    check("DeleteObjects", false, "s3:DeleteObject", object);
    check(
        "GetObjectAttributes",
        false,
        "s3:GetObjectAttributes",
        object,
    );
    check(
        "GetObjectAttributes",
        true,
        "s3:GetObjectVersionAttributes",
        object,
    );
    check("PutObjectRetention", false, "s3:PutObjectRetention", object);
    check(
        "PutObjectTagging",
        true,
        "s3:PutObjectVersionTagging",
        object,
    );
    // Operations without a version variant keep their action with a versionId.
    check("GetObjectRetention", true, "s3:GetObjectRetention", object);
}

#[test]
fn bucket_operations_map_to_aws_actions() {
    let bucket = ResourceType::Bucket;
    check("ListObjects", false, "s3:ListBucket", bucket);
    check("ListObjectsV2", false, "s3:ListBucket", bucket);
    check("ListObjectVersions", false, "s3:ListBucketVersions", bucket);
    check(
        "ListMultipartUploads",
        false,
        "s3:ListBucketMultipartUploads",
        bucket,
    );
    check("PutBucketPolicy", false, "s3:PutBucketPolicy", bucket);
    check(
        "GetBucketLifecycleConfiguration",
        false,
        "s3:GetLifecycleConfiguration",
        bucket,
    );
    check(
        "DeleteBucketLifecycle",
        false,
        "s3:PutLifecycleConfiguration",
        bucket,
    );
    check(
        "PutBucketEncryption",
        false,
        "s3:PutEncryptionConfiguration",
        bucket,
    );
    check(
        "PutObjectLockConfiguration",
        false,
        "s3:PutBucketObjectLockConfiguration",
        bucket,
    );
    check(
        "GetBucketVersioning",
        false,
        "s3:GetBucketVersioning",
        bucket,
    );
    check("HeadBucket", false, "s3:ListBucket", bucket);
    check("GetBucketCors", false, "s3:GetBucketCORS", bucket);
    check(
        "ListBuckets",
        false,
        "s3:ListAllMyBuckets",
        ResourceType::Account,
    );
}

#[test]
fn unknown_operation_has_no_action() {
    assert_eq!(s3_action("GetObjekt", false), None);
    assert_eq!(s3_action("getobject", false), None);
}

#[test]
fn every_action_is_well_formed() {
    for (action, _) in known_actions() {
        let name = action.strip_prefix("s3:").expect("S3 action");
        assert!(name.bytes().all(|b| b.is_ascii_alphanumeric()), "{action}");
    }
    assert!(known_actions().any(|(action, _)| action == super::BYPASS_GOVERNANCE_RETENTION));
}

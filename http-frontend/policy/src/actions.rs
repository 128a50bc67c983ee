//! S3 operations (as botocore names them) and the IAM action each needs, with the resource
//! the action is checked against, after AWS's Service Authorization Reference for Amazon S3
//! ("Actions defined by Amazon S3") and the S3 user guide's operation-to-permission table.
//!
//! The table gives one action per operation: the one checked against the operation's own
//! resource. Some operations need more, which the server asks as separate questions:
//! - CopyObject and UploadPartCopy: also `s3:GetObject` (`s3:GetObjectVersion` with a
//!   source versionId) on the source object;
//! - PutObject / CopyObject / CreateMultipartUpload with `x-amz-tagging`: also
//!   `s3:PutObjectTagging`; with an ACL header: also `s3:PutObjectAcl`;
//! - DeleteObjects: `s3:DeleteObject` (or `s3:DeleteObjectVersion`) per listed key, on that
//!   key's object ARN;
//! - a write or delete with `x-amz-bypass-governance-retention: true` that lifts governance
//!   mode: also `BYPASS_GOVERNANCE_RETENTION` on the object.

/// What an action's Resource element names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// `arn:aws:s3:::<bucket>`.
    Bucket,
    /// `arn:aws:s3:::<bucket>/<key>`.
    Object,
    /// No bucket: `*` (ListBuckets).
    Account,
}

/// One S3 operation and the IAM action it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S3Action {
    /// The operation as botocore spells it: `ListObjectsV2`.
    pub operation: &'static str,
    /// The IAM action: `s3:ListBucket`.
    pub action: &'static str,
    /// The action when the request names a versionId (`s3:GetObjectVersion`), if different.
    pub version_action: Option<&'static str>,
    pub resource: ResourceType,
}

pub const BYPASS_GOVERNANCE_RETENTION: &str = "s3:BypassGovernanceRetention";

const fn op(operation: &'static str, action: &'static str, resource: ResourceType) -> S3Action {
    S3Action {
        operation,
        action,
        version_action: None,
        resource,
    }
}

/// An object operation whose action changes when a versionId is given.
const fn versioned(
    operation: &'static str,
    action: &'static str,
    version_action: &'static str,
) -> S3Action {
    S3Action {
        operation,
        action,
        version_action: Some(version_action),
        resource: ResourceType::Object,
    }
}

use ResourceType::{Account, Bucket, Object};

/// Every S3 operation of the REST API (general purpose buckets), sorted by name.
pub const S3_ACTIONS: &[S3Action] = &[
    op("AbortMultipartUpload", "s3:AbortMultipartUpload", Object),
    op("CompleteMultipartUpload", "s3:PutObject", Object),
    op("CopyObject", "s3:PutObject", Object),
    op("CreateBucket", "s3:CreateBucket", Bucket),
    op("CreateMultipartUpload", "s3:PutObject", Object),
    op("DeleteBucket", "s3:DeleteBucket", Bucket),
    op(
        "DeleteBucketAnalyticsConfiguration",
        "s3:PutAnalyticsConfiguration",
        Bucket,
    ),
    op("DeleteBucketCors", "s3:PutBucketCORS", Bucket),
    op(
        "DeleteBucketEncryption",
        "s3:PutEncryptionConfiguration",
        Bucket,
    ),
    op(
        "DeleteBucketIntelligentTieringConfiguration",
        "s3:PutIntelligentTieringConfiguration",
        Bucket,
    ),
    op(
        "DeleteBucketInventoryConfiguration",
        "s3:PutInventoryConfiguration",
        Bucket,
    ),
    op(
        "DeleteBucketLifecycle",
        "s3:PutLifecycleConfiguration",
        Bucket,
    ),
    op(
        "DeleteBucketMetricsConfiguration",
        "s3:PutMetricsConfiguration",
        Bucket,
    ),
    op(
        "DeleteBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
        Bucket,
    ),
    op("DeleteBucketPolicy", "s3:DeleteBucketPolicy", Bucket),
    op(
        "DeleteBucketReplication",
        "s3:PutReplicationConfiguration",
        Bucket,
    ),
    op("DeleteBucketTagging", "s3:PutBucketTagging", Bucket),
    op("DeleteBucketWebsite", "s3:DeleteBucketWebsite", Bucket),
    versioned("DeleteObject", "s3:DeleteObject", "s3:DeleteObjectVersion"),
    versioned(
        "DeleteObjectTagging",
        "s3:DeleteObjectTagging",
        "s3:DeleteObjectVersionTagging",
    ),
    versioned("DeleteObjects", "s3:DeleteObject", "s3:DeleteObjectVersion"),
    op(
        "DeletePublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        Bucket,
    ),
    op(
        "GetBucketAccelerateConfiguration",
        "s3:GetAccelerateConfiguration",
        Bucket,
    ),
    op("GetBucketAcl", "s3:GetBucketAcl", Bucket),
    op(
        "GetBucketAnalyticsConfiguration",
        "s3:GetAnalyticsConfiguration",
        Bucket,
    ),
    op("GetBucketCors", "s3:GetBucketCORS", Bucket),
    op(
        "GetBucketEncryption",
        "s3:GetEncryptionConfiguration",
        Bucket,
    ),
    op(
        "GetBucketIntelligentTieringConfiguration",
        "s3:GetIntelligentTieringConfiguration",
        Bucket,
    ),
    op(
        "GetBucketInventoryConfiguration",
        "s3:GetInventoryConfiguration",
        Bucket,
    ),
    op("GetBucketLifecycle", "s3:GetLifecycleConfiguration", Bucket),
    op(
        "GetBucketLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
        Bucket,
    ),
    op("GetBucketLocation", "s3:GetBucketLocation", Bucket),
    op("GetBucketLogging", "s3:GetBucketLogging", Bucket),
    op(
        "GetBucketMetricsConfiguration",
        "s3:GetMetricsConfiguration",
        Bucket,
    ),
    op("GetBucketNotification", "s3:GetBucketNotification", Bucket),
    op(
        "GetBucketNotificationConfiguration",
        "s3:GetBucketNotification",
        Bucket,
    ),
    op(
        "GetBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
        Bucket,
    ),
    op("GetBucketPolicy", "s3:GetBucketPolicy", Bucket),
    op("GetBucketPolicyStatus", "s3:GetBucketPolicyStatus", Bucket),
    op(
        "GetBucketReplication",
        "s3:GetReplicationConfiguration",
        Bucket,
    ),
    op(
        "GetBucketRequestPayment",
        "s3:GetBucketRequestPayment",
        Bucket,
    ),
    op("GetBucketTagging", "s3:GetBucketTagging", Bucket),
    op("GetBucketVersioning", "s3:GetBucketVersioning", Bucket),
    op("GetBucketWebsite", "s3:GetBucketWebsite", Bucket),
    versioned("GetObject", "s3:GetObject", "s3:GetObjectVersion"),
    versioned("GetObjectAcl", "s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    versioned(
        "GetObjectAttributes",
        "s3:GetObjectAttributes",
        "s3:GetObjectVersionAttributes",
    ),
    op("GetObjectLegalHold", "s3:GetObjectLegalHold", Object),
    op(
        "GetObjectLockConfiguration",
        "s3:GetBucketObjectLockConfiguration",
        Bucket,
    ),
    op("GetObjectRetention", "s3:GetObjectRetention", Object),
    versioned(
        "GetObjectTagging",
        "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging",
    ),
    versioned(
        "GetObjectTorrent",
        "s3:GetObjectTorrent",
        "s3:GetObjectVersionTorrent",
    ),
    op(
        "GetPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        Bucket,
    ),
    op("HeadBucket", "s3:ListBucket", Bucket),
    versioned("HeadObject", "s3:GetObject", "s3:GetObjectVersion"),
    op(
        "ListBucketAnalyticsConfigurations",
        "s3:GetAnalyticsConfiguration",
        Bucket,
    ),
    op(
        "ListBucketIntelligentTieringConfigurations",
        "s3:GetIntelligentTieringConfiguration",
        Bucket,
    ),
    op(
        "ListBucketInventoryConfigurations",
        "s3:GetInventoryConfiguration",
        Bucket,
    ),
    op(
        "ListBucketMetricsConfigurations",
        "s3:GetMetricsConfiguration",
        Bucket,
    ),
    op("ListBuckets", "s3:ListAllMyBuckets", Account),
    op(
        "ListMultipartUploads",
        "s3:ListBucketMultipartUploads",
        Bucket,
    ),
    op("ListObjectVersions", "s3:ListBucketVersions", Bucket),
    op("ListObjects", "s3:ListBucket", Bucket),
    op("ListObjectsV2", "s3:ListBucket", Bucket),
    op("ListParts", "s3:ListMultipartUploadParts", Object),
    op("PostObject", "s3:PutObject", Object),
    op(
        "PutBucketAccelerateConfiguration",
        "s3:PutAccelerateConfiguration",
        Bucket,
    ),
    op("PutBucketAcl", "s3:PutBucketAcl", Bucket),
    op(
        "PutBucketAnalyticsConfiguration",
        "s3:PutAnalyticsConfiguration",
        Bucket,
    ),
    op("PutBucketCors", "s3:PutBucketCORS", Bucket),
    op(
        "PutBucketEncryption",
        "s3:PutEncryptionConfiguration",
        Bucket,
    ),
    op(
        "PutBucketIntelligentTieringConfiguration",
        "s3:PutIntelligentTieringConfiguration",
        Bucket,
    ),
    op(
        "PutBucketInventoryConfiguration",
        "s3:PutInventoryConfiguration",
        Bucket,
    ),
    op("PutBucketLifecycle", "s3:PutLifecycleConfiguration", Bucket),
    op(
        "PutBucketLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
        Bucket,
    ),
    op("PutBucketLogging", "s3:PutBucketLogging", Bucket),
    op(
        "PutBucketMetricsConfiguration",
        "s3:PutMetricsConfiguration",
        Bucket,
    ),
    op("PutBucketNotification", "s3:PutBucketNotification", Bucket),
    op(
        "PutBucketNotificationConfiguration",
        "s3:PutBucketNotification",
        Bucket,
    ),
    op(
        "PutBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
        Bucket,
    ),
    op("PutBucketPolicy", "s3:PutBucketPolicy", Bucket),
    op(
        "PutBucketReplication",
        "s3:PutReplicationConfiguration",
        Bucket,
    ),
    op(
        "PutBucketRequestPayment",
        "s3:PutBucketRequestPayment",
        Bucket,
    ),
    op("PutBucketTagging", "s3:PutBucketTagging", Bucket),
    op("PutBucketVersioning", "s3:PutBucketVersioning", Bucket),
    op("PutBucketWebsite", "s3:PutBucketWebsite", Bucket),
    op("PutObject", "s3:PutObject", Object),
    versioned("PutObjectAcl", "s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    op("PutObjectLegalHold", "s3:PutObjectLegalHold", Object),
    op(
        "PutObjectLockConfiguration",
        "s3:PutBucketObjectLockConfiguration",
        Bucket,
    ),
    op("PutObjectRetention", "s3:PutObjectRetention", Object),
    versioned(
        "PutObjectTagging",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
    ),
    op(
        "PutPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        Bucket,
    ),
    op("RestoreObject", "s3:RestoreObject", Object),
    op("SelectObjectContent", "s3:GetObject", Object),
    op("UploadPart", "s3:PutObject", Object),
    op("UploadPartCopy", "s3:PutObject", Object),
];

/// IAM actions no operation above names as its primary action, and the resource each is
/// checked against: they are valid in policies too.
const OTHER_ACTIONS: &[(&str, ResourceType)] = &[
    (BYPASS_GOVERNANCE_RETENTION, Object),
    ("s3:GetObjectVersionForReplication", Object),
    ("s3:ObjectOwnerOverrideToBucketOwner", Object),
    ("s3:ReplicateDelete", Object),
    ("s3:ReplicateObject", Object),
    ("s3:ReplicateTags", Object),
    ("s3:ListAccessPoints", Account),
    ("s3:GetAccountPublicAccessBlock", Account),
    ("s3:PutAccountPublicAccessBlock", Account),
    ("s3:PutStorageLensConfiguration", Account),
    ("s3:CreateBucketMetadataTableConfiguration", Bucket),
    ("s3:GetBucketMetadataTableConfiguration", Bucket),
    ("s3:DeleteBucketMetadataTableConfiguration", Bucket),
    ("s3:InitiateReplication", Object),
];

/// The IAM action and resource type for `operation` (botocore name, exact case).
/// `with_version_id`: the request names a versionId.
pub fn s3_action(operation: &str, with_version_id: bool) -> Option<(&'static str, ResourceType)> {
    let entry = S3_ACTIONS
        .binary_search_by(|entry| entry.operation.cmp(operation))
        .ok()
        .map(|idx| &S3_ACTIONS[idx])?;
    let action = match entry.version_action {
        Some(version_action) if with_version_id => version_action,
        _ => entry.action,
    };
    Some((action, entry.resource))
}

/// Every known IAM action of S3 with its resource type (duplicates possible: several
/// operations share an action).
pub fn known_actions() -> impl Iterator<Item = (&'static str, ResourceType)> {
    let primary = S3_ACTIONS
        .iter()
        .map(|entry| (entry.action, entry.resource));
    let versions = S3_ACTIONS
        .iter()
        .filter_map(|entry| entry.version_action.map(|action| (action, entry.resource)));
    primary.chain(versions).chain(OTHER_ACTIONS.iter().copied())
}

#[cfg(test)]
mod tests;

//! Bucket configuration on the control channel: versioning, Object Lock and lifecycle as plain
//! data, and a page of object versions. The data plane converts these to and from its own
//! types (`base::object_lock`, `base::lifecycle`) and validates them there, so the rules are
//! the ones the S3 port applies; this crate only carries them (it does not depend on `base`).
//!
//! Shapes on the wire: snake_case fields; `null` for an absent optional field.

use serde::{Deserialize, Serialize};

/// Most versions one `ListVersions` returns, whatever the request's `max_keys` (S3's page).
pub const MAX_VERSIONS_PER_PAGE: u32 = 1000;

/// A bucket's versioning state once it was turned on (a bucket never returns to unversioned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VersioningStatus {
    Enabled,
    Suspended,
}

impl VersioningStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersioningStatus::Enabled => "Enabled",
            VersioningStatus::Suspended => "Suspended",
        }
    }
}

/// An Object Lock retention mode, spelled as S3 spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RetentionMode {
    Governance,
    Compliance,
}

impl RetentionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Governance => "GOVERNANCE",
            RetentionMode::Compliance => "COMPLIANCE",
        }
    }
}

/// A default retention's length: `{"days": n}` or `{"years": n}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionPeriod {
    Days(u32),
    Years(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultRetention {
    pub mode: RetentionMode,
    pub period: RetentionPeriod,
}

/// A bucket's Object Lock configuration: present means enabled (for good), with or without a
/// default retention applied to new versions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLock {
    #[serde(default)]
    pub default_retention: Option<DefaultRetention>,
}

/// A bucket's lifecycle rules, in the order given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub rules: Vec<LifecycleRule>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    /// Empty: the data plane assigns one (as S3 does) and answers it.
    #[serde(default)]
    pub id: String,
    pub enabled: bool,
    #[serde(default)]
    pub filter: LifecycleFilter,
    #[serde(default)]
    pub expiration: Option<Expiration>,
    #[serde(default)]
    pub noncurrent_expiration: Option<NoncurrentExpiration>,
    /// `AbortIncompleteMultipartUpload/DaysAfterInitiation`.
    #[serde(default)]
    pub abort_incomplete_days: Option<u32>,
}

/// Which objects a rule applies to; every condition must hold. An empty prefix matches all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleFilter {
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub size_greater_than: Option<u64>,
    #[serde(default)]
    pub size_less_than: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// The `Expiration` action, one of its three forms: `{"days": n}`, `{"date_unix_ms": t}` (a
/// midnight UTC) or `"expired_object_delete_marker"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiration {
    Days(u32),
    DateUnixMs(i64),
    ExpiredObjectDeleteMarker,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentExpiration {
    pub noncurrent_days: u32,
    #[serde(default)]
    pub newer_noncurrent_versions: Option<u32>,
}

/// A bucket's owner and configuration (`Request::GetBucketConfig`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketConfig {
    pub name: String,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    /// `None`: versioning was never turned on.
    pub versioning: Option<VersioningStatus>,
    /// `None`: Object Lock is off.
    pub object_lock: Option<ObjectLock>,
    /// `None`: no lifecycle configuration.
    pub lifecycle: Option<Lifecycle>,
    /// CORS rules (PutBucketCors), in order; empty: none.
    #[serde(default)]
    pub cors: Vec<CorsRule>,
    /// The bucket policy's JSON text as stored (PutBucketPolicy); `None`: none.
    #[serde(default)]
    pub policy: Option<String>,
    /// Bucket tags (PutBucketTagging), in order; empty: none.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// One CORS rule of a bucket, as PutBucketCors stores it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    #[serde(default)]
    pub id: Option<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    #[serde(default)]
    pub max_age_seconds: Option<u32>,
}

/// One change of a bucket's configuration (`Request::UpdateBucketConfig`), tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BucketConfigUpdate {
    /// PutBucketVersioning.
    Versioning { status: VersioningStatus },
    /// PutObjectLockConfiguration: turns Object Lock on (versioning must be Enabled) or
    /// replaces its default retention.
    ObjectLock { object_lock: ObjectLock },
    /// Put (`Some`) or DeleteBucketLifecycle (`None`).
    Lifecycle { lifecycle: Option<Lifecycle> },
    /// PutBucketCors (empty: DeleteBucketCors). The sender validates the rules as the S3 port
    /// does (`s3_proto::xml::validate_cors_rules`): the engine knows no S3 rules.
    Cors { rules: Vec<CorsRule> },
    /// PutBucketPolicy (`None`: DeleteBucketPolicy), validated by the sender
    /// (`policy::parse_bucket_policy`).
    Policy { policy: Option<String> },
    /// PutBucketTagging (empty: DeleteBucketTagging), validated by the sender
    /// (`s3_proto::xml::validate_tags`).
    Tags { tags: Vec<Tag> },
}

/// A page of a bucket's versions and delete markers, by key and newest first within a key
/// (ListObjectVersions without a delimiter). `key_marker` and `version_id_marker` name the
/// last entry of the previous page (`"null"` for a null version).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionsQuery {
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub key_marker: String,
    #[serde(default)]
    pub version_id_marker: String,
    /// At most `MAX_VERSIONS_PER_PAGE` are returned.
    pub max_keys: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectVersion {
    pub key: String,
    /// `"null"` for the null version.
    pub version_id: String,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub last_modified_unix_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionsPage {
    pub versions: Vec<ObjectVersion>,
    pub is_truncated: bool,
    /// When truncated: the markers of the next page (the last entry returned).
    pub next_key_marker: Option<String>,
    pub next_version_id_marker: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_shapes() {
        let update = BucketConfigUpdate::ObjectLock {
            object_lock: ObjectLock {
                default_retention: Some(DefaultRetention {
                    mode: RetentionMode::Compliance,
                    period: RetentionPeriod::Years(2),
                }),
            },
        };
        let json = serde_json::to_string(&update).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"kind":"object_lock","object_lock":{"default_retention":"#,
                r#"{"mode":"COMPLIANCE","period":{"years":2}}}}"#
            )
        );
        assert_eq!(
            serde_json::from_str::<BucketConfigUpdate>(&json).unwrap(),
            update
        );
        let rule = LifecycleRule {
            id: "r".into(),
            enabled: true,
            expiration: Some(Expiration::ExpiredObjectDeleteMarker),
            ..LifecycleRule::default()
        };
        let json = serde_json::to_string(&rule).unwrap();
        assert!(
            json.contains(r#""expiration":"expired_object_delete_marker""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<LifecycleRule>(&json).unwrap(), rule);
        let minimal: LifecycleRule =
            serde_json::from_str(r#"{"enabled":false,"expiration":{"days":3}}"#).unwrap();
        assert_eq!(minimal.expiration, Some(Expiration::Days(3)));
        assert_eq!(minimal.filter, LifecycleFilter::default());
    }
}

//! The event log: what happened to objects and buckets, durable in the data plane, per
//! partition, numbered by a sequence that only grows (`seq` starts at 1 in each partition).
//!
//! An object event is committed in the same transaction as the write it describes, so the log
//! never holds a write that did not happen nor misses one that did. Bucket events and events
//! of requests that wrote nothing (denied requests) are in partition 0's log. Consumers read
//! with `Request::ReadEvents` from their cursor and, once every consumer is past a point, the
//! admin trims the log with `Request::TrimEvents`. Delivery is at least once.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub partition: u32,
    pub seq: u64,
    pub time_unix_ms: i64,
    pub kind: EventKind,
    /// The S3 operation (`PutObject`, `DeleteObjects`, `CreateBucket`...).
    pub operation: String,
    pub bucket: String,
    pub key: Option<String>,
    pub version_id: Option<String>,
    pub size: Option<u64>,
    pub etag: Option<String>,
    /// Who made the request; `None` for anonymous or internal (lifecycle) actions.
    pub access_key_id: Option<String>,
    pub user_id: Option<String>,
    pub tenant_id: Option<String>,
    /// The request's `x-amz-request-id`.
    pub request_id: String,
    pub source_ip: Option<String>,
    /// The HTTP status returned.
    pub status: u16,
    /// For a request a policy denied: the IAM action asked (`s3:GetObject`).
    #[serde(default)]
    pub iam_action: Option<String>,
    /// The resource ARN the action was asked on (`arn:aws:s3:::bucket/key`).
    #[serde(default)]
    pub resource_arn: Option<String>,
    /// What decided: the policy and its statement (Sid, or index when it has none), or
    /// that no statement allowed the request (an implicit deny).
    #[serde(default)]
    pub decided_by: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ObjectCreated,
    ObjectRemoved,
    DeleteMarkerCreated,
    ObjectRestored,
    LifecycleExpired,
    BucketCreated,
    BucketRemoved,
    BucketConfigChanged,
    AccessDenied,
}

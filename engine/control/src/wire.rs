//! Frames on the control socket: a 4-byte big-endian length, then that many bytes of JSON.
//! One request, one response, in order, on a connection; the first request is `Hello`.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::buckets::{
    BucketConfig, BucketConfigUpdate, ObjectLock, VersioningStatus, VersionsPage, VersionsQuery,
};
use crate::events::Event;
use crate::identity::IdentitySnapshot;
use crate::metrics::MetricsSummary;
use crate::sealing::SealingKeySet;
use crate::settings::SettingsSnapshot;

/// Largest frame either side accepts (an identity snapshot of many thousand keys fits).
pub const MAX_FRAME_BYTES: u32 = 64 << 20;

/// Most events one `ReadEvents` returns, whatever the request's limit.
pub const MAX_EVENTS_PER_READ: u32 = 10_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    Hello {
        protocol: u32,
    },
    /// Replace the identity (applied on every shard before the answer, persisted first).
    PutIdentity {
        snapshot: IdentitySnapshot,
    },
    /// Replace the dynamic settings (applied on every shard before the answer).
    PutSettings {
        snapshot: SettingsSnapshot,
    },
    Status,
    /// Events of one partition with `seq > after`, oldest first, at most `limit`.
    ReadEvents {
        partition: u32,
        after: u64,
        limit: u32,
    },
    /// Forget the events of one partition with `seq <= through`.
    TrimEvents {
        partition: u32,
        through: u64,
    },
    /// Every bucket with owner and usage.
    ListBuckets,
    /// Create a bucket owned by a tenant (or by no tenant) as the given user, optionally
    /// with versioning and Object Lock (which needs versioning `Enabled`).
    CreateBucket {
        name: String,
        tenant_id: Option<String>,
        user_id: Option<String>,
        #[serde(default)]
        versioning: Option<VersioningStatus>,
        #[serde(default)]
        object_lock: Option<ObjectLock>,
    },
    /// Delete an empty bucket.
    DeleteBucket {
        name: String,
    },
    /// A bucket's owner and its versioning, Object Lock and lifecycle configuration. Answers
    /// `bucket_config`.
    GetBucketConfig {
        name: String,
    },
    /// Change one part of a bucket's configuration through the catalogue (the coordinator
    /// checks the bucket's state), attributed in the event log to the user the admin names.
    /// Answers `bucket_config` with the configuration now in force.
    UpdateBucketConfig {
        name: String,
        update: BucketConfigUpdate,
        tenant_id: Option<String>,
        user_id: Option<String>,
    },
    /// A page of a bucket's versions and delete markers. Answers `versions`.
    ListVersions(VersionsQuery),
    /// Add a master key version and make it current: new data keys are wrapped with it, and
    /// every shard re-wraps the stored ones in the background. Answers `encryption`.
    RotateMasterKey,
    /// The master key versions and how many stored data keys each one wraps.
    EncryptionStatus,
    /// The admin's sealing keys (`control::sealing`): one per master key version, derived
    /// with HKDF under `sealing::ADMIN_SECRETS_LABEL`. Answers `sealing_keys`.
    SealingKeys,
    /// Session credentials (STS) for a user, minted by the data plane (only it holds the
    /// token keys), e.g. for the console's browser to call the S3 API. Answers `session`.
    MintSession(MintSession),
    /// Traffic per operation and per shard, merged from every shard now. Answers `metrics`.
    Metrics,
}

/// What a session is minted for. The user's rights at each request apply (a disabled or
/// deleted user's sessions stop working), narrowed by `policy` when given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintSession {
    pub user_id: String,
    /// Lifetime in seconds: 1 to `SESSION_DURATION_MAX_SECS` (the admin chooses; the STS
    /// API on the S3 port keeps AWS's 900-second minimum).
    pub duration_secs: u32,
    /// An inline session policy (IAM policy JSON).
    #[serde(default)]
    pub policy: Option<String>,
}

/// The longest session any path mints: 36 hours, AWS's GetSessionToken maximum.
pub const SESSION_DURATION_MAX_SECS: u32 = 129_600;

/// Credentials of a session, as STS returns them. Its `Debug` hides the secret and token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for SessionCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Hello {
        protocol: u32,
        shards: u32,
        partitions: u32,
    },
    Ok,
    Status(Status),
    Events {
        events: Vec<Event>,
    },
    Buckets {
        buckets: Vec<BucketInfo>,
    },
    Encryption(EncryptionStatus),
    /// Boxed: the largest answer, which would make every `Response` as large.
    BucketConfig(Box<BucketConfig>),
    Versions(VersionsPage),
    /// Key material: its `Debug` shows versions only.
    SealingKeys(SealingKeySet),
    Session(SessionCredentials),
    Error {
        /// The S3 error code where one applies (`BucketAlreadyExists`, `BucketNotEmpty`,
        /// `NoSuchBucket`, `InvalidBucketName`, `TooManyBuckets`, `InvalidBucketState`...),
        /// else `InternalError` or `InvalidRequest` (also: a configuration that fails
        /// validation).
        code: String,
        message: String,
    },
    Metrics(MetricsSummary),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub shards: u32,
    pub partitions: u32,
    /// Version of the identity and settings snapshots in force (0: none received yet).
    pub identity_version: u64,
    pub settings_version: u64,
    /// Per partition, the newest event sequence number (0: none yet).
    pub event_heads: Vec<u64>,
    /// The current master key version: the admin fetches its sealing keys again (and
    /// re-seals its secrets) when this moves. 0 from a data plane that predates sealing.
    #[serde(default)]
    pub master_key_version: u32,
}

/// The master keys (KEKs) and the data keys they wrap. Key material never leaves the data
/// plane: only version numbers and counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionStatus {
    /// The version new data keys are wrapped with.
    pub current_version: u32,
    /// Every version in the keyring, ascending (old ones are kept: they may still wrap keys).
    pub versions: Vec<u32>,
    /// Stored data keys (SSE-S3 objects and parts) per version that wraps them, ascending;
    /// versions that wrap none are left out. (A list, not a map: JSON map keys are strings,
    /// which serde cannot read back as numbers inside a tagged enum.)
    pub data_keys_by_version: Vec<VersionDataKeys>,
    /// Data keys wrapped by any version but the current one: what the background re-wrap
    /// still has to do (0 when a rotation is complete).
    pub data_keys_on_old_versions: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionDataKeys {
    pub version: u32,
    pub data_keys: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketInfo {
    pub name: String,
    pub created_unix_ms: i64,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub objects: u64,
    pub bytes: u64,
}

pub fn write_frame(writer: &mut impl Write, message: &impl Serialize) -> io::Result<()> {
    let body = serde_json::to_vec(message).map_err(io::Error::other)?;
    let length = u32::try_from(body.len())
        .ok()
        .filter(|length| *length <= MAX_FRAME_BYTES)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    writer.write_all(&length.to_be_bytes())?;
    writer.write_all(&body)?;
    writer.flush()
}

/// The next frame, or `None` at a clean end of stream (between frames).
pub fn read_frame<T: DeserializeOwned>(reader: &mut impl Read) -> io::Result<Option<T>> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    }
    let length = u32::from_be_bytes(length);
    if length > MAX_FRAME_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut body = vec![0u8; length as usize];
    reader.read_exact(&mut body)?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}

/// A blocking client of the control socket (the admin side).
pub struct Client {
    stream: UnixStream,
    pub shards: u32,
    pub partitions: u32,
}

impl Client {
    /// Connects and says hello; fails if the data plane speaks another protocol version.
    pub fn connect(socket: &Path, timeout: Duration) -> io::Result<Self> {
        let stream = UnixStream::connect(socket)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let mut client = Self {
            stream,
            shards: 0,
            partitions: 0,
        };
        match client.call(&Request::Hello {
            protocol: crate::PROTOCOL_VERSION,
        })? {
            Response::Hello {
                protocol,
                shards,
                partitions,
            } if protocol == crate::PROTOCOL_VERSION => {
                client.shards = shards;
                client.partitions = partitions;
                Ok(client)
            }
            other => Err(io::Error::other(format!(
                "control channel: unexpected hello answer {other:?}"
            ))),
        }
    }

    pub fn call(&mut self, request: &Request) -> io::Result<Response> {
        write_frame(&mut self.stream, request)?;
        read_frame(&mut self.stream)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "control socket closed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let request = Request::ReadEvents {
            partition: 3,
            after: 41,
            limit: 100,
        };
        let mut bytes = Vec::new();
        write_frame(&mut bytes, &request).unwrap();
        let mut reader = bytes.as_slice();
        let back: Option<Request> = read_frame(&mut reader).unwrap();
        assert_eq!(back, Some(request));
        let end: Option<Request> = read_frame(&mut reader).unwrap();
        assert_eq!(end, None);
    }

    #[test]
    fn events_from_before_the_denial_fields_still_read() {
        let old = r#"{"type":"events","events":[{"partition":0,"seq":7,"time_unix_ms":1,
            "kind":"access_denied","operation":"GetObject","bucket":"b","key":"k",
            "version_id":null,"size":null,"etag":null,"access_key_id":"AK","user_id":null,
            "tenant_id":null,"request_id":"r1","source_ip":null,"status":403}]}"#;
        let Response::Events { events } = serde_json::from_str(old).unwrap() else {
            panic!("not an events response");
        };
        assert_eq!(events[0].request_id, "r1");
        assert_eq!(events[0].iam_action, None);
        assert_eq!(events[0].decided_by, None);
    }

    #[test]
    fn oversized_frames_are_refused_before_allocation() {
        let mut bytes = (MAX_FRAME_BYTES + 1).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        let result: io::Result<Option<Request>> = read_frame(&mut bytes.as_slice());
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn encryption_status_round_trips() {
        let response = Response::Encryption(EncryptionStatus {
            current_version: 2,
            versions: vec![1, 2],
            data_keys_by_version: vec![
                VersionDataKeys {
                    version: 1,
                    data_keys: 5,
                },
                VersionDataKeys {
                    version: 2,
                    data_keys: 7,
                },
            ],
            data_keys_on_old_versions: 5,
        });
        let json = serde_json::to_string(&response).unwrap();
        assert!(json.contains(r#"{"version":1,"data_keys":5}"#), "{json}");
        let back: Response = serde_json::from_str(&json).unwrap();
        assert_eq!(back, response);
        let rotate = serde_json::to_string(&Request::RotateMasterKey).unwrap();
        assert_eq!(rotate, r#"{"type":"rotate_master_key"}"#);
    }

    #[test]
    fn sealing_keys_cross_as_base64_and_status_reads_without_the_version() {
        let keys = crate::sealing::SealingKeys::new(2, [(1, [1u8; 32]), (2, [2u8; 32])]).unwrap();
        let response = Response::SealingKeys(keys.to_wire());
        let json = serde_json::to_string(&response).unwrap();
        assert!(
            json.starts_with(r#"{"type":"sealing_keys","current_version":2,"#),
            "{json}"
        );
        let back: Response = serde_json::from_str(&json).unwrap();
        assert_eq!(back, response);
        assert!(!format!("{back:?}").contains("AgICAgIC"), "no key in Debug");
        let request = serde_json::to_string(&Request::SealingKeys).unwrap();
        assert_eq!(request, r#"{"type":"sealing_keys"}"#);
        let old: Response = serde_json::from_str(
            r#"{"type":"status","shards":1,"partitions":1,"identity_version":0,
                "settings_version":0,"event_heads":[0]}"#,
        )
        .unwrap();
        assert!(matches!(
            old,
            Response::Status(Status {
                master_key_version: 0,
                ..
            })
        ));
    }

    #[test]
    fn bucket_configuration_requests_round_trip() {
        let old_create: Request = serde_json::from_str(
            r#"{"type":"create_bucket","name":"b","tenant_id":null,"user_id":null}"#,
        )
        .unwrap();
        assert!(matches!(
            old_create,
            Request::CreateBucket {
                versioning: None,
                object_lock: None,
                ..
            }
        ));
        let request = Request::ListVersions(VersionsQuery {
            bucket: "b".into(),
            prefix: "logs/".into(),
            key_marker: "logs/a".into(),
            version_id_marker: "null".into(),
            max_keys: 10,
        });
        let json = serde_json::to_string(&request).unwrap();
        assert!(
            json.starts_with(r#"{"type":"list_versions","bucket":"b","#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), request);
        let update = Request::UpdateBucketConfig {
            name: "b".into(),
            update: BucketConfigUpdate::Lifecycle { lifecycle: None },
            tenant_id: None,
            user_id: Some("u1".into()),
        };
        let json = serde_json::to_string(&update).unwrap();
        assert!(
            json.contains(r#""update":{"kind":"lifecycle","lifecycle":null}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), update);
        let response = Response::Versions(VersionsPage::default());
        let json = serde_json::to_string(&response).unwrap();
        assert_eq!(serde_json::from_str::<Response>(&json).unwrap(), response);
    }

    #[test]
    fn the_json_shape_is_tagged() {
        let json = serde_json::to_string(&Request::DeleteBucket {
            name: "photos".into(),
        })
        .unwrap();
        assert_eq!(json, r#"{"type":"delete_bucket","name":"photos"}"#);
    }
}

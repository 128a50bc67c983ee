//! Messages between shards. Each shard has one bounded inbox; everything that crosses cores
//! goes through it: handed-over connections, listing pages of partitions a shard owns, and the
//! bucket catalogue protocol run by the coordinator (shard 0).

use shard::meta::{UploadStart, UploadSummary};
use shard::{BucketRecord, ListEntry, ListStart, ShardError};

/// Depth of each shard's inbox. A full inbox makes the sender wait: backpressure, not memory.
pub const INBOX_DEPTH: usize = 1024;

pub type Reply<T> = flume::Sender<Result<T, ShardError>>;

pub enum MeshMessage {
    /// A client connection whose next request belongs to the receiving shard, with its read
    /// buffer (the bytes already read, at least the request head; its capacity is reused).
    /// `tls` is the connection's TLS state when it came in over TLS: `buffered` is then
    /// plaintext, and the session holds what rustls has not yet given out.
    Connection {
        stream: std::net::TcpStream,
        buffered: Vec<u8>,
        tls: Option<Box<tls::Session>>,
    },
    /// A reloaded TLS configuration (SIGHUP): new handshakes on this shard use it; sessions
    /// already established keep theirs.
    TlsConfig(std::sync::Arc<tls::rustls::ServerConfig>),
    /// A page of a partition owned by the receiving shard.
    ListPage {
        partition_id: u32,
        bucket: String,
        start: ListStart,
        prefix: Vec<u8>,
        limit: usize,
        versioned: bool,
        reply: Reply<Vec<ListEntry>>,
    },
    /// DeleteObjects: delete these keys, all in partitions the receiving shard owns; one
    /// result per key, in order (a missing key is a success, as in S3).
    DeleteObjects {
        bucket: String,
        targets: Vec<crate::batch_delete::DeleteTarget>,
        bypass_governance: bool,
        actor: crate::events::Actor,
        reply: Reply<Vec<Result<Option<shard::VersionOutcome>, ShardError>>>,
    },
    /// CopyObject / UploadPartCopy: open an object the receiving shard owns for streaming
    /// (`object_stream`); `NoSuchKey` when there is none.
    OpenObject(crate::object_stream::OpenRequest),
    /// A page of the multipart uploads of a partition owned by the receiving shard.
    UploadsPage {
        partition_id: u32,
        bucket: String,
        start: UploadStart,
        prefix: Vec<u8>,
        limit: usize,
        reply: Reply<Vec<UploadSummary>>,
    },
    VersionsPage {
        partition_id: u32,
        bucket: String,
        start: shard::VersionStart,
        prefix: Vec<u8>,
        limit: usize,
        reply: Reply<Vec<shard::VersionEntry>>,
    },
    /// To the coordinator: create a bucket and tell every shard.
    CreateBucket {
        record: BucketRecord,
        actor: crate::events::Actor,
        reply: Reply<()>,
    },
    /// To the coordinator: delete an empty bucket everywhere.
    DeleteBucket {
        name: String,
        actor: crate::events::Actor,
        reply: Reply<()>,
    },
    /// Bucket configuration (tags, and later versioning, policy, CORS ...).
    BucketConfig(BucketConfigMessage),
    /// From the coordinator: a bucket now exists.
    BucketCreated {
        record: BucketRecord,
        reply: Reply<()>,
    },
    /// From the coordinator: stop new writes to the bucket if this shard holds none of its
    /// objects and none are being written; answers `BucketNotEmpty` otherwise.
    PrepareBucketDelete { name: String, reply: Reply<()> },
    /// From the coordinator: the delete was abandoned; accept writes again.
    AbortBucketDelete { name: String, reply: Reply<()> },
    /// From the coordinator: the bucket is gone; drop it and purge its uploads.
    BucketDeleted { name: String, reply: Reply<()> },
    /// A copy of the receiving shard's metrics, for a scrape on another shard.
    MetricsSnapshot {
        reply: Reply<telemetry::MetricsSnapshot>,
    },
    /// Readiness probe: answered by the inbox loop, so an answer proves the shard runs.
    Ping {
        reply: Reply<crate::readiness::ShardHealth>,
    },
    /// From the control server (identity, settings, event log, usage) and between shards
    /// (usage totals, denied-request events for partition 0).
    Control(ControlMessage),
    /// Stop accepting, finish in-flight requests, flush, exit.
    Shutdown,
}

/// The control-channel part of the mesh (`control_server.rs`, `usage.rs`, `events.rs`).
pub enum ControlMessage {
    /// Replace this shard's identity: the shard builds its own index from the snapshot.
    Identity {
        snapshot: std::sync::Arc<control::identity::IdentitySnapshot>,
        reply: Reply<()>,
    },
    /// Replace this shard's dynamic settings.
    Settings {
        snapshot: std::sync::Arc<control::settings::SettingsSnapshot>,
        reply: Reply<()>,
    },
    TrimEvents {
        partition_id: u32,
        through: u64,
        reply: Reply<()>,
    },
    /// Objects and bytes per bucket over the partitions the receiving shard owns.
    BucketUsage {
        reply: Reply<Vec<(String, shard::BucketUsage)>>,
    },
    /// The catalogue as the receiving shard holds it.
    Buckets { reply: Reply<Vec<BucketRecord>> },
    /// From another shard: its bytes per tenant (absolute totals, not deltas, so a lost or
    /// late message is corrected by the next one).
    TenantUsage {
        from_shard: u32,
        totals: crate::usage::TenantTotals,
    },
    /// To the coordinator: a denied request to record in partition 0.
    DeniedEvent { event: Box<shard::EventRecord> },
    /// A rotated keyring: swap it in and re-wrap this shard's data keys in the background.
    MasterKeys {
        keys: std::sync::Arc<sse::master::MasterKeys>,
        reply: Reply<()>,
    },
}

/// The configuration part of the catalogue protocol (`catalogue::update_bucket`).
pub enum BucketConfigMessage {
    /// To the coordinator: change a bucket's configuration and tell every shard.
    Update {
        name: String,
        change: crate::catalogue::BucketConfigChange,
        actor: crate::events::Actor,
        reply: Reply<()>,
    },
    /// From the coordinator: a bucket's configuration changed; this is its whole new record.
    Changed {
        record: BucketRecord,
        reply: Reply<()>,
    },
}

/// Sends `message` to a shard's inbox and waits for the answer carried by its reply channel.
/// Asks every other shard the same question, waiting at most `timeout` for each; the answers
/// of those that answered in time, in shard order. A stuck shard is simply missing.
pub async fn ask_others<T>(
    context: &crate::context::ShardContext,
    timeout: std::time::Duration,
    build: impl Fn(Reply<T>) -> MeshMessage,
) -> Vec<T> {
    let mut answers = Vec::new();
    for (shard_id, inbox) in (0u32..).zip(&context.inboxes) {
        if shard_id == context.shard_id {
            continue;
        }
        if let Ok(Ok(answer)) = monoio::time::timeout(timeout, request(inbox, &build)).await {
            answers.push(answer);
        }
    }
    answers
}

pub async fn request<T>(
    inbox: &flume::Sender<MeshMessage>,
    build: impl FnOnce(Reply<T>) -> MeshMessage,
) -> Result<T, ShardError> {
    let (reply, answer) = flume::bounded(1);
    inbox
        .send_async(build(reply))
        .await
        .map_err(|_| ShardError::ShuttingDown)?;
    answer
        .recv_async()
        .await
        .map_err(|_| ShardError::ShuttingDown)?
}

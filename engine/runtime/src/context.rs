//! `ShardContext`: everything one shard thread owns and every request handler on it can use.
//!
//! One per shard, behind an `Rc` (never `Send`): the partitions this shard owns, its copy of
//! the bucket catalogue, the inboxes of all shards, and the counters used for shutdown.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use control::settings::SettingsSnapshot;
use shard::{BucketRecord, Partition, ShardError};

use crate::identity::IdentityIndex;

use crate::mesh::MeshMessage;
use crate::placement::{owner_of, partition_of};

/// Settings every shard reads; plain data, the same on every shard.
#[derive(Clone, Debug)]
pub struct SharedSettings {
    pub region: String,
    /// Domains of virtual-host-style addressing (`bucket.<domain>`), lowercase.
    pub domains: Vec<String>,
    /// Origins of web consoles whose pages may call the S3 API on every bucket
    /// (`--console-origin`; the front end's `cors.rs`).
    pub console_origins: Vec<String>,
    /// Root identity (access key id, secret key): the only identity until the admin process
    /// pushes more over the control channel.
    pub root_access_key_id: String,
    pub root_secret_key: String,
    /// Whether the executor runs on io_uring (false: the epoll fallback).
    pub io_uring: bool,
    /// A request head must arrive completely within this time once it has started.
    pub request_head_timeout: std::time::Duration,
    /// Longest silence on a connection: between requests, or inside a request body.
    pub idle_timeout: std::time::Duration,
    /// Slowest average body rate accepted after `body_rate_grace` (bytes per second; 0: no
    /// minimum).
    pub body_rate_min_bytes_per_sec: u64,
    pub body_rate_grace: std::time::Duration,
    /// Connections this shard serves at once; a new one beyond it is refused (503 SlowDown).
    pub connections_max: u32,
    /// Bearer token that opens `/metrics` to scrapers that cannot sign (Prometheus); without
    /// it `/metrics` needs a signed request.
    pub metrics_token: Option<String>,
    /// The data directory, for free-space checks.
    pub data_dir: std::path::PathBuf,
    /// Below this much free space the server reports itself not ready.
    pub free_bytes_critical: u64,
    /// Background verification of stored data (`scrubber.rs`).
    pub scrub: crate::scrubber::ScrubSettings,
    /// Lifecycle execution (`lifecycle.rs`).
    pub lifecycle: crate::lifecycle::LifecycleSettings,
    /// SSE-C over plain HTTP (`--sse-c-allow-http`, `MAXIOFS_SSE_C_ALLOW_HTTP=true`): AWS
    /// refuses customer keys without TLS; tests and TLS-terminating proxies on a trusted
    /// link need them anyway. The dynamic setting `security.sse_c_allow_http` also allows it.
    pub sse_c_allow_http: bool,
    /// With TLS on: answer a connection whose first byte is not a TLS record with a 400
    /// that says to use https (true), or serve it as plain HTTP on the same port (false).
    pub tls_refuse_http: bool,
}

/// Outcomes of TLS on new connections of one shard, for metrics.
#[derive(Debug, Default)]
pub struct TlsCounters {
    /// Handshakes that failed or did not finish within the head-read timeout.
    pub handshakes_failed: Cell<u64>,
    /// Plain HTTP connections answered 400 (use https).
    pub plain_http_refused: Cell<u64>,
}

pub struct BucketEntry {
    pub record: BucketRecord,
    /// `record.policy` compiled, once per shard when the record arrives: requests evaluate
    /// it without parsing. `None`: no policy (the common case costs one `Option` check).
    pub policy: Option<Rc<policy::Policy>>,
    /// Set between a delete's prepare and its commit or abort: writes are refused.
    pub deleting: bool,
    /// Writes to this bucket running on this shard; a delete must wait for zero.
    pub writes_in_flight: u32,
}

impl BucketEntry {
    pub fn new(record: BucketRecord) -> BucketEntry {
        BucketEntry {
            policy: compile_policy(&record),
            record,
            deleting: false,
            writes_in_flight: 0,
        }
    }

    /// Replaces the record (a configuration change), compiling its policy again.
    pub fn replace_record(&mut self, record: BucketRecord) {
        self.policy = compile_policy(&record);
        self.record = record;
    }
}

/// Compiles a stored policy. The text was validated by PutBucketPolicy with this parser, so
/// a failure means a parser that changed since: the bucket then gets a policy that denies
/// every request but root's (fail closed; root can read, replace or delete it).
fn compile_policy(record: &BucketRecord) -> Option<Rc<policy::Policy>> {
    let text = record.policy.as_deref()?;
    match policy::parse_bucket_policy(text, &record.name) {
        Ok(compiled) => Some(Rc::new(compiled)),
        Err(error) => {
            tracing::error!(bucket = %record.name, %error, "stored bucket policy does not \
                compile; denying every request to the bucket but root's");
            let deny_all = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*",
                "Action":"s3:*","Resource":["arn:aws:s3:::{0}","arn:aws:s3:::{0}/*"]}}]}}"#,
                record.name
            );
            policy::parse_bucket_policy(&deny_all, &record.name)
                .ok()
                .map(Rc::new)
        }
    }
}

pub struct ShardContext {
    pub shard_id: u32,
    pub shard_count: u32,
    pub partition_count: u32,
    pub settings: SharedSettings,
    pub partitions: HashMap<u32, Rc<Partition>>,
    pub inboxes: Vec<flume::Sender<MeshMessage>>,
    pub buckets: RefCell<BTreeMap<String, BucketEntry>>,
    /// Buckets the coordinator is creating or deleting right now (shard 0 only).
    pub catalogue_busy: RefCell<std::collections::BTreeSet<String>>,
    /// Bucket creates in progress per tenant (shard 0 only), for the bucket quota.
    pub creating_for_tenant: RefCell<HashMap<String, usize>>,
    pub shutting_down: Cell<bool>,
    /// Requests being served (not idle keep-alive connections); shutdown waits for zero.
    pub requests_in_flight: Cell<u64>,
    /// Connections this shard is serving (`open_connection`); bounded by
    /// `settings.connections_max` for new ones.
    pub connections_open: Cell<u32>,
    /// Connections refused at the limit since start (a metric).
    pub connections_refused: Cell<u64>,
    /// What became of new connections on the TLS port (metrics).
    pub tls_counters: TlsCounters,
    /// What this shard's lifecycle passes did, since start.
    pub lifecycle_counters: Cell<telemetry::LifecycleCounters>,
    pub listener_fd: Cell<Option<i32>>,
    /// This shard's request counters and latencies; merged with the others' only on scrape.
    pub metrics: RefCell<telemetry::ShardMetrics>,
    /// Identity pushed by the admin (the root credential is in `settings`): replaced whole by
    /// the control server, never mutated in place.
    pub identity: RefCell<Rc<IdentityIndex>>,
    /// Dynamic settings pushed by the admin (`control::settings::keys`), replaced whole.
    pub dynamic_settings: RefCell<Rc<SettingsSnapshot>>,
    /// The master keys (KEKs) that wrap SSE-S3 data keys: this shard's own copy, replaced
    /// whole when a rotation adds a version (`keyring.rs`), never mutated in place.
    pub master_keys: RefCell<Rc<sse::master::MasterKeys>>,
    /// Bumped by each rotation: a running re-wrap of an older one stops (`rewrap.rs`).
    pub rewrap_generation: Cell<u64>,
    /// Storage used per bucket and per tenant, as this shard knows it (`usage.rs`).
    pub usage: RefCell<crate::usage::UsageView>,
    /// Denied-request events dropped because partition 0's queue was too deep.
    pub denied_events_dropped: Cell<u64>,
    /// The TLS configuration new connections handshake with (`None`: plain HTTP only). This
    /// shard's own handle, replaced whole by a reload through the inbox: no lock is taken on
    /// the handshake path.
    pub tls: RefCell<Option<std::sync::Arc<tls::rustls::ServerConfig>>>,
}

impl ShardContext {
    pub fn partition_of(&self, bucket: &str, key: &str) -> u32 {
        partition_of(bucket, key, self.partition_count)
    }

    pub fn owner_of_partition(&self, partition_id: u32) -> u32 {
        owner_of(partition_id, self.shard_count)
    }

    /// The shard that serves requests for this object.
    pub fn owner_of_key(&self, bucket: &str, key: &str) -> u32 {
        self.owner_of_partition(self.partition_of(bucket, key))
    }

    /// The partition for a key, which this shard must own.
    pub fn local_partition(&self, bucket: &str, key: &str) -> Rc<Partition> {
        let partition_id = self.partition_of(bucket, key);
        match self.partitions.get(&partition_id) {
            Some(partition) => Rc::clone(partition),
            None => panic!(
                "shard {} asked for partition {partition_id} it does not own",
                self.shard_id
            ),
        }
    }

    pub fn bucket(&self, name: &str) -> Option<BucketRecord> {
        let buckets = self.buckets.borrow();
        buckets
            .get(name)
            .filter(|entry| !entry.deleting)
            .map(|entry| entry.record.clone())
    }

    /// `f` of the bucket's record, without copying it (a record holds up to 1,000 lifecycle
    /// rules and 100 CORS rules: request paths that need one field read it here). `f` must
    /// not reach the catalogue again.
    pub fn with_bucket<R>(&self, name: &str, f: impl FnOnce(&BucketRecord) -> R) -> Option<R> {
        let buckets = self.buckets.borrow();
        buckets
            .get(name)
            .filter(|entry| !entry.deleting)
            .map(|entry| f(&entry.record))
    }

    pub fn bucket_exists(&self, name: &str) -> bool {
        self.buckets
            .borrow()
            .get(name)
            .is_some_and(|entry| !entry.deleting)
    }

    pub fn bucket_list(&self) -> Vec<BucketRecord> {
        let buckets = self.buckets.borrow();
        buckets
            .values()
            .filter(|entry| !entry.deleting)
            .map(|entry| entry.record.clone())
            .collect()
    }

    /// Registers a write to `bucket` for its whole duration, so that a concurrent DeleteBucket
    /// cannot remove the bucket under it.
    pub fn begin_write(self: &Rc<Self>, bucket: &str) -> Result<BucketWriteGuard, ShardError> {
        let mut buckets = self.buckets.borrow_mut();
        match buckets.get_mut(bucket) {
            Some(entry) if !entry.deleting => {
                entry.writes_in_flight += 1;
                Ok(BucketWriteGuard {
                    context: Rc::clone(self),
                    bucket: bucket.to_owned(),
                })
            }
            _ => Err(ShardError::NoSuchBucket),
        }
    }

    /// Whether any partition of this shard is out of space.
    pub fn storage_full(&self) -> bool {
        self.partitions
            .values()
            .any(|partition| partition.is_full())
    }

    /// The identity in force on this shard (a cheap clone of the shared index).
    pub fn identity(&self) -> Rc<IdentityIndex> {
        Rc::clone(&self.identity.borrow())
    }

    pub fn dynamic_settings(&self) -> Rc<SettingsSnapshot> {
        Rc::clone(&self.dynamic_settings.borrow())
    }

    /// The keyring in force on this shard (a cheap clone): new data keys are wrapped with its
    /// current version, older versions unwrap keys not yet re-wrapped.
    pub fn master_keys(&self) -> Rc<sse::master::MasterKeys> {
        Rc::clone(&self.master_keys.borrow())
    }

    pub fn begin_request(self: &Rc<Self>) -> RequestGuard {
        self.requests_in_flight
            .set(self.requests_in_flight.get() + 1);
        RequestGuard {
            context: Rc::clone(self),
        }
    }
}

pub struct BucketWriteGuard {
    context: Rc<ShardContext>,
    bucket: String,
}

impl Drop for BucketWriteGuard {
    fn drop(&mut self) {
        if let Some(entry) = self.context.buckets.borrow_mut().get_mut(&self.bucket) {
            entry.writes_in_flight -= 1;
        }
    }
}

impl ShardContext {
    /// Counts a connection this shard starts serving. A `fresh` one (just accepted) is
    /// refused (`None`) when the shard already serves `connections_max`; a connection handed
    /// over by another shard was admitted there and is always taken.
    pub fn open_connection(self: &Rc<Self>, fresh: bool) -> Option<ConnectionGuard> {
        let open = self.connections_open.get();
        if fresh && open >= self.settings.connections_max {
            self.connections_refused
                .set(self.connections_refused.get() + 1);
            return None;
        }
        self.connections_open.set(open + 1);
        Some(ConnectionGuard {
            context: Rc::clone(self),
        })
    }
}

/// One open connection, counted while it lives.
pub struct ConnectionGuard {
    context: Rc<ShardContext>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.context
            .connections_open
            .set(self.context.connections_open.get() - 1);
    }
}

pub struct RequestGuard {
    context: Rc<ShardContext>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.context
            .requests_in_flight
            .set(self.context.requests_in_flight.get() - 1);
    }
}

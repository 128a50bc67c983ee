//! The data plane's end of the control channel (`control::wire`): a Unix socket in the data
//! directory (`control.sock`, mode 0600) on which `maxiofs admin` pushes identity and
//! settings, manages buckets and reads the event log.
//!
//! Threads, none of them a shard: one accepts connections, one per connection (at most
//! `CONNECTIONS_MAX`) reads and writes frames with timeouts, and one applies requests in
//! order, so two pushes never interleave. The control server reaches shards only through
//! their inboxes (`MeshMessage::Control`, the catalogue messages) and waits for their answers
//! on bounded reply channels with a timeout.
//!
//! Identity and settings are persisted (`identity.json`, `settings.json`, mode 0600, written
//! to a temporary file, fsynced, renamed, directory fsynced) before they are applied, and
//! loaded at start, so the data plane serves with the last pushed identity without the admin.
//! The access-key secrets in `identity.json` are sealed (`control::sealing`) under a key
//! derived from the current master key (label `IDENTITY_FILE_LABEL`); a rotation rewrites
//! the file under the new version. The admin's own sealing keys (label `ADMIN_SECRETS_LABEL`)
//! are handed out by `Request::SealingKeys`; the master keys never leave this process.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use control::identity::IdentitySnapshot;
use control::sealing::{self, SealingKeys};
use control::settings::SettingsSnapshot;
use control::wire::{
    BucketInfo, EncryptionStatus, MAX_EVENTS_PER_READ, Request, Response, Status, VersionDataKeys,
    read_frame, write_frame,
};
use shard::meta::MetaReader;
use shard::{BucketRecord, ShardError, Versioning};
use sse::master::MasterKeys;

use crate::events::Actor;
use crate::identity::IdentityIndex;
use crate::mesh::{ControlMessage, MeshMessage, Reply};
use crate::placement::owner_of;

pub const IDENTITY_FILE_NAME: &str = "identity.json";
pub const SETTINGS_FILE_NAME: &str = "settings.json";
/// Simultaneous control connections; the admin needs one or two. More are refused.
pub const CONNECTIONS_MAX: usize = 16;
/// A connection silent for this long is closed (the admin reconnects on demand).
const IDLE_TIMEOUT: Duration = Duration::from_mins(5);
/// Longest time to write one response.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for the shards to answer one request (a busy inbox, a slow commit).
const SHARD_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests queued for the applier thread; a full queue makes connection threads wait.
const REQUEST_QUEUE_DEPTH: usize = 16;

/// What the control server needs from the runtime.
pub struct ControlConfig {
    pub data_dir: PathBuf,
    pub region: String,
    pub shard_count: u32,
    pub partition_count: u32,
    pub inboxes: Vec<flume::Sender<MeshMessage>>,
    pub identity: IdentitySnapshot,
    pub settings: SettingsSnapshot,
    /// The keyring in force, and the file a rotation rewrites.
    pub master_keys: MasterKeys,
    pub master_keys_path: PathBuf,
}

/// The running control server; `stop` closes the socket and ends its threads.
pub struct ControlServer {
    socket_path: PathBuf,
    stopping: Arc<AtomicBool>,
    acceptor: Option<std::thread::JoinHandle<()>>,
}

impl ControlServer {
    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the blocking accept; the acceptor sees `stopping` and returns.
        let _ = UnixStream::connect(&self.socket_path);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let _ = std::fs::remove_file(&self.socket_path);
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        if self.acceptor.is_some() {
            self.stop_now();
        }
    }
}

/// `identity.json` as stored: the snapshot with every `secret_access_key` sealed. A file
/// without `secrets_sealed` was written before sealing existed: its secrets are plaintext,
/// and the first start that reads it rewrites it sealed.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct IdentityFile {
    #[serde(default)]
    secrets_sealed: bool,
    #[serde(flatten)]
    snapshot: IdentitySnapshot,
}

/// Sealing keys of a use (`sealing::*_LABEL`), one per master key version.
pub fn sealing_keys(master_keys: &MasterKeys, label: &str) -> SealingKeys {
    let versions: Vec<u32> = master_keys.versions().collect();
    SealingKeys::derive(
        label,
        master_keys.current().0,
        versions
            .iter()
            .filter_map(|version| master_keys.get(*version).map(|key| (*version, key))),
    )
    .expect("the current master key version is in the keyring")
}

fn identity_secret_context(access_key_id: &str) -> String {
    format!(
        "identity.json:{}",
        sealing::access_key_context(access_key_id)
    )
}

/// Writes the identity snapshot with its secrets sealed under the current master key.
fn persist_identity(
    data_dir: &Path,
    master_keys: &MasterKeys,
    snapshot: &IdentitySnapshot,
) -> std::io::Result<()> {
    let keys = sealing_keys(master_keys, sealing::IDENTITY_FILE_LABEL);
    let mut stored = snapshot.clone();
    for key in &mut stored.access_keys {
        key.secret_access_key = keys.seal(
            &identity_secret_context(&key.access_key_id),
            key.secret_access_key.as_bytes(),
        );
    }
    persist_json(
        &data_dir.join(IDENTITY_FILE_NAME),
        &IdentityFile {
            secrets_sealed: true,
            snapshot: stored,
        },
    )
}

/// The persisted identity and settings (empty snapshots, version 0, when none were pushed).
/// The identity's secrets are opened with the master keys; a file with plaintext secrets (from
/// before sealing) or sealed under an older master key version is rewritten sealed under the
/// current one. A file whose secrets do not open (the master key file was replaced) is set
/// aside: the data plane starts with an empty identity (version 0), which the admin replaces
/// with its own at its next round, and the root credential keeps working meanwhile.
pub fn load_persisted(
    data_dir: &Path,
    master_keys: &MasterKeys,
) -> std::io::Result<(IdentitySnapshot, SettingsSnapshot)> {
    let path = data_dir.join(IDENTITY_FILE_NAME);
    let mut file: IdentityFile = load_json(&path)?;
    let keys = sealing_keys(master_keys, sealing::IDENTITY_FILE_LABEL);
    let mut rewrite = !file.secrets_sealed && !file.snapshot.access_keys.is_empty();
    if file.secrets_sealed {
        for key in &mut file.snapshot.access_keys {
            let context = identity_secret_context(&key.access_key_id);
            match keys.open_text(&context, &key.secret_access_key) {
                Ok(secret) => {
                    rewrite |= keys.needs_sealing(&key.secret_access_key);
                    secret
                        .text()
                        .unwrap_or_default()
                        .clone_into(&mut key.secret_access_key);
                }
                Err(error) => {
                    tracing::error!(
                        %error,
                        access_key_id = %key.access_key_id,
                        "identity.json: a sealed secret does not open with these master keys; \
                         starting with an empty identity until the admin pushes one"
                    );
                    return Ok((
                        IdentitySnapshot::default(),
                        load_json(&data_dir.join(SETTINGS_FILE_NAME))?,
                    ));
                }
            }
        }
    }
    if rewrite {
        persist_identity(data_dir, master_keys, &file.snapshot)?;
        tracing::info!(
            version = master_keys.current().0,
            "identity.json: secrets sealed under the current master key"
        );
    }
    Ok((
        file.snapshot,
        load_json(&data_dir.join(SETTINGS_FILE_NAME))?,
    ))
}

fn load_json<T: serde::de::DeserializeOwned + Default>(path: &Path) -> std::io::Result<T> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|error| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {error}", path.display()),
            )
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(error) => Err(error),
    }
}

/// Writes `value` as JSON to `path` atomically and durably, readable by the owner only.
fn persist_json(path: &Path, value: &impl serde::Serialize) -> std::io::Result<()> {
    let body = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    let temporary = path.with_extension("json.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    // `mode` applies only at creation: a leftover temporary file keeps its old mode.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(&body)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)?;
    let directory = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::File::open(directory)?.sync_all()
}

type Job = (Request, flume::Sender<Response>);

/// Binds the socket (removing a stale one) and starts the threads.
pub fn start(config: ControlConfig) -> std::io::Result<ControlServer> {
    let socket_path = config.data_dir.join(control::SOCKET_FILE_NAME);
    match std::fs::remove_file(&socket_path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let listener = UnixListener::bind(&socket_path)?;
    std::fs::set_permissions(&socket_path, std::fs::Permissions::from_mode(0o600))?;
    let stopping = Arc::new(AtomicBool::new(false));
    let (jobs, job_receiver) = flume::bounded::<Job>(REQUEST_QUEUE_DEPTH);
    let hello = Response::Hello {
        protocol: control::PROTOCOL_VERSION,
        shards: config.shard_count,
        partitions: config.partition_count,
    };
    let applier = Applier::new(config);
    std::thread::Builder::new()
        .name("control-apply".into())
        .spawn(move || applier.run(&job_receiver))?;
    let acceptor_stopping = Arc::clone(&stopping);
    let acceptor = std::thread::Builder::new()
        .name("control-accept".into())
        .spawn(move || accept_loop(&listener, &acceptor_stopping, &jobs, &hello))?;
    Ok(ControlServer {
        socket_path,
        stopping,
        acceptor: Some(acceptor),
    })
}

fn accept_loop(
    listener: &UnixListener,
    stopping: &AtomicBool,
    jobs: &flume::Sender<Job>,
    hello: &Response,
) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut stream) = stream else {
            // EMFILE and friends: back off; the admin retries.
            std::thread::park_timeout(Duration::from_millis(50));
            continue;
        };
        if active.fetch_add(1, Ordering::SeqCst) >= CONNECTIONS_MAX {
            active.fetch_sub(1, Ordering::SeqCst);
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = write_frame(
                &mut stream,
                &error_response("SlowDown", "too many control connections"),
            );
            continue;
        }
        let jobs = jobs.clone();
        let hello = hello.clone();
        let active = Arc::clone(&active);
        let spawned = std::thread::Builder::new()
            .name("control-conn".into())
            .spawn(move || {
                if let Err(error) = serve_connection(stream, &jobs, &hello) {
                    tracing::debug!(%error, "control connection ended");
                }
                active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            tracing::warn!("cannot start a control connection thread");
        }
    }
}

fn serve_connection(
    mut stream: UnixStream,
    jobs: &flume::Sender<Job>,
    hello: &Response,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut greeted = false;
    while let Some(request) = read_frame::<Request>(&mut stream)? {
        let response = match request {
            Request::Hello { protocol } if protocol == control::PROTOCOL_VERSION => {
                greeted = true;
                hello.clone()
            }
            Request::Hello { protocol } => {
                let response = error_response(
                    "InvalidRequest",
                    &format!(
                        "protocol {protocol} is not spoken here (this is {})",
                        control::PROTOCOL_VERSION
                    ),
                );
                write_frame(&mut stream, &response)?;
                return Ok(());
            }
            _ if !greeted => {
                let response = error_response("InvalidRequest", "the first request is hello");
                write_frame(&mut stream, &response)?;
                return Ok(());
            }
            request => {
                let (reply, answer) = flume::bounded(1);
                if jobs.send((request, reply)).is_err() {
                    return Ok(());
                }
                answer
                    .recv()
                    .unwrap_or_else(|_| error_response("InternalError", "control server stopped"))
            }
        };
        write_frame(&mut stream, &response)?;
    }
    Ok(())
}

fn error_response(code: &str, message: &str) -> Response {
    Response::Error {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

fn shard_error_response(error: &ShardError) -> Response {
    let code = match error {
        ShardError::NoSuchBucket => "NoSuchBucket",
        ShardError::BucketAlreadyOwnedByYou => "BucketAlreadyExists",
        ShardError::BucketNotEmpty => "BucketNotEmpty",
        ShardError::TooManyBuckets => "TooManyBuckets",
        ShardError::QuotaExceeded => "QuotaExceeded",
        ShardError::TooManyUploads => "TooManyUploads",
        ShardError::ShuttingDown => "ServiceUnavailable",
        ShardError::InvalidBucketState(_) => "InvalidBucketState",
        _ => "InternalError",
    };
    error_response(code, &error.to_string())
}

/// Who a bucket belongs to, or whom a change is attributed to.
struct Owner {
    tenant_id: Option<String>,
    user_id: Option<String>,
}

/// The one thread that applies requests, in arrival order.
struct Applier {
    data_dir: PathBuf,
    region: String,
    shard_count: u32,
    partition_count: u32,
    inboxes: Vec<flume::Sender<MeshMessage>>,
    /// The identity in force: rewritten (sealed under the new version) by a rotation.
    identity: Arc<IdentitySnapshot>,
    identity_version: u64,
    settings_version: u64,
    /// Requests applied, for the request ids of control-channel bucket events.
    requests: u64,
    readers: std::collections::HashMap<u32, MetaReader>,
    master_keys: MasterKeys,
    master_keys_path: PathBuf,
}

impl Applier {
    fn new(config: ControlConfig) -> Applier {
        Applier {
            data_dir: config.data_dir,
            region: config.region,
            shard_count: config.shard_count,
            partition_count: config.partition_count,
            inboxes: config.inboxes,
            identity_version: config.identity.version,
            identity: Arc::new(config.identity),
            settings_version: config.settings.version,
            requests: 0,
            readers: std::collections::HashMap::new(),
            master_keys: config.master_keys,
            master_keys_path: config.master_keys_path,
        }
    }

    fn run(mut self, jobs: &flume::Receiver<Job>) {
        while let Ok((request, reply)) = jobs.recv() {
            let response = self.apply(request);
            let _ = reply.send(response);
        }
    }

    fn apply(&mut self, request: Request) -> Response {
        let result = match request {
            Request::Hello { .. } => Ok(Response::Ok),
            Request::PutIdentity { snapshot } => self.put_identity(snapshot),
            Request::PutSettings { snapshot } => self.put_settings(snapshot),
            Request::Status => self.status(),
            Request::ReadEvents {
                partition,
                after,
                limit,
            } => self.read_events(partition, after, limit),
            Request::TrimEvents { partition, through } => {
                self.check_partition(partition).and_then(|()| {
                    self.ask(owner_of(partition, self.shard_count), |reply| {
                        ControlMessage::TrimEvents {
                            partition_id: partition,
                            through,
                            reply,
                        }
                    })
                    .map(|()| Response::Ok)
                })
            }
            Request::ListBuckets => self.list_buckets(),
            Request::CreateBucket {
                name,
                tenant_id,
                user_id,
                versioning,
                object_lock,
            } => self.create_bucket(name, Owner { tenant_id, user_id }, versioning, object_lock),
            Request::DeleteBucket { name } => {
                let actor = self.actor(None, None);
                self.catalogue(|reply| MeshMessage::DeleteBucket { name, actor, reply })
                    .map(|()| Response::Ok)
            }
            Request::GetBucketConfig { name } => self
                .bucket_record(&name)
                .map(|record| Response::BucketConfig(Box::new(bucket_config::to_wire(&record)))),
            Request::UpdateBucketConfig {
                name,
                update,
                tenant_id,
                user_id,
            } => self.update_bucket_config(name, update, Owner { tenant_id, user_id }),
            Request::ListVersions(query) => self.list_versions(&query),
            Request::RotateMasterKey => self.rotate_master_key(),
            Request::EncryptionStatus => self.encryption_status(),
            Request::SealingKeys => Ok(Response::SealingKeys(
                sealing_keys(&self.master_keys, sealing::ADMIN_SECRETS_LABEL).to_wire(),
            )),
            Request::MintSession(request) => self.mint_session(&request),
            Request::Metrics => self.metrics(),
        };
        result.unwrap_or_else(|response| response)
    }

    fn put_identity(&mut self, snapshot: IdentitySnapshot) -> Result<Response, Response> {
        snapshot
            .validate()
            .map_err(|message| error_response("InvalidRequest", &message))?;
        if snapshot.version < self.identity_version {
            return Err(error_response(
                "StaleVersion",
                &format!(
                    "identity version {} is older than the one in force ({})",
                    snapshot.version, self.identity_version
                ),
            ));
        }
        persist_identity(&self.data_dir, &self.master_keys, &snapshot)
            .map_err(|error| error_response("InternalError", &error.to_string()))?;
        // Each shard builds its own index from the shared, read-only snapshot.
        let version = snapshot.version;
        let shared = Arc::new(snapshot);
        self.broadcast(|reply| ControlMessage::Identity {
            snapshot: Arc::clone(&shared),
            reply,
        })?;
        self.identity = shared;
        self.identity_version = version;
        Ok(Response::Ok)
    }

    /// Session credentials for an enabled user of the identity in force.
    fn mint_session(&self, request: &control::wire::MintSession) -> Result<Response, Response> {
        let duration_max = control::wire::SESSION_DURATION_MAX_SECS;
        if !(1..=duration_max).contains(&request.duration_secs) {
            return Err(error_response(
                "InvalidRequest",
                &format!("a session lasts 1 to {duration_max} seconds"),
            ));
        }
        if let Some(document) = &request.policy {
            crate::sessions::check_session_policy(document)
                .map_err(|reason| error_response("MalformedPolicy", &reason))?;
        }
        let identity = &self.identity;
        let tenant_enabled = |tenant: Option<&str>| {
            tenant.is_none_or(|id| identity.tenants.iter().any(|t| t.id == id && t.enabled))
        };
        let enabled = identity
            .users
            .iter()
            .find(|user| user.id == request.user_id)
            .is_some_and(|user| user.enabled && tenant_enabled(user.tenant_id.as_deref()));
        if !enabled {
            return Err(error_response(
                "AccessDenied",
                "no such user, or the user or their tenant is disabled",
            ));
        }
        let session = crate::sessions::SessionRequest {
            user_id: &request.user_id,
            parent_access_key: None,
            duration_secs: request.duration_secs,
            policy: request.policy.as_deref(),
            role: None,
        };
        let keys = crate::sessions::token_keys(&self.master_keys);
        Ok(Response::Session(crate::sessions::mint(
            &keys,
            session,
            crate::events::now_ms(),
        )))
    }

    fn put_settings(&mut self, snapshot: SettingsSnapshot) -> Result<Response, Response> {
        if snapshot.version < self.settings_version {
            return Err(error_response(
                "StaleVersion",
                &format!(
                    "settings version {} is older than the one in force ({})",
                    snapshot.version, self.settings_version
                ),
            ));
        }
        persist_json(&self.data_dir.join(SETTINGS_FILE_NAME), &snapshot)
            .map_err(|error| error_response("InternalError", &error.to_string()))?;
        let snapshot = Arc::new(snapshot);
        self.broadcast(|reply| ControlMessage::Settings {
            snapshot: Arc::clone(&snapshot),
            reply,
        })?;
        self.settings_version = snapshot.version;
        Ok(Response::Ok)
    }

    /// Adds a master key version: stored first (a crash after this point restarts with the
    /// new version, and the start-up re-wrap finishes the job), then swapped in on every
    /// shard, each of which re-wraps its data keys in the background.
    fn rotate_master_key(&mut self) -> Result<Response, Response> {
        let mut keys = self.master_keys.clone();
        let version = keys.rotate();
        keys.store(&self.master_keys_path)
            .map_err(|error| error_response("InternalError", &error.to_string()))?;
        self.master_keys = keys.clone();
        // identity.json moves to the new version now (a failure here leaves it on the old
        // version, which the next start or push rewrites; the old version stays in the file).
        if let Err(error) = persist_identity(&self.data_dir, &self.master_keys, &self.identity) {
            tracing::error!(%error, "identity.json not re-sealed under the new master key");
        }
        let shared = Arc::new(keys);
        self.broadcast(|reply| ControlMessage::MasterKeys {
            keys: Arc::clone(&shared),
            reply,
        })?;
        tracing::info!(
            version,
            "master key rotated; re-wrapping data keys in the background"
        );
        self.encryption_status()
    }

    /// Counted here, on the control thread, through the read-only connections: a scan of
    /// every partition's encrypted rows never stalls a shard.
    fn encryption_status(&mut self) -> Result<Response, Response> {
        let mut totals: BTreeMap<u32, u64> = BTreeMap::new();
        for partition in 0..self.partition_count {
            let counts = self
                .reader(partition)?
                .data_keys_by_kek_version()
                .map_err(|error| shard_error_response(&error))?;
            for (version, count) in counts {
                *totals.entry(version).or_insert(0) += count;
            }
        }
        let current_version = self.master_keys.current().0;
        Ok(Response::Encryption(EncryptionStatus {
            current_version,
            versions: self.master_keys.versions().collect(),
            data_keys_on_old_versions: totals
                .iter()
                .filter(|(version, _)| **version != current_version)
                .map(|(_, count)| count)
                .sum(),
            data_keys_by_version: totals
                .into_iter()
                .filter(|(_, count)| *count > 0)
                .map(|(version, data_keys)| VersionDataKeys { version, data_keys })
                .collect(),
        }))
    }

    /// A read-only connection to a partition's metadata, opened on first use: the event log
    /// is read here, on the control thread, so a large page never stalls a shard.
    fn reader(&mut self, partition: u32) -> Result<&MetaReader, Response> {
        self.check_partition(partition)?;
        if !self.readers.contains_key(&partition) {
            let dir = shard::partition::partition_dir(&self.data_dir, partition);
            let reader = MetaReader::open(&dir).map_err(|error| shard_error_response(&error))?;
            self.readers.insert(partition, reader);
        }
        Ok(&self.readers[&partition])
    }

    /// Every shard's counters, merged (`runtime::metrics::summary`). A shard that does not
    /// answer within `SHARD_TIMEOUT` fails the request, as for every other question here.
    fn metrics(&self) -> Result<Response, Response> {
        let mut snapshots = Vec::with_capacity(self.inboxes.len());
        for inbox in &self.inboxes {
            snapshots.push(call(inbox, |reply| MeshMessage::MetricsSnapshot { reply })?);
        }
        Ok(Response::Metrics(crate::metrics::summary(
            &snapshots,
            self.shard_count,
        )))
    }

    fn status(&mut self) -> Result<Response, Response> {
        let mut event_heads = Vec::with_capacity(self.partition_count as usize);
        for partition in 0..self.partition_count {
            let head = self.reader(partition)?.event_head();
            event_heads.push(head.map_err(|error| shard_error_response(&error))?);
        }
        Ok(Response::Status(Status {
            shards: self.shard_count,
            partitions: self.partition_count,
            identity_version: self.identity_version,
            settings_version: self.settings_version,
            event_heads,
            master_key_version: self.master_keys.current().0,
        }))
    }

    fn check_partition(&self, partition: u32) -> Result<(), Response> {
        if partition < self.partition_count {
            Ok(())
        } else {
            Err(error_response(
                "InvalidRequest",
                &format!(
                    "partition {partition} does not exist (there are {})",
                    self.partition_count
                ),
            ))
        }
    }

    fn read_events(
        &mut self,
        partition: u32,
        after: u64,
        limit: u32,
    ) -> Result<Response, Response> {
        let limit = limit.min(MAX_EVENTS_PER_READ) as usize;
        let stored = self
            .reader(partition)?
            .events(after, limit)
            .map_err(|error| shard_error_response(&error))?;
        let events = stored
            .into_iter()
            .filter_map(|stored| crate::events::to_wire(partition, stored))
            .collect();
        Ok(Response::Events { events })
    }

    fn list_buckets(&self) -> Result<Response, Response> {
        let records = self.ask(crate::catalogue::COORDINATOR_SHARD, |reply| {
            ControlMessage::Buckets { reply }
        })?;
        let mut usage: BTreeMap<String, shard::BucketUsage> = BTreeMap::new();
        for shard_id in 0..self.shard_count {
            for (bucket, shard_usage) in
                self.ask(shard_id, |reply| ControlMessage::BucketUsage { reply })?
            {
                let total = usage.entry(bucket).or_default();
                total.objects += shard_usage.objects;
                total.bytes += shard_usage.bytes;
            }
        }
        let buckets = records
            .into_iter()
            .map(|record| {
                let used = usage.get(&record.name).copied().unwrap_or_default();
                BucketInfo {
                    name: record.name,
                    created_unix_ms: record.created_ms,
                    tenant_id: record.owner_tenant,
                    user_id: record.owner_user,
                    objects: used.objects,
                    bytes: used.bytes,
                }
            })
            .collect();
        Ok(Response::Buckets { buckets })
    }

    /// Creates a bucket, with versioning and Object Lock when asked (Object Lock needs
    /// versioning `Enabled`, as S3's `x-amz-bucket-object-lock-enabled` turns it on).
    fn create_bucket(
        &mut self,
        name: String,
        owner: Owner,
        versioning: Option<control::buckets::VersioningStatus>,
        object_lock: Option<control::buckets::ObjectLock>,
    ) -> Result<Response, Response> {
        base::names::validate_bucket_name(&name)
            .map_err(|error| error_response("InvalidBucketName", &error.to_string()))?;
        let object_lock = object_lock
            .map(|lock| bucket_config::object_lock_from_wire(&lock))
            .transpose()
            .map_err(|message| error_response("InvalidRequest", &message))?;
        let versioning = versioning.map_or(Versioning::Unversioned, bucket_config::versioning);
        if object_lock.is_some() && versioning != Versioning::Enabled {
            return Err(error_response(
                "InvalidRequest",
                "Object Lock needs versioning Enabled on the bucket",
            ));
        }
        let actor = self.actor(owner.user_id.clone(), owner.tenant_id.clone());
        let record = BucketRecord {
            name,
            created_ms: crate::events::now_ms(),
            region: self.region.clone(),
            tags: Vec::new(),
            owner_tenant: owner.tenant_id,
            owner_user: owner.user_id,
            versioning,
            object_lock,
            ..BucketRecord::default()
        };
        self.catalogue(|reply| MeshMessage::CreateBucket {
            record,
            actor,
            reply,
        })
        .map(|()| Response::Ok)
    }

    /// The coordinator's record of a bucket (`NoSuchBucket` when there is none).
    fn bucket_record(&self, name: &str) -> Result<BucketRecord, Response> {
        self.ask(crate::catalogue::COORDINATOR_SHARD, |reply| {
            ControlMessage::Buckets { reply }
        })?
        .into_iter()
        .find(|record| record.name == name)
        .ok_or_else(|| shard_error_response(&ShardError::NoSuchBucket))
    }

    /// One configuration change through the catalogue (the coordinator applies it to the
    /// bucket's current record, checking its state, and every shard has it before the
    /// answer); answers the configuration now in force.
    fn update_bucket_config(
        &mut self,
        name: String,
        update: control::buckets::BucketConfigUpdate,
        owner: Owner,
    ) -> Result<Response, Response> {
        let change = bucket_config::change_from_wire(update)
            .map_err(|message| error_response("InvalidRequest", &message))?;
        let actor = self.actor(owner.user_id, owner.tenant_id);
        let bucket = name.clone();
        self.catalogue(|reply| {
            MeshMessage::BucketConfig(crate::mesh::BucketConfigMessage::Update {
                name,
                change,
                actor,
                reply,
            })
        })?;
        let record = self.bucket_record(&bucket)?;
        Ok(Response::BucketConfig(Box::new(bucket_config::to_wire(
            &record,
        ))))
    }

    /// A page of versions, merged here from every partition's read-only connection (a key's
    /// versions all live in its partition, so the merge is by key alone), like the event log:
    /// a console page never stalls a shard. Partitions are read in chunks, lazily.
    fn list_versions(
        &mut self,
        query: &control::buckets::VersionsQuery,
    ) -> Result<Response, Response> {
        self.bucket_record(&query.bucket)?;
        let max_keys = query.max_keys.min(control::buckets::MAX_VERSIONS_PER_PAGE) as usize;
        let start = self.versions_start(query)?;
        let prefix = query.prefix.as_bytes();
        let mut cursors: Vec<bucket_config::Cursor> = (0..self.partition_count)
            .map(|partition| bucket_config::Cursor::new(partition, start.clone()))
            .collect();
        let mut page = control::buckets::VersionsPage::default();
        loop {
            for cursor in &mut cursors {
                if let Some(start) = cursor.wants_more() {
                    let reader = self.reader(cursor.partition)?;
                    let entries = reader
                        .list_versions(&query.bucket, &start, prefix, bucket_config::CHUNK)
                        .map_err(|error| shard_error_response(&error))?;
                    cursor.fill(entries);
                }
            }
            let Some(next) = bucket_config::smallest(&cursors) else {
                break;
            };
            if page.versions.len() == max_keys {
                page.is_truncated = true;
                break;
            }
            let entry = cursors[next].pop();
            page.versions.push(bucket_config::version_to_wire(entry));
        }
        if page.is_truncated
            && let Some(last) = page.versions.last()
        {
            page.next_key_marker = Some(last.key.clone());
            page.next_version_id_marker = Some(last.version_id.clone());
        }
        Ok(Response::Versions(page))
    }

    /// Where a versions page resumes: after the version the markers name (its older versions,
    /// then later keys), after every version of `key_marker` when no version is named or the
    /// key no longer has it.
    fn versions_start(
        &mut self,
        query: &control::buckets::VersionsQuery,
    ) -> Result<shard::VersionStart, Response> {
        let key = query.key_marker.as_bytes().to_vec();
        if query.version_id_marker.is_empty() {
            return Ok(if key.is_empty() {
                shard::VersionStart::AtOrAfterKey(Vec::new())
            } else {
                shard::VersionStart::AfterKey(key)
            });
        }
        if key.is_empty() {
            return Err(error_response(
                "InvalidRequest",
                "a version-id marker needs a key marker",
            ));
        }
        let seq = if query.version_id_marker == "null" {
            let partition = crate::placement::partition_of(
                &query.bucket,
                &query.key_marker,
                self.partition_count,
            );
            self.reader(partition)?
                .seq_of_version(&query.bucket, &query.key_marker, &shard::VersionRef::Null)
                .map_err(|error| shard_error_response(&error))?
        } else {
            Some(
                shard::versions::seq_of(&query.version_id_marker).ok_or_else(|| {
                    error_response(
                        "InvalidRequest",
                        "the version-id marker is not a version id",
                    )
                })?,
            )
        };
        Ok(match seq {
            Some(seq) => shard::VersionStart::AfterVersion { key, seq },
            None => shard::VersionStart::AfterKey(key),
        })
    }

    /// Who bucket events of the control channel are attributed to: the user the admin names,
    /// with a request id of our own (`control-<n>`).
    fn actor(&mut self, user_id: Option<String>, tenant_id: Option<String>) -> Actor {
        self.requests += 1;
        Actor {
            access_key_id: None,
            user_id,
            tenant_id,
            request_id: format!("control-{}", self.requests),
            source_ip: None,
        }
    }

    /// A catalogue request to the coordinator.
    fn catalogue<T>(&self, build: impl FnOnce(Reply<T>) -> MeshMessage) -> Result<T, Response> {
        let inbox = &self.inboxes[crate::catalogue::COORDINATOR_SHARD as usize];
        call(inbox, build)
    }

    /// A control request to one shard.
    fn ask<T>(
        &self,
        shard_id: u32,
        build: impl FnOnce(Reply<T>) -> ControlMessage,
    ) -> Result<T, Response> {
        call(&self.inboxes[shard_id as usize], |reply| {
            MeshMessage::Control(build(reply))
        })
    }

    /// Sends to every shard first, then waits for every answer: the shards apply in parallel.
    fn broadcast(&self, build: impl Fn(Reply<()>) -> ControlMessage) -> Result<(), Response> {
        let mut answers = Vec::with_capacity(self.inboxes.len());
        for inbox in &self.inboxes {
            let (reply, answer) = flume::bounded(1);
            inbox
                .send_timeout(MeshMessage::Control(build(reply)), SHARD_TIMEOUT)
                .map_err(|_| error_response("ServiceUnavailable", "a shard does not answer"))?;
            answers.push(answer);
        }
        for answer in answers {
            wait(&answer)?;
        }
        Ok(())
    }
}

fn call<T>(
    inbox: &flume::Sender<MeshMessage>,
    build: impl FnOnce(Reply<T>) -> MeshMessage,
) -> Result<T, Response> {
    let (reply, answer) = flume::bounded(1);
    inbox
        .send_timeout(build(reply), SHARD_TIMEOUT)
        .map_err(|_| error_response("ServiceUnavailable", "a shard does not answer"))?;
    wait(&answer)
}

fn wait<T>(answer: &flume::Receiver<Result<T, ShardError>>) -> Result<T, Response> {
    match answer.recv_timeout(SHARD_TIMEOUT) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(shard_error_response(&error)),
        Err(_) => Err(error_response(
            "ServiceUnavailable",
            "a shard does not answer",
        )),
    }
}

/// A shard's side of `ControlMessage`: quick answers inline, commits spawned.
pub fn serve(context: &std::rc::Rc<crate::context::ShardContext>, message: ControlMessage) {
    match message {
        ControlMessage::Identity { snapshot, reply } => {
            *context.identity.borrow_mut() = std::rc::Rc::new(IdentityIndex::build(&snapshot));
            let _ = reply.send(Ok(()));
        }
        ControlMessage::Settings { snapshot, reply } => {
            *context.dynamic_settings.borrow_mut() = std::rc::Rc::new(snapshot.as_ref().clone());
            let _ = reply.send(Ok(()));
        }
        ControlMessage::TrimEvents {
            partition_id,
            through,
            reply,
        } => {
            let Some(partition) = context
                .partitions
                .get(&partition_id)
                .map(std::rc::Rc::clone)
            else {
                let _ = reply.send(Err(ShardError::Metadata(format!(
                    "partition {partition_id} is not here"
                ))));
                return;
            };
            monoio::spawn(async move {
                let started = std::time::Instant::now();
                let result = partition
                    .commit(shard::meta::MetaOp::TrimEvents { through }, Vec::new())
                    .await
                    .map(|_| ());
                let task = shard::TaskType::EventLogTrim;
                partition.count_task(task, started.elapsed(), result.is_ok());
                let _ = reply.send(result);
            });
        }
        ControlMessage::BucketUsage { reply } => {
            // Fresh from SQLite, not the periodic view: the admin wants exact numbers.
            let result = crate::usage::refresh(context)
                .map(|_| context.usage.borrow().local_buckets().into_iter().collect());
            let _ = reply.send(result);
        }
        ControlMessage::Buckets { reply } => {
            let _ = reply.send(Ok(context.bucket_list()));
        }
        ControlMessage::TenantUsage { from_shard, totals } => {
            crate::usage::apply_remote(context, from_shard, totals);
        }
        ControlMessage::DeniedEvent { event } => crate::events::append_denied(context, *event),
        ControlMessage::MasterKeys { keys, reply } => {
            crate::rewrap::apply_keyring(context, &keys);
            let _ = reply.send(Ok(()));
        }
    }
}

/// Bucket configuration between the wire (`control::buckets`) and the engine's types, with the
/// engine's validation, and the lazy merge of the versions listing.
mod bucket_config {
    use std::collections::VecDeque;

    use base::lifecycle::{Expiration, Filter, LifecycleConfiguration, NoncurrentExpiration, Rule};
    use base::object_lock::{
        DefaultRetention, ObjectLockConfiguration, RetentionMode, RetentionPeriod,
        RetentionPeriodError,
    };
    use control::buckets as wire;
    use shard::{BucketRecord, VersionEntry, VersionStart, Versioning};

    use crate::catalogue::BucketConfigChange;

    pub fn versioning(status: wire::VersioningStatus) -> Versioning {
        match status {
            wire::VersioningStatus::Enabled => Versioning::Enabled,
            wire::VersioningStatus::Suspended => Versioning::Suspended,
        }
    }

    /// A wire change as a catalogue change, validated as the S3 port validates it (the
    /// message says what is wrong; nothing is changed).
    pub fn change_from_wire(
        update: wire::BucketConfigUpdate,
    ) -> Result<BucketConfigChange, String> {
        Ok(match update {
            wire::BucketConfigUpdate::Versioning { status } => {
                BucketConfigChange::Versioning(versioning(status))
            }
            wire::BucketConfigUpdate::ObjectLock { object_lock } => {
                BucketConfigChange::ObjectLock(object_lock_from_wire(&object_lock)?)
            }
            wire::BucketConfigUpdate::Lifecycle { lifecycle } => BucketConfigChange::Lifecycle(
                lifecycle
                    .map(|config| lifecycle_from_wire(&config))
                    .transpose()?,
            ),
            // Validated by the sender (the S3 rules live in s3-proto and policy, not here).
            wire::BucketConfigUpdate::Cors { rules } => BucketConfigChange::Cors(
                rules
                    .into_iter()
                    .map(|rule| shard::CorsRule {
                        id: rule.id,
                        allowed_methods: rule.allowed_methods,
                        allowed_origins: rule.allowed_origins,
                        allowed_headers: rule.allowed_headers,
                        expose_headers: rule.expose_headers,
                        max_age_seconds: rule.max_age_seconds,
                    })
                    .collect(),
            ),
            wire::BucketConfigUpdate::Policy { policy } => BucketConfigChange::Policy(policy),
            wire::BucketConfigUpdate::Tags { tags } => {
                BucketConfigChange::Tags(tags.into_iter().map(|tag| (tag.key, tag.value)).collect())
            }
        })
    }

    pub fn object_lock_from_wire(
        lock: &wire::ObjectLock,
    ) -> Result<ObjectLockConfiguration, String> {
        let Some(default) = lock.default_retention else {
            return Ok(ObjectLockConfiguration { rule: None });
        };
        let period = match default.period {
            wire::RetentionPeriod::Days(days) => RetentionPeriod::Days(days),
            wire::RetentionPeriod::Years(years) => RetentionPeriod::Years(years),
        };
        period.validate().map_err(|error| match error {
            RetentionPeriodError::NotPositive => {
                "Default retention period must be a positive integer value".to_owned()
            }
            RetentionPeriodError::TooLarge => format!(
                "Default retention period too large: at most {} days or {} years",
                base::object_lock::DEFAULT_RETENTION_DAYS_MAX,
                base::object_lock::DEFAULT_RETENTION_YEARS_MAX
            ),
        })?;
        let mode = match default.mode {
            wire::RetentionMode::Governance => RetentionMode::Governance,
            wire::RetentionMode::Compliance => RetentionMode::Compliance,
        };
        Ok(ObjectLockConfiguration {
            rule: Some(DefaultRetention { mode, period }),
        })
    }

    /// Rules without an ID get one (as S3 assigns them), then the whole configuration is
    /// checked by `LifecycleConfiguration::validate`.
    pub fn lifecycle_from_wire(config: &wire::Lifecycle) -> Result<LifecycleConfiguration, String> {
        let mut lifecycle = LifecycleConfiguration {
            rules: config
                .rules
                .iter()
                .map(|rule| Rule {
                    id: rule.id.clone(),
                    enabled: rule.enabled,
                    filter: Filter {
                        prefix: rule.filter.prefix.clone(),
                        tags: rule
                            .filter
                            .tags
                            .iter()
                            .map(|tag| (tag.key.clone(), tag.value.clone()))
                            .collect(),
                        size_greater_than: rule.filter.size_greater_than,
                        size_less_than: rule.filter.size_less_than,
                    },
                    expiration: rule.expiration.map(|expiration| match expiration {
                        wire::Expiration::Days(days) => Expiration::Days(days),
                        wire::Expiration::DateUnixMs(ms) => Expiration::Date(ms),
                        wire::Expiration::ExpiredObjectDeleteMarker => {
                            Expiration::ExpiredObjectDeleteMarker
                        }
                    }),
                    noncurrent_expiration: rule.noncurrent_expiration.map(|noncurrent| {
                        NoncurrentExpiration {
                            noncurrent_days: noncurrent.noncurrent_days,
                            newer_noncurrent_versions: noncurrent.newer_noncurrent_versions,
                        }
                    }),
                    abort_incomplete_days: rule.abort_incomplete_days,
                    legacy_prefix: false,
                })
                .collect(),
            ..LifecycleConfiguration::default()
        };
        lifecycle.assign_missing_ids();
        lifecycle.validate().map_err(|error| error.message())?;
        Ok(lifecycle)
    }

    fn lifecycle_to_wire(lifecycle: &LifecycleConfiguration) -> wire::Lifecycle {
        wire::Lifecycle {
            rules: lifecycle
                .rules
                .iter()
                .map(|rule| wire::LifecycleRule {
                    id: rule.id.clone(),
                    enabled: rule.enabled,
                    filter: wire::LifecycleFilter {
                        prefix: rule.filter.prefix.clone(),
                        tags: tags_to_wire(&rule.filter.tags),
                        size_greater_than: rule.filter.size_greater_than,
                        size_less_than: rule.filter.size_less_than,
                    },
                    expiration: rule.expiration.map(|expiration| match expiration {
                        Expiration::Days(days) => wire::Expiration::Days(days),
                        Expiration::Date(ms) => wire::Expiration::DateUnixMs(ms),
                        Expiration::ExpiredObjectDeleteMarker => {
                            wire::Expiration::ExpiredObjectDeleteMarker
                        }
                    }),
                    noncurrent_expiration: rule.noncurrent_expiration.map(|noncurrent| {
                        wire::NoncurrentExpiration {
                            noncurrent_days: noncurrent.noncurrent_days,
                            newer_noncurrent_versions: noncurrent.newer_noncurrent_versions,
                        }
                    }),
                    abort_incomplete_days: rule.abort_incomplete_days,
                })
                .collect(),
        }
    }

    pub fn to_wire(record: &BucketRecord) -> wire::BucketConfig {
        wire::BucketConfig {
            name: record.name.clone(),
            tenant_id: record.owner_tenant.clone(),
            user_id: record.owner_user.clone(),
            versioning: match record.versioning {
                Versioning::Unversioned => None,
                Versioning::Enabled => Some(wire::VersioningStatus::Enabled),
                Versioning::Suspended => Some(wire::VersioningStatus::Suspended),
            },
            object_lock: record.object_lock.map(|lock| wire::ObjectLock {
                default_retention: lock.rule.map(|rule| wire::DefaultRetention {
                    mode: match rule.mode {
                        RetentionMode::Governance => wire::RetentionMode::Governance,
                        RetentionMode::Compliance => wire::RetentionMode::Compliance,
                    },
                    period: match rule.period {
                        RetentionPeriod::Days(days) => wire::RetentionPeriod::Days(days),
                        RetentionPeriod::Years(years) => wire::RetentionPeriod::Years(years),
                    },
                }),
            }),
            lifecycle: record.lifecycle.as_ref().map(lifecycle_to_wire),
            cors: record
                .cors
                .iter()
                .map(|rule| wire::CorsRule {
                    id: rule.id.clone(),
                    allowed_methods: rule.allowed_methods.clone(),
                    allowed_origins: rule.allowed_origins.clone(),
                    allowed_headers: rule.allowed_headers.clone(),
                    expose_headers: rule.expose_headers.clone(),
                    max_age_seconds: rule.max_age_seconds,
                })
                .collect(),
            policy: record.policy.clone(),
            tags: tags_to_wire(&record.tags),
        }
    }

    fn tags_to_wire(tags: &[(String, String)]) -> Vec<wire::Tag> {
        tags.iter()
            .map(|(key, value)| wire::Tag {
                key: key.clone(),
                value: value.clone(),
            })
            .collect()
    }

    pub fn version_to_wire(entry: VersionEntry) -> wire::ObjectVersion {
        wire::ObjectVersion {
            key: String::from_utf8_lossy(&entry.key).into_owned(),
            version_id: entry.version_id.unwrap_or_else(|| "null".to_owned()),
            is_latest: entry.is_latest,
            delete_marker: entry.delete_marker,
            size: entry.size_bytes,
            etag: entry.etag,
            last_modified_unix_ms: entry.last_modified_ms,
        }
    }

    /// Entries read from a partition at once.
    pub const CHUNK: usize = 256;

    /// One partition's place in a versions merge: what was read and not yet taken, and where
    /// to read next (`None`: the partition has nothing more).
    pub struct Cursor {
        pub partition: u32,
        buffer: VecDeque<VersionEntry>,
        next: Option<VersionStart>,
    }

    impl Cursor {
        pub fn new(partition: u32, start: VersionStart) -> Cursor {
            Cursor {
                partition,
                buffer: VecDeque::new(),
                next: Some(start),
            }
        }

        /// Where to read from when the buffer is empty and the partition may have more.
        pub fn wants_more(&self) -> Option<VersionStart> {
            if self.buffer.is_empty() {
                self.next.clone()
            } else {
                None
            }
        }

        pub fn fill(&mut self, entries: Vec<VersionEntry>) {
            self.next = match entries.last() {
                Some(last) if entries.len() >= CHUNK => Some(VersionStart::AfterVersion {
                    key: last.key.clone(),
                    seq: last.seq,
                }),
                _ => None,
            };
            self.buffer.extend(entries);
        }

        pub fn pop(&mut self) -> VersionEntry {
            self.buffer
                .pop_front()
                .expect("pop follows smallest(), which saw an entry")
        }
    }

    /// The cursor whose next entry comes first in (key, newest first) order.
    pub fn smallest(cursors: &[Cursor]) -> Option<usize> {
        cursors
            .iter()
            .enumerate()
            .filter_map(|(index, cursor)| cursor.buffer.front().map(|entry| (index, entry)))
            .min_by(|(_, a), (_, b)| {
                (&a.key, std::cmp::Reverse(a.seq)).cmp(&(&b.key, std::cmp::Reverse(b.seq)))
            })
            .map(|(index, _)| index)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn entry(key: &str, seq: u64) -> VersionEntry {
            VersionEntry {
                key: key.as_bytes().to_vec(),
                seq,
                version_id: None,
                is_latest: false,
                delete_marker: false,
                size_bytes: 0,
                etag: String::new(),
                last_modified_ms: 0,
                noncurrent_since_ms: None,
            }
        }

        #[test]
        fn the_merge_takes_keys_in_order_and_reads_on_after_a_full_chunk() {
            let start = VersionStart::AtOrAfterKey(Vec::new());
            let mut a = Cursor::new(0, start.clone());
            let mut b = Cursor::new(1, start);
            a.fill(vec![entry("a", 9), entry("a", 3), entry("c", 1)]);
            assert_eq!(a.wants_more(), None, "a short chunk ends the partition");
            let full: Vec<_> = (0..CHUNK).map(|i| entry("b", (CHUNK - i) as u64)).collect();
            b.fill(full);
            let mut cursors = vec![a, b];
            let mut order = Vec::new();
            while let Some(next) = smallest(&cursors) {
                let taken = cursors[next].pop();
                order.push((String::from_utf8(taken.key).unwrap(), taken.seq));
            }
            assert_eq!(
                order[..3],
                [("a".into(), 9), ("a".into(), 3), ("b".into(), 256)]
            );
            assert_eq!(order.last(), Some(&("c".to_owned(), 1)));
            assert_eq!(
                cursors[1].wants_more(),
                Some(VersionStart::AfterVersion {
                    key: b"b".to_vec(),
                    seq: 1
                })
            );
        }

        #[test]
        fn configurations_are_validated_and_round_trip() {
            let rule = wire::LifecycleRule {
                enabled: true,
                expiration: Some(wire::Expiration::Days(3)),
                ..wire::LifecycleRule::default()
            };
            let config = lifecycle_from_wire(&wire::Lifecycle {
                rules: vec![rule.clone()],
            })
            .unwrap();
            assert!(!config.rules[0].id.is_empty(), "an ID is assigned");
            let back = lifecycle_to_wire(&config);
            assert_eq!(back.rules[0].expiration, rule.expiration);
            let duplicate = wire::LifecycleRule {
                id: "x".into(),
                ..rule.clone()
            };
            let error = lifecycle_from_wire(&wire::Lifecycle {
                rules: vec![duplicate.clone(), duplicate],
            })
            .unwrap_err();
            assert!(error.contains("unique"), "{error}");
            let lock = |period| wire::ObjectLock {
                default_retention: Some(wire::DefaultRetention {
                    mode: wire::RetentionMode::Governance,
                    period,
                }),
            };
            assert!(object_lock_from_wire(&lock(wire::RetentionPeriod::Days(0))).is_err());
            assert!(object_lock_from_wire(&lock(wire::RetentionPeriod::Years(101))).is_err());
            let ok = object_lock_from_wire(&lock(wire::RetentionPeriod::Years(100))).unwrap();
            assert_eq!(ok.rule.unwrap().period, RetentionPeriod::Years(100));
        }
    }
}

#[cfg(test)]
mod identity_file_tests {
    use control::identity::{AccessKey, User};

    use super::*;

    fn snapshot(secret: &str) -> IdentitySnapshot {
        IdentitySnapshot {
            version: 3,
            tenants: Vec::new(),
            users: vec![User {
                id: "u1".into(),
                username: "alice".into(),
                tenant_id: None,
                role: control::identity::Role::User,
                enabled: true,
                policy_ids: Vec::new(),
                group_ids: Vec::new(),
                sessions_revoked_at_ms: None,
            }],
            access_keys: vec![AccessKey {
                access_key_id: "AK1".into(),
                secret_access_key: secret.into(),
                user_id: "u1".into(),
                enabled: true,
            }],
            policies: Vec::new(),
            groups: Vec::new(),
        }
    }

    fn raw(dir: &Path) -> String {
        std::fs::read_to_string(dir.join(IDENTITY_FILE_NAME)).unwrap()
    }

    #[test]
    fn identity_json_holds_no_plaintext_secret_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let keys = MasterKeys::generate();
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        persist_identity(dir.path(), &keys, &snapshot(secret)).unwrap();
        assert!(!raw(dir.path()).contains(secret));
        let (loaded, _) = load_persisted(dir.path(), &keys).unwrap();
        assert_eq!(loaded, snapshot(secret));
    }

    #[test]
    fn a_plaintext_file_is_sealed_at_start_and_a_rotation_moves_it() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "plaintext-from-an-older-version-0123456";
        // identity.json as versions before sealing wrote it.
        persist_json(&dir.path().join(IDENTITY_FILE_NAME), &snapshot(secret)).unwrap();
        assert!(raw(dir.path()).contains(secret));
        let mut keys = MasterKeys::generate();
        let (loaded, _) = load_persisted(dir.path(), &keys).unwrap();
        assert_eq!(loaded, snapshot(secret));
        assert!(!raw(dir.path()).contains(secret), "rewritten sealed");
        let sealed_under = |dir: &Path| {
            let file: IdentityFile = serde_json::from_str(&raw(dir)).unwrap();
            sealing::sealed_version(&file.snapshot.access_keys[0].secret_access_key)
        };
        assert_eq!(sealed_under(dir.path()), Some(1));
        // A start after a rotation that did not get to rewrite the file moves it.
        keys.rotate();
        let (loaded, _) = load_persisted(dir.path(), &keys).unwrap();
        assert_eq!(loaded, snapshot(secret));
        assert_eq!(sealed_under(dir.path()), Some(2));
    }

    #[test]
    fn other_master_keys_start_with_an_empty_identity() {
        let dir = tempfile::tempdir().unwrap();
        persist_identity(dir.path(), &MasterKeys::generate(), &snapshot("s")).unwrap();
        let (loaded, _) = load_persisted(dir.path(), &MasterKeys::generate()).unwrap();
        assert_eq!(loaded, IdentitySnapshot::default());
    }
}

//! Thread-per-core bootstrap: one pinned thread per shard, each with its own monoio executor
//! (io_uring, or epoll where io_uring is unavailable), its own listener on the shared S3 port
//! (SO_REUSEPORT: the kernel spreads connections over the shards), its partitions and its inbox.
//!
//! Start-up is a barrier: every shard opens (and recovers) its partitions, the coordinator
//! reads the bucket catalogue, and only when all are ready does any shard accept a connection.
//! Shutdown: stop accepting, let running requests finish, flush every partition, exit.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use shard::{BucketRecord, Partition, RecoveryReport, ShardError};

use crate::catalogue;
use crate::context::{BucketEntry, ShardContext, SharedSettings};
use crate::control_server::{self, ControlConfig, ControlServer};
use crate::identity::IdentityIndex;
use crate::mesh::{INBOX_DEPTH, MeshMessage};
use crate::placement::{load_or_format, owner_of};

/// How long shutdown waits for running requests before it stops anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Pending connections per listener.
const LISTEN_BACKLOG: i32 = 1024;
/// io_uring submission queue size per shard.
const RING_ENTRIES: u32 = 1024;

/// What the HTTP front end provides: serving a connection on the shard that holds it.
pub trait ConnectionHandler: Send + Sync + 'static {
    fn serve(
        &self,
        context: Rc<ShardContext>,
        stream: monoio::net::TcpStream,
        buffered: Vec<u8>,
        tls: Option<Box<tls::Session>>,
    ) -> Pin<Box<dyn Future<Output = ()>>>;
}

#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    pub data_dir: PathBuf,
    pub address: SocketAddr,
    pub shard_count: u32,
    pub pin_threads: bool,
    pub settings: SharedSettings,
    /// Where the master keys come from; loaded (or created) once the data directory is
    /// locked, so two servers starting at once cannot each create a different keyring.
    pub master_keys: crate::keyring::KeySource,
    /// TLS on the S3 port (`None`: plain HTTP).
    pub tls: Option<Arc<tls::rustls::ServerConfig>>,
}

/// A running data plane.
pub struct Running {
    pub local_address: SocketAddr,
    pub io_uring: bool,
    pub reports: Vec<RecoveryReport>,
    inboxes: Vec<flume::Sender<MeshMessage>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    control: ControlServer,
    /// Held for the life of the process: the kernel drops the lock when it exits, even on
    /// kill -9, so a stale lock never blocks a restart.
    _data_dir_lock: std::fs::File,
}

/// Name of the lock file in the data directory (see `lock_data_dir`).
pub const DATA_DIR_LOCK_FILE: &str = "LOCK";

/// Takes the data directory's exclusive lock (flock on `LOCK`), without waiting: a second
/// server, or `maxiofs verify` while a server runs, is refused instead of sharing the files.
pub fn lock_data_dir(data_dir: &std::path::Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(data_dir.join(DATA_DIR_LOCK_FILE))?;
    // SAFETY: plain syscall on a descriptor owned by `file`; no memory is passed.
    #[allow(unsafe_code)]
    let result = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if result != 0 {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!(
                    "data directory {} is in use by another maxiofs process",
                    data_dir.display()
                ),
            ));
        }
        return Err(error);
    }
    Ok(file)
}

impl Running {
    /// The control socket the admin connects to.
    pub fn control_socket(&self) -> &std::path::Path {
        self.control.socket_path()
    }

    /// Gives every shard a reloaded TLS configuration (SIGHUP), through its inbox; connections
    /// accepted after a shard took it handshake with the new certificate.
    pub fn reload_tls(&self, config: &Arc<tls::rustls::ServerConfig>) {
        for inbox in &self.inboxes {
            if inbox
                .send(MeshMessage::TlsConfig(Arc::clone(config)))
                .is_err()
            {
                tracing::warn!("a shard has stopped: it keeps no TLS configuration");
            }
        }
    }

    /// Graceful stop: returns when every shard has finished.
    pub fn shutdown(self) {
        // No identity or bucket change may start while the shards stop.
        self.control.stop();
        for inbox in &self.inboxes {
            let _ = inbox.send(MeshMessage::Shutdown);
        }
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

#[derive(Debug)]
pub enum StartError {
    Io(std::io::Error),
    Shard(u32, ShardError),
    ShardDied(u32),
    MasterKeys(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Io(error) => write!(f, "{error}"),
            StartError::Shard(shard_id, error) => write!(f, "shard {shard_id}: {error}"),
            StartError::ShardDied(shard_id) => write!(f, "shard {shard_id} exited during start"),
            StartError::MasterKeys(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for StartError {}

struct Ready {
    shard_id: u32,
    reports: Vec<RecoveryReport>,
    buckets: Option<Vec<BucketRecord>>,
}

/// Binds `count` listening sockets on the same address with SO_REUSEPORT; the first one
/// resolves port 0 so the others join the same port.
fn bind_listeners(address: SocketAddr, count: u32) -> std::io::Result<Vec<std::net::TcpListener>> {
    if address.port() != 0 {
        // SO_REUSEPORT would let a second server join this port silently and take half of
        // its connections. A plain bind first fails with "address in use" if anyone listens.
        drop(std::net::TcpListener::bind(address)?);
    }
    let mut listeners = Vec::new();
    let mut bound = address;
    for _ in 0..count {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(bound),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&bound.into())?;
        socket.listen(LISTEN_BACKLOG)?;
        let listener: std::net::TcpListener = socket.into();
        bound = listener.local_addr()?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// The last identity and settings the admin pushed: the data plane serves without the admin.
fn load_control_state(
    data_dir: &std::path::Path,
    master_keys: &sse::master::MasterKeys,
) -> Result<
    (
        control::identity::IdentitySnapshot,
        control::settings::SettingsSnapshot,
    ),
    StartError,
> {
    let (identity, dynamic_settings) =
        control_server::load_persisted(data_dir, master_keys).map_err(StartError::Io)?;
    identity.validate().map_err(|message| {
        StartError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {message}", control_server::IDENTITY_FILE_NAME),
        ))
    })?;
    Ok((identity, dynamic_settings))
}

pub fn start(
    config: &RuntimeConfig,
    handler: &Arc<dyn ConnectionHandler>,
) -> Result<Running, StartError> {
    assert!(config.shard_count > 0);
    let data_dir_lock = lock_data_dir(&config.data_dir).map_err(StartError::Io)?;
    let partition_count =
        load_or_format(&config.data_dir, config.shard_count).map_err(StartError::Io)?;
    // The keys first: identity.json's secrets are sealed under them.
    let (master_keys, master_keys_path) =
        crate::keyring::load(&config.data_dir, &config.master_keys)
            .map_err(StartError::MasterKeys)?;
    let (identity, dynamic_settings) = load_control_state(&config.data_dir, &master_keys)?;
    let shared_identity = Arc::new(identity.clone());
    let shared_dynamic_settings = Arc::new(dynamic_settings.clone());
    let listeners = bind_listeners(config.address, config.shard_count).map_err(StartError::Io)?;
    let local_address = listeners[0].local_addr().map_err(StartError::Io)?;
    let io_uring = monoio::utils::detect_uring();
    let cpus = config.pin_threads.then(allowed_cpus).unwrap_or_default();
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..config.shard_count)
        .map(|_| flume::bounded(INBOX_DEPTH))
        .unzip();
    let (ready_sender, ready_receiver) = std::sync::mpsc::channel::<Result<Ready, StartError>>();
    let mut start_signals = Vec::new();
    let mut threads = Vec::new();
    for (shard_id, (listener, inbox)) in (0u32..).zip(listeners.into_iter().zip(receivers)) {
        let (start_sender, start_receiver) = std::sync::mpsc::channel::<Vec<BucketRecord>>();
        start_signals.push(start_sender);
        let shard = ShardThread {
            shard_id,
            shard_count: config.shard_count,
            partition_count,
            data_dir: config.data_dir.clone(),
            settings: SharedSettings {
                io_uring,
                ..config.settings.clone()
            },
            listener,
            inbox,
            inboxes: senders.clone(),
            identity: Arc::clone(&shared_identity),
            dynamic_settings: Arc::clone(&shared_dynamic_settings),
            master_keys: master_keys.clone(),
            handler: Arc::clone(handler),
            tls: config.tls.clone(),
            cpu: (!cpus.is_empty()).then(|| cpus[shard_id as usize % cpus.len()]),
        };
        let ready_sender = ready_sender.clone();
        let thread = std::thread::Builder::new()
            .name(format!("shard-{shard_id}"))
            .spawn(move || shard.run(&ready_sender, &start_receiver))
            .map_err(StartError::Io)?;
        threads.push(thread);
    }
    drop(ready_sender);
    let mut reports = Vec::new();
    let mut buckets = Vec::new();
    for _ in 0..config.shard_count {
        let ready = ready_receiver
            .recv()
            .map_err(|_| StartError::ShardDied(u32::MAX))??;
        tracing::debug!(shard = ready.shard_id, "shard ready");
        reports.extend(ready.reports);
        if let Some(catalogue) = ready.buckets {
            buckets = catalogue;
        }
    }
    for signal in start_signals {
        let _ = signal.send(buckets.clone());
    }
    let control = control_server::start(ControlConfig {
        data_dir: config.data_dir.clone(),
        region: config.settings.region.clone(),
        shard_count: config.shard_count,
        partition_count,
        inboxes: senders.clone(),
        identity,
        settings: dynamic_settings,
        master_keys,
        master_keys_path,
    });
    let control = match control {
        Ok(control) => control,
        Err(error) => {
            for inbox in &senders {
                let _ = inbox.send(MeshMessage::Shutdown);
            }
            for thread in threads {
                let _ = thread.join();
            }
            return Err(StartError::Io(error));
        }
    };
    Ok(Running {
        local_address,
        io_uring,
        reports,
        inboxes: senders,
        threads,
        control,
        _data_dir_lock: data_dir_lock,
    })
}

struct ShardThread {
    shard_id: u32,
    shard_count: u32,
    partition_count: u32,
    data_dir: PathBuf,
    settings: SharedSettings,
    listener: std::net::TcpListener,
    inbox: flume::Receiver<MeshMessage>,
    inboxes: Vec<flume::Sender<MeshMessage>>,
    identity: Arc<control::identity::IdentitySnapshot>,
    dynamic_settings: Arc<control::settings::SettingsSnapshot>,
    master_keys: sse::master::MasterKeys,
    handler: Arc<dyn ConnectionHandler>,
    tls: Option<Arc<tls::rustls::ServerConfig>>,
    cpu: Option<usize>,
}

impl ShardThread {
    fn run(
        self,
        ready: &std::sync::mpsc::Sender<Result<Ready, StartError>>,
        start: &std::sync::mpsc::Receiver<Vec<BucketRecord>>,
    ) {
        if let Some(cpu) = self.cpu
            && let Err(error) = pin_to_cpu(cpu)
        {
            tracing::warn!(shard = self.shard_id, cpu, %error, "could not pin shard thread");
        }
        let runtime = monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
            .enable_timer()
            .with_entries(RING_ENTRIES)
            .build();
        let mut runtime = match runtime {
            Ok(runtime) => runtime,
            Err(error) => {
                let _ = ready.send(Err(StartError::Io(error)));
                return;
            }
        };
        runtime.block_on(self.serve(ready, start));
    }

    async fn serve(
        self,
        ready: &std::sync::mpsc::Sender<Result<Ready, StartError>>,
        start: &std::sync::mpsc::Receiver<Vec<BucketRecord>>,
    ) {
        let mut partitions = HashMap::new();
        let mut reports = Vec::new();
        for partition_id in 0..self.partition_count {
            if owner_of(partition_id, self.shard_count) != self.shard_id {
                continue;
            }
            match Partition::open(&self.data_dir, partition_id) {
                Ok((partition, report)) => {
                    partitions.insert(partition_id, partition);
                    reports.push(report);
                }
                Err(error) => {
                    let _ = ready.send(Err(StartError::Shard(self.shard_id, error)));
                    return;
                }
            }
        }
        let buckets = match partitions
            .get(&0)
            .map(|partition| partition.buckets())
            .transpose()
        {
            Ok(buckets) => buckets,
            Err(error) => {
                let _ = ready.send(Err(StartError::Shard(self.shard_id, error)));
                return;
            }
        };
        let _ = ready.send(Ok(Ready {
            shard_id: self.shard_id,
            reports,
            buckets,
        }));
        // Blocking here is fine: nothing runs on this shard before the barrier.
        let Ok(catalogue) = start.recv() else { return };
        let listener = match monoio::net::TcpListener::from_std(self.listener) {
            Ok(listener) => listener,
            Err(error) => {
                tracing::error!(shard = self.shard_id, %error, "cannot register listener");
                return;
            }
        };
        let context = Rc::new(ShardContext {
            shard_id: self.shard_id,
            shard_count: self.shard_count,
            partition_count: self.partition_count,
            settings: self.settings,
            partitions,
            inboxes: self.inboxes,
            buckets: std::cell::RefCell::new(
                catalogue
                    .into_iter()
                    .map(|record| (record.name.clone(), BucketEntry::new(record)))
                    .collect::<BTreeMap<_, _>>(),
            ),
            catalogue_busy: std::cell::RefCell::new(std::collections::BTreeSet::new()),
            creating_for_tenant: std::cell::RefCell::new(HashMap::new()),
            metrics: std::cell::RefCell::new(telemetry::ShardMetrics::default()),
            shutting_down: std::cell::Cell::new(false),
            requests_in_flight: std::cell::Cell::new(0),
            connections_open: std::cell::Cell::new(0),
            connections_refused: std::cell::Cell::new(0),
            tls_counters: crate::context::TlsCounters::default(),
            lifecycle_counters: std::cell::Cell::default(),
            listener_fd: std::cell::Cell::new(Some(listener.as_raw_fd())),
            identity: std::cell::RefCell::new(Rc::new(IdentityIndex::build(&self.identity))),
            dynamic_settings: std::cell::RefCell::new(Rc::new(
                self.dynamic_settings.as_ref().clone(),
            )),
            master_keys: std::cell::RefCell::new(Rc::new(self.master_keys)),
            rewrap_generation: std::cell::Cell::new(0),
            usage: std::cell::RefCell::new(crate::usage::UsageView::default()),
            denied_events_dropped: std::cell::Cell::new(0),
            tls: std::cell::RefCell::new(self.tls),
        });
        spawn_background(&context);
        // The first scrape's CPU-usage gauge is the share since this reading.
        let _ = crate::host::cpu_usage_percent();
        let accept_task = monoio::spawn(accept_loop(
            Rc::clone(&context),
            listener,
            Arc::clone(&self.handler),
        ));
        let scrub_task = monoio::spawn(crate::scrubber::run(Rc::clone(&context)));
        inbox_loop(&context, &self.inbox, &self.handler).await;
        accept_task.await;
        scrub_task.await;
        drain(&context).await;
    }
}

async fn accept_loop(
    context: Rc<ShardContext>,
    listener: monoio::net::TcpListener,
    handler: Arc<dyn ConnectionHandler>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                if context.shutting_down.get() {
                    break;
                }
                let _ = stream.set_nodelay(true);
                monoio::spawn(handler.serve(Rc::clone(&context), stream, Vec::new(), None));
            }
            Err(error) => {
                if context.shutting_down.get() {
                    break;
                }
                // EMFILE and friends: back off instead of spinning; existing work continues.
                tracing::warn!(shard = context.shard_id, %error, "accept failed");
                monoio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    context.listener_fd.set(None);
}

async fn inbox_loop(
    context: &Rc<ShardContext>,
    inbox: &flume::Receiver<MeshMessage>,
    handler: &Arc<dyn ConnectionHandler>,
) {
    while let Ok(message) = inbox.recv_async().await {
        match message {
            MeshMessage::Connection {
                stream,
                buffered,
                tls,
            } => match monoio::net::TcpStream::from_std(stream) {
                Ok(stream) => {
                    monoio::spawn(handler.serve(Rc::clone(context), stream, buffered, tls));
                }
                Err(error) => tracing::warn!(%error, "cannot adopt a handed-over connection"),
            },
            MeshMessage::Shutdown => {
                context.shutting_down.set(true);
                if let Some(fd) = context.listener_fd.get() {
                    // Wakes the pending accept with an error, which ends the accept loop.
                    // SAFETY: plain syscall on the listener's descriptor, still open here.
                    #[allow(unsafe_code)]
                    unsafe {
                        libc::shutdown(fd, libc::SHUT_RDWR);
                    }
                }
                return;
            }
            other => serve_message(context, other),
        }
    }
}

/// The partition `partition_id` if this shard owns it (a mesh request for another's is a bug
/// of the sender, answered as an error rather than a crash of this shard).
fn owned_partition(
    context: &ShardContext,
    partition_id: u32,
) -> Result<&Rc<Partition>, ShardError> {
    context
        .partitions
        .get(&partition_id)
        .ok_or_else(|| ShardError::Metadata(format!("partition {partition_id} is not here")))
}

/// The shard's background tasks that need no handle (each stops at shutdown).
fn spawn_background(context: &Rc<ShardContext>) {
    monoio::spawn(crate::usage::run(Rc::clone(context)));
    monoio::spawn(crate::upload_expiry::run(Rc::clone(context)));
    monoio::spawn(crate::lifecycle::run(Rc::clone(context)));
    if context.master_keys().versions().nth(1).is_some() {
        // A keyring that was rotated: finish a re-wrap that a stop interrupted.
        crate::rewrap::start(context);
    }
}

/// A page of one of this shard's partitions for another shard's listing merge.
fn serve_page(context: &Rc<ShardContext>, message: MeshMessage) {
    match message {
        MeshMessage::ListPage {
            partition_id,
            bucket,
            start,
            prefix,
            limit,
            versioned,
            reply,
        } => {
            let result = owned_partition(context, partition_id)
                .and_then(|partition| partition.list(&bucket, &start, &prefix, limit, versioned));
            let _ = reply.send(result);
        }
        MeshMessage::UploadsPage {
            partition_id,
            bucket,
            start,
            prefix,
            limit,
            reply,
        } => {
            let result = owned_partition(context, partition_id)
                .and_then(|partition| partition.uploads(&bucket, &start, &prefix, limit));
            let _ = reply.send(result);
        }
        MeshMessage::VersionsPage {
            partition_id,
            bucket,
            start,
            prefix,
            limit,
            reply,
        } => {
            let result = owned_partition(context, partition_id)
                .and_then(|partition| partition.list_versions(&bucket, &start, &prefix, limit));
            let _ = reply.send(result);
        }
        _ => {}
    }
}

/// Everything else that arrives in the inbox: quick answers inline, longer work spawned, so the
/// inbox never waits on another shard.
fn serve_message(context: &Rc<ShardContext>, message: MeshMessage) {
    match message {
        MeshMessage::Connection { .. } | MeshMessage::Shutdown => {
            unreachable!("handled by inbox_loop")
        }
        MeshMessage::ListPage { .. }
        | MeshMessage::UploadsPage { .. }
        | MeshMessage::VersionsPage { .. } => serve_page(context, message),
        MeshMessage::DeleteObjects {
            bucket,
            targets,
            bypass_governance,
            actor,
            reply,
        } => {
            let context = Rc::clone(context);
            monoio::spawn(async move {
                let results = crate::batch_delete::delete_owned_keys(
                    &context,
                    &bucket,
                    targets,
                    bypass_governance,
                    &actor,
                )
                .await;
                let _ = reply.send(Ok(results));
            });
        }
        MeshMessage::OpenObject(request) => crate::object_stream::serve_open(context, request),
        MeshMessage::Ping { reply } => {
            let _ = reply.send(Ok(crate::readiness::own_health(context)));
        }
        MeshMessage::MetricsSnapshot { reply } => {
            let _ = reply.send(Ok(crate::metrics::snapshot(context)));
        }
        MeshMessage::CreateBucket {
            record,
            actor,
            reply,
        } => {
            let context = Rc::clone(context);
            monoio::spawn(async move {
                let _ = reply.send(catalogue::coordinate_create(&context, record, actor).await);
            });
        }
        MeshMessage::DeleteBucket { name, actor, reply } => {
            let context = Rc::clone(context);
            monoio::spawn(async move {
                let _ = reply.send(catalogue::coordinate_delete(&context, name, actor).await);
            });
        }
        MeshMessage::BucketConfig(message) => catalogue::serve_config(context, message),
        MeshMessage::BucketCreated { record, reply } => {
            catalogue::apply_created(context, record);
            let _ = reply.send(Ok(()));
        }
        MeshMessage::PrepareBucketDelete { name, reply } => {
            let _ = reply.send(catalogue::prepare_delete(context, &name));
        }
        MeshMessage::AbortBucketDelete { name, reply } => {
            catalogue::abort_delete(context, &name);
            let _ = reply.send(Ok(()));
        }
        MeshMessage::BucketDeleted { name, reply } => {
            let context = Rc::clone(context);
            monoio::spawn(async move {
                let _ = reply.send(catalogue::apply_deleted(&context, &name).await);
            });
        }
        MeshMessage::Control(message) => control_server::serve(context, message),
        MeshMessage::TlsConfig(config) => {
            *context.tls.borrow_mut() = Some(config);
            tracing::debug!(shard = context.shard_id, "TLS configuration reloaded");
        }
    }
}

/// Waits for running requests, then makes sure every queued commit is done.
async fn drain(context: &Rc<ShardContext>) {
    let deadline = std::time::Instant::now() + SHUTDOWN_GRACE;
    while context.requests_in_flight.get() > 0 && std::time::Instant::now() < deadline {
        monoio::time::sleep(Duration::from_millis(10)).await;
    }
    for partition in context.partitions.values() {
        partition.flush().await;
    }
    tracing::debug!(shard = context.shard_id, "shard stopped");
}

/// CPUs this process may run on, in order.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `set` is a plain bit array that sched_getaffinity fills in.
    #[allow(unsafe_code)]
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &raw mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|cpu| libc::CPU_ISSET(*cpu, &set))
            .collect()
    }
}

fn pin_to_cpu(cpu: usize) -> std::io::Result<()> {
    // SAFETY: as above; the set names one CPU and applies to the calling thread only.
    #[allow(unsafe_code)]
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &raw const set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

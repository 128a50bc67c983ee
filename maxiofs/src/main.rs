//! `maxiofs`: the one binary. `maxiofs server` runs the S3 data plane, `maxiofs admin` the
//! admin process (console API), and `maxiofs up` both, supervised.

mod credentials;
mod kek;
mod private_files;
mod up;
mod verify;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc malloc: per-thread heaps with no arena locks and no fastbin
/// consolidation on larger requests. Same run, 4 KiB GET: 19.4 -> 16.5 us of server CPU per
/// request (glibc's malloc and free were ~15 % of the profile). docs/PERFORMANCE.md.
#[global_allocator]
static GLOBAL_ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "maxiofs",
    version,
    about = "S3-compatible object storage, one shard per core"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the S3 data plane.
    Server(ServerArgs),
    /// Check a stopped data directory offline: metadata integrity, extents inside their
    /// segments, no overlapping extents, every block checksum. Exits 1 on any problem.
    Verify(VerifyArgs),
    /// Run the admin process: the console API, identity, settings and audit log.
    Admin(AdminArgs),
    /// Run the data plane and the admin as two supervised child processes.
    Up(up::UpArgs),
    /// Master key (KEK) management of a running server: rotate, status.
    Kek(kek::KekArgs),
}

/// `maxiofs admin`. Precedence: flag, then environment variable, then `--config` file, then
/// the defaults (admin-api/src/config.rs).
#[derive(clap::Args)]
struct AdminArgs {
    /// Where admin.db lives [default: ./data/admin].
    #[arg(long, env = "MAXIOFS_ADMIN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address of the console API [default: 127.0.0.1:9001].
    #[arg(long, env = "MAXIOFS_CONSOLE_ADDRESS")]
    address: Option<String>,
    /// The data plane's control socket [default: ./data/control.sock].
    #[arg(long, env = "MAXIOFS_CONTROL_SOCKET")]
    control_socket: Option<PathBuf>,
    /// Static settings in TOML (data_dir, address, control_socket, log_format).
    #[arg(long, env = "MAXIOFS_ADMIN_CONFIG")]
    config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, env = "MAXIOFS_LOG_FORMAT")]
    log_format: Option<String>,
    /// Connections the console API holds at once [default: 512].
    #[arg(long, env = "MAXIOFS_ADMIN_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Seconds a request head may take to arrive, and a keep-alive connection may idle
    /// [default: 10].
    #[arg(long, env = "MAXIOFS_ADMIN_HEADER_TIMEOUT_SECS")]
    header_timeout_secs: Option<u64>,
    /// Bearer token for Prometheus scrapes of the admin's /metrics (else a global admin's
    /// session is needed). The same variable as the data plane's, so `maxiofs up` shares it.
    #[arg(long, env = "MAXIOFS_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Read the root credential (and the metrics token) from stdin: how `maxiofs up` hands
    /// them over, so they are not in the environment (readable in /proc/PID/environ).
    #[arg(long, hide = true)]
    secrets_stdin: bool,
    /// TLS certificate chain (PEM) of the console API; with --tls-key it serves https only.
    /// Falls back to MAXIOFS_TLS_CERT (the data plane's) when neither is given.
    #[arg(long, env = "MAXIOFS_ADMIN_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) of the console API (MAXIOFS_TLS_KEY as a fallback). SIGHUP
    /// reloads both files.
    #[arg(long, env = "MAXIOFS_ADMIN_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// With TLS: answer plain HTTP with a 400 that says to use https [default: true].
    #[arg(long, env = "MAXIOFS_ADMIN_TLS_REFUSE_HTTP",
          value_parser = clap::builder::BoolishValueParser::new())]
    tls_refuse_http: Option<bool>,
    /// Proxies whose X-Forwarded-For is believed, comma-separated addresses or CIDRs
    /// (e.g. 10.0.0.0/8,::1): the client address of login limits and audit entries is then
    /// the rightmost address in the header that is not a trusted proxy [default: none].
    #[arg(long, env = "MAXIOFS_ADMIN_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Option<Vec<String>>,
    /// URL of the S3 port as the console's browser reaches it (e.g. https://s3.example.com):
    /// the console's object browser calls it directly. `maxiofs up` passes its own.
    #[arg(long, env = "MAXIOFS_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// The data plane's region, which the console's S3 signatures name [default: us-east-1].
    #[arg(long, env = "MAXIOFS_REGION")]
    region: Option<String>,
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// The data directory to check (the server must be stopped).
    #[arg(long, env = "MAXIOFS_DATA_DIR")]
    data_dir: PathBuf,
}

#[derive(clap::Args)]
struct ServerArgs {
    /// Where objects and metadata live.
    #[arg(long, default_value = "./data", env = "MAXIOFS_DATA_DIR")]
    data_dir: PathBuf,
    /// Address of the S3 API.
    #[arg(long, default_value = "127.0.0.1:9000", env = "MAXIOFS_ADDRESS")]
    address: SocketAddr,
    /// Number of shards (threads); defaults to one per available CPU.
    #[arg(long, env = "MAXIOFS_SHARDS")]
    shards: Option<u32>,
    /// Do not pin shard threads to CPUs (for machines shared with other load).
    #[arg(long)]
    no_pin: bool,
    /// Region reported to clients and required in signatures.
    #[arg(long, default_value = "us-east-1", env = "MAXIOFS_REGION")]
    region: String,
    /// Domain for virtual-host-style requests: a Host of `bucket.<domain>[:port]` names the
    /// bucket. Repeatable or comma-separated; path-style requests keep working.
    #[arg(long = "domain", env = "MAXIOFS_DOMAIN", value_delimiter = ',')]
    domains: Vec<String>,
    /// Origin of a web console (`scheme://host[:port]`) whose pages may call the S3 API on
    /// every bucket: CORS is answered for it on every path, ahead of the buckets' own rules
    /// (requests are still signed). Repeatable or comma-separated; `maxiofs up` passes its
    /// console's.
    #[arg(
        long = "console-origin",
        env = "MAXIOFS_CONSOLE_ORIGIN",
        value_delimiter = ','
    )]
    console_origins: Vec<String>,
    /// Seconds a request head may take to arrive once started (slow clients are cut off).
    #[arg(long, default_value_t = base::limits::REQUEST_HEAD_READ_TIMEOUT_SECS)]
    request_head_timeout_secs: u64,
    /// Seconds of silence after which a connection is closed (between requests or in a body).
    #[arg(long, default_value_t = base::limits::CONNECTION_IDLE_TIMEOUT_SECS)]
    idle_timeout_secs: u64,
    /// Slowest average request-body rate accepted once the grace time has passed, in bytes
    /// per second (0: no minimum; slower uploads end with RequestTimeout).
    #[arg(long, default_value_t = base::limits::BODY_RATE_BYTES_PER_SEC_MIN)]
    min_body_rate: u64,
    /// Seconds a request body may take before the minimum rate applies.
    #[arg(long, default_value_t = base::limits::BODY_RATE_GRACE_SECS)]
    body_rate_grace_secs: u64,
    /// Length of a lifecycle day in seconds (AWS: 86400). Shorter days make lifecycle rules
    /// expire objects sooner: for tests only.
    #[arg(long, default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..))]
    lifecycle_day_secs: u64,
    /// Seconds between the starts of two lifecycle passes over the stored versions (0: no
    /// lifecycle execution).
    #[arg(long, default_value_t = 3_600)]
    lifecycle_interval_secs: u64,
    /// Versions a lifecycle pass examines per second per shard, at most.
    #[arg(long, default_value_t = runtime::lifecycle::ROWS_PER_SEC_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..))]
    lifecycle_rows_per_sec: u64,
    /// Connections each shard serves at once; more are answered 503 SlowDown and closed.
    #[arg(long, default_value_t = base::limits::CONNECTIONS_PER_SHARD_MAX,
          env = "MAXIOFS_MAX_CONNECTIONS_PER_SHARD")]
    max_connections_per_shard: u32,
    /// Bearer token for Prometheus scrapes of /metrics (else /metrics needs a signed request).
    #[arg(long, env = "MAXIOFS_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Below this much free space on the data directory's file system, /health/ready says
    /// not ready (default 256 MiB).
    #[arg(long, default_value_t = 256 << 20, env = "MAXIOFS_MIN_FREE_BYTES")]
    min_free_bytes: u64,
    /// Read rate of the background scrubber, per shard (0 disables it).
    #[arg(long, default_value_t = 4 << 20, env = "MAXIOFS_SCRUB_BYTES_PER_SEC")]
    scrub_bytes_per_sec: u64,
    /// Seconds between scrub passes, counted from the start and from the end of each pass
    /// (0 disables the scrubber).
    #[arg(long, default_value_t = 24 * 3600, env = "MAXIOFS_SCRUB_INTERVAL_SECS")]
    scrub_interval_secs: u64,
    /// Log format.
    #[arg(
        long,
        default_value = "text",
        value_parser = ["text", "json"],
        env = "MAXIOFS_LOG_FORMAT"
    )]
    log_format: String,
    /// Read the root credential, the first master key and the metrics token from stdin (how
    /// `maxiofs up` hands them over, instead of the environment).
    #[arg(long, hide = true)]
    secrets_stdin: bool,
    /// The master keys that wrap SSE-S3 data keys, in the format of `<data-dir>/master-keys`
    /// (docs/design/encryption.md). Without it, that file is used, created at first start
    /// from MAXIOFS_MASTER_KEY or at random.
    #[arg(long, env = "MAXIOFS_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
    /// Accept SSE-C customer keys over plain HTTP (AWS requires TLS; for tests, or behind a
    /// TLS-terminating proxy on a trusted link).
    #[arg(
        long,
        env = "MAXIOFS_SSE_C_ALLOW_HTTP",
        value_parser = clap::builder::BoolishValueParser::new(),
        default_value_t = false,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    sse_c_allow_http: bool,
    #[command(flatten)]
    tls: TlsArgs,
}

/// TLS on the S3 port.
#[derive(clap::Args)]
// The field names are the flags (`--tls-cert` ...).
#[allow(clippy::struct_field_names)]
struct TlsArgs {
    /// TLS certificate chain (PEM, the server's certificate first): with --tls-key the S3 API
    /// speaks https. SIGHUP reloads both files (a file that does not load keeps the old pair).
    #[arg(long, env = "MAXIOFS_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "MAXIOFS_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// With TLS: answer a plain HTTP request with a 400 that says to use https (true), or
    /// serve plain HTTP on the same port as well (false). SSE-C stays refused over plain HTTP.
    #[arg(
        long,
        env = "MAXIOFS_TLS_REFUSE_HTTP",
        value_parser = clap::builder::BoolishValueParser::new(),
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    tls_refuse_http: bool,
}

impl TlsArgs {
    /// The first configuration, loaded (and logged) at start; a bad file fails the start.
    fn load(
        &self,
        files: Option<&tls::CertFiles>,
    ) -> Result<Option<Arc<tls::rustls::ServerConfig>>, String> {
        let Some(files) = files else {
            return Ok(None);
        };
        let config = files.load()?;
        tracing::info!(
            cert = %files.cert.display(),
            refuse_http = self.tls_refuse_http,
            "TLS on (SIGHUP reloads the certificate and key)"
        );
        Ok(Some(config))
    }

    fn files(&self) -> Option<tls::CertFiles> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(tls::CertFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a terminal: log files and collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> std::process::ExitCode {
    // Before anything is created: data, keys and credentials are private to this user.
    private_files::restrict_umask();
    let cli = Cli::parse();
    match cli.command {
        Command::Server(args) => match run_server(&args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("maxiofs: {error}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Admin(args) => match run_admin(args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("maxiofs admin: {error}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Up(args) => up::run(&args),
        Command::Kek(args) => match kek::run(&args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("maxiofs kek: {error}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Verify(args) => match verify::run(&args.data_dir) {
            Ok(true) => std::process::ExitCode::SUCCESS,
            Ok(false) => std::process::ExitCode::from(1),
            Err(error) => {
                eprintln!("maxiofs verify: {error}");
                std::process::ExitCode::from(2)
            }
        },
    }
}

fn run_admin(args: AdminArgs) -> Result<(), Box<dyn std::error::Error>> {
    let handed = if args.secrets_stdin {
        Some(credentials::from_stdin()?)
    } else {
        None
    };
    let metrics_token = args.metrics_token.or_else(|| {
        handed
            .as_ref()
            .and_then(|handed| handed.metrics_token.clone())
    });
    // The data plane's variables are the fallback, so one pair in the environment covers both.
    let (tls_cert, tls_key) = if args.tls_cert.is_none() && args.tls_key.is_none() {
        (
            std::env::var_os("MAXIOFS_TLS_CERT").map(PathBuf::from),
            std::env::var_os("MAXIOFS_TLS_KEY").map(PathBuf::from),
        )
    } else {
        (args.tls_cert, args.tls_key)
    };
    let config = admin::Config::resolve(admin::Overrides {
        tls_cert,
        tls_key,
        tls_refuse_http: args.tls_refuse_http,
        trusted_proxies: args.trusted_proxies,
        s3_endpoint: args.s3_endpoint,
        region: args.region,
        data_dir: args.data_dir,
        address: args.address,
        control_socket: args.control_socket,
        log_format: args.log_format,
        config_file: args.config,
        max_connections: args.max_connections,
        header_timeout_secs: args.header_timeout_secs,
        metrics_token,
    })?;
    init_logging(&config.log_format);
    private_files::secure_tree(&config.data_dir)?;
    // The root identity: from the environment, else the data plane's credentials file next to
    // its control socket. The admin never generates one (the data plane or `up` does).
    let server_dir = config
        .control_socket
        .parent()
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
    let root = match handed {
        Some(handed) => Some(handed.root),
        None => credentials::load_existing(&server_dir)?,
    };
    let root = root.ok_or_else(|| {
        format!(
            "no root credential: set MAXIOFS_ROOT_USER and MAXIOFS_ROOT_PASSWORD, or start \
             the data plane first (it writes {})",
            server_dir.join("root-credentials").display()
        )
    })?;
    admin::run(
        &config,
        admin::RootIdentity {
            user: root.access_key_id,
            secret: root.secret_key,
        },
    )
}

/// The restart's bound, reported: how long opening and recovering every partition took and
/// how much it found.
fn log_recovery(reports: &[shard::RecoveryReport], elapsed: std::time::Duration) {
    let objects: u64 = reports.iter().map(|report| report.object_count).sum();
    let reclaimed: u64 = reports.iter().map(|report| report.reclaimed_bytes).sum();
    let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let partitions = reports.len();
    let slowest_partition_ms = reports
        .iter()
        .map(|report| report.elapsed.as_millis())
        .max()
        .unwrap_or(0);
    tracing::info!(
        objects,
        partitions,
        reclaimed_bytes = reclaimed,
        elapsed_ms,
        slowest_partition_ms,
        "recovered {objects} objects in {partitions} partitions in {elapsed_ms} ms"
    );
}

/// Until SIGINT or SIGTERM; a SIGHUP meanwhile reloads the TLS certificate and key (a pair
/// that does not load leaves the old one in force).
fn wait_for_stop(
    signals: &mut signal_hook::iterator::Signals,
    running: &runtime::Running,
    tls_files: Option<&tls::CertFiles>,
) {
    for signal in signals.forever() {
        if signal != signal_hook::consts::SIGHUP {
            tracing::info!(signal, "stopping: finishing in-flight requests");
            break;
        }
        match tls_files {
            None => tracing::info!("SIGHUP: no TLS configured, nothing to reload"),
            Some(files) => match files.load() {
                Ok(config) => {
                    running.reload_tls(&config);
                    tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                }
                Err(error) => {
                    tracing::error!(%error, "TLS reload failed: the previous certificate stays");
                }
            },
        }
    }
}

/// The data plane's settings from its command line (and the credentials it was handed).
fn shared_settings(
    args: &ServerArgs,
    root: &credentials::RootCredentials,
    metrics_token: Option<String>,
) -> runtime::SharedSettings {
    runtime::SharedSettings {
        region: args.region.clone(),
        domains: args
            .domains
            .iter()
            .map(|domain| domain.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|domain| !domain.is_empty())
            .collect(),
        console_origins: args
            .console_origins
            .iter()
            .map(|origin| origin.trim().trim_end_matches('/').to_owned())
            .filter(|origin| !origin.is_empty())
            .collect(),
        root_access_key_id: root.access_key_id.clone(),
        root_secret_key: root.secret_key.clone(),
        io_uring: false,
        request_head_timeout: std::time::Duration::from_secs(args.request_head_timeout_secs),
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout_secs),
        body_rate_min_bytes_per_sec: args.min_body_rate,
        body_rate_grace: std::time::Duration::from_secs(args.body_rate_grace_secs),
        connections_max: args.max_connections_per_shard.max(1),
        metrics_token: metrics_token.filter(|token| !token.is_empty()),
        data_dir: args.data_dir.clone(),
        free_bytes_critical: args.min_free_bytes,
        scrub: runtime::scrubber::ScrubSettings {
            bytes_per_sec: args.scrub_bytes_per_sec,
            interval: std::time::Duration::from_secs(args.scrub_interval_secs),
        },
        lifecycle: runtime::lifecycle::LifecycleSettings {
            day: std::time::Duration::from_secs(args.lifecycle_day_secs),
            interval: std::time::Duration::from_secs(args.lifecycle_interval_secs),
            rows_per_sec: args.lifecycle_rows_per_sec,
        },
        sse_c_allow_http: args.sse_c_allow_http,
        tls_refuse_http: args.tls.tls_refuse_http,
    }
}

fn run_server(args: &ServerArgs) -> Result<(), Box<dyn std::error::Error>> {
    init_logging(&args.log_format);
    let shard_count = args.shards.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |count| u32::try_from(count.get()).unwrap_or(1))
    });
    if shard_count == 0 {
        return Err("--shards must be at least 1".into());
    }
    private_files::secure_tree(&args.data_dir)?;
    let handed = if args.secrets_stdin {
        Some(credentials::from_stdin()?)
    } else {
        None
    };
    let (root, first_key, handed_metrics_token) = match handed {
        Some(handed) => (handed.root, handed.master_key, handed.metrics_token),
        None => (
            credentials::load_or_generate(&args.data_dir)?,
            // Read here, not through clap: a secret has no business in `--help` output.
            std::env::var("MAXIOFS_MASTER_KEY").ok(),
            None,
        ),
    };
    let metrics_token = args.metrics_token.clone().or(handed_metrics_token);
    let key_source = runtime::keyring::KeySource {
        key_file: args.master_key_file.clone(),
        first_key,
    };
    let tls_files = args.tls.files();
    let tls_config = args.tls.load(tls_files.as_ref())?;
    // Block the stop signals (and SIGHUP, the TLS reload) before any thread starts, so every
    // thread inherits the mask and only the signal iterator below sees them.
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])?;
    let config = runtime::RuntimeConfig {
        data_dir: args.data_dir.clone(),
        address: args.address,
        shard_count,
        pin_threads: !args.no_pin,
        settings: shared_settings(args, &root, metrics_token),
        master_keys: key_source,
        tls: tls_config,
    };
    let started = std::time::Instant::now();
    let handler: Arc<dyn runtime::ConnectionHandler> = Arc::new(frontend::S3Frontend);
    let running = runtime::start(&config, &handler)?;
    if running.io_uring {
        tracing::info!(
            shards = shard_count,
            pinned = !args.no_pin,
            "io driver: io_uring"
        );
    } else {
        tracing::warn!(
            shards = shard_count,
            "io_uring unavailable: running on the epoll fallback; \
             file IO runs synchronously on shard threads"
        );
    }
    log_recovery(&running.reports, started.elapsed());
    if root.generated {
        println!(
            "maxiofs: generated root credentials (stored in {}):",
            args.data_dir.display()
        );
        println!("maxiofs:   access key: {}", root.access_key_id);
        println!("maxiofs:   secret key: {}", root.secret_key);
    }
    tracing::info!(socket = %running.control_socket().display(), "control channel ready");
    let scheme = if tls_files.is_some() { "https" } else { "http" };
    println!(
        "maxiofs: S3 API listening on {scheme}://{}",
        running.local_address
    );
    let _ = std::io::Write::flush(&mut std::io::stdout());
    wait_for_stop(&mut signals, &running, tls_files.as_ref());
    running.shutdown();
    tracing::info!("stopped");
    Ok(())
}

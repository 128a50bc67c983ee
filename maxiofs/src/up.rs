//! `maxiofs up`: the data plane and the admin as two child processes of this executable, with
//! embedded defaults (S3 on 127.0.0.1:9000, console API on 127.0.0.1:9001, `./data`).
//!
//! It resolves the root credential once (environment, else `D/root-credentials`, else generated
//! and printed once) and hands it to both children on their stdin (a pipe written and closed
//! at each start, read with `--secrets-stdin`), so they agree; `MAXIOFS_MASTER_KEY` goes the
//! same way to the data plane only, and `MAXIOFS_METRICS_TOKEN` to both. No secret is in the
//! children's environment: `/proc/PID/environ` is readable by the same user (and by crash
//! reporters), so every variable of `SECRET_VARIABLES` is removed from theirs. A child
//! that exits is restarted after a backoff (0.5 s doubling to 30 s, back to 0.5 s after a minute
//! up); more than `MAX_RESTARTS` restarts of one child within `RESTART_WINDOW` means something
//! is broken for good, and `up` stops everything and fails. SIGINT or SIGTERM is forwarded to
//! both children as SIGTERM; a child still running after `GRACE` gets SIGKILL. SIGHUP is
//! forwarded to both as is: with `--tls-cert/--tls-key` (given to both children) each
//! reloads its certificate.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::credentials;

/// The environment variables that carry secrets; none reaches a child (they get what they
/// need on stdin).
const SECRET_VARIABLES: [&str; 6] = [
    "MAXIOFS_ROOT_USER",
    "MAXIOFS_ROOT_PASSWORD",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "MAXIOFS_MASTER_KEY",
    "MAXIOFS_METRICS_TOKEN",
];

const POLL: Duration = Duration::from_millis(100);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A child up this long is considered healthy again: its backoff starts over.
const HEALTHY_AFTER: Duration = Duration::from_mins(1);
const MAX_RESTARTS: usize = 5;
const RESTART_WINDOW: Duration = Duration::from_mins(5);
const GRACE: Duration = Duration::from_secs(15);

#[derive(clap::Args)]
pub struct UpArgs {
    /// Data directory: the data plane's; the admin uses its `admin` subdirectory.
    #[arg(long, default_value = "./data", env = "MAXIOFS_DATA_DIR")]
    data_dir: PathBuf,
    /// Address of the S3 API.
    #[arg(long, default_value = "127.0.0.1:9000", env = "MAXIOFS_ADDRESS")]
    address: String,
    /// Address of the console API.
    #[arg(
        long,
        default_value = "127.0.0.1:9001",
        env = "MAXIOFS_CONSOLE_ADDRESS"
    )]
    console_address: String,
    /// Number of data plane shards (default: one per CPU).
    #[arg(long, env = "MAXIOFS_SHARDS")]
    shards: Option<u32>,
    /// Do not pin shard threads to CPUs.
    #[arg(long)]
    no_pin: bool,
    /// TLS certificate chain (PEM) for both ports; with --tls-key both speak https only.
    #[arg(long, env = "MAXIOFS_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for both ports. SIGHUP to `up` reloads both children's.
    #[arg(long, env = "MAXIOFS_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

struct Supervised {
    name: &'static str,
    args: Vec<String>,
    /// What the child reads on stdin (`credentials::encode_handed`).
    secrets: String,
    child: Option<Child>,
    started: Instant,
    backoff: Duration,
    restart_at: Option<Instant>,
    restarts: Vec<Instant>,
}

impl Supervised {
    fn new(name: &'static str, args: Vec<String>, secrets: String) -> Self {
        Self {
            name,
            args,
            secrets,
            child: None,
            started: Instant::now(),
            backoff: FIRST_BACKOFF,
            restart_at: None,
            restarts: Vec::new(),
        }
    }

    fn start(&mut self, exe: &Path) -> std::io::Result<()> {
        let mut command = Command::new(exe);
        command
            .args(&self.args)
            .arg("--secrets-stdin")
            .stdin(Stdio::piped());
        for variable in SECRET_VARIABLES {
            command.env_remove(variable);
        }
        let mut child = command.spawn()?;
        // A few hundred bytes fit in the pipe's buffer: the write does not wait for the child.
        if let Some(mut stdin) = child.stdin.take() {
            let written = stdin.write_all(self.secrets.as_bytes());
            if let Err(error) = written {
                let _ = child.kill();
                let _ = child.wait();
                return Err(error);
            }
        }
        println!("maxiofs up: started {} (pid {})", self.name, child.id());
        self.child = Some(child);
        self.started = Instant::now();
        Ok(())
    }

    /// Notices an exit, schedules the restart after the backoff, and restarts when it is due.
    /// False when the child exited too often to go on.
    fn tend(&mut self, exe: &Path) -> bool {
        if let Some(child) = self.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            self.child = None;
            let now = Instant::now();
            if now.duration_since(self.started) >= HEALTHY_AFTER {
                self.backoff = FIRST_BACKOFF;
            }
            self.restarts
                .retain(|at| now.duration_since(*at) < RESTART_WINDOW);
            if self.restarts.len() >= MAX_RESTARTS {
                eprintln!(
                    "maxiofs up: {} exited ({status}) {MAX_RESTARTS} times within {}s: giving up",
                    self.name,
                    RESTART_WINDOW.as_secs()
                );
                return false;
            }
            eprintln!(
                "maxiofs up: {} exited ({status}); restarting in {} ms",
                self.name,
                self.backoff.as_millis()
            );
            self.restart_at = Some(now + self.backoff);
            self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        }
        if self.child.is_none() && self.restart_at.is_some_and(|at| Instant::now() >= at) {
            self.restart_at = None;
            self.restarts.push(Instant::now());
            if let Err(error) = self.start(exe) {
                eprintln!("maxiofs up: cannot restart {}: {error}", self.name);
                // Retried at the next backoff step.
                self.restart_at = Some(Instant::now() + self.backoff);
            }
        }
        true
    }

    fn pid(&self) -> Option<i32> {
        self.child
            .as_ref()
            .and_then(|child| i32::try_from(child.id()).ok())
    }
}

fn signal(pid: i32, signal: i32) {
    // SAFETY: kill(2) takes plain integers; `pid` is our own child's, not yet reaped (its
    // `Child` is still held), so the id cannot have been reused by another process.
    #[allow(unsafe_code)]
    let result = unsafe { libc::kill(pid, signal) };
    if result != 0 {
        eprintln!(
            "maxiofs up: signal {signal} to pid {pid}: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// SIGTERM to every running child, then SIGKILL to those still running after the grace period.
fn stop_all(children: &mut [Supervised]) {
    for supervised in children.iter() {
        if let Some(pid) = supervised.pid() {
            signal(pid, libc::SIGTERM);
        }
    }
    let deadline = Instant::now() + GRACE;
    for supervised in children.iter_mut() {
        let Some(child) = supervised.child.as_mut() else {
            continue;
        };
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    eprintln!(
                        "maxiofs up: {} did not stop in time: killing it",
                        supervised.name
                    );
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(POLL),
            }
        }
        supervised.child = None;
    }
}

pub fn run(args: &UpArgs) -> ExitCode {
    match supervise(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("maxiofs up: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The origins a browser shows for the console at `address` (what its pages send in
/// `Origin`): a loopback or unspecified address is also reached as `localhost`.
fn console_origins(address: &str, scheme: &str) -> Vec<String> {
    let Ok(socket) = address.parse::<std::net::SocketAddr>() else {
        return vec![format!("{scheme}://{address}")];
    };
    let port = socket.port();
    let ip = socket.ip();
    let mut origins = vec![format!("{scheme}://{socket}")];
    if ip.is_loopback() || ip.is_unspecified() {
        origins.push(format!("{scheme}://localhost:{port}"));
    }
    if ip.is_unspecified() {
        origins.push(format!("{scheme}://127.0.0.1:{port}"));
    }
    origins
}

/// One child's command line (after the executable) and what it reads on stdin.
type ChildCommand = (Vec<String>, String);

/// The command lines of the data plane and the admin, with the secrets each gets on stdin,
/// and the TLS arguments both share (empty without TLS).
fn child_commands(
    args: &UpArgs,
    root: &credentials::RootCredentials,
) -> Result<(Vec<String>, [ChildCommand; 2]), Box<dyn std::error::Error>> {
    // Absolute paths: the children may resolve them from elsewhere one day, and a relative
    // path in a log line says little.
    let tls_args = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => vec![
            "--tls-cert".to_owned(),
            std::path::absolute(cert)?.to_string_lossy().into_owned(),
            "--tls-key".to_owned(),
            std::path::absolute(key)?.to_string_lossy().into_owned(),
        ],
        _ => Vec::new(),
    };
    let data_dir = args.data_dir.to_string_lossy().into_owned();
    let mut server_args = vec![
        "server".to_owned(),
        "--data-dir".to_owned(),
        data_dir.clone(),
        "--address".to_owned(),
        args.address.clone(),
    ];
    if let Some(shards) = args.shards {
        server_args.extend(["--shards".to_owned(), shards.to_string()]);
    }
    if args.no_pin {
        server_args.push("--no-pin".to_owned());
    }
    server_args.extend(tls_args.iter().cloned());
    let scheme = if tls_args.is_empty() { "http" } else { "https" };
    let mut origins = console_origins(&args.console_address, scheme);
    // Origins of the console behind a proxy, added to the ones derived here.
    if let Ok(extra) = std::env::var("MAXIOFS_CONSOLE_ORIGIN") {
        origins.extend(
            extra
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(Into::into),
        );
    }
    server_args.extend(["--console-origin".to_owned(), origins.join(",")]);
    let mut admin_args = vec![
        "admin".to_owned(),
        "--data-dir".to_owned(),
        args.data_dir.join("admin").to_string_lossy().into_owned(),
        "--address".to_owned(),
        args.console_address.clone(),
        "--control-socket".to_owned(),
        args.data_dir
            .join(control_socket_name())
            .to_string_lossy()
            .into_owned(),
        // The console's browser calls the S3 port itself (the object browser). A wildcard
        // address is left as it is: the console puts its own host name in its place.
        "--s3-endpoint".to_owned(),
        format!("{scheme}://{}", args.address),
    ];
    // Read once here; the children get them on stdin, never in their environment.
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let master_key = variable("MAXIOFS_MASTER_KEY");
    let metrics_token = variable("MAXIOFS_METRICS_TOKEN");
    let server_secrets =
        credentials::encode_handed(root, master_key.as_deref(), metrics_token.as_deref())?;
    // The admin never gets the master key.
    let admin_secrets = credentials::encode_handed(root, None, metrics_token.as_deref())?;
    admin_args.extend(tls_args.iter().cloned());
    Ok((
        tls_args,
        [(server_args, server_secrets), (admin_args, admin_secrets)],
    ))
}

fn supervise(args: &UpArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&args.data_dir)?;
    let root = credentials::load_or_generate(&args.data_dir)?;
    if root.generated {
        println!(
            "maxiofs up: generated root credentials (stored in {}):",
            args.data_dir.display()
        );
        println!(
            "maxiofs up:   user / access key:      {}",
            root.access_key_id
        );
        println!("maxiofs up:   password / secret key:  {}", root.secret_key);
    }
    // Handlers installed before any child starts (exec gives the children the default
    // dispositions back). In a terminal, Ctrl-C reaches the children too; the SIGTERM that
    // follows from here is then a no-op for them.
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])?;
    let exe = std::env::current_exe()?;
    let (tls_args, [server, admin]) = child_commands(args, &root)?;
    let mut children = [
        Supervised::new("server", server.0, server.1),
        Supervised::new("admin", admin.0, admin.1),
    ];
    for supervised in &mut children {
        if let Err(error) = supervised.start(&exe) {
            stop_all(&mut children);
            return Err(format!("cannot start a child: {error}").into());
        }
    }
    let scheme = if tls_args.is_empty() { "http" } else { "https" };
    println!("maxiofs up: S3 API      {scheme}://{}", args.address);
    // The console's page first: a new user opens this URL and lands on the login page.
    println!(
        "maxiofs up: console     {scheme}://{}/ (API: /api/v1/)",
        args.console_address
    );
    let _ = std::io::Write::flush(&mut std::io::stdout());
    loop {
        if let Some(signal) = signals.pending().next() {
            if signal == signal_hook::consts::SIGHUP {
                println!("maxiofs up: SIGHUP: forwarded to both processes (TLS reload)");
                for supervised in &children {
                    if let Some(pid) = supervised.pid() {
                        self::signal(pid, libc::SIGHUP);
                    }
                }
                continue;
            }
            println!("maxiofs up: signal {signal}: stopping both processes");
            stop_all(&mut children);
            return Ok(ExitCode::SUCCESS);
        }
        for index in 0..children.len() {
            if !children[index].tend(&exe) {
                stop_all(&mut children);
                return Ok(ExitCode::FAILURE);
            }
        }
        std::thread::sleep(POLL);
    }
}

fn control_socket_name() -> &'static str {
    "control.sock"
}

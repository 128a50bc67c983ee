//! Harness for the black-box integration tests: spawns the real `maxiofs` binary on a fresh
//! data directory and an ephemeral port, and stops it when dropped.
//!
//! Binary: `$MAXIOFS_BIN`, else `maxiofs` next to the running test's target directory, else
//! `<workspace>/target/debug/maxiofs`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Access key of the root user the harness starts the server with.
pub const ACCESS_KEY: &str = "itadmin";
/// Secret key of the root user the harness starts the server with.
pub const SECRET_KEY: &str = "itadmin-secret-key-0123456789";

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const READY_MARKER: &str = "listening on http://";

/// A running `maxiofs server` on its own temporary data directory.
pub struct Server {
    child: Child,
    endpoint: String,
    // Kept alive until the server is stopped; removed on drop.
    _data_dir: tempfile::TempDir,
}

impl Server {
    /// Starts the server and waits until it prints its listening address.
    ///
    /// # Panics
    /// If the binary is missing, exits early, or is not ready within 30 s.
    pub fn start() -> Server {
        let bin = binary_path();
        assert!(
            bin.is_file(),
            "maxiofs binary not found at {} (build it with `cargo build -p maxiofs` or set \
             MAXIOFS_BIN)",
            bin.display()
        );
        let data_dir = tempfile::Builder::new()
            .prefix("maxiofs-it-")
            .tempdir()
            .expect("create temp data dir");
        let mut child = Command::new(&bin)
            .arg("server")
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["--address", "127.0.0.1:0", "--shards", "2", "--no-pin"])
            .env("MAXIOFS_ROOT_USER", ACCESS_KEY)
            .env("MAXIOFS_ROOT_PASSWORD", SECRET_KEY)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));

        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel::<String>();
        thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent && let Some(at) = line.find(READY_MARKER) {
                    let rest = &line[at + READY_MARKER.len()..];
                    let addr: String = rest
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '/')
                        .collect();
                    sent = tx.send(addr).is_ok();
                }
                // Keep draining so the server never blocks on a full pipe.
            }
        });

        let deadline = Instant::now() + READY_TIMEOUT;
        let addr = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(addr) => break addr,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().ok();
                    panic!("maxiofs closed stdout before it was ready (exit: {status:?})");
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("maxiofs exited before it was ready: {status}");
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("maxiofs did not print `{READY_MARKER}` within {READY_TIMEOUT:?}");
            }
        };
        Server {
            child,
            endpoint: format!("http://{addr}"),
            _data_dir: data_dir,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SIGTERM first so the server can shut down cleanly, SIGKILL if it lingers.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary_path() -> PathBuf {
    if let Some(bin) = std::env::var_os("MAXIOFS_BIN") {
        return PathBuf::from(bin);
    }
    // target/<profile>/deps/<test-exe> → target/<profile>/maxiofs
    if let Ok(exe) = std::env::current_exe()
        && let Some(profile_dir) = exe.parent().and_then(Path::parent)
    {
        let candidate = profile_dir.join("maxiofs");
        if candidate.is_file() {
            return candidate;
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/debug/maxiofs")
        .components()
        .collect()
}

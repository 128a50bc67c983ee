//! `maxiofs admin`: the admin process of DESIGN.md §1. It owns identity (tenants, users,
//! passwords, 2FA, sessions, access keys), dynamic settings and the audit log in its own SQLite
//! database, serves the console API (`/api/v1`, MaxIOFS's route names) with tokio and axum, and
//! reaches the data plane only through the control channel (`control` crate): identity and
//! settings snapshots pushed to it, buckets managed through it, its event log read from it.
//!
//! Module map: `http` (router, auth and audit layer, request timeout) over `routes` (the route
//! table), `error` (the JSON error type), `extract` (extractors), `limits` (rate windows, the
//! Argon2 gate),
//! `api_*` (handlers per endpoint group; `api_encryption`: master key rotation and status),
//! `app` (shared state, snapshot pushes, the background loop that re-pushes and consumes the
//! event log), `store` (admin.db), `authz` (who may do what), `secrets` and `totp` (passwords,
//! tokens, RFC 6238), `settings` (the catalogue), `link` (control socket client), `metrics`,
//! `config` (static settings).

pub mod api_audit;
pub mod api_auth;
pub mod api_buckets;
pub mod api_encryption;
pub mod api_identity;
pub mod api_settings;
pub mod app;
pub mod authz;
pub mod config;
pub mod error;
pub mod extract;
pub mod http;
pub mod limits;
pub mod link;
pub mod metrics;
pub mod routes;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod totp;

use std::sync::Arc;

pub use app::RootIdentity;
pub use config::{Config, Overrides};

/// File name of the admin's database inside its data directory.
pub const DATABASE_FILE_NAME: &str = "admin.db";
/// Largest buffer hyper keeps for a connection's request head (its minimum is 8 KiB): the
/// console's URLs and headers are short, and a 60 KB path is not worth reading.
const MAX_HEAD_BUFFER: usize = 64 * 1024;
/// How long a stop waits for in-flight answers.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the admin until SIGINT or SIGTERM.
pub fn run(config: &Config, root: RootIdentity) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&config.data_dir)?;
    std::fs::set_permissions(
        &config.data_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )?;
    let store = store::Store::open(&config.data_dir.join(DATABASE_FILE_NAME))?;
    let link = link::Link::new(config.control_socket.clone());
    let app = Arc::new(
        app::App::new(store, link, root)?.with_metrics_token(config.metrics_token.clone()),
    );
    // Two workers: the admin is light, and the machine's cores belong to the data plane.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(config, app))
}

async fn serve(config: &Config, app: Arc<app::App>) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(config.address).await?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, socket = %config.control_socket.display(), "admin started");
    println!("maxiofs: console API listening on http://{local}");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let background = tokio::spawn(app::run_background(Arc::clone(&app)));
    let router = http::router(Arc::clone(&app));
    let stop = stop_signal();
    tokio::pin!(stop);
    let (stopping, _) = tokio::sync::watch::channel(false);
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    let mut http1 = hyper::server::conn::http1::Builder::new();
    // The header timeout runs from the connection's start and again after every answer: a
    // client trickling a head (slowloris) or idling on keep-alive is cut off when it ends.
    http1
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .max_buf_size(MAX_HEAD_BUFFER);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "console API: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // The cap: beyond it a connection is closed at once (the client sees EOF or a reset)
        // rather than queued; idle ones free their slot by the header timeout.
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            app.metrics.connections_refused.inc();
            drop(stream);
            continue;
        };
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let mut router = router.clone();
                tower_service::Service::call(&mut router, request)
            });
        let connection = http1.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let mut stopping = stopping.subscribe();
        tokio::spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "console connection ended");
                    }
                }
                _ = stopping.changed() => {
                    // Answer what is in flight, then close.
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
    }
    let _ = stopping.send(true);
    // In-flight answers get a moment; every slot back means every connection closed.
    let all = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all)).await;
    background.abort();
    tracing::info!("admin stopped");
    Ok(())
}

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without handlers the default action (exit) still stops the process.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
}

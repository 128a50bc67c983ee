//! `maxiofs admin`: the admin process of DESIGN.md §1. It owns identity (tenants, users,
//! passwords, 2FA, sessions, access keys), dynamic settings and the audit log in its own SQLite
//! database, serves the console API (`/api/v1`, MaxIOFS's route names) with tokio and axum, and
//! reaches the data plane only through the control channel (`control` crate): identity and
//! settings snapshots pushed to it, buckets managed through it, its event log read from it.
//!
//! Module map: `http` (router, errors, auth and audit layer) over `routes` (the route table),
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
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod link;
pub mod metrics;
pub mod routes;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod totp;

use std::net::SocketAddr;
use std::sync::Arc;

pub use app::RootIdentity;
pub use config::{Config, Overrides};

/// File name of the admin's database inside its data directory.
pub const DATABASE_FILE_NAME: &str = "admin.db";

/// Runs the admin until SIGINT or SIGTERM.
pub fn run(config: &Config, root: RootIdentity) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&config.data_dir)?;
    std::fs::set_permissions(
        &config.data_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )?;
    let store = store::Store::open(&config.data_dir.join(DATABASE_FILE_NAME))?;
    let link = link::Link::new(config.control_socket.clone());
    let app = Arc::new(app::App::new(store, link, root)?);
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
    let router = http::router(app);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop_signal())
    .await?;
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

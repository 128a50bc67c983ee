//! `maxiofs admin`: the admin process of DESIGN.md §1. It owns identity (tenants, users,
//! passwords, 2FA, sessions, access keys), dynamic settings and the audit log in its own SQLite
//! database, serves the console API (`/api/v1`, MaxIOFS's route names) with tokio and axum, and
//! reaches the data plane only through the control channel (`control` crate): identity and
//! settings snapshots pushed to it, buckets managed through it, its event log read from it.
//!
//! Module map: `http` (router, auth and audit layer, request timeout) over `routes` (the route
//! table), `error` (the JSON error type), `extract` (extractors), `limits` (rate windows, the
//! Argon2 gate),
//! `api_*` (handlers per endpoint group; `api_encryption`: master key rotation and status;
//! `api_iam`: policies, groups, attachments),
//! `app` (shared state, snapshot pushes, the background loop that re-pushes and consumes the
//! event log), `store` (admin.db; `store_iam`: its IAM tables), `authz` (who may do what),
//! `secrets` and `totp` (passwords, tokens, RFC 6238), `settings` (the catalogue), `link`
//! (control socket client), `metrics`, `config` (static settings), `console` (the web
//! console's embedded files).

pub mod api_audit;
pub mod api_auth;
pub mod api_bucket_access;
pub mod api_bucket_config;
pub mod api_buckets;
pub mod api_encryption;
pub mod api_iam;
pub mod api_identity;
pub mod api_metrics;
pub mod api_sessions;
pub mod api_settings;
pub mod app;
pub mod audit_note;
pub mod authz;
pub mod config;
pub mod console;
pub mod error;
pub mod extract;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod limits;
pub mod link;
pub mod metrics;
pub mod proxy;
pub mod routes;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod store_iam;
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
        app::App::new(store, link, root)?
            .with_metrics_token(config.metrics_token.clone())
            .with_trusted_proxies(config.trusted_proxies.clone())
            .with_s3_endpoint(config.s3_endpoint.clone(), config.region.clone()),
    );
    // Loaded before anything listens: a bad file fails the start with its name.
    let tls = config.tls.as_ref().map(tls::CertFiles::load).transpose()?;
    // Two workers: the admin is light, and the machine's cores belong to the data plane.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(config, app, tls))
}

/// The TLS side of the listener: the configuration new connections handshake with (swapped
/// whole by a SIGHUP reload), and whether plain HTTP is refused.
#[derive(Clone)]
struct TlsPolicy {
    config: tokio::sync::watch::Receiver<Arc<tls::rustls::ServerConfig>>,
    refuse_http: bool,
    handshake_timeout: std::time::Duration,
}

async fn serve(
    config: &Config,
    app: Arc<app::App>,
    tls_config: Option<Arc<tls::rustls::ServerConfig>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(config.address).await?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, socket = %config.control_socket.display(), "admin started");
    let (tls_sender, tls_receiver) = match tls_config {
        Some(tls_config) => {
            let (sender, receiver) = tokio::sync::watch::channel(tls_config);
            (Some(sender), Some(receiver))
        }
        None => (None, None),
    };
    let tls_policy = tls_receiver.map(|receiver| TlsPolicy {
        config: receiver,
        refuse_http: config.tls_refuse_http,
        handshake_timeout: config.header_timeout,
    });
    let reload = tokio::spawn(reload_on_hangup(config.tls.clone(), tls_sender));
    let scheme = if tls_policy.is_some() {
        "https"
    } else {
        "http"
    };
    println!("maxiofs: console API listening on {scheme}://{local}");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let background = tokio::spawn(app::run_background(Arc::clone(&app)));
    let sampler = tokio::spawn(api_metrics::run_sampler(Arc::clone(&app)));
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
        let http1 = http1.clone();
        let stopping = stopping.subscribe();
        let tls_policy = tls_policy.clone();
        tokio::spawn(async move {
            match tls_policy {
                None => serve_connection(&http1, stream, service, stopping).await,
                Some(policy) => {
                    if let Some(stream) = accept_tls(stream, &policy).await {
                        match stream {
                            Accepted::Tls(stream) => {
                                serve_connection(&http1, *stream, service, stopping).await;
                            }
                            Accepted::Plain(stream) => {
                                serve_connection(&http1, stream, service, stopping).await;
                            }
                        }
                    }
                }
            }
            drop(slot);
        });
    }
    reload.abort();
    let _ = stopping.send(true);
    // In-flight answers get a moment; every slot back means every connection closed.
    let all = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all)).await;
    background.abort();
    sampler.abort();
    tracing::info!("admin stopped");
    Ok(())
}

/// Serves one connection (plain or TLS) until it ends or the admin stops.
async fn serve_connection<I, S>(
    http1: &hyper::server::conn::http1::Builder,
    stream: I,
    service: S,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = http1.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
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
}

enum Accepted {
    Tls(Box<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>),
    Plain(tokio::net::TcpStream),
}

/// The answer to plain HTTP on the TLS port (when it is refused).
const PLAIN_HTTP_REFUSAL_BODY: &str = "{\"error\":{\"code\":\"TlsRequired\",\
    \"message\":\"This port speaks HTTPS (TLS) only: use an https:// URL.\"}}";

/// TLS is on: the first byte tells a TLS client (a handshake record) from plain HTTP, which is
/// refused with a 400 or served as is; the handshake must finish within the header timeout.
async fn accept_tls(stream: tokio::net::TcpStream, policy: &TlsPolicy) -> Option<Accepted> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let deadline = tokio::time::Instant::now() + policy.handshake_timeout;
    let mut first = [0u8; 1];
    match tokio::time::timeout_at(deadline, stream.peek(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return None,
    }
    if first[0] != tls::HANDSHAKE_RECORD {
        if !policy.refuse_http {
            return Some(Accepted::Plain(stream));
        }
        let mut stream = stream;
        let answer = format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{PLAIN_HTTP_REFUSAL_BODY}",
            PLAIN_HTTP_REFUSAL_BODY.len()
        );
        let linger = async {
            stream.write_all(answer.as_bytes()).await?;
            stream.shutdown().await?;
            // Read what the client still sends so the close does not reset the answer away;
            // bounded by the timeout below and by this buffer's reuse.
            let mut scratch = [0u8; 4096];
            while stream.read(&mut scratch).await? > 0 {}
            Ok::<(), std::io::Error>(())
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), linger).await;
        return None;
    }
    let config = Arc::clone(&policy.config.borrow());
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    match tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => Some(Accepted::Tls(Box::new(stream))),
        Ok(Err(error)) => {
            tracing::debug!(%error, "console TLS handshake failed");
            None
        }
        Err(_) => None,
    }
}

/// SIGHUP: reloads the certificate and key; a pair that does not load keeps the old one.
async fn reload_on_hangup(
    files: Option<tls::CertFiles>,
    sender: Option<tokio::sync::watch::Sender<Arc<tls::rustls::ServerConfig>>>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hangup.recv().await.is_some() {
        let (Some(files), Some(sender)) = (&files, &sender) else {
            tracing::info!("SIGHUP: no TLS configured, nothing to reload");
            continue;
        };
        match files.load() {
            Ok(config) => {
                sender.send_replace(config);
                tracing::info!(cert = %files.cert.display(), "console TLS certificate reloaded");
            }
            Err(error) => {
                tracing::error!(%error, "console TLS reload failed: the old certificate stays");
            }
        }
    }
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

//! The TLS transport against a real rustls client on a loopback socket: handshake, a request
//! body read into an aligned buffer, a hand-over of the session to another thread (as
//! through an inbox), a large answer from an aligned buffer, close_notify.

use std::io::{Read as _, Write as _};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shard::aligned::AlignedBuf;
use tls::rustls;
use tls::rustls::pki_types::pem::PemObject;
use tls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::Connection;

// A CA and a certificate for localhost / 127.0.0.1 it signed (EC P-256), made for this test
// only with openssl; valid for a century.
const CA_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBlTCCATugAwIBAgIUHy6hlbQUampvML6bYziAuZS1aGYwCgYIKoZIzj0EAwIw\n\
HzEdMBsGA1UEAwwUbWF4aW9mcyB1bml0LXRlc3QgQ0EwIBcNMjYxMjA3MTIzNDE4\n\
WhgPMjEyNjExMTMxMjM0MThaMB8xHTAbBgNVBAMMFG1heGlvZnMgdW5pdC10ZXN0\n\
IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEtuan5uF4D9ZD+uehciZRW7j7\n\
PHoIUeOn+n10pnRYz5Lm+sUoHBt1UWvJGYq98UVxVgcDnlnMLKVGy5tFLC/HbKNT\n\
MFEwHQYDVR0OBBYEFCrsFLgvn2hHBtMfkLdHkjcqn5agMB8GA1UdIwQYMBaAFCrs\n\
FLgvn2hHBtMfkLdHkjcqn5agMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID\n\
SAAwRQIhAOV0o+00tQWOdpH7b3bSTCT1sQNznTKVKC13cS1tOi+1AiByBugl7I0N\n\
sOB+3bOEnWrXoax8UlgI9ZwPV6Pss5Iy8Q==\n\
-----END CERTIFICATE-----\n\
";
const LEAF_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBxDCCAWqgAwIBAgIUTYGOlYQVd9u+1w//qfs37Nu1hJMwCgYIKoZIzj0EAwIw\n\
HzEdMBsGA1UEAwwUbWF4aW9mcyB1bml0LXRlc3QgQ0EwIBcNMjYxMjA3MTIzNDE4\n\
WhgPMjEyNjExMTMxMjM0MThaMBQxEjAQBgNVBAMMCWxvY2FsaG9zdDBZMBMGByqG\n\
SM49AgEGCCqGSM49AwEHA0IABCxq7pA6WdyI804BBsQptYmF4zsp5rWZ6V4vnIyY\n\
Ui/7riKJorsDf6v9ezY/D0J6ahwImY5+iofP5HJkDJ+ay+mjgYwwgYkwGgYDVR0R\n\
BBMwEYIJbG9jYWxob3N0hwR/AAABMAkGA1UdEwQCMAAwCwYDVR0PBAQDAgeAMBMG\n\
A1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQWBBSLnPVo++wETPKv/4LHWJJLHEZl\n\
pzAfBgNVHSMEGDAWgBQq7BS4L59oRwbTH5C3R5I3Kp+WoDAKBggqhkjOPQQDAgNI\n\
ADBFAiEAso5+vBMcj12zXLuMm3cghUU/DQuJHy4nJeVYOBhXmXcCIFFHKBr1Ak3Q\n\
8xxmRCSO5/ng/qJzzz6PCOGMjhllq8bP\n\
-----END CERTIFICATE-----\n\
";
const LEAF_KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtvpfBXsNrLa7V1Fs\n\
gPf8HsCMziAM0vVDKrs7AB144x2hRANCAAQsau6QOlnciPNOAQbEKbWJheM7Kea1\n\
meleL5yMmFIv+64iiaK7A3+r/Xs2Pw9CemocCJmOfoqHz+RyZAyfmsvp\n\
-----END PRIVATE KEY-----\n\
";

const BODY_BYTES: usize = 300 * 1024 + 7;
const ANSWER_BYTES: usize = 1 << 20;

fn pattern(length: usize, seed: u8) -> Vec<u8> {
    (0..length)
        .map(|index| u8::try_from(index % 251).unwrap() ^ seed)
        .collect()
}

fn server_config() -> Arc<rustls::ServerConfig> {
    let chain = vec![CertificateDer::from_pem_slice(LEAF_PEM.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(LEAF_KEY_PEM.as_bytes()).unwrap();
    tls::server_config(chain, key).unwrap()
}

/// The client: one request with a body, then the answer and the server's close_notify.
fn client(address: std::net::SocketAddr) -> Vec<u8> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(CA_PEM.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from("localhost").unwrap();
    let session = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let socket = std::net::TcpStream::connect(address).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut stream = rustls::StreamOwned::new(session, socket);
    let mut request =
        format!("PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: {BODY_BYTES}\r\n\r\n")
            .into_bytes();
    request.extend(pattern(BODY_BYTES, 1));
    stream.write_all(&request).unwrap();
    stream.flush().unwrap();
    assert_eq!(stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    let mut answer = Vec::new();
    // Ends cleanly only on the server's close_notify (an EOF without it is an error here).
    stream.read_to_end(&mut answer).unwrap();
    answer
}

fn run<F: Future<Output = ()>>(future: F) {
    let mut runtime = monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
        .enable_timer()
        .build()
        .unwrap();
    runtime.block_on(future);
}

#[test]
fn a_tls_connection_reads_writes_and_moves_to_another_thread() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || client(address));
    let (sender, receiver) = std::sync::mpsc::channel();
    run(async move {
        let listener = monoio::net::TcpListener::from_std(listener).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let mut connection = Connection::new(stream, Vec::new(), None);
        connection.fill(Duration::from_secs(10)).await.unwrap();
        assert_eq!(connection.unconsumed()[0], tls::HANDSHAKE_RECORD);
        connection.start_tls(server_config()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        connection.handshake(deadline).await.unwrap();
        assert!(connection.is_tls());
        // The sniffed ClientHello was counted; a request's accounting starts after it.
        connection.accounting = super::Accounting::default();
        // The head, then the body: what is buffered first, the rest into an aligned buffer.
        let head_end = loop {
            if let Some(at) = connection
                .unconsumed()
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
            {
                break at + 4;
            }
            connection.fill(Duration::from_secs(10)).await.unwrap();
        };
        assert!(connection.unconsumed().starts_with(b"PUT /b/k HTTP/1.1"));
        connection.consume(head_end);
        let mut body = AlignedBuf::new(1 << 20);
        let buffered = connection.unconsumed().len().min(BODY_BYTES);
        body.extend_from_slice(&connection.unconsumed()[..buffered]);
        connection.consume(buffered);
        while body.len() < BODY_BYTES {
            let room = BODY_BYTES - body.len();
            let (count, returned) = connection
                .read_into_aligned(body, room, Duration::from_secs(10))
                .await
                .unwrap();
            assert!(count > 0);
            body = returned;
        }
        assert_eq!(body.as_slice(), pattern(BODY_BYTES, 1).as_slice());
        assert_eq!(
            connection.accounting.received_bytes,
            (head_end + BODY_BYTES) as u64
        );
        // The hand-over: socket, buffered plaintext and TLS session to another thread.
        let (stream, buffered, session) = connection.into_parts();
        assert!(session.is_some());
        let raw = stream.into_raw_fd();
        // SAFETY: `raw` was just released by the monoio stream, with no operation in flight,
        // and nothing else owns it.
        #[allow(unsafe_code)]
        let stream = unsafe { std::net::TcpStream::from_raw_fd(raw) };
        sender.send((stream, buffered, session)).unwrap();
    });
    let owner = std::thread::spawn(move || {
        let (stream, buffered, session) = receiver.recv().unwrap();
        run(async move {
            let stream = monoio::net::TcpStream::from_std(stream).unwrap();
            let mut connection = Connection::new(stream, buffered, session);
            assert!(connection.is_tls());
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {ANSWER_BYTES}\r\n\r\n");
            connection.write_all(head.into_bytes()).await.unwrap();
            let mut answer = AlignedBuf::new(1 << 20);
            answer.extend_from_slice(&pattern(ANSWER_BYTES, 2));
            let (result, _) = connection.write_aligned(answer, 0..ANSWER_BYTES).await;
            result.unwrap();
            connection.close_tls().await;
        });
    });
    owner.join().unwrap();
    let answer = client.join().unwrap();
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {ANSWER_BYTES}\r\n\r\n");
    assert!(answer.starts_with(head.as_bytes()));
    assert_eq!(&answer[head.len()..], pattern(ANSWER_BYTES, 2).as_slice());
}

#[test]
fn a_malformed_client_hello_fails_the_handshake_with_an_alert() {
    // The handshake fails at once (not at its deadline, and without looping) and a fatal
    // alert goes back before the close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let mut socket = std::net::TcpStream::connect(address).unwrap();
        // A handshake record holding a ClientHello of length 0: not a valid one.
        socket
            .write_all(b"\x16\x03\x01\x00\x04\x01\x00\x00\x00")
            .unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut alert = Vec::new();
        let _ = socket.read_to_end(&mut alert);
        alert
    });
    run(async move {
        let listener = monoio::net::TcpListener::from_std(listener).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let mut connection = Connection::new(stream, Vec::new(), None);
        connection.fill(Duration::from_secs(10)).await.unwrap();
        connection.start_tls(server_config()).unwrap();
        let started = Instant::now();
        let result = connection
            .handshake(Instant::now() + Duration::from_secs(10))
            .await;
        assert!(result.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
    });
    // A fatal alert record (content type 21) went back before the close.
    let alert = peer.join().unwrap();
    assert_eq!(alert.first(), Some(&21));
}

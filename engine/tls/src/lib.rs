//! TLS for both ports (optional, off by default; DESIGN.md §5): the server configuration built
//! from a certificate chain and a private key in PEM files, with rustls on the aws-lc
//! provider (the one SSE already uses), TLS 1.2 and 1.3, ALPN `http/1.1`.
//!
//! The data plane drives `rustls::ServerConnection` itself over monoio's owned-buffer IO
//! (`frontend/src/connection.rs`): a `Session` is plain data (`Send`), so it moves with the
//! socket through a shard's inbox when a connection is handed over. The admin wraps the same
//! `ServerConfig` in tokio-rustls. Reload (SIGHUP) builds a whole new config; a file that does
//! not load leaves the old one in force. Key material is never logged nor put in an error
//! message: errors name the file and what was wrong with it, never its contents.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use rustls;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The first byte of a TLS record carrying a handshake message (a ClientHello starts every
/// TLS connection with one). Anything else on a TLS port is not TLS.
pub const HANDSHAKE_RECORD: u8 = 0x16;

/// The one application protocol both ports speak.
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

/// Largest certificate or key file read (a chain of a few certificates is a few KiB).
const PEM_FILE_BYTES_MAX: u64 = 1 << 20;

/// Where the certificate chain and its private key are: read at start and at every reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFiles {
    /// PEM: the server certificate first, then its intermediates.
    pub cert: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl CertFiles {
    /// Reads both files and builds a server configuration; the error says which file is wrong.
    pub fn load(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        let cert_pem = read_pem(&self.cert)?;
        let key_pem = read_pem(&self.key)?;
        let mut chain = Vec::new();
        for cert in CertificateDer::pem_slice_iter(&cert_pem) {
            let cert = cert.map_err(|error| pem_error(&self.cert, &error))?;
            chain.push(cert);
        }
        if chain.is_empty() {
            return Err(format!(
                "{}: no CERTIFICATE in the file",
                self.cert.display()
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|error| match error {
            rustls_pki_types::pem::Error::NoItemsFound => {
                format!("{}: no PRIVATE KEY in the file", self.key.display())
            }
            error => pem_error(&self.key, &error),
        })?;
        server_config(chain, key)
            .map_err(|error| format!("{} / {}: {error}", self.cert.display(), self.key.display()))
    }
}

/// A server configuration for a chain and its key: aws-lc provider, TLS 1.3 and 1.2, no client
/// certificates, ALPN `http/1.1`.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    Ok(Arc::new(config))
}

fn read_pem(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, PEM_FILE_BYTES_MAX + 1),
        &mut bytes,
    )
    .map_err(|error| format!("{}: {error}", path.display()))?;
    if bytes.len() as u64 > PEM_FILE_BYTES_MAX {
        return Err(format!(
            "{}: larger than {PEM_FILE_BYTES_MAX} bytes",
            path.display()
        ));
    }
    Ok(bytes)
}

/// A PEM error without the file's contents (some variants carry a line of it).
fn pem_error(path: &Path, error: &rustls_pki_types::pem::Error) -> String {
    let what = match error {
        rustls_pki_types::pem::Error::Io(error) => return format!("{}: {error}", path.display()),
        rustls_pki_types::pem::Error::NoItemsFound => "nothing usable in the file",
        _ => "not a valid PEM file",
    };
    format!("{}: {what}", path.display())
}

/// One TLS connection of the data plane between two reads: the rustls state and the
/// ciphertext read from the socket that rustls has not taken yet. Plain data, `Send`: it
/// travels with the socket through an inbox when the connection is handed over.
pub struct Session {
    pub connection: rustls::ServerConnection,
    /// Ciphertext read but not yet given to rustls (`read_tls`); its capacity is reused.
    pub incoming: Vec<u8>,
    /// Ciphertext rustls produced, being written (capacity reused between writes).
    pub outgoing: Vec<u8>,
}

impl Session {
    /// A new server-side session; `incoming` holds the bytes already read (the ClientHello's
    /// first bytes, read to tell TLS from plain HTTP).
    pub fn new(
        config: Arc<rustls::ServerConfig>,
        incoming: Vec<u8>,
    ) -> Result<Session, rustls::Error> {
        Ok(Session {
            connection: rustls::ServerConnection::new(config)?,
            incoming,
            outgoing: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_never_quote_it() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, "not a certificate\n").unwrap();
        std::fs::write(
            &key,
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let files = CertFiles {
            cert: cert.clone(),
            key: key.clone(),
        };
        let error = files.load().unwrap_err();
        assert!(error.contains("cert.pem"), "{error}");
        std::fs::write(
            &cert,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let error = files.load().unwrap_err();
        assert!(!error.contains("c2VjcmV0"), "{error}");
        let missing = CertFiles {
            cert: dir.path().join("missing.pem"),
            key,
        };
        assert!(missing.load().unwrap_err().contains("missing.pem"));
    }
}

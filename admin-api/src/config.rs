//! Static settings of `maxiofs admin`. Precedence, highest first: command-line flag, then
//! environment variable (clap reads both in `maxiofs`), then the TOML file given by `--config`
//! (`MAXIOFS_ADMIN_CONFIG`), then the defaults below. Dynamic settings live in admin.db.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_ADDRESS: &str = "127.0.0.1:9001";
pub const DEFAULT_DATA_DIR: &str = "./data/admin";
pub const DEFAULT_CONTROL_SOCKET: &str = "./data/control.sock";
/// The data plane's default region (`maxiofs server --region`).
pub const DEFAULT_REGION: &str = "us-east-1";
/// Connections the console API holds at once; beyond, a new one is closed at accept.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Most connections one may configure (the semaphore and the descriptor limit are the bounds
/// that matter; this catches a typo before either does).
pub const MAX_CONNECTIONS_LIMIT: usize = 100_000;
/// Longest header timeout one may configure, seconds.
pub const MAX_HEADER_TIMEOUT_SECS: u64 = 3600;
/// Seconds a request head may take to arrive, counted from the connection's start or the end
/// of the previous answer (so it is also the keep-alive idle timeout).
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;

/// The TOML file's keys (all optional; unknown keys are refused to catch typos).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub address: Option<String>,
    pub control_socket: Option<PathBuf>,
    pub log_format: Option<String>,
    pub max_connections: Option<usize>,
    pub header_timeout_secs: Option<u64>,
    pub metrics_token: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_refuse_http: Option<bool>,
    pub trusted_proxies: Option<Vec<String>>,
    pub s3_endpoint: Option<String>,
    pub region: Option<String>,
}

/// What the command line and environment gave (`None`: neither).
#[derive(Debug, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub address: Option<String>,
    pub control_socket: Option<PathBuf>,
    pub log_format: Option<String>,
    pub config_file: Option<PathBuf>,
    pub max_connections: Option<usize>,
    pub header_timeout_secs: Option<u64>,
    pub metrics_token: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_refuse_http: Option<bool>,
    pub trusted_proxies: Option<Vec<String>>,
    pub s3_endpoint: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub data_dir: PathBuf,
    pub address: SocketAddr,
    pub control_socket: PathBuf,
    pub log_format: String,
    pub max_connections: usize,
    pub header_timeout: std::time::Duration,
    /// Bearer token Prometheus may scrape `/metrics` with (else a global admin's session).
    pub metrics_token: Option<String>,
    /// TLS certificate and key of the console API (`None`: plain HTTP); reloaded on SIGHUP.
    pub tls: Option<tls::CertFiles>,
    /// With TLS: plain HTTP gets a 400 that says to use https (else it is served too).
    pub tls_refuse_http: bool,
    /// Peers whose `X-Forwarded-For` is believed (`proxy.rs`); empty: none.
    pub trusted_proxies: Vec<crate::proxy::Cidr>,
    /// URL of the S3 port as a browser reaches it (`scheme://host:port`), handed to the
    /// console with its S3 credentials (`None`: not known, the console cannot browse objects).
    pub s3_endpoint: Option<String>,
    /// The data plane's region, which signatures name.
    pub region: String,
}

pub fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text =
        std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?;
    toml::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
}

impl Config {
    pub fn resolve(overrides: Overrides) -> Result<Self, String> {
        let file = match &overrides.config_file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        Self::merge(overrides, file)
    }

    pub fn merge(overrides: Overrides, file: FileConfig) -> Result<Self, String> {
        let address = overrides
            .address
            .or(file.address)
            .unwrap_or_else(|| DEFAULT_ADDRESS.to_owned());
        let address = address
            .parse()
            .map_err(|error| format!("address {address:?}: {error}"))?;
        let log_format = overrides
            .log_format
            .or(file.log_format)
            .unwrap_or_else(|| "text".into());
        if log_format != "text" && log_format != "json" {
            return Err(format!("log_format {log_format:?}: text or json"));
        }
        let max_connections = overrides
            .max_connections
            .or(file.max_connections)
            .unwrap_or(DEFAULT_MAX_CONNECTIONS);
        if !(1..=MAX_CONNECTIONS_LIMIT).contains(&max_connections) {
            return Err(format!(
                "max_connections must be within 1..={MAX_CONNECTIONS_LIMIT}"
            ));
        }
        let header_timeout_secs = overrides
            .header_timeout_secs
            .or(file.header_timeout_secs)
            .unwrap_or(DEFAULT_HEADER_TIMEOUT_SECS);
        if !(1..=MAX_HEADER_TIMEOUT_SECS).contains(&header_timeout_secs) {
            return Err(format!(
                "header_timeout_secs must be within 1..={MAX_HEADER_TIMEOUT_SECS}"
            ));
        }
        let tls = match (
            overrides.tls_cert.or(file.tls_cert),
            overrides.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(tls::CertFiles { cert, key }),
            (None, None) => None,
            _ => return Err("tls_cert and tls_key go together".to_owned()),
        };
        let trusted_proxies = overrides
            .trusted_proxies
            .or(file.trusted_proxies)
            .unwrap_or_default()
            .iter()
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| crate::proxy::Cidr::parse(entry))
            .collect::<Result<Vec<_>, _>>()?;
        let s3_endpoint = overrides
            .s3_endpoint
            .or(file.s3_endpoint)
            .map(|url| url.trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty());
        if let Some(url) = &s3_endpoint
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!("s3_endpoint {url:?}: an http:// or https:// URL"));
        }
        Ok(Self {
            data_dir: overrides
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| DEFAULT_DATA_DIR.into()),
            address,
            control_socket: overrides
                .control_socket
                .or(file.control_socket)
                .unwrap_or_else(|| DEFAULT_CONTROL_SOCKET.into()),
            log_format,
            max_connections,
            header_timeout: std::time::Duration::from_secs(header_timeout_secs),
            metrics_token: overrides
                .metrics_token
                .or(file.metrics_token)
                .filter(|token| !token.is_empty()),
            tls,
            tls_refuse_http: overrides
                .tls_refuse_http
                .or(file.tls_refuse_http)
                .unwrap_or(true),
            trusted_proxies,
            s3_endpoint,
            region: overrides
                .region
                .or(file.region)
                .filter(|region| !region.is_empty())
                .unwrap_or_else(|| DEFAULT_REGION.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let file: FileConfig =
            toml::from_str("address = \"127.0.0.1:7000\"\ndata_dir = \"/srv/admin\"\n").unwrap();
        let config = Config::merge(
            Overrides {
                address: Some("127.0.0.1:8000".into()),
                ..Overrides::default()
            },
            file,
        )
        .unwrap();
        assert_eq!(config.address, "127.0.0.1:8000".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("/srv/admin"));
        assert_eq!(config.control_socket, PathBuf::from(DEFAULT_CONTROL_SOCKET));
        assert!(
            toml::from_str::<FileConfig>("adress = \"x\"").is_err(),
            "typos refused"
        );
        assert_eq!(config.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert!(config.tls.is_none() && config.tls_refuse_http);
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(
            (config.s3_endpoint, config.region.as_str()),
            (None, DEFAULT_REGION)
        );
        let file: FileConfig = toml::from_str(
            "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\ntls_cert = \"c.pem\"\n\
             tls_key = \"k.pem\"\ntls_refuse_http = false\n",
        )
        .unwrap();
        let config = Config::merge(Overrides::default(), file).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert!(config.tls.is_some() && !config.tls_refuse_http);
        let file: FileConfig =
            toml::from_str("s3_endpoint = \"https://s3.example.com/\"\nregion = \"eu-1\"").unwrap();
        let config = Config::merge(Overrides::default(), file).unwrap();
        assert_eq!(
            config.s3_endpoint.as_deref(),
            Some("https://s3.example.com")
        );
        assert_eq!(config.region, "eu-1");
        for text in [
            "s3_endpoint = \"s3.example.com:9000\"",
            "trusted_proxies = [\"10.0.0.0/40\"]",
            "tls_cert = \"c.pem\"",
        ] {
            let file: FileConfig = toml::from_str(text).unwrap();
            assert!(Config::merge(Overrides::default(), file).is_err(), "{text}");
        }
        for file in ["max_connections = 0", "header_timeout_secs = 0"] {
            let file: FileConfig = toml::from_str(file).unwrap();
            assert!(Config::merge(Overrides::default(), file).is_err());
        }
        assert!(
            Config::merge(
                Overrides {
                    address: Some("nowhere".into()),
                    ..Overrides::default()
                },
                FileConfig::default()
            )
            .is_err()
        );
    }
}

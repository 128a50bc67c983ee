//! Dynamic settings as the data plane receives them: a versioned map of `category.name` keys
//! to string values. The admin owns the full catalogue of settings, their types, defaults and
//! validation; the data plane reads only the keys listed in `keys` and ignores the rest, so
//! the admin can add settings without a protocol change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsSnapshot {
    /// Strictly increasing; the data plane ignores a snapshot older than the one it holds.
    pub version: u64,
    pub values: BTreeMap<String, String>,
}

impl SettingsSnapshot {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// A boolean setting: "true"/"false" (anything else is the default).
    pub fn flag(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            Some("true") => true,
            Some("false") => false,
            _ => default,
        }
    }

    pub fn number(&self, key: &str, default: u64) -> u64 {
        self.get(key)
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    }
}

/// The setting keys the data plane acts on. Add a key here when the data plane starts using it.
pub mod keys {
    /// Record denied S3 requests in the event log (for the audit log). Default true.
    pub const AUDIT_LOG_DENIED: &str = "audit.log_denied_requests";
    /// Accept SSE-C over plain HTTP (AWS requires TLS). Default false.
    pub const SSE_C_ALLOW_HTTP: &str = "security.sse_c_allow_http";
    /// Encrypt (SSE-S3) every object written without an encryption request or bucket
    /// default. Default false.
    pub const ENCRYPT_ALL_OBJECTS: &str = "security.encrypt_all_objects";
}

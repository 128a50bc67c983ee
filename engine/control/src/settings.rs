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
    /// Multipart uploads in progress one tenant may have (0: no cap). Default
    /// [`super::defaults::MULTIPART_MAX_OPEN_UPLOADS_PER_TENANT`].
    pub const MULTIPART_MAX_OPEN_UPLOADS_PER_TENANT: &str = "multipart.max_open_uploads_per_tenant";
    /// Seconds after which an upload that was neither completed nor aborted is aborted and
    /// its parts' space reclaimed (0: never). Default
    /// [`super::defaults::MULTIPART_ABORT_INCOMPLETE_AFTER_SECS`].
    pub const MULTIPART_ABORT_INCOMPLETE_AFTER_SECS: &str = "multipart.abort_incomplete_after_secs";
}

/// Defaults of the numeric keys, shared by the admin's catalogue and the data plane (which
/// acts on them before the admin ever pushed a snapshot).
pub mod defaults {
    /// MinIO caps uploads per object, AWS not at all; ten thousand in progress per tenant is
    /// beyond any backup tool's concurrency and bounds what an abandoned script can pile up.
    pub const MULTIPART_MAX_OPEN_UPLOADS_PER_TENANT: u64 = 10_000;
    /// Seven days, the expiry most lifecycle rules choose for incomplete uploads (MinIO's
    /// `stale_uploads_expiry` is 24 hours).
    pub const MULTIPART_ABORT_INCOMPLETE_AFTER_SECS: u64 = 7 * 24 * 3600;
}

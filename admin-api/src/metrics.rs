//! The admin's own Prometheus metrics, served on its `/metrics`.

use prometheus::{IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

pub struct Metrics {
    registry: Registry,
    /// `result`: success, failure, locked, rate_limited.
    pub logins: IntCounterVec,
    /// Newest event of a partition minus the audit consumer's cursor there.
    pub event_lag: IntGaugeVec,
    /// `source`: console or s3.
    pub audit_entries: IntCounterVec,
    pub control_errors: IntCounter,
    /// Audit entries of failed unauthenticated calls not stored (over the per-IP budget).
    pub audit_dropped: IntCounter,
    /// Connections closed at accept: the connection cap was reached.
    pub connections_refused: IntCounter,
    /// Requests refused because the Argon2 queue was full.
    pub hashing_busy: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let logins = IntCounterVec::new(
            Opts::new("maxiofs_admin_logins_total", "Console logins by result"),
            &["result"],
        )
        .expect("valid metric");
        let event_lag = IntGaugeVec::new(
            Opts::new(
                "maxiofs_admin_event_log_lag",
                "Events of a partition not yet consumed by the audit log",
            ),
            &["partition"],
        )
        .expect("valid metric");
        let audit_entries = IntCounterVec::new(
            Opts::new("maxiofs_admin_audit_entries_total", "Audit entries written"),
            &["source"],
        )
        .expect("valid metric");
        let control_errors = IntCounter::new(
            "maxiofs_admin_control_errors_total",
            "Failed calls on the control channel",
        )
        .expect("valid metric");
        let audit_dropped = IntCounter::new(
            "maxiofs_admin_audit_dropped_total",
            "Audit entries of failed unauthenticated calls dropped by the per-IP budget",
        )
        .expect("valid metric");
        let connections_refused = IntCounter::new(
            "maxiofs_admin_connections_refused_total",
            "Console connections closed at once because the connection cap was reached",
        )
        .expect("valid metric");
        let hashing_busy = IntCounter::new(
            "maxiofs_admin_hashing_busy_total",
            "Requests refused (503) because too many waited for a password hash",
        )
        .expect("valid metric");
        for collector in [
            Box::new(logins.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(event_lag.clone()),
            Box::new(audit_entries.clone()),
            Box::new(control_errors.clone()),
            Box::new(audit_dropped.clone()),
            Box::new(connections_refused.clone()),
            Box::new(hashing_busy.clone()),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        Self {
            registry,
            logins,
            event_lag,
            audit_entries,
            control_errors,
            audit_dropped,
            connections_refused,
            hashing_busy,
        }
    }

    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

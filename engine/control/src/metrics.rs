//! Traffic figures for the console's metrics page (`Request::Metrics`): per S3 operation and
//! per shard, merged from every shard's counters at the moment of the request. Counters are
//! totals since the data plane started (the admin turns two samples into rates); latencies are
//! over the data plane's sliding window (the last few minutes).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsSummary {
    /// When the shards were asked, unix milliseconds.
    pub at_unix_ms: u64,
    /// Shards configured; `shards` lists those that answered.
    pub shard_count: u32,
    pub operations: Vec<OperationFigures>,
    pub shards: Vec<ShardFigures>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationFigures {
    /// The S3 operation as AWS names it (`PutObject`).
    pub operation: String,
    /// Requests since start, with the 4xx and 5xx answers among them.
    pub requests: u64,
    pub client_errors: u64,
    pub server_errors: u64,
    /// Latency quantiles over the sliding window, milliseconds (`None`: no request in it).
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFigures {
    pub shard: u32,
    /// Requests served since start.
    pub requests: u64,
    pub in_flight: u64,
    pub connections_open: u64,
    /// Bytes read from and written to clients since start.
    pub received_bytes: u64,
    pub sent_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Request, Response};

    #[test]
    fn metrics_cross_the_wire_tagged_and_whole() {
        let request = serde_json::to_string(&Request::Metrics).unwrap();
        assert_eq!(request, r#"{"type":"metrics"}"#);
        let response = Response::Metrics(MetricsSummary {
            at_unix_ms: 1_700_000_000_123,
            shard_count: 2,
            operations: vec![OperationFigures {
                operation: "PutObject".into(),
                requests: 7,
                client_errors: 1,
                server_errors: 0,
                p50_ms: Some(1.5),
                p99_ms: None,
            }],
            shards: vec![ShardFigures {
                shard: 1,
                requests: 7,
                ..ShardFigures::default()
            }],
        });
        let json = serde_json::to_string(&response).unwrap();
        assert!(
            json.starts_with(r#"{"type":"metrics","at_unix_ms":1700000000123,"#),
            "{json}"
        );
        let back: Response = serde_json::from_str(&json).unwrap();
        assert_eq!(back, response);
    }
}

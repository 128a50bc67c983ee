//! Per-shard request metrics, merged only when scraped.
//!
//! Each shard owns a `ShardMetrics` (plain fields, no atomics, no sharing) and updates it once
//! per request. A scrape asks every shard for a `MetricsSnapshot` (plain data, `Send`) through
//! the mesh, merges them here and renders Prometheus text with the `maxiofs_*` names that the
//! MaxIOFS dashboard and alert rules use (shared/docs/MAXIOFS-REFERENCE.md §6.1).
//!
//! Architecture invariant: nothing here does IO or knows about HTTP types; the front end passes
//! operation names and status codes in.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram as HistogramProto, LabelPair, Metric, MetricFamily,
    MetricType,
};

/// Upper bounds (seconds) of the latency histogram buckets: sub-millisecond GETs to slow
/// multi-GiB uploads.
const LATENCY_BUCKETS_SECONDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Percentiles are tracked in microseconds from 1 us to 1 hour with 2 significant digits
/// (about 1% error), which keeps each histogram a few KiB.
const PERCENTILE_LOWEST_US: u64 = 1;
const PERCENTILE_HIGHEST_US: u64 = 3_600_000_000;
const PERCENTILE_SIGNIFICANT_DIGITS: u8 = 2;

/// The latency record of one operation.
#[derive(Clone, Debug)]
pub struct Latency {
    /// Non-cumulative counts per `LATENCY_BUCKETS_SECONDS` bucket, plus one for +Inf.
    pub bucket_counts: [u64; LATENCY_BUCKETS_SECONDS.len() + 1],
    pub sum_seconds: f64,
    pub count: u64,
    pub percentiles_us: Histogram<u64>,
}

impl Latency {
    fn new() -> Latency {
        let percentiles_us = Histogram::new_with_bounds(
            PERCENTILE_LOWEST_US,
            PERCENTILE_HIGHEST_US,
            PERCENTILE_SIGNIFICANT_DIGITS,
        )
        .expect("static histogram bounds are valid");
        Latency {
            bucket_counts: [0; LATENCY_BUCKETS_SECONDS.len() + 1],
            sum_seconds: 0.0,
            count: 0,
            percentiles_us,
        }
    }

    fn record(&mut self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let index = LATENCY_BUCKETS_SECONDS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS_SECONDS.len());
        self.bucket_counts[index] += 1;
        self.sum_seconds += seconds;
        self.count += 1;
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        self.percentiles_us
            .saturating_record(micros.max(PERCENTILE_LOWEST_US));
    }

    fn merge(&mut self, other: &Latency) {
        for (mine, theirs) in self.bucket_counts.iter_mut().zip(other.bucket_counts) {
            *mine += theirs;
        }
        self.sum_seconds += other.sum_seconds;
        self.count += other.count;
        // Same bounds on both sides: adding cannot fail.
        let _ = self.percentiles_us.add(&other.percentiles_us);
    }
}

/// One finished request, as the front end saw it.
#[derive(Clone, Copy, Debug)]
pub struct RequestRecord {
    /// The S3 operation as AWS names it (`PutObject`), or a pseudo-operation (`Health`).
    /// Static names keep the per-request update free of allocations.
    pub operation: &'static str,
    pub method: &'static str,
    pub status: u16,
    pub duration: Duration,
    pub received_bytes: u64,
    pub sent_bytes: u64,
}

/// One shard's counters. Mutated only by its own shard.
#[derive(Clone, Debug, Default)]
pub struct ShardMetrics {
    /// (operation, status) → requests.
    pub operations: BTreeMap<(&'static str, u16), u64>,
    /// (method, status) → requests.
    pub requests: BTreeMap<(&'static str, u16), u64>,
    pub latency: BTreeMap<&'static str, Latency>,
    pub received_bytes: u64,
    pub sent_bytes: u64,
}

impl ShardMetrics {
    pub fn record(&mut self, request: &RequestRecord) {
        *self
            .operations
            .entry((request.operation, request.status))
            .or_insert(0) += 1;
        *self
            .requests
            .entry((request.method, request.status))
            .or_insert(0) += 1;
        self.latency
            .entry(request.operation)
            .or_insert_with(Latency::new)
            .record(request.duration);
        self.received_bytes += request.received_bytes;
        self.sent_bytes += request.sent_bytes;
    }

    fn merge(&mut self, other: &ShardMetrics) {
        for (key, count) in &other.operations {
            *self.operations.entry(*key).or_insert(0) += count;
        }
        for (key, count) in &other.requests {
            *self.requests.entry(*key).or_insert(0) += count;
        }
        for (operation, latency) in &other.latency {
            self.latency
                .entry(*operation)
                .or_insert_with(Latency::new)
                .merge(latency);
        }
        self.received_bytes += other.received_bytes;
        self.sent_bytes += other.sent_bytes;
    }
}

/// Data integrity counters of a shard's partitions (block checksums and the scrubber).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageCounters {
    /// Check blocks whose bytes failed their checksum, found by any read.
    pub checksum_errors: u64,
    /// Check blocks verified by any read.
    pub blocks_verified: u64,
    /// Objects read that were written before block checksums existed.
    pub unverified_reads: u64,
    /// Finished scrub passes over a partition.
    pub scrub_passes: u64,
    /// Objects and bytes the scrubber read.
    pub scrub_objects: u64,
    pub scrub_bytes: u64,
    /// Objects the scrubber found damaged.
    pub scrub_damaged_objects: u64,
}

impl StorageCounters {
    pub fn add(&mut self, other: &StorageCounters) {
        self.checksum_errors += other.checksum_errors;
        self.blocks_verified += other.blocks_verified;
        self.unverified_reads += other.unverified_reads;
        self.scrub_passes += other.scrub_passes;
        self.scrub_objects += other.scrub_objects;
        self.scrub_bytes += other.scrub_bytes;
        self.scrub_damaged_objects += other.scrub_damaged_objects;
    }
}

/// What a shard reports at scrape time: a copy of its counters plus its own gauges.
#[derive(Clone, Debug)]
pub struct MetricsSnapshot {
    pub shard_id: u32,
    pub metrics: ShardMetrics,
    pub storage: StorageCounters,
    pub requests_in_flight: u64,
    pub io_uring: bool,
}

/// Process-wide facts the scraping shard adds.
#[derive(Clone, Debug, Default)]
pub struct ServerGauges {
    pub bucket_count: u64,
    pub storage_full: bool,
}

fn label(name: &str, value: &str) -> LabelPair {
    let mut pair = LabelPair::default();
    pair.set_name(name.to_owned());
    pair.set_value(value.to_owned());
    pair
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<Metric>) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(name.to_owned());
    family.set_help(help.to_owned());
    family.set_field_type(kind);
    family.set_metric(metrics);
    family
}

fn counter(labels: Vec<LabelPair>, value: f64) -> Metric {
    let mut metric = Metric::default();
    metric.set_label(labels);
    let mut counter = Counter::default();
    counter.set_value(value);
    metric.set_counter(counter);
    metric
}

fn gauge(labels: Vec<LabelPair>, value: f64) -> Metric {
    let mut metric = Metric::default();
    metric.set_label(labels);
    let mut gauge = Gauge::default();
    gauge.set_value(value);
    metric.set_gauge(gauge);
    metric
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52 are exact in f64
fn as_f64(value: u64) -> f64 {
    value as f64
}

fn histogram(labels: Vec<LabelPair>, latency: &Latency) -> Metric {
    let mut cumulative = 0u64;
    let buckets = LATENCY_BUCKETS_SECONDS
        .iter()
        .zip(latency.bucket_counts)
        .map(|(bound, count)| {
            cumulative += count;
            let mut bucket = Bucket::default();
            bucket.set_upper_bound(*bound);
            bucket.set_cumulative_count(cumulative);
            bucket
        })
        .collect();
    let mut proto = HistogramProto::default();
    proto.set_bucket(buckets);
    proto.set_sample_count(latency.count);
    proto.set_sample_sum(latency.sum_seconds);
    let mut metric = Metric::default();
    metric.set_label(labels);
    metric.set_histogram(proto);
    metric
}

fn is_success(status: u16) -> bool {
    status < 500
}

/// The per-shard families: one series per shard, so a dashboard can see an unbalanced core.
fn shard_families(snapshots: &[MetricsSnapshot]) -> Vec<MetricFamily> {
    let mut by_shard = Vec::new();
    let mut in_flight = Vec::new();
    let mut drivers = Vec::new();
    for snapshot in snapshots {
        let shard = snapshot.shard_id.to_string();
        let total: u64 = snapshot.metrics.operations.values().sum();
        by_shard.push(counter(vec![label("shard", &shard)], as_f64(total)));
        in_flight.push(gauge(
            vec![label("shard", &shard)],
            as_f64(snapshot.requests_in_flight),
        ));
        let driver = if snapshot.io_uring {
            "io_uring"
        } else {
            "epoll"
        };
        drivers.push(gauge(
            vec![label("shard", &shard), label("driver", driver)],
            1.0,
        ));
    }
    vec![
        family(
            "maxiofs_shard_requests_total",
            "Requests served, per shard.",
            MetricType::COUNTER,
            by_shard,
        ),
        family(
            "maxiofs_shard_requests_in_flight",
            "Requests being served, per shard.",
            MetricType::GAUGE,
            in_flight,
        ),
        family(
            "maxiofs_shard_io_driver",
            "The io driver of each shard (1 for the driver in use).",
            MetricType::GAUGE,
            drivers,
        ),
    ]
}

fn request_families(merged: &ShardMetrics) -> Vec<MetricFamily> {
    let operations = merged
        .operations
        .iter()
        .map(|((operation, status), count)| {
            let labels = vec![
                label("operation", operation),
                label("status", &status.to_string()),
            ];
            counter(labels, as_f64(*count))
        })
        .collect();
    let requests = merged
        .requests
        .iter()
        .map(|((method, status), count)| {
            let labels = vec![
                label("method", method),
                label("status", &status.to_string()),
            ];
            counter(labels, as_f64(*count))
        })
        .collect();
    let durations = merged
        .latency
        .iter()
        .map(|(operation, latency)| histogram(vec![label("operation", operation)], latency))
        .collect();
    vec![
        family(
            "maxiofs_s3_operations_total",
            "S3 requests by operation and HTTP status.",
            MetricType::COUNTER,
            operations,
        ),
        family(
            "maxiofs_http_requests_total",
            "HTTP requests by method and status.",
            MetricType::COUNTER,
            requests,
        ),
        family(
            "maxiofs_s3_operation_duration_seconds",
            "Time from the request head to the last byte of the answer.",
            MetricType::HISTOGRAM,
            durations,
        ),
        family(
            "maxiofs_http_received_bytes_total",
            "Bytes read from clients.",
            MetricType::COUNTER,
            vec![counter(Vec::new(), as_f64(merged.received_bytes))],
        ),
        family(
            "maxiofs_http_sent_bytes_total",
            "Bytes written to clients.",
            MetricType::COUNTER,
            vec![counter(Vec::new(), as_f64(merged.sent_bytes))],
        ),
    ]
}

/// The SLO gauges of the MaxIOFS dashboard and alert rules, since the process started.
fn slo_families(merged: &ShardMetrics) -> Vec<MetricFamily> {
    let mut families = Vec::new();
    for (suffix, quantile) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)] {
        let metrics = merged
            .latency
            .iter()
            .map(|(operation, latency)| {
                let micros = latency.percentiles_us.value_at_quantile(quantile);
                gauge(vec![label("operation", operation)], as_f64(micros) / 1000.0)
            })
            .collect();
        families.push(family(
            &format!("maxiofs_operation_latency_{suffix}_milliseconds"),
            &format!("Latency {suffix} per operation since start, in milliseconds."),
            MetricType::GAUGE,
            metrics,
        ));
    }
    let mut success = Vec::new();
    let mut counts = Vec::new();
    for (operation, latency) in &merged.latency {
        let ok: u64 = merged
            .operations
            .iter()
            .filter(|((name, status), _)| name == operation && is_success(*status))
            .map(|(_, count)| count)
            .sum();
        let rate = if latency.count == 0 {
            100.0
        } else {
            as_f64(ok) * 100.0 / as_f64(latency.count)
        };
        success.push(gauge(vec![label("operation", operation)], rate));
        counts.push(gauge(
            vec![label("operation", operation)],
            as_f64(latency.count),
        ));
    }
    families.push(family(
        "maxiofs_operation_success_rate_percent",
        "Share of requests per operation answered without a 5xx, since start.",
        MetricType::GAUGE,
        success,
    ));
    families.push(family(
        "maxiofs_operation_count_total",
        "Requests per operation since start (a gauge, as in MaxIOFS).",
        MetricType::GAUGE,
        counts,
    ));
    families
}

fn storage_families(snapshots: &[MetricsSnapshot]) -> Vec<MetricFamily> {
    let mut total = StorageCounters::default();
    for snapshot in snapshots {
        total.add(&snapshot.storage);
    }
    let one = |name: &str, help: &str, value: u64| {
        family(
            name,
            help,
            MetricType::COUNTER,
            vec![counter(Vec::new(), as_f64(value))],
        )
    };
    vec![
        one(
            "maxiofs_storage_checksum_errors_total",
            "Stored blocks that failed their checksum (never served; see the damaged table).",
            total.checksum_errors,
        ),
        one(
            "maxiofs_storage_blocks_verified_total",
            "Stored blocks whose checksum was verified by a read or a scrub.",
            total.blocks_verified,
        ),
        one(
            "maxiofs_storage_unverified_reads_total",
            "Objects read that were written before block checksums existed.",
            total.unverified_reads,
        ),
        one(
            "maxiofs_scrub_passes_total",
            "Finished scrub passes over a partition.",
            total.scrub_passes,
        ),
        one(
            "maxiofs_scrub_objects_total",
            "Objects read by the scrubber.",
            total.scrub_objects,
        ),
        one(
            "maxiofs_scrub_bytes_total",
            "Object bytes read and verified by the scrubber.",
            total.scrub_bytes,
        ),
        one(
            "maxiofs_scrub_damaged_objects_total",
            "Objects in which the scrubber found a damaged block.",
            total.scrub_damaged_objects,
        ),
    ]
}

/// Merges every shard's snapshot and renders the Prometheus text exposition.
pub fn render(snapshots: &[MetricsSnapshot], gauges: &ServerGauges) -> String {
    let mut merged = ShardMetrics::default();
    for snapshot in snapshots {
        merged.merge(&snapshot.metrics);
    }
    let mut families = request_families(&merged);
    families.extend(slo_families(&merged));
    families.extend(shard_families(snapshots));
    families.extend(storage_families(snapshots));
    families.push(family(
        "maxiofs_buckets_total",
        "Buckets in the catalogue.",
        MetricType::GAUGE,
        vec![gauge(Vec::new(), as_f64(gauges.bucket_count))],
    ));
    families.push(family(
        "maxiofs_storage_full",
        "1 when a partition has run out of space.",
        MetricType::GAUGE,
        vec![gauge(
            Vec::new(),
            if gauges.storage_full { 1.0 } else { 0.0 },
        )],
    ));
    let mut text = String::new();
    // Encoding hand-built families into a String cannot fail.
    let _ = prometheus::TextEncoder::new().encode_utf8(&families, &mut text);
    text
}

#[cfg(test)]
mod tests;

//! Per-shard request metrics, merged only when scraped.
//!
//! Each shard owns a `ShardMetrics` (plain fields, no atomics, no sharing) and updates it once
//! per request. A scrape asks every shard for a `MetricsSnapshot` (plain data, `Send`) through
//! the mesh, merges them here and renders Prometheus text with the `maxiofs_*` names that the
//! MaxIOFS dashboard and alert rules use (shared/docs/MAXIOFS-REFERENCE.md §6.1).
//!
//! Architecture invariant: nothing here does IO or knows about HTTP types; the front end passes
//! operation names and status codes in.

pub mod background;
pub mod window;

pub use background::{BackgroundTaskSample, CacheSample};

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
/// HTTP request and response sizes, as MaxIOFS buckets them: 1 KiB × 2^0..10.
const HTTP_SIZE_BUCKETS_BYTES: [f64; 11] = [
    1024.0,
    2048.0,
    4096.0,
    8192.0,
    16384.0,
    32768.0,
    65536.0,
    131_072.0,
    262_144.0,
    524_288.0,
    1_048_576.0,
];
/// Object sizes: 1 KiB × 4^0..14, up to 256 GiB (past S3's 5 GiB single PUT and into large
/// multipart objects).
const OBJECT_SIZE_BUCKETS_BYTES: [f64; 15] = [
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
    268_435_456.0,
    1_073_741_824.0,
    4_294_967_296.0,
    17_179_869_184.0,
    68_719_476_736.0,
    274_877_906_944.0,
];

pub(crate) fn new_percentile_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(
        PERCENTILE_LOWEST_US,
        PERCENTILE_HIGHEST_US,
        PERCENTILE_SIGNIFICANT_DIGITS,
    )
    .expect("static histogram bounds are valid")
}

/// A Prometheus histogram over fixed bucket bounds, without percentiles.
#[derive(Clone, Debug)]
pub struct Buckets {
    bounds: &'static [f64],
    /// Non-cumulative counts per bound, plus one for +Inf.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Buckets {
    fn new(bounds: &'static [f64]) -> Buckets {
        Buckets {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    /// A histogram counted elsewhere (the shard crate's task counters): non-cumulative
    /// `counts` per bound plus one for +Inf, and the sum of the observed values.
    pub fn from_counts(bounds: &'static [f64], counts: Vec<u64>, sum: f64) -> Buckets {
        assert_eq!(
            counts.len(),
            bounds.len() + 1,
            "one count per bound and +Inf"
        );
        Buckets {
            bounds,
            count: counts.iter().sum(),
            counts,
            sum,
        }
    }

    fn observe(&mut self, value: f64) {
        let index = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        self.counts[index] += 1;
        self.sum += value;
        self.count += 1;
    }

    fn merge(&mut self, other: &Buckets) {
        assert_eq!(
            self.bounds, other.bounds,
            "histograms merge over the same bounds"
        );
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.sum += other.sum;
        self.count += other.count;
    }
}

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
        Latency {
            bucket_counts: [0; LATENCY_BUCKETS_SECONDS.len() + 1],
            sum_seconds: 0.0,
            count: 0,
            percentiles_us: new_percentile_histogram(),
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
    /// The S3 error code of an error answer (`NoSuchKey`), from the one error table.
    pub error_code: Option<&'static str>,
}

/// One shard's counters. Mutated only by its own shard.
#[derive(Clone, Debug)]
pub struct ShardMetrics {
    /// (operation, status) → requests.
    pub operations: BTreeMap<(&'static str, u16), u64>,
    /// (method, status) → requests.
    pub requests: BTreeMap<(&'static str, u16), u64>,
    /// (operation, S3 error code) → error answers.
    pub errors: BTreeMap<(&'static str, &'static str), u64>,
    pub latency: BTreeMap<&'static str, Latency>,
    /// Request duration per HTTP method (`maxiofs_http_request_duration_seconds`).
    pub method_latency: BTreeMap<&'static str, Buckets>,
    pub request_sizes: Buckets,
    pub response_sizes: Buckets,
    /// Sizes of objects stored by successful PutObject and PostObject requests.
    pub object_sizes: Buckets,
    pub received_bytes: u64,
    pub sent_bytes: u64,
    /// The recent past, for the SLO gauges.
    pub window: window::Window,
    /// (method, "success" | "failure") -> authentication attempts.
    pub auth_attempts: BTreeMap<(&'static str, &'static str), u64>,
    /// (method, S3 error code) -> failed authentications.
    pub auth_failures: BTreeMap<(&'static str, &'static str), u64>,
    /// AccessDenied answers by reason, indexed like `ACCESS_DENIED_REASONS`.
    pub access_denied: [u64; ACCESS_DENIED_REASONS.len()],
}

/// Why a request was answered AccessDenied (`maxiofs_access_denied_total{reason}`): an
/// explicit Deny in a policy, no policy statement allowing it (implicit deny), a public
/// bucket policy's Allow ignored under RestrictPublicBuckets, another tenant's bucket, or
/// anything else (a disabled key, a refused header, a session out of force).
pub const ACCESS_DENIED_REASONS: [&str; 5] = [
    "explicit_deny",
    "implicit_deny",
    "restrict_public_buckets",
    "tenant_boundary",
    "other",
];

impl Default for ShardMetrics {
    fn default() -> Self {
        ShardMetrics {
            operations: BTreeMap::new(),
            requests: BTreeMap::new(),
            errors: BTreeMap::new(),
            latency: BTreeMap::new(),
            method_latency: BTreeMap::new(),
            request_sizes: Buckets::new(&HTTP_SIZE_BUCKETS_BYTES),
            response_sizes: Buckets::new(&HTTP_SIZE_BUCKETS_BYTES),
            object_sizes: Buckets::new(&OBJECT_SIZE_BUCKETS_BYTES),
            received_bytes: 0,
            sent_bytes: 0,
            window: window::Window::default(),
            auth_attempts: BTreeMap::new(),
            auth_failures: BTreeMap::new(),
            access_denied: [0; ACCESS_DENIED_REASONS.len()],
        }
    }
}

/// Wall-clock seconds since 1970: the time base of the sliding windows.
pub fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

impl ShardMetrics {
    pub fn record(&mut self, request: &RequestRecord) {
        self.record_at(request, unix_seconds());
    }

    /// One authentication by `method` (`sigv4`, `presigned_v2`, `anonymous`...), failed with
    /// the S3 error code `failure` or not.
    pub fn record_auth(&mut self, method: &'static str, failure: Option<&'static str>) {
        let outcome = if failure.is_some() {
            "failure"
        } else {
            "success"
        };
        *self.auth_attempts.entry((method, outcome)).or_insert(0) += 1;
        if let Some(reason) = failure {
            *self.auth_failures.entry((method, reason)).or_insert(0) += 1;
        }
    }

    /// Counts one AccessDenied answer; `reason` is one of `ACCESS_DENIED_REASONS` (anything
    /// else counts as `other`).
    pub fn record_access_denied(&mut self, reason: &str) {
        let other = ACCESS_DENIED_REASONS.len() - 1;
        let idx = ACCESS_DENIED_REASONS
            .iter()
            .position(|known| *known == reason)
            .unwrap_or(other);
        debug_assert!(idx != other || reason == "other", "unknown reason {reason}");
        self.access_denied[idx] += 1;
    }

    pub fn record_at(&mut self, request: &RequestRecord, now_secs: u64) {
        self.window.record(request, now_secs);
        if let Some(code) = request.error_code {
            *self.errors.entry((request.operation, code)).or_insert(0) += 1;
        }
        self.method_latency
            .entry(request.method)
            .or_insert_with(|| Buckets::new(&LATENCY_BUCKETS_SECONDS))
            .observe(request.duration.as_secs_f64());
        self.request_sizes.observe(as_f64(request.received_bytes));
        self.response_sizes.observe(as_f64(request.sent_bytes));
        if request.status < 300 && matches!(request.operation, "PutObject" | "PostObject") {
            self.object_sizes.observe(as_f64(request.received_bytes));
        }
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
        for (key, count) in &other.errors {
            *self.errors.entry(*key).or_insert(0) += count;
        }
        for (method, buckets) in &other.method_latency {
            self.method_latency
                .entry(*method)
                .or_insert_with(|| Buckets::new(&LATENCY_BUCKETS_SECONDS))
                .merge(buckets);
        }
        for (key, count) in &other.auth_attempts {
            *self.auth_attempts.entry(*key).or_insert(0) += count;
        }
        for (key, count) in &other.auth_failures {
            *self.auth_failures.entry(*key).or_insert(0) += count;
        }
        for (total, count) in self.access_denied.iter_mut().zip(other.access_denied) {
            *total += count;
        }
        self.request_sizes.merge(&other.request_sizes);
        self.response_sizes.merge(&other.response_sizes);
        self.object_sizes.merge(&other.object_sizes);
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

/// What a shard's lifecycle passes did (`runtime::lifecycle`), since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifecycleCounters {
    /// Finished passes over a partition.
    pub passes: u64,
    /// Versions (and delete markers) a pass read and judged.
    pub versions_examined: u64,
    /// Latest versions expired (deleted, or hidden behind a delete marker when versioned).
    pub expired_objects: u64,
    /// Noncurrent versions deleted for good.
    pub noncurrent_deleted: u64,
    /// Expired delete markers removed.
    pub delete_markers_removed: u64,
    /// Incomplete multipart uploads aborted.
    pub uploads_aborted: u64,
    /// Versions a rule would have deleted but object lock protects.
    pub skipped_locked: u64,
}

impl LifecycleCounters {
    pub fn add(&mut self, other: &LifecycleCounters) {
        self.passes += other.passes;
        self.versions_examined += other.versions_examined;
        self.expired_objects += other.expired_objects;
        self.noncurrent_deleted += other.noncurrent_deleted;
        self.delete_markers_removed += other.delete_markers_removed;
        self.uploads_aborted += other.uploads_aborted;
        self.skipped_locked += other.skipped_locked;
    }
}

/// What a shard reports at scrape time: a copy of its counters plus its own gauges.
#[derive(Clone, Debug)]
pub struct MetricsSnapshot {
    pub shard_id: u32,
    pub metrics: ShardMetrics,
    pub storage: StorageCounters,
    pub lifecycle: LifecycleCounters,
    pub requests_in_flight: u64,
    /// Connections open on this shard (idle keep-alive ones included).
    pub connections_open: u64,
    /// Connections refused since start because the shard had its maximum open.
    pub connections_refused: u64,
    /// TLS handshakes that failed or did not finish in time, since start.
    pub tls_handshakes_failed: u64,
    /// Plain HTTP connections answered 400 on the TLS port, since start.
    pub plain_http_refused: u64,
    pub io_uring: bool,
    /// Objects and bytes per bucket over this shard's partitions.
    pub bucket_usage: Vec<BucketUsageSample>,
    /// Background work of this shard's partitions, one sample per task type.
    pub background_tasks: Vec<BackgroundTaskSample>,
    /// The small-read caches of this shard's partitions.
    pub cache: CacheSample,
}

/// One bucket's usage over one shard's partitions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BucketUsageSample {
    pub bucket: String,
    pub objects: u64,
    pub bytes: u64,
}

/// Process-wide facts the scraping shard adds (read from the OS by the runtime: this crate
/// does no IO).
#[derive(Clone, Debug, Default)]
pub struct ServerGauges {
    pub bucket_count: u64,
    pub storage_full: bool,
    /// Shards configured; shards that answered the scrape are the snapshots.
    pub shard_count: u32,
    pub now_unix_secs: u64,
    pub started_unix_secs: u64,
    pub system: SystemGauges,
    /// Bucket name -> owning tenant id (`None`: no tenant), from the catalogue.
    pub bucket_owners: BTreeMap<String, Option<String>>,
}

/// Host and process figures for the MaxIOFS "system" families; `None` where unreadable.
#[derive(Clone, Debug, Default)]
pub struct SystemGauges {
    /// Busy share of all CPUs since the previous scrape on the same shard.
    pub cpu_usage_percent: Option<f64>,
    pub memory_total_bytes: Option<u64>,
    pub memory_available_bytes: Option<u64>,
    /// The file system of the data directory.
    pub disk_total_bytes: Option<u64>,
    pub disk_free_bytes: Option<u64>,
    pub process_cpu_seconds: Option<f64>,
    pub process_resident_bytes: Option<u64>,
    pub process_open_fds: Option<u64>,
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

fn buckets_metric(labels: Vec<LabelPair>, buckets: &Buckets) -> Metric {
    let mut cumulative = 0u64;
    let proto_buckets = buckets
        .bounds
        .iter()
        .zip(&buckets.counts)
        .map(|(bound, count)| {
            cumulative += count;
            let mut bucket = Bucket::default();
            bucket.set_upper_bound(*bound);
            bucket.set_cumulative_count(cumulative);
            bucket
        })
        .collect();
    let mut proto = HistogramProto::default();
    proto.set_bucket(proto_buckets);
    proto.set_sample_count(buckets.count);
    proto.set_sample_sum(buckets.sum);
    let mut metric = Metric::default();
    metric.set_label(labels);
    metric.set_histogram(proto);
    metric
}

/// The per-shard families: one series per shard, so a dashboard can see an unbalanced core.
fn shard_families(snapshots: &[MetricsSnapshot]) -> Vec<MetricFamily> {
    let mut by_shard = Vec::new();
    let mut in_flight = Vec::new();
    let mut connections_open = Vec::new();
    let mut connections_refused = Vec::new();
    let mut tls_failed = Vec::new();
    let mut plain_refused = Vec::new();
    let mut drivers = Vec::new();
    for snapshot in snapshots {
        let shard = snapshot.shard_id.to_string();
        let total: u64 = snapshot.metrics.operations.values().sum();
        by_shard.push(counter(vec![label("shard", &shard)], as_f64(total)));
        in_flight.push(gauge(
            vec![label("shard", &shard)],
            as_f64(snapshot.requests_in_flight),
        ));
        connections_open.push(gauge(
            vec![label("shard", &shard)],
            as_f64(snapshot.connections_open),
        ));
        connections_refused.push(counter(
            vec![label("shard", &shard)],
            as_f64(snapshot.connections_refused),
        ));
        tls_failed.push(counter(
            vec![label("shard", &shard)],
            as_f64(snapshot.tls_handshakes_failed),
        ));
        plain_refused.push(counter(
            vec![label("shard", &shard)],
            as_f64(snapshot.plain_http_refused),
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
            "maxiofs_shard_connections_open",
            "Client connections open, per shard (idle keep-alive connections included).",
            MetricType::GAUGE,
            connections_open,
        ),
        family(
            "maxiofs_shard_connections_refused_total",
            "Connections refused with 503 because the shard had its maximum open.",
            MetricType::COUNTER,
            connections_refused,
        ),
        family(
            "maxiofs_shard_tls_handshake_failures_total",
            "TLS handshakes that failed or did not finish within the head-read timeout.",
            MetricType::COUNTER,
            tls_failed,
        ),
        family(
            "maxiofs_shard_plain_http_refused_total",
            "Plain HTTP connections answered 400 (use https) on the TLS port.",
            MetricType::COUNTER,
            plain_refused,
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
            "maxiofs_s3_errors_total",
            "S3 error answers by operation and error code.",
            MetricType::COUNTER,
            merged
                .errors
                .iter()
                .map(|((operation, code), count)| {
                    let labels = vec![label("operation", operation), label("error_type", code)];
                    counter(labels, as_f64(*count))
                })
                .collect(),
        ),
        family(
            "maxiofs_http_request_duration_seconds",
            "Time from the request head to the last byte of the answer, by HTTP method.",
            MetricType::HISTOGRAM,
            merged
                .method_latency
                .iter()
                .map(|(method, buckets)| buckets_metric(vec![label("method", method)], buckets))
                .collect(),
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

/// Authentication attempts and failures by method.
fn auth_families(merged: &ShardMetrics) -> Vec<MetricFamily> {
    let series = |map: &BTreeMap<(&'static str, &'static str), u64>, second: &str| {
        map.iter()
            .map(|((method, value), count)| {
                counter(
                    vec![label("method", method), label(second, value)],
                    as_f64(*count),
                )
            })
            .collect()
    };
    vec![
        family(
            "maxiofs_auth_attempts_total",
            "Authentications by method (sigv4, sigv2, presigned_v4, presigned_v2, anonymous) \
             and outcome.",
            MetricType::COUNTER,
            series(&merged.auth_attempts, "status"),
        ),
        family(
            "maxiofs_auth_failures_total",
            "Failed authentications by method and S3 error code.",
            MetricType::COUNTER,
            series(&merged.auth_failures, "reason"),
        ),
        family(
            "maxiofs_access_denied_total",
            "AccessDenied answers by reason: explicit_deny and implicit_deny (a policy \
             decided), restrict_public_buckets, other (tenant boundary, disabled key, ...).",
            MetricType::COUNTER,
            ACCESS_DENIED_REASONS
                .iter()
                .zip(merged.access_denied)
                .map(|(reason, count)| counter(vec![label("reason", reason)], as_f64(count)))
                .collect(),
        ),
    ]
}

/// Sizes of requests, responses and stored objects.
fn size_families(merged: &ShardMetrics) -> Vec<MetricFamily> {
    vec![
        family(
            "maxiofs_http_request_size_bytes",
            "Bytes read per request, head and body.",
            MetricType::HISTOGRAM,
            vec![buckets_metric(Vec::new(), &merged.request_sizes)],
        ),
        family(
            "maxiofs_http_response_size_bytes",
            "Bytes written per request, head and body.",
            MetricType::HISTOGRAM,
            vec![buckets_metric(Vec::new(), &merged.response_sizes)],
        ),
        family(
            "maxiofs_object_size_bytes",
            "Request bytes of successful PutObject and PostObject requests (the object plus \
             its request head and framing).",
            MetricType::HISTOGRAM,
            vec![buckets_metric(Vec::new(), &merged.object_sizes)],
        ),
    ]
}

/// The SLO gauges of the MaxIOFS dashboard and alert rules, over the sliding window
/// (`window.rs`), plus the since-start request count that MaxIOFS exports as a gauge.
fn slo_families(
    merged: &ShardMetrics,
    snapshots: &[MetricsSnapshot],
    gauges: &ServerGauges,
) -> Vec<MetricFamily> {
    let mut totals = window::WindowTotals::merge(
        snapshots.iter().map(|snapshot| &snapshot.metrics.window),
        gauges.now_unix_secs,
    );
    if gauges.started_unix_secs > 0 {
        // A server younger than the window: rates over its lifetime, not the slot's.
        #[allow(clippy::cast_precision_loss)] // seconds are exact in f64
        let uptime = gauges
            .now_unix_secs
            .saturating_sub(gauges.started_unix_secs)
            .max(1) as f64;
        totals.covered_seconds = totals.covered_seconds.min(uptime);
    }
    let mut families = Vec::new();
    for (suffix, quantile) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999)] {
        let metrics = totals
            .operations
            .iter()
            .map(|(operation, stats)| {
                let micros = stats.latency_us.value_at_quantile(quantile);
                gauge(vec![label("operation", operation)], as_f64(micros) / 1000.0)
            })
            .collect();
        families.push(family(
            &format!("maxiofs_operation_latency_{suffix}_milliseconds"),
            &format!("Latency {suffix} per operation over the sliding window, in milliseconds."),
            MetricType::GAUGE,
            metrics,
        ));
    }
    let mut means = Vec::new();
    let mut success = Vec::new();
    for (operation, stats) in &totals.operations {
        let mean_ms = stats.sum_seconds * 1000.0 / as_f64(stats.requests.max(1));
        means.push(gauge(vec![label("operation", operation)], mean_ms));
        let ok = stats.requests - stats.server_errors;
        success.push(gauge(
            vec![label("operation", operation)],
            as_f64(ok) * 100.0 / as_f64(stats.requests.max(1)),
        ));
    }
    families.push(family(
        "maxiofs_operation_latency_mean_milliseconds",
        "Mean latency per operation over the sliding window, in milliseconds.",
        MetricType::GAUGE,
        means,
    ));
    families.push(family(
        "maxiofs_operation_success_rate_percent",
        "Share of requests per operation answered without a 5xx, over the sliding window.",
        MetricType::GAUGE,
        success,
    ));
    let counts = merged
        .latency
        .iter()
        .map(|(operation, latency)| {
            gauge(vec![label("operation", operation)], as_f64(latency.count))
        })
        .collect();
    families.push(family(
        "maxiofs_operation_count_total",
        "Requests per operation since start (a gauge, as in MaxIOFS; rate() the counter \
         maxiofs_s3_operations_total instead).",
        MetricType::GAUGE,
        counts,
    ));
    for (name, help, value) in [
        (
            "maxiofs_throughput_requests_per_second",
            "Requests per second over the sliding window.",
            as_f64(totals.requests),
        ),
        (
            "maxiofs_throughput_bytes_per_second",
            "Bytes read and written per second over the sliding window.",
            as_f64(totals.bytes),
        ),
        (
            "maxiofs_throughput_objects_per_second",
            "Successful single-object operations (put, get, head, delete, copy, complete) per \
             second over the sliding window.",
            as_f64(totals.objects),
        ),
    ] {
        families.push(family(
            name,
            help,
            MetricType::GAUGE,
            vec![gauge(Vec::new(), value / totals.covered_seconds)],
        ));
    }
    families.push(family(
        "maxiofs_slo_window_seconds",
        "Length of the sliding window behind the SLO gauges.",
        MetricType::GAUGE,
        vec![gauge(Vec::new(), as_f64(window::WINDOW_SECONDS))],
    ));
    families
}

/// Storage per bucket and per tenant: the families MaxIOFS's dashboard queries (the per-tenant
/// and total ones it documents but never registered). Buckets come from the catalogue, so an
/// empty bucket shows as zero; tenant "" is "no tenant".
fn usage_families(snapshots: &[MetricsSnapshot], gauges: &ServerGauges) -> Vec<MetricFamily> {
    let mut buckets: BTreeMap<&str, (u64, u64)> = gauges
        .bucket_owners
        .keys()
        .map(|bucket| (bucket.as_str(), (0, 0)))
        .collect();
    for sample in snapshots.iter().flat_map(|snapshot| &snapshot.bucket_usage) {
        // A bucket deleted since the shard's last usage refresh is not in the catalogue.
        if let Some(total) = buckets.get_mut(sample.bucket.as_str()) {
            total.0 += sample.objects;
            total.1 += sample.bytes;
        }
    }
    let mut tenants: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for (bucket, (objects, bytes)) in &buckets {
        let tenant = gauges
            .bucket_owners
            .get(*bucket)
            .and_then(Option::as_deref)
            .unwrap_or("");
        let total = tenants.entry(tenant).or_default();
        total.0 += 1;
        total.1 += objects;
        total.2 += bytes;
    }
    let per_bucket = |pick: fn(&(u64, u64)) -> u64| -> Vec<Metric> {
        buckets
            .iter()
            .map(|(bucket, usage)| gauge(vec![label("bucket", bucket)], as_f64(pick(usage))))
            .collect()
    };
    let per_tenant = |pick: fn(&(u64, u64, u64)) -> u64| -> Vec<Metric> {
        tenants
            .iter()
            .map(|(tenant, usage)| gauge(vec![label("tenant", tenant)], as_f64(pick(usage))))
            .collect()
    };
    let all_objects: u64 = buckets.values().map(|usage| usage.0).sum();
    let all_bytes: u64 = buckets.values().map(|usage| usage.1).sum();
    let families: [(&str, &str, Vec<Metric>); 9] = [
        (
            "maxiofs_bucket_objects_total",
            "Objects per bucket.",
            per_bucket(|usage| usage.0),
        ),
        (
            "maxiofs_bucket_bytes_total",
            "Bytes stored per bucket (object sizes).",
            per_bucket(|usage| usage.1),
        ),
        (
            "maxiofs_storage_objects_total",
            "Objects per bucket (MaxIOFS's storage family; same as maxiofs_bucket_objects_total).",
            per_bucket(|usage| usage.0),
        ),
        (
            "maxiofs_storage_bytes_total",
            "Bytes per bucket (MaxIOFS's storage family; same as maxiofs_bucket_bytes_total).",
            per_bucket(|usage| usage.1),
        ),
        (
            "maxiofs_storage_used_bytes",
            "Bytes stored per tenant (\"\": buckets of no tenant).",
            per_tenant(|usage| usage.2),
        ),
        (
            "maxiofs_tenant_objects_total",
            "Objects per tenant.",
            per_tenant(|usage| usage.1),
        ),
        (
            "maxiofs_tenant_buckets_total",
            "Buckets per tenant.",
            per_tenant(|usage| usage.0),
        ),
        (
            "maxiofs_objects_total",
            "Objects in every bucket.",
            vec![gauge(Vec::new(), as_f64(all_objects))],
        ),
        (
            "maxiofs_storage_used_bytes_total",
            "Bytes stored in every bucket.",
            vec![gauge(Vec::new(), as_f64(all_bytes))],
        ),
    ];
    families
        .into_iter()
        .map(|(name, help, metrics)| family(name, help, MetricType::GAUGE, metrics))
        .collect()
}

/// Host and process gauges; a figure the OS would not give is left out rather than faked.
fn system_families(gauges: &ServerGauges) -> Vec<MetricFamily> {
    let system = &gauges.system;
    let mut families = Vec::new();
    let mut push = |name: &str, help: &str, kind: MetricType, value: Option<f64>| {
        if let Some(value) = value {
            let metric = if kind == MetricType::COUNTER {
                counter(Vec::new(), value)
            } else {
                gauge(Vec::new(), value)
            };
            families.push(family(name, help, kind, vec![metric]));
        }
    };
    let percent = |part: Option<u64>, whole: Option<u64>| match (part, whole) {
        (Some(part), Some(whole)) if whole > 0 => Some(as_f64(part) * 100.0 / as_f64(whole)),
        _ => None,
    };
    let memory_used = system
        .memory_total_bytes
        .zip(system.memory_available_bytes)
        .map(|(total, available)| total.saturating_sub(available));
    let disk_used = system
        .disk_total_bytes
        .zip(system.disk_free_bytes)
        .map(|(total, free)| total.saturating_sub(free));
    push(
        "maxiofs_system_cpu_usage_percent",
        "Busy share of all CPUs of the host since the previous scrape.",
        MetricType::GAUGE,
        system.cpu_usage_percent,
    );
    push(
        "maxiofs_system_memory_usage_percent",
        "Host memory in use (total minus available).",
        MetricType::GAUGE,
        percent(memory_used, system.memory_total_bytes),
    );
    push(
        "maxiofs_system_disk_usage_percent",
        "Used share of the data directory's file system (as df counts it for this user).",
        MetricType::GAUGE,
        percent(disk_used, system.disk_total_bytes),
    );
    push(
        "maxiofs_system_disk_used_bytes",
        "Bytes used on the data directory's file system.",
        MetricType::GAUGE,
        disk_used.map(as_f64),
    );
    push(
        "maxiofs_system_disk_total_bytes",
        "Size of the data directory's file system.",
        MetricType::GAUGE,
        system.disk_total_bytes.map(as_f64),
    );
    push(
        "maxiofs_system_disk_free_bytes",
        "Bytes of the data directory's file system available to the server.",
        MetricType::GAUGE,
        system.disk_free_bytes.map(as_f64),
    );
    push(
        "process_cpu_seconds_total",
        "User and system CPU time of the server process.",
        MetricType::COUNTER,
        system.process_cpu_seconds,
    );
    push(
        "process_resident_memory_bytes",
        "Resident memory of the server process.",
        MetricType::GAUGE,
        system.process_resident_bytes.map(as_f64),
    );
    push(
        "process_open_fds",
        "Open file descriptors of the server process.",
        MetricType::GAUGE,
        system.process_open_fds.map(as_f64),
    );
    push(
        "process_start_time_seconds",
        "Start time of the server process since 1970.",
        MetricType::GAUGE,
        (gauges.started_unix_secs > 0).then(|| as_f64(gauges.started_unix_secs)),
    );
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

fn lifecycle_families(snapshots: &[MetricsSnapshot]) -> Vec<MetricFamily> {
    let mut total = LifecycleCounters::default();
    for snapshot in snapshots {
        total.add(&snapshot.lifecycle);
    }
    let actions = [
        ("expire_current", total.expired_objects),
        ("delete_noncurrent", total.noncurrent_deleted),
        ("remove_delete_marker", total.delete_markers_removed),
        ("abort_upload", total.uploads_aborted),
    ];
    vec![
        family(
            "maxiofs_lifecycle_actions_total",
            "Lifecycle actions carried out, by action.",
            MetricType::COUNTER,
            actions
                .iter()
                .map(|(action, value)| counter(vec![label("action", action)], as_f64(*value)))
                .collect(),
        ),
        family(
            "maxiofs_lifecycle_passes_total",
            "Finished lifecycle passes over a partition.",
            MetricType::COUNTER,
            vec![counter(Vec::new(), as_f64(total.passes))],
        ),
        family(
            "maxiofs_lifecycle_versions_examined_total",
            "Versions and delete markers lifecycle passes read and judged.",
            MetricType::COUNTER,
            vec![counter(Vec::new(), as_f64(total.versions_examined))],
        ),
        family(
            "maxiofs_lifecycle_skipped_locked_total",
            "Versions a lifecycle rule would have deleted but object lock protects.",
            MetricType::COUNTER,
            vec![counter(Vec::new(), as_f64(total.skipped_locked))],
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
    families.extend(size_families(&merged));
    families.extend(auth_families(&merged));
    families.extend(slo_families(&merged, snapshots, gauges));
    families.extend(shard_families(snapshots));
    families.extend(system_families(gauges));
    families.extend(usage_families(snapshots, gauges));
    families.push(family(
        "maxiofs_shards_total",
        "Shards configured.",
        MetricType::GAUGE,
        vec![gauge(Vec::new(), f64::from(gauges.shard_count))],
    ));
    families.push(family(
        "maxiofs_shards_serving",
        "Shards that answered this scrape within the probe timeout.",
        MetricType::GAUGE,
        vec![gauge(
            Vec::new(),
            as_f64(u64::try_from(snapshots.len()).unwrap_or(u64::MAX)),
        )],
    ));
    families.extend(storage_families(snapshots));
    families.extend(lifecycle_families(snapshots));
    families.extend(background::background_families(snapshots));
    families.extend(background::cache_families(snapshots));
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
    // The encoder refuses a family without samples (an operation that never failed has no
    // error series yet), and would stop there.
    families.retain(|family| !family.get_metric().is_empty());
    let mut text = String::new();
    // Encoding non-empty hand-built families into a String cannot fail.
    let _ = prometheus::TextEncoder::new().encode_utf8(&families, &mut text);
    text
}

#[cfg(test)]
mod tests;

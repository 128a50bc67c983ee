use std::time::Duration;

use super::*;

fn request(operation: &'static str, status: u16, millis: u64) -> RequestRecord {
    RequestRecord {
        operation,
        method: "GET",
        status,
        duration: Duration::from_millis(millis),
        received_bytes: 10,
        sent_bytes: 100,
        error_code: (status >= 400).then_some("InternalError"),
    }
}

/// Gauges of a scrape happening now, when the records above were made.
fn now() -> ServerGauges {
    ServerGauges {
        now_unix_secs: unix_seconds(),
        ..ServerGauges::default()
    }
}

fn snapshot(shard_id: u32, metrics: ShardMetrics) -> MetricsSnapshot {
    MetricsSnapshot {
        shard_id,
        metrics,
        storage: StorageCounters::default(),
        lifecycle: LifecycleCounters::default(),
        requests_in_flight: 0,
        connections_open: 0,
        connections_refused: 0,
        tls_handshakes_failed: 0,
        plain_http_refused: 0,
        io_uring: true,
        bucket_usage: Vec::new(),
        background_tasks: Vec::new(),
        cache: CacheSample::default(),
    }
}

#[test]
fn shards_add_up_when_rendered() {
    let mut first = ShardMetrics::default();
    let mut second = ShardMetrics::default();
    for _ in 0..3 {
        first.record(&request("GetObject", 200, 2));
    }
    second.record(&request("GetObject", 200, 30));
    second.record(&request("GetObject", 503, 1));
    second.record(&request("PutObject", 200, 7));
    let text = render(&[snapshot(0, first), snapshot(1, second)], &now());
    assert!(text.contains("maxiofs_s3_operations_total{operation=\"GetObject\",status=\"200\"} 4"));
    assert!(text.contains("maxiofs_s3_operations_total{operation=\"GetObject\",status=\"503\"} 1"));
    assert!(text.contains("maxiofs_http_received_bytes_total 60"));
    assert!(
        text.contains("maxiofs_s3_operation_duration_seconds_count{operation=\"GetObject\"} 5")
    );
    assert!(text.contains(
        "maxiofs_s3_operation_duration_seconds_bucket{operation=\"GetObject\",le=\"0.0025\"} 4"
    ));
    assert!(text.contains("maxiofs_operation_success_rate_percent{operation=\"GetObject\"} 80"));
    assert!(text.contains("maxiofs_shard_requests_total{shard=\"1\"} 3"));
    assert!(text.contains("# TYPE maxiofs_s3_operations_total counter"));
    assert!(text.contains("# TYPE maxiofs_s3_operation_duration_seconds histogram"));
}

#[test]
fn percentiles_come_from_the_merged_histogram() {
    let mut metrics = ShardMetrics::default();
    for millis in 1..=100 {
        metrics.record(&request("HeadObject", 200, millis));
    }
    let text = render(&[snapshot(0, metrics)], &now());
    let p99 = text
        .lines()
        .find(|line| line.starts_with("maxiofs_operation_latency_p99_milliseconds"))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("p99 line in {text}"));
    assert!((98.0..=101.0).contains(&p99), "{p99}");
}

#[test]
fn the_window_forgets_what_is_older_than_its_slots() {
    let start = 1_000_000 * window::SLOT_SECONDS;
    let mut metrics = ShardMetrics::default();
    for _ in 0..10 {
        metrics.record_at(&request("GetObject", 200, 500), start);
    }
    let later = start + window::WINDOW_SECONDS + window::SLOT_SECONDS;
    metrics.record_at(&request("GetObject", 200, 2), later);
    metrics.record_at(&request("GetObject", 500, 2), later);
    let gauges = ServerGauges {
        now_unix_secs: later + 1,
        ..ServerGauges::default()
    };
    let text = render(&[snapshot(0, metrics)], &gauges);
    // Only the two recent requests are in the window: 2 ms, one of them a 5xx.
    assert!(text.contains("maxiofs_operation_latency_p99_milliseconds{operation=\"GetObject\"} 2"));
    assert!(text.contains("maxiofs_operation_success_rate_percent{operation=\"GetObject\"} 50"));
    // The since-start count still has all twelve.
    assert!(text.contains("maxiofs_operation_count_total{operation=\"GetObject\"} 12"));
    assert!(text.contains("maxiofs_throughput_requests_per_second 2"));
}

#[test]
fn windows_of_several_shards_merge_slot_by_slot() {
    let now = 2_000_000 * window::SLOT_SECONDS + 5;
    let mut first = ShardMetrics::default();
    let mut second = ShardMetrics::default();
    first.record_at(&request("PutObject", 200, 1), now - window::SLOT_SECONDS);
    second.record_at(&request("PutObject", 200, 100), now);
    second.record_at(&request("PutObject", 404, 1), now);
    let gauges = ServerGauges {
        now_unix_secs: now,
        ..ServerGauges::default()
    };
    let text = render(&[snapshot(0, first), snapshot(1, second)], &gauges);
    assert!(text.contains("maxiofs_operation_success_rate_percent{operation=\"PutObject\"} 100"));
    assert!(
        text.contains(
            "maxiofs_s3_errors_total{error_type=\"InternalError\",operation=\"PutObject\"} 1"
        ) || text.contains(
            "maxiofs_s3_errors_total{operation=\"PutObject\",error_type=\"InternalError\"} 1"
        )
    );
    // Two successful object operations over the 35 s since the older slot began.
    let objects_line = text
        .lines()
        .find(|line| line.starts_with("maxiofs_throughput_objects_per_second "))
        .expect("objects per second is exported");
    let rate: f64 = objects_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((rate - 2.0 / 35.0).abs() < 1e-9, "{rate}");
}

#[test]
fn a_fresh_server_renders_every_family_that_has_samples() {
    // No request yet: the request families are empty and must not cut the text short.
    let gauges = ServerGauges {
        bucket_count: 3,
        shard_count: 2,
        ..now()
    };
    let text = render(&[snapshot(0, ShardMetrics::default())], &gauges);
    assert!(text.contains("maxiofs_buckets_total 3"), "{text}");
    assert!(text.contains("maxiofs_shards_total 2"), "{text}");
    assert!(text.contains("maxiofs_shards_serving 1"), "{text}");
}

#[test]
fn access_denials_are_counted_by_reason_from_the_first_scrape() {
    let fresh = render(&[snapshot(0, ShardMetrics::default())], &now());
    for reason in ACCESS_DENIED_REASONS {
        let zero = format!("maxiofs_access_denied_total{{reason=\"{reason}\"}} 0");
        assert!(fresh.contains(&zero), "{fresh}");
    }
    let mut first = ShardMetrics::default();
    let mut second = ShardMetrics::default();
    first.record_access_denied("explicit_deny");
    second.record_access_denied("explicit_deny");
    second.record_access_denied("other");
    let text = render(&[snapshot(0, first), snapshot(1, second)], &now());
    assert!(text.contains("maxiofs_access_denied_total{reason=\"explicit_deny\"} 2"));
    assert!(text.contains("maxiofs_access_denied_total{reason=\"implicit_deny\"} 0"));
    assert!(text.contains("maxiofs_access_denied_total{reason=\"other\"} 1"));
}

#[test]
fn storage_counters_add_up_across_shards() {
    // The encoder refuses a family without samples: give the request families one.
    let mut served = ShardMetrics::default();
    served.record(&request("GetObject", 200, 1));
    let mut first = snapshot(0, served);
    first.storage.checksum_errors = 2;
    first.storage.scrub_bytes = 100;
    let mut second = snapshot(1, ShardMetrics::default());
    second.storage.checksum_errors = 1;
    second.storage.scrub_passes = 4;
    let text = render(&[first, second], &now());
    assert!(text.contains("maxiofs_storage_checksum_errors_total 3"));
    assert!(text.contains("maxiofs_scrub_bytes_total 100"));
    assert!(text.contains("maxiofs_scrub_passes_total 4"));
}

#[test]
fn usage_adds_up_per_bucket_and_per_tenant() {
    let mut first = snapshot(0, ShardMetrics::default());
    let mut second = snapshot(1, ShardMetrics::default());
    let sample = |bucket: &str, objects, bytes| BucketUsageSample {
        bucket: bucket.to_owned(),
        objects,
        bytes,
    };
    first.bucket_usage = vec![sample("photos", 2, 200), sample("gone", 9, 9)];
    second.bucket_usage = vec![sample("photos", 1, 50), sample("logs", 4, 4000)];
    let mut gauges = now();
    gauges
        .bucket_owners
        .insert("photos".into(), Some("acme".into()));
    gauges.bucket_owners.insert("logs".into(), None);
    gauges
        .bucket_owners
        .insert("empty".into(), Some("acme".into()));
    let text = render(&[first, second], &gauges);
    assert!(
        text.contains("maxiofs_bucket_objects_total{bucket=\"photos\"} 3"),
        "{text}"
    );
    assert!(text.contains("maxiofs_bucket_bytes_total{bucket=\"photos\"} 250"));
    assert!(text.contains("maxiofs_bucket_bytes_total{bucket=\"empty\"} 0"));
    assert!(
        !text.contains("bucket=\"gone\""),
        "a deleted bucket is not reported"
    );
    assert!(text.contains("maxiofs_storage_used_bytes{tenant=\"acme\"} 250"));
    assert!(text.contains("maxiofs_storage_used_bytes{tenant=\"\"} 4000"));
    assert!(text.contains("maxiofs_tenant_buckets_total{tenant=\"acme\"} 2"));
    assert!(text.contains("maxiofs_objects_total 7"));
}

const TASK_BOUNDS: [f64; 2] = [0.01, 1.0];

fn task(
    task_type: &'static str,
    succeeded: u64,
    failed: u64,
    counts: [u64; 3],
) -> BackgroundTaskSample {
    BackgroundTaskSample {
        task_type,
        succeeded,
        failed,
        durations: Buckets::from_counts(&TASK_BOUNDS, counts.to_vec(), 0.5),
    }
}

#[test]
fn background_tasks_and_the_cache_add_up_across_shards() {
    let mut first = snapshot(0, ShardMetrics::default());
    first.background_tasks = vec![
        task("reclaim", 3, 1, [2, 2, 0]),
        task("scrub", 1, 0, [0, 0, 1]),
    ];
    first.cache = CacheSample {
        hits: 6,
        misses: 2,
        evictions: 1,
        size_bytes: 4096,
        capacity_bytes: 100,
    };
    let mut second = snapshot(1, ShardMetrics::default());
    second.background_tasks = vec![task("reclaim", 2, 0, [0, 1, 1])];
    second.cache = CacheSample {
        hits: 2,
        misses: 0,
        evictions: 0,
        size_bytes: 8192,
        capacity_bytes: 100,
    };
    let text = render(&[first, second], &now());
    let has = |line: &str| assert!(text.contains(line), "{line} not in\n{text}");
    has("maxiofs_background_tasks_total{task_type=\"reclaim\",status=\"success\"} 5");
    has("maxiofs_background_tasks_total{task_type=\"reclaim\",status=\"failure\"} 1");
    // A type with no failure still has its failure series, at zero.
    has("maxiofs_background_tasks_total{task_type=\"scrub\",status=\"failure\"} 0");
    has("maxiofs_background_task_duration_seconds_bucket{task_type=\"reclaim\",le=\"0.01\"} 2");
    has("maxiofs_background_task_duration_seconds_bucket{task_type=\"reclaim\",le=\"1\"} 5");
    has("maxiofs_background_task_duration_seconds_count{task_type=\"reclaim\"} 6");
    has("maxiofs_background_task_duration_seconds_sum{task_type=\"reclaim\"} 1");
    has("# TYPE maxiofs_background_tasks_total counter");
    has("# TYPE maxiofs_background_task_duration_seconds histogram");
    has("maxiofs_cache_hits_total 8");
    has("maxiofs_cache_misses_total 2");
    has("maxiofs_cache_evictions_total 1");
    has("maxiofs_cache_size_bytes 12288");
    has("maxiofs_cache_capacity_bytes 200");
    has("maxiofs_cache_hit_rate 0.8");
}

#[test]
fn no_cache_hit_rate_before_the_first_small_read() {
    let text = render(&[snapshot(0, ShardMetrics::default())], &now());
    assert!(text.contains("maxiofs_cache_misses_total 0"), "{text}");
    assert!(!text.contains("maxiofs_cache_hit_rate"), "{text}");
}

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
    }
}

fn snapshot(shard_id: u32, metrics: ShardMetrics) -> MetricsSnapshot {
    MetricsSnapshot {
        shard_id,
        metrics,
        storage: StorageCounters::default(),
        requests_in_flight: 0,
        io_uring: true,
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
    let text = render(
        &[snapshot(0, first), snapshot(1, second)],
        &ServerGauges::default(),
    );
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
    let text = render(&[snapshot(0, metrics)], &ServerGauges::default());
    let p99 = text
        .lines()
        .find(|line| line.starts_with("maxiofs_operation_latency_p99_milliseconds"))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse::<f64>().ok())
        .expect("p99 line");
    assert!((98.0..=101.0).contains(&p99), "{p99}");
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
    let text = render(&[first, second], &ServerGauges::default());
    assert!(text.contains("maxiofs_storage_checksum_errors_total 3"));
    assert!(text.contains("maxiofs_scrub_bytes_total 100"));
    assert!(text.contains("maxiofs_scrub_passes_total 4"));
}

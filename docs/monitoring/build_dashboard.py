#!/usr/bin/env python3
"""Writes grafana-dashboard.json, the MaxIOFS Grafana dashboard, from the panel list below.

Edit this file, not the JSON: run `python3 docs/monitoring/build_dashboard.py` and commit both.
tests/compat/test_monitoring.py checks that every metric a query uses is exported by a live
server, so a panel cannot silently go empty the way MaxIOFS's "Total Objects" did.
"""
import json
from pathlib import Path

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
INSTANCE = 'instance=~"$instance"'


def target(expr, legend="", ref="A"):
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def panel(kind, title, targets, unit="short", width=6, height=6, **extra):
    refs = "ABCDEFGH"
    return {
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "targets": [target(expr, legend, refs[i]) for i, (expr, legend) in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": extra.pop("options", {}),
        "_size": (width, height),
        **extra,
    }


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "_size": (24, 1)}


def s(metric, labels=""):
    """A selector of `metric` on the chosen instances, with extra label matchers."""
    inner = ",".join(x for x in (INSTANCE, labels) if x)
    return f"{metric}{{{inner}}}"


def quantile(q, operations='PutObject|GetObject|DeleteObject|ListObjectsV2|HeadObject'):
    selector = s("maxiofs_s3_operation_duration_seconds_bucket", f'operation=~"{operations}"')
    return f"histogram_quantile({q}, sum by (le, operation) (rate({selector}[$__rate_interval])))"


PANELS = [
    row("System and resources"),
    panel("stat", "CPU usage", [(s("maxiofs_system_cpu_usage_percent"), "")], "percent", 4, 4),
    panel("stat", "Memory usage", [(s("maxiofs_system_memory_usage_percent"), "")], "percent", 4, 4),
    panel("stat", "Disk usage", [(s("maxiofs_system_disk_usage_percent"), "")], "percent", 4, 4),
    panel("stat", "Buckets", [(f"sum({s('maxiofs_buckets_total')})", "")], "short", 4, 4),
    panel(
        "stat",
        "Shards serving",
        [(f"sum({s('maxiofs_shards_serving')}) / sum({s('maxiofs_shards_total')})", "")],
        "percentunit",
        4,
        4,
    ),
    panel("stat", "Storage full", [(f"max({s('maxiofs_storage_full')})", "")], "bool", 4, 4),
    panel(
        "timeseries",
        "System resources over time",
        [
            (s("maxiofs_system_cpu_usage_percent"), "CPU {{instance}}"),
            (s("maxiofs_system_memory_usage_percent"), "memory {{instance}}"),
            (s("maxiofs_system_disk_usage_percent"), "disk {{instance}}"),
        ],
        "percent",
        12,
        8,
    ),
    panel(
        "timeseries",
        "Server process",
        [
            (f"rate({s('process_cpu_seconds_total')}[$__rate_interval])", "CPU seconds/s {{instance}}"),
            (s("process_resident_memory_bytes"), "resident {{instance}}"),
        ],
        "short",
        12,
        8,
    ),
    panel("stat", "Objects", [(f"sum({s('maxiofs_objects_total')})", "")], "short", 6, 4),
    panel("stat", "Storage used", [(f"sum({s('maxiofs_storage_used_bytes_total')})", "")], "bytes", 6, 4),
    panel(
        "piechart",
        "Storage by bucket",
        [(f"topk(10, sum by (bucket) ({s('maxiofs_bucket_bytes_total')}))", "{{bucket}}")],
        "bytes",
        6,
        8,
    ),
    panel(
        "piechart",
        "Storage by tenant",
        [(f"sum by (tenant) ({s('maxiofs_storage_used_bytes')})", "{{tenant}}")],
        "bytes",
        6,
        8,
    ),
    row("Performance and latency"),
    panel(
        "timeseries",
        "Latency p50 / p95 / p99 (from the histograms)",
        [
            (quantile(0.5), "p50 {{operation}}"),
            (quantile(0.95), "p95 {{operation}}"),
            (quantile(0.99), "p99 {{operation}}"),
        ],
        "s",
        12,
        8,
    ),
    panel(
        "timeseries",
        "Latency p99 and p999 over the server's sliding window",
        [
            (s("maxiofs_operation_latency_p99_milliseconds"), "p99 {{operation}}"),
            (s("maxiofs_operation_latency_p999_milliseconds"), "p999 {{operation}}"),
        ],
        "ms",
        12,
        8,
    ),
    panel(
        "gauge",
        "Success rate by operation (no 5xx)",
        [(s("maxiofs_operation_success_rate_percent", 'operation=~"PutObject|GetObject|DeleteObject|ListObjectsV2"'), "{{operation}}")],
        "percent",
        8,
        8,
        options={"reduceOptions": {"calcs": ["lastNotNull"]}, "minVizValue": 90, "maxVizValue": 100},
    ),
    panel(
        "piechart",
        "Operation distribution",
        [(f"sum by (operation) (increase({s('maxiofs_s3_operations_total')}[$__range]))", "{{operation}}")],
        "short",
        8,
        8,
    ),
    panel(
        "timeseries",
        "Errors by S3 code",
        [(f"sum by (error_type) (rate({s('maxiofs_s3_errors_total')}[$__rate_interval]))", "{{error_type}}")],
        "reqps",
        8,
        8,
    ),
    panel(
        "timeseries",
        "Authentication failures by reason",
        [(f"sum by (method, reason) (rate({s('maxiofs_auth_failures_total')}[$__rate_interval]))", "{{method}} {{reason}}")],
        "reqps",
        12,
        6,
    ),
    panel(
        "timeseries",
        "Authentications by method",
        [(f"sum by (method) (rate({s('maxiofs_auth_attempts_total')}[$__rate_interval]))", "{{method}}")],
        "reqps",
        12,
        6,
    ),
    row("Throughput and requests"),
    panel(
        "timeseries",
        "Requests per second",
        [
            (f"sum by (operation) (rate({s('maxiofs_s3_operations_total')}[$__rate_interval]))", "{{operation}}"),
        ],
        "reqps",
        8,
        8,
    ),
    panel(
        "timeseries",
        "Bytes per second",
        [
            (f"sum(rate({s('maxiofs_http_received_bytes_total')}[$__rate_interval]))", "received"),
            (f"sum(rate({s('maxiofs_http_sent_bytes_total')}[$__rate_interval]))", "sent"),
        ],
        "Bps",
        8,
        8,
    ),
    panel(
        "timeseries",
        "Objects per second (sliding window)",
        [(s("maxiofs_throughput_objects_per_second"), "{{instance}}")],
        "ops",
        8,
        8,
    ),
    panel(
        "timeseries",
        "Requests per second by shard (an unbalanced core shows here)",
        [(f"sum by (shard) (rate({s('maxiofs_shard_requests_total')}[$__rate_interval]))", "shard {{shard}}")],
        "reqps",
        12,
        8,
    ),
    panel(
        "timeseries",
        "Requests in flight by shard",
        [(f"sum by (shard) ({s('maxiofs_shard_requests_in_flight')})", "shard {{shard}}")],
        "short",
        12,
        8,
    ),
]


PANELS += [
    row("Storage integrity"),
    panel(
        "stat",
        "Checksum mismatches (range)",
        [(f"sum(increase({s('maxiofs_storage_checksum_errors_total')}[$__range]))", "")],
        "short",
        6,
        6,
    ),
    panel(
        "stat",
        "Damaged objects found by the scrubber (range)",
        [(f"sum(increase({s('maxiofs_scrub_damaged_objects_total')}[$__range]))", "")],
        "short",
        6,
        6,
    ),
    panel(
        "timeseries",
        "Blocks verified per second (reads)",
        [(f"sum(rate({s('maxiofs_storage_blocks_verified_total')}[$__rate_interval]))", "blocks/s")],
        "short",
        6,
        6,
    ),
    panel(
        "timeseries",
        "Scrubber bytes per second",
        [(f"sum(rate({s('maxiofs_scrub_bytes_total')}[$__rate_interval]))", "scrubbed")],
        "Bps",
        6,
        6,
    ),
]

TASK_FAILURES = s("maxiofs_background_tasks_total", 'status="failure"')

PANELS += [
    row("Background tasks and read cache"),
    panel(
        "stat",
        "Background task failures (range)",
        [(f"sum(increase({TASK_FAILURES}[$__range]))", "")],
        "short",
        6,
        6,
    ),
    panel(
        "timeseries",
        "Background tasks per minute by type and status",
        [
            (
                f"60 * sum by (task_type, status) (rate({s('maxiofs_background_tasks_total')}[$__rate_interval]))",
                "{{task_type}} {{status}}",
            )
        ],
        "short",
        9,
        6,
    ),
    panel(
        "timeseries",
        "Background task duration (p95 and mean) by type",
        [
            (
                "histogram_quantile(0.95, sum by (le, task_type) "
                f"(rate({s('maxiofs_background_task_duration_seconds_bucket')}[$__rate_interval])))",
                "p95 {{task_type}}",
            ),
            (
                f"sum by (task_type) (rate({s('maxiofs_background_task_duration_seconds_sum')}[$__rate_interval]))"
                f" / sum by (task_type) (rate({s('maxiofs_background_task_duration_seconds_count')}[$__rate_interval]))",
                "mean {{task_type}}",
            ),
        ],
        "s",
        9,
        6,
    ),
    panel(
        "timeseries",
        "Read cache hit ratio (small reads)",
        [
            (
                f"sum(rate({s('maxiofs_cache_hits_total')}[$__rate_interval])) / "
                f"(sum(rate({s('maxiofs_cache_hits_total')}[$__rate_interval])) + "
                f"sum(rate({s('maxiofs_cache_misses_total')}[$__rate_interval])))",
                "over the interval",
            ),
            (s("maxiofs_cache_hit_rate"), "since start {{instance}}"),
        ],
        "percentunit",
        8,
        6,
    ),
    panel(
        "timeseries",
        "Read cache size",
        [
            (f"sum({s('maxiofs_cache_size_bytes')})", "held"),
            (f"sum({s('maxiofs_cache_capacity_bytes')})", "capacity"),
        ],
        "bytes",
        8,
        6,
    ),
    panel(
        "timeseries",
        "Read cache evictions per second",
        [(f"sum(rate({s('maxiofs_cache_evictions_total')}[$__rate_interval]))", "evictions/s")],
        "short",
        8,
        6,
    ),
]


def layout(panels):
    """Grafana grid positions: panels flow left to right, 24 columns wide."""
    x = y = row_height = 0
    for number, item in enumerate(panels, start=1):
        width, height = item.pop("_size")
        if x + width > 24:
            x, y, row_height = 0, y + row_height, 0
        item["gridPos"] = {"x": x, "y": y, "w": width, "h": height}
        item["id"] = number
        x += width
        row_height = max(row_height, height)
        if item["type"] == "row":
            x, y, row_height = 0, y + height, 0
    return panels


def dashboard():
    return {
        "title": "MaxIOFS",
        "uid": "maxiofs",
        "tags": ["maxiofs", "s3"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"},
                {
                    "name": "instance",
                    "type": "query",
                    "datasource": DATASOURCE,
                    "query": "label_values(maxiofs_shards_total, instance)",
                    "includeAll": True,
                    "multi": True,
                    "current": {"text": "All", "value": "$__all"},
                },
            ]
        },
        "panels": layout(PANELS),
    }


if __name__ == "__main__":
    out = Path(__file__).with_name("grafana-dashboard.json")
    out.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(f"wrote {out}")

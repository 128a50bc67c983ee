"""docs/monitoring against a live server: every metric the Grafana dashboard and the alert rules
query is exported, the rules pass `promtool check rules`, the sliding-window SLO gauges move
with traffic, and readiness (and `maxiofs_shards_serving`) turns false when a shard stops."""

import ctypes
import ctypes.util
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from harness import make_client
from s3util import expect_error, payload
from test_metrics import TOKEN, metered, samples, scrape, total  # noqa: F401 (fixture)

pytestmark = pytest.mark.binary

MONITORING = Path(__file__).resolve().parents[2] / "docs" / "monitoring"

# PromQL words that look like metric names but are not.
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "offset", "bool", "inf", "nan",
}  # fmt: skip
# Series Prometheus makes itself, not the server.
PROMETHEUS_SERIES = {"up"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals (label values)
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range and subquery selectors
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", expr):
        word, call = match.group(1), match.group(2)
        if call or word in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = []
    for panel in dashboard["panels"]:
        exprs += [target["expr"] for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query", "")
        if query.startswith("label_values("):
            exprs.append(query[len("label_values(") : query.rindex(",")])
    return exprs


def rule_exprs() -> list[str]:
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_the_expression_parser_finds_metrics_not_functions_or_labels():
    expr = (
        'histogram_quantile(0.95, sum by (le, operation) (rate(maxiofs_a_bucket{op=~"x|y"}[5m])))'
        " / on (instance) group_left maxiofs_b offset 5m > 2 and up == 0"
    )
    assert metric_names(expr) == {"maxiofs_a_bucket", "maxiofs_b", "up"}


def drive_traffic(server):
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="monitored")
    for index in range(20):
        s3.put_object(Bucket="monitored", Key=f"k/{index}", Body=payload(4096 + index))
    for index in range(10):
        s3.get_object(Bucket="monitored", Key=f"k/{index}")["Body"].read()
        s3.head_object(Bucket="monitored", Key=f"k/{index}")
    s3.list_objects_v2(Bucket="monitored")
    s3.delete_object(Bucket="monitored", Key="k/0")
    expect_error(s3.get_object, 404, "NoSuchKey", Bucket="monitored", Key="missing")
    stranger = make_client(server.endpoint, access_key="AKIANOBODY", secret_key="whatever-secret")
    expect_error(stranger.list_buckets, 403, "InvalidAccessKeyId")


def exported_names(text: str) -> set[str]:
    return {name for name, _, _ in samples(text)}


def test_every_metric_of_the_dashboard_and_rules_is_exported(metered):  # noqa: F811
    drive_traffic(metered)
    # Several scrapes, so that every shard's first CPU reading has a predecessor.
    exported = set()
    for _ in range(4):
        exported |= exported_names(scrape(metered))
    for source, exprs in (("dashboard", dashboard_exprs()), ("alerts.yml", rule_exprs())):
        assert exprs, f"no expressions found in {source}"
        for expr in exprs:
            missing = metric_names(expr) - exported - PROMETHEUS_SERIES
            assert not missing, f"{source}: {expr!r} uses metrics the server does not export: {missing}"


def test_promtool_accepts_the_rules():
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/run installs it (Debian package prometheus)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    result = subprocess.run([promtool, "check", "rules", str(MONITORING / "alerts.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_dashboard_is_what_its_generator_writes(tmp_path):
    """grafana-dashboard.json is generated: an edit by hand would be lost at the next run."""
    generator = MONITORING / "build_dashboard.py"
    copy = tmp_path / "build_dashboard.py"
    shutil.copy(generator, copy)
    subprocess.run(["python3", str(copy)], check=True, capture_output=True)
    assert json.loads((tmp_path / "grafana-dashboard.json").read_text()) == json.loads(
        (MONITORING / "grafana-dashboard.json").read_text()
    )


def test_slo_gauges_follow_recent_traffic(metered):  # noqa: F811
    drive_traffic(metered)
    text = scrape(metered)
    assert total(text, "maxiofs_throughput_requests_per_second") > 0
    assert total(text, "maxiofs_throughput_objects_per_second") > 0
    assert total(text, "maxiofs_slo_window_seconds") == 300
    p50 = total(text, "maxiofs_operation_latency_p50_milliseconds", operation="PutObject")
    p999 = total(text, "maxiofs_operation_latency_p999_milliseconds", operation="PutObject")
    assert 0 < p50 <= p999
    assert total(text, "maxiofs_operation_success_rate_percent", operation="GetObject") == 100
    assert total(text, "maxiofs_s3_errors_total", operation="GetObject", error_type="NoSuchKey") == 1
    assert total(text, "maxiofs_http_request_duration_seconds_count", method="PUT") >= 21
    assert total(text, "maxiofs_object_size_bytes_count") == 20
    assert total(text, "maxiofs_system_disk_total_bytes") > 0
    assert 0 < total(text, "maxiofs_system_memory_usage_percent") < 100
    assert total(text, "process_resident_memory_bytes") > 0


# -- a stopped shard ---------------------------------------------------------

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000


class FrozenThread:
    """Stops one thread of another process (and only that one) with PTRACE_SEIZE +
    PTRACE_INTERRUPT, as a debugger in non-stop mode does: the rest of the process runs on."""

    def __init__(self, tid: int):
        self.tid = tid
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        self.libc.ptrace.restype = ctypes.c_long

    def _ptrace(self, request: int):
        if self.libc.ptrace(request, self.tid, None, None) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"ptrace({request:#x}, {self.tid}): {os.strerror(errno)}")

    def __enter__(self):
        self._ptrace(PTRACE_SEIZE)
        self._ptrace(PTRACE_INTERRUPT)
        os.waitpid(self.tid, WALL)
        return self

    def __exit__(self, *exc):
        self._ptrace(PTRACE_DETACH)


def thread_id(pid: int, name: str) -> int:
    for task in Path(f"/proc/{pid}/task").iterdir():
        if (task / "comm").read_text().strip() == name:
            return int(task.name)
    raise AssertionError(f"no thread {name} in process {pid}")


def get_answered(url: str, headers=None, attempts: int = 40) -> tuple[int, bytes]:
    """GET on fresh connections until one lands on a shard that answers (the kernel spreads
    connections over every shard's listener, the frozen one's too)."""
    for _ in range(attempts):
        request = urllib.request.Request(url, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=3) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (TimeoutError, urllib.error.URLError):
            continue
    raise AssertionError(f"no shard answered {url}")


def test_readiness_turns_false_while_a_shard_is_stopped(metered):  # noqa: F811
    base = metered.endpoint.url
    status, _ = get_answered(f"{base}/health/ready")
    assert status == 200
    try:
        frozen = FrozenThread(thread_id(metered.proc.pid, "shard-1"))
        frozen.__enter__()
    except OSError as error:
        pytest.skip(f"cannot ptrace a thread here: {error}")
    try:
        status, body = get_answered(f"{base}/health/ready")
        assert status == 503, body
        health = json.loads(body)
        assert health["shards"] == 2 and health["shards_serving"] == 1
        status, body = get_answered(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200
        assert total(body.decode(), "maxiofs_shards_serving") == 1
        assert total(body.decode(), "maxiofs_shards_total") == 2
    finally:
        frozen.__exit__()
    deadline = time.monotonic() + 10
    while get_answered(f"{base}/health/ready")[0] != 200:
        assert time.monotonic() < deadline, "readiness did not come back after the shard resumed"
        time.sleep(0.2)


def test_each_request_is_one_log_line_with_its_request_id(server_factory):
    server = server_factory.create(name="logged")
    server.extra_args = ["--log-format", "json"]
    server.extra_env = {"RUST_LOG": "debug"}
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="logged")
    put = s3.put_object(Bucket="logged", Key="a/b.txt", Body=b"x" * 1000)
    request_id = put["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    try:
        s3.get_object(Bucket="logged", Key="missing")
    except Exception as error:  # noqa: BLE001 (the error's request id is what we want)
        missing_id = error.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert server.stop() == 0
    lines = []
    for line in server.stderr_path.read_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("fields", {}).get("message") == "request":
                lines.append(record["fields"])
    by_id = {fields["request_id"]: fields for fields in lines}
    assert by_id[request_id]["operation"] == "PutObject"
    assert by_id[request_id]["status"] == 200 and by_id[request_id]["key"] == "a/b.txt"
    assert by_id[request_id]["received_bytes"] >= 1000
    assert by_id[missing_id]["status"] == 404 and by_id[missing_id]["error"] == "NoSuchKey"
    assert len([fields for fields in lines if fields["request_id"] == request_id]) == 1


def test_usage_per_bucket_and_tenant_follows_writes(metered):  # noqa: F811
    drive_traffic(metered)  # 20 objects of 4096 + i bytes, then k/0 deleted
    want_objects = 19
    want_bytes = sum(4096 + index for index in range(1, 20))
    deadline = time.monotonic() + 10
    while True:
        text = scrape(metered)
        objects = total(text, "maxiofs_bucket_objects_total", bucket="monitored")
        stored = total(text, "maxiofs_bucket_bytes_total", bucket="monitored")
        # Each shard refreshes on its own: wait until both agree with what was written.
        if (objects, stored) == (want_objects, want_bytes) or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # shards refresh usage every 250 ms
    assert objects == want_objects
    assert total(text, "maxiofs_bucket_bytes_total", bucket="monitored") == want_bytes
    # The root identity's buckets belong to no tenant.
    assert total(text, "maxiofs_storage_used_bytes", tenant="") == want_bytes
    assert total(text, "maxiofs_objects_total") == want_objects


def test_authentication_is_counted_by_method_and_reason(metered):  # noqa: F811
    s3 = make_client(metered.endpoint)
    s3.create_bucket(Bucket="authed")
    s3.put_object(Bucket="authed", Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "authed", "Key": "k"}, ExpiresIn=60)
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"x"
    wrong_secret = make_client(metered.endpoint, access_key=metered.endpoint.access_key, secret_key="not-the-secret")
    expect_error(wrong_secret.list_buckets, 403, "SignatureDoesNotMatch")
    unknown = make_client(metered.endpoint, access_key="AKIANOBODY", secret_key="whatever-secret")
    expect_error(unknown.list_buckets, 403, "InvalidAccessKeyId")
    try:
        urllib.request.urlopen(f"{metered.endpoint.url}/authed/k", timeout=10)
    except urllib.error.HTTPError as error:
        assert error.code == 403
    text = scrape(metered)
    assert total(text, "maxiofs_auth_attempts_total", method="sigv4", status="success") >= 2
    assert total(text, "maxiofs_auth_attempts_total", method="presigned_v4", status="success") == 1
    assert total(text, "maxiofs_auth_attempts_total", method="anonymous", status="success") == 1
    assert total(text, "maxiofs_auth_failures_total", method="sigv4", reason="SignatureDoesNotMatch") == 1
    assert total(text, "maxiofs_auth_failures_total", method="sigv4", reason="InvalidAccessKeyId") == 1
    assert total(text, "maxiofs_auth_attempts_total", method="sigv4", status="failure") == 2


# -- background tasks and the read cache ----------------------------------------------------


def partition_count(server) -> int:
    """Partitions of the data directory, from its FORMAT file (`partitions N`)."""
    match = re.search(r"^partitions (\d+)$", (server.data_dir / "FORMAT").read_text(), re.MULTILINE)
    assert match, "FORMAT names no partition count"
    return int(match[1])


def tasks(text: str, task_type: str) -> tuple[float, float, float]:
    """(successes, failures, duration observations) of one background task type."""
    return (
        total(text, "maxiofs_background_tasks_total", task_type=task_type, status="success"),
        total(text, "maxiofs_background_tasks_total", task_type=task_type, status="failure"),
        total(text, "maxiofs_background_task_duration_seconds_count", task_type=task_type),
    )


def wait_for(server, condition, seconds: float = 10) -> str:
    """Scrapes until `condition(text)` holds; returns the last scrape either way."""
    deadline = time.monotonic() + seconds
    text = scrape(server)
    while not condition(text) and time.monotonic() < deadline:
        time.sleep(0.1)
        text = scrape(server)
    return text


def test_start_up_recovery_is_one_task_per_partition(metered):  # noqa: F811
    text = scrape(metered)
    partitions = partition_count(metered)
    assert tasks(text, "recovery") == (partitions, 0, partitions)
    # Every task type is exported from the start, zeros included, so rules have a series.
    for task_type in ("scrub", "reclaim", "reserve_release", "reserve_restore", "event_log_trim",
                      "key_rewrap"):
        assert tasks(text, task_type) == (0, 0, 0), task_type


def test_repeated_small_gets_are_served_from_the_read_cache(metered):  # noqa: F811
    s3 = make_client(metered.endpoint)
    s3.create_bucket(Bucket="cached")
    bodies = {f"small/{index}": payload(4096) for index in range(8)}
    keys = list(bodies)
    for key, body in bodies.items():
        s3.put_object(Bucket="cached", Key=key, Body=body)
    for key in keys:  # first reads: from the disk, into the cache
        s3.get_object(Bucket="cached", Key=key)["Body"].read()
    before = scrape(metered)
    rounds = 5
    for _ in range(rounds):
        for key in keys:
            assert s3.get_object(Bucket="cached", Key=key)["Body"].read() == bodies[key]
    after = scrape(metered)
    hits = total(after, "maxiofs_cache_hits_total") - total(before, "maxiofs_cache_hits_total")
    misses = total(after, "maxiofs_cache_misses_total") - total(before, "maxiofs_cache_misses_total")
    # One cacheable read per 4 KiB GET, every one of them a hit.
    assert (hits, misses) == (rounds * len(keys), 0)
    assert total(before, "maxiofs_cache_misses_total") >= len(keys)
    all_hits = total(after, "maxiofs_cache_hits_total")
    lookups = all_hits + total(after, "maxiofs_cache_misses_total")
    assert total(after, "maxiofs_cache_hit_rate") == pytest.approx(all_hits / lookups)
    assert total(after, "maxiofs_cache_hit_rate") > 0.5
    assert len(keys) * 4096 <= total(after, "maxiofs_cache_size_bytes") <= total(after, "maxiofs_cache_capacity_bytes")
    assert total(after, "maxiofs_cache_evictions_total") == 0
    assert "# TYPE maxiofs_cache_hits_total counter" in after
    assert "# TYPE maxiofs_cache_hit_rate gauge" in after


def test_deletes_and_overwrites_are_counted_as_reclamation_tasks(metered):  # noqa: F811
    s3 = make_client(metered.endpoint)
    s3.create_bucket(Bucket="reclaimed")
    for index in range(10):
        s3.put_object(Bucket="reclaimed", Key=f"k/{index}", Body=payload(100_000 + index))
    # Writes of a known length free nothing.
    assert tasks(scrape(metered), "reclaim") == (0, 0, 0)
    for index in range(5):
        s3.delete_object(Bucket="reclaimed", Key=f"k/{index}")
    s3.put_object(Bucket="reclaimed", Key="k/9", Body=payload(5000))  # an overwrite frees too
    # Punching runs on the partition worker after the commits; a batch may hold several frees.
    text = wait_for(metered, lambda text: tasks(text, "reclaim")[0] >= 1)
    succeeded, failed, observed = tasks(text, "reclaim")
    assert 1 <= succeeded <= 6 and failed == 0
    assert observed == succeeded + failed
    assert total(text, "maxiofs_background_task_duration_seconds_sum", task_type="reclaim") > 0


@pytest.fixture
def scrubbed(server_factory):
    server = server_factory.create(name="scrubbed-metrics")
    server.extra_args = ["--metrics-token", TOKEN, "--scrub-interval-secs", "1", "--scrub-bytes-per-sec", str(64 << 20)]
    server.start()
    yield server
    assert server.stop() == 0


def test_scrub_passes_are_counted_with_their_duration(scrubbed):
    s3 = make_client(scrubbed.endpoint)
    s3.create_bucket(Bucket="scrubbed")
    for index in range(6):
        s3.put_object(Bucket="scrubbed", Key=f"k/{index}", Body=payload(300_000))
    partitions = partition_count(scrubbed)
    # One pass over every partition, plus one more after the objects were certainly there.
    text = wait_for(scrubbed, lambda text: tasks(text, "scrub")[0] >= 2 * partitions, seconds=30)
    succeeded, failed, observed = tasks(text, "scrub")
    assert succeeded >= 2 * partitions and failed == 0
    assert observed == succeeded
    assert total(text, "maxiofs_background_task_duration_seconds_sum", task_type="scrub") > 0
    # A finished pass is also a scrub pass; the scrubber read the objects.
    assert total(text, "maxiofs_scrub_passes_total") >= succeeded
    assert total(text, "maxiofs_scrub_objects_total") >= 6


# -- under load ------------------------------------------------------------------------------


def test_counters_and_histograms_add_up_across_shards_under_concurrent_load(metered):  # noqa: F811
    """Issue 6's "Done when": many clients at once, on connections spread over both shards,
    and every request sent is counted once: per operation, in the latency histograms, per
    HTTP method and per shard."""
    s3 = make_client(metered.endpoint)
    s3.create_bucket(Bucket="loaded")
    workers, per_worker = 8, 12

    def work(worker: int):
        client = make_client(metered.endpoint)
        for index in range(per_worker):
            key, body = f"w{worker}/{index}", payload(2000 + index)
            client.put_object(Bucket="loaded", Key=key, Body=body)
            assert client.get_object(Bucket="loaded", Key=key)["Body"].read() == body
            expect_error(client.head_object, 404, "404", Bucket="loaded", Key=f"{key}/missing")

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work, worker) for worker in range(workers)]:
            future.result()
    text = scrape(metered)
    sent = workers * per_worker
    for operation, status in (("PutObject", "200"), ("GetObject", "200"), ("HeadObject", "404")):
        assert total(text, "maxiofs_s3_operations_total", operation=operation) == sent, operation
        assert total(text, "maxiofs_s3_operations_total", operation=operation, status=status) == sent
        assert total(text, "maxiofs_s3_operation_duration_seconds_count", operation=operation) == sent
        inf = total(text, "maxiofs_s3_operation_duration_seconds_bucket", operation=operation, le="+Inf")
        assert inf == sent, operation
        assert total(text, "maxiofs_operation_count_total", operation=operation) == sent
    # Plus the one CreateBucket.
    assert total(text, "maxiofs_http_request_duration_seconds_count", method="PUT") == sent + 1
    assert total(text, "maxiofs_http_request_duration_seconds_count", method="GET") == sent
    assert total(text, "maxiofs_http_request_duration_seconds_count", method="HEAD") == sent
    per_shard = {labels["shard"]: v for n, labels, v in samples(text) if n == "maxiofs_shard_requests_total"}
    assert set(per_shard) == {"0", "1"} and all(v > 0 for v in per_shard.values())
    assert sum(per_shard.values()) == total(text, "maxiofs_s3_operations_total") == 3 * sent + 1

"""GET /metrics: per-shard counters merged at scrape time, Prometheus types, and access
control (BAD-INPUTS Z3: no anonymous diagnostics)."""

import json
import re
import urllib.error
import urllib.request

import pytest

from harness import make_client
from s3util import expect_error, payload, raw_request

pytestmark = pytest.mark.binary

TOKEN = "scrape-token-for-tests"
SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


@pytest.fixture
def metered(server_factory):
    server = server_factory.create(name="metered")
    server.extra_args = ["--metrics-token", TOKEN]
    server.start()
    yield server
    assert server.stop() == 0


def scrape(server, token=TOKEN) -> str:
    request = urllib.request.Request(f"{server.endpoint.url}/metrics")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain")
        return resp.read().decode()


def samples(text: str) -> list[tuple[str, dict, float]]:
    out = []
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
            out.append((match["name"], labels, float(match["value"])))
    return out


def total(text: str, name: str, **want) -> float:
    return sum(v for n, labels, v in samples(text) if n == name and all(labels.get(k) == w for k, w in want.items()))


def test_counters_add_up_across_shards(metered):
    s3 = make_client(metered.endpoint)
    s3.create_bucket(Bucket="metered")
    bodies = [payload(1000 + i) for i in range(40)]
    for index, body in enumerate(bodies):
        s3.put_object(Bucket="metered", Key=f"k/{index}", Body=body)
    for index in range(25):
        s3.get_object(Bucket="metered", Key=f"k/{index}")["Body"].read()
    for index in range(5):
        expect_error(s3.head_object, 404, "404", Bucket="metered", Key=f"missing/{index}")
    text = scrape(metered)

    assert total(text, "maxiofs_s3_operations_total", operation="PutObject", status="200") == 40
    assert total(text, "maxiofs_s3_operations_total", operation="GetObject", status="200") == 25
    assert total(text, "maxiofs_s3_operations_total", operation="HeadObject", status="404") == 5
    assert total(text, "maxiofs_s3_operation_duration_seconds_count", operation="PutObject") == 40
    assert total(text, "maxiofs_operation_count_total", operation="GetObject") == 25
    assert total(text, "maxiofs_http_received_bytes_total") >= sum(len(b) for b in bodies)
    assert total(text, "maxiofs_http_sent_bytes_total") >= sum(len(b) for b in bodies[:25])
    # Every request is counted once, on the shard that served it, and both shards served.
    per_shard = {labels["shard"]: v for n, labels, v in samples(text) if n == "maxiofs_shard_requests_total"}
    assert set(per_shard) == {"0", "1"} and all(v > 0 for v in per_shard.values())
    assert sum(per_shard.values()) == total(text, "maxiofs_s3_operations_total")
    assert total(text, "maxiofs_buckets_total") == 1
    assert "# TYPE maxiofs_s3_operations_total counter" in text
    assert "# TYPE maxiofs_s3_operation_duration_seconds histogram" in text
    assert "# TYPE maxiofs_operation_latency_p99_milliseconds gauge" in text
    # A second scrape counts the first one.
    assert total(scrape(metered), "maxiofs_s3_operations_total", operation="Metrics", status="200") == 1


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_metrics_need_the_token_or_a_signature(metered, token):
    with pytest.raises(urllib.error.HTTPError) as exc:
        scrape(metered, token=token)
    assert exc.value.code == 403
    assert b"<Code>AccessDenied</Code>" in exc.value.read()
    signed = raw_request(metered.endpoint, "GET", "/metrics")
    assert signed.status == 200 and b"maxiofs_s3_operations_total" in signed.body


def anonymous_get(server, path: str) -> int:
    try:
        with urllib.request.urlopen(f"{server.endpoint.url}{path}", timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as error:
        return error.code


def test_access_denials_are_counted_by_reason(metered):
    fresh = scrape(metered)
    for reason in ("explicit_deny", "implicit_deny", "restrict_public_buckets", "tenant_boundary", "other"):
        assert total(fresh, "maxiofs_access_denied_total", reason=reason) == 0, reason
        assert f'maxiofs_access_denied_total{{reason="{reason}"}} 0' in fresh
    s3 = make_client(metered.endpoint)
    s3.create_bucket(Bucket="guarded")
    s3.put_object(Bucket="guarded", Key="public/open", Body=b"x")
    s3.put_bucket_policy(Bucket="guarded", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::guarded/public/*"},
        {"Sid": "NotThisOne", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::guarded/public/secret"}]}))  # fmt: skip
    assert anonymous_get(metered, "/guarded/public/open") == 200
    assert anonymous_get(metered, "/guarded/public/secret") == 403
    assert anonymous_get(metered, "/guarded/private") == 403
    assert anonymous_get(metered, "/guarded/private") == 403
    text = scrape(metered)
    assert total(text, "maxiofs_access_denied_total", reason="explicit_deny") == 1
    assert total(text, "maxiofs_access_denied_total", reason="implicit_deny") == 2

"""Bucket lifecycle through boto3 against the real binary: the configuration (AWS's XML and
its validation errors, nothing changed on a refusal), `x-amz-expiration`, and execution with
a short lifecycle day (`--lifecycle-day-secs`): exactly what the rules name is expired,
versions newer than the rule and locked versions survive, expired delete markers and stale
uploads go, and every action is an event and a counter."""

from __future__ import annotations

import datetime
import time

import pytest

from control_client import ControlClient
from harness import make_client
from s3util import expect_error, md5_b64, raw_request
from test_metrics import samples

DAY_SECS = 2

RULE_LOGS = {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 1}}


def put_lifecycle(s3, bucket, rules):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})


def keys_of(s3, bucket) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_configuration_round_trip_and_delete(s3, bucket):
    expect_error(s3.get_bucket_lifecycle_configuration, 404, "NoSuchLifecycleConfiguration", Bucket=bucket)
    rules = [
        RULE_LOGS,
        {
            "ID": "old-versions",
            "Status": "Disabled",
            "Filter": {"And": {"Prefix": "data/", "Tags": [{"Key": "tier", "Value": "cold"}], "ObjectSizeGreaterThan": 10}},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2},
        },
        {"ID": "uploads", "Status": "Enabled", "Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
        {"ID": "markers", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ]
    put_lifecycle(s3, bucket, rules)
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["ID"] for r in got] == ["logs", "old-versions", "uploads", "markers"]
    assert got[0]["Expiration"] == {"Days": 1} and got[0]["Filter"] == {"Prefix": "logs/"}
    assert got[1]["Status"] == "Disabled"
    assert got[1]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2}
    assert got[1]["Filter"]["And"]["Tags"] == [{"Key": "tier", "Value": "cold"}]
    assert got[2]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 2}
    assert got[3]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    s3.delete_bucket_lifecycle(Bucket=bucket)
    expect_error(s3.get_bucket_lifecycle_configuration, 404, "NoSuchLifecycleConfiguration", Bucket=bucket)


def test_rules_without_an_id_get_one(s3, bucket):
    put_lifecycle(s3, bucket, [{"Status": "Enabled", "Filter": {"Prefix": "a"}, "Expiration": {"Days": 5}}])
    rule_id = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["ID"]
    assert rule_id


BAD_RULE_SETS = [
    ("duplicate IDs", [RULE_LOGS, RULE_LOGS], 400, "InvalidArgument"),
    ("zero days", [{**RULE_LOGS, "Expiration": {"Days": 0}}], 400, "InvalidArgument"),
    ("no action", [{"ID": "x", "Status": "Enabled", "Filter": {}}], 400, "InvalidRequest"),
    (
        "transition",
        [{"ID": "t", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}],
        400,
        "InvalidStorageClass",
    ),
    ("date not midnight", [{**RULE_LOGS, "Expiration": {"Date": datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)}}], 400, "InvalidArgument"),
    (
        "marker rule with tags",
        [{"ID": "m", "Status": "Enabled", "Filter": {"Tag": {"Key": "a", "Value": "b"}}, "Expiration": {"ExpiredObjectDeleteMarker": True}}],
        400,
        "InvalidRequest",
    ),
]


@pytest.mark.parametrize(("case", "rules", "status", "code"), BAD_RULE_SETS, ids=[c[0] for c in BAD_RULE_SETS])
def test_bad_configurations_change_nothing(s3, bucket, case, rules, status, code):
    put_lifecycle(s3, bucket, [RULE_LOGS])
    expect_error(s3.put_bucket_lifecycle_configuration, status, code, Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]] == ["logs"]


def raw_put(server, bucket, body: bytes, with_md5: bool = True):
    headers = {"Content-MD5": md5_b64(body)} if with_md5 else {}
    return raw_request(server, "PUT", f"/{bucket}", query={"lifecycle": ""}, body=body, headers=headers)


def test_raw_bodies_are_refused_with_aws_errors(server, s3, bucket):
    put_lifecycle(s3, bucket, [RULE_LOGS])
    rule = "<Rule><ID>r{n}</ID><Status>Enabled</Status><Filter><Prefix>p</Prefix></Filter><Expiration><Days>1</Days></Expiration></Rule>"
    cases = [
        (b"<LifecycleConfiguration><Rule><Bogus/></Rule></LifecycleConfiguration>", 400, "MalformedXML"),
        (("<LifecycleConfiguration>" + "".join(rule.format(n=n) for n in range(1001)) + "</LifecycleConfiguration>").encode(), 400, "MalformedXML"),
        # 10,000 rules take 1.3 MB: refused by size while being read (1 MiB cap), like 2 MiB.
        (("<LifecycleConfiguration>" + "".join(rule.format(n=n) for n in range(10_000)) + "</LifecycleConfiguration>").encode(), 400, "EntityTooLarge"),
        (b"<LifecycleConfiguration>" + b" " * (2 * 1024 * 1024) + b"</LifecycleConfiguration>", 400, "EntityTooLarge"),
        (b"not xml", 400, "MalformedXML"),
    ]
    for body, status, code in cases:
        response = raw_put(server, bucket, body)
        assert response.status == status, (response.status, response.body[:300])
        if code:
            assert response.error_code() == code, response.body[:300]
    response = raw_put(server, bucket, f"<LifecycleConfiguration>{rule.format(n=1)}</LifecycleConfiguration>".encode(), with_md5=False)
    assert response.status == 400 and response.error_code() == "InvalidRequest"
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]] == ["logs"]


def test_expiration_header_names_the_rule(s3, bucket):
    put_lifecycle(s3, bucket, [RULE_LOGS])
    put = s3.put_object(Bucket=bucket, Key="logs/a", Body=b"x")
    expiration = put["Expiration"]
    assert 'rule-id="logs"' in expiration and "GMT" in expiration and "expiry-date=" in expiration
    assert s3.head_object(Bucket=bucket, Key="logs/a")["Expiration"] == expiration
    assert s3.get_object(Bucket=bucket, Key="logs/a")["Expiration"] == expiration
    s3.put_object(Bucket=bucket, Key="keep/a", Body=b"x")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="keep/a")
    # AWS's rounding: creation + 1 day, up to the next midnight UTC.
    expiry = datetime.datetime.strptime(expiration.split('"')[1], "%a, %d %b %Y %H:%M:%S GMT")
    assert (expiry.hour, expiry.minute, expiry.second) == (0, 0, 0)
    assert datetime.timedelta(days=1) <= expiry - datetime.datetime.utcnow() <= datetime.timedelta(days=2)


@pytest.fixture
def fast_days(server_factory):
    server = server_factory.create(name="lifecycle")
    server.extra_args = ["--lifecycle-day-secs", str(DAY_SECS), "--lifecycle-interval-secs", "1", "--metrics-token", "t"]
    server.start()
    yield server
    server.stop()


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError("timed out waiting for lifecycle")


def scrape(server) -> list:
    import urllib.request

    request = urllib.request.Request(f"{server.endpoint.url}/metrics", headers={"Authorization": "Bearer t"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return samples(resp.read().decode())


def action_count(server, action: str) -> float:
    return sum(v for name, labels, v in scrape(server) if name == "maxiofs_lifecycle_actions_total" and labels.get("action") == action)


@pytest.mark.binary
def test_expiration_removes_exactly_what_the_rule_names(fast_days):
    s3 = make_client(fast_days.endpoint)
    s3.create_bucket(Bucket="plain")
    for key in ("logs/1", "logs/2", "logsX", "keep/1"):
        s3.put_object(Bucket="plain", Key=key, Body=key.encode())
    upload = s3.create_multipart_upload(Bucket="plain", Key="logs/big")["UploadId"]
    put_lifecycle(s3, "plain", [RULE_LOGS, {"ID": "uploads", "Status": "Enabled", "Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])
    wait_for(lambda: keys_of(s3, "plain") == ["keep/1", "logsX"])
    wait_for(lambda: not s3.list_multipart_uploads(Bucket="plain").get("Uploads"))
    expect_error(s3.list_parts, 404, "NoSuchUpload", Bucket="plain", Key="logs/big", UploadId=upload)
    assert action_count(fast_days, "expire_current") >= 2
    assert action_count(fast_days, "abort_upload") >= 1
    with ControlClient(fast_days.data_dir) as control:
        events = [e for e in control.all_events() if e["kind"] == "lifecycle_expired"]
    assert {e["key"] for e in events if e["operation"] == "LifecycleExpiration"} == {"logs/1", "logs/2"}
    assert any(e["operation"] == "LifecycleAbortIncompleteMultipartUpload" for e in events)
    # Objects written now are younger than the rule: they stay until their day comes.
    s3.put_object(Bucket="plain", Key="logs/3", Body=b"new")
    assert "logs/3" in keys_of(s3, "plain")


@pytest.mark.binary
def test_versioned_rules_keep_newer_and_locked_versions(fast_days):
    s3 = make_client(fast_days.endpoint)
    s3.create_bucket(Bucket="vers", ObjectLockEnabledForBucket=True)
    ids = [s3.put_object(Bucket="vers", Key="doc", Body=f"v{n}".encode())["VersionId"] for n in range(4)]
    locked = ids[0]
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    s3.put_object_retention(Bucket="vers", Key="doc", VersionId=locked, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
    marker_only = s3.put_object(Bucket="vers", Key="gone", Body=b"x")["VersionId"]
    s3.delete_object(Bucket="vers", Key="gone", VersionId=marker_only)
    lone_marker = s3.delete_object(Bucket="vers", Key="gone")["VersionId"]
    put_lifecycle(s3, "vers", [
        {"ID": "noncurrent", "Status": "Enabled", "Filter": {"Prefix": "doc"},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}},
        {"ID": "markers", "Status": "Enabled", "Filter": {"Prefix": "gone"}, "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ])  # fmt: skip

    def doc_versions():
        page = s3.list_object_versions(Bucket="vers", Prefix="doc")
        return [v["VersionId"] for v in page.get("Versions", [])]

    # Latest (ids[3]) and the newest noncurrent (ids[2]) are kept by the rule; ids[1] expires;
    # ids[0] is old enough but locked.
    wait_for(lambda: doc_versions() == [ids[3], ids[2], ids[0]])
    wait_for(lambda: not s3.list_object_versions(Bucket="vers", Prefix="gone").get("DeleteMarkers"))
    assert action_count(fast_days, "remove_delete_marker") >= 1
    skipped = sum(v for name, _, v in scrape(fast_days) if name == "maxiofs_lifecycle_skipped_locked_total")
    assert skipped >= 1
    assert s3.get_object(Bucket="vers", Key="doc", VersionId=locked)["Body"].read() == b"v0"
    assert lone_marker not in str(s3.list_object_versions(Bucket="vers"))


@pytest.mark.binary
def test_expiring_a_versioned_object_writes_a_marker(fast_days):
    s3 = make_client(fast_days.endpoint)
    s3.create_bucket(Bucket="marked")
    s3.put_bucket_versioning(Bucket="marked", VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket="marked", Key="logs/a", Body=b"a")["VersionId"]
    put_lifecycle(s3, "marked", [RULE_LOGS])
    wait_for(lambda: bool(s3.list_object_versions(Bucket="marked").get("DeleteMarkers")))
    page = s3.list_object_versions(Bucket="marked")
    assert [v["VersionId"] for v in page["Versions"]] == [version]
    assert page["DeleteMarkers"][0]["IsLatest"] is True
    # Only one marker: later passes see the marker as the latest and leave it.
    time.sleep(2 * DAY_SECS)
    assert len(s3.list_object_versions(Bucket="marked")["DeleteMarkers"]) == 1


def metric(server, name: str) -> float:
    return sum(v for n, _, v in scrape(server) if n == name)


@pytest.mark.binary
def test_a_pass_interrupted_by_a_crash_resumes_where_it_was(server_factory):
    """A pass stores where it got to; after kill -9 the next pass continues from there rather
    than reading every version again (a slow pace makes the pass long enough to interrupt)."""
    server = server_factory.create(name="resume")
    server.extra_args = ["--lifecycle-rows-per-sec", "100", "--lifecycle-interval-secs", "1",
                         "--metrics-token", "t"]  # fmt: skip
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="walked")
    total = 1200
    for n in range(total):
        s3.put_object(Bucket="walked", Key=f"k{n:05d}", Body=b"")
    # A rule that matches nothing: the pass reads every version and deletes none.
    put_lifecycle(s3, "walked", [{"ID": "never", "Status": "Enabled", "Filter": {"Prefix": "nothing/"},
                                  "Expiration": {"Days": 1}}])  # fmt: skip
    # Each of the two partitions (~600 versions) is read in pages of 256, the cursor stored
    # after each page's paced wait: once both shards read their second page, both stored the
    # first page's position, and neither has finished.
    wait_for(lambda: metric(server, "maxiofs_lifecycle_versions_examined_total") >= 1024, timeout=60)
    server.kill()
    partitions = int((server.data_dir / "FORMAT").read_text().split("partitions")[1].split()[0])
    server.extra_args = ["--lifecycle-rows-per-sec", "100", "--lifecycle-interval-secs", "3",
                         "--metrics-token", "t"]  # fmt: skip
    server.start()
    wait_for(lambda: metric(server, "maxiofs_lifecycle_passes_total") >= partitions, timeout=60)
    examined = metric(server, "maxiofs_lifecycle_versions_examined_total")
    # From scratch the pass would read all 1200 again; resumed, it reads what was left
    # (about 2 x 344, and a key or so read again at each cursor).
    assert examined <= 900, examined
    s3 = make_client(server.endpoint)
    assert len(s3.list_objects_v2(Bucket="walked", MaxKeys=1000)["Contents"]) == 1000

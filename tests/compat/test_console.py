"""The web console served by `maxiofs admin`: its files embedded in the binary, the headers
they carry (cache, CSP), index.html for client-side routes, the API untouched beside them,
and the end-to-end test (console/e2e/e2e.mjs) driving the system Chromium through the pages
against a real `maxiofs up`. Screenshots land in target/console-screenshots/."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from admin_harness import console_stack, secret_of, totp, unique, wait_for
from harness import REPO, make_client

pytestmark = pytest.mark.binary

CONSOLE_DIR = REPO / "console"
SCREENSHOTS = REPO / "target" / "console-screenshots"
PASSWORD = "Correct-Horse-9"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def stack(module_tmp):
    yield from console_stack(module_tmp("console"))


def fetch(url: str, headers: dict[str, str] | None = None):
    """(status, headers, body) of a GET, with no redirect following and no decoding."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def built_console(stack) -> str:
    """index.html as served; the placeholder page means the binary embeds no console build."""
    status, _, body = fetch(stack.console_url + "/")
    assert status == 200
    text = body.decode()
    if "console not built" in text:
        message = "the binary embeds no console build (scripts/build-console.sh)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(message)
        pytest.skip(message)
    return text


def assert_secure(headers):
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_index_html_is_served_for_the_root_and_client_routes(stack):
    index = built_console(stack)
    for path in ["/", "/login", "/buckets/photos/settings", "/audit?page=2"]:
        status, headers, body = fetch(stack.console_url + path)
        assert status == 200, path
        assert headers["Content-Type"].startswith("text/html"), path
        assert headers["Cache-Control"] == "no-cache", path
        assert_secure(headers)
        assert body.decode() == index
    # No inline script: every script is a file of this origin.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", index)


def test_hashed_assets_are_immutable_and_gzip_when_accepted(stack):
    index = built_console(stack)
    script = re.search(r'src="(/assets/[^"]+\.js)"', index).group(1)
    status, headers, plain = fetch(stack.console_url + script)
    assert status == 200
    assert headers["Cache-Control"] == IMMUTABLE
    assert headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert headers.get("Content-Encoding") is None
    assert_secure(headers)
    status, headers, packed = fetch(stack.console_url + script, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed) == plain
    etag = headers["ETag"]
    status, _, _ = fetch(stack.console_url + script, {"If-None-Match": etag})
    assert status == 304
    # A file of another build is a 404, not index.html (a script must never be HTML).
    status, headers, _ = fetch(stack.console_url + "/assets/index-gone0000.js")
    assert status == 404


def test_the_api_keeps_its_json_answers_beside_the_console(stack):
    status, headers, body = fetch(stack.console_url + "/api/v1/")
    assert status == 200 and json.loads(body)["name"] == "MaxIOFS"
    assert re.fullmatch(r"[0-9a-f]{16}", headers["X-Request-Id"])
    status, headers, body = fetch(stack.console_url + "/api/v1/no-such-route")
    assert status == 404 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"error": {"code": "NotFound", "message": "no such route"}}
    assert re.fullmatch(r"[0-9a-f]{16}", headers["X-Request-Id"])
    status, _, body = fetch(stack.console_url + "/api/v1/buckets")
    assert status == 401 and json.loads(body)["error"]["code"] == "Unauthorized"


def test_the_request_id_of_a_call_is_in_its_audit_entry(stack):
    root = stack.root()
    name = unique("rid")
    status, headers, _ = root.raw(
        "POST", "/api/v1/users", {"username": name, "password": PASSWORD, "role": "user"})
    assert status == 201
    request_id = headers["X-Request-Id"]
    entries = root.get(f"/api/v1/audit-logs?event_type=user_created&resource={name}")["logs"]
    assert [entry["request_id"] for entry in entries] == [request_id]


def require_e2e() -> str:
    """The Chromium to drive; skip without it (or the console's node_modules) locally, fail in
    CI, where .ci/run installs chromium and nodejs and scripts/build-console.sh runs npm ci."""
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    missing = [what for what, present in [
        ("node", shutil.which("node") is not None),
        ("chromium", os.access(chromium, os.X_OK)),
        ("console/node_modules (scripts/build-console.sh)",
         (CONSOLE_DIR / "node_modules" / "playwright-core").is_dir()),
    ] if not present]  # fmt: skip
    if not missing:
        return chromium
    message = f"missing {', '.join(missing)}"
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(message)
    pytest.skip(message)


def two_factor_user(stack, root) -> tuple[str, str]:
    """A user with TOTP on (its current step spent by the enabling): (name, base32 secret)."""
    name = unique("e2e-2fa")
    root.post("/api/v1/users", {"username": name, "password": PASSWORD, "role": "user"})
    session = stack.console().login(name, PASSWORD)
    secret = secret_of(session.post("/api/v1/auth/2fa/setup")["otpauth_url"])
    session.post("/api/v1/auth/2fa/enable", {"code": totp(secret)})
    return name, secret


def traffic(stack, bucket: str, objects: int = 5) -> None:
    """A few S3 writes and reads as root, for the metrics to show."""
    s3 = make_client(stack.endpoint)
    s3.create_bucket(Bucket=bucket)
    for index in range(objects):
        s3.put_object(Bucket=bucket, Key=f"k{index}", Body=b"x" * 100)
        s3.get_object(Bucket=bucket, Key=f"k{index}")["Body"].read()


def test_metrics_are_sampled_per_operation_and_per_shard(stack):
    root = stack.root()
    before = root.get("/api/v1/metrics")["samples"][-1]
    puts_before = {o["operation"]: o["requests"] for o in before["operations"]}.get("PutObject", 0)
    traffic(stack, unique("metrics"))

    def sampled():
        answer = root.get("/api/v1/metrics")
        newest = answer["samples"][-1]
        operations = {figures["operation"]: figures for figures in newest["operations"]}
        put = operations.get("PutObject", {"requests": 0})
        return (answer, newest, operations) if put["requests"] >= puts_before + 5 else None

    answer, newest, operations = wait_for(sampled, timeout=15, interval=0.5, what="the PUTs")
    assert answer["interval_seconds"] == 5 and len(answer["samples"]) <= answer["max_samples"]
    assert operations["GetObject"]["requests"] >= 5
    assert operations["PutObject"]["p99_ms"] > 0
    assert len(newest["shards"]) == newest["shard_count"] >= 1
    # Each request is counted once: per shard and per operation add up to the same.
    assert sum(shard["requests"] for shard in newest["shards"]) == sum(
        figures["requests"] for figures in newest["operations"])
    times = [sample["at_unix_ms"] for sample in answer["samples"]]
    assert times == sorted(set(times))
    # Every tenant's traffic: global admins only.
    name = unique("metrics-user")
    root.post("/api/v1/users", {"username": name, "password": PASSWORD, "role": "user"})
    status, _, _ = stack.console().login(name, PASSWORD).raw("GET", "/api/v1/metrics")
    assert status == 403


def test_settings_answer_their_type_and_bounds(stack):
    setting = stack.root().get("/api/v1/settings/security.max_failed_attempts")
    assert (setting["type"], setting["min"], setting["max"]) == ("int", 1, 1000)
    flag = stack.root().get("/api/v1/settings/audit.enabled")
    assert (flag["type"], flag["min"], flag["max"]) == ("bool", None, None)


def test_bucket_cors_policy_and_tags_are_checked_as_s3_checks_them(stack):
    root = stack.root()
    bucket = unique("access")
    make_client(stack.endpoint).create_bucket(Bucket=bucket)
    base = f"/api/v1/buckets/{bucket}"
    status, _, body = root.raw("PUT", f"{base}/cors", {"rules": [
        {"allowedOrigins": ["https://*.*.example.com"], "allowedMethods": ["GET"]}]})
    assert status == 400 and json.loads(body)["error"]["code"] == "InvalidRequest"
    assert "more than one wildcard" in json.loads(body)["error"]["message"]
    status, _, body = root.raw("PUT", f"{base}/tagging", {"tags": [{"key": "aws:x", "value": ""}]})
    assert status == 400 and json.loads(body)["error"]["code"] == "InvalidTag"
    foreign = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
               "Action": "s3:GetObject", "Resource": "arn:aws:s3:::another-bucket/*"}]}
    status, _, body = root.raw("PUT", f"{base}/policy", {"policy": foreign})
    assert status == 400 and json.loads(body)["error"]["code"] == "MalformedPolicy"
    # Nothing was changed by the refusals; the deletes empty what the puts set.
    assert root.get(f"{base}/cors") == {"rules": []}
    assert root.get(f"{base}/policy") == {"policy": None}
    root.put(f"{base}/tagging", {"tags": [{"key": "team", "value": "a"}]})
    assert root.delete(f"{base}/tagging") == {"tags": []}


def big_bucket(stack, key_count: int = 2000) -> str:
    """A bucket of `key_count` small objects, for the object browser's pages to be timed."""
    bucket = unique("e2e-big")
    s3 = make_client(stack.endpoint)
    s3.create_bucket(Bucket=bucket)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda idx: s3.put_object(
            Bucket=bucket, Key=f"k{idx:05}.log", Body=b"x"), range(key_count)))
    return bucket


def test_console_end_to_end_in_chromium(stack):
    chromium = require_e2e()
    built_console(stack)
    root = stack.root()
    totp_user, totp_secret = two_factor_user(stack, root)
    traffic(stack, unique("e2e-traffic"))
    big = big_bucket(stack)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    run = subprocess.run(
        ["node", "e2e/e2e.mjs"],
        cwd=CONSOLE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "CHROMIUM": chromium,
            "CONSOLE_URL": stack.console_url,
            "ROOT_USER": stack.root_user,
            "ROOT_PASSWORD": stack.root_password,
            "TOTP_USER": totp_user,
            "TOTP_PASSWORD": PASSWORD,
            "TOTP_SECRET": totp_secret,
            "SCREENSHOT_DIR": str(SCREENSHOTS),
            "BIG_BUCKET": big,
        },
    )
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n{stack.log_tail()}"
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    # What the pages did is what the server holds.
    assert root.get(f"/api/v1/buckets/{seen['bucket']}/versioning") == {"status": "Enabled"}
    rules = root.get(f"/api/v1/buckets/{seen['bucket']}/lifecycle")["rules"]
    assert [rule["filter"]["prefix"] for rule in rules] == ["logs/"]
    keys = root.get(f"/api/v1/users/{seen['username']}/access-keys")["access_keys"]
    assert [key["access_key_id"] for key in keys] == [seen["accessKey"]]
    # The secret shown once signs S3 requests.
    s3 = make_client(stack.endpoint, access_key=seen["accessKey"], secret_key=seen["secretKey"])
    s3.list_buckets()
    assert seen["csv"].endswith(".csv")
    names = {path.name for path in Path(SCREENSHOTS).glob("*.png")}
    assert {"01-login.png", "04-buckets.png", "09-users.png", "10-audit.png"} <= names, names
    assert {"19-tenants.png", "21-groups.png", "23-settings.png", "24-metrics.png"} <= names
    assert {"25-bucket-cors.png", "26-bucket-policy.png", "27-bucket-tags.png"} <= names
    tenant = root.get(f"/api/v1/tenants/{seen['tenant']}")
    assert (tenant["max_storage_bytes"], tenant["max_buckets"]) == (5 * 1024**3, 10)
    groups = {group["name"]: group for group in root.get("/api/v1/groups")["groups"]}
    group = groups[seen["group"]]
    assert [policy["name"] for policy in group["policies"]] == [seen["policy"]]
    assert [member["username"] for member in group["members"]] == [seen["username"]]
    assert root.get("/api/v1/settings/security.lockout_duration")["value"] == 600
    # The bucket's CORS rule, policy and tags set in its tabs are in force on the S3 port.
    s3 = make_client(stack.endpoint)
    cors = s3.get_bucket_cors(Bucket=seen["bucket"])["CORSRules"]
    assert [(rule["AllowedOrigins"], rule["AllowedMethods"], rule["MaxAgeSeconds"])
            for rule in cors] == [(["https://app.example.com"], ["GET", "PUT"], 600)]
    assert json.loads(s3.get_bucket_policy(Bucket=seen["bucket"])["Policy"])["Statement"]
    assert s3.get_bucket_tagging(Bucket=seen["bucket"])["TagSet"] == [
        {"Key": "team", "Value": "photos"}]
    # The object browser wrote through the S3 port with the user's session credentials.
    listed = s3.list_objects_v2(Bucket=seen["bucket"], Prefix="docs/")["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(seen["objects"]["kept"])
    sizes = {o["Key"]: o["Size"] for o in listed}
    assert sizes["docs/big.bin"] == 20 * 1024 * 1024
    names = {path.name for path in Path(SCREENSHOTS).glob("*.png")}
    assert {"28-object-upload-progress.png", "29-object-browser-folder.png",
            "31-object-share.png", "33-object-delete-confirm.png"} <= names, names
    print("e2e timings:", json.dumps({key: seen.get(key) for key in
                                      ("firstLoad", "uploadMs", "listing")}))

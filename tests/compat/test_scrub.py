"""RELIABILITY-GOALS.md T4, bit rot under a live server: a byte flipped on disk is never served.

A flip in the first block read fails the GET before any header (500 InternalError); a flip
further into a large object cuts the connection short of Content-Length. Ranges away from the
damaged block still read. The scrubber, running on a short interval, reports every damaged
object in its log and metrics, and `maxiofs verify` on the stopped data dir lists the damage.
"""

from __future__ import annotations

import re
import time
import urllib.request

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from harness import make_client
from s3util import KiB, MiB, payload
from storage_util import flip_byte, run_verify

pytestmark = pytest.mark.binary

TOKEN = "scrub-test-token"
BUCKET = "rot"
# The scrubber must finish a pass over a few MiB well within this (it reads at 64 MiB/s).
SCRUB_WAIT_SECONDS = 60


def metric(server, name: str) -> float:
    request = urllib.request.Request(f"{server.endpoint.url}/metrics")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    with urllib.request.urlopen(request, timeout=10) as resp:
        text = resp.read().decode()
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match[1])


@pytest.fixture
def scrubbed(server_factory):
    server = server_factory.create(name="scrubbed")
    server.extra_args = [
        "--metrics-token", TOKEN,
        "--scrub-interval-secs", "1",
        "--scrub-bytes-per-sec", str(64 * MiB),
    ]  # fmt: skip
    server.start()
    yield server
    server.kill()


def test_flipped_bytes_are_never_served_and_the_scrubber_reports_them(scrubbed):
    s3 = make_client(scrubbed.endpoint)
    s3.create_bucket(Bucket=BUCKET)
    small, large, healthy = payload(300 * KiB), payload(3 * MiB), payload(200 * KiB)
    s3.put_object(Bucket=BUCKET, Key="small", Body=small)
    s3.put_object(Bucket=BUCKET, Key="large", Body=large)
    s3.put_object(Bucket=BUCKET, Key="healthy", Body=healthy)
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="multi")["UploadId"]
    parts = [payload(5 * MiB), payload(70 * KiB)]
    etags = [
        s3.upload_part(Bucket=BUCKET, Key="multi", UploadId=upload, PartNumber=n, Body=body)["ETag"]
        for n, body in enumerate(parts, 1)
    ]
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="multi", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )  # fmt: skip

    flip_byte(scrubbed.data_dir, BUCKET, "small", 150_000)
    flip_byte(scrubbed.data_dir, BUCKET, "large", 2 * MiB + 12_345)
    flip_byte(scrubbed.data_dir, BUCKET, "multi", 5 * MiB + 10)  # in the second part

    # Damage in the first piece read: an S3 error before any header.
    with pytest.raises(ClientError) as error:
        s3.get_object(Bucket=BUCKET, Key="small")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert error.value.response["Error"]["Code"] == "InternalError"
    with pytest.raises(ClientError):
        s3.get_object(Bucket=BUCKET, Key="small", Range="bytes=149990-150010")
    with pytest.raises(ClientError):
        s3.get_object(Bucket=BUCKET, Key="multi", Range=f"bytes={5 * MiB}-{5 * MiB + 100}")
    # Ranges away from the damaged 64 KiB block read intact.
    away = s3.get_object(Bucket=BUCKET, Key="small", Range="bytes=0-131071")["Body"].read()
    assert away == small[:131072]
    tail = s3.get_object(Bucket=BUCKET, Key="small", Range="bytes=196608-")["Body"].read()
    assert tail == small[196608:]
    assert s3.get_object(Bucket=BUCKET, Key="multi", Range="bytes=0-99")["Body"].read() == parts[0][:100]

    # Damage after the head went out: the body ends short, never a complete wrong body.
    response = s3.get_object(Bucket=BUCKET, Key="large")
    assert response["ContentLength"] == len(large)
    with pytest.raises((BotoCoreError, ValueError, OSError)):
        body = response["Body"].read()
        # urllib3 may return a short body instead of raising; either way it is not the object.
        assert len(body) == len(large), "connection cut short"
    assert metric(scrubbed, "maxiofs_storage_checksum_errors_total") >= 4

    # The untouched object still reads back whole.
    assert s3.get_object(Bucket=BUCKET, Key="healthy")["Body"].read() == healthy

    deadline = time.monotonic() + SCRUB_WAIT_SECONDS
    while metric(scrubbed, "maxiofs_scrub_damaged_objects_total") < 3:
        assert time.monotonic() < deadline, f"scrubber did not report the damage\n{scrubbed.log_tail()}"
        time.sleep(0.5)
    log = scrubbed.stderr_path.read_text(errors="replace")
    assert "scrub pass complete: damage found" in log
    for key in ("small", "large", "multi"):
        assert re.search(rf"scrub: object has a damaged block.*key=\"?{key}", log), key
    assert not re.search(r"scrub: object has a damaged block.*key=\"?healthy", log)
    assert metric(scrubbed, "maxiofs_scrub_bytes_total") > 0

    assert scrubbed.stop() == 0
    verified = run_verify(scrubbed.data_dir)
    assert verified.returncode == 1, verified.stdout + verified.stderr
    for key in ("small", "large", "multi"):
        assert f"object {BUCKET}/{key}: block at segment" in verified.stdout, verified.stdout
    assert "recorded damage" in verified.stdout

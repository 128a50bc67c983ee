"""The runtime around the S3 API: io driver selection and fallback, and restarts with a
different shard count on the same data directory."""

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness import make_client
from s3util import MiB, md5_hex, payload, quoted

pytestmark = pytest.mark.binary


def ready(server) -> dict:
    with urllib.request.urlopen(f"{server.endpoint.url}/health/ready", timeout=10) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


def exercise(s3, bucket: str) -> dict:
    """Writes objects of several shapes (simple, multipart) and returns key -> (body, etag)."""
    s3.create_bucket(Bucket=bucket)
    written = {}
    for index, size in enumerate([0, 1, 4096, 300_000, 2 * MiB + 3]):
        body = payload(size)
        key = f"obj/{index}"
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        written[key] = (body, quoted(md5_hex(body)))
    parts = [payload(5 * MiB), payload(1234)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="multi")["UploadId"]
    etags = [
        s3.upload_part(Bucket=bucket, Key="multi", UploadId=upload, PartNumber=n, Body=p)["ETag"]
        for n, p in enumerate(parts, 1)
    ]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="multi", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )  # fmt: skip
    written["multi"] = (b"".join(parts), None)
    return written


def verify(s3, bucket: str, written: dict):
    listed = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}) for o in page.get("Contents", [])]
    assert listed == sorted(written)
    for key, (body, etag) in written.items():
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == body, key
        if etag is not None:
            assert got["ETag"] == etag, key


def io_uring_available() -> bool:
    try:
        return Path("/proc/sys/kernel/io_uring_disabled").read_text().strip() == "0"
    except OSError:
        return True


def test_io_uring_is_used_when_available(server_factory):
    if not io_uring_available():
        pytest.skip("io_uring is disabled on this kernel")
    server = server_factory.create()
    server.start()
    assert ready(server)["io_driver"] == "io_uring"
    assert "io driver: io_uring" in server.log_tail()


def test_epoll_fallback_serves_everything(server_factory):
    # monoio's own switch makes its io_uring probe fail, as a blocking seccomp profile would.
    server = server_factory.create()
    server.extra_env["MONOIO_FORCE_LEGACY_DRIVER"] = "1"
    server.start()
    health = ready(server)
    assert health["io_driver"] == "epoll" and health["status"] == "ready"
    assert "epoll fallback" in server.log_tail()
    s3 = make_client(server.endpoint)
    written = exercise(s3, "epoll")
    verify(s3, "epoll", written)
    assert server.stop() == 0


@pytest.mark.parametrize("later_shards", [1, 3])
def test_restart_with_another_shard_count_keeps_every_object(server_factory, later_shards):
    server = server_factory.create()
    server.start()
    s3 = make_client(server.endpoint)
    written = exercise(s3, "reshard")
    assert server.stop() == 0
    server.shards = later_shards
    server.start()
    assert ready(server)["shards"] == later_shards
    s3 = make_client(server.endpoint)
    verify(s3, "reshard", written)
    # And the bucket keeps working for writes on every shard.
    more = {f"after/{i}": (payload(100 + i), None) for i in range(20)}
    for key, (body, _) in more.items():
        s3.put_object(Bucket="reshard", Key=key, Body=body)
    verify(s3, "reshard", {**written, **more})
    assert server.stop() == 0


def test_second_server_on_the_same_port_refuses_to_start(server_factory):
    first = server_factory.create(name="first")
    first.start()
    second = server_factory.create(name="second")
    second.address = f"127.0.0.1:{first.endpoint.port}"
    with pytest.raises(Exception, match="exited with"):
        second.start(timeout=20)
    assert "in use" in second.log_tail().lower()
    # The first one is untouched.
    make_client(first.endpoint).list_buckets()


def test_ready_reports_every_shard_and_free_space(server_factory):
    server = server_factory.create()
    server.start()
    health = ready(server)
    assert health["shards"] == health["shards_serving"] == 2
    assert health["metadata_writable"] is True and health["storage_full"] is False
    assert health["free_bytes"] > health["free_bytes_critical"] > 0


def test_not_ready_below_the_free_space_threshold(server_factory):
    server = server_factory.create()
    server.extra_args = ["--min-free-bytes", str(10**18)]
    server.start()
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{server.endpoint.url}/health/ready", timeout=10)
    assert exc.value.code == 503
    health = json.loads(exc.value.read())
    assert health["status"] == "not_ready" and health["shards_serving"] == 2
    # Live, and still serving reads: readiness is advice to load balancers, not a shutdown.
    with urllib.request.urlopen(f"{server.endpoint.url}/health/live", timeout=10) as resp:
        assert resp.status == 200
    make_client(server.endpoint).list_buckets()

"""Graceful restart on the same data dir, and first-start credential generation."""

import pytest

from harness import ACCESS_RE, SECRET_RE, make_client
from s3util import KiB, MiB, md5_hex, multipart_etag, payload, quoted

pytestmark = pytest.mark.binary

SIZES = [0, 1, 4095, 4096, 128 * KiB + 1, MiB + 1, 6 * MiB]


def snapshot(s3) -> dict:
    """{bucket: {key: (size, etag)}} of everything the server holds."""
    state = {}
    for b in s3.list_buckets()["Buckets"]:
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b["Name"]):
            for o in page.get("Contents", []):
                objects[o["Key"]] = (o["Size"], o["ETag"])
        state[b["Name"]] = objects
    return state


def test_graceful_restart_keeps_everything(server_factory):
    server = server_factory.create()
    server.start()
    s3 = make_client(server.endpoint)
    expected = {}
    for bucket in ("restart-a", "restart-b"):
        s3.create_bucket(Bucket=bucket)
    for size in SIZES:
        body = payload(size)
        key = f"sizes/{size}"
        s3.put_object(Bucket="restart-a", Key=key, Body=body, ContentType="application/x-size", Metadata={"n": str(size)})
        expected[("restart-a", key)] = (body, quoted(md5_hex(body)))
    parts = [payload(5 * MiB), payload(100)]
    upload = s3.create_multipart_upload(Bucket="restart-b", Key="multi")["UploadId"]
    etags = [
        s3.upload_part(Bucket="restart-b", Key="multi", UploadId=upload, PartNumber=n, Body=p)["ETag"]
        for n, p in enumerate(parts, 1)
    ]
    s3.complete_multipart_upload(
        Bucket="restart-b", Key="multi", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )  # fmt: skip
    expected[("restart-b", "multi")] = (b"".join(parts), quoted(multipart_etag(parts)))
    s3.put_object(Bucket="restart-b", Key="deleted", Body=b"gone soon")
    s3.delete_object(Bucket="restart-b", Key="deleted")
    before = snapshot(s3)

    assert server.stop() == 0
    server.start()
    s3 = make_client(server.endpoint)

    assert snapshot(s3) == before
    for (bucket, key), (body, etag) in expected.items():
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["ETag"] == etag, key
        assert got["Body"].read() == body, key
    head = s3.head_object(Bucket="restart-a", Key=f"sizes/{SIZES[1]}")
    assert head["ContentType"] == "application/x-size" and head["Metadata"] == {"n": str(SIZES[1])}
    assert server.stop() == 0


def test_generated_credentials(server_factory):
    server = server_factory.create(credentials=None)
    server.start()
    access_key = server.printed(ACCESS_RE)
    secret_key = server.printed(SECRET_RE)
    assert access_key and secret_key, f"credentials not printed:\n{server.stdout_lines}"
    s3 = make_client(server.endpoint, access_key=access_key, secret_key=secret_key)
    s3.create_bucket(Bucket="generated-creds")
    s3.put_object(Bucket="generated-creds", Key="k", Body=b"v")
    assert server.stop() == 0

    server.start()
    assert server.printed(ACCESS_RE, wait=1) is None, "credentials printed again on restart"
    assert server.printed(SECRET_RE, wait=0) is None
    assert all(secret_key not in line for line in server.stdout_lines)
    s3 = make_client(server.endpoint, access_key=access_key, secret_key=secret_key)
    assert s3.get_object(Bucket="generated-creds", Key="k")["Body"].read() == b"v"
    assert server.stop() == 0


def test_env_credentials_are_enforced(server_factory):
    server = server_factory.create(credentials=("env-user", "env-secret-0123456789"))
    server.start()
    good = make_client(server.endpoint)
    good.list_buckets()
    assert all("env-secret-0123456789" not in line for line in server.stdout_lines)
    bad = make_client(server.endpoint, secret_key="something-else")
    with pytest.raises(Exception, match="SignatureDoesNotMatch"):
        bad.list_buckets()
    assert server.stop() == 0


def test_sigterm_lets_a_running_upload_finish(server_factory):
    """Graceful stop: a PUT whose body is still arriving when SIGTERM lands completes with
    200, the process then exits 0, and the object is there after the restart."""
    import signal
    import time

    from s3util import RawConnection, sign_headers

    server = server_factory.create()
    server.start()
    ep = server.endpoint
    make_client(ep).create_bucket(Bucket="drain")
    body = payload(3 * MiB)
    target, headers = sign_headers(ep, "PUT", "/drain/in-flight", None, None, body)
    headers["Content-Length"] = str(len(body))
    with RawConnection(ep) as conn:
        conn.send_request("PUT", target, headers, body[:MiB])
        time.sleep(0.3)
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert server.proc.poll() is None, "the server exited with a request in flight"
        conn.send(body[MiB:])
        response = conn.read_response()
    assert response.status == 200, response
    assert response.header("etag") == quoted(md5_hex(body))
    assert server.stop() == 0
    server.start()
    got = make_client(server.endpoint).get_object(Bucket="drain", Key="in-flight")
    assert got["Body"].read() == body

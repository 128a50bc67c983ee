"""Authentication: SigV4 header auth, payload modes, presigned URLs, anonymous access."""

import datetime as dt
import time

import pytest

from s3util import (
    KiB,
    aws_chunked_signed_body,
    aws_chunked_signed_framing_len,
    aws_chunked_unsigned_trailer_body,
    crc32_b64,
    expect_error,
    http_call,
    md5_hex,
    object_path,
    payload,
    quoted,
    raw_request,
    sha256_hex,
    sign_headers,
    RawConnection,
)

HEALTH_PATHS = ["/health/live", "/health/ready", "/minio/health/live", "/minio/health/ready"]


def assert_absent(s3, bucket, key):
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key=key)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_without_auth(server, path, method):
    assert http_call(method, server.url + path).status == 200


# -- header auth with the wrong credentials ---------------------------------

CALLS = [
    ("list_buckets", {}),
    ("list_objects_v2", {"Bucket": "{bucket}"}),
    ("get_object", {"Bucket": "{bucket}", "Key": "k"}),
    ("put_object", {"Bucket": "{bucket}", "Key": "k", "Body": b"x"}),
    ("create_bucket", {"Bucket": "{bucket}-new"}),
    ("delete_bucket", {"Bucket": "{bucket}"}),
]


def call_kwargs(kwargs: dict, bucket: str) -> dict:
    return {k: v.format(bucket=bucket) if isinstance(v, str) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("operation, kwargs", CALLS, ids=[c[0] for c in CALLS])
def test_wrong_secret(make_s3, s3, bucket, operation, kwargs):
    bad = make_s3(secret_key="definitely-not-the-secret")
    expect_error(getattr(bad, operation), 403, "SignatureDoesNotMatch", **call_kwargs(kwargs, bucket))
    assert_absent(s3, bucket, "k")


@pytest.mark.parametrize("operation, kwargs", CALLS, ids=[c[0] for c in CALLS])
def test_unknown_access_key(make_s3, s3, bucket, operation, kwargs):
    bad = make_s3(access_key="AKIDNOSUCHKEY0000000", secret_key="whatever")
    expect_error(getattr(bad, operation), 403, "InvalidAccessKeyId", **call_kwargs(kwargs, bucket))
    assert_absent(s3, bucket, "k")


@pytest.mark.parametrize("operation, kwargs", CALLS, ids=[c[0] for c in CALLS])
def test_anonymous_denied(make_s3, s3, bucket, operation, kwargs):
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    anon = make_s3(anonymous=True)
    expect_error(getattr(anon, operation), 403, "AccessDenied", **call_kwargs(kwargs, bucket))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"


def test_head_with_wrong_secret(make_s3, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    expect_error(make_s3(secret_key="wrong").head_object, 403, "403", Bucket=bucket, Key="k")


# -- tampered requests ------------------------------------------------------


def test_signature_one_digit_changed(server, bucket):
    target, headers = sign_headers(server, "GET", object_path(bucket))
    auth = headers["Authorization"]
    flipped = "0" if auth[-1] != "0" else "1"
    headers["Authorization"] = auth[:-1] + flipped
    with RawConnection(server) as conn:
        conn.send_request("GET", target, headers)
        resp = conn.read_response()
    assert (resp.status, resp.error_code()) == (403, "SignatureDoesNotMatch")


def test_signed_header_removed(server, s3, bucket):
    path = object_path(bucket, "k")
    target, headers = sign_headers(server, "PUT", path, headers={"x-amz-meta-colour": "blue"}, body=b"x")
    del headers["x-amz-meta-colour"]
    headers["Content-Length"] = "1"
    with RawConnection(server) as conn:
        conn.send_request("PUT", target, headers, b"x")
        resp = conn.read_response()
    assert (resp.status, resp.error_code()) == (403, "SignatureDoesNotMatch")
    assert_absent(s3, bucket, "k")


@pytest.mark.parametrize("skew", [-20, 20], ids=["past", "future"])
def test_clock_skew(server, bucket, skew):
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=skew)
    resp = raw_request(server, "GET", object_path(bucket), when=when)
    assert (resp.status, resp.error_code()) == (403, "RequestTimeTooSkewed")


# -- payload modes ----------------------------------------------------------


def test_payload_hash_mismatch(server, s3, bucket):
    body = payload(100)
    resp = raw_request(server, "PUT", object_path(bucket, "k"), body=body, payload_hash=sha256_hex(b"other"))
    assert (resp.status, resp.error_code()) == (400, "XAmzContentSHA256Mismatch")
    assert_absent(s3, bucket, "k")


def test_unsigned_payload(server, s3, bucket):
    body = payload(1000)
    resp = raw_request(server, "PUT", object_path(bucket, "k"), body=body, payload_hash="UNSIGNED-PAYLOAD")
    assert resp.status == 200, resp.body
    assert resp.header("etag") == quoted(md5_hex(body))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body


def put_streaming_signed(server, bucket, key, data, tamper=None):
    """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD (minio-go/restic style framing, 64 KiB chunks)."""
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "Content-Length": str(aws_chunked_signed_framing_len(len(data))),
    }
    target, signed = sign_headers(
        server, "PUT", object_path(bucket, key), headers=headers, payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    )
    body = aws_chunked_signed_body(server, signed, data)
    assert len(body) == int(headers["Content-Length"])
    if tamper:
        body = tamper(body)
    with RawConnection(server) as conn:
        conn.send_request("PUT", target, signed, body)
        return conn.read_response()


def test_streaming_signed_payload(server, s3, bucket):
    data = payload(150 * KiB + 3)
    resp = put_streaming_signed(server, bucket, "stream", data)
    assert resp.status == 200, resp.body
    assert resp.header("etag") == quoted(md5_hex(data))
    got = s3.get_object(Bucket=bucket, Key="stream")
    assert got["Body"].read() == data
    assert "aws-chunked" not in got.get("ContentEncoding", "")


def test_streaming_signed_payload_tampered_chunk(server, s3, bucket):
    data = payload(150 * KiB)

    def flip(body: bytes) -> bytes:
        """Flip one byte inside the second chunk's data (same length)."""
        second = body.index(b"chunk-signature=", body.index(b"chunk-signature=") + 1)
        pos = body.index(b"\r\n", second) + 2 + 500
        return body[:pos] + bytes([body[pos] ^ 0xFF]) + body[pos + 1 :]

    resp = put_streaming_signed(server, bucket, "stream", data, tamper=flip)
    assert (resp.status, resp.error_code()) == (403, "SignatureDoesNotMatch")
    assert_absent(s3, bucket, "stream")


def put_unsigned_trailer(server, bucket, key, data, checksum):
    body = aws_chunked_unsigned_trailer_body(data, checksum)
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
        "Content-Length": str(len(body)),
    }
    target, signed = sign_headers(
        server, "PUT", object_path(bucket, key), headers=headers, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    )
    with RawConnection(server) as conn:
        conn.send_request("PUT", target, signed, body)
        return conn.read_response()


def test_streaming_unsigned_trailer(server, s3, bucket):
    data = payload(200 * KiB + 1)
    resp = put_unsigned_trailer(server, bucket, "trailer", data, crc32_b64(data))
    assert resp.status == 200, resp.body
    assert s3.get_object(Bucket=bucket, Key="trailer")["Body"].read() == data


def test_streaming_unsigned_trailer_bad_checksum(server, s3, bucket):
    data = payload(10 * KiB)
    resp = put_unsigned_trailer(server, bucket, "trailer", data, crc32_b64(b"other"))
    assert (resp.status, resp.error_code()) == (400, "BadDigest")
    assert_absent(s3, bucket, "trailer")


# -- presigned URLs ---------------------------------------------------------


def test_presigned_get(s3, bucket):
    body = payload(777)
    s3.put_object(Bucket=bucket, Key="pre/get me", Body=body)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre/get me"}, ExpiresIn=300)
    resp = http_call("GET", url)
    assert resp.status == 200 and resp.body == body


def test_presigned_put(s3, bucket):
    body = payload(1234)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre/put"}, ExpiresIn=300)
    resp = http_call("PUT", url, body=body)
    assert resp.status == 200, resp.body
    assert s3.get_object(Bucket=bucket, Key="pre/put")["Body"].read() == body


def test_presigned_missing_key_is_404(s3, bucket):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "nope"}, ExpiresIn=300)
    resp = http_call("GET", url)
    assert (resp.status, resp.error_code()) == (404, "NoSuchKey")


@pytest.mark.parametrize("method, operation", [("GET", "get_object"), ("PUT", "put_object")])
def test_presigned_expired(s3, bucket, method, operation):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    url = s3.generate_presigned_url(operation, Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    time.sleep(2.5)
    resp = http_call(method, url, body=b"new" if method == "PUT" else b"")
    assert (resp.status, resp.error_code()) == (403, "AccessDenied")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"old"


def test_presigned_signature_tampered(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    last = url[-1]
    resp = http_call("GET", url[:-1] + ("0" if last != "0" else "1"))
    assert (resp.status, resp.error_code()) == (403, "SignatureDoesNotMatch")


def test_presigned_url_for_other_key(s3, bucket):
    s3.put_object(Bucket=bucket, Key="other", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "mine"}, ExpiresIn=300)
    resp = http_call("GET", url.replace("/mine?", "/other?"))
    assert (resp.status, resp.error_code()) == (403, "SignatureDoesNotMatch")


def test_presigned_with_wrong_secret(make_s3, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = make_s3(secret_key="wrong").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300
    )
    resp = http_call("GET", url)
    assert (resp.status, resp.error_code()) == (403, "SignatureDoesNotMatch")

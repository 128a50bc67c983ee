"""Object operations: PutObject, GetObject, HeadObject, DeleteObject and object attributes."""

import datetime as dt
from email.utils import format_datetime

import pytest

from harness import unique_bucket_name
from s3util import KiB, MiB, expect_error, md5_b64, md5_hex, payload, quoted

SIZES = [0, 1, 4095, 4096, 4097, 128 * KiB - 1, 128 * KiB + 1, MiB + 1]

KEYS = [
    "plain",
    "with space",
    "multiple   spaces and\ttab",
    "unicode-ключ-日本語-🎉",
    "é-precomposed",
    "a//double/slash",
    "percent%sign%20literal%",
    "plus+sign+",
    "dir/sub/leaf.txt",
    "trailing-slash/",
    "punct!$&'()*,;=:@~",
    "query?and#hash",
    "brackets[]{}<>^`|",
    "x" * 1024,  # longest allowed key
]


def headers_of(resp) -> dict:
    return resp["ResponseMetadata"]["HTTPHeaders"]


@pytest.mark.parametrize("size", SIZES)
def test_put_get_head_sizes(s3, bucket, size):
    body = payload(size)
    put = s3.put_object(Bucket=bucket, Key=f"size-{size}", Body=body)
    assert put["ETag"] == quoted(md5_hex(body))

    head = s3.head_object(Bucket=bucket, Key=f"size-{size}")
    assert head["ContentLength"] == size
    assert head["ETag"] == put["ETag"]

    get = s3.get_object(Bucket=bucket, Key=f"size-{size}")
    assert get["ContentLength"] == size
    assert get["ETag"] == put["ETag"]
    assert get["Body"].read() == body


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k[:24])
def test_key_round_trip(s3, bucket, key):
    body = key.encode() * 3
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key=key)


def test_key_too_long(s3, bucket):
    expect_error(s3.put_object, 400, "KeyTooLongError", Bucket=bucket, Key="x" * 1025, Body=b"x")


def test_metadata_round_trip(s3, bucket):
    expires = dt.datetime(2037, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    attrs = dict(
        ContentType="application/x-maxiofs-test; charset=utf-8",
        ContentEncoding="gzip",
        ContentDisposition='attachment; filename="report.bin"',
        CacheControl="max-age=3600, must-revalidate",
        Expires=expires,
        Metadata={"colour": "blue", "mixed-case": "Value With Spaces", "empty": ""},
    )
    s3.put_object(Bucket=bucket, Key="meta", Body=b"not really gzip", **attrs)

    for resp in (s3.head_object(Bucket=bucket, Key="meta"), s3.get_object(Bucket=bucket, Key="meta")):
        for name in ("ContentType", "ContentEncoding", "ContentDisposition", "CacheControl", "Metadata"):
            assert resp[name] == attrs[name], name
        assert headers_of(resp)["expires"] == format_datetime(expires, usegmt=True)


def test_default_content_type(s3, bucket):
    s3.put_object(Bucket=bucket, Key="untyped", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="untyped")["ContentType"] in ("binary/octet-stream", "application/octet-stream")


def test_last_modified(s3, bucket):
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(seconds=2)
    s3.put_object(Bucket=bucket, Key="lm", Body=b"x")
    after = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
    head = s3.head_object(Bucket=bucket, Key="lm")
    get = s3.get_object(Bucket=bucket, Key="lm")
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert before <= head["LastModified"] <= after
    assert head["LastModified"] == get["LastModified"] == listed["LastModified"].replace(microsecond=0)


def test_overwrite_replaces_body_and_attributes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=payload(5000), ContentType="text/plain", Metadata={"v": "1"})
    second = payload(100)
    put = s3.put_object(Bucket=bucket, Key="k", Body=second)
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ETag"] == put["ETag"] == quoted(md5_hex(second))
    assert head["ContentLength"] == 100
    assert head["Metadata"] == {}
    assert head["ContentType"] != "text/plain"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == second


def test_delete_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    resp = s3.delete_object(Bucket=bucket, Key="gone")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(s3.get_object, 404, "NoSuchKey", Bucket=bucket, Key="gone")


def test_delete_missing_key_is_idempotent(s3, bucket):
    resp = s3.delete_object(Bucket=bucket, Key="never-existed")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_get_missing_key(s3, bucket):
    exc = expect_error(s3.get_object, 404, "NoSuchKey", Bucket=bucket, Key="missing/key")
    assert exc.response["Error"].get("Key", "missing/key") == "missing/key"


def test_head_missing_key(s3, bucket):
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="missing")


@pytest.mark.parametrize(
    "operation, kwargs",
    [
        ("put_object", {"Key": "k", "Body": b"x"}),
        ("get_object", {"Key": "k"}),
        ("delete_object", {"Key": "k"}),
        ("list_objects_v2", {}),
    ],
)
def test_object_ops_on_missing_bucket(s3, operation, kwargs):
    expect_error(getattr(s3, operation), 404, "NoSuchBucket", Bucket=unique_bucket_name("missing"), **kwargs)


def test_head_object_missing_bucket(s3):
    expect_error(s3.head_object, 404, "404", Bucket=unique_bucket_name("missing"), Key="k")


def test_content_md5_accepted(s3, bucket):
    body = payload(1000)
    put = s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5=md5_b64(body))
    assert put["ETag"] == quoted(md5_hex(body))


def test_content_md5_mismatch_is_bad_digest(s3, bucket):
    body = payload(1000)
    expect_error(s3.put_object, 400, "BadDigest", Bucket=bucket, Key="md5", Body=body, ContentMD5=md5_b64(b"other"))
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="md5")


def test_content_md5_malformed_is_invalid_digest(s3, bucket):
    expect_error(s3.put_object, 400, "InvalidDigest", Bucket=bucket, Key="md5", Body=b"x", ContentMD5="not-base64!")
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="md5")


def test_pre_2025_client_without_checksums(make_s3, bucket):
    """A client that sends no flexible checksum (awscli v2 2.9-like) works too."""
    old = make_s3(request_checksum_calculation="when_required", response_checksum_validation="when_required")
    body = payload(3000)
    old.put_object(Bucket=bucket, Key="old", Body=body)
    assert old.get_object(Bucket=bucket, Key="old")["Body"].read() == body


@pytest.mark.parametrize(
    "range_header, start, end",
    [("bytes=0-9", 0, 9), ("bytes=100-", 100, 4999), ("bytes=-7", 4993, 4999), ("bytes=4990-9999", 4990, 4999)],
)
def test_range_get(s3, bucket, range_header, start, end):
    """Ranged GETs: s3transfer and aws cli download large objects with them."""
    body = payload(5000)
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    resp = s3.get_object(Bucket=bucket, Key="r", Range=range_header)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert resp["ContentRange"] == f"bytes {start}-{end}/5000"
    assert resp["Body"].read() == body[start : end + 1]


def test_range_not_satisfiable(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    expect_error(s3.get_object, 416, "InvalidRange", Bucket=bucket, Key="r", Range="bytes=10-20")

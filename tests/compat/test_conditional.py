"""Conditional requests: If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since on
GET and HEAD (304 and 412 as S3 answers them), and conditional writes (If-None-Match: * and
If-Match) on PutObject and CompleteMultipartUpload, decided atomically at commit."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from botocore.exceptions import ClientError

from s3util import MiB, error_of, expect_error, object_path, quoted, raw_request

PAST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def obj(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="obj", Body=b"hello")["ETag"]
    return bucket, "obj", etag


# (conditions, expected status) per RFC 7232 section 6, which S3 follows.
READ_CASES = [
    ({"IfMatch": "ETAG"}, 200),
    ({"IfMatch": '"0123"'}, 412),
    ({"IfMatch": "*"}, 200),
    ({"IfNoneMatch": "ETAG"}, 304),
    ({"IfNoneMatch": '"0123"'}, 200),
    ({"IfNoneMatch": "*"}, 304),
    ({"IfModifiedSince": FUTURE}, 304),
    ({"IfModifiedSince": PAST}, 200),
    ({"IfUnmodifiedSince": PAST}, 412),
    ({"IfUnmodifiedSince": FUTURE}, 200),
    # If-Match true wins over a false If-Unmodified-Since: 200 (documented by S3).
    ({"IfMatch": "ETAG", "IfUnmodifiedSince": PAST}, 200),
    ({"IfMatch": '"0123"', "IfUnmodifiedSince": FUTURE}, 412),
    # If-None-Match false (ETag matches) with If-Modified-Since true: 304 (documented by S3).
    ({"IfNoneMatch": "ETAG", "IfModifiedSince": PAST}, 304),
    # If-None-Match true makes S3 ignore If-Modified-Since.
    ({"IfNoneMatch": '"0123"', "IfModifiedSince": FUTURE}, 200),
    # 412 is decided before 304.
    ({"IfMatch": '"0123"', "IfNoneMatch": "ETAG"}, 412),
    ({"IfUnmodifiedSince": PAST, "IfModifiedSince": FUTURE}, 412),
]


def _call(method, bucket, key, etag, conditions):
    kwargs = {name: (etag if value == "ETAG" else value) for name, value in conditions.items()}
    try:
        method(Bucket=bucket, Key=key, **kwargs)
    except ClientError as exc:
        return error_of(exc)
    return 200, None


@pytest.mark.parametrize("conditions, status", READ_CASES)
def test_conditional_get(s3, obj, conditions, status):
    bucket, key, etag = obj
    got_status, code = _call(s3.get_object, bucket, key, etag, conditions)
    assert got_status == status
    if status == 412:
        assert code == "PreconditionFailed"


@pytest.mark.parametrize("conditions, status", READ_CASES)
def test_conditional_head(s3, obj, conditions, status):
    bucket, key, etag = obj
    got_status, _ = _call(s3.head_object, bucket, key, etag, conditions)
    assert got_status == status


def test_304_has_etag_and_last_modified_and_no_body(server, s3, obj):
    bucket, key, etag = obj
    last_modified = s3.head_object(Bucket=bucket, Key=key)["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
    for method in ("GET", "HEAD"):
        resp = raw_request(server, method, object_path(bucket, key), headers={"If-None-Match": etag})
        assert resp.status == 304, resp
        assert resp.header("etag") == etag
        assert resp.header("last-modified") == last_modified
        assert resp.body == b""
        assert resp.header("content-length") in (None, "0")


def test_412_is_an_s3_error_document(server, obj):
    bucket, key, _ = obj
    resp = raw_request(server, "GET", object_path(bucket, key), headers={"If-Match": '"nope"'})
    assert resp.status == 412, resp
    assert resp.error_code() == "PreconditionFailed"
    head = raw_request(server, "HEAD", object_path(bucket, key), headers={"If-Match": '"nope"'})
    assert head.status == 412 and head.body == b""


def test_conditions_apply_before_range(s3, obj):
    bucket, key, etag = obj
    got = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag, Range="bytes=1-2")
    assert got["Body"].read() == b"el"
    expect_error(s3.get_object, 412, "PreconditionFailed", Bucket=bucket, Key=key, IfMatch='"x"', Range="bytes=1-2")


def test_conditional_get_of_missing_key_is_no_such_key(s3, bucket):
    expect_error(s3.get_object, 404, "NoSuchKey", Bucket=bucket, Key="missing", IfMatch='"x"')
    expect_error(s3.get_object, 404, "NoSuchKey", Bucket=bucket, Key="missing", IfNoneMatch="*")


def test_put_if_none_match_star(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")
    expect_error(s3.put_object, 412, "PreconditionFailed", Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"first"
    assert got["ETag"] == first["ETag"]
    # A deleted key can be created again.
    s3.delete_object(Bucket=bucket, Key="k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"third", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"third"


def test_put_if_none_match_with_an_etag_is_not_implemented(s3, bucket):
    expect_error(s3.put_object, 501, "NotImplemented", Bucket=bucket, Key="k", Body=b"x", IfNoneMatch='"abc"')


def test_put_if_match(s3, bucket):
    expect_error(s3.put_object, 404, "NoSuchKey", Bucket=bucket, Key="k", Body=b"x", IfMatch='"abc"')
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    expect_error(s3.put_object, 412, "PreconditionFailed", Bucket=bucket, Key="k", Body=b"two", IfMatch='"abc"')
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    new_etag = s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=etag)["ETag"]
    assert new_etag == quoted("b8a9f715dbb64fd5c56e7783c6820a61")
    # The old ETag no longer matches.
    expect_error(s3.put_object, 412, "PreconditionFailed", Bucket=bucket, Key="k", Body=b"three", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"


def test_concurrent_create_only_puts_have_one_winner(server, make_s3, s3, bucket):
    clients = [make_s3() for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    results: list[tuple[int, str | None, bytes]] = [None] * len(clients)  # type: ignore[list-item]

    def attempt(index):
        body = f"writer-{index}".encode()
        barrier.wait()
        try:
            clients[index].put_object(Bucket=bucket, Key="race", Body=body, IfNoneMatch="*")
            results[index] = (200, None, body)
        except ClientError as exc:
            status, code = error_of(exc)
            results[index] = (status, code, body)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [result for result in results if result[0] == 200]
    assert len(winners) == 1, results
    assert all(result[:2] == (412, "PreconditionFailed") for result in results if result[0] != 200), results
    assert s3.get_object(Bucket=bucket, Key="race")["Body"].read() == winners[0][2]


def _multipart(s3, bucket, key):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for number, body in enumerate([b"a" * (5 * MiB), b"tail"], start=1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    return upload_id, {"Parts": parts}


def test_complete_multipart_upload_conditions(s3, bucket):
    old_etag = s3.put_object(Bucket=bucket, Key="mp", Body=b"old")["ETag"]
    upload_id, parts = _multipart(s3, bucket, "mp")
    expect_error(
        s3.complete_multipart_upload,
        412,
        "PreconditionFailed",
        Bucket=bucket,
        Key="mp",
        UploadId=upload_id,
        MultipartUpload=parts,
        IfNoneMatch="*",
    )
    expect_error(
        s3.complete_multipart_upload,
        412,
        "PreconditionFailed",
        Bucket=bucket,
        Key="mp",
        UploadId=upload_id,
        MultipartUpload=parts,
        IfMatch='"abc"',
    )
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"old"
    # The failed completions left the upload intact.
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload=parts, IfMatch=old_etag
    )
    assert done["ETag"].endswith('-2"')
    assert s3.head_object(Bucket=bucket, Key="mp")["ContentLength"] == 5 * MiB + 4

    upload_id, parts = _multipart(s3, bucket, "fresh")
    expect_error(
        s3.complete_multipart_upload,
        404,
        "NoSuchKey",
        Bucket=bucket,
        Key="fresh",
        UploadId=upload_id,
        MultipartUpload=parts,
        IfMatch='"abc"',
    )
    s3.complete_multipart_upload(
        Bucket=bucket, Key="fresh", UploadId=upload_id, MultipartUpload=parts, IfNoneMatch="*"
    )
    assert s3.head_object(Bucket=bucket, Key="fresh")["ContentLength"] == 5 * MiB + 4

"""CopyObject and UploadPartCopy: within and across shards, metadata and tagging directives,
copy-source conditions, malformed copy sources, ranges, and copies racing overwrites."""

import datetime as dt
import threading

import pytest
from boto3.s3.transfer import TransferConfig

from s3util import (
    MiB,
    expect_error,
    md5_hex,
    multipart_etag,
    object_path,
    parse_error,
    payload,
    quoted,
    raw_request,
)

PART = 5 * MiB


def copy(s3, bucket, key, source_bucket, source_key, **kwargs):
    return s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key}, **kwargs)


def body_of(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.mark.parametrize("size", [0, 1, 3 * MiB + 1])
def test_copy_sizes_within_and_across_shards(s3, bucket, size):
    data = payload(size)
    s3.put_object(Bucket=bucket, Key="source", Body=data)
    # With two shards, 12 destination keys land on both the source's shard and the other.
    for index in range(12):
        result = copy(s3, bucket, f"copy/{index}", bucket, "source")
        assert result["CopyObjectResult"]["ETag"] == quoted(md5_hex(data))
        assert isinstance(result["CopyObjectResult"]["LastModified"], dt.datetime)
    for index in range(12):
        head = s3.head_object(Bucket=bucket, Key=f"copy/{index}")
        assert head["ContentLength"] == size
        assert head["ETag"] == quoted(md5_hex(data))
        assert body_of(s3, bucket, f"copy/{index}") == data


def test_copy_between_buckets_and_many_key_pairs(s3, bucket):
    other = bucket + "-dst"
    s3.create_bucket(Bucket=other)
    try:
        sources = {f"src/{i}": payload(1000 + i) for i in range(16)}
        for key, data in sources.items():
            s3.put_object(Bucket=bucket, Key=key, Body=data)
        for key in sources:
            copy(s3, other, "dst/" + key, bucket, key)
        for key, data in sources.items():
            assert body_of(s3, other, "dst/" + key) == data
    finally:
        for key in [f"dst/src/{i}" for i in range(16)]:
            s3.delete_object(Bucket=other, Key=key)
        s3.delete_bucket(Bucket=other)


def test_copy_of_multipart_source_gets_a_plain_md5_etag(s3, bucket):
    data = payload(11 * MiB)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/csv")["UploadId"]
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    etags = []
    for number, part in enumerate(parts, start=1):
        etags.append(s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=number, Body=part)["ETag"])
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]},
    )
    assert s3.head_object(Bucket=bucket, Key="mp")["ETag"] == quoted(multipart_etag(parts))

    result = copy(s3, bucket, "mp-copy", bucket, "mp")
    assert result["CopyObjectResult"]["ETag"] == quoted(md5_hex(data))
    head = s3.head_object(Bucket=bucket, Key="mp-copy")
    assert head["ETag"] == quoted(md5_hex(data))
    assert head["ContentType"] == "text/csv"
    assert body_of(s3, bucket, "mp-copy") == data


def test_metadata_directive_copy_and_replace(s3, bucket):
    s3.put_object(
        Bucket=bucket, Key="src", Body=b"hello", ContentType="text/plain", Metadata={"colour": "blue"},
        CacheControl="max-age=60",
    )
    # COPY (the default): the request's metadata is ignored.
    copy(s3, bucket, "copied", bucket, "src", ContentType="image/png", Metadata={"colour": "red"})
    head = s3.head_object(Bucket=bucket, Key="copied")
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"colour": "blue"}
    assert head["CacheControl"] == "max-age=60"

    copy(
        s3, bucket, "replaced", bucket, "src", MetadataDirective="REPLACE", ContentType="image/png",
        Metadata={"shape": "round"},
    )
    head = s3.head_object(Bucket=bucket, Key="replaced")
    assert head["ContentType"] == "image/png"
    assert head["Metadata"] == {"shape": "round"}
    assert "CacheControl" not in head
    assert body_of(s3, bucket, "replaced") == b"hello"


def test_unknown_directives_are_invalid_argument(s3, bucket, server):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    for header in ("x-amz-metadata-directive", "x-amz-tagging-directive"):
        response = raw_request(
            server, "PUT", object_path(bucket, "dst"),
            headers={"x-amz-copy-source": f"{bucket}/src", header: "MOVE"},
        )
        assert response.status == 400, response
        assert parse_error(response.body)["Code"] == "InvalidArgument"
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="dst")


def test_tagging_directive_copy_and_replace(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"tagged", Tagging="colour=blue&size=2")

    def tags(key):
        return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}

    copy(s3, bucket, "a", bucket, "src", TaggingDirective="COPY", Tagging="ignored=yes")
    copy(s3, bucket, "b", bucket, "src", TaggingDirective="REPLACE", Tagging="k=v%20w")
    copy(s3, bucket, "c", bucket, "src", TaggingDirective="REPLACE")
    assert tags("a") == {"colour": "blue", "size": "2"}
    assert tags("b") == {"k": "v w"}
    assert tags("c") == {}
    assert body_of(s3, bucket, "b") == b"tagged"


def test_copy_onto_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"same", ContentType="text/plain", Metadata={"v": "1"})
    error = expect_error(copy, 400, "InvalidRequest", s3=s3, bucket=bucket, key="self",
                         source_bucket=bucket, source_key="self")
    assert "copy an object to itself" in error.response["Error"]["Message"]
    before = s3.head_object(Bucket=bucket, Key="self")

    copy(s3, bucket, "self", bucket, "self", MetadataDirective="REPLACE", ContentType="text/html",
         Metadata={"v": "2"})
    head = s3.head_object(Bucket=bucket, Key="self")
    assert head["ContentType"] == "text/html"
    assert head["Metadata"] == {"v": "2"}
    assert head["ETag"] == before["ETag"]
    assert body_of(s3, bucket, "self") == b"same"


def test_copy_source_conditions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"conditional")
    head = s3.head_object(Bucket=bucket, Key="src")
    etag, modified = head["ETag"], head["LastModified"]
    before, after = modified - dt.timedelta(hours=1), modified + dt.timedelta(hours=1)

    ok = [
        {"CopySourceIfMatch": etag},
        {"CopySourceIfMatch": "*"},
        {"CopySourceIfNoneMatch": '"0123"'},
        {"CopySourceIfModifiedSince": before},
        {"CopySourceIfUnmodifiedSince": after},
        # A true If-Match wins over a false If-Unmodified-Since, as in S3.
        {"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": before},
    ]
    for conditions in ok:
        copy(s3, bucket, "dst", bucket, "src", **conditions)

    failing = [
        {"CopySourceIfMatch": '"0123"'},
        {"CopySourceIfNoneMatch": etag},
        {"CopySourceIfNoneMatch": "*"},
        {"CopySourceIfModifiedSince": after},
        {"CopySourceIfUnmodifiedSince": before},
        # The documented pair: If-None-Match false (the ETag matches), If-Modified-Since true.
        {"CopySourceIfNoneMatch": etag, "CopySourceIfModifiedSince": before},
    ]
    s3.delete_object(Bucket=bucket, Key="dst")
    for conditions in failing:
        expect_error(copy, 412, "PreconditionFailed", s3=s3, bucket=bucket, key="dst",
                     source_bucket=bucket, source_key="src", **conditions)
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="dst")


def test_missing_source_bucket_and_key(s3, bucket):
    expect_error(copy, 404, "NoSuchKey", s3=s3, bucket=bucket, key="dst", source_bucket=bucket,
                 source_key="absent")
    expect_error(copy, 404, "NoSuchBucket", s3=s3, bucket=bucket, key="dst",
                 source_bucket=bucket + "-absent", source_key="k")
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    expect_error(copy, 404, "NoSuchBucket", s3=s3, bucket=bucket + "-absent", key="dst",
                 source_bucket=bucket, source_key="src")


@pytest.mark.parametrize(
    ("copy_source", "status", "code"),
    [
        ("", 400, "InvalidArgument"),
        ("/", 400, "InvalidArgument"),
        ("%00", 400, "InvalidArgument"),
        ("{bucket}", 400, "InvalidArgument"),
        ("{bucket}/", 400, "InvalidArgument"),
        ("/{bucket}/a%00b", 400, "InvalidArgument"),
        ("{bucket}/%zz", 400, "InvalidArgument"),
        ("{bucket}/%c0%ae", 400, "InvalidArgument"),
        ("Not_A_Bucket/src", 400, "InvalidBucketName"),
        ("{bucket}/src?versionId=3HL4kqtJlcpXroDTDmJ", 404, "NoSuchVersion"),
    ],
)
def test_malformed_copy_sources(server, s3, bucket, copy_source, status, code):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    response = raw_request(
        server, "PUT", object_path(bucket, "dst"), headers={"x-amz-copy-source": copy_source.format(bucket=bucket)}
    )
    assert response.status == status, response
    assert parse_error(response.body)["Code"] == code
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="dst")


def test_copy_source_spellings(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="dir/a b+c", Body=b"spelled")
    for index, source in enumerate(
        [f"{bucket}/dir/a%20b%2Bc", f"/{bucket}/dir%2Fa%20b%2Bc", f"{bucket}/dir/a%20b%2Bc?versionId=null"]
    ):
        response = raw_request(server, "PUT", object_path(bucket, f"dst{index}"), headers={"x-amz-copy-source": source})
        assert response.status == 200, response
        assert body_of(s3, bucket, f"dst{index}") == b"spelled"


def test_upload_part_copy_ranges_from_two_sources(s3, bucket):
    first, second = payload(7 * MiB), payload(6 * MiB + 5)
    s3.put_object(Bucket=bucket, Key="first", Body=first)
    s3.put_object(Bucket=bucket, Key="second", Body=second)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    pieces = [
        ("first", 0, PART - 1, first),
        ("second", MiB, MiB + PART - 1, second),
        ("second", len(second) - 10, len(second) - 1, second),
    ]
    etags, expected = [], []
    for number, (key, start, last, data) in enumerate(pieces, start=1):
        result = s3.upload_part_copy(
            Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=number,
            CopySource={"Bucket": bucket, "Key": key}, CopySourceRange=f"bytes={start}-{last}",
        )
        part = data[start : last + 1]
        assert result["CopyPartResult"]["ETag"] == quoted(md5_hex(part))
        etags.append(result["CopyPartResult"]["ETag"])
        expected.append(part)
    listed = s3.list_parts(Bucket=bucket, Key="assembled", UploadId=upload_id)["Parts"]
    assert [p["Size"] for p in listed] == [len(p) for p in expected]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="assembled", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]},
    )
    head = s3.head_object(Bucket=bucket, Key="assembled")
    assert head["ETag"] == quoted(multipart_etag(expected))
    assert body_of(s3, bucket, "assembled") == b"".join(expected)


def test_upload_part_copy_whole_source_and_bad_ranges(s3, bucket):
    data = payload(1000)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    call = s3.upload_part_copy
    common = {"Bucket": bucket, "Key": "dst", "UploadId": upload_id, "CopySource": {"Bucket": bucket, "Key": "src"}}
    result = call(PartNumber=1, **common)
    assert result["CopyPartResult"]["ETag"] == quoted(md5_hex(data))
    for bad in ["0-9", "bytes=0", "bytes=5-", "bytes=-5", "bytes=a-b", "bytes=0-1,3-4"]:
        expect_error(call, 400, "InvalidArgument", PartNumber=2, CopySourceRange=bad, **common)
    for beyond in ["bytes=0-1000", "bytes=1000-1000", "bytes=9-3"]:
        expect_error(call, 416, "InvalidRange", PartNumber=2, CopySourceRange=beyond, **common)
    expect_error(call, 412, "PreconditionFailed", PartNumber=2, CopySourceIfMatch='"0123"', **common)
    expect_error(call, 404, "NoSuchKey", PartNumber=2, **{**common, "CopySource": {"Bucket": bucket, "Key": "no"}})
    expect_error(call, 404, "NoSuchUpload", PartNumber=2, **{**common, "UploadId": "0" * 32})
    parts = s3.list_parts(Bucket=bucket, Key="dst", UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]
    s3.abort_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id)


def test_managed_copy_uses_part_copies(s3, bucket):
    data = payload(11 * MiB)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4)
    s3.copy({"Bucket": bucket, "Key": "big"}, bucket, "big-copy", Config=config)
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    head = s3.head_object(Bucket=bucket, Key="big-copy")
    assert head["ETag"] == quoted(multipart_etag(parts))
    assert body_of(s3, bucket, "big-copy") == data


def test_aws_cli_copies_between_buckets(s3, bucket, aws):
    other = bucket + "-cli"
    s3.create_bucket(Bucket=other)
    try:
        data = payload(2 * MiB + 3)
        s3.put_object(Bucket=bucket, Key="cli/src.bin", Body=data)
        aws("s3", "cp", f"s3://{bucket}/cli/src.bin", f"s3://{other}/cli/dst.bin")
        assert body_of(s3, other, "cli/dst.bin") == data
    finally:
        s3.delete_object(Bucket=other, Key="cli/dst.bin")
        s3.delete_bucket(Bucket=other)


def test_copy_racing_overwrites_is_never_mixed(s3, bucket):
    size = 3 * MiB
    versions = [bytes([value]) * size for value in range(6)]
    s3.put_object(Bucket=bucket, Key="racy", Body=versions[0])
    stop = threading.Event()
    errors = []

    def writer():
        index = 1
        while not stop.is_set():
            try:
                if index % 3 == 0:
                    s3.delete_object(Bucket=bucket, Key="racy")
                else:
                    s3.put_object(Bucket=bucket, Key="racy", Body=versions[index % len(versions)])
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            index += 1

    thread = threading.Thread(target=writer)
    thread.start()
    copied = 0
    try:
        for index in range(20):
            try:
                copy(s3, bucket, f"snap/{index}", bucket, "racy")
            except s3.exceptions.NoSuchKey:
                continue
            body = body_of(s3, bucket, f"snap/{index}")
            assert body in versions, f"copy {index} mixes versions"
            copied += 1
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert copied > 0

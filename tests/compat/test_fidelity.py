"""AWS fidelity (issue 16): answers that real clients depend on, as S3 documents them. The
first cases are the departures the issue names; the generated member-by-member suite grows
from here."""

from __future__ import annotations

import base64
import zlib

import pytest
from botocore.exceptions import ClientError

from harness import empty_and_delete_bucket, unique_bucket_name
from s3util import MiB, expect_error, payload, raw_request

PART = 5 * MiB


def test_a_retried_complete_answers_the_same_result(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=n, Body=payload(PART if n == 1 else 10))
             for n in (1, 2)]  # fmt: skip
    listed = {"Parts": [{"PartNumber": n, "ETag": p["ETag"]} for n, p in enumerate(parts, 1)]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload=listed)
    again = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload=listed)
    assert again["ETag"] == first["ETag"] and again["Key"] == "mp"
    # Still one object, unchanged; the upload itself is gone.
    assert s3.head_object(Bucket=bucket, Key="mp")["ETag"] == first["ETag"]
    expect_error(s3.list_parts, 404, "NoSuchUpload", Bucket=bucket, Key="mp", UploadId=upload)
    # A retry names the same key: another key is still NoSuchUpload.
    expect_error(
        s3.complete_multipart_upload, 404, "NoSuchUpload", Bucket=bucket, Key="other", UploadId=upload,
        MultipartUpload=listed,
    )


def test_a_retried_complete_in_a_versioned_bucket_names_the_same_version(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="v")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="v", UploadId=upload, PartNumber=1, Body=b"only part")
    listed = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="v", UploadId=upload, MultipartUpload=listed)
    again = s3.complete_multipart_upload(Bucket=bucket, Key="v", UploadId=upload, MultipartUpload=listed)
    assert again["VersionId"] == first["VersionId"]
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 1


def full_object_upload(s3, bucket, key):
    upload = s3.create_multipart_upload(
        Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    bodies = [payload(PART) + bytes([n]) * 7 for n in range(3)]
    parts = [
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=body, ChecksumAlgorithm="CRC32")
        for n, body in enumerate(bodies, 1)
    ]
    listed = {"Parts": [{"PartNumber": n, "ETag": p["ETag"], "ChecksumCRC32": p["ChecksumCRC32"]}
                        for n, p in enumerate(parts, 1)]}  # fmt: skip
    return upload, listed, bodies


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_complete_accepts_the_whole_objects_checksum(s3, bucket):
    # The whole object's CRC32, as a client computes it and as the server returns it for
    # the same upload completed without the header (the issue saw this with CRC32C; the path
    # is the same, and boto3 needs the CRT for CRC32C).
    upload, listed, bodies = full_object_upload(s3, bucket, "plain")
    value = crc32_b64(b"".join(bodies))
    computed = s3.complete_multipart_upload(Bucket=bucket, Key="plain", UploadId=upload, MultipartUpload=listed)
    assert computed["ChecksumCRC32"] == value
    upload, listed, bodies = full_object_upload(s3, bucket, "declared")
    declared = s3.complete_multipart_upload(
        Bucket=bucket, Key="declared", UploadId=upload, MultipartUpload=listed,
        ChecksumCRC32=crc32_b64(b"".join(bodies)), ChecksumType="FULL_OBJECT",
    )
    assert declared["ChecksumCRC32"] == crc32_b64(b"".join(bodies))
    # A wrong one is BadDigest and completes nothing.
    upload, listed, _ = full_object_upload(s3, bucket, "wrong")
    expect_error(
        s3.complete_multipart_upload, 400, "BadDigest", Bucket=bucket, Key="wrong", UploadId=upload,
        MultipartUpload=listed, ChecksumCRC32="AAAAAA==", ChecksumType="FULL_OBJECT",
    )
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="wrong")
    s3.abort_multipart_upload(Bucket=bucket, Key="wrong", UploadId=upload)


@pytest.fixture
def many_buckets(s3):
    stem = unique_bucket_name("lb")
    names = [f"{stem}-{n}" for n in range(5)]
    for name in names:
        s3.create_bucket(Bucket=name)
    yield stem, names
    for name in names:
        empty_and_delete_bucket(s3, name)


def test_list_buckets_pages_filters_by_prefix_and_region(server, s3, many_buckets):
    stem, names = many_buckets
    seen = []
    token = {}
    while True:
        page = s3.list_buckets(MaxBuckets=2, Prefix=stem, **token)
        assert page["Prefix"] == stem
        seen += [b["Name"] for b in page["Buckets"]]
        assert len(page["Buckets"]) <= 2
        if "ContinuationToken" not in page:
            break
        token = {"ContinuationToken": page["ContinuationToken"]}
    assert seen == names
    assert [b["Name"] for b in s3.list_buckets(Prefix=stem, BucketRegion="us-east-1")["Buckets"]] == names
    assert s3.list_buckets(Prefix=stem, BucketRegion="eu-west-1")["Buckets"] == []
    with pytest.raises(ClientError) as error:
        s3.list_buckets(MaxBuckets=10_001)
    assert error.value.response["Error"]["Code"] == "InvalidArgument"
    # boto3 refuses 0 itself; the server must too.
    for bad in ("0", "-1", "many"):
        response = raw_request(server, "GET", "/", query={"max-buckets": bad})
        assert (response.status, response.error_code()) == (400, "InvalidArgument"), bad
    with pytest.raises(ClientError) as error:
        s3.list_buckets(ContinuationToken="!!not-a-token!!")
    assert error.value.response["Error"]["Code"] == "InvalidArgument"


def test_max_keys_zero_is_an_empty_untruncated_page(s3, bucket):
    for key in ("a", "b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    v2 = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert v2["IsTruncated"] is False and v2["KeyCount"] == 0 and "NextContinuationToken" not in v2
    v1 = s3.list_objects(Bucket=bucket, MaxKeys=0)
    assert v1["IsTruncated"] is False and "Contents" not in v1 and "NextMarker" not in v1


def test_expected_bucket_owner_is_checked(s3, bucket):
    owner = s3.list_buckets()["Owner"]["ID"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=owner)
    assert s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=owner)["Body"].read() == b"x"
    expect_error(s3.put_object, 403, "AccessDenied", Bucket=bucket, Key="k", Body=b"changed", ExpectedBucketOwner="111122223333")
    expect_error(s3.get_bucket_tagging, 403, "AccessDenied", Bucket=bucket, ExpectedBucketOwner="111122223333")
    expect_error(
        s3.copy_object, 403, "AccessDenied", Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"},
        ExpectedSourceBucketOwner="111122223333",
    )
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="copy")


def test_storage_classes(s3, bucket):
    for accepted in ("STANDARD", "REDUCED_REDUNDANCY"):
        s3.put_object(Bucket=bucket, Key=accepted, Body=b"x", StorageClass=accepted)
    for refused in ("GLACIER", "DEEP_ARCHIVE", "NOT_A_CLASS"):
        expect_error(s3.put_object, 400, "InvalidStorageClass", Bucket=bucket, Key=refused, Body=b"x", StorageClass=refused)
        expect_error(s3.create_multipart_upload, 400, "InvalidStorageClass", Bucket=bucket, Key=refused, StorageClass=refused)
        expect_error(
            s3.copy_object, 400, "InvalidStorageClass", Bucket=bucket, Key=refused,
            CopySource={"Bucket": bucket, "Key": "STANDARD"}, StorageClass=refused,
        )
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["REDUCED_REDUNDANCY", "STANDARD"]
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_website_redirect_location_is_validated_and_returned(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"x", WebsiteRedirectLocation="/elsewhere.html")
    assert s3.head_object(Bucket=bucket, Key="r")["WebsiteRedirectLocation"] == "/elsewhere.html"
    s3.put_object(Bucket=bucket, Key="abs", Body=b"x", WebsiteRedirectLocation="https://example.com/x")
    assert s3.get_object(Bucket=bucket, Key="abs")["WebsiteRedirectLocation"] == "https://example.com/x"
    for bad in ("ftp://example.com/", "relative.html", "/" + "a" * 2048):
        expect_error(s3.put_object, 400, "InvalidArgument", Bucket=bucket, Key="bad", Body=b"x", WebsiteRedirectLocation=bad)
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="bad")

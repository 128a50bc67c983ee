"""Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation."""

import datetime as dt

import pytest
from botocore.exceptions import ClientError
from harness import empty_and_delete_bucket, unique_bucket_name
from s3util import REGION, expect_error


def bucket_names(s3) -> list[str]:
    return [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_lifecycle(s3):
    name = unique_bucket_name("life")
    assert name not in bucket_names(s3)

    resp = s3.create_bucket(Bucket=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp.get("Location") == f"/{name}"
    assert name in bucket_names(s3)
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200

    resp = s3.delete_bucket(Bucket=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert name not in bucket_names(s3)
    expect_error(s3.head_bucket, 404, "404", Bucket=name)


def test_list_buckets_shape(s3, bucket):
    resp = s3.list_buckets()
    assert resp["Owner"]["ID"]
    entry = next(b for b in resp["Buckets"] if b["Name"] == bucket)
    created = entry["CreationDate"]
    assert abs(dt.datetime.now(dt.timezone.utc) - created) < dt.timedelta(minutes=5)


def test_list_buckets_sorted(s3):
    names = [unique_bucket_name(f"sort{i}") for i in range(3)]
    for name in names:
        s3.create_bucket(Bucket=name)
    try:
        listed = bucket_names(s3)
        assert listed == sorted(listed)
        assert set(names) <= set(listed)
    finally:
        for name in names:
            s3.delete_bucket(Bucket=name)


def test_create_bucket_with_location_constraint(s3):
    name = unique_bucket_name("loc")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    try:
        assert s3.get_bucket_location(Bucket=name).get("LocationConstraint") in (None, "")
    finally:
        s3.delete_bucket(Bucket=name)


def test_create_existing_bucket(s3, bucket):
    expect_error(s3.create_bucket, 409, "BucketAlreadyOwnedByYou", Bucket=bucket)


@pytest.mark.parametrize(
    "name",
    [
        "ab",  # too short
        "a" * 64,  # too long
        "UpperCase",
        "under_score",
        "-leading-dash",
        "trailing-dash-",
        ".leading-dot",
        "trailing-dot.",
        "double..dot",
        "192.168.1.1",  # IP address form
        "xn--punycode",
        "bucket-s3alias",
    ],
)
def test_create_bucket_invalid_name(s3, name):
    expect_error(s3.create_bucket, 400, "InvalidBucketName", Bucket=name)
    assert name not in bucket_names(s3)


def test_head_missing_bucket(s3):
    expect_error(s3.head_bucket, 404, "404", Bucket=unique_bucket_name("missing"))


def test_delete_missing_bucket(s3):
    expect_error(s3.delete_bucket, 404, "NoSuchBucket", Bucket=unique_bucket_name("missing"))


def test_delete_non_empty_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    expect_error(s3.delete_bucket, 409, "BucketNotEmpty", Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"x"


def test_delete_bucket_after_emptying(s3):
    name = unique_bucket_name("empty")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="a/b", Body=b"1")
    s3.delete_object(Bucket=name, Key="a/b")
    s3.delete_bucket(Bucket=name)
    assert name not in bucket_names(s3)


def test_recreate_deleted_bucket_is_empty(s3):
    name = unique_bucket_name("again")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"1")
    empty_and_delete_bucket(s3, name)
    s3.create_bucket(Bucket=name)
    try:
        assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    finally:
        s3.delete_bucket(Bucket=name)


def test_get_bucket_location(s3, bucket):
    resp = s3.get_bucket_location(Bucket=bucket)
    # us-east-1 is reported as an empty LocationConstraint.
    assert resp.get("LocationConstraint") in (None, "")


def test_get_bucket_location_missing_bucket(s3):
    expect_error(s3.get_bucket_location, 404, "NoSuchBucket", Bucket=unique_bucket_name("missing"))


def test_versioning_of_a_never_versioned_bucket(s3, bucket):
    """rclone asks before purging; AWS answers an empty configuration, not an error."""
    resp = s3.get_bucket_versioning(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Status" not in resp and "MFADelete" not in resp
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_versioning(Bucket="no-such-bucket-versioning")
    assert exc.value.response["Error"]["Code"] == "NoSuchBucket"

"""ListObjectVersions on unversioned buckets: every object is its only version, "null"."""

from s3util import expect_error, md5_hex, quoted


def put_keys(s3, bucket: str, keys: list[str]) -> dict[str, bytes]:
    bodies = {}
    for key in keys:
        bodies[key] = key.encode() * 3
        s3.put_object(Bucket=bucket, Key=key, Body=bodies[key])
    return bodies


KEYS = [f"dir{d}/obj{o:02d}" for d in range(3) for o in range(5)] + ["top1", "top2", "a b+c"]


def versions_of(page) -> list[str]:
    return [v["Key"] for v in page.get("Versions", [])]


def test_versions_are_null_and_latest(s3, bucket):
    bodies = put_keys(s3, bucket, KEYS)
    page = s3.list_object_versions(Bucket=bucket)
    assert versions_of(page) == sorted(KEYS, key=str.encode)
    assert page["IsTruncated"] is False and page["MaxKeys"] == 1000
    assert page["Name"] == bucket
    assert "DeleteMarkers" not in page
    for version in page["Versions"]:
        assert version["VersionId"] == "null"
        assert version["IsLatest"] is True
        assert version["ETag"] == quoted(md5_hex(bodies[version["Key"]]))
        assert version["Size"] == len(bodies[version["Key"]])
        assert version["StorageClass"] == "STANDARD"
        assert version["Owner"]["ID"]


def test_versions_pagination_with_markers(s3, bucket):
    put_keys(s3, bucket, KEYS)
    expected = sorted(KEYS, key=str.encode)
    seen = []
    markers = {}
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=4, **markers)
        seen += versions_of(page)
        if not page["IsTruncated"]:
            break
        assert page["NextKeyMarker"] == seen[-1]
        assert page["NextVersionIdMarker"] == "null"
        markers = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert seen == expected

    paginated = [
        key
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 5})
        for key in versions_of(page)
    ]
    assert paginated == expected

    after = s3.list_object_versions(Bucket=bucket, KeyMarker="dir1/obj02")
    assert versions_of(after) == [k for k in expected if k.encode() > b"dir1/obj02"]
    assert after["KeyMarker"] == "dir1/obj02"


def test_versions_prefix_and_delimiter(s3, bucket):
    put_keys(s3, bucket, KEYS)
    top = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir0/", "dir1/", "dir2/"]
    assert versions_of(top) == ["a b+c", "top1", "top2"]

    inside = s3.list_object_versions(Bucket=bucket, Prefix="dir2/", Delimiter="/")
    assert versions_of(inside) == [f"dir2/obj{o:02d}" for o in range(5)]
    assert "CommonPrefixes" not in inside

    items = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 2}
    ):
        items += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        items += versions_of(page)
    assert sorted(items) == sorted(["dir0/", "dir1/", "dir2/", "a b+c", "top1", "top2"])
    assert len(items) == 6


def test_versions_encoding_and_errors(s3, bucket):
    put_keys(s3, bucket, ["a b+c&d"])
    # botocore asks for url encoding itself and decodes; asked for explicitly, it does not.
    assert versions_of(s3.list_object_versions(Bucket=bucket)) == ["a b+c&d"]
    encoded = s3.list_object_versions(Bucket=bucket, EncodingType="url", Prefix="a ")
    assert versions_of(encoded) == ["a%20b%2Bc%26d"] and encoded["Prefix"] == "a%20"
    expect_error(lambda: s3.list_object_versions(Bucket=bucket, VersionIdMarker="null"), 400, "InvalidArgument")
    expect_error(
        lambda: s3.list_object_versions(Bucket=bucket, KeyMarker="a", VersionIdMarker="3HL4kqtJlcpXroDTDmJ"),
        400,
        "InvalidArgument",
    )
    expect_error(lambda: s3.list_object_versions(Bucket=bucket + "-missing"), 404, "NoSuchBucket")
    zero = s3.list_object_versions(Bucket=bucket, MaxKeys=0)
    assert versions_of(zero) == [] and zero["IsTruncated"] is True

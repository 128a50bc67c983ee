"""S3 versioning through boto3 against the real binary: bucket state, version ids, delete
markers, reads, deletes, copies, tags and attributes by version id, DeleteObjects, the
suspended state and its null version, and ListObjectVersions paged across shards."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError

from harness import make_client
from s3util import expect_error, md5_hex, quoted


@pytest.fixture
def versioned(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def headers_of(exc: ClientError) -> dict:
    return exc.response["ResponseMetadata"]["HTTPHeaders"]


def put(s3, bucket, key, body: bytes) -> str:
    return s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]


def raw_versions_page(s3, bucket, **kwargs) -> tuple[list[tuple], dict]:
    """One ListObjectVersions page as the server ordered it: boto3 splits versions from
    delete markers, so the entries come from the raw XML. Each entry is (key, version id,
    is latest, is marker)."""
    captured = {}

    def keep(http_response, **_):
        captured["body"] = http_response.content

    s3.meta.events.register("after-call.s3.ListObjectVersions", keep)
    try:
        page = s3.list_object_versions(Bucket=bucket, **kwargs)
    finally:
        s3.meta.events.unregister("after-call.s3.ListObjectVersions", keep)
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    entries = []
    for element in ElementTree.fromstring(captured["body"]):
        if element.tag in (ns + "Version", ns + "DeleteMarker"):
            entries.append((
                element.findtext(ns + "Key"),
                element.findtext(ns + "VersionId"),
                element.findtext(ns + "IsLatest") == "true",
                element.tag == ns + "DeleteMarker",
            ))
    return entries, page


def all_versions(s3, bucket, max_keys: int = 1000, **kwargs) -> list[tuple]:
    """Every (key, version id, is latest, is marker), in listing order, page by page."""
    entries = []
    markers = {}
    while True:
        page_entries, page = raw_versions_page(s3, bucket, MaxKeys=max_keys, **kwargs, **markers)
        entries += page_entries
        if not page["IsTruncated"]:
            return entries
        markers = {"KeyMarker": page["NextKeyMarker"]}
        if "NextVersionIdMarker" in page:
            markers["VersionIdMarker"] = page["NextVersionIdMarker"]


def test_bucket_versioning_states(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    expect_error(
        s3.put_bucket_versioning,
        400,
        "InvalidRequest",
        Bucket=bucket,
        VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
    )
    expect_error(
        s3.put_bucket_versioning, 404, "NoSuchBucket", Bucket="no-such-bucket-v", VersioningConfiguration={"Status": "Enabled"}
    )
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_unversioned_bucket_sends_no_version_headers(s3, bucket):
    response = s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    assert "VersionId" not in response
    assert "VersionId" not in s3.head_object(Bucket=bucket, Key="k")
    # The object is the null version.
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"one"


def test_every_put_is_a_version_readable_by_id(s3, versioned):
    ids = [put(s3, versioned, "doc", f"body {n}".encode()) for n in range(5)]
    assert len(set(ids)) == 5 and all(ids)
    latest = s3.get_object(Bucket=versioned, Key="doc")
    assert latest["Body"].read() == b"body 4" and latest["VersionId"] == ids[-1]
    for n, version_id in enumerate(ids):
        got = s3.get_object(Bucket=versioned, Key="doc", VersionId=version_id)
        assert got["Body"].read() == f"body {n}".encode()
        assert got["VersionId"] == version_id
        head = s3.head_object(Bucket=versioned, Key="doc", VersionId=version_id)
        assert head["ETag"] == quoted(md5_hex(f"body {n}".encode()))
    listed = all_versions(s3, versioned)
    assert [(v[1], v[2]) for v in listed] == [(i, i == ids[-1]) for i in reversed(ids)]
    # Objects listings show the latest only.
    contents = s3.list_objects_v2(Bucket=versioned)["Contents"]
    assert [(c["Key"], c["ETag"]) for c in contents] == [("doc", quoted(md5_hex(b"body 4")))]


def test_delete_writes_a_marker_that_hides_the_key(s3, versioned):
    first = put(s3, versioned, "k", b"v1")
    deleted = s3.delete_object(Bucket=versioned, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    assert marker and marker != first
    exc = expect_error(s3.get_object, 404, "NoSuchKey", Bucket=versioned, Key="k")
    assert headers_of(exc)["x-amz-delete-marker"] == "true"
    assert headers_of(exc)["x-amz-version-id"] == marker
    exc = expect_error(s3.head_object, 404, "404", Bucket=versioned, Key="k")
    assert headers_of(exc)["x-amz-delete-marker"] == "true"
    # A marker named by id has no data.
    exc = expect_error(s3.get_object, 405, "MethodNotAllowed", Bucket=versioned, Key="k", VersionId=marker)
    assert headers_of(exc)["x-amz-delete-marker"] == "true"
    assert "last-modified" in headers_of(exc)
    expect_error(s3.head_object, 405, "405", Bucket=versioned, Key="k", VersionId=marker)
    # The old version is still there, and listings hide the key.
    assert s3.get_object(Bucket=versioned, Key="k", VersionId=first)["Body"].read() == b"v1"
    assert "Contents" not in s3.list_objects_v2(Bucket=versioned)
    assert "Contents" not in s3.list_objects(Bucket=versioned)
    page = s3.list_object_versions(Bucket=versioned)
    assert [(m["VersionId"], m["IsLatest"]) for m in page["DeleteMarkers"]] == [(marker, True)]
    assert [(v["VersionId"], v["IsLatest"]) for v in page["Versions"]] == [(first, False)]
    # Deleting the marker by id brings the object back.
    gone = s3.delete_object(Bucket=versioned, Key="k", VersionId=marker)
    assert gone["DeleteMarker"] is True and gone["VersionId"] == marker
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"v1"


def test_deleting_versions_for_good(s3, versioned):
    ids = [put(s3, versioned, "k", f"v{n}".encode()) for n in range(3)]
    # The latest: the one before it becomes the latest.
    response = s3.delete_object(Bucket=versioned, Key="k", VersionId=ids[2])
    assert response["VersionId"] == ids[2] and "DeleteMarker" not in response
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"v1"
    # A noncurrent one.
    s3.delete_object(Bucket=versioned, Key="k", VersionId=ids[0])
    assert [v[1] for v in all_versions(s3, versioned)] == [ids[1]]
    expect_error(s3.get_object, 404, "NoSuchVersion", Bucket=versioned, Key="k", VersionId=ids[0])
    # Deleting what no longer exists is still 204, as on S3.
    s3.delete_object(Bucket=versioned, Key="k", VersionId=ids[0])
    s3.delete_object(Bucket=versioned, Key="k", VersionId=ids[1])
    assert all_versions(s3, versioned) == []
    expect_error(s3.get_object, 404, "NoSuchKey", Bucket=versioned, Key="k")


def test_bad_version_ids(s3, versioned):
    put(s3, versioned, "k", b"x")
    # Well-formed ids that name nothing: NoSuchVersion.
    expect_error(s3.get_object, 404, "NoSuchVersion", Bucket=versioned, Key="k", VersionId="0" * 32)
    expect_error(s3.get_object, 404, "NoSuchVersion", Bucket=versioned, Key="k", VersionId="null")
    expect_error(s3.get_object_tagging, 404, "NoSuchVersion", Bucket=versioned, Key="k", VersionId="0" * 32)
    # Ids this server never issues: InvalidArgument, as S3 answers "Invalid version id".
    for bad in ("3HL4kqtJlcpXroDTDmJ", "x" * 1025, "0" * 31 + "G"):
        expect_error(s3.get_object, 400, "InvalidArgument", Bucket=versioned, Key="k", VersionId=bad)
        expect_error(s3.delete_object, 400, "InvalidArgument", Bucket=versioned, Key="k", VersionId=bad)
    expect_error(s3.head_object, 400, "400", Bucket=versioned, Key="k", VersionId="nope")
    expect_error(
        s3.list_object_versions, 400, "InvalidArgument", Bucket=versioned, VersionIdMarker="null"
    )
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"x"


def test_mfa_header_is_refused(s3, versioned):
    version = put(s3, versioned, "k", b"x")
    expect_error(s3.delete_object, 400, "InvalidRequest", Bucket=versioned, Key="k", VersionId=version, MFA="serial 123456")
    assert s3.get_object(Bucket=versioned, Key="k", VersionId=version)["Body"].read() == b"x"


def test_suspended_bucket_writes_the_null_version(s3, versioned):
    kept = put(s3, versioned, "k", b"enabled")
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Suspended"})
    assert put(s3, versioned, "k", b"null one") == "null"
    assert put(s3, versioned, "k", b"null two") == "null"
    # The second null write replaced the first: one null version, the enabled one kept.
    assert [(v[1], v[2]) for v in all_versions(s3, versioned)] == [("null", True), (kept, False)]
    assert s3.get_object(Bucket=versioned, Key="k", VersionId="null")["Body"].read() == b"null two"
    # A delete writes a null marker in the null version's place.
    deleted = s3.delete_object(Bucket=versioned, Key="k")
    assert deleted["DeleteMarker"] is True and deleted["VersionId"] == "null"
    assert [(v[1], v[2], v[3]) for v in all_versions(s3, versioned)] == [("null", True, True), (kept, False, False)]
    # Back to Enabled: a new version on top, the null marker becomes noncurrent.
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    newest = put(s3, versioned, "k", b"again")
    assert [v[1] for v in all_versions(s3, versioned)] == [newest, "null", kept]


def test_unversioned_objects_become_null_versions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="old", Body=b"before")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    new = put(s3, bucket, "old", b"after")
    assert [(v[1], v[2]) for v in all_versions(s3, bucket)] == [(new, True), ("null", False)]
    assert s3.get_object(Bucket=bucket, Key="old", VersionId="null")["Body"].read() == b"before"


def test_tags_and_attributes_by_version(s3, versioned):
    first = s3.put_object(Bucket=versioned, Key="t", Body=b"1", Tagging="v=1")["VersionId"]
    second = s3.put_object(Bucket=versioned, Key="t", Body=b"22", Tagging="v=2")["VersionId"]
    got = s3.get_object_tagging(Bucket=versioned, Key="t", VersionId=first)
    assert got["TagSet"] == [{"Key": "v", "Value": "1"}] and got["VersionId"] == first
    put_response = s3.put_object_tagging(
        Bucket=versioned, Key="t", VersionId=first, Tagging={"TagSet": [{"Key": "v", "Value": "one"}]}
    )
    assert put_response["VersionId"] == first
    assert s3.get_object_tagging(Bucket=versioned, Key="t", VersionId=first)["TagSet"] == [{"Key": "v", "Value": "one"}]
    assert s3.get_object_tagging(Bucket=versioned, Key="t")["TagSet"] == [{"Key": "v", "Value": "2"}]
    s3.delete_object_tagging(Bucket=versioned, Key="t", VersionId=second)
    assert s3.get_object_tagging(Bucket=versioned, Key="t")["TagSet"] == []
    attributes = s3.get_object_attributes(Bucket=versioned, Key="t", VersionId=first, ObjectAttributes=["ObjectSize", "ETag"])
    assert attributes["ObjectSize"] == 1 and attributes["VersionId"] == first
    marker = s3.delete_object(Bucket=versioned, Key="t")["VersionId"]
    expect_error(s3.get_object_tagging, 405, "MethodNotAllowed", Bucket=versioned, Key="t", VersionId=marker)
    expect_error(s3.get_object_tagging, 404, "NoSuchKey", Bucket=versioned, Key="t")


def test_copy_from_a_version(s3, versioned):
    first = put(s3, versioned, "src", b"first body")
    put(s3, versioned, "src", b"second body")
    copied = s3.copy_object(Bucket=versioned, Key="dst", CopySource={"Bucket": versioned, "Key": "src", "VersionId": first})
    assert copied["CopySourceVersionId"] == first and copied["VersionId"]
    assert s3.get_object(Bucket=versioned, Key="dst")["Body"].read() == b"first body"
    marker = s3.delete_object(Bucket=versioned, Key="src")["VersionId"]
    expect_error(
        s3.copy_object, 400, "InvalidRequest", Bucket=versioned, Key="dst2",
        CopySource={"Bucket": versioned, "Key": "src", "VersionId": marker},
    )
    expect_error(s3.copy_object, 404, "NoSuchKey", Bucket=versioned, Key="dst3", CopySource={"Bucket": versioned, "Key": "src"})
    # UploadPartCopy from a version.
    upload = s3.create_multipart_upload(Bucket=versioned, Key="mp")["UploadId"]
    part = s3.upload_part_copy(
        Bucket=versioned, Key="mp", UploadId=upload, PartNumber=1,
        CopySource={"Bucket": versioned, "Key": "src", "VersionId": first},
    )
    assert part["CopySourceVersionId"] == first
    done = s3.complete_multipart_upload(
        Bucket=versioned, Key="mp", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]},
    )
    assert done["VersionId"]
    assert s3.get_object(Bucket=versioned, Key="mp", VersionId=done["VersionId"])["Body"].read() == b"first body"


def test_delete_objects_with_versions(s3, versioned):
    a1 = put(s3, versioned, "a", b"1")
    put(s3, versioned, "a", b"2")
    b1 = put(s3, versioned, "b", b"1")
    response = s3.delete_objects(
        Bucket=versioned,
        Delete={"Objects": [{"Key": "a", "VersionId": a1}, {"Key": "b"}, {"Key": "c", "VersionId": "0" * 32}]},
    )
    deleted = {d["Key"]: d for d in response["Deleted"]}
    assert deleted["a"]["VersionId"] == a1 and "DeleteMarker" not in deleted["a"]
    assert deleted["b"]["DeleteMarker"] is True and deleted["b"]["DeleteMarkerVersionId"]
    assert "Errors" not in response
    marker = deleted["b"]["DeleteMarkerVersionId"]
    response = s3.delete_objects(Bucket=versioned, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})
    assert response["Deleted"] == [{"Key": "b", "VersionId": marker, "DeleteMarker": True, "DeleteMarkerVersionId": marker}]
    assert s3.get_object(Bucket=versioned, Key="b")["VersionId"] == b1
    assert a1 not in [v[1] for v in all_versions(s3, versioned, Prefix="a")]


def test_bucket_with_only_versions_is_not_empty(s3, versioned):
    put(s3, versioned, "k", b"x")
    s3.delete_object(Bucket=versioned, Key="k")
    expect_error(s3.delete_bucket, 409, "BucketNotEmpty", Bucket=versioned)


def test_list_versions_pages_exactly(s3, versioned):
    keys = [f"d{n % 3}/k{n:02d}" for n in range(12)]
    expected = []
    for key in keys:
        ids = [put(s3, versioned, key, f"{key}-{n}".encode()) for n in range(3)]
        marker = s3.delete_object(Bucket=versioned, Key=key)["VersionId"] if key.endswith("3") else None
        newest_first = ([marker] if marker else []) + list(reversed(ids))
        expected += [(key, vid) for vid in newest_first]
    expected.sort(key=lambda e: e[0].encode())  # stable: newest first within a key
    assert [(e[0], e[1]) for e in all_versions(s3, versioned)] == expected
    for page_size in (1, 2, 5):
        assert [(e[0], e[1]) for e in all_versions(s3, versioned, max_keys=page_size)] == expected
    # Delimiter: common prefixes, and a marker that is one.
    page = s3.list_object_versions(Bucket=versioned, Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d0/", "d1/"] and page["IsTruncated"]
    rest = s3.list_object_versions(Bucket=versioned, Delimiter="/", KeyMarker=page["NextKeyMarker"])
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["d2/"]
    # Prefix, and a key marker alone skips every version of that key.
    prefixed = s3.list_object_versions(Bucket=versioned, Prefix="d1/", KeyMarker="d1/k01")
    assert {v["Key"] for v in prefixed["Versions"]} == {k for k in keys if k.startswith("d1/") and k > "d1/k01"}


@pytest.mark.binary
def test_versions_survive_a_restart(server_factory):
    server = server_factory.create()
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="keep")
    s3.put_bucket_versioning(Bucket="keep", VersioningConfiguration={"Status": "Enabled"})
    ids = [put(s3, "keep", "k", f"v{n}".encode()) for n in range(3)]
    marker = s3.delete_object(Bucket="keep", Key="k")["VersionId"]
    before = all_versions(s3, "keep")
    server.stop()
    server.start()
    s3 = make_client(server.endpoint)
    assert all_versions(s3, "keep") == before
    assert [v[1] for v in before] == [marker, *reversed(ids)]
    later = put(s3, "keep", "k", b"after restart")
    assert all_versions(s3, "keep")[0][1] == later
    assert s3.get_bucket_versioning(Bucket="keep")["Status"] == "Enabled"

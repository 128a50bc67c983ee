"""ListParts and ListMultipartUploads: pagination, prefixes, markers and errors."""

import json
from urllib.parse import unquote

import pytest

from s3util import expect_error, md5_hex, payload, quoted


def start_upload(s3, bucket: str, key: str) -> str:
    return s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]


def abort_all(s3, bucket: str):
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


@pytest.fixture
def mp_bucket(s3, bucket):
    yield bucket
    abort_all(s3, bucket)


# ---------------------------------------------------------------------------
# ListParts
# ---------------------------------------------------------------------------


def test_list_parts_pages_with_max_parts(s3, mp_bucket):
    key = "parts/object.bin"
    upload_id = start_upload(s3, mp_bucket, key)
    bodies = {number: payload(1000 + number) for number in range(1, 8)}
    for number, body in bodies.items():
        s3.upload_part(Bucket=mp_bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)

    seen = []
    marker = 0
    for expected in ([1, 2, 3], [4, 5, 6], [7]):
        page = s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id, MaxParts=3, PartNumberMarker=marker)
        numbers = [part["PartNumber"] for part in page["Parts"]]
        assert numbers == expected
        assert page["MaxParts"] == 3
        assert page["PartNumberMarker"] == marker
        assert page["NextPartNumberMarker"] == expected[-1]
        assert page["IsTruncated"] == (expected != [7])
        assert page["Bucket"] == mp_bucket and page["Key"] == key and page["UploadId"] == upload_id
        assert page["StorageClass"] == "STANDARD"
        assert page["Owner"]["ID"] and page["Initiator"]["ID"] == page["Owner"]["ID"]
        for part in page["Parts"]:
            body = bodies[part["PartNumber"]]
            assert part["ETag"] == quoted(md5_hex(body))
            assert part["Size"] == len(body)
            assert part["LastModified"].year >= 2024
        seen += numbers
        marker = page["NextPartNumberMarker"]
    assert seen == list(range(1, 8))

    paginated = [
        part["PartNumber"]
        for page in s3.get_paginator("list_parts").paginate(
            Bucket=mp_bucket, Key=key, UploadId=upload_id, PaginationConfig={"PageSize": 2}
        )
        for part in page.get("Parts", [])
    ]
    assert paginated == list(range(1, 8))


def test_list_parts_replaced_part_and_empty_upload(s3, mp_bucket):
    key = "replace"
    upload_id = start_upload(s3, mp_bucket, key)
    empty = s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id)
    assert empty.get("Parts", []) == [] and empty["IsTruncated"] is False
    assert empty["MaxParts"] == 1000
    s3.upload_part(Bucket=mp_bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=b"first")
    s3.upload_part(Bucket=mp_bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=b"second!")
    parts = s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id, MaxParts=5000)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [(2, 7, quoted(md5_hex(b"second!")))]


def test_list_parts_errors(s3, mp_bucket):
    key = "errors"
    upload_id = start_upload(s3, mp_bucket, key)
    expect_error(lambda: s3.list_parts(Bucket=mp_bucket, Key=key, UploadId="0" * 32), 404, "NoSuchUpload")
    expect_error(lambda: s3.list_parts(Bucket=mp_bucket, Key=key, UploadId="nonsense"), 404, "NoSuchUpload")
    # The upload exists, but under another key.
    expect_error(lambda: s3.list_parts(Bucket=mp_bucket, Key="other", UploadId=upload_id), 404, "NoSuchUpload")
    expect_error(lambda: s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id, MaxParts=-1), 400, "InvalidArgument")
    expect_error(
        lambda: s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id, PartNumberMarker=-2),
        400,
        "InvalidArgument",
    )
    s3.abort_multipart_upload(Bucket=mp_bucket, Key=key, UploadId=upload_id)
    expect_error(lambda: s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id), 404, "NoSuchUpload")


# ---------------------------------------------------------------------------
# ListMultipartUploads
# ---------------------------------------------------------------------------


def make_uploads(s3, bucket: str) -> list[tuple[str, str]]:
    """30 uploads over 28 keys (two keys have two uploads), sorted as the listing sorts them."""
    keys = [f"dir{d}/file{f:02d}" for d in range(3) for f in range(8)]
    keys += ["top-a", "top-b", "zz/deep/x", "a b+c"]
    uploads = [(key, start_upload(s3, bucket, key)) for key in keys]
    uploads += [(key, start_upload(s3, bucket, key)) for key in ("dir1/file03", "top-a")]
    assert len(uploads) == 30
    return sorted(uploads, key=lambda u: (u[0].encode(), u[1]))


def listed(page) -> list[tuple[str, str]]:
    return [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]


def test_list_uploads_pages_every_upload_once_in_order(s3, mp_bucket):
    expected = make_uploads(s3, mp_bucket)

    whole = s3.list_multipart_uploads(Bucket=mp_bucket)
    assert listed(whole) == expected
    assert whole["IsTruncated"] is False and whole["MaxUploads"] == 1000
    for upload in whole["Uploads"]:
        assert upload["StorageClass"] == "STANDARD"
        assert upload["Initiator"]["ID"] == upload["Owner"]["ID"]
        assert upload["Initiated"].year >= 2024

    seen = []
    markers = {}
    pages = 0
    while True:
        page = s3.list_multipart_uploads(Bucket=mp_bucket, MaxUploads=4, **markers)
        pages += 1
        assert page["MaxUploads"] == 4
        assert len(page.get("Uploads", [])) == (4 if page["IsTruncated"] else 2)
        seen += listed(page)
        if not page["IsTruncated"]:
            break
        assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == seen[-1]
        markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
    assert pages == 8
    assert seen == expected

    paginated = [
        item
        for page in s3.get_paginator("list_multipart_uploads").paginate(
            Bucket=mp_bucket, PaginationConfig={"PageSize": 3}
        )
        for item in listed(page)
    ]
    assert paginated == expected


def test_list_uploads_same_key_and_markers(s3, mp_bucket):
    first = start_upload(s3, mp_bucket, "same")
    second = start_upload(s3, mp_bucket, "same")
    other = start_upload(s3, mp_bucket, "samf")
    low, high = sorted([first, second])
    assert listed(s3.list_multipart_uploads(Bucket=mp_bucket)) == [("same", low), ("same", high), ("samf", other)]
    # key-marker alone: keys after it.
    assert listed(s3.list_multipart_uploads(Bucket=mp_bucket, KeyMarker="same")) == [("samf", other)]
    # key-marker + upload-id-marker: that key's uploads with a greater id, then later keys.
    after_low = s3.list_multipart_uploads(Bucket=mp_bucket, KeyMarker="same", UploadIdMarker=low)
    assert listed(after_low) == [("same", high), ("samf", other)]
    assert after_low["KeyMarker"] == "same" and after_low["UploadIdMarker"] == low
    # upload-id-marker without key-marker is ignored.
    assert len(listed(s3.list_multipart_uploads(Bucket=mp_bucket, UploadIdMarker=high))) == 3
    # A marker upload that completed or was aborted still names a position.
    s3.abort_multipart_upload(Bucket=mp_bucket, Key="same", UploadId=low)
    assert listed(s3.list_multipart_uploads(Bucket=mp_bucket, KeyMarker="same", UploadIdMarker=low)) == [
        ("same", high),
        ("samf", other),
    ]


def test_list_uploads_prefix_and_delimiter(s3, mp_bucket):
    expected = make_uploads(s3, mp_bucket)

    prefixed = s3.list_multipart_uploads(Bucket=mp_bucket, Prefix="dir1/")
    assert listed(prefixed) == [u for u in expected if u[0].startswith("dir1/")]
    assert prefixed["Prefix"] == "dir1/"

    top = s3.list_multipart_uploads(Bucket=mp_bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir0/", "dir1/", "dir2/", "zz/"]
    assert listed(top) == [u for u in expected if "/" not in u[0]]
    assert top["Delimiter"] == "/"

    nested = s3.list_multipart_uploads(Bucket=mp_bucket, Prefix="zz/", Delimiter="/")
    assert [p["Prefix"] for p in nested["CommonPrefixes"]] == ["zz/deep/"]
    assert listed(nested) == []

    # Pages of 2 with a delimiter: prefixes and uploads each count once, nothing repeats.
    items = []
    for page in s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=mp_bucket, Delimiter="/", PaginationConfig={"PageSize": 2}
    ):
        items += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        items += [u[0] for u in listed(page)]
    assert sorted(items) == sorted(["dir0/", "dir1/", "dir2/", "zz/", "a b+c", "top-a", "top-a", "top-b"])
    assert len(items) == 8


def test_list_uploads_limits_and_errors(s3, mp_bucket):
    make_uploads(s3, mp_bucket)
    zero = s3.list_multipart_uploads(Bucket=mp_bucket, MaxUploads=0)
    assert listed(zero) == [] and zero["IsTruncated"] is True
    capped = s3.list_multipart_uploads(Bucket=mp_bucket, MaxUploads=5000)
    assert capped["MaxUploads"] == 1000 and len(listed(capped)) == 30
    expect_error(lambda: s3.list_multipart_uploads(Bucket=mp_bucket, MaxUploads=-1), 400, "InvalidArgument")
    expect_error(lambda: s3.list_multipart_uploads(Bucket=mp_bucket + "-missing"), 404, "NoSuchBucket")


def test_list_uploads_encoding_type_url(s3, mp_bucket):
    upload_id = start_upload(s3, mp_bucket, "a b+c&d")
    page = s3.list_multipart_uploads(Bucket=mp_bucket, EncodingType="url", KeyMarker="a +")
    # botocore decodes url-encoded keys of object listings only; here they arrive encoded.
    assert listed(page) == [("a%20b%2Bc%26d", upload_id)]
    assert page["KeyMarker"] == "a%20%2B" and page["EncodingType"] == "url"
    assert unquote(page["Uploads"][0]["Key"]) == "a b+c&d"


def test_list_uploads_after_complete_and_abort(s3, mp_bucket):
    done = start_upload(s3, mp_bucket, "done")
    etag = s3.upload_part(Bucket=mp_bucket, Key="done", UploadId=done, PartNumber=1, Body=b"x")["ETag"]
    gone = start_upload(s3, mp_bucket, "gone")
    kept = start_upload(s3, mp_bucket, "kept")
    s3.complete_multipart_upload(
        Bucket=mp_bucket, Key="done", UploadId=done, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )
    s3.abort_multipart_upload(Bucket=mp_bucket, Key="gone", UploadId=gone)
    assert listed(s3.list_multipart_uploads(Bucket=mp_bucket)) == [("kept", kept)]


def test_aws_cli_list_multipart_uploads(aws, s3, mp_bucket):
    uploads = sorted(
        [(key, start_upload(s3, mp_bucket, key)) for key in ("cli/one", "cli/two", "three")],
        key=lambda u: (u[0].encode(), u[1]),
    )
    result = aws("s3api", "list-multipart-uploads", "--bucket", mp_bucket, "--output", "json")
    body = json.loads(result.stdout)
    assert [(u["Key"], u["UploadId"]) for u in body["Uploads"]] == uploads

"""Multipart uploads: boto3's transfer manager and the low-level operations."""

import pytest
from boto3.s3.transfer import TransferConfig

from s3util import (
    MiB,
    expect_error,
    file_sha256,
    md5_hex,
    multipart_etag,
    payload,
    quoted,
    write_random_file,
)

PART = 5 * MiB


def start_upload(s3, bucket: str, key: str, **kwargs) -> str:
    return s3.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)["UploadId"]


def upload_parts(s3, bucket: str, key: str, upload_id: str, bodies: dict[int, bytes]) -> dict[int, str]:
    """Upload {part number: body}; return {part number: ETag as returned}."""
    etags = {}
    for number, body in bodies.items():
        resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        assert resp["ETag"] == quoted(md5_hex(body))
        etags[number] = resp["ETag"]
    return etags


def complete(s3, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]):
    return s3.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]},
    )


def test_transfer_manager_round_trip(s3, bucket, tmp_path):
    source, copy = tmp_path / "source.bin", tmp_path / "copy.bin"
    digest = write_random_file(source, 23 * MiB)
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4)

    s3.upload_file(str(source), bucket, "big/object.bin", Config=config)

    data = source.read_bytes()
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    head = s3.head_object(Bucket=bucket, Key="big/object.bin")
    assert head["ContentLength"] == 23 * MiB
    assert head["ETag"] == quoted(multipart_etag(parts))
    assert head["ETag"].endswith('-5"')

    s3.download_file(bucket, "big/object.bin", str(copy), Config=config)
    assert file_sha256(copy) == digest


@pytest.mark.parametrize("quote_etags", [True, False], ids=["quoted-etags", "unquoted-etags"])
def test_low_level_upload(s3, bucket, quote_etags):
    bodies = {1: payload(PART), 2: payload(PART), 3: payload(1234)}
    upload_id = start_upload(s3, bucket, "mp", ContentType="application/x-test", Metadata={"origin": "mp"})
    etags = upload_parts(s3, bucket, "mp", upload_id, bodies)
    listed = [(n, e if quote_etags else e.strip('"')) for n, e in sorted(etags.items())]

    resp = complete(s3, bucket, "mp", upload_id, listed)

    expected = quoted(multipart_etag(list(bodies.values())))
    assert resp["ETag"] == expected
    assert resp["Key"] == "mp" and resp["Bucket"] == bucket
    head = s3.head_object(Bucket=bucket, Key="mp")
    assert head["ETag"] == expected
    assert head["ContentLength"] == 2 * PART + 1234
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"origin": "mp"}
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"".join(bodies.values())


def test_single_part_upload(s3, bucket):
    body = payload(10)
    upload_id = start_upload(s3, bucket, "one")
    etags = upload_parts(s3, bucket, "one", upload_id, {1: body})
    assert complete(s3, bucket, "one", upload_id, [(1, etags[1])])["ETag"] == quoted(multipart_etag([body]))
    assert s3.get_object(Bucket=bucket, Key="one")["Body"].read() == body


def test_non_contiguous_part_numbers(s3, bucket):
    bodies = {2: payload(PART), 7: payload(PART), 10000: payload(17)}
    upload_id = start_upload(s3, bucket, "gaps")
    etags = upload_parts(s3, bucket, "gaps", upload_id, bodies)
    complete(s3, bucket, "gaps", upload_id, sorted(etags.items()))
    assert s3.get_object(Bucket=bucket, Key="gaps")["Body"].read() == b"".join(bodies.values())


def test_reuploaded_part_replaces_previous(s3, bucket):
    first, second, last = payload(PART), payload(PART), payload(5)
    upload_id = start_upload(s3, bucket, "redo")
    upload_parts(s3, bucket, "redo", upload_id, {1: first})
    etags = upload_parts(s3, bucket, "redo", upload_id, {1: second, 2: last})
    complete(s3, bucket, "redo", upload_id, sorted(etags.items()))
    assert s3.get_object(Bucket=bucket, Key="redo")["Body"].read() == second + last


def test_only_listed_parts_are_assembled(s3, bucket):
    bodies = {1: payload(PART), 2: payload(PART), 3: payload(9)}
    upload_id = start_upload(s3, bucket, "subset")
    etags = upload_parts(s3, bucket, "subset", upload_id, bodies)
    complete(s3, bucket, "subset", upload_id, [(1, etags[1]), (3, etags[3])])
    assert s3.get_object(Bucket=bucket, Key="subset")["Body"].read() == bodies[1] + bodies[3]


def test_object_invisible_until_complete(s3, bucket):
    upload_id = start_upload(s3, bucket, "pending")
    etags = upload_parts(s3, bucket, "pending", upload_id, {1: payload(100)})
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="pending")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    complete(s3, bucket, "pending", upload_id, [(1, etags[1])])
    assert s3.head_object(Bucket=bucket, Key="pending")["ContentLength"] == 100


def test_complete_replaces_existing_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="over", Body=b"old")
    new = payload(300)
    upload_id = start_upload(s3, bucket, "over")
    etags = upload_parts(s3, bucket, "over", upload_id, {1: new})
    complete(s3, bucket, "over", upload_id, [(1, etags[1])])
    assert s3.get_object(Bucket=bucket, Key="over")["Body"].read() == new


def test_parts_out_of_order(s3, bucket):
    upload_id = start_upload(s3, bucket, "order")
    etags = upload_parts(s3, bucket, "order", upload_id, {1: payload(PART), 2: payload(PART)})
    expect_error(
        complete, 400, "InvalidPartOrder", s3=s3, bucket=bucket, key="order", upload_id=upload_id,
        parts=[(2, etags[2]), (1, etags[1])],
    )  # fmt: skip


def test_duplicate_part_in_complete(s3, bucket):
    upload_id = start_upload(s3, bucket, "dup")
    etags = upload_parts(s3, bucket, "dup", upload_id, {1: payload(PART), 2: payload(10)})
    expect_error(
        complete, 400, "InvalidPartOrder", s3=s3, bucket=bucket, key="dup", upload_id=upload_id,
        parts=[(1, etags[1]), (1, etags[1]), (2, etags[2])],
    )  # fmt: skip


def test_non_last_part_too_small(s3, bucket):
    upload_id = start_upload(s3, bucket, "small")
    etags = upload_parts(s3, bucket, "small", upload_id, {1: payload(PART - 1), 2: payload(PART)})
    expect_error(
        complete, 400, "EntityTooSmall", s3=s3, bucket=bucket, key="small", upload_id=upload_id,
        parts=sorted(etags.items()),
    )  # fmt: skip
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="small")


@pytest.mark.parametrize("mutation", ["wrong-etag", "missing-part"])
def test_invalid_part(s3, bucket, mutation):
    upload_id = start_upload(s3, bucket, "bad")
    etags = upload_parts(s3, bucket, "bad", upload_id, {1: payload(PART), 2: payload(10)})
    parts = sorted(etags.items())
    if mutation == "wrong-etag":
        parts[1] = (2, quoted(md5_hex(b"something else")))
    else:
        parts.append((3, etags[2]))
    expect_error(complete, 400, "InvalidPart", s3=s3, bucket=bucket, key="bad", upload_id=upload_id, parts=parts)
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="bad")


def test_abort_then_operations_fail(s3, bucket):
    upload_id = start_upload(s3, bucket, "aborted")
    etags = upload_parts(s3, bucket, "aborted", upload_id, {1: payload(100)})
    resp = s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=upload_id)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204

    expect_error(
        s3.upload_part, 404, "NoSuchUpload", Bucket=bucket, Key="aborted", UploadId=upload_id, PartNumber=2, Body=b"x"
    )
    expect_error(
        complete, 404, "NoSuchUpload", s3=s3, bucket=bucket, key="aborted", upload_id=upload_id,
        parts=[(1, etags[1])],
    )  # fmt: skip
    expect_error(s3.abort_multipart_upload, 404, "NoSuchUpload", Bucket=bucket, Key="aborted", UploadId=upload_id)
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="aborted")


def test_unknown_upload_id(s3, bucket):
    expect_error(
        s3.upload_part, 404, "NoSuchUpload", Bucket=bucket, Key="k", UploadId="no-such-upload", PartNumber=1, Body=b"x"
    )


def test_upload_id_is_bound_to_its_key(s3, bucket):
    upload_id = start_upload(s3, bucket, "right-key")
    expect_error(
        s3.upload_part, 404, "NoSuchUpload", Bucket=bucket, Key="wrong-key", UploadId=upload_id, PartNumber=1, Body=b"x"
    )
    s3.abort_multipart_upload(Bucket=bucket, Key="right-key", UploadId=upload_id)


@pytest.mark.parametrize("part_number", [0, 10001])
def test_part_number_out_of_range(s3, bucket, part_number):
    upload_id = start_upload(s3, bucket, "range")
    expect_error(
        s3.upload_part, 400, "InvalidArgument", Bucket=bucket, Key="range", UploadId=upload_id,
        PartNumber=part_number, Body=b"x",
    )  # fmt: skip
    s3.abort_multipart_upload(Bucket=bucket, Key="range", UploadId=upload_id)


def test_complete_with_no_parts(s3, bucket):
    upload_id = start_upload(s3, bucket, "empty")
    expect_error(
        s3.complete_multipart_upload, 400, "MalformedXML", Bucket=bucket, Key="empty", UploadId=upload_id,
        MultipartUpload={"Parts": []},
    )  # fmt: skip
    s3.abort_multipart_upload(Bucket=bucket, Key="empty", UploadId=upload_id)


def test_create_upload_on_missing_bucket(s3):
    expect_error(s3.create_multipart_upload, 404, "NoSuchBucket", Bucket="no-such-bucket-mp-test", Key="k")

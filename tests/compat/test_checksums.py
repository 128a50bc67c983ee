"""Additional checksums beyond PutObject: multipart uploads with COMPOSITE and FULL_OBJECT
checksums for every algorithm, per-part checksums in UploadPart, CompleteMultipartUpload and
ListParts, checksums on GET/HEAD with `x-amz-checksum-mode: ENABLED`, `ChecksumAlgorithm` in
listings, and their survival across a restart (S3-CLIENTS.md §4; AWS user guide "Checking
object integrity")."""

import pytest

from harness import make_client
from s3util import (
    CRC32C_TABLE, CRC64NVME_TABLE, MiB, b64, digest, expect_error, parse_error, payload, raw_request, reflected_crc,
)  # fmt: skip


def test_reference_checksums():
    assert reflected_crc(b"123456789", CRC32C_TABLE, 32) == 0xE3069283
    assert reflected_crc(b"123456789", CRC64NVME_TABLE, 64) == 0xAE8B14860A799888


def composite(algorithm: str, parts: list[bytes]) -> str:
    raw = b"".join(digest(algorithm, part) for part in parts)
    return f"{b64(algorithm, raw)}-{len(parts)}"


def checksum_args(algorithm: str, data: bytes) -> dict:
    """boto3 computes CRC32 and SHA themselves (SHA512 as a trailer on an aws-chunked body);
    the others we pass in."""
    if algorithm in ("CRC32", "SHA1", "SHA256", "SHA512"):
        return {"ChecksumAlgorithm": algorithm}
    return {f"Checksum{algorithm}": b64(algorithm, data)}


PARTS = [payload(5 * MiB), b"the last part, short"]


def upload_parts(s3, bucket, key, algorithm, checksum_type=None, parts=PARTS):
    create = {"ChecksumAlgorithm": algorithm}
    if checksum_type:
        create["ChecksumType"] = checksum_type
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)
    upload_id = upload["UploadId"]
    listed = []
    for number, part in enumerate(parts, 1):
        answer = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=part,
            **checksum_args(algorithm, part),
        )  # fmt: skip
        assert answer[f"Checksum{algorithm}"] == b64(algorithm, part)
        listed.append({"PartNumber": number, "ETag": answer["ETag"], f"Checksum{algorithm}": b64(algorithm, part)})
    return upload, listed


# S3's algorithms: the first five, and those added in 2025.
ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5", "XXHASH64", "XXHASH3", "XXHASH128"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_object_checksum_on_head_get_and_list(s3, bucket, algorithm):
    body = b"hello world"
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, **checksum_args(algorithm, body))
    assert put[f"Checksum{algorithm}"] == b64(algorithm, body)
    assert put["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == b64(algorithm, body)
    assert head["ChecksumType"] == "FULL_OBJECT"
    plain = s3.head_object(Bucket=bucket, Key="k")
    assert f"Checksum{algorithm}" not in plain and "ChecksumType" not in plain
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert listed["ChecksumAlgorithm"] == [algorithm]


@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a != "CRC64NVME"])
def test_composite_multipart(s3, bucket, algorithm):
    upload, listed = upload_parts(s3, bucket, "mp", algorithm)
    assert upload["ChecksumAlgorithm"] == algorithm
    assert upload["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "COMPOSITE"
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload["UploadId"])["Parts"]
    assert [p[f"Checksum{algorithm}"] for p in parts] == [b64(algorithm, p) for p in PARTS]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": listed}
    )
    expected = composite(algorithm, PARTS)
    assert done[f"Checksum{algorithm}"] == expected
    assert done["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert (head[f"Checksum{algorithm}"], head["ChecksumType"]) == (expected, "COMPOSITE")
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["ChecksumAlgorithm"] == [algorithm]


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_multipart(s3, bucket, algorithm):
    checksum_type = None if algorithm == "CRC64NVME" else "FULL_OBJECT"
    upload, listed = upload_parts(s3, bucket, "mp", algorithm, checksum_type)
    assert upload["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": listed}
    )
    expected = b64(algorithm, b"".join(PARTS))
    assert (done[f"Checksum{algorithm}"], done["ChecksumType"]) == (expected, "FULL_OBJECT")
    got = s3.get_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert (got[f"Checksum{algorithm}"], got["ChecksumType"]) == (expected, "FULL_OBJECT")
    assert got["Body"].read() == b"".join(PARTS)


@pytest.mark.parametrize(
    "algorithm, checksum_type",
    [("CRC64NVME", "COMPOSITE")] + [(a, "FULL_OBJECT") for a in ALGORITHMS if not a.startswith("CRC")],
)
def test_unsupported_checksum_types(s3, bucket, algorithm, checksum_type):
    expect_error(s3.create_multipart_upload, 400, "InvalidRequest", Bucket=bucket, Key="k",
                 ChecksumAlgorithm=algorithm, ChecksumType=checksum_type)  # fmt: skip


def test_raw_create_upload_header_errors(server, bucket):
    for headers in [
        {"x-amz-checksum-algorithm": "BLAKE3"},
        {"x-amz-checksum-type": "COMPOSITE"},
        {"x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-type": "BOTH"},
    ]:
        response = raw_request(server, "POST", f"/{bucket}/k", query={"uploads": ""}, headers=headers)
        assert (response.status, parse_error(response.body)["Code"]) == (400, "InvalidRequest"), headers


def test_complete_with_wrong_part_checksum(s3, bucket):
    upload, listed = upload_parts(s3, bucket, "mp", "CRC32")
    listed[1]["ChecksumCRC32"] = b64("CRC32", b"something else")
    expect_error(s3.complete_multipart_upload, 400, "InvalidPart", Bucket=bucket, Key="mp",
                 UploadId=upload["UploadId"], MultipartUpload={"Parts": listed})  # fmt: skip
    # The upload is still there and completes with the right values.
    listed[1]["ChecksumCRC32"] = b64("CRC32", PARTS[1])
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": listed})


def test_part_with_another_algorithm(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
    expect_error(s3.upload_part, 400, "InvalidRequest", Bucket=bucket, Key="mp", UploadId=upload,
                 PartNumber=1, Body=b"x", ChecksumAlgorithm="CRC32")  # fmt: skip
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)


def test_raw_composite_complete_needs_part_checksums(server, s3, bucket):
    upload, listed = upload_parts(s3, bucket, "mp", "CRC32", parts=[b"only part"])
    body = (
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
        f"<ETag>{listed[0]['ETag']}</ETag></Part></CompleteMultipartUpload>"
    ).encode()
    response = raw_request(server, "POST", f"/{bucket}/mp", query={"uploadId": upload["UploadId"]}, body=body)
    assert (response.status, parse_error(response.body)["Code"]) == (400, "InvalidRequest")


def test_upload_without_algorithm_keeps_part_checksums_but_no_object_checksum(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x", ChecksumAlgorithm="CRC32")
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)["Parts"][0]["ChecksumCRC32"] == b64("CRC32", b"x")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )  # fmt: skip
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert "ChecksumCRC32" not in head


@pytest.mark.binary
def test_checksums_survive_restart(server_factory):
    server = server_factory.create()
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="sums")
    s3.put_object(Bucket="sums", Key="single", Body=b"abc", ChecksumAlgorithm="SHA256")
    upload, listed = upload_parts(s3, "sums", "multi", "CRC32C", "FULL_OBJECT")
    s3.complete_multipart_upload(Bucket="sums", Key="multi", UploadId=upload["UploadId"], MultipartUpload={"Parts": listed})
    pending, _ = upload_parts(s3, "sums", "pending", "SHA1", parts=[b"p1"])
    assert server.stop() == 0
    server.start()
    s3 = make_client(server.endpoint)
    head = s3.head_object(Bucket="sums", Key="single", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == b64("SHA256", b"abc")
    head = s3.head_object(Bucket="sums", Key="multi", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32C"], head["ChecksumType"]) == (b64("CRC32C", b"".join(PARTS)), "FULL_OBJECT")
    parts = s3.list_parts(Bucket="sums", Key="pending", UploadId=pending["UploadId"])["Parts"]
    assert parts[0]["ChecksumSHA1"] == b64("SHA1", b"p1")
    # The pending upload still knows its algorithm: a part of another one is refused.
    expect_error(s3.upload_part, 400, "InvalidRequest", Bucket="sums", Key="pending",
                 UploadId=pending["UploadId"], PartNumber=2, Body=b"x", ChecksumAlgorithm="CRC32")  # fmt: skip

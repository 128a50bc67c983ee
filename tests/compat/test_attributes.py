"""GetObjectAttributes (`?attributes`): ETag, Checksum, ObjectParts (paged by
`x-amz-max-parts` / `x-amz-part-number-marker`), StorageClass and ObjectSize, and its errors."""

import base64
import hashlib
import zlib

from s3util import MiB, expect_error, md5_hex, multipart_etag, parse_error, payload, raw_request, xml_texts

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_single_part_object(s3, bucket):
    body = b"attributes"
    s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="SHA256")
    got = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=ALL)
    assert got["ETag"] == md5_hex(body)  # unquoted, as S3 answers here
    assert got["ObjectSize"] == len(body)
    assert got["StorageClass"] == "STANDARD"
    assert got["Checksum"] == {"ChecksumSHA256": sha256_b64(body), "ChecksumType": "FULL_OBJECT"}
    assert "ObjectParts" not in got
    assert got["LastModified"] == s3.head_object(Bucket=bucket, Key="k")["LastModified"]


def test_only_the_asked_attributes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    got = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert got["ObjectSize"] == 3
    for absent in ["ETag", "Checksum", "StorageClass", "ObjectParts"]:
        assert absent not in got


def test_object_without_checksum_has_no_checksum_attribute(server, bucket):
    # A raw PUT with no checksum header: nothing to report.
    raw_request(server, "PUT", f"/{bucket}/plain", body=b"plain")
    response = raw_request(server, "GET", f"/{bucket}/plain", query={"attributes": ""},
                           headers={"x-amz-object-attributes": "ETag,Checksum"})  # fmt: skip
    assert response.status == 200
    assert xml_texts(response.body, "ETag") == [md5_hex(b"plain")]
    assert xml_texts(response.body, "Checksum") == []


def test_multipart_object_parts_paged(s3, bucket):
    parts = [payload(5 * MiB), payload(5 * MiB + 1), b"tail"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32")["UploadId"]
    listed = []
    for number, part in enumerate(parts, 1):
        answer = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=part,
                                ChecksumAlgorithm="CRC32")  # fmt: skip
        listed.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC32": answer["ChecksumCRC32"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": listed})
    crc = lambda data: base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()  # noqa: E731
    got = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL)
    assert got["ETag"] == multipart_etag(parts)
    assert got["ObjectSize"] == sum(map(len, parts))
    assert got["Checksum"] == {"ChecksumCRC32": done["ChecksumCRC32"], "ChecksumType": "COMPOSITE"}
    object_parts = got["ObjectParts"]
    assert object_parts["TotalPartsCount"] == 3
    assert object_parts["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"], p["ChecksumCRC32"]) for p in object_parts["Parts"]] == [
        (n, len(p), crc(p)) for n, p in enumerate(parts, 1)
    ]
    page = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=1,
                                    PartNumberMarker=1)["ObjectParts"]  # fmt: skip
    assert [p["PartNumber"] for p in page["Parts"]] == [2]
    assert page["IsTruncated"] is True
    assert page["NextPartNumberMarker"] == 2
    assert page["MaxParts"] == 1


def test_multipart_without_checksums_lists_no_parts(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})  # fmt: skip
    got = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts", "Checksum"])
    assert got["ObjectParts"]["TotalPartsCount"] == 1
    assert "Parts" not in got["ObjectParts"]
    assert "Checksum" not in got


def test_errors(server, s3, bucket):
    expect_error(s3.get_object_attributes, 404, "NoSuchKey", Bucket=bucket, Key="nope", ObjectAttributes=ALL)
    expect_error(s3.get_object_attributes, 404, "NoSuchBucket", Bucket=bucket + "-missing", Key="k",
                 ObjectAttributes=ALL)  # fmt: skip
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for headers in [{}, {"x-amz-object-attributes": "ETag,Colour"}, {"x-amz-object-attributes": ""}]:
        response = raw_request(server, "GET", f"/{bucket}/k", query={"attributes": ""}, headers=headers)
        assert (response.status, parse_error(response.body)["Code"]) == (400, "InvalidArgument"), headers
    response = raw_request(server, "GET", f"/{bucket}/k", query={"attributes": ""},
                           headers={"x-amz-object-attributes": "ETag", "x-amz-max-parts": "-1"})  # fmt: skip
    assert (response.status, parse_error(response.body)["Code"]) == (400, "InvalidArgument")

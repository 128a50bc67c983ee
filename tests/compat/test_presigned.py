"""Presigned URLs for every method, signed with SigV4 and with SigV2 (boto3's default)."""

import time

import pytest

from harness import make_client
from s3util import http_call, xml_texts


@pytest.fixture(params=["s3v4", "s3"], ids=["sigv4", "sigv2"])
def presigner(request, server):
    return make_client(server, signature_version=request.param)


def test_get_head_put_delete(presigner, s3, bucket):
    put_url = presigner.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "a/b c"})
    assert http_call("PUT", put_url, body=b"via presigned PUT").status == 200
    get_url = presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a/b c"})
    resp = http_call("GET", get_url)
    assert (resp.status, resp.body) == (200, b"via presigned PUT")
    head_url = presigner.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "a/b c"})
    resp = http_call("HEAD", head_url)
    assert (resp.status, resp.header("content-length")) == (200, "17")
    # A URL signed for GET does not authorize another method.
    assert http_call("DELETE", get_url).status == 403
    delete_url = presigner.generate_presigned_url("delete_object",
                                                  Params={"Bucket": bucket, "Key": "a/b c"})
    assert http_call("DELETE", delete_url).status == 204
    assert http_call("GET", get_url).status == 404


def test_list_and_multipart(presigner, s3, bucket):
    s3.put_object(Bucket=bucket, Key="listed", Body=b"x")
    list_url = presigner.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket})
    resp = http_call("GET", list_url)
    assert resp.status == 200
    assert xml_texts(resp.body, "Contents/Key") == ["listed"]
    list_v1 = presigner.generate_presigned_url("list_objects", Params={"Bucket": bucket})
    assert http_call("GET", list_v1).status == 200
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part_url = presigner.generate_presigned_url(
        "upload_part", Params={"Bucket": bucket, "Key": "mp", "UploadId": upload, "PartNumber": 1})
    resp = http_call("PUT", part_url, body=b"part one")
    assert resp.status == 200
    etag = resp.header("etag")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"part one"


def test_expired_and_tampered(presigner, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    expired = presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"},
                                               ExpiresIn=1)
    time.sleep(2.1)
    resp = http_call("GET", expired)
    assert (resp.status, resp.error_code()) == (403, "AccessDenied")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    s3.put_object(Bucket=bucket, Key="j", Body=b"secret")
    resp = http_call("GET", url.replace(f"/{bucket}/k?", f"/{bucket}/j?"))
    assert (resp.status, resp.error_code()) == (403, "SignatureDoesNotMatch")

"""Security issue 14, finding 2: a signature authorizes only what it covers.

An `x-amz-*` header that the signature does not cover can change what a request does
(`x-amz-copy-source` turns a presigned PUT into a copy of another object), so SigV4 requests
carrying one are refused with AWS's AccessDenied "There were headers present in the request
which were not signed", in presigned and header auth alike. SigV2 signs only a fixed list of
sub-resources: a request whose operation is chosen by another query parameter is refused, and
a SigV2 presigned URL cannot live longer than 7 days.
"""

import pytest
from botocore.exceptions import ClientError

from harness import make_client
from s3util import RawConnection, http_call, object_path, parse_error, raw_request, sign_headers

UNSIGNED_MESSAGE = "There were headers present in the request which were not signed"


@pytest.fixture
def presigner_v4(server):
    return make_client(server, signature_version="s3v4")


@pytest.fixture
def presigner_v2(server):
    return make_client(server, signature_version="s3")


def assert_unsigned_refused(resp, names: str):
    assert resp.status == 403, resp.body
    error = parse_error(resp.body)
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == UNSIGNED_MESSAGE
    assert error["HeadersNotSigned"] == names


def assert_missing(s3, bucket, key):
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key=key)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_presigned_put_cannot_become_a_copy(presigner_v4, s3, bucket):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"not for the URL holder")
    url = presigner_v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "drop"})
    resp = http_call("PUT", url, headers={"x-amz-copy-source": f"/{bucket}/secret"})
    assert_unsigned_refused(resp, "x-amz-copy-source")
    assert_missing(s3, bucket, "drop")
    # The same URL without the added header still works.
    assert http_call("PUT", url, body=b"mine").status == 200


def test_presigned_upload_part_cannot_become_a_part_copy(presigner_v4, s3, bucket):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s" * 1024)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    url = presigner_v4.generate_presigned_url(
        "upload_part", Params={"Bucket": bucket, "Key": "mp", "UploadId": upload_id, "PartNumber": 1})
    resp = http_call("PUT", url, headers={"x-amz-copy-source": f"/{bucket}/secret"})
    assert_unsigned_refused(resp, "x-amz-copy-source")
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id).get("Parts", []) == []


@pytest.mark.parametrize("extra,names", [
    ({"x-amz-tagging": "owner=attacker"}, "x-amz-tagging"),
    ({"x-amz-meta-injected": "1", "X-Amz-Storage-Class": "STANDARD"},
     "x-amz-meta-injected,x-amz-storage-class"),
    ({"x-amz-server-side-encryption": "AES256"}, "x-amz-server-side-encryption"),
])
def test_presigned_put_refuses_added_amz_headers(presigner_v4, s3, bucket, extra, names):
    url = presigner_v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"})
    resp = http_call("PUT", url, body=b"x", headers=extra)
    assert_unsigned_refused(resp, names)
    assert_missing(s3, bucket, "k")


def test_presigned_url_may_carry_an_unsigned_content_sha256(presigner_v4, s3, bucket):
    # AWS accepts x-amz-content-sha256 unsigned; its value is in the canonical request anyway.
    url = presigner_v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"})
    resp = http_call("PUT", url, body=b"payload", headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert resp.status == 200, resp.body
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"payload"


def test_header_auth_refuses_an_unsigned_copy_source(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    target, headers = sign_headers(server, "PUT", object_path(bucket, "dest"))
    headers["x-amz-copy-source"] = f"/{bucket}/secret"
    headers["Content-Length"] = "0"
    with RawConnection(server) as conn:
        conn.send_request("PUT", target, headers, b"")
        resp = conn.read_response()
    assert_unsigned_refused(resp, "x-amz-copy-source")
    assert_missing(s3, bucket, "dest")


def test_header_auth_with_every_amz_header_signed_works(server, s3, bucket):
    resp = raw_request(server, "PUT", object_path(bucket, "signed"), body=b"abc",
                       headers={"x-amz-meta-color": "blue", "x-amz-tagging": "a=b"})
    assert resp.status == 200, resp.body
    head = s3.head_object(Bucket=bucket, Key="signed")
    assert head["Metadata"] == {"color": "blue"}


def test_sigv2_refuses_an_operation_chosen_by_an_unsigned_parameter(presigner_v2, s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    url = presigner_v2.generate_presigned_url("delete_bucket", Params={"Bucket": bucket})
    # `encryption` is not among SigV2's signed sub-resources: the signer asked for
    # DeleteBucket, not DeleteBucketEncryption.
    resp = http_call("DELETE", url + "&encryption")
    assert resp.status == 403, resp.body
    assert parse_error(resp.body)["Code"] == "AccessDenied"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_sigv2_signed_subresources_still_work(presigner_v2, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    url = presigner_v2.generate_presigned_url("get_object_tagging", Params={"Bucket": bucket, "Key": "k"})
    resp = http_call("GET", url)
    assert resp.status == 200, resp.body
    # list-type=2 picks the v2 listing, the same action with the same rights: allowed.
    url = presigner_v2.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket})
    assert http_call("GET", url).status == 200


def test_sigv2_presigned_expiry_is_capped_at_seven_days(presigner_v2, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    week = 7 * 24 * 3600
    too_long = presigner_v2.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=week + 3600)
    resp = http_call("GET", too_long)
    assert resp.status == 400, resp.body
    assert parse_error(resp.body)["Code"] == "AuthorizationQueryParametersError"
    within = presigner_v2.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=week - 60)
    assert http_call("GET", within).status == 200

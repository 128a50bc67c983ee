"""SigV2 (HmacV1) header and query authentication, driven by boto3 with
signature_version='s3' (botocore's HmacV1Auth / HmacV1QueryAuth) and by raw requests."""

import base64
import hashlib
import hmac
import time
from email.utils import formatdate

from harness import make_client
from s3util import RawConnection, expect_error, http_call, md5_b64, payload


def sigv2_client(ep, **kwargs):
    return make_client(ep, signature_version="s3", **kwargs)


def test_object_round_trip_with_sigv2(server, bucket):
    s3 = sigv2_client(server)
    body = payload(100_000)
    put = s3.put_object(Bucket=bucket, Key="dir/a b+c.txt", Body=body, ContentType="text/plain",
                        Metadata={"color": "blue"})
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = s3.get_object(Bucket=bucket, Key="dir/a b+c.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "blue"}
    head = s3.head_object(Bucket=bucket, Key="dir/a b+c.txt", ResponseContentType="x/y")
    assert head["ContentLength"] == len(body)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="dir/")["Contents"]]
    assert keys == ["dir/a b+c.txt"]
    s3.delete_object(Bucket=bucket, Key="dir/a b+c.txt")
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="dir/a b+c.txt")


def test_multipart_and_subresources_with_sigv2(server, bucket):
    s3 = sigv2_client(server)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"abc")
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"abc"


def test_wrong_secret_and_unknown_key_are_refused(server, bucket):
    bad = sigv2_client(server, secret_key="not-the-secret")
    expect_error(bad.list_objects, 403, "SignatureDoesNotMatch", Bucket=bucket)
    unknown = sigv2_client(server, access_key="AKIDUNKNOWNXXXXXXXXX")
    expect_error(unknown.list_objects, 403, "InvalidAccessKeyId", Bucket=bucket)


def _raw_sigv2(ep, method, path, date, extra=None, body=b"", content_md5=""):
    string_to_sign = f"{method}\n{content_md5}\n\n{date}\n{path}"
    signature = base64.b64encode(
        hmac.new(ep.secret_key.encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()
    headers = {"Host": ep.netloc, "Date": date,
               "Authorization": f"AWS {ep.access_key}:{signature}", **(extra or {})}
    if content_md5:
        headers["Content-MD5"] = content_md5
    if body or method == "PUT":
        headers["Content-Length"] = str(len(body))
    with RawConnection(ep) as conn:
        conn.send_request(method, path, headers, body)
        return conn.read_response(head_request=method == "HEAD")


def test_clock_skew_and_content_md5(server, bucket):
    now = formatdate(time.time(), usegmt=True)
    assert _raw_sigv2(server, "GET", f"/{bucket}", now).status == 200
    # The S3 guide writes dates with a numeric zone.
    numeric = formatdate(time.time(), usegmt=False, localtime=False)
    assert _raw_sigv2(server, "GET", f"/{bucket}", numeric).status == 200
    old = formatdate(time.time() - 16 * 60, usegmt=True)
    resp = _raw_sigv2(server, "GET", f"/{bucket}", old)
    assert (resp.status, resp.error_code()) == (403, "RequestTimeTooSkewed")
    # Content-MD5 is signed; a body that does not match it is BadDigest.
    resp = _raw_sigv2(server, "PUT", f"/{bucket}/md5", now, body=b"hello",
                      content_md5=md5_b64(b"other"))
    assert (resp.status, resp.error_code()) == (400, "BadDigest")
    resp = _raw_sigv2(server, "PUT", f"/{bucket}/md5", now, body=b"hello",
                      content_md5=md5_b64(b"hello"))
    assert resp.status == 200


def test_presigned_sigv2_urls(server, bucket):
    s3 = sigv2_client(server)
    s3.put_object(Bucket=bucket, Key="p", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"})
    assert "AWSAccessKeyId=" in url and "Signature=" in url
    resp = http_call("GET", url)
    assert (resp.status, resp.body) == (200, b"presigned")
    # The signature covers the method.
    assert http_call("DELETE", url).status == 403
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"},
                                        ExpiresIn=-5)
    resp = http_call("GET", expired)
    assert (resp.status, resp.error_code()) == (403, "AccessDenied")
    tampered = url.replace("Key=", "Key=").replace("/p?", "/q?")
    assert http_call("GET", tampered).status == 403

"""PostObject: browser form uploads with a POST policy (boto3 generate_presigned_post),
SigV4 and SigV2, posted as raw multipart/form-data."""

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from harness import make_client
from s3util import RawConnection, md5_hex, xml_texts


def form_body(fields: dict, file_bytes: bytes, filename: str = "upload.bin",
              file_type: str = "application/octet-stream", after: dict | None = None):
    boundary = "----maxiofs" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()
    out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {file_type}\r\n\r\n").encode()
    out += file_bytes + b"\r\n"
    for name, value in (after or {}).items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)


def post_form(ep, bucket, fields, file_bytes, content_type=None, **kwargs):
    """`content_type`: a function of the form's own Content-Type, or a fixed value."""
    ctype, body = form_body(fields, file_bytes, **kwargs)
    if callable(content_type):
        ctype = content_type(ctype)
    elif content_type is not None:
        ctype = content_type
    headers = {"Host": ep.netloc, "Content-Type": ctype,
               "Content-Length": str(len(body))}
    with RawConnection(ep) as conn:
        conn.send_request("POST", f"/{bucket}", headers, body)
        return conn.read_response()


@pytest.fixture(params=["s3v4", "s3"], ids=["sigv4", "sigv2"])
def presigner(request, server):
    return make_client(server, signature_version=request.param)


def test_upload_default_204_and_metadata(presigner, server, s3, bucket):
    post = presigner.generate_presigned_post(
        bucket, "docs/a.txt",
        Fields={"Content-Type": "text/plain", "x-amz-meta-color": "blue"},
        Conditions=[{"Content-Type": "text/plain"}, {"x-amz-meta-color": "blue"}])
    assert urlsplit(post["url"]).path == f"/{bucket}"
    resp = post_form(server, bucket, post["fields"], b"hello form")
    assert resp.status == 204, resp
    assert resp.header("etag") == f'"{md5_hex(b"hello form")}"'
    got = s3.get_object(Bucket=bucket, Key="docs/a.txt")
    assert got["Body"].read() == b"hello form"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "blue"}


def test_filename_key_status_201_and_redirect(presigner, server, s3, bucket):
    post = presigner.generate_presigned_post(
        bucket, "uploads/${filename}", Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}])
    resp = post_form(server, bucket, post["fields"], b"one", filename="photo 1.jpg")
    assert resp.status == 201, resp
    assert xml_texts(resp.body, "Key") == ["uploads/photo 1.jpg"]
    assert xml_texts(resp.body, "Bucket") == [bucket]
    assert s3.get_object(Bucket=bucket, Key="uploads/photo 1.jpg")["Body"].read() == b"one"
    redirect = "http://example.com/done?x=1"
    post = presigner.generate_presigned_post(
        bucket, "r", Fields={"success_action_redirect": redirect},
        Conditions=[{"success_action_redirect": redirect}])
    resp = post_form(server, bucket, post["fields"], b"two")
    assert resp.status == 303, resp
    location = urlsplit(resp.header("location"))
    assert location.netloc == "example.com"
    assert parse_qs(location.query) == {"x": ["1"], "bucket": [bucket], "key": ["r"],
                                        "etag": [f'"{md5_hex(b"two")}"']}
    post = presigner.generate_presigned_post(bucket, "s200", Fields={"success_action_status": "200"},
                                             Conditions=[{"success_action_status": "200"}])
    assert post_form(server, bucket, post["fields"], b"3").status == 200


def test_many_keys_reach_their_owner_shards(presigner, server, s3, bucket):
    keys = [f"k{i}" for i in range(16)]
    for key in keys:
        post = presigner.generate_presigned_post(bucket, key)
        # Fields after the file are ignored, as S3 does.
        resp = post_form(server, bucket, post["fields"], key.encode(), after={"ignored": "x"})
        assert resp.status == 204, resp
    for key in keys:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()


def test_policy_violations(presigner, server, s3, bucket):
    post = presigner.generate_presigned_post(bucket, "user/${filename}")
    fields = dict(post["fields"], key="admin/x")
    resp = post_form(server, bucket, fields, b"x")
    assert (resp.status, resp.error_code()) == (403, "AccessDenied"), resp
    # A field the policy does not name.
    fields = dict(post["fields"], **{"x-amz-meta-extra": "1"})
    resp = post_form(server, bucket, fields, b"x")
    assert (resp.status, resp.error_code()) == (403, "AccessDenied"), resp
    # A tampered policy does not verify.
    fields = dict(post["fields"], policy=post["fields"]["policy"][:-4] + "AAA=")
    resp = post_form(server, bucket, fields, b"x")
    assert resp.status in (400, 403), resp
    expired = presigner.generate_presigned_post(bucket, "late", ExpiresIn=-10)
    resp = post_form(server, bucket, expired["fields"], b"x")
    assert (resp.status, resp.error_code()) == (403, "AccessDenied"), resp
    # The bucket is part of the policy.
    resp = post_form(server, "other-" + bucket[:40], post["fields"], b"x")
    assert resp.status in (403, 404), resp
    names = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert names == []


def test_content_length_range(presigner, server, s3, bucket):
    post = presigner.generate_presigned_post(bucket, "sized",
                                             Conditions=[["content-length-range", 2, 1000]])
    resp = post_form(server, bucket, post["fields"], b"y" * 1001)
    assert (resp.status, resp.error_code()) == (400, "EntityTooLarge"), resp
    resp = post_form(server, bucket, post["fields"], b"y")
    assert (resp.status, resp.error_code()) == (400, "EntityTooSmall"), resp
    assert post_form(server, bucket, post["fields"], b"y" * 1000).status == 204
    assert s3.head_object(Bucket=bucket, Key="sized")["ContentLength"] == 1000


def test_malformed_forms(server, s3, bucket):
    post = make_client(server).generate_presigned_post(bucket, "m")
    # BAD-INPUTS Z9: only exactly multipart/form-data is a form upload.
    def evil(ctype):
        return ctype.replace("multipart/form-data", "multipart/form-data-evil")

    resp = post_form(server, bucket, post["fields"], b"x", content_type=evil)
    assert (resp.status, resp.error_code()) == (412, "PreconditionFailed"), resp

    def upper(ctype):
        return ctype.replace("multipart/form-data", "MULTIPART/FORM-DATA")

    assert post_form(server, bucket, post["fields"], b"x", content_type=upper).status == 204
    resp = post_form(server, bucket, post["fields"], b"x", content_type="multipart/form-data")
    assert (resp.status, resp.error_code()) == (400, "MalformedPOSTRequest"), resp
    fields = {k: v for k, v in post["fields"].items() if k != "key"}
    resp = post_form(server, bucket, fields, b"x")
    assert (resp.status, resp.error_code()) == (400, "InvalidArgument"), resp
    # No policy at all: anonymous, denied.
    resp = post_form(server, bucket, {"key": "anon"}, b"x")
    assert (resp.status, resp.error_code()) == (403, "AccessDenied"), resp


def test_post_to_a_versioned_bucket_names_the_version(server, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    presigner = make_client(server)
    ids = []
    for body in (b"first", b"second"):
        post = presigner.generate_presigned_post(bucket, "v.txt")
        resp = post_form(server, bucket, post["fields"], body)
        assert resp.status == 204, resp
        ids.append(resp.header("x-amz-version-id"))
    assert all(ids) and ids[0] != ids[1]
    assert s3.get_object(Bucket=bucket, Key="v.txt", VersionId=ids[0])["Body"].read() == b"first"
    assert s3.get_object(Bucket=bucket, Key="v.txt")["VersionId"] == ids[1]

"""AWS fidelity (issue 16) of uploads: multipart part races and `partNumber` reads, the
upload listings, POST (browser form) uploads and their policies, tagging and metadata limits.

Each case names where AWS documents the behaviour; "not documented" marks a case where the
answer follows what AWS is observed to send (other S3 implementations' AWS-recorded tests, or
error texts users quote from AWS), so a later AWS change is a test to revisit, not a bug."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import uuid
from email.header import decode_header, make_header
from urllib.parse import parse_qs, unquote, urlsplit

from s3util import (
    REGION, MiB, RawConnection, crc32_b64, expect_error, md5_b64, md5_hex, parse_error, payload, raw_request,
    sign_headers, signing_key, xml_texts,
)  # fmt: skip

PART = 5 * MiB


def complete(s3, bucket, key, upload, etags):
    parts = [{"PartNumber": n, "ETag": etag} for n, etag in etags]
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})


# ---------------------------------------------------------------------------
# multipart: re-uploads of one part number
# ---------------------------------------------------------------------------


def test_the_part_upload_that_completes_last_wins(server, s3, bucket):
    # AWS (UploadPart): "If you upload a new part using the same part number that was used
    # with a previous part, the previously uploaded part is overwritten." Which of two
    # overlapping uploads is "previous" is not documented; S3 keeps the one whose upload
    # finished last. Here the first to start is held open until the second has finished.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="race")["UploadId"]
    slow_body, fast_body = payload(64 * 1024), payload(64 * 1024)
    query = {"partNumber": "1", "uploadId": upload}
    target, headers = sign_headers(server, "PUT", f"/{bucket}/race", query, body=slow_body)
    headers["Content-Length"] = str(len(slow_body))
    with RawConnection(server) as slow:
        slow.send_request("PUT", target, headers, slow_body[:1000])
        fast = s3.upload_part(Bucket=bucket, Key="race", UploadId=upload, PartNumber=1, Body=fast_body)
        slow.send(slow_body[1000:])
        answer = slow.read_response()
    assert answer.status == 200, answer
    slow_etag = answer.header("etag")
    assert slow_etag != fast["ETag"]
    listed = s3.list_parts(Bucket=bucket, Key="race", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [(1, slow_etag, len(slow_body))]
    # The loser's ETag names no part any more: InvalidPart (CompleteMultipartUpload errors).
    expect_error(complete, 400, "InvalidPart", s3=s3, bucket=bucket, key="race", upload=upload,
                 etags=[(1, fast["ETag"])])  # fmt: skip
    complete(s3, bucket, "race", upload, [(1, slow_etag)])
    assert s3.get_object(Bucket=bucket, Key="race")["Body"].read() == slow_body


def test_concurrent_part_uploads_leave_exactly_one(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="many")["UploadId"]
    bodies = [payload(256 * 1024) for _ in range(6)]
    etags: dict[str, bytes] = {}

    def put(body):
        etag = s3.upload_part(Bucket=bucket, Key="many", UploadId=upload, PartNumber=1, Body=body)["ETag"]
        etags[etag] = body

    threads = [threading.Thread(target=put, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(etags) == len(bodies)
    [part] = s3.list_parts(Bucket=bucket, Key="many", UploadId=upload)["Parts"]
    winner = part["ETag"]
    for loser in set(etags) - {winner}:
        expect_error(complete, 400, "InvalidPart", s3=s3, bucket=bucket, key="many", upload=upload, etags=[(1, loser)])
    complete(s3, bucket, "many", upload, [(1, winner)])
    assert s3.get_object(Bucket=bucket, Key="many")["Body"].read() == etags[winner]


# ---------------------------------------------------------------------------
# multipart: GET and HEAD with partNumber
# ---------------------------------------------------------------------------


def test_part_number_of_a_single_part_object(server, s3, bucket):
    # GetObject/HeadObject partNumber "effectively performs a 'ranged' GET request for the
    # part specified"; PartsCount "is only returned if ... the object was uploaded as a
    # multipart upload" (API reference). That partNumber=1 of a PutObject object answers 206
    # with the whole object as its range is not documented; it is what S3 sends.
    body = b"ten bytes!"
    etag = s3.put_object(Bucket=bucket, Key="single", Body=body)["ETag"]
    got = s3.get_object(Bucket=bucket, Key="single", PartNumber=1)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == "bytes 0-9/10" and got["ContentLength"] == 10
    assert got["Body"].read() == body and got["ETag"] == etag
    assert "PartsCount" not in got
    head = s3.head_object(Bucket=bucket, Key="single", PartNumber=1)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206 and "PartsCount" not in head
    assert head["ContentLength"] == 10
    # Beyond the count: 416 InvalidPartNumber, "The requested partnumber is not satisfiable"
    # (not in the API reference's error list; the code and text S3 sends).
    answer = raw_request(server, "GET", f"/{bucket}/single", query={"partNumber": "2"})
    assert (answer.status, answer.error_code()) == (416, "InvalidPartNumber"), answer
    assert b"The requested partnumber is not satisfiable" in answer.body
    expect_error(s3.head_object, 416, "416", Bucket=bucket, Key="single", PartNumber=2)
    # Outside 1..10000 is a malformed request, not an unsatisfiable one.
    for bad in ("0", "10001", "x"):
        answer = raw_request(server, "GET", f"/{bucket}/single", query={"partNumber": bad})
        assert (answer.status, answer.error_code()) == (400, "InvalidArgument"), (bad, answer)


def test_part_number_of_a_multipart_object(server, s3, bucket):
    bodies = [payload(PART), payload(PART), payload(1234)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etags = [
        (n, s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=n, Body=b)["ETag"])
        for n, b in enumerate(bodies, 1)
    ]
    whole = complete(s3, bucket, "mp", upload, etags)["ETag"]
    size = sum(map(len, bodies))
    start = 0
    for number, body in enumerate(bodies, 1):
        got = s3.get_object(Bucket=bucket, Key="mp", PartNumber=number)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["PartsCount"] == 3 and got["ETag"] == whole
        assert got["ContentRange"] == f"bytes {start}-{start + len(body) - 1}/{size}"
        assert got["Body"].read() == body
        head = s3.head_object(Bucket=bucket, Key="mp", PartNumber=number)
        assert (head["PartsCount"], head["ContentLength"]) == (3, len(body))
        start += len(body)
    # Without partNumber there is no count (it "is only returned if you specify partNumber").
    assert "PartsCount" not in s3.head_object(Bucket=bucket, Key="mp")
    answer = raw_request(server, "GET", f"/{bucket}/mp", query={"partNumber": "4"})
    assert (answer.status, answer.error_code()) == (416, "InvalidPartNumber"), answer
    # A part and a Range together: 400 InvalidRequest with this text (not in the API
    # reference; what S3 answers).
    exc = expect_error(s3.get_object, 400, "InvalidRequest", Bucket=bucket, Key="mp", PartNumber=2, Range="bytes=1-9")
    assert exc.response["Error"]["Message"] == "Cannot specify both Range header and partNumber query parameter"
    expect_error(s3.head_object, 400, "400", Bucket=bucket, Key="mp", PartNumber=1, Range="bytes=0-0")
    # A multipart upload of one part is still a multipart object: it has a count.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="one")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="one", UploadId=upload, PartNumber=1, Body=b"abc")["ETag"]
    complete(s3, bucket, "one", upload, [(1, etag)])
    assert s3.head_object(Bucket=bucket, Key="one", PartNumber=1)["PartsCount"] == 1


# ---------------------------------------------------------------------------
# multipart: the listings
# ---------------------------------------------------------------------------


def test_list_parts_after_complete_and_after_abort(s3, bucket):
    # ListParts of an upload that was completed or aborted: 404 NoSuchUpload (the API
    # reference's error for "The specified multipart upload does not exist").
    done = s3.create_multipart_upload(Bucket=bucket, Key="done")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="done", UploadId=done, PartNumber=1, Body=b"x")["ETag"]
    complete(s3, bucket, "done", done, [(1, etag)])
    expect_error(s3.list_parts, 404, "NoSuchUpload", Bucket=bucket, Key="done", UploadId=done)
    gone = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="gone", UploadId=gone, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=gone)
    expect_error(s3.list_parts, 404, "NoSuchUpload", Bucket=bucket, Key="gone", UploadId=gone)
    expect_error(s3.upload_part, 404, "NoSuchUpload", Bucket=bucket, Key="gone", UploadId=gone, PartNumber=1, Body=b"y")


def listed_uploads(page):
    return [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]


def test_list_multipart_uploads_as_documented(s3, bucket):
    # ListMultipartUploads (API reference): sorted by key, uploads of one key by initiation
    # time; key-marker alone lists keys after it, with upload-id-marker the uploads of that
    # key "lexicographically greater than" the marker; CommonPrefixes for the delimiter;
    # NextKeyMarker / NextUploadIdMarker continue a truncated page.
    keys = ["a/1", "a/2", "b", "b", "c/x/1", "d"]
    uploads = [(key, s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]) for key in keys]
    try:
        everything = s3.list_multipart_uploads(Bucket=bucket)
        assert listed_uploads(everything) == uploads and everything["IsTruncated"] is False
        assert listed_uploads(s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")) == uploads[:2]
        top = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
        assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "c/"]
        assert listed_uploads(top) == [uploads[2], uploads[3], uploads[5]]
        after_b = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b")
        assert listed_uploads(after_b) == uploads[4:]
        b_second = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b", UploadIdMarker=uploads[2][1])
        assert listed_uploads(b_second) == uploads[3:]
        seen, marker = [], {}
        while True:
            page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, **marker)
            assert page["MaxUploads"] == 2 and len(page.get("Uploads", [])) <= 2
            seen += listed_uploads(page)
            if not page["IsTruncated"]:
                break
            marker = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
        assert seen == uploads
        encoded = s3.list_multipart_uploads(Bucket=bucket, Prefix="c/", Delimiter="/", EncodingType="url")
        assert encoded["EncodingType"] == "url" and unquote(encoded["Prefix"]) == "c/"
        assert [unquote(p["Prefix"]) for p in encoded["CommonPrefixes"]] == ["c/x/"]
    finally:
        for key, upload in uploads:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)


# ---------------------------------------------------------------------------
# tagging and metadata limits
# ---------------------------------------------------------------------------


def tag_set(pairs):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


def as_pairs(tag_list):
    return [(t["Key"], t["Value"]) for t in tag_list]


def error_message(exc) -> str:
    return exc.response["Error"]["Message"]


def test_tags_come_back_in_the_order_they_were_sent(s3, bucket):
    # Not documented (TagSet is a list in the API reference); S3 answers the order it was
    # given, and clients that compare tag sets as lists depend on it.
    pairs = [("zeta", "1"), ("alpha", "2"), ("Mid", "3"), ("beta", ""), ("_x", "4")]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(pairs))
    assert as_pairs(s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]) == pairs
    s3.put_object(Bucket=bucket, Key="h", Body=b"x", Tagging="zeta=1&alpha=2&Mid=3&beta=&_x=4")
    assert as_pairs(s3.get_object_tagging(Bucket=bucket, Key="h")["TagSet"]) == pairs
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m", Tagging="zeta=1&alpha=2&Mid=3&beta=&_x=4")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="m", UploadId=upload, PartNumber=1, Body=b"x")["ETag"]
    complete(s3, bucket, "m", upload, [(1, etag)])
    assert as_pairs(s3.get_object_tagging(Bucket=bucket, Key="m")["TagSet"]) == pairs
    bucket_pairs = [(f"k{n:02}", str(n)) for n in range(50)][::-1]
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(bucket_pairs))
    assert as_pairs(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == bucket_pairs


def test_tag_limits_answer_what_s3_answers(s3, bucket):
    # The API reference lists InvalidTag ("The tag provided was not a valid tag") for
    # PutObjectTagging and PutBucketTagging and states the limits (10 per object, 50 per
    # bucket, keys 128 and values 256 Unicode characters: user guide, "Categorizing your
    # storage using tags"). The count errors are BadRequest, not InvalidTag, with these
    # texts: not documented, quoted by users from S3 (e.g. boto3 issue 1213).
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    eleven = [(f"k{n}", "v") for n in range(11)]
    exc = expect_error(s3.put_object_tagging, 400, "BadRequest", Bucket=bucket, Key="k", Tagging=tag_set(eleven))
    assert error_message(exc) == "Object tags cannot be greater than 10"
    header = "&".join(f"{k}={v}" for k, v in eleven)
    exc = expect_error(s3.put_object, 400, "BadRequest", Bucket=bucket, Key="h", Body=b"x", Tagging=header)
    assert error_message(exc) == "Object tags cannot be greater than 10"
    exc = expect_error(s3.create_multipart_upload, 400, "BadRequest", Bucket=bucket, Key="h", Tagging=header)
    fifty_one = [(f"k{n}", "v") for n in range(51)]
    exc = expect_error(s3.put_bucket_tagging, 400, "BadRequest", Bucket=bucket, Tagging=tag_set(fifty_one))
    assert error_message(exc) == "Bucket tag count cannot be greater than 50"
    cases = [
        ([("k" * 129, "v")], "The TagKey you have provided is too long, max 128"),
        ([("k", "v" * 257)], "The TagValue you have provided is too long, max 256"),
        ([("dup", "1"), ("dup", "2")], "Cannot provide multiple Tags with the same key"),
        ([("bad#key", "v")], "The TagKey you have provided is invalid"),
        ([("k", "bad\\value")], "The TagValue you have provided is invalid"),
    ]
    for pairs, message in cases:
        for call, kwargs in [(s3.put_object_tagging, {"Key": "k"}), (s3.put_bucket_tagging, {})]:
            exc = expect_error(call, 400, "InvalidTag", Bucket=bucket, Tagging=tag_set(pairs), **kwargs)
            assert error_message(exc) == message, (pairs, call)
    # The same limits in the URL-encoded x-amz-tagging header.
    for header, message in [
        ("k" * 129 + "=v", "The TagKey you have provided is too long, max 128"),
        ("k=" + "v" * 257, "The TagValue you have provided is too long, max 256"),
        ("bad%23key=v", "The TagKey you have provided is invalid"),
    ]:
        exc = expect_error(s3.put_object, 400, "InvalidTag", Bucket=bucket, Key="h", Body=b"x", Tagging=header)
        assert error_message(exc) == message, header
    # A repeated key in the header is a malformed header (InvalidArgument), not a tag error.
    expect_error(s3.put_object, 400, "InvalidArgument", Bucket=bucket, Key="h", Body=b"x", Tagging="a=1&a=2")
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="h")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    # Exactly at every limit is accepted, with multi-byte characters counted as characters.
    at_limit = [(f"{n}" + "é" * 127, "ü" * 256) for n in range(10)]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(at_limit))
    assert as_pairs(s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]) == at_limit


def test_user_metadata_is_limited_to_2_kib(s3, bucket):
    # User guide ("Working with object metadata"): user-defined metadata is limited to 2 KB,
    # "the sum of the number of bytes in the UTF-8 encoding of each key and value". Whether
    # the x-amz-meta- prefix counts is not documented; it does not here (names as boto3
    # takes them). Over the limit: 400 MetadataTooLarge (error code list).
    fits = {"a": "x" * (2048 - 1)}
    s3.put_object(Bucket=bucket, Key="fits", Body=b"x", Metadata=fits)
    assert s3.head_object(Bucket=bucket, Key="fits")["Metadata"] == fits
    over = {"a": "x" * 2048}
    expect_error(s3.put_object, 400, "MetadataTooLarge", Bucket=bucket, Key="over", Body=b"x", Metadata=over)
    expect_error(s3.create_multipart_upload, 400, "MetadataTooLarge", Bucket=bucket, Key="over", Metadata=over)
    expect_error(
        s3.copy_object, 400, "MetadataTooLarge", Bucket=bucket, Key="over", CopySource={"Bucket": bucket, "Key": "fits"},
        Metadata=over, MetadataDirective="REPLACE",
    )
    many = {f"m{n:03}": "v" * 65 for n in range(30)}  # 30 * 69 bytes
    expect_error(s3.put_object, 400, "MetadataTooLarge", Bucket=bucket, Key="over", Body=b"x", Metadata=many)
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="over")


# ---------------------------------------------------------------------------
# POST uploads: policies
# ---------------------------------------------------------------------------


def form_body(fields: dict, file_bytes: bytes, filename: str = "upload.bin"):
    boundary = "----fidelity" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()  # fmt: skip
    out += file_bytes + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)


def post_form(ep, bucket, fields, file_bytes=b"form bytes", **kwargs):
    content_type, body = form_body(fields, file_bytes, **kwargs)
    headers = {"Host": ep.netloc, "Content-Type": content_type, "Content-Length": str(len(body))}
    with RawConnection(ep) as conn:
        conn.send_request("POST", f"/{bucket}", headers, body)
        return conn.read_response()


def signed_fields(ep, policy, fields=None):
    """A SigV4-signed form for `policy`: a dict (its conditions get the signature fields, as
    boto3 adds them) or the exact JSON text to sign."""
    now = dt.datetime.now(dt.timezone.utc)
    date, amz_date = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
    signing = {
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": f"{ep.access_key}/{date}/{REGION}/s3/aws4_request",
        "x-amz-date": amz_date,
    }
    if isinstance(policy, dict):
        if isinstance(policy.get("conditions"), list):
            policy = dict(policy, conditions=policy["conditions"] + [{k: v} for k, v in signing.items()])
        policy = json.dumps(policy)
    encoded = base64.b64encode(policy.encode()).decode()
    signature = hmac.new(signing_key(ep.secret_key, date), encoded.encode(), hashlib.sha256).hexdigest()
    return {**(fields or {}), **signing, "policy": encoded, "x-amz-signature": signature}


def later(seconds=3600):
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def form_error(response):
    return response.status, response.error_code(), parse_error(response.body).get("Message")


def test_post_policy_that_cannot_be_read(server, s3, bucket):
    # The policy's shape is documented (API reference, "Creating a POST policy"): an
    # "expiration" in ISO 8601 GMT and "conditions", each an object with one string member
    # or an array [operation, "$field", value]. The texts of InvalidPolicyDocument are not
    # documented: "Invalid Simple-Condition: value must be a string." and "Invalid
    # 'expiration' value: '...'" are quoted by users from S3, the others are what
    # S3-compatible servers tested against S3 answer.
    ok = [{"bucket": bucket}, ["starts-with", "$key", ""]]
    cases = [
        ({"conditions": ok}, "Invalid Policy: Policy missing expiration."),
        ({"expiration": "2030-01-01", "conditions": ok}, "Invalid Policy: Invalid 'expiration' value: '2030-01-01'"),
        ({"expiration": "2030-01-01T00:00:00", "conditions": ok},
         "Invalid Policy: Invalid 'expiration' value: '2030-01-01T00:00:00'"),
        ({"expiration": "next week", "conditions": ok}, "Invalid Policy: Invalid 'expiration' value: 'next week'"),
        ({"expiration": later()}, "Invalid Policy: Policy missing conditions."),
        ({"expiration": later(), "conditions": {"key": "k"}},
         "Invalid Policy: Invalid 'conditions' value: must be a List."),
        ({"expiration": later(), "conditions": ok + [{"acl": "private", "key": "k"}]},
         "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."),
        ({"expiration": later(), "conditions": ok + [{"success_action_status": 201}]},
         "Invalid Policy: Invalid Simple-Condition: value must be a string."),
        ({"expiration": later(), "conditions": ok + ["key"]},
         "Invalid Policy: Invalid condition test: must be a List or Object."),
        ({"expiration": later(), "conditions": ok + [[]]}, "Invalid Policy: Invalid Condition: missing operation identifier."),
        ({"expiration": later(), "conditions": ok + [["ends-with", "$key", "x"]]},
         "Invalid Policy: Invalid Condition: unknown operation 'ends-with'."),
        ({"expiration": later(), "conditions": ok + [["eq", "$key"]]}, "Invalid Policy: Invalid eq: wrong number of arguments."),
        ({"expiration": later(), "conditions": ok + [["starts-with", "$key", "a", "b"]]},
         "Invalid Policy: Invalid starts-with: wrong number of arguments."),
        ({"expiration": later(), "conditions": ok + [["content-length-range", 1]]},
         "Invalid Policy: Invalid content-length-range: wrong number of arguments."),
        ("{not json", "Invalid Policy: Invalid JSON."),
    ]  # fmt: skip
    for policy, message in cases:
        fields = signed_fields(server, policy, {"key": "refused"})
        answer = post_form(server, bucket, fields)
        assert form_error(answer) == (400, "InvalidPolicyDocument", message), (policy, answer)
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="refused")


def test_post_policy_conditions_that_fail(server, s3, bucket):
    # AccessDenied (403) "Invalid according to Policy: ..." quoting the failed condition as
    # the policy wrote it; "Policy expired." past the expiration (texts quoted by users from
    # S3, not in the API reference).
    base = [{"bucket": bucket}]
    expired = {"expiration": later(-60), "conditions": base + [{"key": "late"}]}
    answer = post_form(server, bucket, signed_fields(server, expired, {"key": "late"}))
    assert form_error(answer) == (403, "AccessDenied", "Invalid according to Policy: Policy expired."), answer
    cases = [
        ([{"key": "expected"}], {"key": "other"}, 'Policy Condition failed: ["eq", "$key", "expected"]'),
        ([["eq", "$Key", "expected"]], {"key": "other"}, 'Policy Condition failed: ["eq", "$Key", "expected"]'),
        ([["starts-with", "$key", "user/"]], {"key": "admin/x"}, 'Policy Condition failed: ["starts-with", "$key", "user/"]'),
        ([["starts-with", "$key", ""], ["starts-with", "$Content-Type", "image/"]],
         {"key": "k", "Content-Type": "text/plain"},
         'Policy Condition failed: ["starts-with", "$Content-Type", "image/"]'),
        ([{"key": "k"}], {"key": "k", "x-amz-meta-extra": "1"}, "Extra input fields: x-amz-meta-extra"),
        ([{"key": "k"}, ["eq", "key", "k"]], {"key": "k"}, 'Policy Condition failed: ["eq", "key", "k"]'),
        ([{"key": "k"}, {"x-amz-meta-color": "blue"}], {"key": "k"},
         'Policy Condition failed: ["eq", "$x-amz-meta-color", "blue"]'),
    ]  # fmt: skip
    for conditions, fields, message in cases:
        policy = {"expiration": later(), "conditions": base + conditions}
        answer = post_form(server, bucket, signed_fields(server, policy, fields))
        assert form_error(answer) == (403, "AccessDenied", f"Invalid according to Policy: {message}"), answer
    # content-length-range (documented): EntityTooSmall / EntityTooLarge, 400.
    policy = {"expiration": later(), "conditions": base + [{"key": "sized"}, ["content-length-range", 3, 5]]}
    fields = signed_fields(server, policy, {"key": "sized"})
    assert form_error(post_form(server, bucket, fields, b"12"))[:2] == (400, "EntityTooSmall")
    assert form_error(post_form(server, bucket, fields, b"123456"))[:2] == (400, "EntityTooLarge")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert post_form(server, bucket, fields, b"12345").status == 204


# ---------------------------------------------------------------------------
# POST uploads: the form fields
# ---------------------------------------------------------------------------


def allowing(bucket, fields):
    """A policy whose conditions name exactly `fields`."""
    return {"expiration": later(), "conditions": [{"bucket": bucket}] + [{k: v} for k, v in fields.items()]}


def test_post_form_fields_are_stored_as_s3_stores_them(server, s3, bucket):
    # POST Object (API reference): the REST headers as fields, x-amz-meta-*, tagging (a
    # Tagging XML document), x-amz-storage-class, x-amz-server-side-encryption, the
    # x-amz-checksum-* fields, acl; success_action_status 201 answers a PostResponse.
    body = b"every field"
    fields = {
        "key": "dir/${filename}",
        "acl": "private",
        "Content-Type": "text/plain",
        "Cache-Control": "max-age=60",
        "Content-Disposition": 'attachment; filename="f.txt"',
        "Content-Encoding": "identity",
        "Content-Language": "de-CH",
        "Expires": "Thu, 01 Dec 2033 16:00:00 GMT",
        "x-amz-meta-color": "blue",
        "tagging": "<Tagging><TagSet><Tag><Key>z</Key><Value>1</Value></Tag>"
                   "<Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>",
        "x-amz-storage-class": "STANDARD",
        "x-amz-website-redirect-location": "/elsewhere.html",
        "x-amz-server-side-encryption": "AES256",
        "x-amz-checksum-crc32": crc32_b64(body),
        "success_action_status": "201",
    }  # fmt: skip
    policy = allowing(bucket, {k: v for k, v in fields.items() if k != "key"})
    policy["conditions"].append(["starts-with", "$key", "dir/"])
    answer = post_form(server, bucket, signed_fields(server, policy, fields), body, filename="f.txt")
    assert answer.status == 201, answer
    assert xml_texts(answer.body, "Bucket") == [bucket] and xml_texts(answer.body, "Key") == ["dir/f.txt"]
    assert xml_texts(answer.body, "ETag") == [f'"{md5_hex(body)}"']
    assert xml_texts(answer.body, "Location")[0].endswith(f"/{bucket}/dir/f.txt")
    assert answer.header("etag") == f'"{md5_hex(body)}"'
    assert answer.header("x-amz-server-side-encryption") == "AES256"
    assert answer.header("x-amz-checksum-crc32") == crc32_b64(body)
    got = s3.get_object(Bucket=bucket, Key="dir/f.txt", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert (got["ContentType"], got["CacheControl"], got["ContentDisposition"], got["ContentEncoding"]) == (
        "text/plain", "max-age=60", 'attachment; filename="f.txt"', "identity")  # fmt: skip
    assert got["ExpiresString"] == "Thu, 01 Dec 2033 16:00:00 GMT" and got["ContentLanguage"] == "de-CH"
    assert got["Metadata"] == {"color": "blue"} and got["ServerSideEncryption"] == "AES256"
    assert got["ChecksumCRC32"] == crc32_b64(body) and got["TagCount"] == 2
    assert got["WebsiteRedirectLocation"] == "/elsewhere.html"
    tags = s3.get_object_tagging(Bucket=bucket, Key="dir/f.txt")["TagSet"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("z", "1"), ("a", "2")]


def test_post_public_acl_is_refused_as_acls_are_disabled(server, s3, bucket):
    # As x-amz-acl on PutObject: buckets have ACLs disabled (BucketOwnerEnforced), so a form
    # whose acl grants anyone but the owner is 400 AccessControlListNotSupported.
    fields = {"key": "public", "acl": "public-read"}
    answer = post_form(server, bucket, signed_fields(server, allowing(bucket, fields), fields), b"x")
    assert (answer.status, answer.error_code()) == (400, "AccessControlListNotSupported"), answer
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="public")


def test_post_metadata_beyond_ascii_comes_back_mail_safe(server, s3, bucket):
    # User guide ("Working with object metadata"): values with characters beyond US-ASCII
    # are "encoded as per RFC 2047 to make them mail-safe before returning"; ASCII ones are
    # presented as is. A form field is UTF-8, so POST is where such values arrive. Which
    # encoding (B or Q) S3 uses is not documented; any RFC 2047 decoder reads either.
    fields = {"key": "utf8", "x-amz-meta-city": "Zürich", "x-amz-meta-plain": "ascii"}
    answer = post_form(server, bucket, signed_fields(server, allowing(bucket, fields), fields))
    assert answer.status == 204, answer
    metadata = s3.head_object(Bucket=bucket, Key="utf8")["Metadata"]
    assert metadata["plain"] == "ascii"
    assert str(make_header(decode_header(metadata["city"]))) == "Zürich"
    assert metadata["city"].startswith("=?UTF-8?")


def test_post_success_answers(server, s3, bucket):
    # success_action_status: 200 and 204 answer an empty document with that status, 201 a
    # PostResponse; "If the value is not set or if it is set to an invalid value, Amazon S3
    # returns an empty document with a 204 status code" (POST Object). A redirect
    # (success_action_redirect, or the older redirect) answers 303 to the URL with bucket,
    # key and etag added; a value that is not a URL is ignored.
    for status, expected in [("200", 200), ("204", 204), ("999", 204), ("", 204)]:
        fields = {"key": f"s{status}", "success_action_status": status}
        answer = post_form(server, bucket, signed_fields(server, allowing(bucket, fields), fields))
        assert (answer.status, answer.body) == (expected, b""), (status, answer)
    for name in ("success_action_redirect", "redirect"):
        fields = {"key": name, name: "https://example.com/done?x=1"}
        answer = post_form(server, bucket, signed_fields(server, allowing(bucket, fields), fields), b"r")
        assert answer.status == 303, answer
        location = urlsplit(answer.header("location"))
        assert location.netloc == "example.com"
        assert parse_qs(location.query) == {"x": ["1"], "bucket": [bucket], "key": [name],
                                            "etag": [f'"{md5_hex(b"r")}"']}  # fmt: skip
    fields = {"key": "not-a-url", "success_action_redirect": "done.html"}
    answer = post_form(server, bucket, signed_fields(server, allowing(bucket, fields), fields))
    assert answer.status == 204, answer


def test_post_form_values_refused_as_put_refuses_them(server, s3, bucket):
    body = b"refused"
    cases = [
        ({"x-amz-checksum-crc32": crc32_b64(b"other")}, 400, "BadDigest"),
        ({"Content-MD5": md5_b64(b"other")}, 400, "BadDigest"),
        ({"Content-MD5": "not base64!"}, 400, "InvalidDigest"),
        ({"x-amz-storage-class": "GLACIER"}, 400, "InvalidStorageClass"),
        ({"tagging": "<Tagging><TagSet>" + "".join(f"<Tag><Key>k{n}</Key><Value>v</Value></Tag>" for n in range(11))
          + "</TagSet></Tagging>"}, 400, "BadRequest"),
        ({"tagging": "<Tagging><TagSet><Tag><Key>a#b</Key><Value>v</Value></Tag></TagSet></Tagging>"}, 400, "InvalidTag"),
        ({"tagging": "not xml"}, 400, "MalformedXML"),
        ({"x-amz-meta-big": "v" * 2048}, 400, "MetadataTooLarge"),
        ({"x-amz-website-redirect-location": "elsewhere.html"}, 400, "InvalidArgument"),
    ]  # fmt: skip
    for extra, status, code in cases:
        fields = {"key": "refused", **extra}
        answer = post_form(server, bucket, signed_fields(server, allowing(bucket, fields), fields), body)
        assert form_error(answer)[:2] == (status, code), (extra, answer)
    fields = {"key": "md5", "Content-MD5": md5_b64(body)}
    assert post_form(server, bucket, signed_fields(server, allowing(bucket, fields), fields), body).status == 204
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["md5"]

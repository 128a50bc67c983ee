"""AWS fidelity (issue 16) of uploads: multipart part races and `partNumber` reads, the
upload listings, POST (browser form) uploads and their policies, tagging and metadata limits.

Each case names where AWS documents the behaviour; "not documented" marks a case where the
answer follows what AWS is observed to send (other S3 implementations' AWS-recorded tests, or
error texts users quote from AWS), so a later AWS change is a test to revisit, not a bug."""

from __future__ import annotations

import threading
from urllib.parse import unquote

import pytest

from s3util import MiB, RawConnection, expect_error, payload, raw_request, sign_headers

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

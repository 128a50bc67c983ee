"""Object and bucket tagging: the Tagging APIs, `x-amz-tagging` on PutObject and
CreateMultipartUpload, `x-amz-tagging-count`, S3's tag limits and error codes, and tags
surviving a restart."""

import pytest

from harness import make_client
from s3util import MiB, expect_error, parse_error, payload, raw_request

OBJECT_TAGS = [{"Key": "project", "Value": "blue"}, {"Key": "two words", "Value": "a+b=c"}]


def tag_set(pairs):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


def as_pairs(tags):
    return [(t["Key"], t["Value"]) for t in tags]


def test_object_tagging_round_trip_keeps_etag_and_last_modified(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    before = s3.head_object(Bucket=bucket, Key="k")
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": OBJECT_TAGS})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == OBJECT_TAGS
    after = s3.head_object(Bucket=bucket, Key="k")
    assert after["ETag"] == put["ETag"] == before["ETag"]
    assert after["LastModified"] == before["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 2
    assert after["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    # A put replaces the whole set.
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set([("only", "one")]))
    assert as_pairs(s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]) == [("only", "one")]
    deleted = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="k")


def test_put_object_with_tagging_header(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b%20c=d%2Be&empty=")
    tags = as_pairs(s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"])
    assert tags == [("a", "1"), ("b c", "d+e"), ("empty", "")]
    assert s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "3"
    # Overwriting without the header drops the tags, as a new object has none.
    s3.put_object(Bucket=bucket, Key="k", Body=b"y")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []


def test_multipart_object_gets_the_upload_tags(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="team=storage&tier=hot")["UploadId"]
    parts = [payload(5 * MiB), b"tail"]
    etags = [
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=n, Body=p)["ETag"]
        for n, p in enumerate(parts, 1)
    ]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )  # fmt: skip
    tags = as_pairs(s3.get_object_tagging(Bucket=bucket, Key="mp")["TagSet"])
    assert tags == [("team", "storage"), ("tier", "hot")]
    assert s3.get_object(Bucket=bucket, Key="mp", Range="bytes=0-0")["TagCount"] == 2


def test_object_tagging_of_missing_key(s3, bucket):
    expect_error(s3.get_object_tagging, 404, "NoSuchKey", Bucket=bucket, Key="nope")
    expect_error(s3.put_object_tagging, 404, "NoSuchKey", Bucket=bucket, Key="nope", Tagging=tag_set([("a", "b")]))
    expect_error(s3.delete_object_tagging, 404, "NoSuchKey", Bucket=bucket, Key="nope")
    expect_error(s3.get_object_tagging, 404, "NoSuchBucket", Bucket=bucket + "-missing", Key="k")


@pytest.mark.parametrize(
    "pairs, status, code",
    [
        ([(f"k{i}", "v") for i in range(11)], 400, "BadRequest"),
        ([("k" * 129, "v")], 400, "InvalidTag"),
        ([("k", "v" * 257)], 400, "InvalidTag"),
        ([("aws:reserved", "v")], 400, "InvalidTag"),
        ([("dup", "1"), ("dup", "2")], 400, "InvalidTag"),
        ([("bad#char", "v")], 400, "InvalidTag"),
    ],
    ids=["11-tags", "long-key", "long-value", "aws-prefix", "duplicate", "bad-char"],
)
def test_object_tag_limits(s3, bucket, pairs, status, code):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="keep=me")
    expect_error(s3.put_object_tagging, status, code, Bucket=bucket, Key="k", Tagging=tag_set(pairs))
    # A refused set leaves the old one.
    assert as_pairs(s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]) == [("keep", "me")]


def test_object_tag_limits_are_inclusive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    pairs = [(f"k{i}" + "x" * 120, "v" * 256) for i in range(10)]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(pairs))
    assert as_pairs(s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]) == pairs
    # 128 characters that are not ASCII are still 128.
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set([("é" * 128, "ü" * 256)]))


def test_tagging_header_errors(s3, bucket):
    expect_error(s3.put_object, 400, "BadRequest", Bucket=bucket, Key="k", Body=b"x",
                 Tagging="&".join(f"k{i}=v" for i in range(11)))  # fmt: skip
    expect_error(s3.put_object, 400, "InvalidTag", Bucket=bucket, Key="k", Body=b"x", Tagging="aws:x=1")
    expect_error(s3.create_multipart_upload, 400, "InvalidTag", Bucket=bucket, Key="k", Tagging="a%23=1")
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="k")


def test_raw_tagging_errors(server, bucket, s3):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    duplicate = raw_request(server, "PUT", f"/{bucket}/k2", headers={"x-amz-tagging": "a=1&a=2"}, body=b"x")
    assert (duplicate.status, parse_error(duplicate.body)["Code"]) == (400, "InvalidArgument")
    for body in [b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>", b"not xml", b"<Tagging/>"]:
        response = raw_request(server, "PUT", f"/{bucket}/k", query={"tagging": ""}, body=body)
        assert (response.status, parse_error(response.body)["Code"]) == (400, "MalformedXML"), body
        response = raw_request(server, "PUT", f"/{bucket}", query={"tagging": ""}, body=body)
        assert (response.status, parse_error(response.body)["Code"]) == (400, "MalformedXML"), body
    # boto3 refuses an empty key before sending it.
    empty_key = b"<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>"
    response = raw_request(server, "PUT", f"/{bucket}/k", query={"tagging": ""}, body=empty_key)
    assert (response.status, parse_error(response.body)["Code"]) == (400, "InvalidTag")
    missing = raw_request(server, "GET", f"/{bucket}/nope", query={"tagging": ""})
    assert (missing.status, parse_error(missing.body)["Code"]) == (404, "NoSuchKey")


def test_bucket_tagging(server, s3, bucket):
    expect_error(s3.get_bucket_tagging, 404, "NoSuchTagSet", Bucket=bucket)
    pairs = [(f"key{i}", f"value {i}") for i in range(50)]
    put = s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(pairs))
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 204
    # Every shard answers from its own copy: fresh connections land on any of them.
    for _ in range(8):
        response = raw_request(server, "GET", f"/{bucket}", query={"tagging": ""})
        assert response.status == 200
        assert response.body.count(b"<Tag>") == 50
    assert as_pairs(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == pairs
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([("env", "test")]))
    assert as_pairs(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == [("env", "test")]
    deleted = s3.delete_bucket_tagging(Bucket=bucket)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    for _ in range(4):
        response = raw_request(server, "GET", f"/{bucket}", query={"tagging": ""})
        assert (response.status, parse_error(response.body)["Code"]) == (404, "NoSuchTagSet")


def test_bucket_tag_limits(s3, bucket):
    too_many = [(f"key{i}", "v") for i in range(51)]
    expect_error(s3.put_bucket_tagging, 400, "BadRequest", Bucket=bucket, Tagging=tag_set(too_many))
    expect_error(s3.put_bucket_tagging, 400, "InvalidTag", Bucket=bucket, Tagging=tag_set([("aws:x", "v")]))
    expect_error(s3.put_bucket_tagging, 400, "InvalidTag", Bucket=bucket, Tagging=tag_set([("d", "1"), ("d", "2")]))
    expect_error(s3.get_bucket_tagging, 404, "NoSuchTagSet", Bucket=bucket)
    expect_error(s3.get_bucket_tagging, 404, "NoSuchBucket", Bucket=bucket + "-missing")
    expect_error(s3.put_bucket_tagging, 404, "NoSuchBucket", Bucket=bucket + "-missing", Tagging=tag_set([("a", "b")]))


def test_deleted_and_recreated_bucket_has_no_tags(s3, bucket):
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([("a", "b")]))
    s3.delete_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)
    expect_error(s3.get_bucket_tagging, 404, "NoSuchTagSet", Bucket=bucket)


@pytest.mark.binary
def test_tags_survive_restart(server_factory):
    server = server_factory.create()
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="tagged")
    s3.put_bucket_tagging(Bucket="tagged", Tagging=tag_set([("cost-center", "42")]))
    s3.put_object(Bucket="tagged", Key="k", Body=b"x", Tagging="a=1")
    s3.put_object(Bucket="tagged", Key="later", Body=b"y")
    s3.put_object_tagging(Bucket="tagged", Key="later", Tagging=tag_set([("b", "2")]))
    assert server.stop() == 0
    server.start()
    s3 = make_client(server.endpoint)
    assert as_pairs(s3.get_bucket_tagging(Bucket="tagged")["TagSet"]) == [("cost-center", "42")]
    assert as_pairs(s3.get_object_tagging(Bucket="tagged", Key="k")["TagSet"]) == [("a", "1")]
    assert as_pairs(s3.get_object_tagging(Bucket="tagged", Key="later")["TagSet"]) == [("b", "2")]

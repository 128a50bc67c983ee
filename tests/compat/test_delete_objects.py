"""DeleteObjects: keys over every shard, quiet and verbose answers, per-key errors, the
1000-key limit and the required integrity header."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from s3util import (
    MiB,
    expect_error,
    md5_b64,
    object_path,
    raw_request,
    xml_texts,
)


def _put_many(s3, bucket, keys):
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=key.encode()), keys))


def _all_keys(s3, bucket):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def _delete_xml(keys, quiet=False) -> bytes:
    objects = "".join(f"<Object><Key>{key}</Key></Object>" for key in keys)
    quiet_element = "<Quiet>true</Quiet>" if quiet else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><Delete>{quiet_element}{objects}</Delete>'.encode()


def _post_delete(server, bucket, body, headers=None):
    return raw_request(server, "POST", object_path(bucket), query={"delete": ""}, headers=headers, body=body)


def test_verbose_delete_over_both_shards_reports_missing_keys_as_deleted(s3, bucket):
    keys = [f"spread/{index:04d}" for index in range(300)]
    _put_many(s3, bucket, keys)
    s3.put_object(Bucket=bucket, Key="survivor", Body=b"x")
    missing = [f"missing/{index}" for index in range(5)]
    response = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys + missing]}
    )
    assert response.get("Errors", []) == []
    assert sorted(entry["Key"] for entry in response["Deleted"]) == sorted(keys + missing)
    assert _all_keys(s3, bucket) == ["survivor"]


def test_quiet_mode_returns_only_errors(s3, bucket):
    keys = [f"quiet/{index:03d}" for index in range(60)]
    _put_many(s3, bucket, keys)
    long_key = "k" * 1025
    response = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": key} for key in keys] + [{"Key": long_key}], "Quiet": True},
    )
    assert "Deleted" not in response
    assert [(error["Key"], error["Code"]) for error in response["Errors"]] == [(long_key, "KeyTooLongError")]
    assert _all_keys(s3, bucket) == []

    s3.put_object(Bucket=bucket, Key="again", Body=b"x")
    response = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "again"}], "Quiet": True})
    assert "Deleted" not in response and "Errors" not in response
    assert _all_keys(s3, bucket) == []


def test_invalid_key_is_a_per_key_error(s3, bucket):
    _put_many(s3, bucket, ["a", "b"])
    long_key = "x" * 1025
    response = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": long_key}, {"Key": "b"}]}
    )
    assert sorted(entry["Key"] for entry in response["Deleted"]) == ["a", "b"]
    assert len(response["Errors"]) == 1
    assert response["Errors"][0]["Key"] == long_key
    assert response["Errors"][0]["Code"] == "KeyTooLongError"
    assert _all_keys(s3, bucket) == []


def test_version_id_other_than_null_is_a_per_key_error(s3, bucket):
    s3.put_object(Bucket=bucket, Key="v", Body=b"x")
    response = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "v", "VersionId": "3HL4kqtJlcpXroDTDmJ"}]}
    )
    assert response["Errors"][0]["Code"] == "NoSuchVersion"
    assert _all_keys(s3, bucket) == ["v"]
    response = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "v", "VersionId": "null"}]})
    assert response["Deleted"] == [{"Key": "v", "VersionId": "null"}]
    assert _all_keys(s3, bucket) == []


def test_more_than_1000_keys_is_malformed_xml(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k0", Body=b"x")
    body = _delete_xml([f"k{index}" for index in range(1001)])
    resp = _post_delete(server, bucket, body, {"Content-MD5": md5_b64(body)})
    assert resp.status == 400, resp
    assert resp.error_code() == "MalformedXML"
    assert _all_keys(s3, bucket) == ["k0"]

    body = _delete_xml([f"k{index}" for index in range(1000)])
    resp = _post_delete(server, bucket, body, {"Content-MD5": md5_b64(body)})
    assert resp.status == 200, resp
    assert len(xml_texts(resp.body, "Deleted/Key")) == 1000
    assert _all_keys(s3, bucket) == []


def test_integrity_header_is_required(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = _delete_xml(["k"])
    resp = _post_delete(server, bucket, body)
    assert resp.status == 400, resp
    assert resp.error_code() == "InvalidRequest"
    assert b"Content-Md5" in resp.body
    assert _all_keys(s3, bucket) == ["k"]


def test_wrong_content_md5_is_bad_digest(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = _delete_xml(["k"])
    resp = _post_delete(server, bucket, body, {"Content-MD5": md5_b64(b"something else")})
    assert resp.status == 400, resp
    assert resp.error_code() == "BadDigest"
    assert _all_keys(s3, bucket) == ["k"]


def test_checksum_header_is_accepted_instead_of_md5(server, s3, bucket):
    from s3util import crc32_b64

    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = _delete_xml(["k"], quiet=True)
    resp = _post_delete(server, bucket, body, {"x-amz-checksum-crc32": crc32_b64(body)})
    assert resp.status == 200, resp
    assert xml_texts(resp.body, "Deleted") == [] and xml_texts(resp.body, "Error") == []
    assert _all_keys(s3, bucket) == []


def test_malformed_body_and_missing_bucket(server, s3, bucket):
    body = b"<Delete><Object></Object></Delete>"
    resp = _post_delete(server, bucket, body, {"Content-MD5": md5_b64(body)})
    assert (resp.status, resp.error_code()) == (400, "MalformedXML")
    expect_error(
        s3.delete_objects, 404, "NoSuchBucket", Bucket=bucket + "-nope", Delete={"Objects": [{"Key": "k"}]}
    )


def test_large_objects_are_deleted_and_space_reused(s3, bucket):
    keys = [f"big/{index}" for index in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=b"z" * MiB), keys))
    response = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys]})
    assert len(response["Deleted"]) == 4
    for key in keys:
        expect_error(s3.head_object, 404, "404", Bucket=bucket, Key=key)

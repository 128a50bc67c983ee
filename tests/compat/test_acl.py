"""ACLs (issue 17): Object Ownership (BucketOwnerEnforced by default, as on AWS since 2023),
canned ACLs and grants on buckets and objects when ownership enables them, through headers
and AccessControlPolicy bodies, evaluated for anonymous and signed requests, under the public
access block, and never over a policy's explicit Deny."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from harness import empty_and_delete_bucket, unique_bucket_name
from s3util import expect_error

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def anonymous(server, method: str, path: str, body: bytes | None = None) -> int:
    request = urllib.request.Request(server.url + path, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def acl_bucket(s3):
    """A bucket with ACLs enabled (ObjectWriter) and an object under each canned ACL."""
    name = unique_bucket_name("acl")
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket=name, Key="public", Body=b"for everyone", ACL="public-read")
    s3.put_object(Bucket=name, Key="private", Body=b"mine")
    yield name
    s3.delete_public_access_block(Bucket=name)
    s3.delete_bucket_policy(Bucket=name)
    empty_and_delete_bucket(s3, name)


def test_new_buckets_have_acls_disabled_as_on_aws(s3, bucket):
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    expect_error(s3.put_object, 400, "AccessControlListNotSupported", Bucket=bucket, Key="k", Body=b"x",
                 ACL="public-read")  # fmt: skip
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    expect_error(s3.create_bucket, 400, "InvalidBucketAclWithObjectOwnership",
                 Bucket=unique_bucket_name("enforced"), ACL="public-read")  # fmt: skip


def test_a_public_read_object_is_read_anonymously_and_nothing_else(server, s3, acl_bucket):
    assert anonymous(server, "GET", f"/{acl_bucket}/public") == 200
    assert anonymous(server, "HEAD", f"/{acl_bucket}/public") == 200
    assert anonymous(server, "GET", f"/{acl_bucket}/private") == 403
    # A missing key is not revealed to someone only an ACL could admit.
    assert anonymous(server, "GET", f"/{acl_bucket}/missing") == 403
    assert anonymous(server, "GET", f"/{acl_bucket}") == 403  # no bucket READ
    assert anonymous(server, "PUT", f"/{acl_bucket}/new", b"x") == 403
    assert anonymous(server, "DELETE", f"/{acl_bucket}/public") == 403
    assert anonymous(server, "GET", f"/{acl_bucket}/public?acl") == 403  # READ is not READ_ACP
    grants = s3.get_object_acl(Bucket=acl_bucket, Key="public")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants
    # Back to private: the anonymous read stops.
    s3.put_object_acl(Bucket=acl_bucket, Key="public", ACL="private")
    assert anonymous(server, "GET", f"/{acl_bucket}/public") == 403
    assert s3.get_object(Bucket=acl_bucket, Key="public")["Body"].read() == b"for everyone"


def test_bucket_grants_allow_listing_and_writing(server, s3, acl_bucket):
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read")
    assert anonymous(server, "GET", f"/{acl_bucket}?list-type=2") == 200
    assert anonymous(server, "GET", f"/{acl_bucket}/private") == 403  # objects keep their own ACL
    assert anonymous(server, "PUT", f"/{acl_bucket}/dropped", b"x") == 403
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read-write")
    assert anonymous(server, "PUT", f"/{acl_bucket}/dropped", b"anonymous bytes") == 200
    assert s3.get_object(Bucket=acl_bucket, Key="dropped")["Body"].read() == b"anonymous bytes"
    assert anonymous(server, "DELETE", f"/{acl_bucket}/dropped") == 204
    grants = s3.get_bucket_acl(Bucket=acl_bucket)["Grants"]
    assert {(g["Grantee"].get("URI"), g["Permission"]) for g in grants} >= {(ALL_USERS, "READ"), (ALL_USERS, "WRITE")}
    # Disabling ACLs needs a private bucket ACL first, as on AWS.
    enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    expect_error(s3.put_bucket_ownership_controls, 400, "InvalidBucketAclWithObjectOwnership",
                 Bucket=acl_bucket, OwnershipControls=enforced)  # fmt: skip
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=acl_bucket, OwnershipControls=enforced)
    # The objects' ACLs are kept but no longer count.
    assert anonymous(server, "GET", f"/{acl_bucket}/public") == 403
    assert [g["Permission"] for g in s3.get_object_acl(Bucket=acl_bucket, Key="public")["Grants"]] == ["FULL_CONTROL"]
    s3.delete_bucket_ownership_controls(Bucket=acl_bucket)
    expect_error(s3.get_bucket_ownership_controls, 404, "OwnershipControlsNotFoundError", Bucket=acl_bucket)
    assert anonymous(server, "GET", f"/{acl_bucket}/public") == 200


def test_the_public_access_block_refuses_and_ignores_public_acls(server, s3, acl_bucket):
    block = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
             "RestrictPublicBuckets": False}  # fmt: skip
    s3.put_public_access_block(Bucket=acl_bucket, PublicAccessBlockConfiguration=block)
    expect_error(s3.put_object, 403, "AccessDenied", Bucket=acl_bucket, Key="k", Body=b"x", ACL="public-read")
    expect_error(s3.put_object_acl, 403, "AccessDenied", Bucket=acl_bucket, Key="private", ACL="public-read")
    expect_error(s3.put_bucket_acl, 403, "AccessDenied", Bucket=acl_bucket, ACL="public-read")
    expect_error(s3.head_object, 404, "404", Bucket=acl_bucket, Key="k")
    # Already public objects still read until IgnorePublicAcls.
    assert anonymous(server, "GET", f"/{acl_bucket}/public") == 200
    s3.put_public_access_block(Bucket=acl_bucket, PublicAccessBlockConfiguration={**block, "IgnorePublicAcls": True})
    assert anonymous(server, "GET", f"/{acl_bucket}/public") == 403


def test_an_explicit_deny_beats_an_acl_grant(server, s3, acl_bucket):
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{acl_bucket}/*"}]}
    s3.put_bucket_policy(Bucket=acl_bucket, Policy=json.dumps(deny))
    assert anonymous(server, "GET", f"/{acl_bucket}/public") == 403


def test_grants_by_header_and_by_body(server, s3, acl_bucket):
    s3.put_object(Bucket=acl_bucket, Key="granted", Body=b"g", GrantRead=f'uri="{ALL_USERS}"')
    assert anonymous(server, "GET", f"/{acl_bucket}/granted") == 200
    owner = s3.get_object_acl(Bucket=acl_bucket, Key="granted")["Owner"]
    policy = {"Owner": owner, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ_ACP"}]}  # fmt: skip
    s3.put_object_acl(Bucket=acl_bucket, Key="granted", AccessControlPolicy=policy)
    assert anonymous(server, "GET", f"/{acl_bucket}/granted") == 403
    assert anonymous(server, "GET", f"/{acl_bucket}/granted?acl") == 200
    stranger = {"Grantee": {"Type": "CanonicalUser", "ID": "f" * 64}, "Permission": "READ"}
    expect_error(s3.put_object_acl, 400, "InvalidArgument", Bucket=acl_bucket, Key="granted",
                 AccessControlPolicy={"Owner": owner, "Grants": [stranger]})  # fmt: skip
    email = {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "a@example.com"}, "Permission": "READ"}
    expect_error(s3.put_object_acl, 400, "UnresolvableGrantByEmailAddress", Bucket=acl_bucket, Key="granted",
                 AccessControlPolicy={"Owner": owner, "Grants": [email]})  # fmt: skip
    expect_error(s3.put_object, 400, "InvalidRequest", Bucket=acl_bucket, Key="both", Body=b"x",
                 ACL="public-read", GrantRead=f'uri="{ALL_USERS}"')  # fmt: skip
    expect_error(s3.put_object, 400, "InvalidArgument", Bucket=acl_bucket, Key="bad", Body=b"x", ACL="everyone")


def test_multipart_and_create_bucket_take_acls(server, s3):
    name = unique_bucket_name("aclmp")
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred", ACL="public-read")
    try:
        assert anonymous(server, "GET", f"/{name}") == 200
        upload = s3.create_multipart_upload(Bucket=name, Key="big", ACL="public-read")["UploadId"]
        part = s3.upload_part(Bucket=name, Key="big", UploadId=upload, PartNumber=1, Body=b"p" * 1024)
        s3.complete_multipart_upload(Bucket=name, Key="big", UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        assert anonymous(server, "GET", f"/{name}/big") == 200
        s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "big"})
        assert anonymous(server, "GET", f"/{name}/copy") == 403  # a copy is private unless asked
    finally:
        for key in ("big", "copy"):
            s3.delete_object(Bucket=name, Key=key)
        s3.delete_bucket(Bucket=name)


def test_a_versions_acl_is_its_own(server, s3, acl_bucket):
    s3.put_bucket_versioning(Bucket=acl_bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=acl_bucket, Key="v", Body=b"1", ACL="public-read")["VersionId"]
    second = s3.put_object(Bucket=acl_bucket, Key="v", Body=b"2")["VersionId"]
    assert anonymous(server, "GET", f"/{acl_bucket}/v") == 403
    assert anonymous(server, "GET", f"/{acl_bucket}/v?versionId={first}") == 200
    s3.put_object_acl(Bucket=acl_bucket, Key="v", VersionId=second, ACL="public-read")
    assert anonymous(server, "GET", f"/{acl_bucket}/v") == 200
    for version in (first, second):
        s3.delete_object(Bucket=acl_bucket, Key="v", VersionId=version)

"""Bucket policies (issue 17, first slice): Put/Get/DeleteBucketPolicy and
GetBucketPolicyStatus, and the policy in force on every request to the bucket, with AWS's
documented example policies. Identities: root, a tenant user (alice) and tenant admin (anna)
of `acme`, a user of another tenant (bob), and anonymous requests (no credentials)."""

from __future__ import annotations

import json
import pytest

from harness import make_client, unique_bucket_name
from s3util import expect_error, http_call
from test_control_channel import denied_events, world_server

pytestmark = pytest.mark.binary


@pytest.fixture(scope="module")
def world(module_tmp):
    with world_server(module_tmp("bucket-policy"), "policy", "policy-root-secret-0123456789") as world:
        yield world


@pytest.fixture
def alice(world):
    return world.client("alice")


@pytest.fixture
def root(world):
    return make_client(world.server.endpoint)


@pytest.fixture
def anon(world):
    return make_client(world.server.endpoint, anonymous=True)


@pytest.fixture
def bucket(alice, root, request):
    """A bucket of tenant acme (created by alice), emptied and removed by root afterwards."""
    name = unique_bucket_name(request.node.originalname)
    alice.create_bucket(Bucket=name)
    yield name
    root.delete_bucket_policy(Bucket=name)
    for item in root.list_objects_v2(Bucket=name).get("Contents", []):
        root.delete_object(Bucket=name, Key=item["Key"])
    root.delete_bucket(Bucket=name)


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def url(world, bucket: str, key: str = "", query: str = "") -> str:
    ep = world.server.endpoint
    return f"{ep.url}/{bucket}/{key}" + (f"?{query}" if query else "")


def keys_of(client, bucket: str) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def public_read(bucket: str) -> str:
    return document({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                     "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]})


def test_policy_round_trip_status_and_delete(alice, bucket):
    expect_error(alice.get_bucket_policy, 404, "NoSuchBucketPolicy", Bucket=bucket)
    text = public_read(bucket)
    alice.put_bucket_policy(Bucket=bucket, Policy=text)
    assert alice.get_bucket_policy(Bucket=bucket)["Policy"] == text
    assert alice.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    response = alice.delete_bucket_policy(Bucket=bucket)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    exc = expect_error(alice.get_bucket_policy, 404, "NoSuchBucketPolicy", Bucket=bucket)
    assert exc.response["Error"]["Message"] == "The bucket policy does not exist"
    expect_error(alice.get_bucket_policy_status, 404, "NoSuchBucketPolicy", Bucket=bucket)


@pytest.mark.parametrize("bad", [
    "not json",
    '{"Version":"2012-10-17"}',
    # A resource outside the bucket.
    document({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::some-other-bucket/*"}),
    # A bucket policy needs a Principal.
    document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/*"}),
    document({"Effect": "Maybe", "Principal": "*", "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::BUCKET/*"}),
    "{" + " " * (21 * 1024) + "}",
])
def test_malformed_policies_are_refused(alice, bucket, bad):
    exc = expect_error(alice.put_bucket_policy, 400, "MalformedPolicy", Bucket=bucket,
                       Policy=bad.replace("BUCKET", bucket))
    assert exc.response["Error"]["Message"]
    expect_error(alice.get_bucket_policy, 404, "NoSuchBucketPolicy", Bucket=bucket)


def test_only_the_owner_side_manages_the_policy(world, alice, anon, bucket):
    bob = world.client("bob")
    text = public_read(bucket)
    expect_error(bob.put_bucket_policy, 403, "AccessDenied", Bucket=bucket, Policy=text)
    alice.put_bucket_policy(Bucket=bucket, Policy=text)
    expect_error(bob.get_bucket_policy, 403, "AccessDenied", Bucket=bucket)
    expect_error(anon.get_bucket_policy, 403, "AccessDenied", Bucket=bucket)
    expect_error(anon.delete_bucket_policy, 403, "AccessDenied", Bucket=bucket)
    assert alice.get_bucket_policy(Bucket=bucket)["Policy"] == text


def test_public_read_admits_anonymous_gets_only(world, alice, anon, bucket):
    alice.put_object(Bucket=bucket, Key="photo.jpg", Body=b"pixels")
    # Without a policy, anonymous requests are refused as before.
    assert http_call("GET", url(world, bucket, "photo.jpg")).status == 403
    alice.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    response = http_call("GET", url(world, bucket, "photo.jpg"))
    assert (response.status, response.body) == (200, b"pixels")
    assert anon.get_object(Bucket=bucket, Key="photo.jpg")["Body"].read() == b"pixels"
    assert anon.head_object(Bucket=bucket, Key="photo.jpg")["ContentLength"] == 6
    before = len(denied_events(world.control, 0))
    # Writes, deletes and listings are not in the policy: denied, and nothing changes.
    response = http_call("PUT", url(world, bucket, "photo.jpg"), b"vandalised")
    assert response.status == 403 and b"<Code>AccessDenied</Code>" in response.body
    assert b"<RequestId>" in response.body
    expect_error(anon.put_object, 403, "AccessDenied", Bucket=bucket, Key="new", Body=b"x")
    expect_error(anon.delete_object, 403, "AccessDenied", Bucket=bucket, Key="photo.jpg")
    expect_error(anon.list_objects_v2, 403, "AccessDenied", Bucket=bucket)
    expect_error(anon.list_buckets, 403, "AccessDenied")
    assert keys_of(alice, bucket) == ["photo.jpg"]
    assert alice.get_object(Bucket=bucket, Key="photo.jpg")["Body"].read() == b"pixels"
    # Each refusal is in the event log like any other denied request.
    assert len(denied_events(world.control, before + 4)) >= before + 4
    # Another tenant's user stays outside the tenant boundary, policy or not.
    expect_error(world.client("bob").get_object, 403, "AccessDenied", Bucket=bucket, Key="photo.jpg")


def test_anonymous_write_allowed_by_policy_is_still_checked(world, alice, bucket):
    alice.put_bucket_policy(Bucket=bucket, Policy=document(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/drop/*"}))
    assert http_call("PUT", url(world, bucket, "drop/ok"), b"hello").status == 200
    # A Content-MD5 that does not match the body: refused, nothing stored.
    response = http_call("PUT", url(world, bucket, "drop/bad"), b"hello",
                         {"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="})
    assert response.status == 400, response.body
    response = http_call("PUT", url(world, bucket, "drop/bad-sha"), b"hello",
                         {"x-amz-content-sha256": "0" * 64})
    assert response.status == 400, response.body
    assert http_call("PUT", url(world, bucket, "elsewhere"), b"hello").status == 403
    assert keys_of(alice, bucket) == ["drop/ok"]


def ip_policy(bucket: str, cidr: str) -> str:
    return document({"Sid": "IPAllow", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                     "Condition": {"NotIpAddress": {"aws:SourceIp": cidr}}})


def test_ip_restriction_denies_even_the_buckets_users(alice, root, bucket):
    alice.put_object(Bucket=bucket, Key="k", Body=b"v")
    alice.put_bucket_policy(Bucket=bucket, Policy=ip_policy(bucket, "192.0.2.0/24"))
    expect_error(alice.get_object, 403, "AccessDenied", Bucket=bucket, Key="k")
    expect_error(alice.put_object, 403, "AccessDenied", Bucket=bucket, Key="k", Body=b"changed")
    expect_error(alice.list_objects_v2, 403, "AccessDenied", Bucket=bucket)
    # Root is never denied by a policy, and alice (not an admin) cannot lift it herself.
    assert root.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    expect_error(alice.delete_bucket_policy, 403, "AccessDenied", Bucket=bucket)
    assert root.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    root.put_bucket_policy(Bucket=bucket, Policy=ip_policy(bucket, "127.0.0.0/8"))
    assert alice.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    alice.put_object(Bucket=bucket, Key="k2", Body=b"v2")


def deny_when_secure_transport_is(bucket: str, secure: str = "false") -> str:
    """AWS's TLS-only example (a Deny of everything when aws:SecureTransport is "false");
    with "true", its mirror image, which shows what the key says over TLS."""
    return document(
        {"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": secure}}})


def test_tls_only_policy_denies_plain_http(world, alice, root, bucket):
    alice.put_bucket_policy(Bucket=bucket, Policy=deny_when_secure_transport_is(bucket))
    expect_error(alice.put_object, 403, "AccessDenied", Bucket=bucket, Key="k", Body=b"v")
    expect_error(alice.list_objects_v2, 403, "AccessDenied", Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert keys_of(root, bucket) == ["k"]
    # The tenant admin is the account's root for the lockout rule: may still lift it.
    anna = world.client("anna")
    expect_error(anna.get_object, 403, "AccessDenied", Bucket=bucket, Key="k")
    anna.delete_bucket_policy(Bucket=bucket)
    assert alice.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def deny_unencrypted_uploads(bucket: str) -> str:
    """AWS's example that refuses uploads asking for no SSE or another kind than SSE-S3."""
    return document(
        {"Sid": "DenyIncorrectEncryptionHeader", "Effect": "Deny", "Principal": "*",
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}}},
        {"Sid": "DenyUnEncryptedObjectUploads", "Effect": "Deny", "Principal": "*",
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}})


def test_put_without_sse_header_denied(alice, bucket):
    alice.put_bucket_policy(Bucket=bucket, Policy=deny_unencrypted_uploads(bucket))
    expect_error(alice.put_object, 403, "AccessDenied", Bucket=bucket, Key="plain", Body=b"v")
    alice.put_object(Bucket=bucket, Key="sealed", Body=b"v", ServerSideEncryption="AES256")
    assert keys_of(alice, bucket) == ["sealed"]
    assert alice.get_object(Bucket=bucket, Key="sealed")["ServerSideEncryption"] == "AES256"


def test_prefix_scoped_anonymous_listing(world, alice, anon, bucket):
    for key in ("public/a", "public/b", "private/c"):
        alice.put_object(Bucket=bucket, Key=key, Body=b"x")
    alice.put_bucket_policy(Bucket=bucket, Policy=document(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": "public/*"}}}))
    listed = anon.list_objects_v2(Bucket=bucket, Prefix="public/")
    assert [item["Key"] for item in listed["Contents"]] == ["public/a", "public/b"]
    expect_error(anon.list_objects_v2, 403, "AccessDenied", Bucket=bucket)
    expect_error(anon.list_objects_v2, 403, "AccessDenied", Bucket=bucket, Prefix="private/")
    # Objects are not covered by a ListBucket grant.
    expect_error(anon.get_object, 403, "AccessDenied", Bucket=bucket, Key="public/a")


def test_policy_survives_a_restart(server_factory):
    server = server_factory.create()
    server.start()
    s3 = make_client(server.endpoint)
    name = unique_bucket_name("restart")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"kept")
    text = public_read(name)
    s3.put_bucket_policy(Bucket=name, Policy=text)
    assert server.stop() == 0
    server.start()
    s3 = make_client(server.endpoint)
    assert s3.get_bucket_policy(Bucket=name)["Policy"] == text
    response = http_call("GET", f"{server.endpoint.url}/{name}/k")
    assert (response.status, response.body) == (200, b"kept")
    assert http_call("PUT", f"{server.endpoint.url}/{name}/k", b"no").status == 403


def test_delete_objects_asks_the_policy_per_key(alice, anon, bucket):
    for key in ("keep/a", "other/b", "drop/c"):
        alice.put_object(Bucket=bucket, Key=key, Body=b"x")
    alice.put_bucket_policy(Bucket=bucket, Policy=document(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
         "Resource": f"arn:aws:s3:::{bucket}/keep/*"},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:DeleteObject",
         "Resource": f"arn:aws:s3:::{bucket}/drop/*"}))
    answer = alice.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep/a"}, {"Key": "other/b"}]})
    assert [d["Key"] for d in answer.get("Deleted", [])] == ["other/b"]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("keep/a", "AccessDenied")]
    # Anonymous: only the keys the policy allows.
    alice.put_object(Bucket=bucket, Key="other/b", Body=b"x")
    answer = anon.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "drop/c"}, {"Key": "other/b"}]})
    assert [d["Key"] for d in answer.get("Deleted", [])] == ["drop/c"]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("other/b", "AccessDenied")]
    assert sorted(keys_of(alice, bucket)) == ["keep/a", "other/b"]


# ---------------------------------------------------------------------------
# public access block (PutPublicAccessBlock), ownership controls and ACL reads
# ---------------------------------------------------------------------------

PUBLIC_READ = lambda name: document(  # noqa: E731
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"})


def block(client, name, **switches):
    config = {k: switches.get(k, False) for k in
              ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
    client.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=config)


def test_block_public_policy_refuses_a_public_policy(alice, bucket):
    block(alice, bucket, BlockPublicPolicy=True)
    expect_error(alice.put_bucket_policy, 403, "AccessDenied", Bucket=bucket, Policy=PUBLIC_READ(bucket))
    expect_error(alice.get_bucket_policy, 404, "NoSuchBucketPolicy", Bucket=bucket)
    # A policy that names the tenant's account only is not public: allowed.
    alice.put_bucket_policy(Bucket=bucket, Policy=document(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::acme:root"}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}))
    # Once the block is gone, a public policy is accepted again.
    alice.delete_public_access_block(Bucket=bucket)
    expect_error(alice.get_public_access_block, 404, "NoSuchPublicAccessBlockConfiguration", Bucket=bucket)
    alice.put_bucket_policy(Bucket=bucket, Policy=PUBLIC_READ(bucket))


def test_restrict_public_buckets_turns_a_public_policy_off_for_anonymous(world, alice, anon, bucket):
    alice.put_object(Bucket=bucket, Key="page.html", Body=b"<p>hi</p>")
    alice.put_bucket_policy(Bucket=bucket, Policy=PUBLIC_READ(bucket))
    url = f"{world.server.endpoint.url}/{bucket}/page.html"
    assert http_call("GET", url).status == 200
    block(alice, bucket, RestrictPublicBuckets=True)
    got = alice.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert got == {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
                   "RestrictPublicBuckets": True}
    assert http_call("GET", url).status == 403
    expect_error(anon.get_object, 403, "AccessDenied", Bucket=bucket, Key="page.html")
    # The owner's side is not affected.
    assert alice.get_object(Bucket=bucket, Key="page.html")["Body"].read() == b"<p>hi</p>"
    alice.delete_public_access_block(Bucket=bucket)
    assert http_call("GET", url).status == 200


def test_public_access_block_survives_a_restart(server_factory):
    server = server_factory.create()
    server.start()
    name = unique_bucket_name("pab-restart")
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket=name)
    block(s3, name, BlockPublicAcls=True, BlockPublicPolicy=True)
    assert server.stop() == 0
    server.start()
    got = make_client(server.endpoint).get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert (got["BlockPublicAcls"], got["BlockPublicPolicy"], got["RestrictPublicBuckets"]) == (True, True, False)


def test_acls_read_as_owner_full_control_while_disabled(alice, anon, bucket):
    alice.put_object(Bucket=bucket, Key="k", Body=b"x")
    owner = alice.get_bucket_acl(Bucket=bucket)
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in owner["Grants"]] == [(owner["Owner"]["ID"], "FULL_CONTROL")]
    assert alice.get_object_acl(Bucket=bucket, Key="k")["Owner"] == owner["Owner"]
    controls = alice.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert controls == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    # The owner's full control is what every bucket has: accepted; anything more is refused.
    alice.put_object_acl(Bucket=bucket, Key="k", ACL="bucket-owner-full-control")
    alice.put_bucket_acl(Bucket=bucket, ACL="private")
    expect_error(alice.put_object_acl, 400, "AccessControlListNotSupported", Bucket=bucket, Key="k",
                 ACL="public-read")
    expect_error(alice.put_bucket_acl, 400, "AccessControlListNotSupported", Bucket=bucket,
                 GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')
    # Still private: nothing became readable (enabling ACLs: test_acl.py).
    expect_error(anon.get_object, 403, "AccessDenied", Bucket=bucket, Key="k")


def test_existing_object_tags_decide_reads(world, alice, root, anon, bucket):
    """`s3:ExistingObjectTag/<key>`: a public read of the objects tagged public, and a Deny of
    what is tagged secret that holds even for the bucket's own users."""
    policy = document(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/visibility": "public"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "secret"}}},
    )  # fmt: skip
    alice.put_bucket_policy(Bucket=bucket, Policy=policy)
    alice.put_object(Bucket=bucket, Key="shared", Body=b"s", Tagging="visibility=public")
    alice.put_object(Bucket=bucket, Key="plain", Body=b"p")
    alice.put_object(Bucket=bucket, Key="secret", Body=b"x", Tagging="classification=secret")
    assert anon.get_object(Bucket=bucket, Key="shared")["Body"].read() == b"s"
    expect_error(anon.get_object, 403, "AccessDenied", Bucket=bucket, Key="plain")
    assert alice.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"p"
    expect_error(alice.get_object, 403, "AccessDenied", Bucket=bucket, Key="secret")
    # Retagging changes the answer at once.
    alice.put_object_tagging(Bucket=bucket, Key="shared", Tagging={"TagSet": [{"Key": "visibility", "Value": "no"}]})
    expect_error(anon.get_object, 403, "AccessDenied", Bucket=bucket, Key="shared")
    # Root is never refused, so it can clean up.
    assert root.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"x"


def test_object_lock_condition_keys_bound_retention(world, alice, root):
    """`s3:object-lock-mode` and `s3:object-lock-remaining-retention-days` from the request's
    headers: AWS's example that caps the retention a writer may set."""
    import datetime

    name = unique_bucket_name("lock-keys")
    alice.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    policy = document(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{name}/*",
         "Condition": {"NumericGreaterThan": {"s3:object-lock-remaining-retention-days": "30"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{name}/*",
         "Condition": {"StringEquals": {"s3:object-lock-mode": "COMPLIANCE"}}},
    )  # fmt: skip
    alice.put_bucket_policy(Bucket=name, Policy=policy)
    now = datetime.datetime.now(datetime.timezone.utc)

    def put(key, mode, days):
        return alice.put_object(Bucket=name, Key=key, Body=b"v", ObjectLockMode=mode,
                                ObjectLockRetainUntilDate=now + datetime.timedelta(days=days))

    version = put("short", "GOVERNANCE", 10)["VersionId"]
    expect_error(put, 403, "AccessDenied", key="long", mode="GOVERNANCE", days=40)
    expect_error(put, 403, "AccessDenied", key="compliance", mode="COMPLIANCE", days=1)
    alice.put_object(Bucket=name, Key="unlocked", Body=b"u")
    versions = root.list_object_versions(Bucket=name).get("Versions", [])
    assert sorted(v["Key"] for v in versions) == ["short", "unlocked"]
    root.delete_bucket_policy(Bucket=name)
    root.delete_object(Bucket=name, Key="short", VersionId=version, BypassGovernanceRetention=True)
    for item in root.list_object_versions(Bucket=name).get("Versions", []):
        root.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
    root.delete_bucket(Bucket=name)


def test_a_tenant_boundary_refusal_says_so_in_the_event_log(world, alice, bucket):
    """Another tenant's user is refused before any policy is asked: the event names the
    boundary as what decided it, with the action and the bucket's ARN."""
    before = len(denied_events(world.control, 0))
    alice.put_object(Bucket=bucket, Key="doc", Body=b"x")
    expect_error(world.client("bob").get_object, 403, "AccessDenied", Bucket=bucket, Key="doc")
    events = denied_events(world.control, before + 1)
    mine = [e for e in events if e.get("bucket") == bucket and e.get("key") == "doc"]
    assert mine, events[-3:]
    assert mine[-1]["decided_by"] == "tenant boundary: the bucket belongs to another tenant"
    assert (mine[-1]["iam_action"], mine[-1]["resource_arn"]) == ("s3:GetObject", f"arn:aws:s3:::{bucket}")

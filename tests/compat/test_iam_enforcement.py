"""Identity (IAM) policies in force on the S3 port (issue 17): the policies the admin attaches
to a user and their groups (pushed in the identity snapshot) are evaluated on every signed
request together with the bucket's policy, as AWS does within one account: an explicit Deny
anywhere wins, else an Allow anywhere allows, else tenant and global admins are allowed and
users denied. Snapshots are pushed over the control channel directly (test_admin_iam.py drives
the same through the console API)."""

from __future__ import annotations

import json

import pytest

from control_client import user
from harness import make_client, unique_bucket_name
from s3util import expect_error
from test_control_channel import World, world_server

pytestmark = pytest.mark.binary


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def managed(policy_id: str, *statements: dict) -> dict:
    return {"id": policy_id, "name": policy_id, "tenant_id": None, "document": document(*statements)}


READONLY = managed("ro", {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"})
HOME = managed("home",
               {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::*",
                "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}},
               {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::*/home/${aws:username}/*"})  # fmt: skip
NO_DELETE = managed("no-delete", {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"})


class IamWorld(World):
    """World's identities, plus policies and groups, pushed as the admin would."""

    def __init__(self, server, control):
        self.policies = [READONLY, HOME, NO_DELETE]
        self.groups = [{"id": "auditors", "name": "auditors", "tenant_id": "acme", "policy_ids": ["ro"]}]
        super().__init__(server, control)

    def set_user(self, name, tenant="acme", role="user", policy_ids=(), group_ids=()):
        self.users[name] = {**user(name, tenant, role=role, policy_ids=policy_ids), "group_ids": list(group_ids)}
        self.push()


@pytest.fixture(scope="module")
def world(module_tmp):
    with world_server(module_tmp("iam"), "iam", "iam-root-secret-0123456789", IamWorld) as world:
        yield world


@pytest.fixture
def bucket(world):
    """A bucket of tenant acme with one object, created by the tenant admin."""
    admin = world.client("anna")
    name = unique_bucket_name("iam")
    admin.create_bucket(Bucket=name)
    admin.put_object(Bucket=name, Key="doc", Body=b"shared")
    admin.put_object(Bucket=name, Key="home/alice/notes", Body=b"mine")
    yield name
    root = make_client(world.server.endpoint)
    for item in root.list_objects_v2(Bucket=name).get("Contents", []):
        root.delete_object(Bucket=name, Key=item["Key"])
    root.delete_bucket(Bucket=name)


def test_a_read_only_user_reads_and_writes_nothing(world, bucket):
    world.set_user("alice", policy_ids=("ro",))
    alice = world.client("alice")
    assert alice.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    assert [o["Key"] for o in alice.list_objects_v2(Bucket=bucket)["Contents"]] == ["doc", "home/alice/notes"]
    expect_error(alice.put_object, 403, "AccessDenied", Bucket=bucket, Key="new", Body=b"x")
    expect_error(alice.delete_object, 403, "AccessDenied", Bucket=bucket, Key="doc")
    expect_error(alice.create_bucket, 403, "AccessDenied", Bucket=unique_bucket_name("nope"))
    # Storage unchanged after the denials.
    root = make_client(world.server.endpoint)
    assert root.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    expect_error(root.head_object, 404, "404", Bucket=bucket, Key="new")


def test_a_user_without_a_policy_may_do_nothing(world, bucket):
    world.set_user("alice", policy_ids=())
    alice = world.client("alice")
    expect_error(alice.get_object, 403, "AccessDenied", Bucket=bucket, Key="doc")
    expect_error(alice.list_buckets, 403, "AccessDenied")


def test_a_prefix_scoped_user_sees_only_their_home(world, bucket):
    world.set_user("alice", policy_ids=("home",))
    alice = world.client("alice")
    assert alice.get_object(Bucket=bucket, Key="home/alice/notes")["Body"].read() == b"mine"
    alice.put_object(Bucket=bucket, Key="home/alice/new", Body=b"ok")
    listed = alice.list_objects_v2(Bucket=bucket, Prefix="home/alice/")["Contents"]
    assert [o["Key"] for o in listed] == ["home/alice/new", "home/alice/notes"]
    expect_error(alice.get_object, 403, "AccessDenied", Bucket=bucket, Key="doc")
    expect_error(alice.put_object, 403, "AccessDenied", Bucket=bucket, Key="home/bob/x", Body=b"x")
    expect_error(alice.list_objects_v2, 403, "AccessDenied", Bucket=bucket)


def test_group_policies_apply_to_members(world, bucket):
    world.set_user("alice", policy_ids=(), group_ids=("auditors",))
    alice = world.client("alice")
    assert alice.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    expect_error(alice.put_object, 403, "AccessDenied", Bucket=bucket, Key="new", Body=b"x")


def test_an_explicit_deny_binds_even_a_tenant_admin(world, bucket):
    world.set_user("anna", role="tenant_admin", policy_ids=("no-delete",))
    anna = world.client("anna")
    anna.put_object(Bucket=bucket, Key="fresh", Body=b"x")  # the role still grants the rest
    expect_error(anna.delete_object, 403, "AccessDenied", Bucket=bucket, Key="fresh")
    world.set_user("anna", role="tenant_admin", policy_ids=())
    anna.delete_object(Bucket=bucket, Key="fresh")


def test_a_policy_never_crosses_the_tenant_boundary(world, bucket):
    # bob (tenant globex) with read-write on every resource still cannot reach acme's bucket.
    world.set_user("bob", tenant="globex", policy_ids=("readwrite",))
    expect_error(world.client("bob").get_object, 403, "AccessDenied", Bucket=bucket, Key="doc")


def test_every_condition_key_the_server_provides_is_read_when_a_statement_needs_it(world, bucket):
    # The keys are found in the request only when a statement reads them: each one here must
    # hold its expected value for the only Allow to apply (alice has no policy of her own).
    world.set_user("alice", policy_ids=())
    conditions = {
        "StringLike": {"aws:UserAgent": "*Boto3/*"},
        "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
        "NumericGreaterThan": {"aws:EpochTime": "1577836800"},
        "StringEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256", "s3:authType": "REST-HEADER",
                         "aws:PrincipalType": "User", "aws:username": "alice",
                         "aws:PrincipalAccount": "acme"},
        "Bool": {"aws:SecureTransport": "false"},
        "IpAddress": {"aws:SourceIp": "127.0.0.0/8"},
        "Null": {"aws:Referer": "true", "s3:x-amz-acl": "true"},
    }
    policy = document(
        {"Sid": "Conditions", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": conditions},
        {"Sid": "Listing", "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringEquals": {"s3:prefix": "home/", "s3:delimiter": "/", "s3:max-keys": "5"}}},
    )  # fmt: skip
    world.client("anna").put_bucket_policy(Bucket=bucket, Policy=policy)
    alice = world.client("alice")
    assert alice.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    listed = alice.list_objects_v2(Bucket=bucket, Prefix="home/", Delimiter="/", MaxKeys=5)
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["home/alice/"]
    expect_error(alice.list_objects_v2, 403, "AccessDenied", Bucket=bucket, Prefix="home/", MaxKeys=5)
    # A header the Null condition requires absent: the Allow no longer applies.
    def add_referer(request, **_):
        request.headers["Referer"] = "https://example.com/"
    alice.meta.events.register("before-sign.s3.GetObject", add_referer)
    expect_error(alice.get_object, 403, "AccessDenied", Bucket=bucket, Key="doc")

"""Session credentials (STS, issue 17): the STS API on the S3 port (AssumeRole,
GetSessionToken, GetCallerIdentity through boto3's STS client and `aws sts`), session tokens
on header, presigned and POST auth, session policies that narrow and never widen, expiry,
revocation, and the console API's minting for a logged-in user."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

from admin_harness import console_stack
from harness import client_config, client_env, make_client, run_aws, unique_bucket_name
from s3util import REGION, Endpoint, error_of, expect_error
from test_control_channel import World, world_server
from test_cors import preflight
from test_post_object import post_form

pytestmark = pytest.mark.binary

READ_HOME = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}],
})
EVERYTHING = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
})
READONLY = {
    "id": "ro", "name": "ro", "tenant_id": None,
    "document": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}),
}  # fmt: skip


class StsWorld(World):
    policies = [READONLY]

    def sts(self, name: str | None = None, **credentials):
        """boto3's STS client for a user's key (or explicit credentials); it leaves the
        checking of parameters to the server."""
        if name is not None:
            key = self.keys[name]
            credentials = {"aws_access_key_id": key["access_key_id"],
                           "aws_secret_access_key": key["secret_access_key"]}
        return boto3.session.Session().client(
            "sts", endpoint_url=self.server.endpoint.url, region_name=REGION,
            config=client_config(parameter_validation=False), **credentials)  # fmt: skip


def session_s3(world, credentials: dict, **config):
    return boto3.session.Session().client(
        "s3", endpoint_url=world.server.endpoint.url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=client_config(**config),
    )  # fmt: skip


def session_sts(world, credentials: dict):
    return world.sts(aws_access_key_id=credentials["AccessKeyId"],
                     aws_secret_access_key=credentials["SecretAccessKey"],
                     aws_session_token=credentials["SessionToken"])  # fmt: skip


@pytest.fixture(scope="module")
def world(module_tmp):
    with world_server(module_tmp("sts"), "sts", "sts-root-secret-0123456789", StsWorld) as world:
        yield world


@pytest.fixture
def bucket(world):
    """A bucket of tenant acme with one object; alice is reset to readwrite."""
    world.users["alice"].update(policy_ids=["readwrite"], enabled=True, sessions_revoked_at_ms=None)
    world.push()
    name = unique_bucket_name("sts")
    anna = world.client("anna")
    anna.create_bucket(Bucket=name)
    anna.put_object(Bucket=name, Key="doc", Body=b"shared")
    yield name
    root = make_client(world.server.endpoint)
    for item in root.list_objects_v2(Bucket=name).get("Contents", []):
        root.delete_object(Bucket=name, Key=item["Key"])
    root.delete_bucket(Bucket=name)


def test_get_session_token_acts_as_the_user(world, bucket):
    alice_id = world.sts("alice").get_caller_identity()
    assert alice_id["Arn"] == "arn:aws:iam::acme:user/alice"
    assert (alice_id["UserId"], alice_id["Account"]) == ("alice", "acme")
    answer = world.sts("alice").get_session_token(DurationSeconds=900)
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and len(credentials["AccessKeyId"]) == 20
    remaining = credentials["Expiration"].timestamp() - time.time()
    assert 800 < remaining <= 900
    s3 = session_s3(world, credentials)
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    s3.put_object(Bucket=bucket, Key="by-session", Body=b"hello")
    assert make_client(world.server.endpoint).get_object(Bucket=bucket, Key="by-session")["Body"].read() == b"hello"
    # The user's tenant boundary holds: only acme's buckets, never another tenant's.
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    bob_bucket = unique_bucket_name("bob")
    world.client("bob").create_bucket(Bucket=bob_bucket)
    try:
        expect_error(s3.list_objects_v2, 403, "AccessDenied", Bucket=bob_bucket)
    finally:
        world.client("bob").delete_bucket(Bucket=bob_bucket)
    assert session_sts(world, credentials).get_caller_identity()["Arn"] == alice_id["Arn"]


def test_a_session_has_no_more_than_its_user(world, bucket):
    world.users["alice"]["policy_ids"] = ["ro"]
    world.push()
    credentials = world.sts("alice").assume_role(
        RoleArn="arn:aws:iam::acme:role/anything", RoleSessionName="widen", Policy=EVERYTHING)["Credentials"]
    s3 = session_s3(world, credentials)
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    expect_error(s3.put_object, 403, "AccessDenied", Bucket=bucket, Key="x", Body=b"x")
    expect_error(make_client(world.server.endpoint).head_object, 404, "404", Bucket=bucket, Key="x")


def test_assume_role_with_a_session_policy_narrows(world, bucket):
    sts = world.sts("alice")
    answer = sts.assume_role(RoleArn="arn:aws:iam::acme:role/reader", RoleSessionName="reader-1",
                             Policy=READ_HOME, DurationSeconds=900)  # fmt: skip
    assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::acme:assumed-role/reader/reader-1"
    assert answer["AssumedRoleUser"]["AssumedRoleId"] == "alice:reader-1"
    assert 0 < answer["PackedPolicySize"] <= 100
    s3 = session_s3(world, answer["Credentials"])
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["doc"]
    expect_error(s3.put_object, 403, "AccessDenied", Bucket=bucket, Key="nope", Body=b"x")
    expect_error(s3.delete_object, 403, "AccessDenied", Bucket=bucket, Key="doc")
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "doc"}]})
    assert [e["Code"] for e in deleted.get("Errors", [])] == ["AccessDenied"]
    root = make_client(world.server.endpoint)
    assert root.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    expect_error(root.head_object, 404, "404", Bucket=bucket, Key="nope")
    me = session_sts(world, answer["Credentials"]).get_caller_identity()
    assert me["Arn"] == "arn:aws:sts::acme:assumed-role/reader/reader-1"


def test_presigned_and_post_uploads_carry_the_token(world, bucket):
    credentials = world.sts("alice").get_session_token()["Credentials"]
    s3 = session_s3(world, credentials)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc"}, ExpiresIn=300)
    assert "X-Amz-Security-Token=" in url
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"shared"
    # Another session's token in the URL: the signature covers the query, and the token
    # names another key.
    other = world.sts("alice").get_session_token()["Credentials"]
    swapped = url.replace(
        urllib.parse.quote(credentials["SessionToken"], safe=""), urllib.parse.quote(other["SessionToken"], safe=""))
    assert swapped != url
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(swapped)
    assert refused.value.code == 400 and b"<Code>InvalidToken</Code>" in refused.value.read()
    post = s3.generate_presigned_post(bucket, "posted")
    assert "x-amz-security-token" in post["fields"]
    ep = world.server.endpoint
    endpoint = Endpoint(ep.host, ep.port, credentials["AccessKeyId"], credentials["SecretAccessKey"])
    response = post_form(endpoint, bucket, post["fields"], b"via form")
    assert response.status == 204, response.body
    assert make_client(world.server.endpoint).get_object(Bucket=bucket, Key="posted")["Body"].read() == b"via form"


def test_bad_tokens_are_refused(world, bucket):
    credentials = world.sts("alice").get_session_token()["Credentials"]
    other = world.sts("alice").get_session_token()["Credentials"]
    token = credentials["SessionToken"]
    tampered = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    cases = [
        ({**credentials, "SessionToken": tampered}, 400, "InvalidToken"),
        ({**credentials, "SessionToken": other["SessionToken"]}, 400, "InvalidToken"),
        ({**credentials, "SessionToken": "x" * 9000}, 400, "InvalidToken"),
        # A long-term key with a token.
        ({"AccessKeyId": world.keys["alice"]["access_key_id"],
          "SecretAccessKey": world.keys["alice"]["secret_access_key"], "SessionToken": token}, 400, "InvalidToken"),
    ]  # fmt: skip
    for bad, status, code in cases:
        expect_error(session_s3(world, bad).get_object, status, code, Bucket=bucket, Key="doc")
    # A session key without its token is unknown.
    no_token = make_client(world.server.endpoint, access_key=credentials["AccessKeyId"],
                           secret_key=credentials["SecretAccessKey"])  # fmt: skip
    expect_error(no_token.get_object, 403, "InvalidAccessKeyId", Bucket=bucket, Key="doc")
    # The right token with the wrong secret.
    wrong = {**credentials, "SecretAccessKey": other["SecretAccessKey"]}
    expect_error(session_s3(world, wrong).get_object, 403, "SignatureDoesNotMatch", Bucket=bucket, Key="doc")


def test_sessions_expire_and_are_revoked(world, bucket):
    minted = world.control.call({"type": "mint_session", "user_id": "alice", "duration_secs": 2})
    credentials = {"AccessKeyId": minted["access_key_id"], "SecretAccessKey": minted["secret_access_key"],
                   "SessionToken": minted["session_token"]}  # fmt: skip
    s3 = session_s3(world, credentials)
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    time.sleep(max(0.0, minted["expires_at"] - time.time()) + 0.2)
    expect_error(s3.get_object, 400, "ExpiredToken", Bucket=bucket, Key="doc")
    # Revoking the user's sessions refuses the ones issued before, not the ones after.
    before = session_s3(world, world.sts("alice").get_session_token()["Credentials"])
    assert before.head_object(Bucket=bucket, Key="doc")["ContentLength"] == 6
    world.users["alice"]["sessions_revoked_at_ms"] = int(time.time() * 1000)
    world.push()
    expect_error(before.get_object, 403, "AccessDenied", Bucket=bucket, Key="doc")
    time.sleep(0.01)
    after = session_s3(world, world.sts("alice").get_session_token()["Credentials"])
    assert after.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    # A disabled user's sessions stop; their long-term key too.
    world.users["alice"]["enabled"] = False
    world.push()
    expect_error(after.get_object, 403, "AccessDenied", Bucket=bucket, Key="doc")
    with pytest.raises(ClientError) as refused:
        world.sts("alice").get_session_token()
    assert error_of(refused.value) == (403, "AccessDenied")
    # Nor does the admin get a session minted for a disabled or unknown user.
    for user_id in ("alice", "nobody"):
        minted = world.control.raw({"type": "mint_session", "user_id": user_id, "duration_secs": 60})
        assert (minted["type"], minted["code"]) == ("error", "AccessDenied"), minted


def sts_error(call, **kwargs) -> tuple[int, str]:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    return error_of(refused.value)


def test_sts_refuses_what_aws_refuses(world, bucket):
    sts = world.sts("alice")
    role = {"RoleArn": "arn:aws:iam::acme:role/r", "RoleSessionName": "s"}
    assert sts_error(sts.get_session_token, DurationSeconds=100) == (400, "ValidationError")
    assert sts_error(sts.assume_role, **role) == (400, "ValidationError")  # name too short
    role["RoleSessionName"] = "ok-name"
    assert sts_error(sts.assume_role, **role, DurationSeconds=43201) == (400, "ValidationError")
    assert sts_error(sts.assume_role, **role, Policy="{not json") == (400, "MalformedPolicyDocument")
    big = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "s" * 3000, "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    assert sts_error(sts.assume_role, **role, Policy=big) == (400, "PackedPolicyTooLarge")
    assert sts_error(sts.assume_role, **role, SerialNumber="arn:aws:iam::acme:mfa/a", TokenCode="123456") \
        == (403, "AccessDenied")  # fmt: skip
    root = world.sts(aws_access_key_id="root", aws_secret_access_key="sts-root-secret-0123456789")
    assert root.get_caller_identity()["Arn"] == "arn:aws:iam::global:root"
    assert sts_error(root.get_session_token) == (403, "AccessDenied")
    session = session_sts(world, sts.get_session_token()["Credentials"])
    assert sts_error(session.get_session_token) == (403, "AccessDenied")
    assert sts_error(session.assume_role, **role) == (403, "AccessDenied")
    unknown = world.sts(aws_access_key_id="MXNOSUCHKEY000000000", aws_secret_access_key="x" * 40)
    assert sts_error(unknown.get_caller_identity) == (403, "InvalidClientTokenId")
    wrong = world.sts(aws_access_key_id=world.keys["alice"]["access_key_id"], aws_secret_access_key="x" * 40)
    assert sts_error(wrong.get_caller_identity) == (403, "SignatureDoesNotMatch")
    # Nothing was minted for any of them: storage unchanged.
    assert [o["Key"] for o in make_client(world.server.endpoint).list_objects_v2(Bucket=bucket)["Contents"]] == ["doc"]


def test_aws_cli_assume_role_credentials_work(world, bucket, tmp_path):
    key = world.keys["alice"]
    ep = world.server.endpoint
    alice = Endpoint(ep.host, ep.port, key["access_key_id"], key["secret_access_key"])
    answer = run_aws(alice, tmp_path, "sts", "assume-role", "--role-arn", "arn:aws:iam::acme:role/cli",
                     "--role-session-name", "cli-session", "--duration-seconds", "900", "--output", "json")
    credentials = json.loads(answer.stdout)["Credentials"]
    session = Endpoint(ep.host, ep.port, credentials["AccessKeyId"], credentials["SecretAccessKey"])
    env = {**client_env(session, tmp_path), "AWS_SESSION_TOKEN": credentials["SessionToken"]}

    def aws(*args: str):
        command = [sys.executable, "-m", "awscli", "--endpoint-url", ep.url, *args, "--output", "json"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    listed = aws("s3api", "list-objects-v2", "--bucket", bucket)
    who = aws("sts", "get-caller-identity")
    assert [o["Key"] for o in listed["Contents"]] == ["doc"]
    assert who["Arn"] == "arn:aws:sts::acme:assumed-role/cli/cli-session"


# -- the console API mints for the logged-in user -------------------------------------------


@pytest.fixture(scope="module")
def stack(module_tmp):
    yield from console_stack(module_tmp("sts-console"))


def test_the_console_mints_credentials_with_the_users_rights(stack):
    root = stack.root()
    bucket = unique_bucket_name("console-sts")
    root.post("/api/v1/buckets", {"name": bucket})
    root.post("/api/v1/users", {"username": "viewer", "password": "Viewer-password-1", "role": "user"})
    root.delete("/api/v1/users/viewer/policies/readwrite")
    root.put("/api/v1/users/viewer/policies/readonly", None)
    viewer = stack.console().login("viewer", "Viewer-password-1")
    minted = viewer.post("/api/v1/auth/s3-credentials", {"durationSeconds": 900})
    assert minted["accessKeyId"].startswith("ASIA")
    assert 800 < minted["expiresAt"] - time.time() <= 900
    # Where to use them: `maxiofs up` hands the admin its S3 address and region.
    assert (minted["endpoint"], minted["region"]) == (stack.endpoint.url, "us-east-1")
    s3 = boto3.session.Session().client(
        "s3", endpoint_url=stack.endpoint.url, aws_access_key_id=minted["accessKeyId"],
        aws_secret_access_key=minted["secretAccessKey"], aws_session_token=minted["sessionToken"],
        config=client_config())  # fmt: skip
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    expect_error(s3.put_object, 403, "AccessDenied", Bucket=bucket, Key="x", Body=b"x")
    # `maxiofs up` lets the console's pages call the S3 port (CORS for its origin, any bucket).
    status, headers, _ = preflight(stack.endpoint, f"/{bucket}/k", stack.console_url, "PUT", "authorization")
    assert (status, headers.get("access-control-allow-origin")) == (200, stack.console_url)
    # A narrower session policy; a malformed one is refused with the reason.
    narrowed = viewer.post("/api/v1/auth/s3-credentials", {"policy": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}})
    denied = boto3.session.Session().client(
        "s3", endpoint_url=stack.endpoint.url, aws_access_key_id=narrowed["accessKeyId"],
        aws_secret_access_key=narrowed["secretAccessKey"], aws_session_token=narrowed["sessionToken"],
        config=client_config())  # fmt: skip
    expect_error(denied.list_buckets, 403, "AccessDenied")
    status, _, payload = viewer.raw("POST", "/api/v1/auth/s3-credentials", {"policy": "{nope"})
    assert (status, json.loads(payload)["error"]["code"]) == (400, "MalformedPolicy"), payload
    # The root identity has no user: no sessions.
    status, _, _ = root.raw("POST", "/api/v1/auth/s3-credentials", {})
    assert status == 400
    # Revoking the viewer's sessions is in force when the console answers.
    root.post("/api/v1/users/viewer/sessions/revoke", {})
    expect_error(s3.list_buckets, 403, "AccessDenied")
    root.delete(f"/api/v1/buckets/{bucket}")

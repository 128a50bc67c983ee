"""IAM on the console API of a real `maxiofs up`, black box: managed policies (validated,
scoped per tenant, built-ins read-only, refused deletion while attached), groups and
membership, user attachments and effective policies, the `readwrite` default for new users,
the audit entries, and the OpenAPI document listing the routes. Authorization on the S3 port
by these policies is tested in test_iam_enforcement.py; here only what the console answers is
checked: that a user created with the default still works on S3, as before policies, and that
a policy's denial reaches the audit log with what decided it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from admin_harness import ApiError, Console, UpProcess, console_stack, unique, wait_for
from harness import make_client

pytestmark = pytest.mark.binary

PASSWORD = "Correct-Horse-9"
READ_PHOTOS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                   "Resource": "arn:aws:s3:::photos/*"}],
}
BUILTINS = {"readonly", "readwrite", "writeonly", "diagnostics"}
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"


@pytest.fixture(scope="module")
def stack(module_tmp):
    yield from console_stack(module_tmp("admin-iam"))


@pytest.fixture(scope="module")
def root(stack) -> Console:
    return stack.root()


def tenant_admin(stack: UpProcess, root: Console) -> tuple[dict, Console]:
    tenant = root.post("/api/v1/tenants", {"name": unique("t")})
    name = unique("ta")
    root.post("/api/v1/users", {"username": name, "password": PASSWORD,
                                "role": "tenant_admin", "tenant_id": tenant["name"]})
    return tenant, stack.console().login(name, PASSWORD)


def make_user(admin: Console, **extra) -> dict:
    return admin.post("/api/v1/users", {"username": unique("u"), "password": PASSWORD, **extra})


def refused(call, status: int, code: str | None = None) -> ApiError:
    with pytest.raises(ApiError) as error:
        call()
    assert error.value.status == status, error.value.body
    if code is not None:
        assert error.value.code == code, error.value.body
    return error.value


def ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]


def test_builtins_are_listed_and_read_only(root):
    listed = root.get("/api/v1/policies")["policies"]
    builtins = {p["id"]: p for p in listed if p["builtin"]}
    assert set(builtins) == BUILTINS
    assert all(p["tenant_id"] is None and json.loads(p["document"]) for p in builtins.values())
    refused(lambda: root.put("/api/v1/policies/readonly", {"document": READ_PHOTOS}), 403)
    refused(lambda: root.delete("/api/v1/policies/readwrite"), 403)


def test_policy_lifecycle_validation_and_delete_conflict(stack, root):
    tenant, admin = tenant_admin(stack, root)
    error = refused(lambda: admin.post("/api/v1/policies", {
        "name": "bad", "document": {"Statement": [{"Effect": "Allow"}]}}), 400,
        "MalformedPolicyDocument")
    assert error.body["error"]["message"]
    policy = admin.post("/api/v1/policies", {"name": "read-photos", "document": READ_PHOTOS})
    assert policy["tenant_id"] == tenant["id"] and not policy["builtin"]
    refused(lambda: admin.post("/api/v1/policies", {"name": "read-photos",
                                                    "document": READ_PHOTOS}), 409)
    user = make_user(admin, policies=[])
    assert user["policies"] == []
    attached = admin.put(f"/api/v1/users/{user['username']}/policies/{policy['id']}", None)
    assert ids(attached["policies"]) == [policy["id"]]
    refused(lambda: admin.delete(f"/api/v1/policies/{policy['id']}"), 409, "DeleteConflict")
    document = dict(READ_PHOTOS, Statement=[dict(READ_PHOTOS["Statement"][0],
                                                 Resource="arn:aws:s3:::albums/*")])
    updated = admin.put(f"/api/v1/policies/{policy['id']}", {"document": document})
    assert json.loads(updated["document"]) == document
    # The user reads their own effective policies, and nothing else of IAM.
    own = stack.console().login(user["username"], PASSWORD)
    me = own.get(f"/api/v1/users/{user['username']}")
    assert me["effective_policies"] == [
        {"id": policy["id"], "name": "read-photos", "via_group": None}]
    assert own.get(f"/api/v1/policies/{policy['id']}")["id"] == policy["id"]
    refused(lambda: own.get("/api/v1/policies"), 403)
    refused(lambda: own.put(f"/api/v1/users/{user['username']}/policies/readwrite", None), 403)

    admin.delete(f"/api/v1/users/{user['username']}/policies/{policy['id']}")
    admin.delete(f"/api/v1/policies/{policy['id']}")
    refused(lambda: admin.get(f"/api/v1/policies/{policy['id']}"), 403)
    events = {e["event_type"] for e in admin.get("/api/v1/audit-logs?page_size=1000")["logs"]}
    assert {"policy_created", "policy_updated", "policy_deleted", "user_policy_attached",
            "user_policy_detached"} <= events


def test_tenants_do_not_see_or_attach_each_others(stack, root):
    _, one = tenant_admin(stack, root)
    _, two = tenant_admin(stack, root)
    theirs = two.post("/api/v1/policies", {"name": "theirs", "document": READ_PHOTOS})
    group = two.post("/api/v1/groups", {"name": "ops"})
    assert theirs["id"] not in ids(one.get("/api/v1/policies")["policies"])
    assert group["id"] not in ids(one.get("/api/v1/groups")["groups"])
    refused(lambda: one.get(f"/api/v1/groups/{group['id']}"), 403)
    user = make_user(one)
    refused(lambda: one.put(f"/api/v1/users/{user['username']}/policies/{theirs['id']}", None),
            403)
    refused(lambda: root.put(f"/api/v1/users/{user['username']}/policies/{theirs['id']}", None),
            403)
    refused(lambda: make_user(one, policies=[theirs["id"]]), 403)


def test_groups_give_their_members_their_policies(stack, root):
    _, admin = tenant_admin(stack, root)
    user = make_user(admin)
    assert ids(user["policies"]) == ["readwrite"], "the default for a new user"
    group = admin.post("/api/v1/groups", {"name": "auditors"})
    admin.put(f"/api/v1/groups/{group['id']}/members/{user['username']}", None)
    shown = admin.put(f"/api/v1/groups/{group['id']}/policies/diagnostics", None)
    assert ids(shown["members"]) == [user["id"]] and ids(shown["policies"]) == ["diagnostics"]
    answer = admin.get(f"/api/v1/users/{user['username']}")
    assert ids(answer["groups"]) == [group["id"]]
    assert answer["effective_policies"] == [
        {"id": "readwrite", "name": "readwrite", "via_group": None},
        {"id": "diagnostics", "name": "diagnostics", "via_group": "auditors"},
    ]
    renamed = admin.put(f"/api/v1/groups/{group['id']}", {"name": "auditors-2"})
    assert renamed["name"] == "auditors-2"
    admin.delete(f"/api/v1/groups/{group['id']}/members/{user['username']}")
    admin.delete(f"/api/v1/groups/{group['id']}")
    after = admin.get(f"/api/v1/users/{user['username']}")
    assert after["groups"] == [] and ids(after["effective_policies"]) == ["readwrite"]


def test_a_new_user_with_the_default_still_works_on_s3(stack, root):
    _, admin = tenant_admin(stack, root)
    user = make_user(admin)
    key = admin.post(f"/api/v1/users/{user['username']}/access-keys")
    s3 = make_client(stack.endpoint, access_key=key["access_key_id"],
                     secret_key=key["secret_access_key"])
    bucket = unique("b")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def denied_request_id(call, **kwargs) -> str:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    error = refused.value.response
    assert error["Error"]["Code"] == "AccessDenied"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    return error["ResponseMetadata"]["RequestId"]


def test_a_policy_denial_is_audited_with_what_decided_it(stack, root):
    tenant = root.post("/api/v1/tenants", {"name": unique("t")})
    owner = root.post("/api/v1/users", {"username": unique("ta"), "password": PASSWORD,
                                        "role": "tenant_admin", "tenant_id": tenant["name"]})
    admin = stack.console().login(owner["username"], PASSWORD)
    no_deletes = admin.post("/api/v1/policies", {"name": "no-deletes", "document": {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject",
                       "Resource": "*"}]}})
    user = make_user(admin, policies=["readonly", no_deletes["id"]])

    def s3(name):
        key = admin.post(f"/api/v1/users/{name}/access-keys")
        return make_client(stack.endpoint, access_key=key["access_key_id"],
                           secret_key=key["secret_access_key"])
    bucket = unique("audited")
    owner_s3 = s3(owner["username"])
    owner_s3.create_bucket(Bucket=bucket)
    owner_s3.put_object(Bucket=bucket, Key="kept", Body=b"x")
    owner_s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/secret"}]}))  # fmt: skip
    alice = s3(user["username"])
    explicit_id = denied_request_id(alice.delete_object, Bucket=bucket, Key="kept")
    implicit_id = denied_request_id(alice.put_object, Bucket=bucket, Key="new", Body=b"x")
    bucket_id = denied_request_id(alice.get_object, Bucket=bucket, Key="secret")

    def denials():
        logs = admin.get("/api/v1/audit-logs?event_type=access_denied&page_size=1000")["logs"]
        entries = {entry["request_id"]: entry for entry in logs}
        return entries if {explicit_id, implicit_id, bucket_id} <= set(entries) else None
    entries = wait_for(denials, what="the denials in the audit log")
    explicit = entries[explicit_id]
    assert explicit["user_id"] == user["id"] and explicit["action"] == "DeleteObject"
    assert explicit["status"] == "denied" and explicit["http_status"] == 403
    decided_by = f'explicit deny: statement "NoDeletes" of user:{user["username"]}/no-deletes'
    assert explicit["details"]["iam_action"] == "s3:DeleteObject"
    assert explicit["details"]["resource_arn"] == f"arn:aws:s3:::{bucket}/kept"
    assert explicit["details"]["decided_by"] == decided_by
    implicit = entries[implicit_id]
    assert implicit["details"]["iam_action"] == "s3:PutObject"
    assert implicit["details"]["resource_arn"] == f"arn:aws:s3:::{bucket}/new"
    assert implicit["details"]["decided_by"] == "implicit deny: no statement allowed it"
    # A statement without a Sid is named by its index.
    by_bucket = entries[bucket_id]["details"]
    assert by_bucket["resource_arn"] == f"arn:aws:s3:::{bucket}/secret"
    assert by_bucket["decided_by"] == "explicit deny: statement 1 of the bucket policy"

    # The CSV export carries the same details.
    status, _, body = admin.raw("GET", "/api/v1/audit-logs/export?format=csv")
    assert status == 200
    rows = {row["request_id"]: row for row in csv.DictReader(io.StringIO(body.decode()))}
    assert json.loads(rows[explicit_id]["details"])["decided_by"] == decided_by


def test_the_openapi_document_lists_the_iam_routes(stack):
    document = json.loads(OPENAPI.read_text())
    paths = document["paths"]
    expected = {
        "/api/v1/policies": {"get", "post"},
        "/api/v1/policies/{policy}": {"get", "put", "delete"},
        "/api/v1/groups": {"get", "post"},
        "/api/v1/groups/{group}": {"get", "put", "delete"},
        "/api/v1/groups/{group}/members/{user}": {"put", "delete"},
        "/api/v1/groups/{group}/policies/{policy}": {"put", "delete"},
        "/api/v1/users/{user}/policies/{policy}": {"put", "delete"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    for schema in ("Policy", "PolicyRequest", "Group", "GroupRequest", "EffectivePolicy"):
        assert schema in document["components"]["schemas"]
    # And the admin serves them: an anonymous call is refused (401), not unknown (404).
    console = stack.console()
    for path, methods in expected.items():
        concrete = path.replace("{policy}", "readonly").replace("{group}", "g")
        status, _, _ = console.raw(sorted(methods)[0].upper(), concrete.replace("{user}", "u"))
        assert status == 401, (path, status)
    assert {"policies", "groups"} <= set(console.get("/api/v1/")["endpoints"])

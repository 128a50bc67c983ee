"""The admin process (`maxiofs admin`) and `maxiofs up`, black box: the console API on its own
port, identity pushed to the data plane, tenant isolation on both ports, quotas, 2FA, lockout,
live settings, the audit log (console actions and the data plane's event log) and the
supervisor. Everything runs against real processes started by `maxiofs up`."""

from __future__ import annotations

import csv
import io
import json
import os
import signal

import pytest
from botocore.exceptions import ClientError

from admin_harness import (
    ApiError, Console, UpProcess, console_stack, pid_alive, secret_of, totp, unique, wait_for,
)
from harness import make_client

pytestmark = pytest.mark.binary

PASSWORD = "Correct-Horse-9"



@pytest.fixture(scope="module")
def stack(module_tmp):
    yield from console_stack(module_tmp("admin"))


@pytest.fixture(scope="module")
def root(stack) -> Console:
    return stack.root()


def s3_client(stack: UpProcess, key: dict):
    return make_client(stack.endpoint, access_key=key["access_key_id"], secret_key=key["secret_access_key"])


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def make_tenant(root: Console, **quota) -> dict:
    return root.post("/api/v1/tenants", {"name": unique("t"), **quota})


def make_user(admin: Console, tenant: dict | None, role: str = "user", name: str | None = None) -> dict:
    body = {"username": name or unique("u"), "password": PASSWORD, "role": role}
    if tenant is not None:
        body["tenant_id"] = tenant["name"]
    return admin.post("/api/v1/users", body)


def audit(console: Console, **filters) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in {"page_size": 1000, **filters}.items())
    return console.get(f"/api/v1/audit-logs?{query}")["logs"]


def test_api_root_names_the_endpoint_groups(stack):
    body = stack.console().get("/api/v1/")
    assert body["name"] == "MaxIOFS"
    assert body["version"]
    for group in ("auth", "tenants", "users", "access_keys", "buckets", "settings", "audit_logs"):
        assert group in body["endpoints"]


def test_errors_are_json_whatever_fails(stack, root):
    console = stack.console()
    for method, path, body, status, code in (
        ("DELETE", "/api/v1/", None, 405, "MethodNotAllowed"),
        ("GET", "/api/v1/no-such-thing", None, 404, "NotFound"),
        ("POST", "/api/v1/auth/login", {"user": "x"}, 400, "InvalidRequest"),
    ):
        got, headers, payload = console.raw(method, path, body)
        assert got == status, (method, path, got, payload)
        assert headers["Content-Type"].startswith("application/json")
        assert json.loads(payload)["error"]["code"] == code
    got, _, payload = root.raw("GET", "/api/v1/audit-logs?page=minus-one")
    assert got == 400 and json.loads(payload)["error"]["code"] == "InvalidRequest"


def test_login_me_refresh_logout(stack):
    console = stack.console()
    with pytest.raises(ApiError) as bad:
        console.login(stack.root_user, "not-the-password")
    assert bad.value.status == 401
    assert bad.value.code == "InvalidCredentials"
    session = stack.root()
    me = session.get("/api/v1/auth/me")
    assert me["username"] == stack.root_user and me["role"] == "global_admin"
    refreshed = session.post("/api/v1/auth/refresh")
    assert refreshed["expires_in"] > 0
    session.post("/api/v1/auth/logout")
    with pytest.raises(ApiError) as gone:
        session.get("/api/v1/auth/me")
    assert gone.value.status == 401
    with pytest.raises(ApiError) as anonymous:
        console.get("/api/v1/users")
    assert anonymous.value.status == 401 and anonymous.value.code == "Unauthorized"


def test_tenant_admin_creates_a_user_and_key_that_works_on_s3_until_deleted(stack, root):
    tenant = make_tenant(root)
    admin_user = make_user(root, tenant, role="tenant_admin")
    tenant_admin = stack.console().login(admin_user["username"], PASSWORD)
    # The tenant admin's users land in their tenant.
    user = make_user(tenant_admin, None)
    assert user["tenant_id"] == tenant["id"]
    key = tenant_admin.post(f"/api/v1/users/{user['username']}/access-keys")
    assert key["secret_access_key"], "the secret is returned once"
    listed = tenant_admin.get(f"/api/v1/users/{user['username']}/access-keys")["access_keys"]
    assert [k["access_key_id"] for k in listed] == [key["access_key_id"]]
    assert all("secret_access_key" not in k for k in listed)

    # In force on the S3 port as soon as the console answered.
    s3 = s3_client(stack, key)
    bucket = unique("b")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hello"
    buckets = tenant_admin.get("/api/v1/buckets")["buckets"]
    mine = [b for b in buckets if b["name"] == bucket]
    assert mine and mine[0]["tenant_id"] == tenant["id"] and mine[0]["owner"] == user["username"]

    # Disabled: refused; enabled again: accepted.
    tenant_admin.put(f"/api/v1/users/{user['username']}/access-keys/{key['access_key_id']}",
                     {"status": "inactive"})
    with pytest.raises(ClientError):
        s3.list_objects_v2(Bucket=bucket)
    tenant_admin.put(f"/api/v1/users/{user['username']}/access-keys/{key['access_key_id']}",
                     {"status": "active"})
    s3.list_objects_v2(Bucket=bucket)

    tenant_admin.delete(f"/api/v1/users/{user['username']}/access-keys/{key['access_key_id']}")
    with pytest.raises(ClientError) as refused:
        s3.list_objects_v2(Bucket=bucket)
    assert error_code(refused) in ("InvalidAccessKeyId", "AccessDenied")

    # The console actions are in the audit log, under the tenant.
    events = {e["event_type"] for e in audit(tenant_admin)}
    assert {"user_created", "access_key_created", "access_key_status_changed",
            "access_key_deleted"} <= events


def test_tenant_isolation_on_every_path(stack, root):
    tenant_a, tenant_b = make_tenant(root), make_tenant(root)
    admin_a = stack.console().login(make_user(root, tenant_a, "tenant_admin")["username"], PASSWORD)
    admin_b = stack.console().login(make_user(root, tenant_b, "tenant_admin")["username"], PASSWORD)
    user_b = make_user(admin_b, None)
    key_b = admin_b.post(f"/api/v1/users/{user_b['username']}/access-keys")
    user_a = make_user(admin_a, None)
    key_a = admin_a.post(f"/api/v1/users/{user_a['username']}/access-keys")
    bucket_b = unique("iso-b")
    s3_client(stack, key_b).create_bucket(Bucket=bucket_b)
    s3_client(stack, key_b).put_object(Bucket=bucket_b, Key="secret", Body=b"b's data")

    denied = (403, 404)
    name_b = user_b["username"]
    attempts = [
        ("GET", f"/api/v1/users/{name_b}", None),
        ("PUT", f"/api/v1/users/{name_b}", {"display_name": "pwned"}),
        ("DELETE", f"/api/v1/users/{name_b}", None),
        ("PUT", f"/api/v1/users/{name_b}/password", {"new_password": "Another-Pass-1"}),
        ("POST", f"/api/v1/users/{name_b}/unlock", {}),
        ("GET", f"/api/v1/users/{name_b}/access-keys", None),
        ("POST", f"/api/v1/users/{name_b}/access-keys", {}),
        ("PUT", f"/api/v1/users/{name_b}/access-keys/{key_b['access_key_id']}", {"status": "inactive"}),
        ("DELETE", f"/api/v1/users/{name_b}/access-keys/{key_b['access_key_id']}", None),
        ("GET", f"/api/v1/tenants/{tenant_b['name']}", None),
        ("GET", f"/api/v1/tenants/{tenant_b['name']}/users", None),
        ("PUT", f"/api/v1/tenants/{tenant_a['name']}", {"max_buckets": 1000}),
        ("POST", "/api/v1/tenants", {"name": unique("evil")}),
        ("GET", f"/api/v1/buckets/{bucket_b}", None),
        ("DELETE", f"/api/v1/buckets/{bucket_b}", None),
        ("POST", "/api/v1/users", {"username": unique("x"), "password": PASSWORD, "tenant_id": tenant_b["name"]}),
        ("POST", "/api/v1/users", {"username": unique("x"), "password": PASSWORD, "role": "global_admin"}),
        ("PUT", f"/api/v1/users/{user_a['username']}", {"tenant_id": tenant_b["name"]}),
        ("PUT", "/api/v1/settings/security.max_failed_attempts", {"value": 100}),
        ("GET", f"/api/v1/audit-logs?tenant_id={tenant_b['id']}", None),
    ]
    for method, path, body in attempts:
        status, _, payload = admin_a.raw(method, path, body)
        assert status in denied, f"{method} {path} -> {status} {payload!r}"

    # Listings show only tenant A.
    users = admin_a.get("/api/v1/users")["users"]
    assert users and all(u["tenant_id"] == tenant_a["id"] for u in users)
    assert [t["id"] for t in admin_a.get("/api/v1/tenants")["tenants"]] == [tenant_a["id"]]
    assert all(b["tenant_id"] == tenant_a["id"] for b in admin_a.get("/api/v1/buckets")["buckets"])
    keys = admin_a.get("/api/v1/access-keys")["access_keys"]
    assert {k["access_key_id"] for k in keys} == {key_a["access_key_id"]}
    # A plain user sees only themselves.
    user_console = stack.console().login(user_a["username"], PASSWORD)
    assert [u["id"] for u in user_console.get("/api/v1/users")["users"]] == [user_a["id"]]
    status, _, _ = user_console.raw("POST", "/api/v1/users", {"username": unique("x"), "password": PASSWORD})
    assert status == 403

    # The S3 port: tenant A's key cannot read, write or list tenant B's bucket, nor use B's
    # objects as a copy source into its own bucket.
    s3_a = s3_client(stack, key_a)
    bucket_a = unique("iso-a")
    s3_a.create_bucket(Bucket=bucket_a)
    upload_a = s3_a.create_multipart_upload(Bucket=bucket_a, Key="parts")["UploadId"]
    source_b = {"Bucket": bucket_b, "Key": "secret"}
    for call in (
        lambda: s3_a.copy_object(Bucket=bucket_a, Key="stolen", CopySource=source_b),
        lambda: s3_a.upload_part_copy(Bucket=bucket_a, Key="parts", UploadId=upload_a, PartNumber=1,
                                      CopySource=source_b),
        lambda: s3_a.get_object(Bucket=bucket_b, Key="secret"),
        lambda: s3_a.put_object(Bucket=bucket_b, Key="intruder", Body=b"x"),
        lambda: s3_a.list_objects_v2(Bucket=bucket_b),
        lambda: s3_a.delete_bucket(Bucket=bucket_b),
        # Bucket configuration: reading B's CORS rules or replacing them (a browser could
        # then read B's objects from A's site) is as refused as reading the objects.
        lambda: s3_a.get_bucket_cors(Bucket=bucket_b),
        lambda: s3_a.put_bucket_cors(Bucket=bucket_b, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}),
        lambda: s3_a.delete_bucket_cors(Bucket=bucket_b),
        lambda: s3_a.get_bucket_encryption(Bucket=bucket_b),
        lambda: s3_a.put_bucket_tagging(Bucket=bucket_b, Tagging={"TagSet": []}),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert error_code(refused) == "AccessDenied"
    assert bucket_b not in [b["Name"] for b in s3_a.list_buckets()["Buckets"]]
    assert "Contents" not in s3_a.list_objects_v2(Bucket=bucket_a)
    s3_a.abort_multipart_upload(Bucket=bucket_a, Key="parts", UploadId=upload_a)
    # B's key still works on B's bucket (nothing above changed it).
    assert s3_client(stack, key_b).get_object(Bucket=bucket_b, Key="secret")["Body"].read() == b"b's data"

    # Denied S3 requests reach the audit log through the event log.
    def denied_entries():
        return [e for e in audit(root, event_type="access_denied")
                if e.get("resource", "").startswith(bucket_b)]
    wait_for(denied_entries, what="access_denied audit entries")


def test_quotas(stack, root):
    tenant = make_tenant(root, max_buckets=1, max_storage_bytes=1000, max_access_keys=1)
    user = make_user(root, tenant)
    key = root.post(f"/api/v1/users/{user['username']}/access-keys")
    with pytest.raises(ApiError) as too_many_keys:
        root.post(f"/api/v1/users/{user['username']}/access-keys")
    assert too_many_keys.value.status == 403 and too_many_keys.value.code == "QuotaExceeded"

    s3 = s3_client(stack, key)
    bucket = unique("q")
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as buckets:
        s3.create_bucket(Bucket=unique("q2"))
    assert error_code(buckets) == "TooManyBuckets"
    with pytest.raises(ClientError) as storage:
        s3.put_object(Bucket=bucket, Key="big", Body=b"x" * 2000)
    assert error_code(storage) == "QuotaExceeded"
    assert storage.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    # Raising the quota in the console lifts it on the S3 port.
    root.put(f"/api/v1/tenants/{tenant['name']}", {"max_storage_bytes": None})
    s3.put_object(Bucket=bucket, Key="big", Body=b"x" * 2000)


def test_disabled_tenant_and_locked_user_are_refused_on_both_ports(stack, root):
    tenant = make_tenant(root)
    user = make_user(root, tenant)
    key = root.post(f"/api/v1/users/{user['username']}/access-keys")
    s3 = s3_client(stack, key)
    s3.list_buckets()

    root.put(f"/api/v1/tenants/{tenant['name']}", {"status": "disabled"})
    with pytest.raises(ClientError) as refused:
        s3.list_buckets()
    assert error_code(refused) == "AccessDenied"
    with pytest.raises(ApiError) as login:
        stack.console().login(user["username"], PASSWORD)
    assert login.value.status == 403 and login.value.code == "AccountDisabled"
    root.put(f"/api/v1/tenants/{tenant['name']}", {"status": "active"})
    s3.list_buckets()
    session = stack.console().login(user["username"], PASSWORD)

    # Locked by status: keys refused, sessions revoked; unlock restores both.
    root.put(f"/api/v1/users/{user['username']}", {"status": "locked"})
    with pytest.raises(ClientError):
        s3.list_buckets()
    assert session.raw("GET", "/api/v1/auth/me")[0] == 401
    root.post(f"/api/v1/users/{user['username']}/unlock")
    s3.list_buckets()
    stack.console().login(user["username"], PASSWORD)


def test_two_factor_login_and_backup_codes(stack, root):
    user = make_user(root, None)
    session = stack.console().login(user["username"], PASSWORD)
    assert session.get("/api/v1/auth/2fa/status")["enabled"] is False
    setup = session.post("/api/v1/auth/2fa/setup")
    assert setup["otpauth_url"].startswith("otpauth://totp/")
    assert setup["qr_code"].startswith("data:image/svg+xml;base64,")
    secret = secret_of(setup["otpauth_url"])
    with pytest.raises(ApiError):
        session.post("/api/v1/auth/2fa/enable", {"code": "000000" if totp(secret) != "000000" else "111111"})
    enabled = session.post("/api/v1/auth/2fa/enable", {"code": totp(secret)})
    codes = enabled["backup_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert session.get("/api/v1/auth/2fa/status") == {
        "enabled": True, "setup_pending": False, "backup_codes_remaining": 10}

    console = stack.console()
    step = console.post("/api/v1/auth/login", {"username": user["username"], "password": PASSWORD})
    assert step.get("requires_2fa") is True and "token" not in step
    with pytest.raises(ApiError) as wrong:
        console.post("/api/v1/auth/2fa/verify", {"temp_token": step["temp_token"], "code": "12345x"})
    assert wrong.value.status == 401
    # The code of the next step (accepted within the skew window; the enable code's step is
    # already used, and a code is accepted once).
    verified = console.post("/api/v1/auth/2fa/verify",
                            {"temp_token": step["temp_token"], "code": totp(secret, step_offset=1)})
    assert Console(stack.console_url, verified["token"]).get("/api/v1/auth/me")["id"] == user["id"]
    # The temp token is spent.
    with pytest.raises(ApiError):
        console.post("/api/v1/auth/2fa/verify",
                     {"temp_token": step["temp_token"], "code": totp(secret, step_offset=1)})

    # A backup code works once.
    step = console.post("/api/v1/auth/login", {"username": user["username"], "password": PASSWORD})
    console.post("/api/v1/auth/2fa/verify", {"temp_token": step["temp_token"], "code": codes[0]})
    step = console.post("/api/v1/auth/login", {"username": user["username"], "password": PASSWORD})
    with pytest.raises(ApiError) as reused:
        console.post("/api/v1/auth/2fa/verify", {"temp_token": step["temp_token"], "code": codes[0]})
    assert reused.value.status == 401
    console.post("/api/v1/auth/2fa/verify", {"temp_token": step["temp_token"], "code": codes[1].lower()})
    assert session.get("/api/v1/auth/2fa/status")["backup_codes_remaining"] == 8

    session.post("/api/v1/auth/2fa/disable", {"password": PASSWORD})
    assert "token" in console.post("/api/v1/auth/login", {"username": user["username"], "password": PASSWORD})
    events = {e["event_type"] for e in audit(root, user_id=user["id"])}
    assert {"2fa_enabled", "2fa_verify_failed", "2fa_disabled", "2fa_verify_success",
            "login_success", "login_password_verified"} <= events


def test_lockout_follows_a_setting_changed_live(stack, root):
    user = make_user(root, None)
    console = stack.console()
    # Changed at run time: no restart.
    root.put("/api/v1/settings/security.max_failed_attempts", {"value": 2})
    try:
        assert root.get("/api/v1/settings/security.max_failed_attempts")["value"] == 2
        for _ in range(2):
            with pytest.raises(ApiError) as failed:
                console.login(user["username"], "Wrong-Password-1")
            assert failed.value.status == 401
        # Locked: the right password is refused with the answer of a wrong one (a lockout is
        # not announced to whoever caused it).
        with pytest.raises(ApiError) as locked:
            console.login(user["username"], PASSWORD)
        assert locked.value.status == 401 and locked.value.code == "InvalidCredentials"
        assert root.get(f"/api/v1/users/{user['username']}")["locked"] is True
        root.post(f"/api/v1/users/{user['username']}/unlock")
        console.login(user["username"], PASSWORD)
    finally:
        root.put("/api/v1/settings/security.max_failed_attempts", {"value": 5})
    events = [e["event_type"] for e in audit(root, resource=user["username"])]
    assert "user_blocked" in events and "login_failed" in events and "user_unblocked" in events

    # Invalid values are refused with the reason; bulk is all or nothing.
    with pytest.raises(ApiError) as invalid:
        root.put("/api/v1/settings/security.max_failed_attempts", {"value": "many"})
    assert invalid.value.status == 400
    with pytest.raises(ApiError):
        root.post("/api/v1/settings/bulk", {"settings": {"audit.retention_days": 30,
                                                          "security.lockout_duration": -1}})
    assert root.get("/api/v1/settings/audit.retention_days")["value"] == 90
    root.post("/api/v1/settings/bulk", {"settings": {"audit.retention_days": 30}})
    assert root.get("/api/v1/settings/audit.retention_days")["value"] == 30
    categories = root.get("/api/v1/settings/categories")["categories"]
    assert "security" in categories and "audit" in categories


def test_audit_log_filters_pages_and_csv(stack, root):
    tenant = make_tenant(root)
    user = make_user(root, tenant)
    key = root.post(f"/api/v1/users/{user['username']}/access-keys")
    s3 = s3_client(stack, key)
    bucket = unique("audit")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"audited")
    s3.delete_object(Bucket=bucket, Key="doc.txt")

    # S3 writes arrive from the data plane's event log, with who did them.
    def s3_entries():
        entries = audit(root, source="s3", resource=bucket)
        kinds = {e["event_type"] for e in entries}
        return entries if {"bucket_created", "object_uploaded", "object_deleted"} <= kinds else None
    entries = wait_for(s3_entries, what="S3 audit entries")
    upload = next(e for e in entries if e["event_type"] == "object_uploaded")
    assert upload["user_id"] == user["id"] and upload["tenant_id"] == tenant["id"]
    assert upload["username"] == user["username"]
    assert upload["resource"] == f"{bucket}/doc.txt" and upload["action"] == "PutObject"

    # Filters and pagination.
    mine = audit(root, tenant_id=tenant["id"])
    assert mine and all(e["tenant_id"] == tenant["id"] for e in mine)
    page = root.get(f"/api/v1/audit-logs?tenant_id={tenant['id']}&page=2&page_size=1")
    assert page["total"] == len(mine) and len(page["logs"]) == 1 and page["logs"][0]["id"] == mine[1]["id"]
    assert all(e["status"] == "success" for e in audit(root, status="success", page_size=50))
    assert audit(root, start_date="2000-01-01", end_date="2000-01-02") == []
    one = root.get(f"/api/v1/audit-logs/{upload['id']}")
    assert one["id"] == upload["id"]
    created = audit(root, action="user_created", resource=user["username"])
    assert created and created[0]["source"] == "console" and created[0]["username"] == stack.root_user

    status, headers, body = root.raw("GET", f"/api/v1/audit-logs/export?format=csv&tenant_id={tenant['id']}")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert {row["id"] for row in rows} == {str(e["id"]) for e in mine}
    assert any(row["event_type"] == "object_uploaded" for row in rows)


def test_metrics_of_the_admin(stack, root):
    # A global admin's session (or the scrape token, test_admin_security.py) is required.
    assert stack.console().raw("GET", "/metrics")[0] == 401
    status, _, body = root.raw("GET", "/metrics")
    text = body.decode()
    assert status == 200
    assert 'maxiofs_admin_logins_total{result="success"}' in text
    assert "maxiofs_admin_audit_entries_total" in text
    assert "maxiofs_admin_event_log_lag" in text


def test_up_restarts_a_killed_child_and_stops_on_sigterm(tmp_path):
    if os.environ.get("MAXIOFS_TEST_ENDPOINT"):
        pytest.skip("needs the maxiofs binary")
    up = UpProcess(tmp_path, name="supervised")
    try:
        up.start()
        tenant = make_tenant(up.root())
        server_pid = up.child_pids()["server"][0]
        os.kill(server_pid, signal.SIGKILL)
        wait_for(lambda: len(up.child_pids()["server"]) == 2, what="the server's restart")
        up.wait_ready()
        # The restarted data plane kept the identity (persisted) and serves it.
        root = up.root()
        assert root.get(f"/api/v1/tenants/{tenant['name']}")["id"] == tenant["id"]
        s3 = make_client(up.endpoint)
        s3.list_buckets()

        # The login rate limit: 429 once the per-IP budget is spent.
        root.put("/api/v1/settings/security.ratelimit_login_per_minute", {"value": 1})
        console = up.console()
        statuses = [console.raw("POST", "/api/v1/auth/login",
                                {"username": up.root_user, "password": up.root_password})[0]
                    for _ in range(3)]
        assert statuses[-1] == 429, statuses

        children = [pid for pids in up.child_pids().values() for pid in pids[-1:]]
        assert up.stop() == 0
        assert not any(pid_alive(pid) for pid in children)
    finally:
        up.kill()

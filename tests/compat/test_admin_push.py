"""Identity changes are in force on the S3 port when the console answers (issue 17): a revoke
answered 200 is refused at once; a revoke the data plane could not take (stalled with SIGSTOP,
or dead) is answered 503 `NotInForce` within the push timeout, audited as failed, and in force
once the data plane is back (the background loop pushes it again)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from admin_harness import ApiError, Console, UpProcess, console_stack, unique, wait_for
from harness import make_client

pytestmark = pytest.mark.binary

PASSWORD = "Correct-Horse-9"
# The admin's PUSH_TIMEOUT (5 s) plus slack for a loaded machine: the console must answer
# well before its own 60 s request timeout, whatever the data plane does.
ANSWER_BOUND = 20.0
REFUSED = ("InvalidAccessKeyId", "AccessDenied")


@pytest.fixture(scope="module")
def stack(module_tmp):
    yield from console_stack(module_tmp("admin-push"))


def user_with_key(root: Console) -> tuple[dict, dict]:
    user = root.post("/api/v1/users", {"username": unique("u"), "password": PASSWORD})
    key = root.post(f"/api/v1/users/{user['username']}/access-keys")
    return user, key


def s3_of(stack: UpProcess, key: dict):
    return make_client(stack.endpoint, access_key=key["access_key_id"],
                       secret_key=key["secret_access_key"])


def refused(s3) -> str | None:
    """The error code of a signed request with the key, or None if it was served."""
    try:
        s3.list_buckets()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


def stop(pid: int):
    """SIGSTOP, and until every thread of the process is stopped (state T)."""
    os.kill(pid, signal.SIGSTOP)

    def states():
        tasks = Path(f"/proc/{pid}/task")
        return {(task / "stat").read_text().rsplit(")", 1)[1].split()[0]
                for task in tasks.iterdir()}

    wait_for(lambda: states() == {"T"}, timeout=10, what=f"pid {pid} stopped")


def key_path(user: dict, key: dict) -> str:
    return f"/api/v1/users/{user['username']}/access-keys/{key['access_key_id']}"


def not_in_force(call) -> ApiError:
    """Runs a console call that must fail because the push did not land, within the bound."""
    started = time.monotonic()
    with pytest.raises(ApiError) as failed:
        call()
    elapsed = time.monotonic() - started
    assert elapsed < ANSWER_BOUND, f"the console took {elapsed:.1f} s"
    error = failed.value
    assert error.status == 503, error
    assert error.code == "NotInForce", error
    message = error.body["error"]["message"]
    assert "saved" in message and "S3 port" in message and "retried" in message, message
    return error


def failed_audit_entry(root: Console, event_type: str, resource: str) -> dict:
    logs = root.get(f"/api/v1/audit-logs?event_type={event_type}&status=failed"
                    "&page_size=100")["logs"]
    mine = [entry for entry in logs if entry.get("resource") == resource]
    assert mine, logs
    return mine[0]


def test_a_revoke_answered_is_refused_at_once(stack):
    root = stack.root()
    user, key = user_with_key(root)
    s3 = s3_of(stack, key)
    assert refused(s3) is None, "a new key works as soon as the console answered"
    root.put(key_path(user, key), {"status": "inactive"})
    # No sleep: the answer means the data plane holds the new identity.
    assert refused(s3) in REFUSED
    root.put(key_path(user, key), {"status": "active"})
    assert refused(s3) is None
    root.delete(key_path(user, key))
    assert refused(s3) in REFUSED


def test_a_revoke_during_a_stalled_data_plane_is_an_error_then_in_force(stack):
    root = stack.root()
    user, key = user_with_key(root)
    s3 = s3_of(stack, key)
    assert refused(s3) is None
    server = stack.child_pids()["server"][-1]
    stop(server)
    try:
        not_in_force(lambda: root.put(key_path(user, key), {"status": "inactive"}))
        # The change is saved: the console shows it revoked.
        listed = root.get(f"/api/v1/users/{user['username']}/access-keys")["access_keys"]
        assert [k["status"] for k in listed] == ["inactive"]
    finally:
        os.kill(server, signal.SIGCONT)
    entry = failed_audit_entry(root, "access_key_status_changed",
                               f"{user['username']}/{key['access_key_id']}")
    assert entry["http_status"] == 503
    assert entry["details"]["in_force"] is False and entry["details"]["saved"] is True, entry
    # Back: the late push or the background loop puts the revoke in force.
    wait_for(lambda: refused(s3) in REFUSED, timeout=60, what="the revoke in force")


def test_a_revoke_while_the_data_plane_is_dead_is_an_error_then_in_force(stack):
    root = stack.root()
    user, key = user_with_key(root)
    s3 = s3_of(stack, key)
    assert refused(s3) is None
    restarts = len(stack.child_pids()["server"])
    # The supervisor is held so that the data plane stays dead during the call.
    stack.proc.send_signal(signal.SIGSTOP)
    try:
        os.kill(stack.child_pids()["server"][-1], signal.SIGKILL)
        not_in_force(lambda: root.delete(key_path(user, key)))
        assert root.get(f"/api/v1/users/{user['username']}/access-keys")["access_keys"] == []
    finally:
        stack.proc.send_signal(signal.SIGCONT)
    failed_audit_entry(root, "access_key_deleted", f"{user['username']}/{key['access_key_id']}")
    wait_for(lambda: len(stack.child_pids()["server"]) > restarts, what="the server's restart")
    stack.wait_ready()
    # The restarted data plane comes back with the identity from before the revoke; the
    # background loop pushes the current one.
    wait_for(lambda: refused(s3) in REFUSED, timeout=60, what="the revoke in force")


def test_a_new_key_the_data_plane_cannot_take_is_not_created(stack):
    root = stack.root()
    user = root.post("/api/v1/users", {"username": unique("u"), "password": PASSWORD})
    server = stack.child_pids()["server"][-1]
    stop(server)
    try:
        with pytest.raises(ApiError) as failed:
            root.post(f"/api/v1/users/{user['username']}/access-keys")
        assert failed.value.status == 503 and failed.value.code == "DataPlaneUnavailable"
        # Its secret was never shown, so it is not kept.
        assert root.get(f"/api/v1/users/{user['username']}/access-keys")["access_keys"] == []
    finally:
        os.kill(server, signal.SIGCONT)
    stack.wait_ready()
    key = root.post(f"/api/v1/users/{user['username']}/access-keys")
    assert refused(s3_of(stack, key)) is None

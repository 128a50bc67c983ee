"""Security issue 14 ("secrets sealed at rest") and finding 12: access-key secrets and TOTP seeds
are sealed in admin.db and identity.json under keys derived from the master keys, a master key
rotation moves them to the new version, and `maxiofs up` passes no secret to its children
through the environment. Black box, against `maxiofs up`; every test here failed on the code
before the change (plaintext in admin.db and identity.json, MAXIOFS_MASTER_KEY and
MAXIOFS_METRICS_TOKEN in /proc/<child>/environ)."""

from __future__ import annotations

import base64
import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
import uuid

import pytest

import harness
from admin_harness import Console, UpProcess, pid_alive, secret_of, totp, wait_for
from harness import make_client

pytestmark = pytest.mark.binary

PASSWORD = "Correct-Horse-9"
MASTER_KEY = base64.b64encode(os.urandom(32)).decode()
METRICS_TOKEN = "scrape-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def stack(module_tmp):
    if os.environ.get("MAXIOFS_TEST_ENDPOINT"):
        pytest.skip("needs the maxiofs binary")
    up = UpProcess(module_tmp("sealed"),
                   extra_env={"MAXIOFS_MASTER_KEY": MASTER_KEY,
                              "MAXIOFS_METRICS_TOKEN": METRICS_TOKEN})
    up.start()
    root = up.root()
    root.put("/api/v1/settings/security.ratelimit_login_per_minute", {"value": 100000})
    root.put("/api/v1/settings/security.ratelimit_account_changes_per_minute", {"value": 100000})
    yield up
    code = up.stop()
    assert code == 0, up.log_tail()


def sealed_version(value: str) -> int:
    assert value.startswith("mxs1:"), "not sealed"
    raw = base64.b64decode(value[len("mxs1:"):])
    assert raw[0] == 1, "format"
    return int.from_bytes(raw[1:5], "big")


def files_of(up: UpProcess) -> dict[str, bytes]:
    admin_dir = up.data_dir / "admin"
    out = {}
    for path in (admin_dir / "admin.db", admin_dir / "admin.db-wal", up.data_dir / "identity.json"):
        out[path.name] = path.read_bytes() if path.exists() else b""
    return out


def assert_nowhere(up: UpProcess, *needles: str):
    for name, data in files_of(up).items():
        for needle in needles:
            assert needle.encode() not in data, f"{name} holds a secret in plaintext"


def db_rows(up: UpProcess):
    uri = f"file:{up.data_dir / 'admin' / 'admin.db'}?mode=ro"
    connection = sqlite3.connect(uri, uri=True)
    try:
        keys = connection.execute("SELECT access_key_id, secret_access_key FROM access_keys").fetchall()
        seeds = connection.execute(
            "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL").fetchall()
    finally:
        connection.close()
    return keys, seeds


class Account:
    """A global user with an access key and 2FA on, made through the admin API."""

    def __init__(self, up: UpProcess, root: Console):
        self.username = "sealed-" + uuid.uuid4().hex[:8]
        root.post("/api/v1/users", {"username": self.username, "password": PASSWORD, "role": "user"})
        key = root.post(f"/api/v1/users/{self.username}/access-keys")
        self.access_key_id = key["access_key_id"]
        self.secret_access_key = key["secret_access_key"]
        session = up.console().login(self.username, PASSWORD)
        setup = session.post("/api/v1/auth/2fa/setup")
        self.seed = secret_of(setup["otpauth_url"])
        assert setup["secret"] == self.seed
        self.last_step = int(time.time() // 30)
        session.post("/api/v1/auth/2fa/enable", {"code": totp(self.seed)})

    def login_with_2fa(self, up: UpProcess) -> Console:
        console = up.console()
        # A code counts once per 30 s step: wait for a step after the last one used.
        wait_for(lambda: int(time.time() // 30) > self.last_step, timeout=35, interval=0.5,
                 what="the next TOTP step")
        step = console.post("/api/v1/auth/login", {"username": self.username, "password": PASSWORD})
        assert step.get("requires_2fa"), step
        self.last_step = int(time.time() // 30)
        verified = console.post("/api/v1/auth/2fa/verify",
                                {"temp_token": step["temp_token"], "code": totp(self.seed)})
        session = Console(up.console_url, verified["token"])
        assert session.get("/api/v1/auth/me")["username"] == self.username
        return session

    def s3_round_trip(self, up: UpProcess):
        s3 = make_client(up.endpoint, self.access_key_id, self.secret_access_key)
        bucket = "sealed-" + uuid.uuid4().hex[:12]
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=b"sealed")
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"sealed"


def test_children_get_no_secret_in_their_environment(stack):
    pids = stack.child_pids()
    for name in ("server", "admin"):
        with open(f"/proc/{pids[name][-1]}/environ", "rb") as environ:
            variables = environ.read().split(b"\0")
        for variable in variables:
            assert not variable.startswith(b"MAXIOFS_MASTER_KEY="), name
            assert not variable.startswith(b"MAXIOFS_METRICS_TOKEN="), name
            for secret in (MASTER_KEY, METRICS_TOKEN, stack.root_password):
                assert secret.encode() not in variable, name
    # ... and still got them: the token opens both /metrics, the key is version 1.
    for url in (f"{stack.endpoint.url}/metrics", f"{stack.console_url}/metrics"):
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, url
    keyring = (stack.data_dir / "master-keys").read_text()
    assert f"key 1 {MASTER_KEY}" in keyring


def test_secrets_are_sealed_at_rest_and_still_work(stack):
    account = Account(stack, stack.root())
    account.s3_round_trip(stack)
    account.login_with_2fa(stack)
    assert_nowhere(stack, account.secret_access_key, account.seed)
    keys, seeds = db_rows(stack)
    stored = dict(keys)[account.access_key_id]
    assert sealed_version(stored) == 1
    assert all(sealed_version(secret) == 1 for _, secret in keys)
    assert all(sealed_version(seed) == 1 for _, seed in seeds)
    identity = json.loads((stack.data_dir / "identity.json").read_text())
    assert identity["secrets_sealed"] is True
    for key in identity["access_keys"]:
        assert sealed_version(key["secret_access_key"]) == 1


def test_a_rotation_reseals_admin_db_and_identity_json(stack):
    account = Account(stack, stack.root())
    rotated = subprocess.run(
        [str(harness.maxiofs_bin()), "kek", "rotate", "--data-dir", str(stack.data_dir)],
        capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_")},
    )
    assert rotated.returncode == 0, rotated.stderr
    # The admin restarts (`up` starts it again) and finds every row on the new version.
    admin_pid = stack.child_pids()["admin"][-1]
    os.kill(admin_pid, signal.SIGTERM)
    wait_for(lambda: not pid_alive(admin_pid), what="the admin to stop")
    wait_for(lambda: len(stack.child_pids()["admin"]) >= 2, what="the admin to restart")
    stack.wait_ready()

    def all_on_version_two():
        keys, seeds = db_rows(stack)
        return keys and seeds and all(sealed_version(value) == 2 for _, value in keys + seeds)
    wait_for(all_on_version_two, what="admin.db re-sealed under version 2")
    identity = json.loads((stack.data_dir / "identity.json").read_text())
    assert all(sealed_version(key["secret_access_key"]) == 2 for key in identity["access_keys"])
    assert_nowhere(stack, account.secret_access_key, account.seed)
    # Everything still works: SigV4 with the key, a login with 2FA, a new key.
    account.s3_round_trip(stack)
    account.login_with_2fa(stack)
    later = Account(stack, stack.root())
    later.s3_round_trip(stack)
    keys, _ = db_rows(stack)
    assert sealed_version(dict(keys)[later.access_key_id]) == 2
    assert_nowhere(stack, later.secret_access_key, later.seed)

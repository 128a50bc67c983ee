"""`maxiofs up` as a test fixture: the data plane and the admin on ephemeral ports, and a small
JSON client of the console API (stdlib only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import struct
import subprocess
import time
import uuid
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import harness
from s3util import Endpoint

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
STARTED_RE = re.compile(r"started (?P<name>server|admin) \(pid (?P<pid>\d+)\)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def totp(secret_b32: str, at: float | None = None, step_offset: int = 0) -> str:
    """RFC 6238 with SHA-1, 6 digits, 30 s steps: what an authenticator app shows."""
    padded = secret_b32 + "=" * (-len(secret_b32) % 8)
    key = base64.b32decode(padded)
    counter = int((time.time() if at is None else at) // 30) + step_offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def secret_of(otpauth_url: str) -> str:
    return parse_qs(urlsplit(otpauth_url).query)["secret"][0]


class ApiError(Exception):
    def __init__(self, status: int, body):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict):
            return self.body.get("error", {}).get("code")
        return None


class Console:
    """The console API as one identity (a Bearer token once logged in)."""

    def __init__(self, base_url: str, token: str | None = None, ssl_context=None):
        self.base_url = base_url
        self.token = token
        # For an https console: an ssl.SSLContext that trusts its CA.
        self.ssl_context = ssl_context

    def raw(self, method: str, path: str, body=None, token: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        bearer = token or self.token
        if bearer:
            request.add_header("Authorization", f"Bearer {bearer}")
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.ssl_context) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def call(self, method: str, path: str, body=None, expect: int | tuple = (200, 201)):
        status, headers, payload = self.raw(method, path, body)
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode(errors="replace")
        expected = expect if isinstance(expect, tuple) else (expect,)
        if status not in expected:
            raise ApiError(status, parsed)
        return parsed

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, {} if body is None else body, **kw)

    def put(self, path, body, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def login(self, username: str, password: str) -> "Console":
        answer = self.post("/api/v1/auth/login", {"username": username, "password": password})
        assert "token" in answer, answer
        return Console(self.base_url, answer["token"], self.ssl_context)


class UpProcess:
    """`maxiofs up` with both children; stdout and stderr go to a log file."""

    def __init__(self, tmp: Path, name: str = "up", extra_env: dict[str, str] | None = None,
                 extra_args: list[str] | None = None, ssl_context=None):
        self.extra_env = dict(extra_env or {})
        self.extra_args = list(extra_args or [])
        # With TLS (`--tls-cert/--tls-key` in extra_args): both ports speak https, and this
        # context trusts their CA.
        self.ssl_context = ssl_context
        self.scheme = "https" if ssl_context is not None else "http"
        self.data_dir = tmp / f"{name}-data"
        self.log_path = tmp / f"{name}.log"
        self.root_user = "admin-root"
        self.root_password = "Root-" + base64.b32encode(os.urandom(15)).decode()
        self.s3_port = free_port()
        self.console_port = free_port()
        self.proc: subprocess.Popen | None = None
        self.name = name

    @property
    def console_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.console_port}"

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint("127.0.0.1", self.s3_port, self.root_user, self.root_password, self.scheme)

    def console(self) -> Console:
        return Console(self.console_url, ssl_context=self.ssl_context)

    def root(self) -> Console:
        return self.console().login(self.root_user, self.root_password)

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_")}
        env["MAXIOFS_ROOT_USER"] = self.root_user
        env["MAXIOFS_ROOT_PASSWORD"] = self.root_password
        env.setdefault("RUST_LOG", "warn")
        env.update(self.extra_env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(harness.maxiofs_bin()), "up", "--data-dir", str(self.data_dir),
             "--address", f"127.0.0.1:{self.s3_port}",
             "--console-address", f"127.0.0.1:{self.console_port}",
             "--shards", "2", "--no-pin", *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = START_TIMEOUT):
        """Until the console answers and reaches the data plane, and S3 answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"maxiofs up exited with {self.proc.returncode}\n{self.log_tail()}")
            try:
                status, _, body = self.console().raw("GET", "/health")
                if status == 200 and json.loads(body).get("data_plane") == "connected":
                    with socket.create_connection(("127.0.0.1", self.s3_port), timeout=2):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"maxiofs up not ready in {timeout}s\n{self.log_tail()}")

    def child_pids(self) -> dict[str, list[int]]:
        pids: dict[str, list[int]] = {"server": [], "admin": []}
        for match in STARTED_RE.finditer(self.log_path.read_text(errors="replace")):
            pids[match["name"]].append(int(match["pid"]))
        return pids

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.log.close()

    def kill(self):
        """Cleanup: the supervisor and both children, whatever state they are in."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pids in self.child_pids().values():
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not self.log.closed:
            self.log.close()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def console_stack(tmp: Path):
    """A started `maxiofs up` that a module of console tests shares (yield it from a
    module-scoped fixture), with the per-IP login budget lifted: the tests log in far more
    often than a person. Stopping it must exit cleanly."""
    if os.environ.get("MAXIOFS_TEST_ENDPOINT"):
        pytest.skip("needs the maxiofs binary")
    up = UpProcess(tmp)
    up.start()
    up.root().put("/api/v1/settings/security.ratelimit_login_per_minute", {"value": 100000})
    yield up
    code = up.stop()
    assert code == 0, up.log_tail()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Polls until predicate() is truthy; returns its value. Not a timing assertion: the
    timeout only bounds a hang."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)

"""Running the real maxiofs binary and the real clients against it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from s3util import REGION, Endpoint

REPO = Path(__file__).resolve().parents[2]
LISTENING_RE = re.compile(r"listening on (?P<scheme>https?)://(?P<host>[0-9.]+|\[[0-9a-f:]+\]|[\w.-]+):(?P<port>\d+)")
ACCESS_RE = re.compile(r"access key:\s*(?P<v>\S+)", re.IGNORECASE)
SECRET_RE = re.compile(r"secret key:\s*(?P<v>\S+)", re.IGNORECASE)
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0

# Variables that would redirect or reconfigure the clients under test.
_CLIENT_ENV_DROP = (
    "AWS_CA_BUNDLE",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_REGION",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
)

# Every live ServerProcess, so a failing test can show the server's log tail.
LIVE_SERVERS: list["ServerProcess"] = []


def maxiofs_bin() -> Path:
    return Path(os.environ.get("MAXIOFS_BIN", REPO / "target" / "debug" / "maxiofs"))


class ServerError(RuntimeError):
    pass


class ServerProcess:
    """One maxiofs server on one data dir; may be started, stopped and killed repeatedly."""

    def __init__(self, data_dir: Path, log_dir: Path, credentials: tuple[str, str] | None, name: str = "maxiofs"):
        self.shards = 2
        self.extra_env: dict[str, str] = {}
        self.extra_args: list[str] = []
        self.address = "127.0.0.1:0"
        self.data_dir = Path(data_dir)
        self.log_dir = Path(log_dir)
        self.credentials = credentials
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.endpoint: Endpoint | None = None
        self.stdout_lines: list[str] = []
        self.starts = 0
        self._listening = threading.Event()
        self._reader: threading.Thread | None = None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)

    # -- lifecycle ---------------------------------------------------------

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / f"{self.name}.stderr.log"

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / f"{self.name}.stdout.log"

    def start(self, timeout: float = START_TIMEOUT) -> float:
        """Start the server, wait until it prints its address; return the seconds it took."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        binary = maxiofs_bin()
        if not binary.exists():
            raise ServerError(f"maxiofs binary not found at {binary} (set MAXIOFS_BIN or build it)")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAXIOFS_ROOT_", "MINIO_ROOT_"))}
        if self.credentials is not None:
            env["MAXIOFS_ROOT_USER"], env["MAXIOFS_ROOT_PASSWORD"] = self.credentials
        env.setdefault("RUST_BACKTRACE", "1")
        env.update(self.extra_env)
        cmd = [
            str(binary), "server",
            "--data-dir", str(self.data_dir),
            "--address", self.address,
            "--shards", str(self.shards),
            "--no-pin",
            *self.extra_args,
        ]  # fmt: skip
        self.starts += 1
        self.stdout_lines = []
        self._listening.clear()
        stderr = open(self.stderr_path, "ab")
        stderr.write(f"\n===== start #{self.starts}: {' '.join(cmd)} =====\n".encode())
        stderr.flush()
        began = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True
        )
        stderr.close()
        LIVE_SERVERS.append(self)
        self._reader = threading.Thread(target=self._read_stdout, args=(self.proc,), daemon=True)
        self._reader.start()
        deadline = began + timeout
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.proc.returncode} before listening\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise ServerError(f"{self.name} did not print 'listening on' within {timeout}s\n{self.log_tail()}")
        return time.monotonic() - began

    def _read_stdout(self, proc: subprocess.Popen):
        with open(self.stdout_path, "a", encoding="utf-8", errors="replace") as out:
            for raw in proc.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                out.write(line + "\n")
                out.flush()
                self.stdout_lines.append(line)
                m = LISTENING_RE.search(line)
                if m and not self._listening.is_set():
                    host = m["host"].strip("[]")
                    ak, sk = self.credentials or (None, None)
                    self.endpoint = Endpoint(host, int(m["port"]), ak, sk, m["scheme"])
                    self._listening.set()

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; return the exit code (raises if it does not exit in time)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ServerError(f"{self.name} did not exit within {timeout}s of SIGTERM\n{self.log_tail()}")
        self._finish()
        return self.proc.returncode

    def kill(self):
        """SIGKILL (the crash) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(STOP_TIMEOUT)
        self._finish()

    def _finish(self):
        if self._reader is not None:
            self._reader.join(5)
        if self in LIVE_SERVERS:
            LIVE_SERVERS.remove(self)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- output ------------------------------------------------------------

    def printed(self, regex: re.Pattern, wait: float = 2.0) -> str | None:
        """First group 'v' of `regex` in stdout, waiting up to `wait` seconds for it."""
        deadline = time.monotonic() + wait
        while True:
            for line in list(self.stdout_lines):
                m = regex.search(line)
                if m:
                    return m["v"]
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            text = []
        out = "\n".join(text[-lines:])
        return f"--- {self.name} stdout ---\n" + "\n".join(self.stdout_lines[-10:]) + f"\n--- {self.name} stderr (tail) ---\n{out}"


# ---------------------------------------------------------------------------
# clients
# ---------------------------------------------------------------------------


def client_config(**overrides) -> Config:
    kwargs = dict(
        region_name=REGION,
        s3={"addressing_style": "path"},
        # The suite signs with SigV4 everywhere; test_sigv2.py covers SigV2 explicitly.
        signature_version="s3v4",
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=32,
    )
    kwargs.update(overrides)
    return Config(**kwargs)


def make_client(ep: Endpoint, access_key: str | None = None, secret_key: str | None = None,
                anonymous: bool = False, **config):
    """A boto3 S3 client for `ep`; errors are never retried unless config says so."""
    if anonymous:
        config["signature_version"] = UNSIGNED
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=ep.url,
        aws_access_key_id=access_key or ep.access_key,
        aws_secret_access_key=secret_key or ep.secret_key,
        config=client_config(**config),
    )


def client_env(ep: Endpoint, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _CLIENT_ENV_DROP}
    config = home / "aws-config"
    config.write_text(f"[default]\nregion = {REGION}\ns3 =\n    addressing_style = path\n")
    env.update(
        AWS_ACCESS_KEY_ID=ep.access_key,
        AWS_SECRET_ACCESS_KEY=ep.secret_key,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials-none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_RETRY_MODE="standard",
        AWS_MAX_ATTEMPTS="1",
        NO_PROXY="*",
    )
    return env


def run_aws(ep: Endpoint, home: Path, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run aws cli v1 (`python -m awscli`) against `ep`."""
    cmd = [sys.executable, "-m", "awscli", "--endpoint-url", ep.url, *args]
    res = subprocess.run(cmd, env=client_env(ep, home), capture_output=True, text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}")
    return res


# ---------------------------------------------------------------------------
# buckets
# ---------------------------------------------------------------------------


def unique_bucket_name(hint: str = "t") -> str:
    hint = "".join(c if c.isalnum() else "-" for c in hint.lower()).strip("-")[:30].strip("-") or "t"
    return f"{hint}-{uuid.uuid4().hex[:12]}"


def empty_and_delete_bucket(client, name: str):
    """Deletes every version and delete marker (bypassing governance retention), then the
    bucket; a bucket holding versions under compliance retention or legal hold stays."""
    try:
        markers = {}
        while True:
            page = client.list_object_versions(Bucket=name, **markers)
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                try:
                    client.delete_object(
                        Bucket=name,
                        Key=entry["Key"],
                        VersionId=entry["VersionId"],
                        BypassGovernanceRetention=True,
                    )
                except ClientError:
                    pass
            if not page.get("IsTruncated"):
                break
            markers = {"KeyMarker": page["NextKeyMarker"]}
            if page.get("NextVersionIdMarker"):
                markers["VersionIdMarker"] = page["NextVersionIdMarker"]
        client.delete_bucket(Bucket=name)
    except ClientError:
        pass


# ---------------------------------------------------------------------------
# the browser tests (tests/browser)
# ---------------------------------------------------------------------------

BROWSER_DIR = Path(__file__).resolve().parent.parent / "browser"


def require_browser() -> str:
    """The Chromium to drive; skip without it (or playwright-core) locally, fail in CI."""
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    missing = [what for what, present in [
        ("node", shutil.which("node") is not None),
        ("chromium", os.access(chromium, os.X_OK)),
        ("playwright-core (npm ci in tests/browser)", (BROWSER_DIR / "node_modules" / "playwright-core").is_dir()),
    ] if not present]  # fmt: skip
    if not missing:
        return chromium
    message = f"missing {', '.join(missing)} (scripts/test.sh and .ci/run install them)"
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(message)
    pytest.skip(message)

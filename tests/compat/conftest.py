"""Fixtures for the black-box compat suite.

By default every test drives the real binary (MAXIOFS_BIN, default target/debug/maxiofs).
Setting MAXIOFS_TEST_ENDPOINT=http://host:port (with MAXIOFS_TEST_ACCESS_KEY /
MAXIOFS_TEST_SECRET_KEY) points the suite at an already-running S3 server instead, e.g.
moto while developing the tests; tests that must start, stop or kill the server are
then skipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import harness
from harness import ServerProcess, empty_and_delete_bucket, make_client, run_aws, unique_bucket_name
from s3util import Endpoint

EXTERNAL_ENDPOINT = os.environ.get("MAXIOFS_TEST_ENDPOINT")
ROOT_USER = "maxiofs-compat"


def _external_endpoint() -> Endpoint:
    url = urlsplit(EXTERNAL_ENDPOINT)
    return Endpoint(
        url.hostname,
        url.port or 80,
        os.environ.get("MAXIOFS_TEST_ACCESS_KEY", "testing"),
        os.environ.get("MAXIOFS_TEST_SECRET_KEY", "testing"),
    )


def pytest_collection_modifyitems(config, items):
    if not EXTERNAL_ENDPOINT:
        return
    skip = pytest.mark.skip(reason="needs the maxiofs binary (MAXIOFS_TEST_ENDPOINT is set)")
    for item in items:
        if "binary" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for server in list(harness.LIVE_SERVERS):
            report.sections.append((f"{server.name} log", server.log_tail()))
    return report


# ---------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------


def new_credentials() -> tuple[str, str]:
    return ROOT_USER, secrets.token_urlsafe(30)


class ServerFactory:
    """Creates ServerProcess objects in a test's tmp dir and cleans them up."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.servers: list[ServerProcess] = []

    def create(self, name: str = "maxiofs", credentials: tuple[str, str] | None | str = "default") -> ServerProcess:
        """A stopped server on a fresh data dir; credentials=None starts without the env vars."""
        creds = new_credentials() if credentials == "default" else credentials
        server = ServerProcess(self.tmp_path / f"{name}-data", self.tmp_path / "logs", creds, name=name)
        self.servers.append(server)
        return server

    def cleanup(self):
        for server in self.servers:
            server.kill()


@pytest.fixture
def server_factory(tmp_path):
    if EXTERNAL_ENDPOINT:
        pytest.skip("needs the maxiofs binary")
    factory = ServerFactory(tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture(scope="module")
def module_tmp(request, tmp_path_factory):
    """Makes directories for the servers a test module shares: `module_tmp("name")`. They
    are removed when the module ends without a failed test, as pytest.ini has pytest do for
    each test's tmp_path: every server preallocates segments (~150 MB), and a whole run
    holding them all until it ends fills a CI machine's disk."""
    made: list[Path] = []
    failed_before = request.session.testsfailed

    def make(name: str) -> Path:
        made.append(tmp_path_factory.mktemp(name))
        return made[-1]

    yield make
    if request.session.testsfailed == failed_before:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The shared server of the session: its Endpoint (url + credentials)."""
    if EXTERNAL_ENDPOINT:
        yield _external_endpoint()
        return
    base = tmp_path_factory.mktemp("session-server")
    proc = ServerProcess(base / "data", base / "logs", new_credentials(), name="maxiofs-session")
    proc.start()
    yield proc.endpoint
    code = proc.stop()
    assert code == 0, f"server exited with {code} after SIGTERM\n{proc.log_tail()}"


@pytest.fixture(scope="session")
def s3(server):
    return make_client(server)


@pytest.fixture(scope="session")
def make_s3(server):
    """Factory for extra clients: make_s3(secret_key=..., anonymous=True, ...)."""

    def factory(ep: Endpoint | None = None, **kwargs):
        return make_client(ep or server, **kwargs)

    return factory


# ---------------------------------------------------------------------------
# buckets
# ---------------------------------------------------------------------------


@pytest.fixture
def bucket(s3, request):
    """A fresh, empty bucket, removed (with its objects) afterwards."""
    name = unique_bucket_name(request.node.originalname)
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete_bucket(s3, name)


@pytest.fixture
def aws(server, tmp_path):
    """aws(*args, check=True) runs aws cli v1 against the session server."""
    home = tmp_path / "aws-home"
    home.mkdir()

    def run(*args, **kwargs):
        return run_aws(server, home, *args, **kwargs)

    return run

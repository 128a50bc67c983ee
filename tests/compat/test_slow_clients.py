"""Slow and silent clients (BAD-INPUTS.md D1, D2, H5): each is cut off by its timeout while
other clients are served; nothing of a cut-off upload is stored. The server runs with short
timeouts so the tests take seconds."""

import time

import pytest

from harness import make_client
from s3util import RawConnection, parse_error, sign_headers

pytestmark = pytest.mark.binary

HEAD_TIMEOUT_SECS = 2
IDLE_TIMEOUT_SECS = 2


@pytest.fixture
def slow_server(server_factory):
    server = server_factory.create(name="slow")
    server.extra_args = [
        "--request-head-timeout-secs", str(HEAD_TIMEOUT_SECS),
        "--idle-timeout-secs", str(IDLE_TIMEOUT_SECS),
    ]  # fmt: skip
    server.start()
    make_client(server.endpoint).create_bucket(Bucket="slow")
    yield server
    assert server.stop() == 0


def test_slowloris_head_is_cut_off_while_others_are_served(slow_server):
    ep = slow_server.endpoint
    with RawConnection(ep) as conn:
        conn.send(b"GET /slow HTTP/1.1\r\n")
        started = time.monotonic()
        closed = False
        # One header byte every half second keeps the connection busy but never finishes.
        while time.monotonic() - started < HEAD_TIMEOUT_SECS + 4:
            try:
                conn.send(b"x")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if conn.wait_closed(timeout=0.5):
                closed = True
                break
            # Meanwhile a normal client is served.
            make_client(ep).head_bucket(Bucket="slow")
        assert closed, "a head trickling in byte by byte was never cut off"
        assert time.monotonic() - started < HEAD_TIMEOUT_SECS + 3


def test_idle_connection_is_closed(slow_server):
    with RawConnection(slow_server.endpoint) as conn:
        assert conn.wait_closed(timeout=IDLE_TIMEOUT_SECS + 3)


def test_stalled_body_gets_request_timeout_and_stores_nothing(slow_server):
    ep = slow_server.endpoint
    body = b"y" * 100
    target, headers = sign_headers(ep, "PUT", "/slow/stalled", None, None, body)
    headers["Content-Length"] = str(len(body))
    with RawConnection(ep) as conn:
        conn.send_request("PUT", target, headers, body[:10])
        response = conn.read_response()
    assert response.status == 400
    assert parse_error(response.body)["Code"] == "RequestTimeout"
    s3 = make_client(ep)
    assert s3.list_objects_v2(Bucket="slow").get("KeyCount") == 0

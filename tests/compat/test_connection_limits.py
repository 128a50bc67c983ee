"""Security issue 14, finding 6: connections are bounded in number, memory and pace.

The review took the server to 1.6 GB with 3,000 idle connections (a 256 KiB read buffer
each, no cap) and held uploads open at 1 byte/s (only an idle timeout). Now: a per-shard
connection limit answered with 503 SlowDown, read buffers of a few KiB until a body needs
more, and a minimum average body rate after a grace period.
"""

import resource
import socket
import time
from pathlib import Path

import pytest

from harness import make_client
from s3util import RawConnection, parse_error, sign_headers

pytestmark = pytest.mark.binary


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def server_metrics(server) -> str:
    """/metrics through a signed request; "" if the server refused the connection."""
    ep = server.endpoint
    target, headers = sign_headers(ep, "GET", "/metrics")
    with RawConnection(ep) as conn:
        conn.send_request("GET", target, headers)
        resp = conn.read_response()
    return resp.body.decode() if resp.status == 200 else ""


def open_idle(ep, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((ep.host, ep.port), timeout=10)
        sockets.append(sock)
    return sockets


def test_connections_beyond_the_limit_get_503_slowdown(server_factory):
    server = server_factory.create("limited")
    server.shards = 1
    server.extra_args = ["--max-connections-per-shard", "8"]
    server.start()
    ep = server.endpoint
    held = open_idle(ep, 8)
    try:
        time.sleep(0.3)  # every held connection has been accepted and counted
        with RawConnection(ep) as extra:
            resp = extra.read_response()
            assert resp.status == 503
            assert parse_error(resp.body)["Code"] == "SlowDown"
            assert extra.wait_closed(timeout=5)
        text = ""
        for _ in range(20):  # the scrape needs a connection slot too: free one for it
            held.pop().close()
            time.sleep(0.2)
            text = server_metrics(server)
            if text:
                break
        assert 'maxiofs_shard_connections_refused_total{shard="0"} 1' in text
    finally:
        held.pop().close()
    time.sleep(0.3)
    # One slot is free again: a real client is served.
    s3 = make_client(ep)
    s3.create_bucket(Bucket="after-limit")
    for sock in held:
        sock.close()


def test_idle_connections_cost_kilobytes_not_megabytes(server_factory):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2200
    if hard < wanted + 200:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is too low")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted + 200), hard))
    try:
        server = server_factory.create("idle-memory")
        server.start()
        ep = server.endpoint
        make_client(ep).create_bucket(Bucket="warm")  # allocator and caches warmed up
        before = rss_bytes(server.proc.pid)
        held = open_idle(ep, wanted)
        try:
            # Each connection sends a partial head, so its read buffer is in use.
            for sock in held:
                sock.sendall(b"GET /warm HTTP/1.1\r\nHost: x\r\n")
            time.sleep(1.0)
            grown = rss_bytes(server.proc.pid) - before
            # 256 KiB per connection before the fix (~550 MiB here); ~17 KiB with the task now.
            assert grown < 96 * 2**20, f"{wanted} idle connections grew RSS by {grown >> 20} MiB"
        finally:
            for sock in held:
                sock.close()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_trickling_body_is_cut_by_the_minimum_rate(server_factory):
    server = server_factory.create("pace")
    server.extra_args = ["--min-body-rate", "1000", "--body-rate-grace-secs", "2",
                         "--idle-timeout-secs", "30"]
    server.start()
    ep = server.endpoint
    s3 = make_client(ep)
    s3.create_bucket(Bucket="pace")
    body = b"z" * 100_000
    target, headers = sign_headers(ep, "PUT", "/pace/trickle", None, None, body)
    headers["Content-Length"] = str(len(body))
    started = time.monotonic()
    with RawConnection(ep) as conn:
        conn.send_request("PUT", target, headers, body[:100])
        cut = False
        # One byte every 0.3 s: never idle for 30 s, far below 1000 B/s.
        for offset in range(100, 200):
            try:
                conn.send(body[offset:offset + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            head = conn.poll_response_head(timeout=0.3)
            if head is not None:
                status, _, response_headers = head
                error = parse_error(conn._read_exact(int(response_headers["content-length"])))
                assert (status, error["Code"]) == (400, "RequestTimeout")
                cut = True
                break
        assert cut, "a 3 B/s body was never cut off"
    assert time.monotonic() - started < 15
    assert s3.list_objects_v2(Bucket="pace").get("KeyCount") == 0
    # A normal upload on the same server is unaffected.
    s3.put_object(Bucket="pace", Key="normal", Body=body)

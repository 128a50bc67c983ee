"""Error documents, unimplemented operations and HTTP/1.1 framing on raw connections."""

import http.client

import pytest

from harness import unique_bucket_name
from s3util import (
    RawConnection,
    expect_error,
    md5_hex,
    object_path,
    parse_error,
    payload,
    quoted,
    raw_request,
    sha256_hex,
    sign_headers,
)

# -- error documents --------------------------------------------------------

ERROR_CASES = [
    # (method, path template, query, body, status, code)
    ("GET", "/{missing}", {"list-type": "2"}, b"", 404, "NoSuchBucket"),
    ("GET", "/{bucket}/no/such/key", None, b"", 404, "NoSuchKey"),
    ("PUT", "/Invalid_Bucket", None, b"", 400, "InvalidBucketName"),
    ("DELETE", "/{missing}", None, b"", 404, "NoSuchBucket"),
    ("PUT", "/{bucket}/k", {"partNumber": "1", "uploadId": "nope"}, b"x", 404, "NoSuchUpload"),
    ("GET", "/{bucket}", {"policy": ""}, b"", 404, "NoSuchBucketPolicy"),
    ("GET", "/{bucket}", {"website": ""}, b"", 501, "NotImplemented"),
]


@pytest.mark.parametrize("method, path, query, body, status, code", ERROR_CASES, ids=[c[-1] for c in ERROR_CASES])
def test_error_document(server, bucket, method, path, query, body, status, code):
    path = path.format(bucket=bucket, missing=unique_bucket_name("missing"))
    resp = raw_request(server, method, path, query=query, body=body)
    assert resp.status == status, resp
    assert resp.header("content-type", "").startswith("application/xml"), resp.headers
    error = parse_error(resp.body)
    assert error.get("Code") == code, resp
    assert error.get("Message"), resp
    assert error.get("RequestId"), resp
    assert resp.header("x-amz-request-id") == error["RequestId"]


def test_request_ids_are_unique(server, bucket):
    ids = {raw_request(server, "GET", f"/{bucket}/missing").header("x-amz-request-id") for _ in range(5)}
    assert len(ids) == 5


UNIMPLEMENTED = [
    ("get_bucket_website", {}),
    ("restore_object", {"Key": "k", "RestoreRequest": {"Days": 1}}),
]


@pytest.mark.parametrize("operation, kwargs", UNIMPLEMENTED, ids=[u[0] for u in UNIMPLEMENTED])
def test_unimplemented_operation(s3, bucket, operation, kwargs):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    expect_error(getattr(s3, operation), 501, "NotImplemented", Bucket=bucket, **kwargs)


def test_unknown_query_parameter_is_ignored(server, s3, bucket):
    """aws-sdk-rust and JS v3 add ?x-id=<Operation> to every request."""
    body = payload(10)
    resp = raw_request(server, "PUT", object_path(bucket, "xid"), query={"x-id": "PutObject"}, body=body)
    assert resp.status == 200, resp
    resp = raw_request(server, "GET", object_path(bucket, "xid"), query={"x-id": "GetObject"})
    assert resp.status == 200 and resp.body == body


def test_bucket_path_trailing_slash(server, bucket):
    """/bkt/ is the same bucket as /bkt (s3cmd, restic, aws-sdk-rust)."""
    assert raw_request(server, "HEAD", f"/{bucket}/").status == 200
    resp = raw_request(server, "GET", f"/{bucket}/", query={"list-type": "2"})
    assert resp.status == 200, resp


# -- HTTP/1.1 framing -------------------------------------------------------


def signed_put(server, bucket, key, body, extra=None, payload_hash=None):
    return sign_headers(
        server, "PUT", object_path(bucket, key), headers=extra, body=body, payload_hash=payload_hash
    )


def test_expect_100_continue(server, s3, bucket):
    body = payload(100_000)
    target, headers = signed_put(server, bucket, "expect", body)
    headers.update({"Content-Length": str(len(body)), "Expect": "100-continue"})
    with RawConnection(server) as conn:
        conn.send_request("PUT", target, headers)
        interim = conn.poll_response_head(timeout=3)
        # Either an interim 100 Continue, or nothing (the server just reads the body).
        assert interim is None or interim[0] == 100, interim
        conn.send(body)
        resp = conn.read_response()
    assert resp.status == 200, resp
    assert s3.get_object(Bucket=bucket, Key="expect")["Body"].read() == body


def test_expect_100_continue_rejected_on_headers(server, s3, bucket):
    """A request refused on its headers gets its final status without the body being sent."""
    body = payload(50_000)
    target, headers = sign_headers(
        server, "PUT", object_path(bucket, "expect"), body=body, secret_key="wrong-secret"
    )
    headers.update({"Content-Length": str(len(body)), "Expect": "100-Continue"})
    with RawConnection(server) as conn:
        conn.send_request("PUT", target, headers)
        resp = conn.read_response()
    assert resp.status == 403, resp
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="expect")


def test_keep_alive(server, bucket):
    body = payload(4096)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.connect()
    sock = conn.sock

    def call(method, key, data=b"", expect_status=200):
        target, headers = sign_headers(server, method, object_path(bucket, key), body=data)
        conn.request(method, target, body=data if method == "PUT" else None, headers=headers)
        resp = conn.getresponse()
        content = resp.read()
        assert resp.status == expect_status, (method, key, resp.status, content[:300])
        assert conn.sock is sock, "server closed a keep-alive connection"
        return resp, content

    call("PUT", "ka", body)
    assert call("GET", "ka")[1] == body
    head, content = call("HEAD", "ka")
    assert content == b"" and head.getheader("content-length") == str(len(body))
    call("GET", "missing", expect_status=404)
    call("DELETE", "ka", expect_status=204)
    call("GET", "ka", expect_status=404)
    conn.close()


def test_chunked_transfer_encoding_put(server, s3, bucket):
    body = payload(300_001)
    target, headers = signed_put(server, bucket, "chunked", body)
    headers["Transfer-Encoding"] = "chunked"
    sizes = [1, 4095, 65536, 100_000]
    chunks, pos = [], 0
    for size in sizes + [len(body)]:
        piece = body[pos : pos + size]
        if piece:
            chunks.append(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        pos += len(piece)
    framed = b"".join(chunks) + b"0\r\n\r\n"
    with RawConnection(server) as conn:
        conn.send_request("PUT", target, headers, framed)
        resp = conn.read_response()
    assert resp.status == 200, resp
    assert resp.header("etag") == quoted(md5_hex(body))
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == body


def test_head_has_no_body(server, s3, bucket):
    body = payload(5000)
    s3.put_object(Bucket=bucket, Key="h", Body=body)
    with RawConnection(server) as conn:
        for method in ("HEAD", "GET"):
            target, headers = sign_headers(server, method, object_path(bucket, "h"))
            conn.send_request(method, target, headers)
        head = conn.read_response(head_request=True)
        get = conn.read_response()  # would be garbled if HEAD had sent a body
    assert head.status == 200 and head.header("content-length") == "5000"
    assert head.header("etag") == quoted(md5_hex(body))
    assert get.status == 200 and get.body == body


def test_pipelined_requests(server, s3, bucket):
    bodies = {f"p{i}": payload(100 + i) for i in range(3)}
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    with RawConnection(server) as conn:
        for key in bodies:
            target, headers = sign_headers(server, "GET", object_path(bucket, key))
            conn.send_request("GET", target, headers)
        got = [conn.read_response().body for _ in bodies]
    assert got == list(bodies.values())


def test_pipelined_puts_keep_the_bytes_after_each_body(server, s3, bucket):
    # A Content-Length body is read from the socket straight into the object's buffer: those
    # reads must stop at the body's end, so the requests sent right behind it (here in the
    # same send, on keys of either shard) are still parsed as requests.
    big, small = payload((3 << 19) + 17), payload(5000)
    requests = []
    for key, body in (("pipe-big", big), ("pipe-small", small)):
        target, headers = signed_put(
            server, bucket, key, body, extra={"Content-Length": str(len(body))}
        )
        requests.append(("PUT", target, headers, body))
    for key in ("pipe-big", "pipe-small"):
        target, headers = sign_headers(server, "GET", object_path(bucket, key))
        requests.append(("GET", target, headers, b""))
    wire = b"".join(
        f"{method} {target} HTTP/1.1\r\n".encode()
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()
        + b"\r\n"
        + body
        for method, target, headers, body in requests
    )
    with RawConnection(server) as conn:
        conn.send(wire)
        put_big, put_small, get_big, get_small = [conn.read_response() for _ in requests]
    assert put_big.status == 200 and put_big.header("etag") == quoted(md5_hex(big))
    assert put_small.status == 200 and put_small.header("etag") == quoted(md5_hex(small))
    assert get_big.status == 200 and get_big.body == big
    assert get_small.status == 200 and get_small.body == small


def expect_rejected_and_closed(conn: RawConnection, statuses=(400,), closed: bool = True):
    resp = conn.read_response()
    assert resp.status in statuses, resp
    if closed:
        assert conn.wait_closed(), "connection left open after a framing error"
    return resp


def test_content_length_with_transfer_encoding(server, s3, bucket):
    body = b"hello"
    target, headers = signed_put(server, bucket, "smuggle", body)
    headers.update({"Content-Length": "5", "Transfer-Encoding": "chunked"})
    with RawConnection(server) as conn:
        conn.send_request("PUT", target, headers, b"5\r\nhello\r\n0\r\n\r\n")
        expect_rejected_and_closed(conn)
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="smuggle")


@pytest.mark.parametrize("value", ["5, 6", "+5", "-1", "1e3"])
def test_bad_content_length(server, s3, bucket, value):
    target, headers = signed_put(server, bucket, "badlen", b"hello")
    headers["Content-Length"] = value
    with RawConnection(server) as conn:
        conn.send_request("PUT", target, headers, b"hello")
        expect_rejected_and_closed(conn)
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="badlen")


def test_too_many_headers(server, bucket):
    target, headers = sign_headers(server, "GET", object_path(bucket))
    headers.update({f"X-Filler-{i}": "x" for i in range(201)})
    with RawConnection(server) as conn:
        conn.send_request("GET", target, headers)
        expect_rejected_and_closed(conn, statuses=(400, 431))


@pytest.mark.parametrize("target", ["bucket/key", "../b/k", "*"])
def test_request_target_without_leading_slash(server, target):
    with RawConnection(server) as conn:
        conn.send_request("GET", target, {"Host": server.netloc})
        expect_rejected_and_closed(conn, closed=False)


def test_payload_hash_checked_on_chunked_body(server, s3, bucket):
    body = payload(1000)
    target, headers = signed_put(server, bucket, "k", body, payload_hash=sha256_hex(b"something else"))
    headers["Transfer-Encoding"] = "chunked"
    with RawConnection(server) as conn:
        conn.send_request("PUT", target, headers, f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        resp = conn.read_response()
    assert (resp.status, resp.error_code()) == (400, "XAmzContentSHA256Mismatch")
    expect_error(s3.head_object, 404, "404", Bucket=bucket, Key="k")

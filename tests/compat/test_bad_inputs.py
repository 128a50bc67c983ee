"""BAD-INPUTS.md §1 replayed as one table (RELIABILITY-GOALS.md T10, issue 3).

Every row names its catalogue id, sends one hostile or malformed request and expects one
concrete (status, S3 code). After every row the same checks run: no 5xx, no object, upload,
part, tag or bucket created or changed (a snapshot taken before the row is compared with one
taken after), the server still answers a normal request, and its log holds no panic.

Rows whose catalogue answer allows alternatives assert one behaviour and say which in the
description. A row that legitimately stores something (keys are opaque to MaxIOFS, so
`../../etc/passwd` is a key like any other) lists exactly what it may create in `creates`;
the snapshot comparison then requires exactly those objects, with exactly those bytes, and
nothing else. Excluded rows carry their reason in `skip`.

Rows already asserted elsewhere in this suite are replayed here in a variant (another
handler, another spelling) rather than copied; the comment on a row names the other test.
D1 and D2 (slow clients) are in test_slow_clients.py and are not repeated: they need a server
with short timeouts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import socket
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import botocore.auth
import botocore.credentials
import pytest
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

import harness
from harness import make_client, unique_bucket_name
from s3util import (
    KiB,
    MiB,
    REGION,
    Endpoint,
    RawConnection,
    RawResponse,
    aws_chunked_signed_body,
    aws_chunked_signed_framing_len,
    aws_chunked_unsigned_trailer_body,
    crc32_b64,
    md5_b64,
    object_path,
    sha256_hex,
    sign_headers,
    signing_key,
)
from test_post_object import post_form

STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SEED_KEY = "seed"
SEED_BODY = b"seed object, must never change"
SEED_UPLOAD_KEY = "seed-upload"
SEED_PART_BODY = b"seed part"


@dataclass
class Ctx:
    """What a row may touch: the server, a fresh bucket with one object and one open upload."""

    ep: Endpoint
    s3: object
    bucket: str
    upload_id: str

    def path(self, key: str = "") -> str:
        return object_path(self.bucket, key)


@dataclass(frozen=True)
class Outcome:
    status: int
    code: str | None

    @staticmethod
    def of(resp: RawResponse) -> "Outcome":
        return Outcome(resp.status, resp.error_code())


@dataclass(frozen=True)
class Row:
    id: str
    description: str
    send: Callable[[Ctx], Outcome] | None
    expect: tuple[int, str | None] | None
    # Objects the row is allowed (and required) to create: key -> exact bytes.
    creates: dict[str, bytes] = field(default_factory=dict)
    skip: str | None = None


# ---------------------------------------------------------------------------
# senders
# ---------------------------------------------------------------------------


def exchange(ep: Endpoint, method: str, target: str, headers: dict, body: bytes = b"",
             half_close: bool = False, head_request: bool = False) -> RawResponse:
    """Send one request on a fresh connection; a server that answers before the whole body
    arrived may reset the upload, so send errors are ignored and the answer is read anyway."""
    with RawConnection(ep) as conn:
        try:
            conn.send_request(method, target, headers, body)
            if half_close:
                conn.sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return conn.read_response(head_request=head_request)


def send_raw_bytes(ep: Endpoint, data: bytes, expect_closed: bool = True) -> Outcome:
    """Send `data` as it is; the answer must be followed by a close when `expect_closed`."""
    with RawConnection(ep) as conn:
        try:
            conn.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = conn.read_response()
        if expect_closed:
            assert conn.wait_closed(), "connection left open after a framing error"
        return Outcome.of(resp)


def signed(ctx: Ctx, method: str, key: str | None, query=None, headers=None, body: bytes = b"",
           **sign_kwargs) -> tuple[str, dict]:
    path = ctx.path(key) if key is not None else ctx.path()
    target, hdrs = sign_headers(ctx.ep, method, path, query, headers, body, **sign_kwargs)
    if body or method in ("PUT", "POST"):
        hdrs["Content-Length"] = str(len(body))
    return target, hdrs


def send_signed(ctx: Ctx, method: str, key: str | None, query=None, headers=None, body: bytes = b"",
                mutate: Callable[[dict], None] | None = None, **sign_kwargs) -> Outcome:
    target, hdrs = signed(ctx, method, key, query, headers, body, **sign_kwargs)
    if mutate:
        mutate(hdrs)
    return Outcome.of(exchange(ctx.ep, method, target, hdrs, body))


def set_signature(value: Callable[[str], str]) -> Callable[[dict], None]:
    """A mutation replacing the Authorization header's signature with value(old)."""

    def mutate(headers: dict):
        prefix, old = headers["Authorization"].rsplit("Signature=", 1)
        headers["Authorization"] = f"{prefix}Signature={value(old)}"

    return mutate


def flip_last_digit(sig: str) -> str:
    return sig[:-1] + ("0" if sig[-1] != "0" else "1")


def replace_scope(part_index: int, value: str) -> Callable[[dict], None]:
    """A mutation replacing one element of Credential=<key>/<date>/<region>/<service>/<term>."""

    def mutate(headers: dict):
        auth = headers["Authorization"]
        start = auth.index("Credential=") + len("Credential=")
        end = auth.index(",", start)
        parts = auth[start:end].split("/")
        parts[part_index] = value
        headers["Authorization"] = auth[:start] + "/".join(parts) + auth[end:]

    return mutate


def presigned_target(ctx: Ctx, method: str, key: str, expires="300", when: dt.datetime | None = None,
                     query: dict | None = None) -> str:
    """A presigned request target signed by botocore; `expires` goes into X-Amz-Expires as is."""
    url = ctx.ep.url + ctx.path(key) + (("?" + urlencode(query)) if query else "")
    creds = botocore.credentials.Credentials(ctx.ep.access_key, ctx.ep.secret_key)
    req = AWSRequest(method=method, url=url)
    auth = botocore.auth.S3SigV4QueryAuth(creds, "s3", REGION, expires=expires)
    when = (when or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(tzinfo=None)
    original = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *a, **k: when
    try:
        auth.add_auth(req)
    finally:
        botocore.auth.get_current_datetime = original
    parts = urlsplit(req.url)
    return parts.path + "?" + parts.query


def edit_query(target: str, drop: tuple = (), replace: dict | None = None) -> str:
    path, _, query = target.partition("?")
    pairs = [(k, (replace or {}).get(k, v)) for k, v in parse_qsl(query, keep_blank_values=True) if k not in drop]
    return path + "?" + urlencode(pairs, quote_via=quote)


def send_presigned(ctx: Ctx, method: str, key: str, body: bytes = b"", headers: dict | None = None,
                   edit: Callable[[str], str] | None = None, **presign_kwargs) -> Outcome:
    target = presigned_target(ctx, method, key, **presign_kwargs)
    if edit:
        target = edit(target)
    hdrs = {"Host": ctx.ep.netloc, **(headers or {})}
    if body or method in ("PUT", "POST"):
        hdrs.setdefault("Content-Length", str(len(body)))
    return Outcome.of(exchange(ctx.ep, method, target, hdrs, body))


def ago(minutes: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes)


# -- aws-chunked ------------------------------------------------------------

STREAM_DATA = bytes(range(256)) * 600  # 150 KiB: three 64 KiB chunks (64, 64, 22) plus the end


def frames_of(body: bytes) -> list[bytes]:
    """Split an aws-chunked signed body into its frames (size line + data + CRLF); the final
    0-size frame ends with the empty trailer section's CRLF."""
    frames, pos = [], 0
    while pos < len(body):
        line_end = body.index(b"\r\n", pos)
        size = int(body[pos:line_end].split(b";")[0], 16)
        end = line_end + 2 + size + 2
        frames.append(body[pos:end])
        pos = end
    return frames


def send_streaming(ctx: Ctx, key: str, data: bytes = STREAM_DATA, query=None,
                   tamper: Callable[[bytes], bytes] | None = None, decoded_length: int | None = None,
                   content_encoding: bool = True) -> Outcome:
    """PUT (or UploadPart with `query`) in STREAMING-AWS4-HMAC-SHA256-PAYLOAD; the framing is
    built with valid signatures, then `tamper` may change it (Content-Length follows)."""
    headers = {"x-amz-decoded-content-length": str(len(data) if decoded_length is None else decoded_length)}
    if content_encoding:
        headers["Content-Encoding"] = "aws-chunked"
    target, hdrs = sign_headers(ctx.ep, "PUT", ctx.path(key), query, headers, payload_hash=STREAMING_SIGNED)
    body = aws_chunked_signed_body(ctx.ep, hdrs, data)
    assert len(body) == aws_chunked_signed_framing_len(len(data))
    if tamper:
        body = tamper(body)
    # Content-Length is left unsigned so that it can follow the tampering.
    hdrs["Content-Length"] = str(len(body))
    return Outcome.of(exchange(ctx.ep, "PUT", target, hdrs, body))


def flip_byte_in_chunk_2(body: bytes) -> bytes:
    frames = frames_of(body)
    second = bytearray(frames[1])
    pos = second.index(b"\r\n") + 2 + 500
    second[pos] ^= 0xFF
    return b"".join([frames[0], bytes(second), *frames[2:]])


def skip_chunk_2(body: bytes) -> bytes:
    frames = frames_of(body)
    return b"".join([frames[0], *frames[2:]])


def swap_chunks_1_2(body: bytes) -> bytes:
    frames = frames_of(body)
    return b"".join([frames[1], frames[0], *frames[2:]])


def drop_final_chunk(body: bytes) -> bytes:
    return b"".join(frames_of(body)[:-1])


def with_first_size_line(line: bytes) -> Callable[[bytes], bytes]:
    """Replace the first frame's `size;chunk-signature=...` line with `line`."""

    def tamper(body: bytes) -> bytes:
        return line + body[body.index(b"\r\n"):]

    return tamper


def first_signature(body: bytes) -> bytes:
    return body[body.index(b"chunk-signature=") + 16 : body.index(b"\r\n")]


def send_unsigned_trailer(ctx: Ctx, key: str, data: bytes, checksum_b64: str, query=None,
                          mutate: Callable[[dict], None] | None = None) -> Outcome:
    body = aws_chunked_unsigned_trailer_body(data, checksum_b64)
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "Content-Length": str(len(body)),
    }
    target, hdrs = sign_headers(ctx.ep, "PUT", ctx.path(key), query, headers, payload_hash=STREAMING_UNSIGNED_TRAILER)
    if mutate:
        mutate(hdrs)
    return Outcome.of(exchange(ctx.ep, "PUT", target, hdrs, body))


def send_unsigned_trailer_fabricated(ctx: Ctx, method: str, key: str | None, query, data: bytes) -> Outcome:
    """A18: STREAMING-UNSIGNED-PAYLOAD-TRAILER whose seed (header) signature is made up."""
    body = aws_chunked_unsigned_trailer_body(data, crc32_b64(data))
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "Content-Length": str(len(body)),
    }
    if method == "POST" and query == {"delete": ""}:
        headers["Content-MD5"] = md5_b64(data)
    path = ctx.path(key) if key is not None else ctx.path()
    target, hdrs = sign_headers(ctx.ep, method, path, query, headers, payload_hash=STREAMING_UNSIGNED_TRAILER)
    set_signature(lambda _old: "0123456789abcdef" * 4)(hdrs)
    return Outcome.of(exchange(ctx.ep, method, target, hdrs, body))


def send_presigned_streaming(ctx: Ctx, fabricate_url_signature: bool) -> Outcome:
    """A19: query-string credentials plus an aws-chunked streaming body whose chunk signatures
    are made up (no Authorization header at all)."""
    data = STREAM_DATA[: 10 * KiB]
    fake = "f" * 64
    body = f"{len(data):x};chunk-signature={fake}\r\n".encode() + data + b"\r\n"
    body += f"0;chunk-signature={fake}\r\n\r\n".encode()
    headers = {
        "x-amz-content-sha256": STREAMING_SIGNED,
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "Content-Length": str(len(body)),
    }
    edit = (lambda t: t[:-1] + ("0" if t[-1] != "0" else "1")) if fabricate_url_signature else None
    return send_presigned(ctx, "PUT", "a19", body=body, headers=headers, edit=edit)


# -- XML bodies -------------------------------------------------------------


def send_xml(ctx: Ctx, method: str, key: str | None, query: dict, body: bytes, md5: bool = True) -> Outcome:
    headers = {"Content-MD5": md5_b64(body)} if md5 else {}
    return send_signed(ctx, method, key, query=query, headers=headers, body=body)


def delete_objects(ctx: Ctx, body: bytes) -> Outcome:
    return send_xml(ctx, "POST", None, {"delete": ""}, body)


def complete(ctx: Ctx, body: bytes) -> Outcome:
    return send_xml(ctx, "POST", SEED_UPLOAD_KEY, {"uploadId": ctx.upload_id}, body, md5=False)


def put_object_tagging(ctx: Ctx, body: bytes) -> Outcome:
    return send_xml(ctx, "PUT", SEED_KEY, {"tagging": ""}, body)


BILLION_LAUGHS_DTD = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


def billion_laughs(root: str, inner: str) -> bytes:
    return (BILLION_LAUGHS_DTD + f"<{root}>{inner.replace('@', '&lol9;')}</{root}>").encode()


XXE_DTD = '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def tagging_xml(pairs) -> bytes:
    tags = "".join(f"<Tag><Key>{k}</Key><Value>{v}</Value></Tag>" for k, v in pairs)
    return f"<Tagging><TagSet>{tags}</TagSet></Tagging>".encode()


def delete_xml(keys_xml: list[str]) -> bytes:
    objects = "".join(f"<Object><Key>{k}</Key></Object>" for k in keys_xml)
    return f"<Delete><Quiet>true</Quiet>{objects}</Delete>".encode()


def million_key_delete(ctx: Ctx) -> Outcome:
    body = b"<Delete>" + b"".join(b"<Object><Key>k%07d</Key></Object>" % i for i in range(1_000_000)) + b"</Delete>"
    assert len(body) > 32 * MiB
    return delete_objects(ctx, body)


def complete_xml(parts: list[tuple[str, str]]) -> bytes:
    body = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
    return f"<CompleteMultipartUpload>{body}</CompleteMultipartUpload>".encode()


def seed_etag() -> str:
    return '"' + hashlib.md5(SEED_PART_BODY).hexdigest() + '"'


def complete_parts(numbers) -> Callable[[Ctx], Outcome]:
    return lambda ctx: complete(ctx, complete_xml([(str(n), seed_etag()) for n in numbers]))


# -- HTTP framing -----------------------------------------------------------


def head_bytes(ctx: Ctx, method: str, key: str, body: bytes = b"", extra: list[tuple[str, str]] | None = None,
               line_end: bytes = b"\r\n", version: str = "HTTP/1.1", drop=("Content-Length",)) -> bytes:
    """A signed request's head rebuilt by hand, so framing can be broken after signing."""
    target, hdrs = sign_headers(ctx.ep, method, ctx.path(key), body=body)
    lines = [f"{method} {target} {version}".encode()]
    lines += [f"{k}: {v}".encode() for k, v in hdrs.items() if k not in drop]
    lines += [f"{k}: {v}".encode() for k, v in (extra or [])]
    return line_end.join(lines) + line_end + line_end


def send_bytes_then(ctx: Ctx, method: str, key: str, body: bytes, extra, tail: bytes = b"", **kwargs) -> Outcome:
    return send_raw_bytes(ctx.ep, head_bytes(ctx, method, key, body, extra, **kwargs) + body + tail)


def send_unterminated_head(ctx: Ctx, size: int) -> Outcome:
    """H1: header bytes that never end in CRLFCRLF; the server must cut them off at its cap."""
    target, hdrs = sign_headers(ctx.ep, "GET", ctx.path(SEED_KEY))
    head = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
    filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    with RawConnection(ctx.ep) as conn:
        conn.send(head.encode())
        sent = 0
        try:
            while sent < size:
                conn.send(filler)
                sent += len(filler)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < size, "the server read 16 MiB of header bytes without answering"
        resp = conn.read_response()
        assert conn.wait_closed()
        return Outcome.of(resp)


def send_short_body_then_eof(ctx: Ctx) -> Outcome:
    """H5 variant: Content-Length 100, 10 bytes, then the client half-closes."""
    body = b"y" * 100
    target, hdrs = signed(ctx, "PUT", "h5", body=body)
    return Outcome.of(exchange(ctx.ep, "PUT", target, hdrs, body[:10], half_close=True))


def send_body_with_excess(ctx: Ctx) -> Outcome:
    """H6: five declared bytes, then garbage; the garbage is the next 'request'."""
    target, hdrs = signed(ctx, "PUT", "h6", body=b"hello")
    with RawConnection(ctx.ep) as conn:
        conn.send_request("PUT", target, hdrs, b"hello" + b"GARBAGE \x01\x02 not http\r\n\r\n")
        first = conn.read_response()
        assert first.status == 200, first
        second = conn.read_response()
        assert conn.wait_closed()
        return Outcome.of(second)


def metadata_headers(total_bytes: int) -> dict:
    return {f"x-amz-meta-m{i}": "v" * 100 for i in range(total_bytes // 100 + 1)}


# ---------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------

# Constant-time comparisons A2 relies on (reviewed instead of timed): s3-proto sigv4.rs
# `verify_signature` (header, presigned, chunk and trailer signatures: `ct_eq` after a format
# check), sigv2.rs (`ct_eq`), post_policy.rs (`ct_eq`), frontend handlers/payload.rs
# (payload SHA-256 and checksums: `ct_eq`), and the secret lookup in sigv4.rs.
ROWS: list[Row] = [
    # -- A: authentication and payload integrity ----------------------------------------------
    Row("A1", "header auth, one hex digit of the signature changed, on a PUT",
        lambda c: send_signed(c, "PUT", "a1", body=b"x", mutate=set_signature(flip_last_digit)),
        (403, "SignatureDoesNotMatch")),
    Row("A2", "timing of signature comparison", None, None,
        skip="not timed: review gate, see the ct_eq list above ROWS"),
    Row("A3-upper", "signature in uppercase hex",
        lambda c: send_signed(c, "PUT", "a3", body=b"x", mutate=set_signature(str.upper)),
        (403, "SignatureDoesNotMatch")),
    Row("A3-short", "signature of 63 hex digits",
        lambda c: send_signed(c, "PUT", "a3", body=b"x", mutate=set_signature(lambda s: s[:-1])),
        (403, "SignatureDoesNotMatch")),
    Row("A3-long", "signature of 65 hex digits",
        lambda c: send_signed(c, "PUT", "a3", body=b"x", mutate=set_signature(lambda s: s + "0")),
        (403, "SignatureDoesNotMatch")),
    Row("A3-nonhex", "signature with a non-hex character",
        lambda c: send_signed(c, "PUT", "a3", body=b"x", mutate=set_signature(lambda s: "g" + s[1:])),
        (403, "SignatureDoesNotMatch")),
    Row("A4-past", "x-amz-date 16 minutes in the past, header auth, PUT",
        lambda c: send_signed(c, "PUT", "a4", body=b"x", when=ago(16)),
        (403, "RequestTimeTooSkewed")),
    Row("A4-future", "x-amz-date 16 minutes in the future, header auth, PUT",
        lambda c: send_signed(c, "PUT", "a4", body=b"x", when=ago(-16)),
        (403, "RequestTimeTooSkewed")),
    Row("A5", "presigned PUT used after X-Amz-Date + X-Amz-Expires",
        lambda c: send_presigned(c, "PUT", "a5", body=b"x", expires="60", when=ago(10)),
        (403, "AccessDenied")),
    Row("A6-zero", "presigned X-Amz-Expires=0",
        lambda c: send_presigned(c, "PUT", "a6", body=b"x", expires="0"),
        (400, "AuthorizationQueryParametersError")),
    Row("A6-negative", "presigned X-Amz-Expires=-1",
        lambda c: send_presigned(c, "PUT", "a6", body=b"x", expires="-1"),
        (400, "AuthorizationQueryParametersError")),
    Row("A6-too-long", "presigned X-Amz-Expires=604801",
        lambda c: send_presigned(c, "PUT", "a6", body=b"x", expires="604801"),
        (400, "AuthorizationQueryParametersError")),
    Row("A6-non-numeric", "presigned X-Amz-Expires=abc",
        lambda c: send_presigned(c, "PUT", "a6", body=b"x", expires="abc"),
        (400, "AuthorizationQueryParametersError")),
    Row("A6-missing", "presigned URL without X-Amz-Expires",
        lambda c: send_presigned(c, "PUT", "a6", body=b"x", edit=lambda t: edit_query(t, drop=("X-Amz-Expires",))),
        (400, "AuthorizationQueryParametersError")),
    # Security issue 14, finding 2 (test_unsigned_headers.py has the whole set, SigV2 too).
    Row("A22-presigned-copy-source", "presigned PUT signed over host, x-amz-copy-source added",
        lambda c: send_presigned(c, "PUT", "a22", headers={"x-amz-copy-source": f"/{c.bucket}/{SEED_KEY}"}),
        (403, "AccessDenied")),
    Row("A22-presigned-meta", "presigned PUT, x-amz-meta-* and x-amz-tagging added",
        lambda c: send_presigned(c, "PUT", "a22", body=b"x",
                                 headers={"x-amz-meta-a": "1", "x-amz-tagging": "k=v"}),
        (403, "AccessDenied")),
    Row("A22-header-copy-source", "header auth, x-amz-copy-source added after signing",
        lambda c: send_signed(c, "PUT", "a22",
                              mutate=lambda h: h.update({"x-amz-copy-source": f"/{c.bucket}/{SEED_KEY}"})),
        (403, "AccessDenied")),
    # test_auth.py tampers a presigned GET; this is the PUT.
    Row("A7", "presigned PUT, expiry fine, signature wrong",
        lambda c: send_presigned(c, "PUT", "a7", body=b"x", edit=lambda t: t[:-1] + ("0" if t[-1] != "0" else "1")),
        (403, "SignatureDoesNotMatch")),
    Row("A8", "presigned X-Amz-Date 20 minutes in the future (MinIO: RequestNotReadyYet)",
        lambda c: send_presigned(c, "PUT", "a8", body=b"x", when=ago(-20)),
        (403, "AccessDenied")),
    # AWS answers a scope error with 400 AuthorizationHeaderMalformed (the body names the
    # expected region / service / terminator), not the 403 the catalogue guessed.
    Row("A9-region", "credential scope with another region, correctly signed for it",
        lambda c: send_signed(c, "PUT", "a9", body=b"x", mutate=replace_scope(2, "eu-west-1")),
        (400, "AuthorizationHeaderMalformed")),
    Row("A9-service", "credential scope with service sqs",
        lambda c: send_signed(c, "PUT", "a9", body=b"x", mutate=replace_scope(3, "sqs")),
        (400, "AuthorizationHeaderMalformed")),
    Row("A9-date", "credential scope date one day before x-amz-date",
        lambda c: send_signed(c, "PUT", "a9", body=b"x",
                              mutate=replace_scope(1, (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
                                                   .strftime("%Y%m%d"))),
        (400, "AuthorizationHeaderMalformed")),
    Row("A9-terminator", "credential scope terminator aws5_request",
        lambda c: send_signed(c, "PUT", "a9", body=b"x", mutate=replace_scope(4, "aws5_request")),
        (400, "AuthorizationHeaderMalformed")),
    # test_auth.py removes a signed x-amz-meta header; here a signed Content-Type goes missing.
    Row("A10-missing", "Content-Type listed in SignedHeaders but not sent",
        lambda c: send_signed(c, "PUT", "a10", headers={"Content-Type": "text/plain"}, body=b"x",
                              mutate=lambda h: h.pop("Content-Type")),
        (403, "SignatureDoesNotMatch")),
    # Refused on the header's shape, before any signature work: 400, not the catalogue's 403.
    Row("A10-host", "host left out of SignedHeaders (otherwise correctly signed)",
        lambda c: send_signed(c, "PUT", "a10", body=b"x", mutate=unsign_host(c)),
        (400, "AuthorizationHeaderMalformed")),
    # test_auth.py / test_errors.py cover PUT; this is UploadPart.
    Row("A11", "UploadPart whose x-amz-content-sha256 is the hash of another body",
        lambda c: send_signed(c, "PUT", SEED_UPLOAD_KEY, query={"partNumber": "2", "uploadId": c.upload_id},
                              body=b"body B", payload_hash=sha256_hex(b"body A")),
        (400, "XAmzContentSHA256Mismatch")),
    Row("A12-md5", "UNSIGNED-PAYLOAD PUT is accepted (as AWS does) but its Content-MD5 is still checked",
        lambda c: send_signed(c, "PUT", "a12", headers={"Content-MD5": md5_b64(b"other")}, body=b"x",
                              payload_hash="UNSIGNED-PAYLOAD"),
        (400, "BadDigest")),
    Row("A12-checksum", "UNSIGNED-PAYLOAD PUT with a wrong x-amz-checksum-crc32",
        lambda c: send_signed(c, "PUT", "a12", headers={"x-amz-checksum-crc32": crc32_b64(b"other")}, body=b"x",
                              payload_hash="UNSIGNED-PAYLOAD"),
        (400, "BadDigest")),
    # test_auth.py flips a byte in a PUT; this is UploadPart.
    Row("A13", "streaming signed UploadPart, one byte of chunk 2 changed",
        lambda c: send_streaming(c, SEED_UPLOAD_KEY, query={"partNumber": "2", "uploadId": c.upload_id},
                                 tamper=flip_byte_in_chunk_2),
        (403, "SignatureDoesNotMatch")),
    Row("A14-skip", "streaming signed PUT whose chain skips chunk 2",
        lambda c: send_streaming(c, "a14", tamper=skip_chunk_2), (403, "SignatureDoesNotMatch")),
    Row("A14-reorder", "streaming signed PUT with chunks 1 and 2 swapped",
        lambda c: send_streaming(c, "a14", tamper=swap_chunks_1_2), (403, "SignatureDoesNotMatch")),
    Row("A14-no-final", "streaming signed PUT ending before the 0-length chunk (400, not 403)",
        lambda c: send_streaming(c, "a14", tamper=drop_final_chunk), (400, "IncompleteBody")),
    Row("A15-more", "x-amz-decoded-content-length one more than the chunks carry",
        lambda c: send_streaming(c, "a15", decoded_length=len(STREAM_DATA) + 1), (400, "IncompleteBody")),
    Row("A15-less", "x-amz-decoded-content-length one less than the chunks carry",
        lambda c: send_streaming(c, "a15", decoded_length=len(STREAM_DATA) - 1), (400, "IncompleteBody")),
    Row("A16-no-encoding", "signed STREAMING-* without Content-Encoding, chunk 2 tampered: still verified",
        lambda c: send_streaming(c, "a16", tamper=flip_byte_in_chunk_2, content_encoding=False),
        (403, "SignatureDoesNotMatch")),
    Row("A16-added-encoding", "unsigned Content-Encoding: aws-chunked added to a SHA-256-signed PUT: "
        "the body is not decoded, so the hash of the decoded data does not match",
        lambda c: send_aws_chunked_framing_as_plain(c), (400, "XAmzContentSHA256Mismatch")),
    Row("A17-20-hex", "chunk-size line with 20 hex digits",
        lambda c: send_streaming(c, "a17", tamper=lambda b: with_first_size_line(
            b"0000000000000010000;chunk-signature=" + first_signature(b))(b)),
        (400, "IncompleteBody")),
    Row("A17-negative", "chunk-size line -1",
        lambda c: send_streaming(c, "a17", tamper=lambda b: with_first_size_line(
            b"-1;chunk-signature=" + first_signature(b))(b)),
        (400, "IncompleteBody")),
    Row("A17-no-signature", "chunk-size line without ;chunk-signature= in signed mode",
        lambda c: send_streaming(c, "a17", tamper=with_first_size_line(b"10000")), (400, "IncompleteBody")),
    Row("A17-1GiB", "chunk-size line declaring 1 GiB, refused before any allocation",
        lambda c: send_streaming(c, "a17", tamper=lambda b: with_first_size_line(
            b"40000000;chunk-signature=" + first_signature(b))(b)),
        (400, "InvalidRequest")),
    Row("A18-put", "STREAMING-UNSIGNED-PAYLOAD-TRAILER with a fabricated signature: PutObject",
        lambda c: send_unsigned_trailer_fabricated(c, "PUT", "a18", None, b"data"),
        (403, "SignatureDoesNotMatch")),
    Row("A18-upload-part", "... UploadPart",
        lambda c: send_unsigned_trailer_fabricated(c, "PUT", SEED_UPLOAD_KEY,
                                                   {"partNumber": "2", "uploadId": c.upload_id}, b"data"),
        (403, "SignatureDoesNotMatch")),
    Row("A18-delete-objects", "... DeleteObjects",
        lambda c: send_unsigned_trailer_fabricated(c, "POST", None, {"delete": ""}, delete_xml([SEED_KEY])),
        (403, "SignatureDoesNotMatch")),
    Row("A18-complete", "... CompleteMultipartUpload",
        lambda c: send_unsigned_trailer_fabricated(c, "POST", SEED_UPLOAD_KEY, {"uploadId": c.upload_id},
                                                   complete_xml([("1", seed_etag())])),
        (403, "SignatureDoesNotMatch")),
    Row("A18-put-tagging", "... PutObjectTagging",
        lambda c: send_unsigned_trailer_fabricated(c, "PUT", SEED_KEY, {"tagging": ""}, tagging_xml([("a", "b")])),
        (403, "SignatureDoesNotMatch")),
    Row("A18-put-bucket-tagging", "... PutBucketTagging",
        lambda c: send_unsigned_trailer_fabricated(c, "PUT", None, {"tagging": ""}, tagging_xml([("a", "b")])),
        (403, "SignatureDoesNotMatch")),
    Row("A18-post-object", "POST form upload with a fabricated policy signature",
        lambda c: send_post_form(c, "a18-form", fabricate=True), (403, "SignatureDoesNotMatch")),
    Row("A19-valid-url", "valid presigned PUT URL plus an aws-chunked body with made-up chunk signatures",
        lambda c: send_presigned_streaming(c, fabricate_url_signature=False), (403, "SignatureDoesNotMatch")),
    Row("A19-bad-url", "presigned PUT URL with a wrong signature plus a streaming body",
        lambda c: send_presigned_streaming(c, fabricate_url_signature=True), (403, "SignatureDoesNotMatch")),
    # test_auth.py covers the wrong trailer checksum on PUT; this is UploadPart.
    Row("A20", "UploadPart with a wrong x-amz-checksum-crc32 trailer",
        lambda c: send_unsigned_trailer(c, SEED_UPLOAD_KEY, b"part data", crc32_b64(b"other"),
                                        query={"partNumber": "2", "uploadId": c.upload_id}),
        (400, "BadDigest")),
    Row("A21-put", "PutObject with a wrong Content-MD5",
        lambda c: send_signed(c, "PUT", "a21", headers={"Content-MD5": md5_b64(b"other")}, body=b"x"),
        (400, "BadDigest")),
    Row("A21-upload-part", "UploadPart with a wrong Content-MD5",
        lambda c: send_signed(c, "PUT", SEED_UPLOAD_KEY, query={"partNumber": "2", "uploadId": c.upload_id},
                              headers={"Content-MD5": md5_b64(b"other")}, body=b"x"),
        (400, "BadDigest")),
    Row("A21-malformed", "Content-MD5 that is not base64 of 16 bytes",
        lambda c: send_signed(c, "PUT", "a21", headers={"Content-MD5": "not-an-md5"}, body=b"x"),
        (400, "InvalidDigest")),
]


def unsign_host(ctx: Ctx) -> Callable[[dict], None]:
    """A10: sign x-amz-date and x-amz-content-sha256 only, correctly, without host."""

    def mutate(headers: dict):
        amz_date = headers["X-Amz-Date"]
        payload_hash = headers["X-Amz-Content-SHA256"]
        date = amz_date[:8]
        canonical = "\n".join([
            "PUT", ctx.path("a10"), "",
            f"x-amz-content-sha256:{payload_hash}", f"x-amz-date:{amz_date}", "",
            "x-amz-content-sha256;x-amz-date", payload_hash,
        ])
        scope = f"{date}/{REGION}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, sha256_hex(canonical.encode())])
        sig = hmac.new(signing_key(ctx.ep.secret_key, date), to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={ctx.ep.access_key}/{scope}, "
                                    f"SignedHeaders=x-amz-content-sha256;x-amz-date, Signature={sig}")

    return mutate


def send_aws_chunked_framing_as_plain(ctx: Ctx) -> Outcome:
    data = STREAM_DATA[: 4 * KiB]
    body = f"{len(data):x};chunk-signature={'a' * 64}\r\n".encode() + data + b"\r\n"
    body += f"0;chunk-signature={'b' * 64}\r\n\r\n".encode()
    target, hdrs = signed(ctx, "PUT", "a16", body=body, payload_hash=sha256_hex(data))
    hdrs["Content-Encoding"] = "aws-chunked"
    return Outcome.of(exchange(ctx.ep, "PUT", target, hdrs, body))


def send_post_form(ctx: Ctx, key: str, fabricate: bool = False, file_bytes: bytes = b"form") -> Outcome:
    post = make_client(ctx.ep).generate_presigned_post(ctx.bucket, key)
    fields = dict(post["fields"])
    if fabricate:
        fields["x-amz-signature"] = "0123456789abcdef" * 4
    return Outcome.of(post_form(ctx.ep, ctx.bucket, fields, file_bytes))


# -- P: paths, keys and bucket names ----------------------------------------------------------

# Keys are opaque to MaxIOFS (engine/base names.rs): they live in the metadata index and are
# never turned into file-system paths, so traversal spellings are stored as the literal key,
# as AWS does. Policy for P1-P3: "stored safely as an opaque key"; NUL, invalid UTF-8 and
# > 1024 bytes are 400.
OPAQUE_KEYS = ["../../etc/passwd", "a/../../b", "./a", "a/./b", "a//b", "/leading", "\\..\\win", "s" * 256]


def put_key(ctx: Ctx, raw_path: str, body: bytes) -> Outcome:
    """PUT to a request path written by hand (percent-encoding as given). The signature covers
    the canonical path (each segment decoded once and re-encoded, as the server and AWS
    compute it), which botocore would not derive from an already encoded path."""
    canonical = "/".join(quote(unquote(segment), safe="~") for segment in raw_path.split("/"))
    target, hdrs = sign_headers(ctx.ep, "PUT", canonical, body=body)
    target = raw_path
    hdrs["Content-Length"] = str(len(body))
    return Outcome.of(exchange(ctx.ep, "PUT", target, hdrs, body))


def opaque_row(row_id: str, key: str, raw_suffix: str | None = None) -> Row:
    body = f"body of {key[:40]}".encode()
    suffix = raw_suffix if raw_suffix is not None else quote(key, safe="/~")
    return Row(row_id, f"key {key[:40]!r} is stored as an opaque key",
               lambda c: put_key(c, f"/{c.bucket}/{suffix}", body), (200, None), creates={key: body})


def bucket_name_row(row_id: str, name: str, expect=(400, "InvalidBucketName")) -> Row:
    return Row(row_id, f"CreateBucket {name[:20]!r}",
               lambda c: Outcome.of(exchange(c.ep, "PUT", *sign_headers(c.ep, "PUT", f"/{name}"))), expect)


def copy_source_row(row_id: str, source: str, expect, description: str, part: bool = False) -> Row:
    def send(c: Ctx) -> Outcome:
        headers = {"x-amz-copy-source": source.format(bucket=c.bucket)}
        if part:
            return send_signed(c, "PUT", SEED_UPLOAD_KEY, query={"partNumber": "2", "uploadId": c.upload_id},
                               headers=headers)
        return send_signed(c, "PUT", "p-dst", headers=headers)

    return Row(row_id, description, send, expect)


ROWS += [
    *[opaque_row(f"P1-{i}", key) for i, key in enumerate(OPAQUE_KEYS)],
    Row("P1-nul", "key with NUL (%00)", lambda c: put_key(c, f"/{c.bucket}/a%00b", b"x"), (400, "InvalidArgument")),
    Row("P1-too-long", "key of 1025 bytes", lambda c: put_key(c, f"/{c.bucket}/{'k' * 1025}", b"x"),
        (400, "KeyTooLongError")),
    Row("P1-invalid-utf8", "key %ff (not UTF-8)", lambda c: put_key(c, f"/{c.bucket}/a%ffb", b"x"),
        (400, "InvalidURI")),
    # P2: exactly one percent-decode.
    opaque_row("P2-encoded-dots", "../../etc/passwd", raw_suffix="%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
    opaque_row("P2-encoded-slash", "a/b", raw_suffix="a%2Fb"),
    opaque_row("P2-double-encoded", "%2e%2e%2fx", raw_suffix="%252e%252e%252fx"),
    Row("P2-overlong", "overlong UTF-8 %c0%ae%c0%ae%2f", lambda c: put_key(c, f"/{c.bucket}/%c0%ae%c0%ae%2fx", b"x"),
        (400, "InvalidURI")),
    # P3: traversal keys after XML decoding do not reach the seed object: x/../seed is not seed.
    Row("P3-xml-entity", "DeleteObjects <Key>x&#x2F;..&#x2F;seed</Key>: opaque key, seed survives",
        lambda c: delete_objects(c, delete_xml(["x&#x2F;..&#x2F;" + SEED_KEY])), (200, None)),
    Row("P3-xml-cdata", "DeleteObjects <Key><![CDATA[x/../seed]]></Key>: seed survives",
        lambda c: delete_objects(c, delete_xml([f"<![CDATA[x/../{SEED_KEY}]]>"])), (200, None)),
    copy_source_row("P3-copy-source", "{bucket}/x/../" + SEED_KEY, (404, "NoSuchKey"),
                    "x-amz-copy-source {bucket}/x/../seed is not normalised"),
    copy_source_row("P3-copy-source-bucket", "{bucket}/../{bucket}/" + SEED_KEY, (404, "NoSuchKey"),
                    "x-amz-copy-source {bucket}/../{bucket}/seed: key '../{bucket}/seed'"),
    Row("P3-post-form", "POST form key x/../seed stored as an opaque key",
        lambda c: send_post_form(c, "x/../" + SEED_KEY), (204, None), creates={"x/../" + SEED_KEY: b"form"}),
    Row("P3-archive", "archive entries", None, None, skip="no archive-extract operation exists"),
    # P4: bucket names.
    bucket_name_row("P4-dotdot", ".."),
    bucket_name_row("P4-dot", "."),
    bucket_name_row("P4-upper", "A"),
    bucket_name_row("P4-two", "ab"),
    bucket_name_row("P4-64", "b" * 64),
    bucket_name_row("P4-ip", "192.168.1.1"),
    bucket_name_row("P4-xn", "xn--bucket"),
    Row("P4-target", "PUT ../b/k (request-target without a leading slash)",
        lambda c: send_raw_bytes(c.ep, f"PUT ../{c.bucket}/k HTTP/1.1\r\nHost: {c.ep.netloc}\r\n"
                                       f"Content-Length: 1\r\n\r\nx".encode(), expect_closed=True),
        (400, "BadRequest")),
    # P5: test_copy.py covers CopyObject; these are UploadPartCopy.
    copy_source_row("P5-empty", "", (400, "InvalidArgument"), "UploadPartCopy, empty x-amz-copy-source", part=True),
    copy_source_row("P5-slash", "/", (400, "InvalidArgument"), "UploadPartCopy, copy source /", part=True),
    copy_source_row("P5-nul", "%00", (400, "InvalidArgument"), "UploadPartCopy, copy source %00", part=True),
    Row("P5-tenant", "another tenant's bucket as copy source", None, None,
        skip="see test_admin.py::test_tenant_isolation_on_every_path (needs the admin process)"),
]

# -- X: XML bodies ----------------------------------------------------------------------------

ROWS += [
    Row("X1-delete", "billion laughs in DeleteObjects",
        lambda c: delete_objects(c, billion_laughs("Delete", "<Object><Key>@</Key></Object>")), (400, "MalformedXML")),
    Row("X1-complete", "billion laughs in CompleteMultipartUpload",
        lambda c: complete(c, billion_laughs("CompleteMultipartUpload",
                                             "<Part><PartNumber>1</PartNumber><ETag>@</ETag></Part>")),
        (400, "MalformedXML")),
    Row("X1-tagging", "billion laughs in PutObjectTagging",
        lambda c: put_object_tagging(c, billion_laughs("Tagging", "<TagSet><Tag><Key>k</Key><Value>@</Value></Tag>"
                                                                  "</TagSet>")),
        (400, "MalformedXML")),
    Row("X2", "XXE external entity in PutBucketTagging",
        lambda c: send_xml(c, "PUT", None, {"tagging": ""}, (XXE_DTD + "<Tagging><TagSet><Tag><Key>k</Key>"
                                                              "<Value>&x;</Value></Tag></TagSet></Tagging>").encode()),
        (400, "MalformedXML")),
    # test_delete_objects.py covers 1001 keys.
    # The catalogue guessed MalformedXML; the 2 MiB XML body cap answers EntityTooLarge before
    # any parsing (MalformedXML stays the answer for 1001 keys under the cap).
    Row("X3", "DeleteObjects with 1,000,000 keys (33 MiB), refused by the body cap",
        million_key_delete, (400, "EntityTooLarge")),
    Row("X4", "DeleteObjects nested 100,000 deep",
        lambda c: delete_objects(c, b"<Delete>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</Delete>"),
        (400, "MalformedXML")),
    # test_multipart.py covers duplicate, descending, unknown ETag and a small non-last part.
    Row("X5-10001-parts", "CompleteMultipartUpload listing 10,001 parts",
        complete_parts(range(1, 10_002)), (400, "MalformedXML")),
    # AWS: "Part number must be an integer between 1 and 10000, inclusive" (InvalidArgument).
    Row("X5-part-0", "CompleteMultipartUpload with part 0", complete_parts([0]), (400, "InvalidArgument")),
    Row("X5-part-10001", "CompleteMultipartUpload with part 10001", complete_parts([10_001]),
        (400, "InvalidArgument")),
    # test_multipart.py covers partNumber 0 and 10001.
    *[Row(f"X6-{value}", f"UploadPart partNumber={value}",
          lambda c, v=value: send_signed(c, "PUT", SEED_UPLOAD_KEY, query={"partNumber": v, "uploadId": c.upload_id},
                                         body=b"x"),
          (400, "InvalidArgument")) for value in ("-1", "1e3", "0x10", "+1")],
    Row("X7-tagging", "PutObjectTagging with a misspelt element <Kye>",
        lambda c: put_object_tagging(c, b"<Tagging><TagSet><Tag><Kye>a</Kye><Value>b</Value></Tag></TagSet></Tagging>"),
        (400, "MalformedXML")),
    Row("X7-negative", "CompleteMultipartUpload with <PartNumber>-1</PartNumber>",
        complete_parts([-1]), (400, "MalformedXML")),
    Row("X7-cors", "PutBucketCors with a misspelt element <AllowedOrigins>",
        lambda c: send_xml(c, "PUT", None, {"cors": ""},
                           b"<CORSConfiguration><CORSRule><AllowedOrigins>*</AllowedOrigins>"
                           b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"),
        (400, "MalformedXML")),
    Row("X7-cors-bomb", "PutBucketCors with a billion-laughs DTD",
        lambda c: send_xml(c, "PUT", None, {"cors": ""},
                           billion_laughs("CORSConfiguration", "<CORSRule><AllowedOrigin>@</AllowedOrigin>"
                                          "<AllowedMethod>GET</AllowedMethod></CORSRule>")),
        (400, "MalformedXML")),
    Row("X7-lifecycle", "PutBucketLifecycleConfiguration with a billion-laughs DTD",
        lambda c: send_xml(c, "PUT", None, {"lifecycle": ""},
                           billion_laughs("LifecycleConfiguration", "<Rule><ID>@</ID><Status>Enabled</Status>"
                                          "<Filter/><Expiration><Days>1</Days></Expiration></Rule>")),
        (400, "MalformedXML")),
    Row("X7-policy", "PutBucketPolicy that is not JSON",
        lambda c: send_signed(c, "PUT", None, query={"policy": ""}, body=b"<Policy/>"),
        (400, "MalformedPolicy")),
    # test_tagging.py covers 11 tags via boto3 PutObjectTagging and PutObject's header.
    Row("X8-tags", "PutObjectTagging with 11 tags (raw XML)",
        lambda c: put_object_tagging(c, tagging_xml([(f"k{i}", "v") for i in range(11)])), (400, "BadRequest")),
    Row("X8-tags-header", "CreateMultipartUpload with 11 tags in x-amz-tagging",
        lambda c: send_signed(c, "POST", "x8", query={"uploads": ""},
                              headers={"x-amz-tagging": "&".join(f"k{i}=v" for i in range(11))}),
        (400, "BadRequest")),
    Row("X8-acl", "PutBucketAcl with more than 100 grants",
        lambda c: send_xml(c, "PUT", None, {"acl": ""},
                           b"<AccessControlPolicy><AccessControlList>"
                           + b"<Grant><Grantee><ID>x</ID></Grantee><Permission>READ</Permission></Grant>" * 101
                           + b"</AccessControlList></AccessControlPolicy>"),
        (400, "MalformedACLError")),
]

# -- H: HTTP framing --------------------------------------------------------------------------

ROWS += [
    # test_errors.py covers 201 headers.
    Row("H1-unterminated", "16 MiB of header bytes without CRLFCRLF", lambda c: send_unterminated_head(c, 16 * MiB),
        (431, "RequestHeaderSectionTooLarge")),
    Row("H1-64KiB-header", "one 64 KiB header",
        lambda c: send_bytes_then(c, "GET", SEED_KEY, b"", [("X-Big", "a" * 64 * KiB)]),
        (431, "RequestHeaderSectionTooLarge")),
    # test_errors.py covers CL+TE and "5, 6", "+5", "-1", "1e3".
    Row("H2-te-gzip", "Transfer-Encoding: gzip, chunked",
        lambda c: send_bytes_then(c, "PUT", "h2", b"5\r\nhello\r\n0\r\n\r\n", [("Transfer-Encoding", "gzip, chunked")]),
        (400, "BadRequest")),
    Row("H2-two-content-length", "two Content-Length lines that differ",
        lambda c: send_bytes_then(c, "PUT", "h2", b"hello", [("Content-Length", "5"), ("Content-Length", "6")]),
        (400, "BadRequest")),
    Row("H2-same-content-length", "two identical Content-Length lines (also refused: one length, once)",
        lambda c: send_bytes_then(c, "PUT", "h2", b"hello", [("Content-Length", "5"), ("Content-Length", "5")]),
        (400, "BadRequest")),
    # Policy: bare LF is accepted as a line end in the head, as RFC 9112 §2.2 allows (httparse
    # does so everywhere; body framing still demands CRLF). The request is served normally.
    Row("H3-bare-lf", "bare-LF line endings in the head (policy: accepted, RFC 9112 §2.2)",
        lambda c: send_raw_bytes(c.ep, head_bytes(c, "PUT", "h3", b"hello", [("Content-Length", "5")],
                                                  line_end=b"\n") + b"hello", expect_closed=False),
        (200, None), creates={"h3": b"hello"}),
    Row("H3-obs-fold", "obs-fold continuation line",
        lambda c: send_bytes_then(c, "PUT", "h3", b"hello", [("Content-Length", "5"), ("X-Folded", "a\r\n b")]),
        (400, "BadRequest")),
    Row("H3-space-before-colon", "space before the colon",
        lambda c: send_bytes_then(c, "PUT", "h3", b"hello", [("Content-Length", "5"), ("X-Bad ", "v")]),
        (400, "BadRequest")),
    Row("H3-nul", "NUL in a header value",
        lambda c: send_bytes_then(c, "PUT", "h3", b"hello", [("Content-Length", "5"), ("X-Nul", "a\x00b")]),
        (400, "BadRequest")),
    Row("H3-http-1.2", "HTTP/1.2",
        lambda c: send_bytes_then(c, "PUT", "h3", b"hello", [("Content-Length", "5")], version="HTTP/1.2"),
        (400, "BadRequest")),
    Row("H4-metadata", "user metadata over 2 KiB",
        lambda c: send_signed(c, "PUT", "h4", headers=metadata_headers(2 * KiB), body=b"x"),
        (400, "MetadataTooLarge")),
    Row("H4-headers", "PUT headers over 8 KiB in total (user metadata under 2 KiB)",
        lambda c: send_signed(c, "PUT", "h4", headers={f"x-filler-{i}": "v" * 900 for i in range(10)}, body=b"x"),
        (400, "MetadataTooLarge")),
    # test_slow_clients.py covers the idle variant (400 RequestTimeout after the idle timeout).
    Row("H5", "Content-Length 100, 10 bytes sent, then EOF", send_short_body_then_eof, (400, "IncompleteBody")),
    Row("H6", "body longer than Content-Length: the excess is parsed as the next request",
        send_body_with_excess, (400, "BadRequest"), creates={"h6": b"hello"}),
    Row("D1", "slowloris", None, None,
        skip="see test_slow_clients.py::test_slowloris_head_is_cut_off_while_others_are_served"),
    Row("D2", "slow body", None, None,
        skip="see test_slow_clients.py::test_stalled_body_gets_request_timeout_and_stores_nothing"),
]


# -- I: response header injection (security issue 14, finding 3) -------------------------------
# Not rows of the shared catalogue yet: values that would reach a response head are refused
# where they are accepted. test_header_injection.py attacks every path and parses the raw
# answers; these rows add the no-side-effect check.


def send_injected_post_field(ctx: Ctx) -> Outcome:
    post = make_client(ctx.ep).generate_presigned_post(
        ctx.bucket, "i1", Conditions=[["starts-with", "$Cache-Control", ""]])
    fields = dict(post["fields"], **{"Cache-Control": "no-cache\r\nSet-Cookie: injected=1"})
    return Outcome.of(post_form(ctx.ep, ctx.bucket, fields, b"form"))


def send_injected_file_type(ctx: Ctx) -> Outcome:
    post = make_client(ctx.ep).generate_presigned_post(ctx.bucket, "i2")
    return Outcome.of(post_form(ctx.ep, ctx.bucket, post["fields"], b"form",
                                file_type="text/plain\nSet-Cookie: injected=1"))


ROWS += [
    Row("I1-post-field", "POST form Cache-Control field with CR LF (a policy allowing any value)",
        send_injected_post_field, (400, "InvalidArgument")),
    Row("I2-post-file-type", "bare LF inside the file part's Content-Type header",
        send_injected_file_type, (400, "MalformedPOSTRequest")),
    Row("I3-response-override", "GET with response-content-disposition=%0D%0ASet-Cookie:...",
        lambda c: send_signed(c, "GET", SEED_KEY,
                              query={"response-content-disposition": "a\r\nSet-Cookie: injected=1"}),
        (400, "InvalidArgument")),
    Row("I4-cors-expose-header", "PutBucketCors with &#13;&#10; in an ExposeHeader",
        lambda c: send_xml(c, "PUT", None, {"cors": ""}, (
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
            "<AllowedMethod>GET</AllowedMethod><ExposeHeader>ETag&#13;&#10;Set-Cookie: injected=1"
            "</ExposeHeader></CORSRule></CORSConfiguration>").encode()),
        (400, "InvalidRequest")),
]


# ---------------------------------------------------------------------------
# side-effect checks
# ---------------------------------------------------------------------------


def snapshot(ctx: Ctx) -> dict:
    s3 = ctx.s3
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=ctx.bucket):
        for obj in page.get("Contents", []):
            objects[obj["Key"]] = (obj["ETag"], obj["Size"], obj["LastModified"])
    uploads = sorted((u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=ctx.bucket).get("Uploads", []))
    parts = [(p["PartNumber"], p["ETag"], p["Size"])
             for p in s3.list_parts(Bucket=ctx.bucket, Key=SEED_UPLOAD_KEY, UploadId=ctx.upload_id).get("Parts", [])]
    try:
        bucket_tags = s3.get_bucket_tagging(Bucket=ctx.bucket)["TagSet"]
    except ClientError as exc:
        bucket_tags = exc.response["Error"]["Code"]
    return {
        "objects": objects,
        "uploads": uploads,
        "parts": parts,
        "seed_tags": s3.get_object_tagging(Bucket=ctx.bucket, Key=SEED_KEY)["TagSet"],
        "bucket_tags": bucket_tags,
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
    }


def session_server_log() -> str:
    """The shared server's whole log, where a panic would show ("panicked at")."""
    for proc in harness.LIVE_SERVERS:
        if proc.name == "maxiofs-session":
            return proc.stderr_path.read_text(errors="replace") + "\n".join(proc.stdout_lines)
    assert os.environ.get("MAXIOFS_TEST_ENDPOINT"), "the session server's log was not found"
    return ""


@pytest.fixture
def ctx(server, s3, request):
    name = unique_bucket_name("bad-inputs")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key=SEED_KEY, Body=SEED_BODY, Tagging="keep=me")
    upload_id = s3.create_multipart_upload(Bucket=name, Key=SEED_UPLOAD_KEY)["UploadId"]
    s3.upload_part(Bucket=name, Key=SEED_UPLOAD_KEY, UploadId=upload_id, PartNumber=1, Body=SEED_PART_BODY)
    yield Ctx(server, s3, name, upload_id)
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    harness.empty_and_delete_bucket(s3, name)


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input(ctx, row: Row):
    if row.skip:
        pytest.skip(row.skip)
    panics_before = session_server_log().count("panicked")
    before = snapshot(ctx)

    outcome = row.send(ctx)

    assert outcome.status < 500, f"{row.id}: 5xx {outcome}"
    assert (outcome.status, outcome.code) == row.expect, f"{row.id} {row.description}: got {outcome}"
    after = snapshot(ctx)
    created = {key: after["objects"].pop(key, None) for key in row.creates}
    assert after == before, f"{row.id}: side effect"
    for key, body in row.creates.items():
        assert created[key] is not None, f"{row.id}: {key!r} not stored"
        assert ctx.s3.get_object(Bucket=ctx.bucket, Key=key)["Body"].read() == body
    # The server still answers a normal request, on a fresh connection.
    assert ctx.s3.get_object(Bucket=ctx.bucket, Key=SEED_KEY)["Body"].read() == SEED_BODY
    assert session_server_log().count("panicked") == panics_before, f"{row.id}: the server panicked"

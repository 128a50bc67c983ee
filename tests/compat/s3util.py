"""Client-side helpers shared by the compat tests.

Nothing here starts servers or defines fixtures (see harness.py and conftest.py);
this module holds payload generation, hashes, SigV4 signing of hand-built requests,
a tiny raw HTTP/1.1 client and the reference model of ListObjectsV2.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import os
import socket
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit
from xml.etree import ElementTree

import botocore.auth
import botocore.credentials
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

REGION = "us-east-1"
MiB = 1024 * 1024
KiB = 1024
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


# ---------------------------------------------------------------------------
# payloads and hashes
# ---------------------------------------------------------------------------


def payload(size: int) -> bytes:
    """Random, incompressible bytes."""
    return os.urandom(size)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def multipart_etag(parts: list[bytes]) -> str:
    """S3 ETag of a completed multipart upload: md5(concat(md5(part))) + '-N'."""
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f"{digest}-{len(parts)}"


def quoted(etag: str) -> str:
    return f'"{etag}"'


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


def write_random_file(path, size: int) -> str:
    """Write `size` random bytes to `path` in 1 MiB blocks; return their sha256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        remaining = size
        while remaining:
            block = os.urandom(min(MiB, remaining))
            h.update(block)
            f.write(block)
            remaining -= len(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# boto3 error helpers
# ---------------------------------------------------------------------------


def error_of(exc: ClientError) -> tuple[int, str]:
    """(HTTP status, S3 error code) of a botocore ClientError."""
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]


def expect_error(call, status: int, code: str, **kwargs) -> ClientError:
    """Call `call(**kwargs)`, which must fail with exactly (status, code)."""
    try:
        call(**kwargs)
    except ClientError as exc:
        assert error_of(exc) == (status, code), exc.response
        return exc
    shown = {k: (v if not isinstance(v, bytes) else f"<{len(v)} bytes>") for k, v in kwargs.items()}
    shown = {k: (v if not isinstance(v, str) or len(v) < 80 else v[:77] + "...") for k, v in shown.items()}
    raise AssertionError(f"{getattr(call, '__name__', call)}({shown}) succeeded; expected {status} {code}")


# ---------------------------------------------------------------------------
# SigV4 signing of hand-built requests
# ---------------------------------------------------------------------------


class _PayloadOverrideAuth(botocore.auth.S3SigV4Auth):
    """S3SigV4Auth whose x-amz-content-sha256 value is chosen by the caller."""

    def __init__(self, credentials, payload_hash: str | None):
        super().__init__(credentials, "s3", REGION)
        self._payload_hash = payload_hash

    def payload(self, request):
        if self._payload_hash is not None:
            return self._payload_hash
        return super().payload(request)


@dataclass
class Endpoint:
    """Where a server listens and the credentials it accepts."""

    host: str
    port: int
    access_key: str
    secret_key: str
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"


def object_path(bucket: str, key: str = "") -> str:
    """Path-style request path with the key percent-encoded like the SDKs do."""
    if not key:
        return f"/{bucket}"
    return f"/{bucket}/{quote(key, safe='/~')}"


def sign_headers(
    ep: Endpoint,
    method: str,
    path: str,
    query: dict | list | None = None,
    headers: dict | None = None,
    body: bytes = b"",
    payload_hash: str | None = None,
    secret_key: str | None = None,
    when: dt.datetime | None = None,
) -> tuple[str, dict]:
    """Sign a request with SigV4 (header auth) and return (request target, headers).

    `payload_hash` replaces the x-amz-content-sha256 value (e.g. "UNSIGNED-PAYLOAD",
    a STREAMING-* mode or a deliberately wrong hash). `when` overrides x-amz-date.
    """
    target = path + (("?" + urlencode(query, quote_via=quote)) if query else "")
    creds = botocore.credentials.Credentials(ep.access_key, secret_key or ep.secret_key)
    req = AWSRequest(method=method, url=ep.url + target, data=body, headers=dict(headers or {}))
    auth = _PayloadOverrideAuth(creds, payload_hash)
    if when is not None:
        # botocore takes the signing time from botocore.auth.get_current_datetime().
        original = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda *a, **k: when.astimezone(dt.timezone.utc).replace(tzinfo=None)
        try:
            auth.add_auth(req)
        finally:
            botocore.auth.get_current_datetime = original
    else:
        auth.add_auth(req)
    out = {k: v for k, v in req.headers.items()}
    out["Host"] = ep.netloc
    return target, out


def signing_key(secret: str, date: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def aws_chunked_signed_body(
    ep: Endpoint, seed_headers: dict, data: bytes, chunk_size: int = 64 * KiB
) -> bytes:
    """Frame `data` as STREAMING-AWS4-HMAC-SHA256-PAYLOAD, chaining from the seed signature."""
    amz_date = seed_headers["X-Amz-Date"]
    date = amz_date[:8]
    scope = f"{date}/{REGION}/s3/aws4_request"
    prev = seed_headers["Authorization"].rsplit("Signature=", 1)[1]
    key = signing_key(ep.secret_key, date)
    empty = sha256_hex(b"")
    frames = []
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for chunk in chunks:
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, empty, sha256_hex(chunk)]
        )
        sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        frames.append(f"{len(chunk):x};chunk-signature={sig}\r\n".encode() + chunk + b"\r\n")
        prev = sig
    return b"".join(frames)


def aws_chunked_signed_framing_len(data_len: int, chunk_size: int = 64 * KiB) -> int:
    """Length of the aws-chunked signed body produced by aws_chunked_signed_body."""
    sizes = [min(chunk_size, data_len - i) for i in range(0, data_len, chunk_size)] + [0]
    return sum(len(f"{n:x}") + len(";chunk-signature=") + 64 + 2 + n + 2 for n in sizes)


def aws_chunked_unsigned_trailer_body(data: bytes, checksum_b64: str, chunk_size: int = 64 * KiB) -> bytes:
    """Frame `data` as STREAMING-UNSIGNED-PAYLOAD-TRAILER with an x-amz-checksum-crc32 trailer."""
    frames = [
        f"{len(data[i:i + chunk_size]):x}\r\n".encode() + data[i : i + chunk_size] + b"\r\n"
        for i in range(0, len(data), chunk_size)
    ]
    frames.append(b"0\r\n" + f"x-amz-checksum-crc32:{checksum_b64}\r\n\r\n".encode())
    return b"".join(frames)


# ---------------------------------------------------------------------------
# a tiny raw HTTP/1.1 client (for framing tests the stdlib client cannot express)
# ---------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes = b""
    interim: list[int] = field(default_factory=list)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def error_code(self) -> str | None:
        return parse_error(self.body).get("Code") if self.body else None

    def __repr__(self) -> str:
        return f"<RawResponse {self.status} {self.reason!r} body={self.body[:300]!r}>"


class RawConnection:
    """One TCP connection; send raw bytes, read HTTP/1.1 responses."""

    def __init__(self, ep: Endpoint, timeout: float = 30.0):
        self.ep = ep
        self.sock = socket.create_connection((ep.host, ep.port), timeout=timeout)
        self._buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def send_request(self, method: str, target: str, headers: dict, body: bytes = b""):
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.send(head.encode() + b"\r\n" + body)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buf:
            if not self._fill():
                raise ConnectionError(f"connection closed before {marker!r}; have {self._buf[:200]!r}")
        idx = self._buf.index(marker) + len(marker)
        out, self._buf = self._buf[:idx], self._buf[idx:]
        return out

    def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            if not self._fill():
                raise ConnectionError("connection closed inside a body")
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def read_until(self, marker: bytes) -> bytes:
        """Every byte up to and including `marker`."""
        return self._read_until(marker)

    def read_all(self) -> bytes:
        """Every byte until the server closes the connection (raw, unparsed)."""
        while self._fill():
            pass
        out, self._buf = self._buf, b""
        return out

    def read_head(self) -> tuple[int, str, dict[str, str]]:
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        _version, status, *reason = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return int(status), (reason[0] if reason else ""), headers

    def read_response(self, head_request: bool = False) -> RawResponse:
        interim = []
        while True:
            status, reason, headers = self.read_head()
            if 100 <= status < 200:
                interim.append(status)
                continue
            break
        resp = RawResponse(status, reason, headers, interim=interim)
        if head_request or status in (204, 304):
            return resp
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0].strip(), 16)
                if size == 0:
                    self._read_until(b"\r\n")  # no trailers expected
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            resp.body = body
        elif "content-length" in headers:
            resp.body = self._read_exact(int(headers["content-length"]))
        else:
            while self._fill():
                pass
            resp.body, self._buf = self._buf, b""
        return resp

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """True if the peer closes the connection (EOF or reset) within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def poll_response_head(self, timeout: float) -> tuple[int, str, dict] | None:
        """Read a response head if one arrives within `timeout`, else None."""
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            return self.read_head()
        except socket.timeout:
            return None
        finally:
            self.sock.settimeout(old)


def raw_request(
    ep: Endpoint,
    method: str,
    path: str,
    query=None,
    headers: dict | None = None,
    body: bytes = b"",
    **sign_kwargs,
) -> RawResponse:
    """Sign and send one request on a fresh connection, with Content-Length framing."""
    target, hdrs = sign_headers(ep, method, path, query, headers, body, **sign_kwargs)
    if body or method in ("PUT", "POST"):
        hdrs["Content-Length"] = str(len(body))
    with RawConnection(ep) as conn:
        conn.send_request(method, target, hdrs, body)
        return conn.read_response(head_request=(method == "HEAD"))


def http_call(method: str, url: str, body: bytes = b"", headers: dict | None = None) -> RawResponse:
    """One plain http.client request to a full URL (presigned URLs, health checks)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body if (body or method in ("PUT", "POST")) else None, headers=headers or {})
        resp = conn.getresponse()
        return RawResponse(resp.status, resp.reason, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# XML
# ---------------------------------------------------------------------------


def _strip_ns(tag: str) -> str:
    return tag.split("}", 1)[-1]


def parse_error(body: bytes) -> dict[str, str]:
    """Children of an S3 <Error> document as a dict; {} if the body is not one."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return {}
    if _strip_ns(root.tag) != "Error":
        return {}
    return {_strip_ns(child.tag): (child.text or "") for child in root}


def xml_texts(body: bytes, path: str) -> list[str]:
    """Texts of all elements matching a namespace-agnostic path like 'Contents/Key'."""
    root = ElementTree.fromstring(body)
    nodes = [root]
    for step in path.split("/"):
        nodes = [c for n in nodes for c in n if _strip_ns(c.tag) == step]
    return [n.text or "" for n in nodes]


# ---------------------------------------------------------------------------
# reference model of ListObjectsV2
# ---------------------------------------------------------------------------


def s3_sort_key(key: str) -> bytes:
    """S3 lists keys in UTF-8 binary order."""
    return key.encode("utf-8")


@dataclass(frozen=True)
class Listing:
    keys: list[str]
    prefixes: list[str]

    def merged(self) -> list[str]:
        return sorted(self.keys + self.prefixes, key=s3_sort_key)


def expected_listing(all_keys, prefix: str = "", delimiter: str = "", start_after: str = "") -> Listing:
    """What a complete (all pages) ListObjectsV2 must return."""
    keys, prefixes = [], set()
    for key in all_keys:
        if not key.startswith(prefix):
            continue
        if start_after and s3_sort_key(key) <= s3_sort_key(start_after):
            continue
        rest = key[len(prefix) :]
        if delimiter and delimiter in rest:
            prefixes.add(prefix + rest[: rest.index(delimiter) + len(delimiter)])
        else:
            keys.append(key)
    return Listing(sorted(keys, key=s3_sort_key), sorted(prefixes, key=s3_sort_key))


def reflected_table(poly: int, width: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc & ((1 << width) - 1))
    return table


CRC32C_TABLE = reflected_table(0x82F63B78, 32)
CRC64NVME_TABLE = reflected_table(0x9A6C9329AC4BC9B5, 64)


def reflected_crc(data: bytes, table: list[int], width: int) -> int:
    mask = (1 << width) - 1
    crc = mask
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


def digest(algorithm: str, data: bytes) -> bytes:
    """The raw big-endian digest S3 base64-encodes; CRC32C and CRC64NVME in pure Python
    (boto3 needs awscrt for them), xxHash from the xxhash package."""
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return reflected_crc(data, CRC32C_TABLE, 32).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return reflected_crc(data, CRC64NVME_TABLE, 64).to_bytes(8, "big")
    if algorithm.startswith("XXHASH"):
        # The canonical (big-endian) form, as S3 sends it.
        import xxhash

        hasher = {"XXHASH64": xxhash.xxh64, "XXHASH3": xxhash.xxh3_64, "XXHASH128": xxhash.xxh3_128}[algorithm]
        return hasher(data).digest()
    return hashlib.new(algorithm.lower(), data).digest()


def b64(algorithm: str, data: bytes) -> str:
    return base64.b64encode(digest(algorithm, data)).decode()

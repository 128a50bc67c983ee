"""TLS on both ports (security issue 14): real processes, real clients, a CA made at test time.

The CA and the server certificates (127.0.0.1 and localhost) are made with the openssl CLI;
boto3, the aws cli and urllib trust that CA through a bundle, as a deployment with a private
CA would. Covered: S3 over https (boto3, presigned URLs, multipart, the aws cli), a keep-alive
connection whose requests move between the two shards with their TLS session, SSE-C allowed
over TLS and still refused over plain HTTP, AWS's TLS-only bucket policy admitting https,
plain HTTP refused on the TLS port with a 400 that says so, a stalled handshake cut off,
certificate reload on SIGHUP (checked by fingerprint; a bad file keeps the old pair), the
console API over https, X-Forwarded-For believed only from a trusted proxy, and
`maxiofs up --tls-cert/--tls-key` serving both ports and forwarding SIGHUP.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from admin_harness import UpProcess, wait_for
from control_client import ControlClient
from harness import BROWSER_DIR, client_config, empty_and_delete_bucket, require_browser, run_aws, unique_bucket_name
from s3util import Endpoint, RawConnection, error_of, expect_error, object_path, sign_headers
from test_bucket_policy import deny_when_secure_transport_is
from test_control_channel import World

pytestmark = pytest.mark.binary

OPENSSL = shutil.which("openssl")


# ---------------------------------------------------------------------------
# PKI
# ---------------------------------------------------------------------------


def _openssl(*args: str, cwd: Path):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Pki:
    """A test CA and server certificates it signs (EC P-256)."""

    def __init__(self, directory: Path):
        if OPENSSL is None:
            if os.environ.get("CI", "").lower() not in ("", "0", "false"):
                pytest.fail("the openssl CLI is missing (.ci/run installs it)")
            pytest.skip("needs the openssl CLI")
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca = self.dir / "ca.pem"
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=maxiofs test CA",
                 cwd=self.dir)  # fmt: skip
        (self.dir / "leaf.cnf").write_text(
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
            "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        )

    def leaf(self, name: str) -> tuple[Path, Path]:
        """A new key and certificate for 127.0.0.1/localhost: (cert, key)."""
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=localhost",
                 cwd=self.dir)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", "leaf.cnf",
                 cwd=self.dir)  # fmt: skip
        return self.dir / f"{name}.pem", self.dir / f"{name}.key"

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


def pem_fingerprint(cert: Path) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.read_text())).hexdigest()


def spki_sha256_b64(cert: Path) -> str:
    """Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's SPKI pin)."""
    public = subprocess.run([OPENSSL, "x509", "-in", str(cert), "-pubkey", "-noout"],
                            check=True, capture_output=True, timeout=30).stdout
    der = subprocess.run([OPENSSL, "pkey", "-pubin", "-outform", "der"], input=public,
                         check=True, capture_output=True, timeout=30).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def served_fingerprint(port: int, context: ssl.SSLContext) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def plain_request(port: int, data: bytes) -> bytes:
    """Sends `data` over plain TCP; everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while len(answer) < 65536:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def tls_client(ep, pki: Pki, **config):
    return boto3.session.Session().client(
        "s3", endpoint_url=ep.url, aws_access_key_id=ep.access_key,
        aws_secret_access_key=ep.secret_key, verify=str(pki.ca), config=client_config(**config),
    )  # fmt: skip


@pytest.fixture(scope="module")
def pki(module_tmp) -> Pki:
    return Pki(module_tmp("pki"))


@pytest.fixture
def tls_files(pki, tmp_path) -> tuple[Path, Path]:
    """A certificate and key of this test's own (copied: a reload test rewrites them)."""
    cert, key = pki.leaf(f"server-{uuid.uuid4().hex[:8]}")
    return Path(shutil.copy(cert, tmp_path / "cert.pem")), Path(shutil.copy(key, tmp_path / "key.pem"))


def start_tls_server(server_factory, tls_files, *extra: str, name: str = "maxiofs-tls"):
    cert, key = tls_files
    server = server_factory.create(name)
    server.extra_args = ["--tls-cert", str(cert), "--tls-key", str(key), *extra]
    server.start()
    assert server.endpoint.scheme == "https", server.stdout_lines
    return server


@pytest.fixture
def tls_server(server_factory, tls_files):
    return start_tls_server(server_factory, tls_files)


# ---------------------------------------------------------------------------
# the S3 port
# ---------------------------------------------------------------------------


def test_boto3_over_https(tls_server, pki):
    ep = tls_server.endpoint
    s3 = tls_client(ep, pki)
    bucket = unique_bucket_name("tls")
    s3.create_bucket(Bucket=bucket)
    try:
        body = os.urandom(3 * 1024 * 1024 + 17)
        s3.put_object(Bucket=bucket, Key="plain/object", Body=body)
        assert s3.get_object(Bucket=bucket, Key="plain/object")["Body"].read() == body
        ranged = s3.get_object(Bucket=bucket, Key="plain/object", Range="bytes=100-199")
        assert ranged["Body"].read() == body[100:200]

        upload = s3.create_multipart_upload(Bucket=bucket, Key="multi")["UploadId"]
        parts_data = [os.urandom(5 * 1024 * 1024), os.urandom(123_457)]
        parts = []
        for number, data in enumerate(parts_data, start=1):
            answer = s3.upload_part(Bucket=bucket, Key="multi", UploadId=upload, PartNumber=number, Body=data)
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        s3.complete_multipart_upload(Bucket=bucket, Key="multi", UploadId=upload,
                                     MultipartUpload={"Parts": parts})
        assert s3.get_object(Bucket=bucket, Key="multi")["Body"].read() == b"".join(parts_data)

        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "plain/object"},
                                        ExpiresIn=300)
        assert url.startswith("https://")
        with urllib.request.urlopen(url, timeout=30, context=pki.context()) as answer:
            assert answer.status == 200 and answer.read() == body
        # /health and /metrics answer over TLS too.
        with urllib.request.urlopen(f"{ep.url}/health/live", timeout=10, context=pki.context()) as answer:
            assert answer.status == 200 and json.loads(answer.read())["status"] == "ok"
        target, headers = sign_headers(ep, "GET", "/metrics")
        connection = http.client.HTTPSConnection(ep.host, ep.port, timeout=30, context=pki.context())
        connection.request("GET", target, headers=headers)
        metrics = connection.getresponse()
        assert metrics.status == 200 and b"maxiofs_" in metrics.read()
        connection.close()
    finally:
        empty_and_delete_bucket(s3, bucket)


def test_tls_only_bucket_policy_admits_https(tls_server, pki):
    # test_bucket_policy.py shows AWS's TLS-only example refusing plain http; over TLS the
    # same policy lets the bucket's user in, and its mirror image shuts them out.
    with ControlClient(tls_server.data_dir) as control:
        key = World(tls_server, control).keys["alice"]
    ep = tls_server.endpoint
    alice = tls_client(Endpoint(ep.host, ep.port, key["access_key_id"], key["secret_access_key"], ep.scheme), pki)
    bucket = unique_bucket_name("tls-only")
    alice.create_bucket(Bucket=bucket)
    root = tls_client(ep, pki)
    try:
        alice.put_bucket_policy(Bucket=bucket, Policy=deny_when_secure_transport_is(bucket))
        alice.put_object(Bucket=bucket, Key="k", Body=b"over tls")
        assert alice.get_object(Bucket=bucket, Key="k")["Body"].read() == b"over tls"
        assert [o["Key"] for o in alice.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
        alice.put_bucket_policy(Bucket=bucket, Policy=deny_when_secure_transport_is(bucket, "true"))
        expect_error(alice.get_object, 403, "AccessDenied", Bucket=bucket, Key="k")
    finally:
        root.delete_bucket_policy(Bucket=bucket)
        empty_and_delete_bucket(root, bucket)


def test_an_untrusted_certificate_is_refused_by_the_client(tls_server):
    # Without the CA bundle the client must refuse: the server really presents our test cert.
    context = ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        served_fingerprint(tls_server.endpoint.port, context)


def test_awscli_over_https_with_a_ca_bundle(tls_server, pki, tmp_path):
    ep = tls_server.endpoint
    home = tmp_path / "aws-home"
    home.mkdir()
    bucket = unique_bucket_name("tls-cli")
    aws = lambda *args, **kw: run_aws(ep, home, "--ca-bundle", str(pki.ca), *args, **kw)  # noqa: E731
    aws("s3", "mb", f"s3://{bucket}")
    source = tmp_path / "up.bin"
    data = os.urandom(9 * 1024 * 1024 + 5)  # above the cli's multipart threshold
    source.write_bytes(data)
    aws("s3", "cp", str(source), f"s3://{bucket}/dir/up.bin")
    back = tmp_path / "down.bin"
    aws("s3", "cp", f"s3://{bucket}/dir/up.bin", str(back))
    assert back.read_bytes() == data
    listed = json.loads(aws("s3api", "list-buckets", "--output", "json").stdout)
    assert bucket in [entry["Name"] for entry in listed["Buckets"]]
    # Without the bundle the cli refuses the certificate.
    refused = run_aws(ep, home, "s3api", "list-buckets", check=False)
    assert refused.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in refused.stderr
    aws("s3", "rb", "--force", f"s3://{bucket}")


def test_keep_alive_connection_moves_between_shards_with_its_tls_session(tls_server, pki):
    """Two shards: keys alternate owners, so the one TLS connection is handed back and forth
    (socket, buffered plaintext and rustls state through the inbox) and keeps working."""
    ep = tls_server.endpoint
    s3 = tls_client(ep, pki)
    bucket = unique_bucket_name("tls-hop")
    s3.create_bucket(Bucket=bucket)
    try:
        keys = [f"key-{index:03d}" for index in range(60)]
        bodies = {key: os.urandom(100 + index * 997) for index, key in enumerate(keys)}
        connection = RawConnection(ep)
        connection.sock = pki.context().wrap_socket(connection.sock, server_hostname="127.0.0.1")
        with connection:
            for key in keys:
                target, headers = sign_headers(ep, "PUT", object_path(bucket, key), body=bodies[key])
                headers["Content-Length"] = str(len(bodies[key]))
                connection.send_request("PUT", target, headers, bodies[key])
                answer = connection.read_response()
                assert answer.status == 200, answer
            # Pipelined: two requests in one write, the second for the other shard's keys.
            for first, second in zip(keys[::2], keys[1::2]):
                requests = b""
                for key in (first, second):
                    target, headers = sign_headers(ep, "GET", object_path(bucket, key))
                    head = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                    requests += head.encode() + b"\r\n"
                connection.send(requests)
                for key in (first, second):
                    answer = connection.read_response()
                    assert answer.status == 200 and answer.body == bodies[key], (key, answer)
        listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
        assert sorted(entry["Key"] for entry in listed) == keys
    finally:
        empty_and_delete_bucket(s3, bucket)


def test_sse_c_is_allowed_over_tls_without_a_flag_and_refused_over_plain_http(server_factory, tls_files, pki):
    # Plain HTTP still served on the TLS port (--tls-refuse-http=false): one server, both ways.
    server = start_tls_server(server_factory, tls_files, "--tls-refuse-http=false")
    ep = server.endpoint
    secure = tls_client(ep, pki)
    plain_ep = type(ep)(ep.host, ep.port, ep.access_key, ep.secret_key, "http")
    plain = boto3.session.Session().client(
        "s3", endpoint_url=plain_ep.url, aws_access_key_id=ep.access_key,
        aws_secret_access_key=ep.secret_key, config=client_config(),
    )  # fmt: skip
    bucket = unique_bucket_name("tls-ssec")
    secure.create_bucket(Bucket=bucket)
    try:
        key = os.urandom(32)
        sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
        secure.put_object(Bucket=bucket, Key="secret", Body=b"customer-keyed", **sse)
        assert secure.get_object(Bucket=bucket, Key="secret", **sse)["Body"].read() == b"customer-keyed"
        with pytest.raises(ClientError) as refused:
            plain.put_object(Bucket=bucket, Key="secret-plain", Body=b"x", **sse)
        assert error_of(refused.value) == (400, "InvalidRequest")
        assert "secure connection" in str(refused.value)
        with pytest.raises(ClientError) as refused:
            plain.get_object(Bucket=bucket, Key="secret", **sse)
        assert error_of(refused.value) == (400, "InvalidRequest")
        # Everything else works over plain HTTP in this mode.
        plain.put_object(Bucket=bucket, Key="plain", Body=b"p")
        assert plain.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"p"
    finally:
        empty_and_delete_bucket(secure, bucket)


def test_plain_http_on_the_tls_port_gets_a_clear_400(tls_server):
    answer = plain_request(tls_server.endpoint.port, b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert b"https://" in body and b"<Code>BadRequest</Code>" in body
    assert b"connection: close" in head.lower()


def scrape(ep, pki: Pki) -> str:
    target, headers = sign_headers(ep, "GET", "/metrics")
    connection = http.client.HTTPSConnection(ep.host, ep.port, timeout=30, context=pki.context())
    try:
        connection.request("GET", target, headers=headers)
        answer = connection.getresponse()
        assert answer.status == 200
        return answer.read().decode()
    finally:
        connection.close()


def counter_total(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


def test_a_stalled_handshake_is_cut_off_by_the_head_timeout(server_factory, tls_files, pki):
    server = start_tls_server(server_factory, tls_files, "--request-head-timeout-secs", "2")
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.endpoint.port), timeout=30) as sock:
        # The first bytes of a TLS record, then nothing.
        sock.sendall(b"\x16\x03\x01\x02\x00")
        assert sock.recv(1024) == b""
    assert time.monotonic() - began < 15
    plain_request(server.endpoint.port, b"GET / HTTP/1.1\r\n\r\n")
    text = scrape(server.endpoint, pki)
    assert counter_total(text, "maxiofs_shard_tls_handshake_failures_total") >= 1
    assert counter_total(text, "maxiofs_shard_plain_http_refused_total") >= 1


def test_sighup_reloads_the_certificate_and_a_bad_file_keeps_the_old_one(server_factory, tls_files, pki):
    server = start_tls_server(server_factory, tls_files)
    cert, key = tls_files
    port = server.endpoint.port
    first = pem_fingerprint(cert)
    assert served_fingerprint(port, pki.context()) == first
    new_cert, new_key = pki.leaf(f"renewed-{uuid.uuid4().hex[:8]}")
    shutil.copy(new_cert, cert)
    shutil.copy(new_key, key)
    second = pem_fingerprint(cert)
    assert second != first
    server.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: served_fingerprint(port, pki.context()) == second, timeout=20, what="the renewed cert")
    # Requests keep working on the renewed certificate.
    s3 = tls_client(server.endpoint, pki)
    assert isinstance(s3.list_buckets()["Buckets"], list)
    # A broken file: the reload fails loudly and the pair in force stays.
    cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n")
    server.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "TLS reload failed" in server.stderr_path.read_text(errors="replace"),
             timeout=20, what="the reload error in the log")
    assert served_fingerprint(port, pki.context()) == second
    assert server.running
    # Key material never reaches the log.
    key_body = "".join(new_key.read_text().splitlines()[1:-1])
    assert key_body[:40] not in server.stderr_path.read_text(errors="replace")


def run_browser(chromium: str, config: dict) -> dict:
    run = subprocess.run(["node", "tls_upload.mjs", json.dumps(config)], cwd=BROWSER_DIR,
                         capture_output=True, text=True, timeout=180,
                         env={**os.environ, "CHROMIUM": chromium})  # fmt: skip
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_browser_trusting_the_test_certificate_uploads_over_https(tls_server, tls_files, pki):
    chromium = require_browser()
    ep = tls_server.endpoint
    s3 = tls_client(ep, pki)
    bucket = unique_bucket_name("tls-browser")
    s3.create_bucket(Bucket=bucket)
    try:
        params = {"Bucket": bucket, "Key": "from-browser.txt"}
        body = "uploaded by a page over https " * 50
        config = {
            "pageUrl": f"{ep.url}/health/live",
            "putUrl": s3.generate_presigned_url("put_object", Params=params),
            "getUrl": s3.generate_presigned_url("get_object", Params=params),
            "body": body,
        }
        # Control: the test CA is not trusted, the page does not load.
        untrusting = run_browser(chromium, config)
        assert "ERR_CERT_AUTHORITY_INVALID" in untrusting.get("pageError", ""), untrusting
        seen = run_browser(chromium, {**config, "spki": spki_sha256_b64(tls_files[0])})
        assert seen.get("pageStatus") == 200 and seen["pageSecure"] and seen["secureContext"], seen
        assert seen["putStatus"] == 200 and seen["getStatus"] == 200, seen
        assert seen["putEtag"] == s3.head_object(**params)["ETag"]
        assert seen["getBody"] == body
        assert s3.get_object(**params)["Body"].read() == body.encode()
    finally:
        empty_and_delete_bucket(s3, bucket)


# ---------------------------------------------------------------------------
# the console API and `maxiofs up`
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_stack(module_tmp, pki):
    """`maxiofs up` with TLS on both ports; 127.0.0.1 is a trusted proxy, 127.0.0.2 is not."""
    tmp = module_tmp("tls-up")
    cert, key = pki.leaf("up")
    cert = Path(shutil.copy(cert, tmp / "cert.pem"))
    key = Path(shutil.copy(key, tmp / "key.pem"))
    stack = UpProcess(tmp, extra_args=["--tls-cert", str(cert), "--tls-key", str(key)],
                      extra_env={"MAXIOFS_ADMIN_TRUSTED_PROXIES": "127.0.0.1/32"},
                      ssl_context=pki.context())  # fmt: skip
    stack.cert, stack.key = cert, key
    try:
        stack.start()
        yield stack
    finally:
        stack.kill()


def login_from(stack, source_ip: str, username: str, forwarded: str | None) -> int:
    """One failed login from `source_ip` (a loopback address) with an X-Forwarded-For."""
    connection = http.client.HTTPSConnection("127.0.0.1", stack.console_port, timeout=30,
                                             context=stack.ssl_context, source_address=(source_ip, 0))
    try:
        headers = {"Content-Type": "application/json"}
        if forwarded is not None:
            headers["X-Forwarded-For"] = forwarded
        body = json.dumps({"username": username, "password": "Wrong-Password-1"})
        connection.request("POST", "/api/v1/auth/login", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def failed_login_ips(root, username: str) -> list[str]:
    logs = root.get("/api/v1/audit-logs?event_type=login_failed&page_size=1000")["logs"]
    return [entry.get("ip") for entry in logs if username in json.dumps(entry)]


def test_up_serves_both_ports_over_https(tls_stack, pki):
    log = tls_stack.log_path.read_text(errors="replace")
    assert f"S3 API      https://127.0.0.1:{tls_stack.s3_port}" in log
    assert f"console     https://127.0.0.1:{tls_stack.console_port}/ (API: /api/v1/)" in log
    root = tls_stack.root()
    assert root.get("/api/v1/auth/me") is not None
    s3 = tls_client(tls_stack.endpoint, pki)
    bucket = unique_bucket_name("tls-up")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"over https")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"over https"
    names = [entry["name"] for entry in root.get("/api/v1/buckets")["buckets"]]
    assert bucket in names
    empty_and_delete_bucket(s3, bucket)


def test_console_refuses_plain_http_with_a_clear_400(tls_stack):
    answer = plain_request(tls_stack.console_port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert json.loads(body)["error"]["code"] == "TlsRequired"
    assert b"https://" in body


def test_forwarded_for_counts_only_from_a_trusted_proxy(tls_stack):
    root = tls_stack.root()
    root.put("/api/v1/settings/security.ratelimit_login_per_minute", {"value": 2})
    try:
        # From the trusted proxy: the rightmost address it did not add itself is the client,
        # for the audit entry and for the login budget.
        user = f"xff-{uuid.uuid4().hex[:8]}"
        spoofed_then_real = "6.6.6.6, 198.51.100.23"
        assert [login_from(tls_stack, "127.0.0.1", user, spoofed_then_real) for _ in range(3)] == [401, 401, 429]
        assert login_from(tls_stack, "127.0.0.1", user, "198.51.100.24") == 401, "another client, another budget"
        ips = wait_for(lambda: failed_login_ips(root, user), what="audit entries")
        assert set(ips) <= {"198.51.100.23", "198.51.100.24"} and "198.51.100.23" in ips, ips

        # From an untrusted peer the header is ignored: spoofing a new address each time buys
        # no new budget, and the audit shows the real peer.
        user = f"spoof-{uuid.uuid4().hex[:8]}"
        statuses = [login_from(tls_stack, "127.0.0.2", user, f"203.0.113.{n}") for n in range(1, 4)]
        assert statuses == [401, 401, 429], statuses
        ips = wait_for(lambda: failed_login_ips(root, user), what="audit entries")
        assert set(ips) == {"127.0.0.2"}, ips
    finally:
        root.put("/api/v1/settings/security.ratelimit_login_per_minute", {"value": 5})


def test_sighup_to_up_reloads_both_certificates(tls_stack, pki):
    before = pem_fingerprint(tls_stack.cert)
    assert served_fingerprint(tls_stack.s3_port, pki.context()) == before
    assert served_fingerprint(tls_stack.console_port, pki.context()) == before
    new_cert, new_key = pki.leaf("up-renewed")
    shutil.copy(new_cert, tls_stack.cert)
    shutil.copy(new_key, tls_stack.key)
    after = pem_fingerprint(tls_stack.cert)
    tls_stack.proc.send_signal(signal.SIGHUP)
    for port in (tls_stack.s3_port, tls_stack.console_port):
        wait_for(lambda port=port: served_fingerprint(port, pki.context()) == after, timeout=20,
                 what=f"the renewed cert on port {port}")
    # Both children still run (the signal reloaded, it did not stop them).
    assert tls_stack.proc.poll() is None
    assert tls_stack.root().get("/api/v1/auth/me") is not None

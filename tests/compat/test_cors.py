"""Bucket CORS, black box: Put/Get/DeleteBucketCors through boto3 (AWS's validation errors
included), browser preflights (`OPTIONS`, no credentials) answered from the rules, and the
`Access-Control-*` headers on real requests, successes and errors alike, including streamed
GETs and HEADs; the configuration survives a restart. Last, a real Chromium (playwright-core,
tests/browser) uploads from a page of an allowed origin and is refused on a foreign one."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import subprocess
import threading
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from harness import BROWSER_DIR, make_client, require_browser
from s3util import KiB, MiB, payload

APP = "https://app.example.com"
RULES = {
    "CORSRules": [
        {
            "ID": "uploads",
            "AllowedOrigins": ["https://*.example.com"],
            "AllowedMethods": ["PUT", "POST", "GET", "HEAD"],
            "AllowedHeaders": ["content-type", "x-amz-*"],
            "ExposeHeaders": ["ETag", "x-amz-request-id"],
            "MaxAgeSeconds": 600,
        },
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
    ]
}


def raw(endpoint, method: str, url_or_path: str, headers: dict, body: bytes = b""):
    """One request over a fresh connection: (status, lower-cased headers, body)."""
    parsed = urllib.parse.urlsplit(url_or_path)
    target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    host = urllib.parse.urlsplit(endpoint.url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    try:
        connection.request(method, target, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def preflight(endpoint, path: str, origin: str | None, method: str | None, headers: str | None = None):
    sent = {}
    if origin is not None:
        sent["Origin"] = origin
    if method is not None:
        sent["Access-Control-Request-Method"] = method
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return raw(endpoint, "OPTIONS", path, sent)


def error_code(body: bytes) -> str:
    return ET.fromstring(body).findtext("Code")


def client_error(excinfo) -> tuple[int, str]:
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_configuration_round_trips_and_is_validated_like_s3(s3, bucket):
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_cors(Bucket=bucket)
    assert client_error(missing) == (404, "NoSuchCORSConfiguration")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES["CORSRules"]
    bad_rules = [
        ({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}, "InvalidRequest"),
        ({"AllowedOrigins": ["https://*.*.example.com"], "AllowedMethods": ["GET"]}, "InvalidRequest"),
        ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["a*b*"]}, "InvalidRequest"),
        ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["x-amz-*"]}, "InvalidRequest"),
    ]
    for rule, code in bad_rules:
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
        assert client_error(refused) == (400, code), rule
    too_many = [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": too_many})
    assert client_error(refused) == (400, "MalformedXML")
    # A refused configuration leaves the stored one alone.
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES["CORSRules"]
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as gone:
        s3.get_bucket_cors(Bucket=bucket)
    assert client_error(gone) == (404, "NoSuchCORSConfiguration")
    with pytest.raises(ClientError) as no_bucket:
        s3.put_bucket_cors(Bucket=f"{bucket}-none", CORSConfiguration=RULES)
    assert client_error(no_bucket) == (404, "NoSuchBucket")


def test_preflight_is_answered_from_the_rules_without_credentials(server, s3, bucket):
    path = f"/{bucket}/photos/cat.jpg"
    status, _, body = preflight(server, path, APP, "PUT")
    assert (status, error_code(body)) == (403, "AccessForbidden")  # no CORS yet
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)

    status, headers, body = preflight(server, path, APP, "PUT", "Content-Type, X-Amz-Date")
    assert status == 200 and body == b""
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-allow-methods"] == "PUT, POST, GET, HEAD"
    assert headers["access-control-allow-headers"] == "content-type, x-amz-date"
    assert headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert headers["access-control-max-age"] == "600"
    assert "Origin" in headers["vary"]
    # The bucket itself (POST uploads go there) is covered by the same rules.
    assert preflight(server, f"/{bucket}", APP, "POST")[0] == 200
    # The any-origin rule allows only GET, and answers `*` without credentials.
    status, headers, _ = preflight(server, path, "https://other.test", "GET")
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in headers

    refused = [
        ("https://other.test", "PUT", None),  # origin allowed for GET only
        (APP, "DELETE", None),  # method not in the rule
        (APP, "PUT", "authorization"),  # header not allowed
        ("https://example.com", "PUT", None),  # "*.example.com" needs a subdomain
    ]
    for origin, method, asked in refused:
        status, headers, body = preflight(server, path, origin, method, asked)
        assert (status, error_code(body)) == (403, "AccessForbidden"), (origin, method, asked)
        assert "access-control-allow-origin" not in headers
    status, _, body = preflight(server, path, None, "PUT")
    assert (status, error_code(body)) == (400, "BadRequest")
    status, _, body = preflight(server, path, APP, "PATCH")
    assert (status, error_code(body)) == (400, "BadRequest")
    status, _, body = preflight(server, f"/{bucket}-none/k", APP, "GET")
    assert (status, error_code(body)) == (404, "NoSuchBucket")


def test_real_requests_get_the_headers_of_the_rule_that_allows_them(server, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=RULES)
    small, large = payload(10 * KiB), payload(3 * MiB)
    # A browser upload: a presigned PUT from the page's origin.
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"})
    status, headers, _ = raw(server, "PUT", put_url, {"Origin": APP}, small)
    assert status == 200
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert s3.get_object(Bucket=bucket, Key="up")["Body"].read() == small

    s3.put_object(Bucket=bucket, Key="large", Body=large)
    for method in ("GET", "HEAD"):
        operation = f"{method.lower()}_object"
        url = s3.generate_presigned_url(operation, Params={"Bucket": bucket, "Key": "large"})
        status, headers, body = raw(server, method, url, {"Origin": APP})
        assert status == 200 and headers["access-control-allow-origin"] == APP, method
        assert body == (large if method == "GET" else b"")
        # Another origin: GET is allowed to everyone, HEAD to nobody else.
        status, headers, _ = raw(server, method, url, {"Origin": "https://other.test"})
        assert status == 200
        expected = "*" if method == "GET" else None
        assert headers.get("access-control-allow-origin") == expected, method
    # No Origin, no CORS headers.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "up"})
    assert "access-control-allow-origin" not in raw(server, "GET", url, {})[1]

    # Errors carry the headers too, so that the page's script can read them: a missing key,
    # and a request refused before it reached a handler (a bad signature).
    missing = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "none"})
    status, headers, body = raw(server, "GET", missing, {"Origin": APP})
    assert (status, error_code(body)) == (404, "NoSuchKey")
    assert headers["access-control-allow-origin"] == APP
    forged = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    status, headers, body = raw(server, "GET", forged, {"Origin": APP})
    assert status == 403 and headers["access-control-allow-origin"] == APP


def test_configuration_survives_a_restart_and_delete_turns_cors_off(server_factory):
    server = server_factory.create(name="cors")
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="site")
    s3.put_bucket_cors(Bucket="site", CORSConfiguration=RULES)
    assert server.stop() == 0
    server.start()
    s3 = make_client(server.endpoint)
    assert s3.get_bucket_cors(Bucket="site")["CORSRules"] == RULES["CORSRules"]
    assert preflight(server.endpoint, "/site/k", APP, "PUT")[0] == 200
    s3.delete_bucket_cors(Bucket="site")
    status, _, body = preflight(server.endpoint, "/site/k", APP, "PUT")
    assert (status, error_code(body)) == (403, "AccessForbidden")
    assert server.stop() == 0


CONSOLE = "http://console.test:9001"


def test_a_console_origin_reaches_every_bucket_and_path(server_factory):
    """`--console-origin`: the console's pages call the S3 API on every bucket (with session
    credentials), whatever the buckets' CORS rules; other origins still meet the rules."""
    server = server_factory.create(name="console-cors")
    server.extra_args += ["--console-origin", f"{CONSOLE},https://other-console.test"]
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="plain")
    for path in ("/", "/plain", "/plain/some/key", "/no-such-bucket/k"):
        status, headers, _ = preflight(server.endpoint, path, CONSOLE, "PUT", "authorization, x-amz-date, content-md5")
        assert status == 200, path
        assert headers["access-control-allow-origin"] == CONSOLE
        assert "PUT" in headers["access-control-allow-methods"]
        assert headers["access-control-allow-headers"] == "authorization, x-amz-date, content-md5"
        assert headers["access-control-expose-headers"] == "*"
    # A bad requested header name is refused with the reason, as for the buckets' rules.
    status, _, body = preflight(server.endpoint, "/plain/k", CONSOLE, "PUT", "bad header")
    assert (status, error_code(body)) == (400, "BadRequest")
    # Signed requests (answers and errors) carry the headers for the console's origin only.
    from s3util import raw_request

    listed = raw_request(server.endpoint, "GET", "/", headers={"Origin": CONSOLE})
    assert listed.status == 200 and listed.header("access-control-allow-origin") == CONSOLE
    missing = raw_request(server.endpoint, "GET", "/plain/nope", headers={"Origin": CONSOLE})
    assert missing.status == 404 and missing.header("access-control-allow-origin") == CONSOLE
    foreign = raw_request(server.endpoint, "GET", "/", headers={"Origin": "http://evil.test"})
    assert foreign.status == 200 and foreign.header("access-control-allow-origin") is None
    status, _, body = preflight(server.endpoint, "/plain/k", "http://evil.test", "PUT")
    assert (status, error_code(body)) == (403, "AccessForbidden")
    # The origin only lets the page read answers: an unsigned request is still refused.
    status, headers, _ = raw(server.endpoint, "GET", "/plain", {"Origin": CONSOLE})
    assert status == 403 and headers["access-control-allow-origin"] == CONSOLE
    assert server.stop() == 0


# ---------------------------------------------------------------------------
# a real browser
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def page_server():
    """An origin for the web app: a blank page on its own port."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = b"<!doctype html><title>app</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_browser_page_uploads_with_a_presigned_url_and_a_foreign_page_cannot_read(s3, bucket):
    chromium = require_browser()
    with page_server() as app, page_server() as foreign:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": [app],
            "AllowedMethods": ["PUT", "GET"],
            "AllowedHeaders": ["content-type"],
            "ExposeHeaders": ["ETag"],
        }]})  # fmt: skip
        body = "uploaded by a page " * 100
        params = {"Bucket": bucket, "Key": "from-browser.txt"}
        config = {
            "allowedPage": app,
            "foreignPage": foreign,
            "putUrl": s3.generate_presigned_url("put_object", Params=params),
            "getUrl": s3.generate_presigned_url("get_object", Params=params),
            "body": body,
        }
        run = subprocess.run(
            ["node", "cors_fetch.mjs", json.dumps(config)],
            cwd=BROWSER_DIR,
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "CHROMIUM": chromium},
        )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    stored = s3.head_object(**params)
    assert seen["putStatus"] == 200 and seen["getStatus"] == 200, seen
    assert seen["putEtag"] == stored["ETag"]  # exposed by the rule
    assert seen["putServer"] is None  # not exposed: hidden from the script
    assert seen["getBody"] == body
    assert s3.get_object(**params)["Body"].read() == body.encode()
    assert seen["foreignError"] and "Failed to fetch" in seen["foreignError"], seen

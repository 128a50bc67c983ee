"""Response header injection (security issue 14, finding 3), black box over raw sockets.

Every path by which a client can put bytes into a response head is attacked with CR, LF, NUL
and other control characters: POST-upload form fields and the file part's own Content-Type
(stored, then served by GET and HEAD), the POST's redirect, presigned and signed `response-*`
overrides, CORS configuration values (served to unauthenticated preflights and to the CORS
headers of answers, errors and streamed GETs included), PUT metadata headers, and a POST
behind `Expect: 100-continue`. Each row reads every byte the server sends on a connection it
then closes, and asserts there is exactly one response: one status line, one header section
without control bytes or an injected `Set-Cookie`, and exactly Content-Length bytes after it.
Responses are parsed by hand because http.client would hide (or choke on) a split head."""

from __future__ import annotations

import uuid
from email.header import decode_header, make_header

import pytest

from harness import make_client
from s3util import RawConnection, parse_error, sign_headers

INJECTION = "\r\nSet-Cookie: injected=1"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# RFC 9110 tchar: what a header name may hold.
TCHARS = set(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
APP = "https://app.example.com"


class Answer:
    """The one response a connection carried: status, lower-cased headers, body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def code(self) -> str | None:
        return parse_error(self.body).get("Code") if self.body else None

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.headers} {self.body[:300]!r}>"


def one_answer(raw: bytes, head_request: bool = False) -> Answer:
    """Asserts that `raw` (everything sent on a connection, after optional 100-continue
    interim heads) is exactly one response with a clean head, and returns it."""
    while raw.startswith(CONTINUE):
        raw = raw[len(CONTINUE):]
    assert raw.startswith(b"HTTP/1.1 "), raw[:200]
    end = raw.find(b"\r\n\r\n")
    assert end > 0, raw[:400]
    head, rest = raw[:end], raw[end + 4:]
    lines = head.split(b"\r\n")
    for line in lines:
        control = [byte for byte in line if (byte < 0x20 and byte != 0x09) or byte == 0x7F]
        assert not control, f"control bytes {control} in the head line {line!r}"
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        assert colon and name and set(name) <= TCHARS, f"not a header line: {line!r}"
        headers.setdefault(name.decode().lower(), value.strip().decode("latin-1"))
    assert b"set-cookie" not in head.lower(), head
    status = int(lines[0].split(b" ")[1])
    length = int(headers["content-length"])
    expected = 0 if head_request or status in (204, 304) else length
    assert len(rest) == expected, f"{len(rest)} bytes after the head, expected {expected}: {rest[:300]!r}"
    assert b"HTTP/1.1" not in rest, rest[:300]
    return Answer(status, headers, rest)


def exchange(ep, method: str, target: str, headers: dict, body: bytes = b"",
             expect_continue: bool = False) -> Answer:
    """One request on a fresh connection that the server closes after answering."""
    headers = dict(headers, Connection="close")
    if body or method in ("PUT", "POST"):
        headers["Content-Length"] = str(len(body))
    if expect_continue:
        headers["Expect"] = "100-continue"
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with RawConnection(ep) as conn:
        if expect_continue:
            conn.send(head.encode("latin-1") + b"\r\n")
            conn.read_until(CONTINUE)
            conn.send(body)
        else:
            conn.send(head.encode("latin-1") + b"\r\n" + body)
        return one_answer(conn.read_all(), head_request=(method == "HEAD"))


def signed(ep, method: str, path: str, query=None, headers=None, body: bytes = b"") -> Answer:
    target, hdrs = sign_headers(ep, method, path, query, headers, body)
    return exchange(ep, method, target, hdrs, body)


def read_back(ep, bucket: str, key: str, origin: str | None = None) -> tuple[Answer, Answer]:
    """GET (the streamed path that writes its own head) and HEAD of one object."""
    extra = {"Origin": origin} if origin else {}
    return (signed(ep, "GET", f"/{bucket}/{key}", headers=extra),
            signed(ep, "HEAD", f"/{bucket}/{key}", headers=extra))


def form(fields: list[tuple[str, str]], file_headers: bytes = b"Content-Type: text/plain\r\n",
         file_bytes: bytes = b"form body") -> tuple[str, bytes]:
    """A multipart/form-data body with raw control over the file part's headers."""
    boundary = "----inject" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()
    out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"f.txt\"\r\n").encode() + file_headers + b"\r\n" + file_bytes + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)


def post_upload(ep, bucket: str, key: str, extra: list[tuple[str, str]], conditions: list,
                expect_continue: bool = False, **form_kwargs) -> Answer:
    """A POST upload whose signed policy allows `extra` with any value (`starts-with ""`),
    as a careless policy does."""
    post = make_client(ep).generate_presigned_post(
        bucket, key,
        Conditions=[["starts-with", f"${name}", ""] for name, _ in extra] + conditions)
    ctype, body = form(list(post["fields"].items()) + extra, **form_kwargs)
    return exchange(ep, "POST", f"/{bucket}", {"Host": ep.netloc, "Content-Type": ctype}, body,
                    expect_continue=expect_continue)


def put_cors(ep, bucket: str, rule_xml: str) -> Answer:
    body = (f"<CORSConfiguration><CORSRule>{rule_xml}</CORSRule></CORSConfiguration>").encode()
    return signed(ep, "PUT", f"/{bucket}", query={"cors": ""}, body=body,
                  headers={"Content-Type": "application/xml"})


# --- the rows: one attack per path, each asserting S3's refusal --------------------------------
# Every request a row makes goes through `one_answer`, so a split head fails the row whatever
# the status was.


def post_field(name: str, value: str):
    def row(ep, bucket):
        key = f"post-{uuid.uuid4().hex}"
        answer = post_upload(ep, bucket, key, [(name, value)], [])
        get, head = read_back(ep, bucket, key)
        assert (answer.status, answer.code()) == (400, "InvalidArgument"), answer
        assert (get.status, head.status) == (404, 404), (get, head)
    return row


def post_field_name(name: str, expected: tuple[int, str]):
    """A field whose *name* would become a header name (`x-amz-meta-*`)."""
    def row(ep, bucket):
        key = f"post-{uuid.uuid4().hex}"
        answer = post_upload(ep, bucket, key, [(name, "v")], [])
        get, head = read_back(ep, bucket, key)
        assert (answer.status, answer.code()) == expected, answer
        assert (get.status, head.status) == (404, 404), (get, head)
    return row


def post_file_type(file_headers: bytes):
    def row(ep, bucket):
        key = f"post-{uuid.uuid4().hex}"
        answer = post_upload(ep, bucket, key, [], [], file_headers=file_headers)
        get, head = read_back(ep, bucket, key)
        assert (answer.status, answer.code()) == (400, "MalformedPOSTRequest"), answer
        assert (get.status, head.status) == (404, 404), (get, head)
    return row


def post_redirect(ep, bucket):
    # The redirect is echoed in the POST's own answer (303 Location).
    answer = post_upload(ep, bucket, "redirected",
                         [("success_action_redirect", "http://example.com/" + INJECTION)], [])
    assert (answer.status, answer.code()) == (400, "InvalidArgument"), answer


def post_expect_continue(ep, bucket):
    key = f"post-{uuid.uuid4().hex}"
    answer = post_upload(ep, bucket, key, [("Cache-Control", "no-cache" + INJECTION)], [],
                         expect_continue=True)
    assert (answer.status, answer.code()) == (400, "InvalidArgument"), answer
    get, _ = read_back(ep, bucket, key)
    assert get.status == 404, get


def response_override(param: str, method: str):
    def row(ep, bucket):
        signed(ep, "PUT", f"/{bucket}/o", body=b"object")
        answer = signed(ep, method, f"/{bucket}/o", query={param: "x" + INJECTION})
        assert answer.status == 400, answer
        if method == "GET":
            assert answer.code() == "InvalidArgument", answer
    return row


def presigned_override(ep, bucket):
    s3 = make_client(ep)
    s3.put_object(Bucket=bucket, Key="o", Body=b"object")
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "o",
        "ResponseContentDisposition": "attachment" + INJECTION})
    target = url[len(ep.url):]
    assert "%0D%0A" in target.upper(), target
    answer = exchange(ep, "GET", target, {"Host": ep.netloc})
    assert (answer.status, answer.code()) == (400, "InvalidArgument"), answer


def cors_value(rule_xml: str):
    """A CORS configuration whose value decodes to CR LF; then everything that echoes a
    bucket's CORS rules: the unauthenticated preflight, a streamed GET, an error answer and
    a HEAD error answer, each from an origin the rule allows."""
    def row(ep, bucket):
        answer = put_cors(ep, bucket, rule_xml)
        signed(ep, "PUT", f"/{bucket}/o", body=b"object")
        origin = {"Origin": APP}
        exchange(ep, "OPTIONS", f"/{bucket}/o", dict(
            origin, Host=ep.netloc, **{"Access-Control-Request-Method": "GET",
                                        "Access-Control-Request-Headers": "x-amz-date"}))
        signed(ep, "GET", f"/{bucket}/o", headers=origin)
        signed(ep, "GET", f"/{bucket}/missing", headers=origin)
        signed(ep, "HEAD", f"/{bucket}/missing", headers=origin)
        assert answer.status == 400, answer
        assert answer.code() in ("InvalidRequest", "MalformedXML"), answer
    return row


def preflight_header_names(ep, bucket):
    """Access-Control-Request-Headers names are echoed by a `*` rule: a name that is not a
    token (here with a tab, which a request header may hold) is refused, not echoed."""
    answer = put_cors(ep, bucket, ALLOWED)
    assert answer.status == 200, answer
    answer = exchange(ep, "OPTIONS", f"/{bucket}/o", {
        "Host": ep.netloc, "Origin": APP, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-a\tSet-Cookie: injected=1"})
    assert (answer.status, answer.code()) == (400, "BadRequest"), answer
    answer = exchange(ep, "OPTIONS", f"/{bucket}/o", {
        "Host": ep.netloc, "Origin": APP, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-amz-date, content-type"})
    assert answer.status == 200, answer
    assert answer.headers["access-control-allow-headers"] == "x-amz-date, content-type"


def put_metadata(raw_value: str):
    """PUT headers that would be stored: the request parser refuses control bytes and
    obs-fold, so nothing is stored."""
    def row(ep, bucket):
        target, hdrs = sign_headers(ep, "PUT", f"/{bucket}/meta", body=b"m")
        hdrs = dict(hdrs, Host=ep.netloc, Connection="close", **{"Content-Length": "1"})
        head = f"PUT {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        head += f"x-amz-meta-color: {raw_value}\r\n"
        with RawConnection(ep) as conn:
            conn.send(head.encode("latin-1") + b"\r\nm")
            answer = one_answer(conn.read_all())
        get, _ = read_back(ep, bucket, "meta")
        assert answer.status == 400, answer
        assert get.status == 404, get
    return row


ALLOWED = f"<AllowedOrigin>{APP}</AllowedOrigin><AllowedMethod>GET</AllowedMethod>" \
          "<AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader>"

ROWS = {
    "post-content-type-crlf": post_field("Content-Type", "text/plain" + INJECTION),
    "post-cache-control-crlf": post_field("Cache-Control", "no-cache" + INJECTION),
    "post-content-disposition-lf": post_field("Content-Disposition",
                                              "attachment\nSet-Cookie: injected=1"),
    "post-content-encoding-cr": post_field("Content-Encoding", "gzip\rSet-Cookie: injected=1"),
    "post-expires-nul": post_field("Expires", "Thu, 01 Jan 2099 00:00:00 GMT\x00"),
    "post-meta-crlf": post_field("x-amz-meta-color", "blue" + INJECTION),
    "post-meta-control": post_field("x-amz-meta-color", "blue\x1bred"),
    "post-meta-name-lf": post_field_name("x-amz-meta-a\nSet-Cookie: injected=1",
                                         (400, "MalformedPOSTRequest")),
    "post-meta-name-not-token": post_field_name("x-amz-meta-a:b", (400, "InvalidArgument")),
    "post-file-type-lf": post_file_type(b"Content-Type: text/plain\nSet-Cookie: injected=1\r\n"),
    "post-file-type-cr": post_file_type(b"Content-Type: text/plain\rSet-Cookie: injected=1\r\n"),
    "post-file-type-nul": post_file_type(b"Content-Type: text/plain\x00\r\n"),
    "post-redirect-crlf": post_redirect,
    "post-expect-continue": post_expect_continue,
    "presigned-content-disposition": presigned_override,
    **{f"{method.lower()}-{param}": response_override(param, method)
       for param in ["response-content-type", "response-content-disposition",
                     "response-cache-control", "response-content-encoding",
                     "response-content-language", "response-expires"]
       for method in ["GET", "HEAD"]},
    "cors-expose-header": cors_value(ALLOWED + "<ExposeHeader>ETag&#13;&#10;Set-Cookie: "
                                     "injected=1</ExposeHeader>"),
    "cors-expose-header-lf": cors_value(ALLOWED + "<ExposeHeader>ETag&#10;Set-Cookie: "
                                        "injected=1</ExposeHeader>"),
    "cors-allowed-header": cors_value(ALLOWED + "<AllowedHeader>x-a&#13;&#10;Set-Cookie: "
                                      "injected=1</AllowedHeader>"),
    "cors-allowed-origin": cors_value(ALLOWED + f"<AllowedOrigin>{APP}&#13;&#10;Set-Cookie: "
                                      "injected=1</AllowedOrigin>"),
    "cors-allowed-method": cors_value(ALLOWED + "<AllowedMethod>GET&#13;&#10;Set-Cookie: "
                                      "injected=1</AllowedMethod>"),
    "preflight-request-header-names": preflight_header_names,
    "put-meta-control": put_metadata("blue\x01red"),
    "put-meta-nul": put_metadata("blue\x00red"),
    "put-meta-obs-fold": put_metadata("blue\r\n Set-Cookie: injected=1"),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_no_value_splits_a_response_head(row, server, bucket):
    row(server, bucket)


# --- what still works -------------------------------------------------------------------------


def test_clean_values_still_round_trip(server, bucket):
    """The rule refuses control bytes only: tabs inside a value, UTF-8 metadata (from a POST
    form; served RFC 2047-encoded) and ordinary overrides keep working."""
    s3 = make_client(server)
    s3.put_object(Bucket=bucket, Key="ok", Body=b"x", ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="ok", ResponseContentDisposition="attachment; a=b",
                        ResponseCacheControl="no-cache")
    assert got["ContentDisposition"] == "attachment; a=b"
    assert got["CacheControl"] == "no-cache"
    answer = post_upload(server, bucket, "posted", [("Cache-Control", "max-age=1,\tpublic"),
                                                    ("x-amz-meta-note", "caf\u00e9 cr\u00e8me")], [])
    assert answer.status == 204, answer
    get, head = read_back(server, bucket, "posted")
    for answer in (get, head):
        assert answer.headers["cache-control"] == "max-age=1,\tpublic"
        # Served RFC 2047-encoded, as S3 serves metadata beyond US-ASCII (user guide,
        # "Working with object metadata"; test_fidelity_uploads.py).
        note = answer.headers["x-amz-meta-note"]
        assert str(make_header(decode_header(note))) == "caf\u00e9 cr\u00e8me"


def test_post_file_part_type_only_when_the_policy_names_it(server, bucket):
    """The file part's own Content-Type is not covered by a policy that says nothing about
    Content-Type: it is ignored (AWS stores binary/octet-stream). A policy with a condition on
    `$Content-Type` checks it and then it is stored."""
    s3 = make_client(server)
    html = b"Content-Type: text/html\r\n"
    answer = post_upload(server, bucket, "untyped", [], [], file_headers=html)
    assert answer.status == 204, answer
    assert s3.head_object(Bucket=bucket, Key="untyped")["ContentType"] == "binary/octet-stream"
    post = make_client(server).generate_presigned_post(
        bucket, "typed", Conditions=[["starts-with", "$Content-Type", "text/"]])
    ctype, body = form(list(post["fields"].items()), file_headers=html)
    answer = exchange(server, "POST", f"/{bucket}",
                      {"Host": server.netloc, "Content-Type": ctype}, body)
    assert answer.status == 204, answer
    assert s3.head_object(Bucket=bucket, Key="typed")["ContentType"] == "text/html"
    post = make_client(server).generate_presigned_post(
        bucket, "refused", Conditions=[["eq", "$Content-Type", "image/png"]])
    ctype, body = form(list(post["fields"].items()), file_headers=html)
    answer = exchange(server, "POST", f"/{bucket}",
                      {"Host": server.netloc, "Content-Type": ctype}, body)
    assert (answer.status, answer.code()) == (403, "AccessDenied"), answer

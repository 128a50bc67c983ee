"""AWS fidelity (issue 16): the request headers whose handling S3 documents beyond one
operation: which date a signature is checked against, `Content-Encoding` once `aws-chunked`
is removed, the three HTTP date formats of conditional requests, `Expires` passed through,
and no `x-amz-request-charged` on a bucket that is not requester-pays. Presigned expiry
bounds are in test_bad_inputs.py (rows A5, A6)."""

from __future__ import annotations

import datetime as dt

import pytest

from s3util import RawConnection, aws_chunked_unsigned_trailer_body, crc32_b64, raw_request, sign_headers

BODY = b"header fidelity\n"
NOW = dt.datetime.now(dt.timezone.utc)


def http_date(when: dt.datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def send(server, method, path, headers, body=b"", unsigned=None, when=None):
    """Signed with `headers` (SigV4), then `unsigned` headers added as a proxy would."""
    target, signed = sign_headers(server, method, path, headers=headers, body=body, when=when)
    signed.update(unsigned or {})
    signed["Content-Length"] = str(len(body))
    with RawConnection(server) as connection:
        connection.send_request(method, target, signed, body)
        return connection.read_response()


def test_x_amz_date_takes_precedence_over_date(server, s3, bucket):
    # SigV4 (API reference, "Signing and authenticating"): the request time is x-amz-date
    # when present; a Date header is then only informational, however far off it is.
    stale = {"Date": http_date(NOW - dt.timedelta(days=3))}
    answer = send(server, "PUT", f"/{bucket}/dated", {}, BODY, unsigned=stale)
    assert answer.status == 200, answer
    # And the other way round: a current Date does not rescue a skewed x-amz-date.
    current = {"Date": http_date(NOW)}
    answer = send(server, "PUT", f"/{bucket}/skewed", {}, BODY, unsigned=current, when=NOW - dt.timedelta(minutes=20))
    assert (answer.status, answer.error_code()) == (403, "RequestTimeTooSkewed"), answer


def test_date_alone_is_the_request_time(server, s3, bucket):
    # Without x-amz-date, Date is the request time. botocore signs a request whose caller set
    # Date with Date alone, written by email.utils.formatdate as "Mon, 07 Dec 2026 17:52:53
    # -0000" (RFC 2822 with a numeric zone, not the HTTP "GMT" form): S3 accepts it.
    target, signed = sign_headers(server, "PUT", f"/{bucket}/date-only", headers={"Date": "x"}, body=BODY)
    assert "X-Amz-Date" not in signed and signed["Date"].endswith("-0000"), signed
    answer = raw_request(server, "PUT", f"/{bucket}/date-only", headers={"Date": "x"}, body=BODY)
    assert answer.status == 200, answer
    assert s3.get_object(Bucket=bucket, Key="date-only")["Body"].read() == BODY


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("aws-chunked", None),
        ("aws-chunked,gzip", "gzip"),
        ("gzip,aws-chunked", "gzip"),
        ("gzip, aws-chunked, br", "gzip,br"),
    ],
)
def test_content_encoding_is_stored_without_aws_chunked(server, s3, bucket, sent, stored):
    # PutObject: "aws-chunked" in Content-Encoding names the request's framing and is not
    # stored; the other codings are, in order (user guide, "Uploading with aws-chunked").
    body = aws_chunked_unsigned_trailer_body(BODY, crc32_b64(BODY))
    headers = {
        "Content-Encoding": sent,
        "x-amz-decoded-content-length": str(len(BODY)),
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    answer = raw_request(
        server, "PUT", f"/{bucket}/enc", headers=headers, body=body, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    )
    assert answer.status == 200, answer
    head = s3.head_object(Bucket=bucket, Key="enc")
    assert head.get("ContentEncoding") == stored
    assert s3.get_object(Bucket=bucket, Key="enc")["Body"].read() == BODY


@pytest.mark.parametrize(
    "form",
    [
        "%a, %d %b %Y %H:%M:%S GMT",  # IMF-fixdate
        "%A, %d-%b-%y %H:%M:%S GMT",  # RFC 850
        "%a %b %e %H:%M:%S %Y",  # asctime
    ],
)
def test_conditional_dates_in_every_http_form(server, s3, bucket, form):
    # RFC 9110 §5.6.7 (RFC 7231 §7.1.1.1): a recipient accepts all three date formats.
    s3.put_object(Bucket=bucket, Key="cond", Body=BODY)
    future = (NOW + dt.timedelta(days=1)).strftime(form)
    past = (NOW - dt.timedelta(days=1)).strftime(form)
    assert raw_request(server, "GET", f"/{bucket}/cond", headers={"If-Modified-Since": future}).status == 304
    assert raw_request(server, "GET", f"/{bucket}/cond", headers={"If-Modified-Since": past}).status == 200
    answer = raw_request(server, "GET", f"/{bucket}/cond", headers={"If-Unmodified-Since": past})
    assert (answer.status, answer.error_code()) == (412, "PreconditionFailed")
    assert raw_request(server, "GET", f"/{bucket}/cond", headers={"If-Unmodified-Since": future}).status == 200


def test_an_unparsable_conditional_date_is_ignored(server, s3, bucket):
    # RFC 9110 §13.1.3/§13.1.4: a recipient ignores If-Modified-Since / If-Unmodified-Since
    # when the value is not a valid HTTP date.
    s3.put_object(Bucket=bucket, Key="cond", Body=BODY)
    for header in ("If-Modified-Since", "If-Unmodified-Since"):
        assert raw_request(server, "GET", f"/{bucket}/cond", headers={header: "yesterday"}).status == 200


def test_expires_is_passed_through(server, s3, bucket):
    # PutObject `Expires` is stored and returned as given (a cache directive for clients;
    # S3 itself does nothing with it).
    when = http_date(dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc))
    answer = raw_request(server, "PUT", f"/{bucket}/exp", headers={"Expires": when}, body=BODY)
    assert answer.status == 200, answer
    got = raw_request(server, "GET", f"/{bucket}/exp")
    assert got.header("expires") == when
    assert s3.head_object(Bucket=bucket, Key="exp")["ExpiresString"] == when


def test_no_request_charged_without_requester_pays(server, s3, bucket):
    # x-amz-request-charged is sent only when the requester was charged, i.e. on a
    # requester-pays bucket; no bucket here is one, so no answer carries it.
    s3.put_object(Bucket=bucket, Key="rp", Body=BODY, RequestPayer="requester")
    answer = raw_request(server, "GET", f"/{bucket}/rp", headers={"x-amz-request-payer": "requester"})
    assert answer.status == 200 and answer.header("x-amz-request-charged") is None

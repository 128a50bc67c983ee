#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/seed-*: real requests as the clients of
docs S3-CLIENTS.md send them, the AWS documentation's signing examples (key
AKIAIOSFODNN7EXAMPLE, 2013-05-24T00:00:00Z, the fixed key and clock of the targets) and the
hostile shapes of BAD-INPUTS.md. Input layouts (leading mode bytes) are documented on each
target in tests/fuzz-targets. Re-run after changing a layout; files the fuzzer found
(crash-*, found-*) are not touched.

    python3 fuzz/make_seeds.py
"""

import base64
import hashlib
import hmac
import os
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20130524T000000Z"
HTTP_DATE = "Fri, 24 May 2013 00:00:00 GMT"
SCOPE = "20130524/us-east-1/s3/aws4_request"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, "seed-" + name), "wb") as file:
        file.write(data)


def head(method, target, headers, body=b""):
    lines = [f"{method} {target} HTTP/1.1"] + [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- SigV4 and SigV2 signing (the AWS documentation's algorithm) -------------------------

def signing_key():
    key = ("AWS4" + SECRET_KEY).encode()
    for part in ("20130524", "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def uri_encode(text, keep_slash):
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char.isalnum() and byte < 128 or char in "-_.~" or (keep_slash and char == "/"):
            out.append(char)
        else:
            out.append("%%%02X" % byte)
    return "".join(out)


def sigv4(method, path, query_pairs, headers, payload_hash):
    """Returns the header list with an Authorization header over every given header."""
    names = sorted(n.lower() for n, _ in headers)
    canonical_headers = "".join(
        f"{n.lower()}:{v.strip()}\n" for n, v in sorted(headers, key=lambda h: h[0].lower())
    )
    query = "&".join(
        f"{uri_encode(k, False)}={uri_encode(v, False)}" for k, v in sorted(query_pairs)
    )
    canonical = "\n".join(
        [method, path, query, canonical_headers, ";".join(names), payload_hash]
    )
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", AMZ_DATE, SCOPE, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    signature = hmac.new(signing_key(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{SCOPE},"
        f"SignedHeaders={';'.join(names)},Signature={signature}"
    )
    return headers + [("Authorization", authorization)], signature


def chunk_signature(previous, data):
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256-PAYLOAD", AMZ_DATE, SCOPE, previous, EMPTY_SHA256,
         hashlib.sha256(data).hexdigest()]
    )
    return hmac.new(signing_key(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def signed_chunks(seed, chunks):
    body, previous = b"", seed
    for data in chunks + [b""]:
        previous = chunk_signature(previous, data)
        body += f"{len(data):x};chunk-signature={previous}\r\n".encode() + data + b"\r\n"
    return body


def query_string(pairs):
    return "&".join(f"{uri_encode(k, False)}={uri_encode(v, False)}" for k, v in pairs)


def sigv2(string_to_sign):
    digest = hmac.new(SECRET_KEY.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# --- requests ----------------------------------------------------------------------------

def requests():
    """(name, bytes): heads as clients send them, for http_head, router and sigv4."""
    host = ("Host", "localhost:9000")
    out = []
    body = b"hello world"
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    headers, _ = sigv4("PUT", "/bkt/hello.txt", [], [
        host, ("X-Amz-Date", AMZ_DATE), ("X-Amz-Content-SHA256", hashlib.sha256(body).hexdigest()),
        ("x-amz-checksum-crc32", crc), ("x-amz-sdk-checksum-algorithm", "CRC32"),
    ], hashlib.sha256(body).hexdigest())
    headers += [("User-Agent", "Boto3/1.43.11"), ("Expect", "100-continue"),
                ("Content-Length", str(len(body)))]
    out.append(("boto3-put-object", head("PUT", "/bkt/hello.txt", headers, body)))

    pairs = [("list-type", "2"), ("prefix", "a/"), ("delimiter", "/"), ("encoding-type", "url")]
    headers, _ = sigv4("GET", "/bkt", pairs, [
        host, ("X-Amz-Date", AMZ_DATE), ("X-Amz-Content-SHA256", EMPTY_SHA256)], EMPTY_SHA256)
    out.append(("boto3-list-objects-v2", head("GET", "/bkt?" + query_string(pairs), headers)))

    # aws-sdk-rust: a trailing slash on the bucket and ?x-id on every request.
    pairs = [("list-type", "2"), ("x-id", "ListObjectsV2")]
    headers, _ = sigv4("GET", "/rust-bkt/", pairs, [
        host, ("x-amz-date", AMZ_DATE), ("x-amz-content-sha256", EMPTY_SHA256)], EMPTY_SHA256)
    out.append(("sdk-rust-list", head("GET", "/rust-bkt/?" + query_string(pairs), headers)))

    # The S3 documentation's GET Object example (virtual host, signature f0e8bdb8...).
    headers, _ = sigv4("GET", "/test.txt", [], [
        ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
        ("x-amz-content-sha256", EMPTY_SHA256), ("x-amz-date", AMZ_DATE)], EMPTY_SHA256)
    out.append(("aws-doc-get-object", head("GET", "/test.txt", headers)))

    # Streaming signed upload (aws-chunked with chunk signatures), the body after the head.
    data = b"a" * 100 + b"b" * 10
    headers, seed = sigv4("PUT", "/bkt/chunked.txt", [], [
        host, ("x-amz-date", AMZ_DATE),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", str(len(data)))],
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    framed = signed_chunks(seed, [data[:100], data[100:]])
    headers += [("Content-Length", str(len(framed)))]
    out.append(("streaming-signed", head("PUT", "/bkt/chunked.txt", headers, framed)))

    # boto3 over HTTPS: HTTP chunked around aws-chunked with an unsigned trailer.
    inner = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:" + crc.encode() + b"\r\n\r\n"
    outer = f"{len(inner):x}\r\n".encode() + inner + b"\r\n0\r\n\r\n"
    headers, _ = sigv4("PUT", "/bkt/hello.txt", [], [
        host, ("x-amz-date", AMZ_DATE),
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-decoded-content-length", "11")],
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    headers += [("Content-Encoding", "aws-chunked"), ("Transfer-Encoding", "chunked")]
    out.append(("boto3-https-unsigned-trailer", head("PUT", "/bkt/hello.txt", headers, outer)))

    # Presigned GET (the documentation's example shape).
    pairs = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", f"{ACCESS_KEY}/{SCOPE}"),
             ("X-Amz-Date", AMZ_DATE), ("X-Amz-Expires", "86400"), ("X-Amz-SignedHeaders", "host")]
    canonical_query = "&".join(f"{uri_encode(k, False)}={uri_encode(v, False)}"
                               for k, v in sorted(pairs))
    canonical = "\n".join(["GET", "/bkt/key.txt", canonical_query,
                           "host:localhost:9000\n", "host", "UNSIGNED-PAYLOAD"])
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", AMZ_DATE, SCOPE,
                                hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(signing_key(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    target = "/bkt/key.txt?" + query_string(pairs + [("X-Amz-Signature", signature)])
    out.append(("presigned-get", head("GET", target, [host])))

    # Multipart, copy, batch delete, browser POST, preflight: unsigned shapes for the router.
    out.append(("create-multipart", head("POST", "/bkt/big.bin?uploads", [host])))
    out.append(("upload-part", head("PUT", "/bkt/big.bin?partNumber=1&uploadId=abc", [
        host, ("Content-Length", "3")], b"abc")))
    out.append(("complete-multipart", head("POST", "/bkt/big.bin?uploadId=abc", [host])))
    out.append(("copy-object", head("PUT", "/bkt/copy.txt", [
        host, ("x-amz-copy-source", "/bkt/a%20b.txt?versionId=null"),
        ("x-amz-copy-source-range", "bytes=0-9")])))
    out.append(("delete-objects", head("POST", "/bkt?delete", [host, ("Content-Length", "1")], b"<")))
    out.append(("post-form", head("POST", "/bkt", [
        host, ("Content-Type", "multipart/form-data; boundary=XyZ"), ("Content-Length", "5")],
        b"--XyZ")))
    out.append(("virtual-host", head("GET", "/photos/puppy.jpg?tagging", [
        ("Host", "examplebucket.s3.example.com:9000")])))
    out.append(("preflight", head("OPTIONS", "/bkt/k", [
        host, ("Origin", "https://app.example.com"),
        ("Access-Control-Request-Method", "PUT")])))
    out.append(("http10-keep-alive", b"GET /bkt/k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
    out.append(("service", head("GET", "/", [host])))
    # BAD-INPUTS H2-H3 and P4: smuggling shapes and a relative target.
    out.append(("cl-and-te", head("PUT", "/b/k", [("Content-Length", "5"),
                                                  ("Transfer-Encoding", "chunked")])))
    out.append(("two-cl", head("PUT", "/b/k", [("Content-Length", "5"), ("Content-Length", "6")])))
    out.append(("relative-target", b"POST ../b/k?uploadId=1 HTTP/1.1\r\n\r\n"))
    out.append(("bare-lf", b"GET /b/k HTTP/1.1\nHost: x\n\n"))
    out.append(("encoded-traversal", head("GET", "/b/%2e%2e%2f%2e%2e%2fetc%2fpasswd", [host])))
    return out


def sigv2_requests():
    out = []
    auth = sigv2(f"GET\n\n\n{HTTP_DATE}\n/examplebucket/photos/puppy.jpg")
    out.append(("header", head("GET", "/examplebucket/photos/puppy.jpg", [
        ("Host", "localhost:9000"), ("Date", HTTP_DATE),
        ("Authorization", f"AWS {ACCESS_KEY}:{auth}")])))
    string_to_sign = (f"PUT\n\ntext/plain\n\nx-amz-date:{HTTP_DATE}\nx-amz-meta-a:b\n"
                      "/examplebucket/k?acl")
    out.append(("amz-headers", head("PUT", "/examplebucket/k?acl", [
        ("Content-Type", "text/plain"), ("x-amz-date", HTTP_DATE), ("x-amz-meta-a", "b"),
        ("Authorization", f"AWS {ACCESS_KEY}:{sigv2(string_to_sign)}")])))
    expires = "1369357200"
    signature = sigv2(f"GET\n\n\n{expires}\n/examplebucket/k")
    target = "/examplebucket/k?" + query_string([
        ("AWSAccessKeyId", ACCESS_KEY), ("Expires", expires), ("Signature", signature)])
    out.append(("presigned", head("GET", target, [("Host", "localhost:9000")])))
    return out


def main():
    for name, data in requests():
        write("http_head", name, data)
        write("router", name, data)
        write("sigv4", name, b"\x00" + data)
        write("sigv4", "resign-" + name, b"\x01" + data)
    for name, data in sigv2_requests():
        write("sigv2", name, data)
        write("sigv4", "v2-" + name, b"\x00" + data)

    write("http_chunked", "simple", b"\x07" + b"5\r\nhello\r\n0\r\n\r\n")
    write("http_chunked", "extensions-trailer",
          b"\x03" + b"5;a=b\r\nhello\r\n6 ; x\r\n world\r\n0\r\nx-trailer: y\r\n\r\n")
    inner = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
    write("http_chunked", "boto3-https",
          b"\x40" + f"{len(inner):x}\r\n".encode() + inner + b"\r\n0\r\n\r\n")
    write("http_chunked", "pipelined", b"\x01" + b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    write("http_chunked", "uppercase-hex", b"\x10" + b"A\r\n0123456789\r\n0\r\n\r\n")

    # aws_chunked: [mode, piece seed, decoded length high, low] + body.
    unsigned = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
    write("aws_chunked", "unsigned-trailer", bytes([0x14, 5, 0, 11]) + unsigned)
    write("aws_chunked", "unsigned-two-trailers", bytes([0x08, 2, 0, 0]) +
          b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n"
          b"x-amz-checksum-sha256:" + b"A" * 44 + b"\r\n\r\n")
    write("aws_chunked", "garage-newline", bytes([0x04, 9, 0, 0]) +
          b"1\r\na\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n\n")
    seed_signature = "0" * 64
    write("aws_chunked", "signed-framing", bytes([0x11, 3, 0, 110]) +
          signed_chunks(seed_signature, [b"a" * 100, b"b" * 10]))
    write("aws_chunked", "signed-trailer-framing", bytes([0x06, 4, 0, 0]) +
          b"3;chunk-signature=" + b"a" * 64 + b"\r\nabc\r\n0;chunk-signature=" + b"b" * 64 +
          b"\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:" + b"c" * 64 +
          b"\r\n\r\n")
    write("aws_chunked", "generated", bytes([0x03, 7, 0, 0, 5]) + b"hello" + bytes([3]) + b"abc")

    xml = {
        0: [("complete", '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
             '<Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag>'
             '<ChecksumCRC32>DUoRhQ==</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber>'
             '<ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag></Part></CompleteMultipartUpload>'),
            ("complete-s3cmd", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
             "<ETag>a54357aff0632cce46d942af68356b38</ETag></Part></CompleteMultipartUpload>")],
        1: [("delete", '<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>'
             "<Object><Key>a.txt</Key></Object><Object><Key>b&amp;c</Key>"
             "<VersionId>null</VersionId></Object></Delete>"),
            ("delete-entities", "<Delete><Object><Key>..&#x2F;..&#x2F;etc</Key></Object>"
             "<Object><Key><![CDATA[../x]]></Key></Object></Delete>")],
        2: [("tagging", "<Tagging><TagSet><Tag><Key>project</Key><Value>blue</Value></Tag>"
             "<Tag><Key>a b</Key><Value></Value></Tag></TagSet></Tagging>")],
        3: [("cors", "<CORSConfiguration><CORSRule><ID>r1</ID>"
             "<AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>"
             "<AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader>"
             "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>"
             "</CORSConfiguration>")],
        4: [("sse-s3", "<ServerSideEncryptionConfiguration><Rule>"
             "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
             "</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"),
            ("sse-kms", "<ServerSideEncryptionConfiguration><Rule>"
             "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm>"
             "<KMSMasterKeyID>key-1</KMSMasterKeyID></ApplyServerSideEncryptionByDefault>"
             "<BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>")],
        5: [("create-bucket", "<CreateBucketConfiguration><LocationConstraint>us-east-1"
             "</LocationConstraint></CreateBucketConfiguration>")],
        6: [("tagging-header", "project=blue&a%20b=&c=d%26e")],
    }
    for kind, documents in xml.items():
        for name, text in documents:
            write("xml_bodies", name, bytes([kind]) + text.encode())
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              '<!ENTITY lol2 "&lol;&lol;&lol;">]><Delete><Object><Key>&lol2;</Key></Object></Delete>')
    write("xml_bodies", "billion-laughs", b"\x01" + laughs.encode())

    boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    policy = base64.b64encode(b'{"expiration":"2013-08-07T12:00:00.000Z","conditions":[]}')
    fields = [("key", "user/${filename}"), ("policy", policy.decode()),
              ("x-amz-algorithm", "AWS4-HMAC-SHA256"), ("x-amz-credential", f"{ACCESS_KEY}/{SCOPE}"),
              ("x-amz-date", AMZ_DATE), ("x-amz-signature", "0" * 64)]
    form = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'
                   for n, v in fields)
    form += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a b.txt"'
             f"\r\nContent-Type: text/plain\r\n\r\nhello world\r\n--{boundary}--\r\n")
    write("form_data", "browser-upload",
          b"\x05" + f"multipart/form-data; boundary={boundary}\n".encode() + form.encode())
    write("form_data", "quoted-boundary", b"\x00" + b'multipart/form-data; boundary="a b"\n' +
          b'preamble\r\n--a b\r\nContent-Disposition: form-data; name="x\\"y"\r\n\r\n'
          b"v\r\n--a b--")

    policy = ('{"expiration":"2013-08-07T12:00:00.000Z","conditions":[{"bucket":"examplebucket"},'
              '["starts-with","$key","user/user1/"],{"acl":"public-read"},'
              '["starts-with","$Content-Type","image/"],{"x-amz-meta-uuid":"14365123651274"},'
              '["starts-with","$x-amz-meta-tag",""],'
              f'{{"x-amz-credential":"{ACCESS_KEY}/20130806/us-east-1/s3/aws4_request"}},'
              '{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-date":"20130806T000000Z"},'
              '["content-length-range",1,10485760]]}')
    fields = ("key=user/user1/photo.jpg\nacl=public-read\ncontent-type=image/jpeg\n"
              "x-amz-meta-uuid=14365123651274\nx-amz-meta-tag=\n"
              f"x-amz-credential={ACCESS_KEY}/20130806/us-east-1/s3/aws4_request\n"
              "x-amz-algorithm=AWS4-HMAC-SHA256\nx-amz-date=20130806T000000Z\n"
              "x-amz-signature=" + "0" * 64)
    write("post_policy", "aws-doc-example", policy.encode() + b"\x00" + fields.encode())
    write("post_policy", "sigv2-form", b'{"expiration":"2013-06-01T00:00:00Z","conditions":'
          b'[["eq","$key","k"],["content-length-range","0","5"]]}\x00key=k\n'
          b"awsaccesskeyid=AKIAIOSFODNN7EXAMPLE\nsignature=abc=")

    for name, text in [
        ("list-v2", "list-type=2&prefix=a%2F&delimiter=%2F&encoding-type=url"),
        ("upload-part", "partNumber=1&uploadId=abc"),
        ("x-id", "x-id=PutObject"),
        ("plus-and-empty", "prefix=a+b&&marker=&versions"),
        ("copy-source", "/bkt/a%20b.txt?versionId=null"),
        ("overlong-utf8", "prefix=%c0%ae%c0%ae"),
        ("part-number-hex", "partNumber=0x10"),
    ]:
        write("query", name, text)

    for name, size, text in [
        ("first-last", 4, "bytes=0-9"), ("suffix", 3, "bytes=-5"), ("open", 4, "bytes=5-"),
        ("multi", 4, "bytes=0-0,5-9"), ("huge-size", 7, "bytes=18446744073709551614-"),
        ("copy-range", 5, "bytes=0-1048575"), ("http-date", 0, HTTP_DATE),
        ("rfc850", 0, "Sunday, 06-Nov-94 08:49:37 GMT"), ("asctime", 0, "Sun Nov  6 08:49:37 1994"),
        ("iso8601", 0, "2009-10-12T17:50:30.000Z"),
    ]:
        write("range", name, bytes([size]) + text.encode())

    for name, kind, text in [
        ("login", 0, '{"username":"admin","password":"secret"}'),
        ("totp-verify", 1, '{"temp_token":"t","code":"123456"}'),
        ("totp-code", 2, '{"code":"123456","password":"p"}'),
        ("password", 3, '{"current_password":"a","new_password":"Bb1bbbbbbbb"}'),
        ("setting-int", 4, '{"value":300}'),
        ("setting-string", 4, '{"value":"true"}'),
        ("settings-bulk", 5, '{"settings":{"security.session_timeout":"3600",'
         '"security.password_require_uppercase":true,"audit.retention_days":90}}'),
        ("tenant", 6, '{"name":"acme","display_name":"Acme","status":"active",'
         '"max_buckets":10,"max_storage_bytes":null}'),
        ("user", 7, '{"username":"alice","password":"Secret123","role":"tenant_admin",'
         '"tenant_id":"acme"}'),
        ("audit-query", 8, "tenant_id=t&user_id=u&start_date=2026-01-31&"
         "end_date=2026-02-01T00:00:00Z&page=1&page_size=50&action=login_failed"),
    ]:
        write("admin_json", name, bytes([kind]) + text.encode())


if __name__ == "__main__":
    main()

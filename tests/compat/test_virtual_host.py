"""Virtual-host-style addressing (`--domain`): `bucket.<domain>` in Host names the bucket.
boto3 builds http://bucket.s3.local:PORT/ URLs; name resolution of *.s3.local is patched to
127.0.0.1 for the duration of each test."""

import socket

import pytest

from harness import make_client
from s3util import Endpoint, RawConnection, http_call, sign_headers

DOMAIN = "s3.local"


@pytest.fixture
def vhost_server(server_factory):
    server = server_factory.create(name="vhost")
    server.extra_args = ["--domain", f"other.example,{DOMAIN}"]
    server.start()
    yield server
    assert server.stop() == 0


@pytest.fixture
def resolve_domain(monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and (host == DOMAIN or host.endswith("." + DOMAIN)):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def vhost_endpoint(ep: Endpoint) -> Endpoint:
    return Endpoint(DOMAIN, ep.port, ep.access_key, ep.secret_key)


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_boto3_virtual_addressing(vhost_server, resolve_domain, signature_version):
    ep = vhost_endpoint(vhost_server.endpoint)
    s3 = make_client(ep, signature_version=signature_version, s3={"addressing_style": "virtual"})
    bucket = f"vh-{signature_version}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="dir/a b.txt", Body=b"virtual")
    assert s3.get_object(Bucket=bucket, Key="dir/a b.txt")["Body"].read() == b"virtual"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["dir/a b.txt"]
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/a b.txt"})
    assert url.startswith(f"http://{bucket}.{DOMAIN}:")
    resp = http_call("GET", url)
    assert (resp.status, resp.body) == (200, b"virtual")
    # Path-style requests keep working on the same server.
    path_style = make_client(vhost_server.endpoint)
    assert path_style.get_object(Bucket=bucket, Key="dir/a b.txt")["Body"].read() == b"virtual"
    s3.delete_object(Bucket=bucket, Key="dir/a b.txt")
    s3.delete_bucket(Bucket=bucket)


def test_raw_host_header_selects_bucket(vhost_server):
    ep = vhost_server.endpoint
    make_client(ep).create_bucket(Bucket="rawvh")
    make_client(ep).put_object(Bucket="rawvh", Key="k", Body=b"raw")
    signer = Endpoint(f"rawvh.{DOMAIN}", ep.port, ep.access_key, ep.secret_key)
    target, headers = sign_headers(signer, "GET", "/k")
    with RawConnection(ep) as conn:
        conn.send_request("GET", target, headers, b"")
        resp = conn.read_response()
    assert (resp.status, resp.body) == (200, b"raw"), resp
    # A host outside the configured domains is path-style.
    signer = Endpoint("rawvh.elsewhere", ep.port, ep.access_key, ep.secret_key)
    target, headers = sign_headers(signer, "GET", "/rawvh/k")
    with RawConnection(ep) as conn:
        conn.send_request("GET", target, headers, b"")
        resp = conn.read_response()
    assert (resp.status, resp.body) == (200, b"raw"), resp
    # The host's bucket is validated like a path's.
    signer = Endpoint(f"Bad_Name.{DOMAIN}", ep.port, ep.access_key, ep.secret_key)
    target, headers = sign_headers(signer, "GET", "/k")
    with RawConnection(ep) as conn:
        conn.send_request("GET", target, headers, b"")
        resp = conn.read_response()
    assert (resp.status, resp.error_code()) == (400, "InvalidBucketName"), resp

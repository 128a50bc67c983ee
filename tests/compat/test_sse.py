"""Server-side encryption (issue 8) through boto3 against the real binary: SSE-S3 and SSE-C on
PUT, GET, HEAD, ranges, multipart, copies between modes; the AWS errors for missing, wrong and
misplaced keys and for SSE-KMS; no plaintext on disk; a flipped ciphertext byte detected; the
server-wide "encrypt everything" setting.

The module's server allows SSE-C over plain HTTP (MAXIOFS_SSE_C_ALLOW_HTTP=true): AWS requires
TLS for customer keys, and the shared session server (which does not allow it) checks that the
default refuses them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import new_credentials
from control_client import ControlClient
from harness import ServerProcess, make_client, run_aws, unique_bucket_name
from storage_util import flip_byte, run_verify

# botocore takes the key as a str (it base64-encodes its UTF-8 bytes): 32 ASCII characters.
KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}
WRONG_SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": OTHER_KEY}
COPY_SOURCE_SSE_C = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": KEY}


def key_md5(key: str) -> str:
    return base64.b64encode(hashlib.md5(key.encode()).digest()).decode()


@pytest.fixture(scope="module")
def sse_server(module_tmp):
    base = module_tmp("sse-server")
    proc = ServerProcess(base / "data", base / "logs", new_credentials(), name="maxiofs-sse")
    proc.extra_env["MAXIOFS_SSE_C_ALLOW_HTTP"] = "true"
    proc.start()
    yield proc
    assert proc.stop() == 0, proc.log_tail()


@pytest.fixture(scope="module")
def client(sse_server):
    return make_client(sse_server.endpoint)


@pytest.fixture
def sse_bucket(client, request):
    name = unique_bucket_name(request.node.originalname)
    client.create_bucket(Bucket=name)
    yield name
    for entry in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=entry["Key"])
    for upload in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
        client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=name)


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def error_of(call) -> tuple[int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_sse_s3_round_trip_with_aws_headers(client, sse_bucket):
    data = payload(300_001, 1)
    put = client.put_object(Bucket=sse_bucket, Key="k", Body=data, ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    assert put["ETag"].strip('"') == hashlib.md5(data).hexdigest()
    got = client.get_object(Bucket=sse_bucket, Key="k")
    assert got["ServerSideEncryption"] == "AES256"
    assert got["Body"].read() == data
    head = client.head_object(Bucket=sse_bucket, Key="k")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentLength"] == len(data)
    plain = client.put_object(Bucket=sse_bucket, Key="plain", Body=b"x")
    assert "ServerSideEncryption" not in plain
    assert "ServerSideEncryption" not in client.head_object(Bucket=sse_bucket, Key="plain")


def test_sse_c_round_trip_and_key_errors(client, sse_bucket):
    data = payload(200_000, 2)
    put = client.put_object(Bucket=sse_bucket, Key="c", Body=data, **SSE_C)
    assert put["SSECustomerAlgorithm"] == "AES256"
    assert put["SSECustomerKeyMD5"] == key_md5(KEY)
    # The ETag of an SSE-C object is not the plaintext's MD5 (AWS does the same).
    assert put["ETag"].strip('"') != hashlib.md5(data).hexdigest()
    got = client.get_object(Bucket=sse_bucket, Key="c", **SSE_C)
    assert got["Body"].read() == data
    assert got["SSECustomerKeyMD5"] == key_md5(KEY)
    head = client.head_object(Bucket=sse_bucket, Key="c", **SSE_C)
    assert head["SSECustomerAlgorithm"] == "AES256"

    assert error_of(lambda: client.get_object(Bucket=sse_bucket, Key="c")) == (400, "InvalidRequest")
    assert error_of(lambda: client.head_object(Bucket=sse_bucket, Key="c"))[0] == 400
    assert error_of(lambda: client.get_object(Bucket=sse_bucket, Key="c", **WRONG_SSE_C)) == (
        403,
        "AccessDenied",
    )
    assert error_of(lambda: client.head_object(Bucket=sse_bucket, Key="c", **WRONG_SSE_C))[0] == 403
    client.put_object(Bucket=sse_bucket, Key="plain", Body=b"p")
    assert error_of(lambda: client.get_object(Bucket=sse_bucket, Key="plain", **SSE_C)) == (
        400,
        "InvalidRequest",
    )
    bad_md5 = {**SSE_C, "SSECustomerKeyMD5": key_md5(OTHER_KEY)}
    assert error_of(lambda: client.put_object(Bucket=sse_bucket, Key="x", Body=b"1", **bad_md5)) == (
        400,
        "InvalidArgument",
    )
    short = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "short"}
    assert error_of(lambda: client.put_object(Bucket=sse_bucket, Key="x", Body=b"1", **short)) == (
        400,
        "InvalidArgument",
    )
    # Nothing was stored by the refused writes.
    assert error_of(lambda: client.head_object(Bucket=sse_bucket, Key="x"))[0] == 404


def test_sse_c_is_refused_over_plain_http_by_default(s3, bucket):
    status, code = error_of(lambda: s3.put_object(Bucket=bucket, Key="c", Body=b"1", **SSE_C))
    assert (status, code) == (400, "InvalidRequest")
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="c"))[0] == 404


def test_sse_kms_gets_the_aws_error_not_plaintext(client, sse_bucket):
    for extra in ({"SSEKMSKeyId": "alias/nope"}, {}):
        status, code = error_of(
            lambda: client.put_object(
                Bucket=sse_bucket, Key="k", Body=b"1", ServerSideEncryption="aws:kms", **extra
            )
        )
        assert (status, code) == (400, "KMS.NotFoundException")
    assert error_of(lambda: client.head_object(Bucket=sse_bucket, Key="k"))[0] == 404


@pytest.mark.parametrize("mode", ["sse-s3", "sse-c"])
def test_range_reads_at_arbitrary_offsets(client, sse_bucket, mode):
    extra = SSE_C if mode == "sse-c" else {"ServerSideEncryption": "AES256"}
    read_extra = SSE_C if mode == "sse-c" else {}
    size = 3 * (1 << 20) + 7
    data = payload(size, 3)
    client.put_object(Bucket=sse_bucket, Key="r", Body=data, **extra)
    rng = random.Random(4)
    ranges = [(0, 0), (size - 1, size - 1), (65_535, 65_536), (1 << 20, (1 << 20) + 10)]
    for _ in range(25):
        start = rng.randrange(size)
        ranges.append((start, min(size - 1, start + rng.randrange(1, 400_000))))
    for start, end in ranges:
        got = client.get_object(Bucket=sse_bucket, Key="r", Range=f"bytes={start}-{end}", **read_extra)
        assert got["Body"].read() == data[start : end + 1], (start, end)
    suffix = client.get_object(Bucket=sse_bucket, Key="r", Range="bytes=-1000", **read_extra)
    assert suffix["Body"].read() == data[-1000:]


def segment_bytes(data_dir: Path) -> bytes:
    chunks = []
    for directory, _, files in os.walk(data_dir / "partitions"):
        for name in files:
            if name.endswith(".seg"):
                chunks.append(Path(directory, name).read_bytes())
    return b"".join(chunks)


def test_plaintext_is_never_on_disk(client, sse_bucket, sse_server):
    encrypted = {"s3": payload(700_000, 5), "c": payload(700_000, 6)}
    client.put_object(Bucket=sse_bucket, Key="s3", Body=encrypted["s3"], ServerSideEncryption="AES256")
    client.put_object(Bucket=sse_bucket, Key="c", Body=encrypted["c"], **SSE_C)
    # A multipart SSE-S3 object too.
    parts = [payload(5 << 20, 7), payload(1000, 8)]
    upload = client.create_multipart_upload(Bucket=sse_bucket, Key="mp", ServerSideEncryption="AES256")
    etags = []
    for number, part in enumerate(parts, 1):
        response = client.upload_part(
            Bucket=sse_bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=number, Body=part
        )
        etags.append({"PartNumber": number, "ETag": response["ETag"]})
    client.complete_multipart_upload(
        Bucket=sse_bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": etags}
    )
    control = payload(300_000, 9)
    client.put_object(Bucket=sse_bucket, Key="plain", Body=control)
    disk = segment_bytes(sse_server.data_dir)
    # The scan works: the plaintext object is found.
    assert control[1000:1064] in disk
    for data in [*encrypted.values(), *parts]:
        for offset in (0, len(data) // 2, len(data) - 64):
            assert data[offset : offset + 64] not in disk, offset


def test_a_flipped_ciphertext_byte_is_detected(client, sse_bucket, sse_server):
    data = payload(300_000, 10)
    client.put_object(Bucket=sse_bucket, Key="victim", Body=data, **SSE_C)
    flip_byte(sse_server.data_dir, sse_bucket, "victim", 10)
    status, code = error_of(lambda: client.get_object(Bucket=sse_bucket, Key="victim", **SSE_C))
    assert (status, code) == (500, "InternalError")
    # Blocks away from the damage still read.
    tail = client.get_object(Bucket=sse_bucket, Key="victim", Range="bytes=200000-", **SSE_C)
    assert tail["Body"].read() == data[200_000:]


@pytest.mark.parametrize("mode", ["sse-s3", "sse-c"])
def test_multipart_uploads_encrypt_every_part(client, sse_bucket, mode):
    create_extra = SSE_C if mode == "sse-c" else {"ServerSideEncryption": "AES256"}
    part_extra = SSE_C if mode == "sse-c" else {}
    upload = client.create_multipart_upload(Bucket=sse_bucket, Key="mp", **create_extra)
    if mode == "sse-c":
        assert upload["SSECustomerKeyMD5"] == key_md5(KEY)
        missing = error_of(
            lambda: client.upload_part(
                Bucket=sse_bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1, Body=b"x"
            )
        )
        assert missing == (400, "InvalidRequest")
        wrong = error_of(
            lambda: client.upload_part(
                Bucket=sse_bucket,
                Key="mp",
                UploadId=upload["UploadId"],
                PartNumber=1,
                Body=b"x",
                **WRONG_SSE_C,
            )
        )
        assert wrong == (403, "AccessDenied")
    else:
        assert upload["ServerSideEncryption"] == "AES256"
    parts = [payload(5 << 20, 11), payload(5 << 20, 12), payload(123_457, 13)]
    etags = []
    for number, part in enumerate(parts, 1):
        response = client.upload_part(
            Bucket=sse_bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=number, Body=part, **part_extra
        )
        etags.append({"PartNumber": number, "ETag": response["ETag"]})
    done = client.complete_multipart_upload(
        Bucket=sse_bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": etags}
    )
    assert done["ETag"].strip('"').endswith("-3")
    data = b"".join(parts)
    got = client.get_object(Bucket=sse_bucket, Key="mp", **part_extra)
    assert got["Body"].read() == data
    boundary = 5 << 20
    ranged = client.get_object(
        Bucket=sse_bucket, Key="mp", Range=f"bytes={boundary - 100}-{2 * boundary + 100}", **part_extra
    )
    assert ranged["Body"].read() == data[boundary - 100 : 2 * boundary + 101]
    part = client.get_object(Bucket=sse_bucket, Key="mp", PartNumber=3, **part_extra)
    assert part["Body"].read() == parts[2]


def test_copies_between_encryption_modes(client, sse_bucket):
    data = payload(400_000, 14)
    client.put_object(Bucket=sse_bucket, Key="plain", Body=data)
    source = {"Bucket": sse_bucket, "Key": "plain"}
    copied = client.copy_object(Bucket=sse_bucket, Key="s3", CopySource=source, ServerSideEncryption="AES256")
    assert copied["ServerSideEncryption"] == "AES256"
    source = {"Bucket": sse_bucket, "Key": "s3"}
    client.copy_object(Bucket=sse_bucket, Key="c", CopySource=source, **SSE_C)
    assert client.get_object(Bucket=sse_bucket, Key="c", **SSE_C)["Body"].read() == data
    # From SSE-C: the source key is required and checked.
    source = {"Bucket": sse_bucket, "Key": "c"}
    assert error_of(lambda: client.copy_object(Bucket=sse_bucket, Key="back", CopySource=source)) == (
        400,
        "InvalidRequest",
    )
    wrong_source = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": OTHER_KEY}
    assert error_of(
        lambda: client.copy_object(Bucket=sse_bucket, Key="back", CopySource=source, **wrong_source)
    ) == (403, "AccessDenied")
    client.copy_object(Bucket=sse_bucket, Key="back", CopySource=source, **COPY_SOURCE_SSE_C)
    back = client.get_object(Bucket=sse_bucket, Key="back")
    assert "ServerSideEncryption" not in back
    assert back["Body"].read() == data
    # Re-encrypting an object in place is a legal copy onto itself.
    client.copy_object(
        Bucket=sse_bucket,
        Key="c",
        CopySource=source,
        ServerSideEncryption="AES256",
        **COPY_SOURCE_SSE_C,
    )
    again = client.get_object(Bucket=sse_bucket, Key="c")
    assert again["ServerSideEncryption"] == "AES256"
    assert again["Body"].read() == data


def test_upload_part_copy_from_an_encrypted_source(client, sse_bucket):
    data = payload(6 << 20, 15)
    client.put_object(Bucket=sse_bucket, Key="src", Body=data, **SSE_C)
    upload = client.create_multipart_upload(Bucket=sse_bucket, Key="dst", ServerSideEncryption="AES256")
    part = client.upload_part_copy(
        Bucket=sse_bucket,
        Key="dst",
        UploadId=upload["UploadId"],
        PartNumber=1,
        CopySource={"Bucket": sse_bucket, "Key": "src"},
        CopySourceRange="bytes=0-5242879",
        **COPY_SOURCE_SSE_C,
    )
    client.complete_multipart_upload(
        Bucket=sse_bucket,
        Key="dst",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]},
    )
    got = client.get_object(Bucket=sse_bucket, Key="dst")
    assert got["ServerSideEncryption"] == "AES256"
    assert got["Body"].read() == data[: 5 << 20]


def test_the_server_wide_setting_encrypts_every_new_object(client, sse_bucket, sse_server):
    with ControlClient(sse_server.data_dir) as control:
        version = control.status().get("settings_version", 0) + 1
        control.put_settings(version, {"security.encrypt_all_objects": "true"})
        try:
            put = client.put_object(Bucket=sse_bucket, Key="auto", Body=b"secret-by-default")
            assert put["ServerSideEncryption"] == "AES256"
            got = client.get_object(Bucket=sse_bucket, Key="auto")
            assert got["ServerSideEncryption"] == "AES256"
            assert got["Body"].read() == b"secret-by-default"
        finally:
            control.put_settings(version + 1, {"security.encrypt_all_objects": "false"})
    plain = client.put_object(Bucket=sse_bucket, Key="after", Body=b"x")
    assert "ServerSideEncryption" not in plain


def test_verify_accepts_encrypted_records(server_factory):
    server = server_factory.create()
    server.extra_env["MAXIOFS_SSE_C_ALLOW_HTTP"] = "true"
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="enc")
    s3.put_object(Bucket="enc", Key="s3", Body=payload(100_000, 20), ServerSideEncryption="AES256")
    s3.put_object(Bucket="enc", Key="c", Body=payload(70_000, 21), **SSE_C)
    upload = s3.create_multipart_upload(Bucket="enc", Key="mp", **SSE_C)
    parts = []
    for number, size in ((1, 5 << 20), (2, 10)):
        response = s3.upload_part(
            Bucket="enc", Key="mp", UploadId=upload["UploadId"], PartNumber=number,
            Body=payload(size, number), **SSE_C,
        )
        parts.append({"PartNumber": number, "ETag": response["ETag"]})
    s3.complete_multipart_upload(
        Bucket="enc", Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    # An upload in progress keeps an encrypted part.
    pending = s3.create_multipart_upload(Bucket="enc", Key="pending", ServerSideEncryption="AES256")
    s3.upload_part(Bucket="enc", Key="pending", UploadId=pending["UploadId"], PartNumber=1, Body=b"p")
    assert server.stop() == 0
    result = run_verify(server.data_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bucket_default_encryption_applies_to_writes_without_headers(client, sse_bucket):
    client.put_bucket_encryption(
        Bucket=sse_bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    put = client.put_object(Bucket=sse_bucket, Key="d", Body=b"by default")
    assert put["ServerSideEncryption"] == "AES256"
    assert client.head_object(Bucket=sse_bucket, Key="d")["ServerSideEncryption"] == "AES256"
    upload = client.create_multipart_upload(Bucket=sse_bucket, Key="m")
    assert upload["ServerSideEncryption"] == "AES256"
    client.abort_multipart_upload(Bucket=sse_bucket, Key="m", UploadId=upload["UploadId"])
    # A request's own SSE-C key wins over the default.
    client.put_object(Bucket=sse_bucket, Key="c", Body=b"mine", **SSE_C)
    assert client.head_object(Bucket=sse_bucket, Key="c", **SSE_C)["SSECustomerKeyMD5"] == key_md5(KEY)
    client.delete_bucket_encryption(Bucket=sse_bucket)
    assert "ServerSideEncryption" not in client.put_object(Bucket=sse_bucket, Key="p", Body=b"x")


def test_object_attributes_of_an_sse_c_object_need_its_key(client, sse_bucket):
    client.put_object(Bucket=sse_bucket, Key="c", Body=b"attributes", **SSE_C)
    status, _ = error_of(
        lambda: client.get_object_attributes(Bucket=sse_bucket, Key="c", ObjectAttributes=["ObjectSize"])
    )
    assert status == 400
    # botocore does not encode the key for this operation: send the wire form.
    wire_key = {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(KEY.encode()).decode(),
        "SSECustomerKeyMD5": key_md5(KEY),
    }
    attributes = client.get_object_attributes(
        Bucket=sse_bucket, Key="c", ObjectAttributes=["ObjectSize"], **wire_key
    )
    assert attributes["ObjectSize"] == len(b"attributes")


def test_aws_cli_sse_s3_and_sse_c(sse_server, client, sse_bucket, tmp_path):
    """aws cli v1 `s3 cp` with --sse and --sse-c (20 MiB: a multipart upload of 8 MiB parts)."""
    home = tmp_path / "aws-home"
    home.mkdir()
    source = tmp_path / "big.bin"
    data = payload(20 << 20, 22)
    source.write_bytes(data)
    key_file = tmp_path / "key"
    key_file.write_text(KEY)

    def aws(*args):
        return run_aws(sse_server.endpoint, home, *args)

    aws("s3", "cp", str(source), f"s3://{sse_bucket}/s3.bin", "--sse", "AES256", "--only-show-errors")
    head = client.head_object(Bucket=sse_bucket, Key="s3.bin")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ETag"].strip('"').endswith("-3")
    sse_c = ["--sse-c", "AES256", "--sse-c-key", f"fileb://{key_file}"]
    aws("s3", "cp", str(source), f"s3://{sse_bucket}/c.bin", *sse_c, "--only-show-errors")
    assert client.head_object(Bucket=sse_bucket, Key="c.bin", **SSE_C)["ContentLength"] == len(data)
    for key, extra in (("s3.bin", []), ("c.bin", sse_c)):
        back = tmp_path / f"{key}.back"
        aws("s3", "cp", f"s3://{sse_bucket}/{key}", str(back), *extra, "--only-show-errors")
        assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(data).digest(), key

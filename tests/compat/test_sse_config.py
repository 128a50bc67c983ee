"""Encryption configuration and key management, black box: bucket default encryption
(Put/Get/DeleteBucketEncryption, SSE-KMS refused), the master key file (created 0600, from
MAXIOFS_MASTER_KEY, or an operator's --master-key-file), rotation and status through the CLI
(`maxiofs kek`) and the console API, the encryption settings, and a rotation followed by a
restart that still serves every SSE-S3 object."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

import harness
from admin_harness import ApiError, UpProcess
from harness import ServerError, make_client
from test_metrics import TOKEN, scrape, total

pytestmark = pytest.mark.binary

AES256_RULE = {
    "Rules": [
        {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BucketKeyEnabled": True,
        }
    ]
}


def error_of(excinfo) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def kek(data_dir, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(harness.maxiofs_bin()), "kek", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_")},
    )


def status_field(output: str, name: str) -> str:
    match = re.search(rf"^{re.escape(name)}: (.*)$", output, re.MULTILINE)
    assert match, output
    return match[1]


def key_file_versions(path) -> tuple[int, list[int]]:
    text = path.read_text()
    current = int(re.search(r"^current (\d+)$", text, re.MULTILINE)[1])
    versions = [int(v) for v in re.findall(r"^key (\d+) ", text, re.MULTILINE)]
    return current, versions


# ---------------------------------------------------------------------------
# bucket default encryption
# ---------------------------------------------------------------------------


def test_bucket_encryption_put_get_delete(s3, bucket):
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_encryption(Bucket=bucket)
    assert error_of(missing) == ("ServerSideEncryptionConfigurationNotFoundError", 404)

    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=AES256_RULE)
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert rules[0]["BucketKeyEnabled"] is True

    s3.delete_bucket_encryption(Bucket=bucket)
    with pytest.raises(ClientError) as deleted:
        s3.get_bucket_encryption(Bucket=bucket)
    assert error_of(deleted) == ("ServerSideEncryptionConfigurationNotFoundError", 404)


def assert_refused_and_unset(s3, bucket, configuration, code: str):
    """PutBucketEncryption fails with `code` (400) and leaves the bucket without a default."""
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=configuration)
    assert error_of(refused) == (code, 400)
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_encryption(Bucket=bucket)
    assert error_of(missing)[0] == "ServerSideEncryptionConfigurationNotFoundError"


@pytest.mark.parametrize(
    "default",
    [
        {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "arn:aws:kms:us-east-1:111122223333:key/nope"},
        {"SSEAlgorithm": "aws:kms"},
        {"SSEAlgorithm": "aws:kms:dsse"},
    ],
)
def test_kms_defaults_are_refused_not_silently_ignored(s3, bucket, default):
    configuration = {"Rules": [{"ApplyServerSideEncryptionByDefault": default}]}
    assert_refused_and_unset(s3, bucket, configuration, "KMS.NotFoundException")


@pytest.mark.parametrize(
    "configuration",
    [
        {"Rules": [AES256_RULE["Rules"][0], AES256_RULE["Rules"][0]]},
        {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES128"}}]},
        {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]},
    ],
    ids=["two-rules", "unknown-algorithm", "key-id-without-kms"],
)
def test_malformed_configurations_are_refused(s3, bucket, configuration):
    assert_refused_and_unset(s3, bucket, configuration, "MalformedXML")


def test_a_bucket_default_encrypts_writes_that_ask_for_nothing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="before", Body=b"plain before")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=AES256_RULE)
    put = s3.put_object(Bucket=bucket, Key="after", Body=b"encrypted by default")
    assert put["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="after")
    assert got["ServerSideEncryption"] == "AES256"
    assert got["Body"].read() == b"encrypted by default"
    assert "ServerSideEncryption" not in s3.head_object(Bucket=bucket, Key="before")
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "before"})
    assert copied["ServerSideEncryption"] == "AES256"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="multi")
    assert upload["ServerSideEncryption"] == "AES256"
    s3.abort_multipart_upload(Bucket=bucket, Key="multi", UploadId=upload["UploadId"])

    s3.delete_bucket_encryption(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="later", Body=b"plain again")
    assert "ServerSideEncryption" not in s3.head_object(Bucket=bucket, Key="later")


def test_bucket_encryption_of_a_missing_bucket(s3):
    with pytest.raises(ClientError) as missing:
        s3.put_bucket_encryption(Bucket="no-such-bucket-sse", ServerSideEncryptionConfiguration=AES256_RULE)
    assert error_of(missing) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as missing:
        s3.get_bucket_encryption(Bucket="no-such-bucket-sse")
    assert error_of(missing) == ("NoSuchBucket", 404)


def test_bucket_encryption_survives_a_restart_on_every_shard(server_factory):
    server = server_factory.create()
    server.shards = 3
    server.start()
    s3 = make_client(server.endpoint)
    names = [f"sse-restart-{i}" for i in range(4)]
    for name in names:
        s3.create_bucket(Bucket=name)
    s3.put_bucket_encryption(Bucket=names[0], ServerSideEncryptionConfiguration=AES256_RULE)
    assert server.stop() == 0
    server.start()
    s3 = make_client(server.endpoint)
    # Several fresh connections: they land on different shards, each with its own copy.
    for _ in range(6):
        client = make_client(server.endpoint)
        rule = client.get_bucket_encryption(Bucket=names[0])["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    with pytest.raises(ClientError):
        s3.get_bucket_encryption(Bucket=names[1])
    assert server.stop() == 0


# ---------------------------------------------------------------------------
# the master key file
# ---------------------------------------------------------------------------


def test_master_keys_are_generated_once_owner_only(server_factory):
    server = server_factory.create()
    server.start()
    path = server.data_dir / "master-keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    assert key_file_versions(path) == (1, [1])
    assert server.stop() == 0
    server.start()
    assert path.read_text() == first
    assert server.stop() == 0


def test_the_environment_master_key_is_version_one_and_checked(server_factory):
    server = server_factory.create()
    key = base64.b64encode(os.urandom(32)).decode()
    server.extra_env["MAXIOFS_MASTER_KEY"] = key
    server.start()
    assert f"key 1 {key}" in (server.data_dir / "master-keys").read_text()
    assert server.stop() == 0
    # A different key for the same data dir would open nothing: refused at start.
    server.extra_env["MAXIOFS_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(ServerError):
        server.start(timeout=20)
    assert "MAXIOFS_MASTER_KEY differs" in server.log_tail()
    server.extra_env["MAXIOFS_MASTER_KEY"] = "not-a-key"
    with pytest.raises(ServerError):
        server.start(timeout=20)


def test_an_operator_key_file_is_used_and_rotated_in_place(server_factory, tmp_path):
    server = server_factory.create()
    key_file = tmp_path / "operator-keys"
    server.extra_args = ["--master-key-file", str(key_file)]
    with pytest.raises(ServerError):
        server.start(timeout=20)  # a missing operator file is never invented
    assert "does not exist" in server.log_tail()
    key = base64.b64encode(os.urandom(32)).decode()
    key_file.write_text(f"format 1\ncurrent 1\nkey 1 {key}\n")
    key_file.chmod(0o600)
    server.start()
    assert not (server.data_dir / "master-keys").exists()
    rotated = kek(server.data_dir, "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert key_file_versions(key_file) == (2, [1, 2])
    assert f"key 1 {key}" in key_file.read_text()
    assert server.stop() == 0


# ---------------------------------------------------------------------------
# rotation and status: CLI
# ---------------------------------------------------------------------------


def test_kek_status_and_rotate_through_the_cli(server_factory):
    server = server_factory.create()
    server.start()
    status = kek(server.data_dir, "status")
    assert status.returncode == 0, status.stderr
    assert status_field(status.stdout, "current version") == "1"
    assert status_field(status.stdout, "data keys on old versions") == "0"

    rotated = kek(server.data_dir, "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "master key version 2 is current" in rotated.stdout
    assert status_field(rotated.stdout, "versions") == "1 2"
    path = server.data_dir / "master-keys"
    assert key_file_versions(path) == (2, [1, 2])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    again = kek(server.data_dir, "rotate")
    assert again.returncode == 0, again.stderr
    assert status_field(again.stdout, "current version") == "3"
    assert server.stop() == 0
    # The rotated keyring is what the next start uses.
    server.start()
    status = kek(server.data_dir, "status")
    assert status_field(status.stdout, "versions") == "1 2 3"
    assert server.stop() == 0


def test_kek_without_a_running_server_says_so(tmp_path):
    result = kek(tmp_path, "status")
    assert result.returncode == 1
    assert "control socket" in result.stderr


# ---------------------------------------------------------------------------
# rotation and status: console API, settings
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(module_tmp):
    if os.environ.get("MAXIOFS_TEST_ENDPOINT"):
        pytest.skip("needs the maxiofs binary")
    up = UpProcess(module_tmp("sse-admin"))
    up.start()
    yield up
    assert up.stop() == 0, up.log_tail()


def test_admin_api_rotates_and_reports_for_global_admins_only(stack):
    root = stack.root()
    before = root.get("/api/v1/encryption")
    assert before["versions"] == list(range(1, before["current_version"] + 1))
    after = root.post("/api/v1/encryption/rotate")
    assert after["current_version"] == before["current_version"] + 1
    assert after["versions"][-1] == after["current_version"]
    assert root.get("/api/v1/encryption")["current_version"] == after["current_version"]
    current, _ = key_file_versions(stack.data_dir / "master-keys")
    assert current == after["current_version"]

    entries = root.get("/api/v1/audit-logs?page_size=1000&event_type=master_key_rotated")["logs"]
    assert any(entry.get("resource") == str(after["current_version"]) for entry in entries), entries

    password = "Correct-Horse-9"
    user = root.post("/api/v1/users", {"username": f"plain-{os.getpid()}", "password": password, "role": "user"})
    plain = stack.console().login(user["username"], password)
    for method, path in [("GET", "/api/v1/encryption"), ("POST", "/api/v1/encryption/rotate")]:
        with pytest.raises(ApiError) as denied:
            plain.call(method, path, {} if method == "POST" else None)
        assert denied.value.status == 403
    assert root.get("/api/v1/encryption")["current_version"] == after["current_version"]


def test_encryption_settings_are_registered_and_validated(stack):
    root = stack.root()
    for key in ["security.encrypt_all_objects", "security.sse_c_allow_http"]:
        setting = root.get(f"/api/v1/settings/{key}")
        assert (setting["type"], setting["default"], setting["value"]) == ("bool", False, False)
        with pytest.raises(ApiError) as refused:
            root.put(f"/api/v1/settings/{key}", {"value": "sometimes"})
        assert refused.value.status == 400
    root.put("/api/v1/settings/security.encrypt_all_objects", {"value": True})
    assert root.get("/api/v1/settings/security.encrypt_all_objects")["value"] is True
    root.put("/api/v1/settings/security.encrypt_all_objects", {"value": False})


# ---------------------------------------------------------------------------
# end to end: needs the SSE-S3 data path
# ---------------------------------------------------------------------------


def wait_for_rewrap(data_dir, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = kek(data_dir, "status")
        assert status.returncode == 0, status.stderr
        if status_field(status.stdout, "data keys on old versions") == "0":
            return status.stdout
        assert time.monotonic() < deadline, status.stdout
        time.sleep(0.2)


def customer_headers(key: bytes) -> dict:
    return {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(key).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode(),
    }


def test_rotation_and_restart_still_serve_every_encrypted_object(server_factory):
    server = server_factory.create()
    server.extra_env["MAXIOFS_SSE_C_ALLOW_HTTP"] = "true"
    server.extra_args = ["--metrics-token", TOKEN]
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="rotated")
    bodies = {f"object-{i}": os.urandom(1000 + 37 * i) for i in range(40)}
    for key, body in bodies.items():
        s3.put_object(Bucket="rotated", Key=key, Body=body, ServerSideEncryption="AES256")
    # A multipart object: its parts' data keys are re-wrapped too.
    parts = [os.urandom(5 << 20), os.urandom(1234)]
    upload = s3.create_multipart_upload(Bucket="rotated", Key="multi", ServerSideEncryption="AES256")
    etags = [
        s3.upload_part(Bucket="rotated", Key="multi", UploadId=upload["UploadId"], PartNumber=n, Body=part)["ETag"]
        for n, part in enumerate(parts, start=1)
    ]
    s3.complete_multipart_upload(
        Bucket="rotated",
        Key="multi",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": n} for n, etag in enumerate(etags, start=1)]},
    )
    # SSE-C keys belong to the customer: a rotation leaves them alone and they keep working.
    customer = customer_headers(os.urandom(32))
    s3.put_object(Bucket="rotated", Key="customer", Body=b"customer bytes", **customer)
    plain = s3.get_object(Bucket="rotated", Key="object-3")["Body"].read()
    assert plain == bodies["object-3"]

    before = kek(server.data_dir, "status")
    wrapped_v1 = int(re.search(r"^data keys wrapped by version 1: (\d+)$", before.stdout, re.MULTILINE)[1])
    assert wrapped_v1 >= 41, before.stdout
    # Two rotations back to back: the second restarts the re-wrap with the newest version.
    for _ in range(2):
        rotated = kek(server.data_dir, "rotate")
        assert rotated.returncode == 0, rotated.stderr
    status = wait_for_rewrap(server.data_dir)
    assert re.search(rf"^data keys wrapped by version 3: {wrapped_v1}$", status, re.MULTILINE), status
    assert "wrapped by version 1" not in status and "wrapped by version 2" not in status, status
    # Each partition's finished re-wrap is a background task (a superseded one is not counted).
    metrics = scrape(server)
    partitions = int(re.search(r"partitions (\d+)", (server.data_dir / "FORMAT").read_text())[1])
    rewraps = total(metrics, "maxiofs_background_tasks_total", task_type="key_rewrap", status="success")
    assert rewraps >= partitions, metrics
    assert total(metrics, "maxiofs_background_tasks_total", task_type="key_rewrap", status="failure") == 0

    assert server.stop() == 0
    # Old versions stay in the file: a backup of an older keyring still opens older copies.
    assert key_file_versions(server.data_dir / "master-keys") == (3, [1, 2, 3])
    server.start()
    s3 = make_client(server.endpoint)
    # Every partition recorded its finished re-wrap: the restart re-wraps nothing and reads
    # no rows for it (before the record, each start walked every partition: one task each).
    for _ in range(10):
        metrics = scrape(server)
        assert total(metrics, "maxiofs_background_tasks_total", task_type="key_rewrap", status="success") == 0
        time.sleep(0.2)
    for key, body in bodies.items():
        answer = s3.get_object(Bucket="rotated", Key=key)
        assert answer["ServerSideEncryption"] == "AES256"
        assert answer["Body"].read() == body
    ranged = s3.get_object(Bucket="rotated", Key="object-7", Range="bytes=100-299")
    assert ranged["Body"].read() == bodies["object-7"][100:300]
    assert s3.get_object(Bucket="rotated", Key="multi")["Body"].read() == b"".join(parts)
    assert s3.get_object(Bucket="rotated", Key="customer", **customer)["Body"].read() == b"customer bytes"
    assert server.stop() == 0

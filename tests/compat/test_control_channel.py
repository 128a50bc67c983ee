"""The control channel between the admin and the data plane (docs/design/control-channel.md),
driven with a tiny socket client where the admin would be: identity pushed to every shard and
effective at once on the S3 port, tenant isolation on every path, bucket and storage quotas,
persistence across restarts, the per-partition event log, and bucket management."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from control_client import ControlClient, ControlError, access_key, snapshot, tenant, user
from harness import make_client
from s3util import Endpoint, KiB, MiB, error_of, expect_error, http_call, payload, raw_request
from test_metrics import total
from test_post_object import post_form

pytestmark = pytest.mark.binary

# How long a wait for usage exchanged between shards may take before the test fails: usage
# is exchanged every 250 ms, so this only bounds a hung server (nothing is timed).
USAGE_WAIT_SECONDS = 20


def secret() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


class World:
    """A server with two tenants, a global user and a global admin, each with a key; the
    managed `policies` and `groups` go into every snapshot pushed."""

    policies: list[dict] = []
    groups: list[dict] = []

    def __init__(self, server, control: ControlClient, quotas: dict | None = None):
        self.server = server
        self.control = control
        self.version = 0
        quotas = quotas or {}
        self.tenants = {
            "acme": tenant("acme", **quotas.get("acme", {})),
            "globex": tenant("globex", **quotas.get("globex", {})),
        }
        self.users = {
            "alice": user("alice", "acme"),
            "anna": user("anna", "acme", role="tenant_admin"),
            "bob": user("bob", "globex"),
            "carol": user("carol", None),
            "root2": user("root2", None, role="global_admin"),
        }
        self.keys = {name: access_key(f"AK{name.upper()}{uuid.uuid4().hex[:8].upper()}", secret(), name)
                     for name in self.users}
        self.push()

    def push(self):
        self.version += 1
        self.control.put_identity(snapshot(
            self.version, list(self.tenants.values()), list(self.users.values()), list(self.keys.values()),
            policies=self.policies, groups=self.groups,
        ))  # fmt: skip

    def client(self, name: str, **config):
        key = self.keys[name]
        return make_client(self.server.endpoint, access_key=key["access_key_id"],
                           secret_key=key["secret_access_key"], **config)

    def endpoint(self, name: str):
        key = self.keys[name]
        ep = self.server.endpoint
        return Endpoint(ep.host, ep.port, key["access_key_id"], key["secret_access_key"])


@contextlib.contextmanager
def world_server(directory, name: str, root_secret: str, world_class=World):
    """A server of its own with a `world_class` world pushed over its control socket: what a
    module-scoped fixture yields (the server is killed when it ends)."""
    from harness import ServerProcess

    server = ServerProcess(directory / "data", directory / "logs", ("root", root_secret), name=f"maxiofs-{name}")
    server.start()
    try:
        with ControlClient(server.data_dir) as control:
            yield world_class(server, control)
    finally:
        server.kill()


@pytest.fixture
def world(server_factory):
    server = server_factory.create()
    server.start()
    with ControlClient(server.data_dir) as control:
        yield World(server, control)


def denied_events(control: ControlClient, count: int) -> list[dict]:
    """The access_denied events, once there are `count` of them: a denied request is logged
    after its answer went out (it must never wait for a disk write), so the test waits for it."""
    deadline = time.monotonic() + USAGE_WAIT_SECONDS
    while True:
        denied = [e for e in control.all_events() if e["kind"] == "access_denied"]
        if len(denied) >= count or time.monotonic() > deadline:
            return denied
        time.sleep(0.05)


def eventually_accepted(call, what: str, **kwargs):
    """Retries `call` while it answers 403 QuotaExceeded (usage travels between shards in
    about half a second) until it succeeds; fails with `what` after USAGE_WAIT_SECONDS."""
    deadline = time.monotonic() + USAGE_WAIT_SECONDS
    while True:
        try:
            return call(**kwargs)
        except ClientError as exc:
            assert error_of(exc) == (403, "QuotaExceeded"), exc.response
            assert time.monotonic() < deadline, what
            time.sleep(0.1)


def names(s3) -> set[str]:
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


# ---------------------------------------------------------------------------
# identity
# ---------------------------------------------------------------------------


def test_socket_and_files_are_private(world):
    data_dir = world.server.data_dir
    assert stat.S_IMODE(os.stat(data_dir / "control.sock").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data_dir / "identity.json").st_mode) == 0o600
    status = world.control.status()
    assert status["identity_version"] == world.version
    assert status["shards"] == world.server.shards
    assert len(status["event_heads"]) == status["partitions"] == world.control.partitions


def test_a_pushed_key_works_at_once_and_stops_when_disabled_or_deleted(world):
    alice = world.client("alice")
    alice.create_bucket(Bucket="alice-keys")
    alice.put_object(Bucket="alice-keys", Key="k", Body=b"hello")
    assert alice.get_object(Bucket="alice-keys", Key="k")["Body"].read() == b"hello"
    # Disabled key, then user, then tenant: AccessDenied, as soon as the push answered.
    world.keys["alice"]["enabled"] = False
    world.push()
    expect_error(alice.get_object, 403, "AccessDenied", Bucket="alice-keys", Key="k")
    world.keys["alice"]["enabled"] = True
    world.users["alice"]["enabled"] = False
    world.push()
    expect_error(alice.head_object, 403, "403", Bucket="alice-keys", Key="k")
    world.users["alice"]["enabled"] = True
    world.tenants["acme"]["enabled"] = False
    world.push()
    expect_error(alice.list_objects_v2, 403, "AccessDenied", Bucket="alice-keys")
    world.tenants["acme"]["enabled"] = True
    world.push()
    assert alice.get_object(Bucket="alice-keys", Key="k")["Body"].read() == b"hello"
    # A rotated secret: the old one fails, the new one works (no stale signing key).
    old_secret = world.keys["alice"]["secret_access_key"]
    world.keys["alice"]["secret_access_key"] = secret()
    world.push()
    expect_error(alice.get_object, 403, "SignatureDoesNotMatch", Bucket="alice-keys", Key="k")
    assert world.client("alice").get_object(Bucket="alice-keys", Key="k")["Body"].read() == b"hello"
    assert old_secret != world.keys["alice"]["secret_access_key"]
    # Deleted: the key is unknown.
    del world.keys["alice"]
    world.push()
    expect_error(alice.list_buckets, 403, "InvalidAccessKeyId")
    # The root credential works whatever the snapshot says.
    root = make_client(world.server.endpoint)
    assert "alice-keys" in names(root)


def test_bad_and_stale_snapshots_are_refused(world):
    control = world.control
    dangling = snapshot(world.version + 1, [], [], [access_key("AKX", "s", "nobody")])
    with pytest.raises(ControlError) as refused:
        control.put_identity(dangling)
    assert refused.value.code == "InvalidRequest"
    stale = snapshot(world.version - 1, [], [], [])
    with pytest.raises(ControlError) as refused:
        control.put_identity(stale)
    assert refused.value.code == "StaleVersion"
    # Nothing changed: alice's key still works.
    world.client("alice").list_buckets()
    assert control.status()["identity_version"] == world.version


def test_protocol_rules(world):
    path = str(world.server.data_dir / "control.sock")
    # A request before hello is refused and the connection closed.
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(path)
        body = b'{"type":"status"}'
        sock.sendall(struct.pack(">I", len(body)) + body)
        (length,) = struct.unpack(">I", sock.recv(4))
        assert b"InvalidRequest" in sock.recv(length)
    # A frame over the limit is refused before its body is read: the server hangs up.
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(path)
        sock.sendall(struct.pack(">I", (64 << 20) + 1))
        assert sock.recv(4) == b""
    # Another protocol version is refused.
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(path)
        body = b'{"type":"hello","protocol":999}'
        sock.sendall(struct.pack(">I", len(body)) + body)
        (length,) = struct.unpack(">I", sock.recv(4))
        assert b"InvalidRequest" in sock.recv(length)
    # The server still serves well-behaved clients.
    with ControlClient(world.server.data_dir) as control:
        assert control.status()["identity_version"] == world.version


def test_identity_and_settings_survive_a_restart_without_the_admin(world):
    server = world.server
    world.client("alice").create_bucket(Bucket="alice-restart")
    world.control.put_settings(3, {"audit.log_denied_requests": "false"})
    world.control.close()
    assert server.stop() == 0
    server.start()
    alice = world.client("alice")
    alice.put_object(Bucket="alice-restart", Key="after", Body=b"x")
    expect_error(world.client("bob").get_object, 403, "AccessDenied", Bucket="alice-restart", Key="after")
    with ControlClient(server.data_dir) as control:
        status = control.status()
        assert (status["identity_version"], status["settings_version"]) == (world.version, 3)
        # Denied requests are not logged (the setting survived too).
        denied = [e for e in control.all_events() if e["kind"] == "access_denied"]
        assert denied == []


# ---------------------------------------------------------------------------
# tenant isolation
# ---------------------------------------------------------------------------


def test_tenant_isolation_on_every_path(world):
    alice, bob = world.client("alice"), world.client("bob")
    alice.create_bucket(Bucket="iso-acme")
    alice.put_object(Bucket="iso-acme", Key="secret.txt", Body=b"acme data", Tagging="a=b")
    upload = alice.create_multipart_upload(Bucket="iso-acme", Key="mp")["UploadId"]
    bob.create_bucket(Bucket="iso-globex")
    bob.put_object(Bucket="iso-globex", Key="mine", Body=b"globex data")
    mine = {"Bucket": "iso-globex", "Key": "copy"}
    theirs = {"Bucket": "iso-acme", "Key": "secret.txt"}
    attempts = [
        (bob.head_bucket, {"Bucket": "iso-acme"}),
        (bob.get_bucket_location, {"Bucket": "iso-acme"}),
        (bob.list_objects_v2, {"Bucket": "iso-acme"}),
        (bob.list_objects, {"Bucket": "iso-acme"}),
        (bob.list_object_versions, {"Bucket": "iso-acme"}),
        (bob.get_object, theirs),
        (bob.head_object, theirs),
        (bob.get_object_attributes, {**theirs, "ObjectAttributes": ["ETag"]}),
        (bob.get_object_tagging, theirs),
        (bob.put_object_tagging, {**theirs, "Tagging": {"TagSet": []}}),
        (bob.delete_object_tagging, theirs),
        (bob.put_object, {**theirs, "Body": b"overwrite"}),
        (bob.delete_object, theirs),
        (bob.delete_objects, {"Bucket": "iso-acme", "Delete": {"Objects": [{"Key": "secret.txt"}]}}),
        (bob.create_multipart_upload, {"Bucket": "iso-acme", "Key": "mp2"}),
        (bob.upload_part, {"Bucket": "iso-acme", "Key": "mp", "UploadId": upload, "PartNumber": 1, "Body": b"x"}),
        (bob.list_parts, {"Bucket": "iso-acme", "Key": "mp", "UploadId": upload}),
        (bob.list_multipart_uploads, {"Bucket": "iso-acme"}),
        (bob.complete_multipart_upload, {"Bucket": "iso-acme", "Key": "mp", "UploadId": upload,
                                         "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": "x"}]}}),
        (bob.abort_multipart_upload, {"Bucket": "iso-acme", "Key": "mp", "UploadId": upload}),
        (bob.get_bucket_tagging, {"Bucket": "iso-acme"}),
        (bob.put_bucket_tagging, {"Bucket": "iso-acme", "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}),
        (bob.delete_bucket_tagging, {"Bucket": "iso-acme"}),
        (bob.delete_bucket, {"Bucket": "iso-acme"}),
        # Copy out of the other tenant's bucket into one's own, and into theirs.
        (bob.copy_object, {**mine, "CopySource": theirs}),
        (bob.copy_object, {**theirs, "CopySource": {"Bucket": "iso-globex", "Key": "mine"}}),
    ]
    bob_upload = bob.create_multipart_upload(Bucket="iso-globex", Key="mp")["UploadId"]
    attempts.append((bob.upload_part_copy, {"Bucket": "iso-globex", "Key": "mp", "UploadId": bob_upload,
                                            "PartNumber": 1, "CopySource": theirs}))
    for call, kwargs in attempts:
        try:
            call(**kwargs)
        except ClientError as exc:
            status, code = error_of(exc)
            assert status == 403 and code in ("AccessDenied", "403"), (call.__name__, exc.response)
        else:
            raise AssertionError(f"{call.__name__}({kwargs}) succeeded across tenants")
    # A bucket name taken by another tenant.
    expect_error(bob.create_bucket, 409, "BucketAlreadyExists", Bucket="iso-acme")
    # Presigned URLs, SigV2 and POST uploads of bob's key are refused the same way.
    url = bob.generate_presigned_url("get_object", Params=theirs)
    assert http_call("GET", url).status == 403
    bob_v2 = world.client("bob", signature_version="s3")
    expect_error(bob_v2.get_object, 403, "AccessDenied", **theirs)
    for signature_version in ("s3v4", "s3"):
        signer = world.client("bob", signature_version=signature_version)
        post = signer.generate_presigned_post("iso-acme", "posted")
        response = post_form(world.endpoint("bob"), "iso-acme", post["fields"], b"sneaky")
        assert response.status == 403, response.body
    # Nothing of acme's changed.
    assert alice.get_object(**theirs)["Body"].read() == b"acme data"
    assert [o["Key"] for o in alice.list_objects_v2(Bucket="iso-acme")["Contents"]] == ["secret.txt"]
    assert alice.get_object_tagging(**theirs)["TagSet"] == [{"Key": "a", "Value": "b"}]
    # ListBuckets is filtered: each tenant sees its own; tenant admins stay in their tenant;
    # a global user sees the buckets of no tenant; root and global admins see all.
    root = make_client(world.server.endpoint)
    root.create_bucket(Bucket="iso-none")
    assert names(alice) == {"iso-acme"}
    assert names(world.client("anna")) == {"iso-acme"}
    assert names(bob) == {"iso-globex"}
    assert names(world.client("carol")) == {"iso-none"}
    assert {"iso-acme", "iso-globex", "iso-none"} <= names(root)
    assert {"iso-acme", "iso-globex", "iso-none"} <= names(world.client("root2"))
    # A tenant user cannot reach the buckets of no tenant either; a global admin reaches all.
    expect_error(alice.list_objects_v2, 403, "AccessDenied", Bucket="iso-none")
    assert world.client("root2").get_object(**theirs)["Body"].read() == b"acme data"
    # Only root and global admins may read metrics (every tenant's traffic).
    assert raw_request(world.endpoint("bob"), "GET", "/metrics").status == 403
    assert raw_request(world.endpoint("root2"), "GET", "/metrics").status == 200


# ---------------------------------------------------------------------------
# quotas
# ---------------------------------------------------------------------------


def test_bucket_quota_is_too_many_buckets(server_factory):
    server = server_factory.create()
    server.start()
    with ControlClient(server.data_dir) as control:
        world = World(server, control, quotas={"acme": {"max_buckets": 2}})
        alice = world.client("alice")
        alice.create_bucket(Bucket="quota-b1")
        control.create_bucket("quota-b2", tenant_id="acme", user_id="anna")
        expect_error(alice.create_bucket, 400, "TooManyBuckets", Bucket="quota-b3")
        with pytest.raises(ControlError) as refused:
            control.create_bucket("quota-b4", tenant_id="acme")
        assert refused.value.code == "TooManyBuckets"
        # Other tenants and tenant-less buckets are not limited by acme's quota.
        world.client("bob").create_bucket(Bucket="quota-globex")
        # Deleting one frees a slot.
        alice.delete_bucket(Bucket="quota-b1")
        alice.create_bucket(Bucket="quota-b3")


def test_storage_quota_is_quota_exceeded(server_factory):
    server = server_factory.create()
    server.start()
    with ControlClient(server.data_dir) as control:
        world = World(server, control, quotas={"acme": {"max_storage_bytes": 8 * MiB}})
        alice = world.client("alice")
        alice.create_bucket(Bucket="quota-bytes")
        # More than the whole quota in one request: refused before the body is stored.
        expect_error(alice.put_object, 403, "QuotaExceeded", Bucket="quota-bytes", Key="big", Body=payload(9 * MiB))
        # Many small objects spread over every partition: once the shards have exchanged
        # their usage, the next write that would exceed the quota is refused.
        stored = 0
        refused = None
        deadline = time.monotonic() + USAGE_WAIT_SECONDS
        while refused is None and time.monotonic() < deadline:
            try:
                alice.put_object(Bucket="quota-bytes", Key=f"small-{stored}", Body=payload(512 * KiB))
                stored += 1
            except ClientError as exc:
                refused = exc
            if stored >= 16:
                time.sleep(0.1)
        assert refused is not None, "the quota was never enforced"
        assert error_of(refused) == (403, "QuotaExceeded")
        # The lag is bounded: at most what was written while usage travelled between shards.
        assert 14 <= stored <= 24, stored
        # Copies count too; other tenants are not affected.
        expect_error(alice.copy_object, 403, "QuotaExceeded", Bucket="quota-bytes", Key="copy",
                     CopySource={"Bucket": "quota-bytes", "Key": "small-0"})
        bob = world.client("bob")
        bob.create_bucket(Bucket="quota-other")
        bob.put_object(Bucket="quota-other", Key="k", Body=payload(MiB))
        # Deleting frees room again.
        for number in range(stored):
            alice.delete_object(Bucket="quota-bytes", Key=f"small-{number}")
        eventually_accepted(alice.put_object, "usage never went down",
                            Bucket="quota-bytes", Key="again", Body=payload(MiB))
        # A multipart upload whose parts fit one by one but not together: parts count toward
        # usage (test_multipart_limits.py), so the second part is refused once usage has
        # travelled between shards, or else the completion is.
        # Part 1 fits once the deletes above have been counted everywhere.
        upload = alice.create_multipart_upload(Bucket="quota-bytes", Key="mp")["UploadId"]
        part = {"Bucket": "quota-bytes", "Key": "mp", "UploadId": upload, "Body": payload(5 * MiB)}
        first = eventually_accepted(alice.upload_part, "usage never went down", PartNumber=1, **part)
        parts = [{"PartNumber": 1, "ETag": first["ETag"]}]
        try:
            parts.append({"PartNumber": 2, "ETag": alice.upload_part(PartNumber=2, **part)["ETag"]})
        except ClientError as exc:
            assert error_of(exc) == (403, "QuotaExceeded")
        else:
            expect_error(alice.complete_multipart_upload, 403, "QuotaExceeded", Bucket="quota-bytes",
                         Key="mp", UploadId=upload, MultipartUpload={"Parts": parts})
        alice.abort_multipart_upload(Bucket="quota-bytes", Key="mp", UploadId=upload)


# ---------------------------------------------------------------------------
# event log
# ---------------------------------------------------------------------------


def test_events_of_writes_and_denials(world):
    alice, bob = world.client("alice"), world.client("bob")
    alice.create_bucket(Bucket="ev-acme")
    alice.put_object(Bucket="ev-acme", Key="one", Body=b"12345")
    alice.copy_object(Bucket="ev-acme", Key="two", CopySource={"Bucket": "ev-acme", "Key": "one"})
    upload = alice.create_multipart_upload(Bucket="ev-acme", Key="multi")["UploadId"]
    etag = alice.upload_part(Bucket="ev-acme", Key="multi", UploadId=upload, PartNumber=1, Body=b"abc")["ETag"]
    alice.complete_multipart_upload(Bucket="ev-acme", Key="multi", UploadId=upload,
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    alice.delete_object(Bucket="ev-acme", Key="one")
    alice.delete_objects(Bucket="ev-acme", Delete={"Objects": [{"Key": "two"}]})
    alice.put_bucket_tagging(Bucket="ev-acme", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    expect_error(bob.get_object, 403, "AccessDenied", Bucket="ev-acme", Key="multi")
    control = world.control
    denied_events(control, 1)
    events = control.all_events()
    by_operation = {}
    for event in events:
        by_operation.setdefault(event["operation"], []).append(event)
    created = by_operation["PutObject"][0]
    assert (created["kind"], created["bucket"], created["key"], created["size"]) == ("object_created", "ev-acme", "one", 5)
    assert created["access_key_id"] == world.keys["alice"]["access_key_id"]
    assert (created["user_id"], created["tenant_id"], created["status"]) == ("alice", "acme", 200)
    assert created["etag"] and created["request_id"] and created["source_ip"] == "127.0.0.1"
    assert by_operation["CopyObject"][0]["key"] == "two"
    completed = by_operation["CompleteMultipartUpload"][0]
    assert (completed["kind"], completed["size"]) == ("object_created", 3)
    assert completed["etag"].endswith("-1")
    assert by_operation["DeleteObject"][0]["kind"] == "object_removed"
    assert by_operation["DeleteObjects"][0]["key"] == "two"
    assert by_operation["CreateBucket"][0]["kind"] == "bucket_created"
    assert by_operation["CreateBucket"][0]["partition"] == 0
    assert by_operation["PutBucketTagging"][0]["kind"] == "bucket_config_changed"
    denied = by_operation["GetObject"][0]
    assert (denied["kind"], denied["status"], denied["partition"]) == ("access_denied", 403, 0)
    # Sequence numbers strictly increase within each partition.
    heads = control.status()["event_heads"]
    for partition in range(control.partitions):
        seqs = [e["seq"] for e in events if e["partition"] == partition]
        assert seqs == sorted(set(seqs))
        assert heads[partition] == (seqs[-1] if seqs else 0)
    # Turning off the logging of denied requests takes effect at once.
    control.put_settings(1, {"audit.log_denied_requests": "false"})
    expect_error(bob.get_object, 403, "AccessDenied", Bucket="ev-acme", Key="multi")
    control.put_settings(2, {"audit.log_denied_requests": "true"})
    expect_error(bob.head_bucket, 403, "403", Bucket="ev-acme")
    denied = denied_events(control, 2)
    assert [e["operation"] for e in denied] == ["GetObject", "HeadBucket"]
    # Unknown keys and bad signatures on known buckets are logged too, without identity.
    stranger = make_client(world.server.endpoint, access_key="AKNOBODY", secret_key="x" * 40)
    expect_error(stranger.list_objects_v2, 403, "InvalidAccessKeyId", Bucket="ev-acme")
    denied = denied_events(control, 3)
    assert denied[-1]["operation"] == "ListObjectsV2" and denied[-1]["user_id"] is None


def test_events_survive_restart_and_trim(world):
    alice = world.client("alice")
    alice.create_bucket(Bucket="ev-trim")
    for number in range(20):
        alice.put_object(Bucket="ev-trim", Key=f"k{number}", Body=b"x")
    control = world.control
    before = control.all_events()
    heads = control.status()["event_heads"]
    control.close()
    server = world.server
    assert server.stop() == 0
    server.start()
    with ControlClient(server.data_dir) as control:
        assert control.all_events() == before
        assert control.status()["event_heads"] == heads
        # Trim every partition through its head: nothing left, heads unchanged.
        for partition, head in enumerate(heads):
            control.trim_events(partition, head)
        assert control.all_events() == []
        assert control.status()["event_heads"] == heads
        # Each trim is a background task of its partition, counted in /metrics.
        scraped = raw_request(world.endpoint("root2"), "GET", "/metrics")
        assert scraped.status == 200
        trims = {
            status: total(scraped.body.decode(), "maxiofs_background_tasks_total",
                          task_type="event_log_trim", status=status)
            for status in ("success", "failure")
        }  # fmt: skip
        assert trims == {"success": len(heads), "failure": 0}
        # New events continue after the trimmed ones.
        world.client("alice").put_object(Bucket="ev-trim", Key="later", Body=b"y")
        (event,) = control.all_events()
        assert event["key"] == "later" and event["seq"] > heads[event["partition"]]
        with pytest.raises(ControlError) as refused:
            control.read_events(control.partitions, 0)
        assert refused.value.code == "InvalidRequest"


# ---------------------------------------------------------------------------
# bucket management over the control channel
# ---------------------------------------------------------------------------


def test_buckets_over_the_control_channel(world):
    control = world.control
    control.create_bucket("ctl-acme", tenant_id="acme", user_id="anna")
    alice = world.client("alice")
    alice.put_object(Bucket="ctl-acme", Key="a", Body=payload(1000))
    alice.put_object(Bucket="ctl-acme", Key="b", Body=payload(24))
    make_client(world.server.endpoint).create_bucket(Bucket="ctl-root")
    buckets = {b["name"]: b for b in control.list_buckets()}
    acme = buckets["ctl-acme"]
    assert (acme["tenant_id"], acme["user_id"], acme["objects"], acme["bytes"]) == ("acme", "anna", 2, 1024)
    assert acme["created_unix_ms"] > 0
    root = buckets["ctl-root"]
    assert (root["tenant_id"], root["user_id"], root["objects"], root["bytes"]) == (None, None, 0, 0)
    # The bucket is the tenant's on the S3 port too.
    assert names(alice) == {"ctl-acme"}
    expect_error(world.client("bob").head_bucket, 403, "403", Bucket="ctl-acme")
    for name, code in (("ctl-acme", "BucketAlreadyExists"), ("Bad_Name", "InvalidBucketName")):
        with pytest.raises(ControlError) as refused:
            control.create_bucket(name)
        assert refused.value.code == code
    with pytest.raises(ControlError) as refused:
        control.delete_bucket("ctl-acme")
    assert refused.value.code == "BucketNotEmpty"
    alice.delete_objects(Bucket="ctl-acme", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    control.delete_bucket("ctl-acme")
    with pytest.raises(ControlError) as refused:
        control.delete_bucket("ctl-acme")
    assert refused.value.code == "NoSuchBucket"
    assert "ctl-acme" not in {b["name"] for b in control.list_buckets()}
    removed = [e for e in control.all_events() if e["kind"] == "bucket_removed"]
    assert [e["bucket"] for e in removed] == ["ctl-acme"]

"""RELIABILITY-GOALS.md T1, short CI version: SIGKILL under write load, restart, verify.

Each round, 16 client threads write (PUTs of several sizes, 3-part multipart uploads,
overwrites, deletes) while the server is SIGKILLed at a random moment 1-4 s in. Every
thread owns its keys, so the manifest knows, per key, the set of states it may be in:
exactly the last acknowledged state, plus the state of an operation that was in flight
at the kill (old or new, never partial). After the restart every key is read back and
must be in one of its allowed states, and LIST must agree with the GETs.

Alongside, 8 more threads put and delete in a bucket with versioning Enabled: overwrites
(new versions), plain DELETEs (delete markers) and DELETEs of one version by id. After every
restart, ListObjectVersions must show, per key, every acknowledged version and delete-marker
id in the order they were acknowledged (newest first), an unacknowledged one only if its
request was in flight at the kill (and then with that request's bytes), and every
acknowledged version must read back by id with its MD5.

After the last round the stopped data dir must pass `maxiofs verify` (every block checksum,
no overlapping extents), and the space the segments hold is reported against the live data.

Env: CRASH_ROUNDS (default 5 for CI; e.g. CRASH_ROUNDS=200 for the long run on demand),
CRASH_SEED (default random; printed for reproduction).
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from xml.etree import ElementTree

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from harness import make_client
from s3util import KiB, MiB, md5_hex, multipart_etag, payload, quoted
from storage_util import allocated_bytes, run_verify

pytestmark = pytest.mark.binary

ROUNDS = int(os.environ.get("CRASH_ROUNDS", "5"))
SEED = int(os.environ.get("CRASH_SEED", random.randrange(2**32)))
THREADS = 16
KEYS_PER_THREAD = 24
SIZES = [0, 1, 4095, 4096, 128 * KiB - 1, 128 * KiB + 1, MiB + 1]
PART = 5 * MiB
P_DELETE, P_MULTIPART = 0.15, 0.03
BUCKET = "crash"
VERSIONED_BUCKET = "crash-versions"
VERSIONED_THREADS = 8
VERSIONED_KEYS_PER_THREAD = 6
VERSIONED_SIZES = [0, 1, 4095, 4096, 128 * KiB + 1]
P_MARKER, P_DELETE_VERSION = 0.15, 0.1


@dataclass(frozen=True)
class State:
    """What a key holds: absent, or an object with this content."""

    sha256: str | None = None
    etag: str | None = None
    size: int = 0

    @staticmethod
    def of(body: bytes, etag: str | None = None) -> "State":
        return State(hashlib.sha256(body).hexdigest(), etag or quoted(md5_hex(body)), len(body))

    def __str__(self):
        return "absent" if self.sha256 is None else f"{self.size}B sha256={self.sha256[:12]} etag={self.etag}"


ABSENT = State()


class Manifest:
    """Per key, the set of states the server may legitimately hold."""

    def __init__(self):
        self._lock = threading.Lock()
        self.allowed: dict[str, set[State]] = {}
        self.acked = 0
        self.http_errors: list[str] = []

    def begin(self, key: str, new: State):
        with self._lock:
            self.allowed.setdefault(key, {ABSENT}).add(new)

    def ack(self, key: str, new: State):
        with self._lock:
            self.allowed[key] = {new}
            self.acked += 1

    def settle(self, key: str, observed: State):
        with self._lock:
            self.allowed[key] = {observed}

    def in_doubt(self) -> int:
        return sum(len(states) > 1 for states in self.allowed.values())


class ServerGone(Exception):
    """botocore reported success for a request the server never answered."""


def answered(resp: dict) -> dict:
    """A response the server really sent carries its request id. botocore can fabricate a
    header-less 200 when a pooled connection dies after a 100-continue exchange
    (boto/botocore#3755: a stale status tuple): that is no acknowledgement."""
    if "x-amz-request-id" not in resp["ResponseMetadata"].get("HTTPHeaders", {}):
        raise ServerGone(resp)
    return resp


class Writer(threading.Thread):
    """One client thread; owns keys t<id>/k<n>; stops at the first failed request."""

    def __init__(self, tid: int, client, manifest: Manifest, stop: threading.Event, rng: random.Random):
        super().__init__(daemon=True, name=f"writer-{tid}")
        self.tid, self.client, self.manifest, self.stop_event, self.rng = tid, client, manifest, stop, rng
        self.ops = Counter()

    def run(self):
        while not self.stop_event.is_set():
            key = f"t{self.tid:02d}/k{self.rng.randrange(KEYS_PER_THREAD):02d}"
            roll = self.rng.random()
            try:
                if roll < P_DELETE:
                    self.delete(key)
                elif roll < P_DELETE + P_MULTIPART:
                    self.multipart(key)
                else:
                    self.put(key, payload(self.rng.choice(SIZES)))
            except (BotoCoreError, ServerGone):
                return  # the server is gone: connection refused / reset / closed
            except (ClientError, AssertionError) as exc:
                self.manifest.http_errors.append(f"{key}: {exc}")
                return

    def put(self, key: str, body: bytes):
        state = State.of(body)
        self.manifest.begin(key, state)
        resp = answered(self.client.put_object(Bucket=BUCKET, Key=key, Body=body))
        self.manifest.ack(key, state)
        assert resp.get("ETag") == state.etag, f"PUT answered {resp}, expected ETag {state.etag}"
        self.ops["put"] += 1

    def delete(self, key: str):
        self.manifest.begin(key, ABSENT)
        answered(self.client.delete_object(Bucket=BUCKET, Key=key))
        self.manifest.ack(key, ABSENT)
        self.ops["delete"] += 1

    def multipart(self, key: str):
        parts = [payload(PART), payload(PART), payload(self.rng.randrange(1, 100 * KiB))]
        upload_id = self.client.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        etags = [
            self.client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=n, Body=body)["ETag"]
            for n, body in enumerate(parts, 1)
        ]
        state = State.of(b"".join(parts), quoted(multipart_etag(parts)))
        self.manifest.begin(key, state)  # visible no earlier than here
        answered(self.client.complete_multipart_upload(
            Bucket=BUCKET, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
        ))  # fmt: skip
        self.manifest.ack(key, state)
        self.ops["multipart"] += 1


def read_state(client, key: str) -> State:
    try:
        resp = client.get_object(Bucket=BUCKET, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchKey":
            return ABSENT
        raise
    body = resp["Body"].read()
    assert len(body) == resp["ContentLength"], f"{key}: short body"
    return State.of(body, resp["ETag"])


def listed_keys(client) -> set[str]:
    keys = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


def verify(client, manifest: Manifest) -> list[str]:
    """Check every key against its allowed states; return one line per violation."""
    keys = sorted(manifest.allowed)
    with ThreadPoolExecutor(8) as pool:
        observed = dict(zip(keys, pool.map(lambda k: read_state(client, k), keys)))
    problems = []
    for key in keys:
        allowed = manifest.allowed[key]
        if observed[key] not in allowed:
            problems.append(f"{key}: holds {observed[key]}; allowed: {', '.join(map(str, allowed))}")
        manifest.settle(key, observed[key])
    present = {k for k, s in observed.items() if s.sha256 is not None}
    listed = listed_keys(client)
    problems += [f"{k}: listed but GET says absent" for k in sorted(listed - present)]
    problems += [f"{k}: readable but not listed" for k in sorted(present - listed)]
    return problems


@dataclass(frozen=True)
class Known:
    """A version or delete marker the server must keep: its id, and its content's MD5 and
    size (`md5` None: a delete marker)."""

    version_id: str
    md5: str | None
    size: int = 0


class VersionLog:
    """Per key of the versioned bucket: the versions that must be there (newest first), the
    creations in flight at a kill (their id unknown: MD5 of the body, None for a marker) and
    the versions whose deletion by id was in flight."""

    def __init__(self):
        self._lock = threading.Lock()
        self.present: dict[str, list[Known]] = {}
        self.creating: dict[str, list[str | None]] = {}
        self.deleting: dict[str, set[str]] = {}
        self.read_back: set[str] = set()  # version ids whose bytes were checked
        self.acked = Counter()

    def begin_create(self, key: str, md5: str | None):
        with self._lock:
            self.creating.setdefault(key, []).append(md5)

    def ack_create(self, key: str, known: Known):
        with self._lock:
            self.creating[key].remove(known.md5)
            self.present.setdefault(key, []).insert(0, known)
            self.acked["marker" if known.md5 is None else "version"] += 1

    def begin_delete(self, key: str, version_id: str):
        with self._lock:
            self.deleting.setdefault(key, set()).add(version_id)

    def ack_delete(self, key: str, version_id: str):
        with self._lock:
            self.deleting[key].discard(version_id)
            self.present[key] = [v for v in self.present[key] if v.version_id != version_id]
            self.acked["deleted version"] += 1

    def pick(self, key: str, rng: random.Random) -> str | None:
        with self._lock:
            versions = self.present.get(key, [])
            return rng.choice(versions).version_id if versions else None


class VersionedWriter(threading.Thread):
    """One client thread of the versioned bucket; owns keys v<id>/k<n>."""

    def __init__(self, tid: int, client, log: VersionLog, errors: list, stop: threading.Event, rng: random.Random):
        super().__init__(daemon=True, name=f"versioned-writer-{tid}")
        self.tid, self.client, self.log, self.errors = tid, client, log, errors
        self.stop_event, self.rng = stop, rng

    def run(self):
        while not self.stop_event.is_set():
            key = f"v{self.tid:02d}/k{self.rng.randrange(VERSIONED_KEYS_PER_THREAD)}"
            roll = self.rng.random()
            try:
                if roll < P_MARKER:
                    self.delete_marker(key)
                elif roll < P_MARKER + P_DELETE_VERSION and self.log.pick(key, self.rng):
                    self.delete_version(key, self.log.pick(key, self.rng))
                else:
                    self.put(key, payload(self.rng.choice(VERSIONED_SIZES)))
            except (BotoCoreError, ServerGone):
                return
            except (ClientError, AssertionError) as exc:
                self.errors.append(f"{key}: {exc}")
                return

    def put(self, key: str, body: bytes):
        md5 = md5_hex(body)
        self.log.begin_create(key, md5)
        resp = answered(self.client.put_object(Bucket=VERSIONED_BUCKET, Key=key, Body=body))
        assert resp.get("ETag") == quoted(md5) and resp.get("VersionId"), f"PUT answered {resp}"
        self.log.ack_create(key, Known(resp["VersionId"], md5, len(body)))

    def delete_marker(self, key: str):
        self.log.begin_create(key, None)
        resp = answered(self.client.delete_object(Bucket=VERSIONED_BUCKET, Key=key))
        assert resp.get("DeleteMarker") and resp.get("VersionId"), f"DELETE answered {resp}"
        self.log.ack_create(key, Known(resp["VersionId"], None))

    def delete_version(self, key: str, version_id: str):
        self.log.begin_delete(key, version_id)
        resp = answered(self.client.delete_object(Bucket=VERSIONED_BUCKET, Key=key, VersionId=version_id))
        assert resp.get("VersionId") == version_id, f"DELETE of {version_id} answered {resp}"
        self.log.ack_delete(key, version_id)


def listed_versions(client) -> dict[str, list[tuple[str, bool, str | None, bool]]]:
    """Per key, (version id, is marker, ETag, is latest) in the server's order: boto3 splits
    versions from markers, so the entries come from the raw XML."""
    captured = []

    def keep(http_response, **_):
        captured.append(http_response.content)

    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    client.meta.events.register("after-call.s3.ListObjectVersions", keep)
    try:
        for _ in client.get_paginator("list_object_versions").paginate(
            Bucket=VERSIONED_BUCKET, PaginationConfig={"PageSize": 200}
        ):
            pass
    finally:
        client.meta.events.unregister("after-call.s3.ListObjectVersions", keep)
    keys: dict[str, list] = {}
    for body in captured:
        for element in ElementTree.fromstring(body):
            if element.tag in (ns + "Version", ns + "DeleteMarker"):
                keys.setdefault(element.findtext(ns + "Key"), []).append((
                    element.findtext(ns + "VersionId"),
                    element.tag == ns + "DeleteMarker",
                    element.findtext(ns + "ETag"),
                    element.findtext(ns + "IsLatest") == "true",
                ))  # fmt: skip
    return keys


def read_version_md5(client, key: str, version_id: str) -> tuple[str, int]:
    resp = client.get_object(Bucket=VERSIONED_BUCKET, Key=key, VersionId=version_id)
    body = resp["Body"].read()
    assert resp.get("VersionId") == version_id, f"{key}: GET of {version_id} answered {resp.get('VersionId')}"
    return md5_hex(body), len(body)


def check_key_versions(key: str, listed: list, log: VersionLog) -> tuple[list[str], list[Known]]:
    """The key's listing against the log; returns (violations, the key's versions now)."""
    problems = []
    present = log.present.get(key, [])
    creating = list(log.creating.get(key, []))
    deleting = log.deleting.get(key, set())
    listed_ids = [entry[0] for entry in listed]
    for known in present:
        if known.version_id not in listed_ids and known.version_id not in deleting:
            kind = "delete marker" if known.md5 is None else "version"
            problems.append(f"{key}: acknowledged {kind} {known.version_id} is missing")
    expected_order = [k.version_id for k in present if k.version_id in listed_ids]
    acked_order = [vid for vid in listed_ids if vid in {k.version_id for k in present}]
    if acked_order != expected_order:
        problems.append(f"{key}: versions listed {acked_order}, acknowledged newest first {expected_order}")
    if listed and not listed[0][3] or any(entry[3] for entry in listed[1:]):
        problems.append(f"{key}: IsLatest is not exactly the first entry: {listed}")
    by_id = {k.version_id: k for k in present}
    now = []
    for version_id, marker, etag, _ in listed:
        if version_id in by_id:
            known = by_id[version_id]
            if (known.md5 is None) != marker or (not marker and etag != quoted(known.md5)):
                problems.append(f"{key}: {version_id} listed as marker={marker} ETag={etag}, acked {known}")
            now.append(known)
            continue
        md5 = None if marker else (etag or "").strip('"')
        if md5 not in creating:
            problems.append(f"{key}: unacknowledged {version_id} (marker={marker}, ETag={etag}) was never in flight")
            continue
        creating.remove(md5)
        now.append(Known(version_id, md5))
    return problems, now


def verify_versions(client, log: VersionLog) -> list[str]:
    """Check the versioned bucket against the log, read back every version not read yet, and
    settle the log to what the server holds."""
    listed = listed_versions(client)
    problems = []
    settled = {}
    for key in sorted(set(log.present) | set(log.creating) | set(listed)):
        found, now = check_key_versions(key, listed.get(key, []), log)
        problems += found
        settled[key] = now
    unread = [(key, k) for key, versions in settled.items() for k in versions]
    unread = [(key, k) for key, k in unread if k.md5 is not None and k.version_id not in log.read_back]
    with ThreadPoolExecutor(8) as pool:
        read = pool.map(lambda item: read_version_md5(client, item[0], item[1].version_id), unread)
        for (key, known), (md5, size) in zip(unread, read):
            if md5 != known.md5:
                problems.append(f"{key}: version {known.version_id} reads back with MD5 {md5}, acked {known.md5}")
            log.read_back.add(known.version_id)
            if known.size == 0 and size:
                settled[key] = [Known(k.version_id, k.md5, size) if k == known else k for k in settled[key]]
    log.present = {key: versions for key, versions in settled.items() if versions}
    log.creating.clear()
    log.deleting.clear()
    latest_data = {key for key, versions in log.present.items() if versions[0].md5 is not None}
    listed_keys_now = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=VERSIONED_BUCKET):
        listed_keys_now.update(o["Key"] for o in page.get("Contents", []))
    problems += [f"{k}: listed by LIST but its latest is a marker" for k in sorted(listed_keys_now - latest_data)]
    problems += [f"{k}: latest is a version but LIST misses it" for k in sorted(latest_data - listed_keys_now)]
    return problems



@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_sigkill_loses_no_acked_write(server_factory, capsys):
    def report(line: str):
        with capsys.disabled():
            print(line, flush=True)

    rng = random.Random(SEED)
    report(f"\ncrash test: seed={SEED} rounds={ROUNDS} threads={THREADS}")
    server = server_factory.create("maxiofs-crash")
    server.start()
    admin = make_client(server.endpoint)
    admin.create_bucket(Bucket=BUCKET)
    admin.create_bucket(Bucket=VERSIONED_BUCKET)
    admin.put_bucket_versioning(Bucket=VERSIONED_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    manifest = Manifest()
    log = VersionLog()
    problems: list[str] = []
    restart_times = []
    ops = Counter()

    for round_no in range(1, ROUNDS + 1):
        stop = threading.Event()
        writers = [
            Writer(t, make_client(server.endpoint), manifest, stop, random.Random(rng.random())) for t in range(THREADS)
        ] + [
            VersionedWriter(
                t, make_client(server.endpoint), log, manifest.http_errors, stop, random.Random(rng.random())
            )
            for t in range(VERSIONED_THREADS)
        ]
        for w in writers:
            w.start()
        delay = rng.uniform(1.0, 4.0)
        time.sleep(delay)
        server.kill()
        stop.set()
        for w in writers:
            w.join(120)
            assert not w.is_alive(), f"{w.name} hung after the kill"
            ops.update(getattr(w, "ops", {}))

        restart_times.append(server.start())
        found = verify(make_client(server.endpoint), manifest)
        found += verify_versions(make_client(server.endpoint), log)
        problems += [f"round {round_no}: {p}" for p in found]
        report(
            f"  round {round_no}: killed after {delay:.2f}s, restart {restart_times[-1]:.2f}s, "
            f"acked so far {manifest.acked} + versioned {dict(log.acked)}, violations {len(found)}"
        )

    live = sum(next(iter(s)).size for s in manifest.allowed.values())
    live += sum(k.size for versions in log.present.values() for k in versions)
    disk = allocated_bytes(server.data_dir)
    assert server.stop() == 0, "server did not exit cleanly after crash recovery"
    verified = run_verify(server.data_dir)
    recovered = [line for line in server.stderr_path.read_text(errors="replace").splitlines() if "recovered " in line]
    report(
        f"crash test summary: kills={ROUNDS} objects acked={manifest.acked} ({dict(ops)}) "
        f"versioned acked={dict(log.acked)} versions held={sum(map(len, log.present.values()))} "
        f"objects lost={len(problems)} max restart={max(restart_times):.2f}s "
        f"live bytes={live} data dir allocated bytes={disk}\n"
        f"  last recovery: {recovered[-1].split('maxiofs: ')[-1] if recovered else '?'}\n"
        f"  verify: {verified.stdout.strip().splitlines()[-1] if verified.stdout.strip() else verified.stderr}"
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert not manifest.http_errors, "unexpected S3 errors under load:\n" + "\n".join(manifest.http_errors[:20])
    assert not problems, f"{len(problems)} violations:\n" + "\n".join(problems[:50])

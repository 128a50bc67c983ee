"""RELIABILITY-GOALS.md T1, short CI version: SIGKILL under write load, restart, verify.

Each round, 16 client threads write (PUTs of several sizes, 3-part multipart uploads,
overwrites, deletes) while the server is SIGKILLed at a random moment 1-4 s in. Every
thread owns its keys, so the manifest knows, per key, the set of states it may be in:
exactly the last acknowledged state, plus the state of an operation that was in flight
at the kill (old or new, never partial). After the restart every key is read back and
must be in one of its allowed states, and LIST must agree with the GETs.

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
    make_client(server.endpoint).create_bucket(Bucket=BUCKET)
    manifest = Manifest()
    problems: list[str] = []
    restart_times = []
    ops = Counter()

    for round_no in range(1, ROUNDS + 1):
        stop = threading.Event()
        writers = [
            Writer(t, make_client(server.endpoint), manifest, stop, random.Random(rng.random())) for t in range(THREADS)
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
            ops.update(w.ops)

        restart_times.append(server.start())
        found = verify(make_client(server.endpoint), manifest)
        problems += [f"round {round_no}: {p}" for p in found]
        report(
            f"  round {round_no}: killed after {delay:.2f}s, restart {restart_times[-1]:.2f}s, "
            f"acked so far {manifest.acked}, violations {len(found)}"
        )

    live = sum(next(iter(s)).size for s in manifest.allowed.values())
    disk = allocated_bytes(server.data_dir)
    assert server.stop() == 0, "server did not exit cleanly after crash recovery"
    verified = run_verify(server.data_dir)
    recovered = [line for line in server.stderr_path.read_text(errors="replace").splitlines() if "recovered " in line]
    report(
        f"crash test summary: kills={ROUNDS} objects acked={manifest.acked} ({dict(ops)}) "
        f"objects lost={len(problems)} max restart={max(restart_times):.2f}s "
        f"live bytes={live} data dir allocated bytes={disk}\n"
        f"  last recovery: {recovered[-1].split('maxiofs: ')[-1] if recovered else '?'}\n"
        f"  verify: {verified.stdout.strip().splitlines()[-1] if verified.stdout.strip() else verified.stderr}"
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert not manifest.http_errors, "unexpected S3 errors under load:\n" + "\n".join(manifest.http_errors[:20])
    assert not problems, f"{len(problems)} violations:\n" + "\n".join(problems[:50])

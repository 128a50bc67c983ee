"""Space reclamation: the space of deleted objects, overwritten objects and aborted uploads goes
back to the file system (hole punching after the commit that freed it), while other clients
keep reading and writing, and the data dir still verifies afterwards.

Measured as the data dir's allocated bytes (st_blocks), segments only: after the frees, what
the segments hold may exceed the live data by at most the preallocated tail of each
partition's active segment (one 64 MiB step per partition).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import make_client
from s3util import KiB, MiB, payload
from storage_util import allocated_bytes, run_verify

pytestmark = [pytest.mark.binary, pytest.mark.slow]

BUCKET = "reclaim"
VICTIMS = 60
VICTIM_BYTES = 4 * MiB
UPLOADS = 4
PREALLOCATION_STEP = 64 * MiB
# Punches run on the partition worker after the commit that freed the space: give them time.
SETTLE_SECONDS = 30


def segments_allocated(data_dir) -> int:
    return sum(allocated_bytes(path) for path in (data_dir / "partitions").glob("*/segments"))


class Background(threading.Thread):
    """Small PUTs and GETs on keys of their own while the frees happen; checks every read."""

    def __init__(self, client, tid: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.client, self.tid, self.stop_event = client, tid, stop
        self.bodies: dict[str, bytes] = {}
        self.errors: list[str] = []

    def run(self):
        n = 0
        while not self.stop_event.is_set() and n < 200:
            key = f"bg{self.tid}/{n % 20}"
            body = payload(4 * KiB + n)
            try:
                self.client.put_object(Bucket=BUCKET, Key=key, Body=body)
                self.bodies[key] = body
                got = self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                if got != body:
                    self.errors.append(f"{key}: wrong bytes")
            except Exception as exc:  # noqa: BLE001 - any failure is a test failure, reported below
                self.errors.append(f"{key}: {exc}")
            n += 1


def test_deletes_overwrites_and_aborts_give_space_back_under_traffic(server_factory):
    server = server_factory.create(name="reclaim")
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket=BUCKET)
    keeper = payload(3 * MiB)
    s3.put_object(Bucket=BUCKET, Key="keeper", Body=keeper)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket=BUCKET, Key=f"v{i}", Body=payload(VICTIM_BYTES)), range(VICTIMS)))
    uploads = []
    for index in range(UPLOADS):
        key = f"upload{index}"
        upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        for number in (1, 2):
            s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=payload(5 * MiB))
        uploads.append((key, upload_id))
    before = segments_allocated(server.data_dir)
    written = VICTIMS * VICTIM_BYTES + UPLOADS * 10 * MiB
    assert before >= written, f"only {before} bytes allocated for {written} written"

    stop = threading.Event()
    background = [Background(make_client(server.endpoint), tid, stop) for tid in range(3)]
    for thread in background:
        thread.start()
    small = payload(KiB)

    def free(index: int):
        if index % 2:
            s3.delete_object(Bucket=BUCKET, Key=f"v{index}")
        else:
            s3.put_object(Bucket=BUCKET, Key=f"v{index}", Body=small)  # overwrite

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(free, range(VICTIMS)))
        list(pool.map(lambda u: s3.abort_multipart_upload(Bucket=BUCKET, Key=u[0], UploadId=u[1]), uploads))
    stop.set()
    for thread in background:
        thread.join(120)
        assert not thread.errors, thread.errors[:5]

    partitions = len(list((server.data_dir / "partitions").iterdir()))
    live = len(keeper) + (VICTIMS // 2) * 4 * KiB + sum(
        len(body) for thread in background for body in thread.bodies.values()
    ) * 2  # each small object occupies at least one 4 KiB block
    bound = live + partitions * PREALLOCATION_STEP
    deadline = time.monotonic() + SETTLE_SECONDS
    while (after := segments_allocated(server.data_dir)) > bound:
        assert time.monotonic() < deadline, f"segments hold {after} bytes, bound {bound} (before {before})"
        time.sleep(0.2)
    print(f"\nreclaim: segments held {before} bytes, {after} after freeing {written} (live {live})")

    assert s3.get_object(Bucket=BUCKET, Key="keeper")["Body"].read() == keeper
    for index in range(0, VICTIMS, 2):
        assert s3.get_object(Bucket=BUCKET, Key=f"v{index}")["Body"].read() == small
    for thread in background:
        for key, body in thread.bodies.items():
            assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
    assert server.stop() == 0
    report = run_verify(server.data_dir)
    assert report.returncode == 0, report.stdout + report.stderr

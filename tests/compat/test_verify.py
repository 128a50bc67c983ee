"""`maxiofs verify --data-dir DIR`: offline check of a stopped data directory.

Clean after real traffic (puts, overwrites, deletes, multipart, an upload left open); refuses
while a server holds the directory; finds a flipped byte, a truncated segment and a corrupt
metadata row; refuses a directory that is not a data directory.
"""

from __future__ import annotations

import sqlite3

import pytest

from harness import make_client
from s3util import KiB, MiB, payload
from storage_util import extents_of, flip_byte, run_verify

pytestmark = pytest.mark.binary

BUCKET = "checked"


@pytest.fixture
def populated(server_factory):
    server = server_factory.create(name="verified")
    server.start()
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket=BUCKET)
    for index, size in enumerate([0, 1, 4095, 64 * KiB, 64 * KiB + 1, MiB + 7]):
        s3.put_object(Bucket=BUCKET, Key=f"k{index}", Body=payload(size))
    s3.put_object(Bucket=BUCKET, Key="k1", Body=payload(100 * KiB))  # overwrite
    s3.delete_object(Bucket=BUCKET, Key="k2")
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="multi")["UploadId"]
    etags = [
        s3.upload_part(Bucket=BUCKET, Key="multi", UploadId=upload, PartNumber=n, Body=payload(size))["ETag"]
        for n, size in [(1, 5 * MiB), (2, 3 * KiB)]
    ]
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="multi", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )  # fmt: skip
    open_upload = s3.create_multipart_upload(Bucket=BUCKET, Key="pending")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="pending", UploadId=open_upload, PartNumber=1, Body=payload(KiB))
    yield server


def test_clean_dir_verifies_and_a_running_server_is_refused(populated):
    running = run_verify(populated.data_dir)
    assert running.returncode == 2, running.stdout + running.stderr
    assert "in use" in running.stderr
    assert populated.stop() == 0
    clean = run_verify(populated.data_dir)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert " 6 objects, 1 parts," in clean.stdout, clean.stdout
    assert " 0 problems" in clean.stdout


def test_damage_is_reported(populated):
    assert populated.stop() == 0
    flip_byte(populated.data_dir, BUCKET, "k5", MiB)
    partition, extents = extents_of(populated.data_dir, BUCKET, "multi")
    segment_id, offset, length = extents[-1]
    # Corrupt the record of another object: its extents blob loses its last byte.
    victim_partition, _ = extents_of(populated.data_dir, BUCKET, "k4")
    with sqlite3.connect(victim_partition / "meta.sqlite") as connection:
        connection.execute(
            "UPDATE objects SET extents = substr(extents, 1, length(extents) - 1) WHERE key = ?", (b"k4",)
        )
    # Truncate the segment under the multipart object's last part.
    segment = partition / "segments" / f"{segment_id:08}.seg"
    with open(segment, "r+b") as file:
        file.truncate(offset)
    report = run_verify(populated.data_dir)
    assert report.returncode == 1, report.stdout + report.stderr
    assert f"object {BUCKET}/k5: block at segment" in report.stdout, report.stdout
    assert f"object {BUCKET}/k4: corrupt extents record" in report.stdout, report.stdout
    assert f"object {BUCKET}/multi: extent" in report.stdout and "ends past its segment" in report.stdout
    assert length > 0


def test_not_a_data_dir(tmp_path):
    report = run_verify(tmp_path)
    assert report.returncode == 2
    assert "not a maxiofs data directory" in report.stderr

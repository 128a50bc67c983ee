"""Security issue 14, finding 9: multipart uploads cannot grow a tenant past its quota.

The review stored 17.6 MiB of parts under a 1 MiB quota, and uploads that were never
completed lived for ever. Now the parts of uploads in progress count toward the tenant's
storage (an UploadPart or PutObject that would exceed it is refused), a tenant may have only
`multipart.max_open_uploads_per_tenant` uploads in progress, and uploads older than
`multipart.abort_incomplete_after_secs` are aborted by the server, their space reclaimed.
"""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from control_client import ControlClient
from s3util import MiB, error_of, expect_error, payload
from test_control_channel import World, eventually_accepted


def upload_parts_until_refused(client, bucket: str, key: str, upload_id: str, part_bytes: int,
                               limit: int = 40) -> tuple[int, ClientError | None]:
    """Uploads parts (pausing so usage travels between shards) until one is refused."""
    for number in range(1, limit + 1):
        try:
            client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                               Body=payload(part_bytes))
        except ClientError as exc:
            return number - 1, exc
        time.sleep(0.3)
    return limit, None


def test_parts_count_toward_the_storage_quota(server_factory):
    server = server_factory.create()
    server.start()
    with ControlClient(server.data_dir) as control:
        world = World(server, control, quotas={"acme": {"max_storage_bytes": 4 * MiB}})
        alice = world.client("alice")
        alice.create_bucket(Bucket="parts-quota")
        upload = alice.create_multipart_upload(Bucket="parts-quota", Key="mp")["UploadId"]
        stored, refused = upload_parts_until_refused(alice, "parts-quota", "mp", upload, MiB)
        assert refused is not None, f"{stored} MiB of parts stored under a 4 MiB quota"
        assert error_of(refused) == (403, "QuotaExceeded")
        # The lag is bounded: a couple of parts while usage travels between shards.
        assert 4 <= stored <= 8, stored
        # The parts fill the quota for plain writes too.
        expect_error(alice.put_object, 403, "QuotaExceeded", Bucket="parts-quota", Key="k",
                     Body=payload(MiB))
        # Aborting gives the room back.
        alice.abort_multipart_upload(Bucket="parts-quota", Key="mp", UploadId=upload)
        eventually_accepted(alice.put_object, "aborting never released the parts' bytes",
                            Bucket="parts-quota", Key="k", Body=payload(2 * MiB))


def test_completed_upload_is_counted_once(server_factory):
    server = server_factory.create()
    server.start()
    with ControlClient(server.data_dir) as control:
        world = World(server, control, quotas={"acme": {"max_storage_bytes": 14 * MiB}})
        alice = world.client("alice")
        alice.create_bucket(Bucket="once")
        upload = alice.create_multipart_upload(Bucket="once", Key="mp")["UploadId"]
        parts = []
        for number in (1, 2):
            etag = alice.upload_part(Bucket="once", Key="mp", UploadId=upload, PartNumber=number,
                                     Body=payload(5 * MiB))["ETag"]
            parts.append({"PartNumber": number, "ETag": etag})
        time.sleep(2.0)  # usage has travelled: 10 MiB of parts known everywhere
        alice.complete_multipart_upload(Bucket="once", Key="mp", UploadId=upload,
                                        MultipartUpload={"Parts": parts})
        time.sleep(2.0)
        # 10 MiB stored, not 20: 3 MiB more fits, 5 MiB more does not.
        alice.put_object(Bucket="once", Key="small", Body=payload(3 * MiB))
        expect_error(alice.put_object, 403, "QuotaExceeded", Bucket="once", Key="big", Body=payload(5 * MiB))


def test_open_uploads_per_tenant_are_capped(server_factory):
    server = server_factory.create()
    server.start()
    with ControlClient(server.data_dir) as control:
        world = World(server, control)
        control.put_settings(1, {"multipart.max_open_uploads_per_tenant": "3"})
        alice = world.client("alice")
        alice.create_bucket(Bucket="capped")
        uploads = []
        for number in range(3):
            uploads.append(alice.create_multipart_upload(Bucket="capped", Key=f"k{number}")["UploadId"])
            time.sleep(0.6)  # the count travels between shards like the byte totals
        error = expect_error(alice.create_multipart_upload, 403, "QuotaExceeded", Bucket="capped", Key="k9")
        assert "multipart uploads in progress" in error.response["Error"]["Message"]
        # Another tenant is not affected; finishing one frees a slot.
        world.client("bob").create_bucket(Bucket="capped-other")
        world.client("bob").create_multipart_upload(Bucket="capped-other", Key="k")
        alice.abort_multipart_upload(Bucket="capped", Key="k0", UploadId=uploads[0])
        eventually_accepted(alice.create_multipart_upload, "aborting never freed an upload slot",
                            Bucket="capped", Key="k9")


def test_abandoned_uploads_are_aborted_after_the_expiry_age(server_factory):
    server = server_factory.create()
    server.start()
    with ControlClient(server.data_dir) as control:
        world = World(server, control, quotas={"acme": {"max_storage_bytes": 8 * MiB}})
        alice = world.client("alice")
        alice.create_bucket(Bucket="stale")
        keys = [f"stale-{number}" for number in range(6)]  # spread over both shards
        for key in keys:
            upload = alice.create_multipart_upload(Bucket="stale", Key=key)["UploadId"]
            alice.upload_part(Bucket="stale", Key=key, UploadId=upload, PartNumber=1, Body=payload(MiB))
        control.put_settings(1, {"multipart.abort_incomplete_after_secs": "2"})
        deadline = time.monotonic() + 20
        while alice.list_multipart_uploads(Bucket="stale").get("Uploads"):
            assert time.monotonic() < deadline, "abandoned uploads were never aborted"
            time.sleep(0.3)
        # Their parts' bytes are free again: 7 MiB fits under the 8 MiB quota.
        eventually_accepted(alice.put_object, "expired parts still counted",
                            Bucket="stale", Key="after", Body=payload(7 * MiB))
        # A fresh upload is not cut short: it lives for the whole age.
        control.put_settings(2, {"multipart.abort_incomplete_after_secs": "600"})
        upload = alice.create_multipart_upload(Bucket="stale", Key="fresh")["UploadId"]
        time.sleep(1.5)
        assert alice.list_parts(Bucket="stale", Key="fresh", UploadId=upload)["ResponseMetadata"]["HTTPStatusCode"] == 200

"""Object lock through boto3 against the real binary: buckets created with object lock, the
default retention, retention and legal hold per version, and every path that would destroy a
protected version refusing it (root included, for COMPLIANCE and legal holds)."""

from __future__ import annotations

import datetime
import time

import pytest

from harness import empty_and_delete_bucket, unique_bucket_name
from s3util import expect_error, md5_b64, raw_request
from test_control_channel import world  # noqa: F401  (the fixture)


def in_seconds(seconds: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


@pytest.fixture
def locked(s3, request):
    name = unique_bucket_name(request.node.originalname)
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    yield name
    empty_and_delete_bucket(s3, name)


def put(s3, bucket, key, body=b"data", **kwargs) -> str:
    return s3.put_object(Bucket=bucket, Key=key, Body=body, ContentMD5=md5_b64(body), **kwargs)["VersionId"]


def test_object_lock_at_creation_enables_versioning_for_good(s3, locked):
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    config = s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]
    assert config == {"ObjectLockEnabled": "Enabled"}
    head = s3.head_bucket(Bucket=locked)["ResponseMetadata"]["HTTPHeaders"]
    assert head["x-amz-bucket-object-lock-enabled"] == "true"
    expect_error(
        s3.put_bucket_versioning, 409, "InvalidBucketState", Bucket=locked, VersioningConfiguration={"Status": "Suspended"}
    )
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"


def test_lock_configuration_needs_versioning_and_lock_headers_need_a_lock(s3, bucket):
    expect_error(s3.get_object_lock_configuration, 404, "ObjectLockConfigurationNotFoundError", Bucket=bucket)
    config = {"ObjectLockEnabled": "Enabled"}
    expect_error(s3.put_object_lock_configuration, 409, "InvalidBucketState", Bucket=bucket, ObjectLockConfiguration=config)
    expect_error(
        s3.put_object, 400, "InvalidRequest", Bucket=bucket, Key="k", Body=b"x", ContentMD5=md5_b64(b"x"),
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_seconds(3600),
    )
    expect_error(s3.put_object, 400, "InvalidRequest", Bucket=bucket, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    expect_error(s3.get_object_retention, 400, "InvalidRequest", Bucket=bucket, Key="k")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    # On a versioned bucket object lock can be turned on afterwards.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == config


def test_default_retention_applies_to_new_versions(s3, locked):
    s3.put_object_lock_configuration(
        Bucket=locked,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    got = s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]
    assert got["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 1}
    version = put(s3, locked, "k")
    head = s3.head_object(Bucket=locked, Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    until = head["ObjectLockRetainUntilDate"]
    assert in_seconds(86400 - 120) < until < in_seconds(86400 + 120)
    retention = s3.get_object_retention(Bucket=locked, Key="k", VersionId=version)["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    # Multipart and copy get it too.
    upload = s3.create_multipart_upload(Bucket=locked, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=locked, Key="mp", UploadId=upload, PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(
        Bucket=locked, Key="mp", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    )
    assert s3.head_object(Bucket=locked, Key="mp")["ObjectLockMode"] == "GOVERNANCE"
    s3.copy_object(Bucket=locked, Key="copy", CopySource={"Bucket": locked, "Key": "k"})
    assert s3.head_object(Bucket=locked, Key="copy")["ObjectLockMode"] == "GOVERNANCE"


def test_governance_retention_blocks_deletes_unless_bypassed(s3, locked):
    version = put(s3, locked, "k", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_seconds(3600))
    expect_error(s3.delete_object, 403, "AccessDenied", Bucket=locked, Key="k", VersionId=version)
    response = s3.delete_objects(Bucket=locked, Delete={"Objects": [{"Key": "k", "VersionId": version}]})
    assert response["Errors"][0]["Code"] == "AccessDenied"
    expect_error(s3.delete_bucket, 409, "BucketNotEmpty", Bucket=locked)
    # A plain delete only writes a marker: allowed, the version stays.
    assert s3.delete_object(Bucket=locked, Key="k")["DeleteMarker"] is True
    assert s3.get_object(Bucket=locked, Key="k", VersionId=version)["Body"].read() == b"data"
    # Shortening needs the bypass; extending does not.
    expect_error(
        s3.put_object_retention, 403, "AccessDenied", Bucket=locked, Key="k", VersionId=version,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_seconds(60)},
    )
    s3.put_object_retention(
        Bucket=locked, Key="k", VersionId=version, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_seconds(7200)}
    )
    s3.put_object_retention(
        Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_seconds(60)},
    )
    s3.delete_object(Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True)
    expect_error(s3.get_object, 404, "NoSuchVersion", Bucket=locked, Key="k", VersionId=version)


def test_compliance_retention_binds_root_too(s3, locked):
    version = put(s3, locked, "k", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=in_seconds(4))
    for bypass in (False, True):
        expect_error(
            s3.delete_object, 403, "AccessDenied", Bucket=locked, Key="k", VersionId=version,
            BypassGovernanceRetention=bypass,
        )
        expect_error(
            s3.put_object_retention, 403, "AccessDenied", Bucket=locked, Key="k", VersionId=version,
            BypassGovernanceRetention=bypass, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_seconds(5)},
        )
    expect_error(
        s3.put_object_retention, 403, "AccessDenied", Bucket=locked, Key="k", VersionId=version,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": in_seconds(2)},
    )
    # Extending is allowed.
    s3.put_object_retention(
        Bucket=locked, Key="k", VersionId=version, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": in_seconds(5)}
    )
    retention = s3.get_object_retention(Bucket=locked, Key="k", VersionId=version)["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    time.sleep(5.5)
    s3.delete_object(Bucket=locked, Key="k", VersionId=version)


def test_legal_hold_blocks_deletes_until_released(s3, locked):
    version = put(s3, locked, "k", ObjectLockLegalHoldStatus="ON")
    assert s3.get_object_legal_hold(Bucket=locked, Key="k")["LegalHold"]["Status"] == "ON"
    assert s3.head_object(Bucket=locked, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    expect_error(
        s3.delete_object, 403, "AccessDenied", Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True
    )
    s3.put_object_legal_hold(Bucket=locked, Key="k", VersionId=version, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="k", VersionId=version)["LegalHold"]["Status"] == "OFF"
    s3.delete_object(Bucket=locked, Key="k", VersionId=version)


def test_bad_lock_input_changes_nothing(s3, locked, server):
    version = put(s3, locked, "k")
    expect_error(
        s3.put_object_retention, 400, "InvalidArgument", Bucket=locked, Key="k", VersionId=version,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_seconds(-3600)},
    )
    expect_error(
        s3.put_object, 400, "InvalidArgument", Bucket=locked, Key="past", Body=b"x", ContentMD5=md5_b64(b"x"),
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_seconds(-60),
    )
    expect_error(
        s3.put_object_lock_configuration, 400, "InvalidArgument", Bucket=locked,
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 0}}},
    )
    expect_error(
        s3.put_object_lock_configuration, 400, "MalformedXML", Bucket=locked,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}
        },
    )
    expect_error(
        s3.get_object_retention, 404, "NoSuchObjectLockConfiguration", Bucket=locked, Key="k", VersionId=version
    )
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    assert "ObjectLockMode" not in s3.head_object(Bucket=locked, Key="k")
    expect_error(s3.get_object, 404, "NoSuchKey", Bucket=locked, Key="past")


@pytest.mark.parametrize(
    ("subresource", "body", "code"),
    [
        ("legal-hold", b"<LegalHold><Status>MAYBE</Status></LegalHold>", "MalformedXML"),
        ("legal-hold", b"<LegalHold><Status>on</Status></LegalHold>", "MalformedXML"),
        ("retention", b"<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>tomorrow</RetainUntilDate></Retention>",
         "MalformedXML"),
        ("retention", b"<Retention><Mode>FOREVER</Mode><RetainUntilDate>2099-01-01T00:00:00Z</RetainUntilDate></Retention>",
         "MalformedXML"),
    ],
)  # fmt: skip
def test_malformed_lock_bodies(server, s3, locked, subresource, body, code):
    version = put(s3, locked, "k")
    response = raw_request(
        server, "PUT", f"/{locked}/k", query={subresource: "", "versionId": version}, body=body,
        headers={"Content-MD5": md5_b64(body)},
    )
    assert (response.status, response.error_code()) == (400, code), response.body[:300]
    # Nothing was stored: a version that never had a legal hold has no configuration to show.
    expect_error(s3.get_object_legal_hold, 404, "NoSuchObjectLockConfiguration", Bucket=locked, Key="k")
    expect_error(s3.get_object_retention, 404, "NoSuchObjectLockConfiguration", Bucket=locked, Key="k")


@pytest.mark.binary
def test_plain_delete_in_a_locked_bucket_logs_a_marker_event(server_factory):
    from control_client import ControlClient
    from harness import make_client

    own = server_factory.create(name="lock-events")
    own.start()
    s3 = make_client(own.endpoint)
    s3.create_bucket(Bucket="evented", ObjectLockEnabledForBucket=True)
    version = put(s3, "evented", "k")
    marker = s3.delete_object(Bucket="evented", Key="k")["VersionId"]
    with ControlClient(own.data_dir) as control:
        events = [e for e in control.all_events() if e.get("key") == "k" and e["bucket"] == "evented"]
    assert [(e["kind"], e["version_id"]) for e in events] == [
        ("object_created", version),
        ("delete_marker_created", marker),
    ]


@pytest.mark.binary
def test_only_admins_may_bypass_governance(world):
    """BAD-INPUTS Z6: a user without the right who asks to bypass governance retention is
    refused, and nothing changes; root and global admins may."""
    from harness import make_client

    root = make_client(world.server.endpoint)
    root.create_bucket(Bucket="gov", ObjectLockEnabledForBucket=True)
    version = put(root, "gov", "k", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_seconds(3600))
    carol = world.client("carol")  # a global user, not an admin: reaches buckets of no tenant
    assert carol.get_object(Bucket="gov", Key="k")["Body"].read() == b"data"
    expect_error(
        carol.delete_object, 403, "AccessDenied", Bucket="gov", Key="k", VersionId=version,
        BypassGovernanceRetention=True,
    )
    expect_error(
        carol.put_object_retention, 403, "AccessDenied", Bucket="gov", Key="k", VersionId=version,
        BypassGovernanceRetention=True, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_seconds(60)},
    )
    retention = root.get_object_retention(Bucket="gov", Key="k", VersionId=version)["Retention"]
    assert retention["RetainUntilDate"] > in_seconds(3000)
    world.client("root2").delete_object(Bucket="gov", Key="k", VersionId=version, BypassGovernanceRetention=True)
    expect_error(root.get_object, 404, "NoSuchVersion", Bucket="gov", Key="k", VersionId=version)

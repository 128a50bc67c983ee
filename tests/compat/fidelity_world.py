"""The fixtures of the generated fidelity suites (test_fidelity_generated.py,
test_fidelity_members.py): a `World` of buckets and objects built on demand, and a successful
call of every served operation (`SUCCESS`)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from botocore.exceptions import ClientError

import fidelity_model as fm
from harness import empty_and_delete_bucket, unique_bucket_name
from s3util import MiB, payload

BODY = b"fidelity body\n"
FAR = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
NO_VERSION = "0" * 32  # well-formed (32 hex digits, docs/design/s3-compatibility.md), names nothing
LIFECYCLE = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 3}}]}
# A policy that changes nothing for the suites (it names an account no identity has), so the
# shared bucket keeps answering every other case the same whichever order they run in.
def policy(bucket: str) -> str:
    return (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"fidelity"},'
        f'"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}'
    )


CORS = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["https://example.com"]}]}
ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                "RestrictPublicBuckets": False}
ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


class World:
    """The fixtures one case needs, created on demand and removed afterwards: a bucket with an
    object (CRC32 checksum, tags, metadata), an upload in progress, a versioned bucket, an
    object-lock bucket whose object has retention and a legal hold."""

    def __init__(self, s3):
        self.s3 = s3
        self.buckets: list[str] = []
        self.locked_buckets: list[str] = []
        self.plain = self.new_bucket("fid")
        s3.put_object(
            Bucket=self.plain, Key="obj", Body=BODY, ChecksumAlgorithm="CRC32", Tagging="a=1", Metadata={"m": "v"}
        )
        self._upload = None
        self._versioned = None
        self._locked = None

    def new_bucket(self, hint: str, **kwargs) -> str:
        name = unique_bucket_name(hint)
        self.s3.create_bucket(Bucket=name, **kwargs)
        self.buckets.append(name)
        return name

    def upload(self) -> str:
        """An upload in progress on `plain`/"mp" with one 5 MiB part."""
        if self._upload is None:
            self._upload = self.s3.create_multipart_upload(Bucket=self.plain, Key="mp")["UploadId"]
            self.part = self.s3.upload_part(
                Bucket=self.plain, Key="mp", UploadId=self._upload, PartNumber=1, Body=payload(5 * MiB)
            )
        return self._upload

    def versioned(self) -> str:
        """A versioned bucket whose "obj" has two versions (`self.versions`, oldest first)."""
        if self._versioned is None:
            self._versioned = self.new_bucket("fidv")
            self.s3.put_bucket_versioning(Bucket=self._versioned, VersioningConfiguration={"Status": "Enabled"})
            self.versions = [
                self.s3.put_object(Bucket=self._versioned, Key="obj", Body=body)["VersionId"] for body in (b"1", b"2")
            ]
        return self._versioned

    def locked(self) -> str:
        """An object-lock bucket: "obj" under GOVERNANCE retention and a legal hold, "bare"
        with neither."""
        if self._locked is None:
            self._locked = self.new_bucket("fidl", ObjectLockEnabledForBucket=True)
            self.locked_buckets.append(self._locked)
            self.s3.put_object(
                Bucket=self._locked, Key="obj", Body=BODY, ObjectLockMode="GOVERNANCE",
                ObjectLockRetainUntilDate=FAR, ObjectLockLegalHoldStatus="ON",
            )  # fmt: skip
            self.s3.put_object(Bucket=self._locked, Key="bare", Body=BODY)
        return self._locked

    def cleanup(self):
        for name in self.locked_buckets:
            try:
                for version in self.s3.list_object_versions(Bucket=name).get("Versions", []):
                    self.s3.put_object_legal_hold(
                        Bucket=name, Key=version["Key"], VersionId=version["VersionId"], LegalHold={"Status": "OFF"}
                    )
            except ClientError:
                pass
        for name in self.buckets:
            try:
                for upload in self.s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
                    self.s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
            except ClientError:
                pass
            empty_and_delete_bucket(self.s3, name)


@pytest.fixture
def world(s3):
    w = World(s3)
    yield w
    w.cleanup()


def missing_bucket() -> str:
    return f"fid-missing-{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------------------
# successful calls: arguments per served operation
# ---------------------------------------------------------------------------


def _complete(w):
    upload = w.upload()
    return dict(
        Bucket=w.plain, Key="mp", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": w.part["ETag"]}]},
    )  # fmt: skip


# Each entry: world -> the call's arguments. The model's `fill_arguments` adds a minimal value
# for any required member an entry leaves out.
SUCCESS = {
    "ListBuckets": lambda w: {},
    "CreateBucket": lambda w: dict(Bucket=(w.buckets.append(name := unique_bucket_name("fidc")) or name)),
    "HeadBucket": lambda w: dict(Bucket=w.plain),
    "DeleteBucket": lambda w: dict(Bucket=w.new_bucket("fidd")),
    "GetBucketLocation": lambda w: dict(Bucket=w.plain),
    "GetBucketVersioning": lambda w: dict(Bucket=w.versioned()),
    "PutBucketVersioning": lambda w: dict(Bucket=w.plain, VersioningConfiguration={"Status": "Enabled"}),
    "PutObjectLockConfiguration": lambda w: dict(
        Bucket=w.locked(),
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
        },
    ),  # fmt: skip
    "GetObjectLockConfiguration": lambda w: dict(Bucket=w.locked()),
    "PutBucketLifecycleConfiguration": lambda w: dict(Bucket=w.plain, LifecycleConfiguration=LIFECYCLE),
    "GetBucketLifecycleConfiguration": lambda w: (
        w.s3.put_bucket_lifecycle_configuration(Bucket=w.plain, LifecycleConfiguration=LIFECYCLE) and dict(Bucket=w.plain)
    ),  # fmt: skip
    "DeleteBucketLifecycle": lambda w: dict(Bucket=w.plain),
    "PutObjectRetention": lambda w: dict(
        Bucket=w.locked(), Key="bare", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR}
    ),
    "GetObjectRetention": lambda w: dict(Bucket=w.locked(), Key="obj"),
    "PutObjectLegalHold": lambda w: dict(Bucket=w.locked(), Key="bare", LegalHold={"Status": "OFF"}),
    "GetObjectLegalHold": lambda w: dict(Bucket=w.locked(), Key="obj"),
    "ListObjectsV2": lambda w: dict(Bucket=w.plain),
    "ListObjects": lambda w: dict(Bucket=w.plain),
    "ListObjectVersions": lambda w: dict(Bucket=w.versioned()),
    "PutObject": lambda w: dict(Bucket=w.plain, Key="new", Body=BODY),
    "GetObject": lambda w: dict(Bucket=w.plain, Key="obj"),
    "HeadObject": lambda w: dict(Bucket=w.plain, Key="obj"),
    "DeleteObject": lambda w: dict(Bucket=w.plain, Key="obj"),
    "CopyObject": lambda w: dict(Bucket=w.plain, Key="copy", CopySource={"Bucket": w.plain, "Key": "obj"}),
    "UploadPartCopy": lambda w: dict(
        Bucket=w.plain, Key="mp", UploadId=w.upload(), PartNumber=2, CopySource={"Bucket": w.plain, "Key": "obj"}
    ),
    "DeleteObjects": lambda w: dict(Bucket=w.plain, Delete={"Objects": [{"Key": "obj"}, {"Key": "never-there"}]}),
    "CreateMultipartUpload": lambda w: dict(Bucket=w.plain, Key="mp2"),
    "UploadPart": lambda w: dict(Bucket=w.plain, Key="mp", UploadId=w.upload(), PartNumber=2, Body=BODY),
    "CompleteMultipartUpload": _complete,
    "AbortMultipartUpload": lambda w: dict(Bucket=w.plain, Key="mp", UploadId=w.upload()),
    "ListParts": lambda w: dict(Bucket=w.plain, Key="mp", UploadId=w.upload()),
    "ListMultipartUploads": lambda w: (w.upload() and dict(Bucket=w.plain)),
    "PutObjectTagging": lambda w: dict(Bucket=w.plain, Key="obj", Tagging={"TagSet": [{"Key": "b", "Value": "2"}]}),
    "GetObjectTagging": lambda w: dict(Bucket=w.plain, Key="obj"),
    "DeleteObjectTagging": lambda w: dict(Bucket=w.plain, Key="obj"),
    "PutBucketTagging": lambda w: dict(Bucket=w.plain, Tagging={"TagSet": [{"Key": "b", "Value": "2"}]}),
    "GetBucketTagging": lambda w: (
        w.s3.put_bucket_tagging(Bucket=w.plain, Tagging={"TagSet": [{"Key": "t", "Value": "1"}]}) and dict(Bucket=w.plain)
    ),  # fmt: skip
    "DeleteBucketTagging": lambda w: dict(Bucket=w.plain),
    "PutBucketEncryption": lambda w: dict(Bucket=w.plain, ServerSideEncryptionConfiguration=ENCRYPTION),
    "GetBucketEncryption": lambda w: (
        w.s3.put_bucket_encryption(Bucket=w.plain, ServerSideEncryptionConfiguration=ENCRYPTION) and dict(Bucket=w.plain)
    ),  # fmt: skip
    "DeleteBucketEncryption": lambda w: dict(Bucket=w.plain),
    "GetObjectAttributes": lambda w: dict(
        Bucket=w.plain, Key="obj", ObjectAttributes=["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
    ),
    "PutBucketCors": lambda w: dict(Bucket=w.plain, CORSConfiguration=CORS),
    "GetBucketCors": lambda w: (w.s3.put_bucket_cors(Bucket=w.plain, CORSConfiguration=CORS) and dict(Bucket=w.plain)),
    "DeleteBucketCors": lambda w: dict(Bucket=w.plain),
    "PutBucketPolicy": lambda w: dict(Bucket=w.plain, Policy=policy(w.plain)),
    "PutPublicAccessBlock": lambda w: dict(Bucket=w.plain, PublicAccessBlockConfiguration=ACCESS_BLOCK),
    "GetPublicAccessBlock": lambda w: (
        w.s3.put_public_access_block(Bucket=w.plain, PublicAccessBlockConfiguration=ACCESS_BLOCK)
        and dict(Bucket=w.plain)
    ),  # fmt: skip
    "DeletePublicAccessBlock": lambda w: dict(Bucket=w.plain),
    "PutBucketOwnershipControls": lambda w: dict(
        Bucket=w.plain, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}),
    "GetBucketOwnershipControls": lambda w: dict(Bucket=w.plain),
    "DeleteBucketOwnershipControls": lambda w: dict(Bucket=w.plain),
    "GetBucketAcl": lambda w: dict(Bucket=w.plain),
    "PutBucketAcl": lambda w: dict(Bucket=w.plain, ACL="private"),
    "GetObjectAcl": lambda w: dict(Bucket=w.plain, Key="obj"),
    "PutObjectAcl": lambda w: dict(Bucket=w.plain, Key="obj", ACL="bucket-owner-full-control"),
    "GetBucketPolicy": lambda w: (w.s3.put_bucket_policy(Bucket=w.plain, Policy=policy(w.plain)) and dict(Bucket=w.plain)),
    "GetBucketPolicyStatus": lambda w: (
        w.s3.put_bucket_policy(Bucket=w.plain, Policy=policy(w.plain)) and dict(Bucket=w.plain)
    ),  # fmt: skip
    "DeleteBucketPolicy": lambda w: dict(Bucket=w.plain),
    # Deprecated model operations on the same URI as a served one (fidelity_model.DEPRECATED_ALIASES).
    "GetBucketLifecycle": lambda w: (
        w.s3.put_bucket_lifecycle(
            Bucket=w.plain,
            LifecycleConfiguration={"Rules": [{"Prefix": "logs/", "Status": "Enabled", "Expiration": {"Days": 3}}]},
        ) and dict(Bucket=w.plain)
    ),  # fmt: skip
    "PutBucketLifecycle": lambda w: dict(
        Bucket=w.plain,
        LifecycleConfiguration={"Rules": [{"Prefix": "logs/", "Status": "Enabled", "Expiration": {"Days": 3}}]},
    ),
}

assert set(SUCCESS) == fm.SERVED | set(fm.DEPRECATED_ALIASES), "every served operation needs a success case"

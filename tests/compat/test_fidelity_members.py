"""AWS fidelity (issue 16): every header and query member of every served operation, generated
from botocore's S3 service model.

For each (operation, member) the model lists, one boto3 call: the operation's success case
(fidelity_world.SUCCESS) plus a valid value for that member (`VALUES`, with whatever the
member needs next to it). The answer must be:

- the documented error, for the members AWS refuses in this situation (`REFUSED`: e.g. a
  customer key over plain HTTP), each with its reason;
- otherwise a success, and the member **echoed** where AWS echoes it: in the same answer
  (e.g. `ResponseContentType` -> `Content-Type`), or on the object the call wrote (HEAD of
  the key written by PutObject, CopyObject, CompleteMultipartUpload and a completed
  CreateMultipartUpload), as `ECHO` says. A member accepted without visible effect is listed
  in `NO_ECHO` with the reason (e.g. `RequestPayer` on a bucket that is not requester-pays).

Every member is in exactly one of the tables or has the default echo (same name in the
answer); `test_every_member_has_a_case` keeps the tables complete as the model grows.
Structured body members (lifecycle rules, CORS rules, ...) are in test_fidelity_bodies.py.
"""

from __future__ import annotations

import datetime

import pytest
from botocore.exceptions import ClientError

import fidelity_model as fm
from fidelity_world import BODY, FAR, SUCCESS, world  # noqa: F401
from s3util import b64, md5_b64, raw_request

# Members tested elsewhere, for every operation.
ELSEWHERE = {
    "Bucket": "every case names one; NoSuchBucket in test_fidelity_generated.py",
    "Key": "every object case names one; NoSuchKey in test_fidelity_generated.py",
    "ExpectedBucketOwner": "test_fidelity_generated.py::test_expected_bucket_owner_mismatch_is_access_denied",
    "UploadId": "every multipart case names one; NoSuchUpload in test_fidelity_generated.py",
    "ContentLength": "set by botocore from the body on every upload",
    "CopySource": "every copy case names one; test_copy.py",
}
WHEN = datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
PAST = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
OTHER_MD5 = md5_b64(b"not the body")
CHECKSUMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5", "XXHASH64", "XXHASH3", "XXHASH128")


def object_lock(w, args):
    """Writes go to the object-lock bucket (lock headers need one); a key of its own."""
    return {**args, "Bucket": w.locked()}


def etag_of(w, key="obj"):
    return w.s3.head_object(Bucket=w.plain, Key=key)["ETag"]


def second_object(w, args):
    w.s3.put_object(Bucket=w.plain, Key="obj2", Body=BODY)
    return args


def continuation_token(w, args):
    second_object(w, args)
    page = getattr(w.s3, "list_objects_v2")(Bucket=w.plain, MaxKeys=1)
    return {**args, "ContinuationToken": page["NextContinuationToken"]}


def complete_with_checksum(algorithm, full_object):
    """CompleteMultipartUpload of a new upload created with `algorithm`, sending the whole
    object's checksum the way SDKs do."""

    def build(w, args):
        created = dict(ChecksumAlgorithm=algorithm, ChecksumType="FULL_OBJECT" if full_object else "COMPOSITE")
        upload = w.s3.create_multipart_upload(Bucket=w.plain, Key="ck", **created)["UploadId"]
        part = w.s3.upload_part(
            Bucket=w.plain, Key="ck", UploadId=upload, PartNumber=1, Body=BODY,
            **{f"Checksum{algorithm}": b64(algorithm, BODY)},
        )  # fmt: skip
        listed = {"PartNumber": 1, "ETag": part["ETag"], f"Checksum{algorithm}": part[f"Checksum{algorithm}"]}
        whole = b64(algorithm, BODY) if full_object else f"{b64(algorithm, b64_raw(algorithm, BODY))}-1"
        return dict(
            Bucket=w.plain, Key="ck", UploadId=upload, MultipartUpload={"Parts": [listed]},
            **{f"Checksum{algorithm}": whole},
        )  # fmt: skip

    return build


def b64_raw(algorithm, data):
    import base64

    return base64.b64decode(b64(algorithm, data))


# member -> (world, success arguments) -> arguments with the member set (and what it needs).
# A value that is not callable is simply added.
VALUES = {
    "ACL": "private",
    "ConfirmRemoveSelfBucketAccess": True,
    "CacheControl": "max-age=60",
    "ContentDisposition": 'attachment; filename="f.txt"',
    "ContentEncoding": "gzip",
    "ContentLanguage": "en-GB",
    "ContentType": "text/x-fidelity",
    "Expires": WHEN,
    "Metadata": {"fid": "v"},
    "ServerSideEncryption": "AES256",
    "StorageClass": "STANDARD",
    "WebsiteRedirectLocation": "/elsewhere",
    "Tagging": "t=1&u=2",
    "RequestPayer": "requester",
    "GrantFullControl": 'id="0123456789abcdef"',
    "GrantRead": 'id="0123456789abcdef"',
    "GrantReadACP": 'id="0123456789abcdef"',
    "GrantWrite": 'id="0123456789abcdef"',
    "GrantWriteACP": 'id="0123456789abcdef"',
    "ChecksumAlgorithm": "SHA256",
    "ChecksumMode": "ENABLED",
    "ContentMD5": OTHER_MD5,
    "MetadataDirective": lambda w, a: {**a, "MetadataDirective": "REPLACE", "Metadata": {"new": "1"}},
    "TaggingDirective": lambda w, a: {**a, "TaggingDirective": "REPLACE", "Tagging": "new=1"},
    "ObjectLockMode": lambda w, a: {
        **object_lock(w, a), "ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": FAR},
    "ObjectLockRetainUntilDate": lambda w, a: {
        **object_lock(w, a), "ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": FAR},
    "ObjectLockLegalHoldStatus": lambda w, a: {**object_lock(w, a), "ObjectLockLegalHoldStatus": "ON"},
    "ObjectLockEnabledForBucket": True,
    "BypassGovernanceRetention": True,
    "IfMatch": lambda w, a: {**a, "IfMatch": etag_of(w, a.get("Key", "obj"))},
    "IfNoneMatch": lambda w, a: {**a, "IfNoneMatch": '"0123456789abcdef0123456789abcdef"'},
    "IfModifiedSince": PAST,
    "IfUnmodifiedSince": WHEN,
    "CopySourceIfMatch": lambda w, a: {**a, "CopySourceIfMatch": etag_of(w)},
    "CopySourceIfNoneMatch": '"0123456789abcdef0123456789abcdef"',
    "CopySourceIfModifiedSince": PAST,
    "CopySourceIfUnmodifiedSince": WHEN,
    "CopySourceRange": "bytes=0-3",
    "Range": "bytes=0-3",
    "PartNumber": 1,
    "ResponseCacheControl": "no-store",
    "ResponseContentDisposition": "inline",
    "ResponseContentEncoding": "identity",
    "ResponseContentLanguage": "fr",
    "ResponseContentType": "application/x-override",
    "ResponseExpires": WHEN,
    "VersionId": "null",
    "Delimiter": "/",
    "EncodingType": "url",
    "Marker": "a",
    "KeyMarker": "a",
    "VersionIdMarker": lambda w, a: {**a, "KeyMarker": "obj", "VersionIdMarker": w.versions[1]},
    "UploadIdMarker": lambda w, a: {**a, "KeyMarker": "mp", "UploadIdMarker": w.upload()},
    "MaxKeys": 7,
    "MaxUploads": 7,
    "MaxParts": 7,
    "MaxBuckets": 7,
    "PartNumberMarker": 0,
    "Prefix": "o",
    "StartAfter": "a",
    "FetchOwner": True,
    "ContinuationToken": continuation_token,
    "BucketRegion": "us-east-1",
    "OptionalObjectAttributes": ["RestoreStatus"],
    "ObjectAttributes": ["ETag", "ObjectSize"],
    "SSECustomerAlgorithm": lambda w, a: {**a, "SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32},
    "SSECustomerKey": lambda w, a: {**a, "SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32},
    "SSECustomerKeyMD5": lambda w, a: {**a, "SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32},
    "CopySourceSSECustomerAlgorithm": lambda w, a: {
        **a, "CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": "k" * 32},
    "CopySourceSSECustomerKey": lambda w, a: {
        **a, "CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": "k" * 32},
    "CopySourceSSECustomerKeyMD5": lambda w, a: {
        **a, "CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": "k" * 32},
    "SSEKMSKeyId": lambda w, a: {**a, "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "fidelity-key"},
    "SSEKMSEncryptionContext": lambda w, a: {
        **a, "ServerSideEncryption": "aws:kms", "SSEKMSEncryptionContext": "eyJhIjoiYiJ9"},
    "BucketKeyEnabled": True,
    "ExpectedSourceBucketOwner": lambda w, a: {**a, "ExpectedSourceBucketOwner": w.s3.list_buckets()["Owner"]["ID"]},
    "MFA": "arn:aws:iam::000000000000:mfa/fidelity 123456",
    "Token": "fidelity-token",
    "ObjectOwnership": "BucketOwnerEnforced",
    "BucketNamespace": "global",
    "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K",
    "WriteOffsetBytes": 0,
    "IfMatchInitiatedTime": WHEN,
    "IfMatchLastModifiedTime": WHEN,
    "IfMatchSize": 14,
    "ChecksumType": lambda w, a: {**a, "ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"},
    "MpuObjectSize": lambda w, a: {**a, "MpuObjectSize": 5 * 1024 * 1024},
}
for _algorithm in CHECKSUMS:
    VALUES[f"Checksum{_algorithm}"] = lambda w, a, alg=_algorithm: {**a, f"Checksum{alg}": b64(alg, BODY)}
VALUES_FOR = {
    ("CompleteMultipartUpload", "ChecksumType"): lambda w, a: {
        **complete_with_checksum("CRC32", True)(w, a), "ChecksumType": "FULL_OBJECT"},
    ("CompleteMultipartUpload", "IfMatch"): lambda w, a: (
        w.s3.put_object(Bucket=w.plain, Key="mp", Body=BODY) and {**a, "IfMatch": etag_of(w, "mp")}),
    ("CompleteMultipartUpload", "IfNoneMatch"): lambda w, a: {**a, "IfNoneMatch": "*"},
    ("PutObject", "IfNoneMatch"): lambda w, a: {**a, "IfNoneMatch": "*"},
    ("CopyObject", "IfNoneMatch"): lambda w, a: {**a, "IfNoneMatch": "*"},
    ("PutObject", "IfMatch"): lambda w, a: {**a, "Key": "obj", "IfMatch": etag_of(w)},
    ("CopyObject", "IfMatch"): lambda w, a: (
        w.s3.put_object(Bucket=w.plain, Key="copy", Body=BODY) and {**a, "IfMatch": etag_of(w, "copy")}),
    ("GetObjectAttributes", "MaxParts"): lambda w, a: {**a, "MaxParts": 7},
    ("ListObjectVersions", "KeyMarker"): "a",
    ("ListMultipartUploads", "KeyMarker"): "a",
    ("ListObjectsV2", "ContinuationToken"): continuation_token,
    **{(op, "VersionId"): lambda w, a: {**a, "VersionId": w.s3.head_object(Bucket=a["Bucket"], Key=a["Key"])[
        "VersionId"]} for op in ("GetObjectLegalHold", "GetObjectRetention", "PutObjectLegalHold",
                                 "PutObjectRetention")},
    ("ListBuckets", "ContinuationToken"): lambda w, a: {
        **a, "ContinuationToken": w.s3.list_buckets(MaxBuckets=1)["ContinuationToken"]},
}
for _algorithm in CHECKSUMS:
    VALUES_FOR[("CompleteMultipartUpload", f"Checksum{_algorithm}")] = complete_with_checksum(
        _algorithm, _algorithm.startswith("CRC"))
# A copy takes the source's metadata and tags unless told to replace them (AWS: COPY is the
# default directive), so a member that sets them goes with REPLACE.
for _member in ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "ContentType",
                "Expires", "Metadata", "WebsiteRedirectLocation"):
    VALUES_FOR[("CopyObject", _member)] = lambda w, a, m=_member: {
        **a, "MetadataDirective": "REPLACE", m: VALUES[m]}
VALUES_FOR[("CopyObject", "Tagging")] = lambda w, a: {**a, "TaggingDirective": "REPLACE", "Tagging": VALUES["Tagging"]}


def members(operation):
    shape = fm.operation(operation).input_shape
    if shape is None:
        return []
    return [
        name for name, member in shape.members.items()
        if member.serialization.get("location") in ("header", "headers", "querystring") and name not in ELSEWHERE
    ]  # fmt: skip


CASES = sorted((op, member) for op in fm.SERVED for member in members(op))

WRITES = {"PutObject", "CopyObject", "CompleteMultipartUpload", "CreateMultipartUpload"}


def http_date(when: datetime.datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def tags_of(w, args):
    answer = w.s3.get_object_tagging(Bucket=args["Bucket"], Key=args["Key"])
    return {tag["Key"]: tag["Value"] for tag in answer["TagSet"]}


# member -> (world, arguments sent, answer seen) -> (what AWS shows, what it should be).
# The answer seen is, for a write, the call's answer over a HEAD of the object it wrote.
ECHO = {
    "Expires": lambda w, a, seen: (seen.get("ExpiresString"), http_date(a["Expires"])),
    "ResponseExpires": lambda w, a, seen: (seen.get("ExpiresString"), http_date(a["ResponseExpires"])),
    "Tagging": lambda w, a, seen: (tags_of(w, a), dict(pair.split("=") for pair in a["Tagging"].split("&"))),
    "TaggingDirective": lambda w, a, seen: (tags_of(w, a), {"new": "1"}),
    "MetadataDirective": lambda w, a, seen: (seen.get("Metadata"), {"new": "1"}),
    "ChecksumAlgorithm": lambda w, a, seen: ("ChecksumSHA256" in seen, True),
    "Range": lambda w, a, seen: (seen.get("ContentRange"), f"bytes 0-3/{len(BODY)}"),
    "FetchOwner": lambda w, a, seen: (all("Owner" in item for item in seen["Contents"]), True),
    "BucketRegion": lambda w, a, seen: ({b.get("BucketRegion") for b in seen["Buckets"]}, {a["BucketRegion"]}),
    "ObjectLockRetainUntilDate": lambda w, a, seen: (
        seen.get("ObjectLockRetainUntilDate", PAST).replace(microsecond=0),
        a["ObjectLockRetainUntilDate"].replace(microsecond=0)),
    "ChecksumMode": lambda w, a, seen: (sorted(k for k in seen if k.startswith("Checksum")),
                                        ["ChecksumCRC32", "ChecksumType"]),
    "KeyMarker": lambda w, a, seen: (seen.get("KeyMarker"), a["KeyMarker"]),
    "MpuObjectSize": lambda w, a, seen: (seen.get("ContentLength"), a["MpuObjectSize"]),
}
for _name in ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "ContentType"):
    ECHO[f"Response{_name}"] = lambda w, a, seen, n=_name: (seen.get(n), a[f"Response{n}"])

# Members accepted with nothing to show for them, and why.
CONDITION_HOLDS = "a precondition that holds: the call proceeds (failures: test_conditional.py, test_copy.py)"
NO_ECHO = {
    "ConfirmRemoveSelfBucketAccess": "accepted and ignored: the owner's admins can always manage "
                                     "the policy (auth.rs, manages_policy); AWS sends nothing back",
    "ACL": "`private` is the default ACL (ACL grants: issue 17)",
    "RequestPayer": "the bucket is not requester-pays: the owner pays, so AWS sends no x-amz-request-charged",
    "StorageClass": "STANDARD: AWS omits x-amz-storage-class for STANDARD objects",
    "IfMatch": CONDITION_HOLDS, "IfNoneMatch": CONDITION_HOLDS, "IfModifiedSince": CONDITION_HOLDS,
    "IfUnmodifiedSince": CONDITION_HOLDS, "CopySourceIfMatch": CONDITION_HOLDS,
    "CopySourceIfNoneMatch": CONDITION_HOLDS, "CopySourceIfModifiedSince": CONDITION_HOLDS,
    "CopySourceIfUnmodifiedSince": CONDITION_HOLDS,
    "CopySourceRange": "the part is the range: its size is checked in test_copy.py",
    "PartNumber": "a single-part object's part 1 is the object (test_fidelity_uploads.py)",
    "VersionId": "`null` names the object of an unversioned bucket (test_versioning.py)",
    "ObjectLockEnabledForBucket": "GetObjectLockConfiguration answers Enabled (test_object_lock.py)",
    "BypassGovernanceRetention": "nothing under GOVERNANCE here: the bypass is allowed and unused",
    "OptionalObjectAttributes": "RestoreStatus: no object is archived, so none has one",
    "ObjectAttributes": "the answer's members are the attributes asked for (test_attributes.py)",
    "Token": "the bucket was created with object lock: no token is needed, and AWS ignores it",
    "ObjectOwnership": "BucketOwnerEnforced, the default (GetBucketOwnershipControls; the others: test_acl.py)",
    "BucketNamespace": "global: the only namespace a general-purpose bucket has",
    "MaxBuckets": "fewer buckets than the page: no ContinuationToken (paging: test_fidelity.py)",
    "ContinuationToken": "the answer is the next page (paging: test_list.py)",
    "PartNumberMarker": "0: the first page, not echoed by GetObjectAttributes for a single-part object",
    "MaxParts": "GetObjectAttributes: ObjectParts only for multipart objects",
    "ChecksumAlgorithm": "the request body's checksum, verified (test_checksums.py); nothing is stored",
    "BucketKeyEnabled": "bucket keys belong to SSE-KMS (no KMS here); with SSE-S3 there is nothing to show "
                        "(inferred: the reference documents the header for SSE-KMS only)",
    "ExpectedSourceBucketOwner": "it matches, so the copy proceeds (a mismatch: test_source_owner_mismatch)",
}
# Where the member is echoed after all, despite its NO_ECHO entry.
ECHOED_HERE = {
    ("ListParts", "MaxParts"), ("ListParts", "PartNumberMarker"), ("ListObjectsV2", "ContinuationToken"),
    # The new object's (or part's) checksum is computed with the algorithm asked for.
    ("PutObject", "ChecksumAlgorithm"), ("CopyObject", "ChecksumAlgorithm"),
    ("CreateMultipartUpload", "ChecksumAlgorithm"), ("UploadPart", "ChecksumAlgorithm"),
}  # fmt: skip

# (operation or "*", member) -> (status, code, why): the documented refusal.
SSE_C_OVER_HTTP = (400, "InvalidRequest", "a customer key over plain HTTP (AWS requires HTTPS; test_sse.py has TLS)")
KMS = (400, "KMS.NotFoundException", "no KMS here: AWS's answer for a key it does not know")
OBJECT_ACL = (400, "AccessControlListNotSupported", "ACLs are disabled (BucketOwnerEnforced, AWS's default): "
              "a grant to another account is refused")
BUCKET_ACL = (400, "InvalidBucketAclWithObjectOwnership", "a bucket ACL granting another account on a bucket "
              "with ACLs disabled")
DIRECTORY_ONLY = (501, "NotImplemented", "directory buckets only on AWS; refused rather than ignored, since "
                  "ignoring an append or a delete condition loses data (docs/design/s3-compatibility.md)")
REFUSED = {
    ("*", "SSECustomerAlgorithm"): SSE_C_OVER_HTTP,
    ("*", "SSECustomerKey"): SSE_C_OVER_HTTP,
    ("*", "SSECustomerKeyMD5"): SSE_C_OVER_HTTP,
    ("*", "CopySourceSSECustomerAlgorithm"): SSE_C_OVER_HTTP,
    ("*", "CopySourceSSECustomerKey"): SSE_C_OVER_HTTP,
    ("*", "CopySourceSSECustomerKeyMD5"): SSE_C_OVER_HTTP,
    ("*", "ContentMD5"): (400, "BadDigest", "a Content-MD5 that is not the body's"),
    ("*", "MFA"): (400, "InvalidRequest", "MFA delete is not supported (docs/design/s3-compatibility.md)"),
    ("*", "SSEKMSKeyId"): KMS, ("*", "SSEKMSEncryptionContext"): KMS,
    ("CreateBucket", "GrantFullControl"): BUCKET_ACL, ("CreateBucket", "GrantRead"): BUCKET_ACL,
    ("CreateBucket", "GrantReadACP"): BUCKET_ACL, ("CreateBucket", "GrantWrite"): BUCKET_ACL,
    ("CreateBucket", "GrantWriteACP"): BUCKET_ACL,
    ("*", "GrantFullControl"): OBJECT_ACL, ("*", "GrantRead"): OBJECT_ACL,
    ("*", "GrantReadACP"): OBJECT_ACL, ("*", "GrantWriteACP"): OBJECT_ACL, ("*", "GrantWrite"): OBJECT_ACL,
    ("*", "WriteOffsetBytes"): DIRECTORY_ONLY, ("*", "IfMatchInitiatedTime"): DIRECTORY_ONLY,
    ("*", "IfMatchLastModifiedTime"): DIRECTORY_ONLY, ("*", "IfMatchSize"): DIRECTORY_ONLY,
}


def refusal(operation, member):
    return REFUSED.get((operation, member)) or REFUSED.get(("*", member))


def echo_rule(operation, member):
    """How the member shows in the answer: a callable from ECHO, the same name, or None."""
    if member in NO_ECHO and (operation, member) not in ECHOED_HERE:
        return None
    if member in ECHO:
        return ECHO[member]
    return lambda w, a, seen: (seen.get(member), a[member])


def call_args(w, operation, member):
    args = dict(SUCCESS[operation](w))
    value = VALUES_FOR.get((operation, member), VALUES.get(member))
    args = value(w, args) if callable(value) else {**args, member: value}
    return fm.fill_arguments(operation, args)


def seen_after(w, operation, args, answer):
    """The answer, and for a write the HEAD of the object it wrote under it."""
    if operation not in WRITES:
        return answer
    if operation == "CreateMultipartUpload":
        bucket, key, upload = args["Bucket"], args["Key"], answer["UploadId"]
        extra = {}
        if "ChecksumAlgorithm" in args:
            extra = {f"Checksum{args['ChecksumAlgorithm']}": b64(args["ChecksumAlgorithm"], BODY)}
        part = w.s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=BODY, **extra)
        listed = {"PartNumber": 1, "ETag": part["ETag"], **extra}
        w.s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": [listed]})
    head = w.s3.head_object(Bucket=args["Bucket"], Key=args["Key"], ChecksumMode="ENABLED")
    return {**head, **{k: v for k, v in answer.items() if k != "ResponseMetadata"}}


@pytest.mark.parametrize("operation,member", [pytest.param(*case, id="-".join(case)) for case in CASES])
def test_member(s3, world, operation, member):
    args = call_args(world, operation, member)
    expected_refusal = refusal(operation, member)
    head = fm.operation(operation).http["method"] == "HEAD"
    try:
        answer = getattr(s3, fm.snake(operation))(**args)
    except ClientError as exc:
        got = (exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"])
        if expected_refusal is None:
            raise AssertionError(f"{operation} refused {member}: {got} {exc.response['Error'].get('Message')}")
        status, code, _why = expected_refusal
        assert got == (status, str(status) if head else code), f"{operation}/{member}: {exc.response['Error']}"
        return
    assert expected_refusal is None, f"{operation} accepted {member}; expected {expected_refusal}"
    if "Body" in answer:
        answer["Body"].read()
    rule = echo_rule(operation, member)
    if rule is None:
        return
    shown, wanted = rule(world, args, seen_after(world, operation, args, answer))
    assert shown == wanted, f"{operation}: {member}={args.get(member)!r} shows as {shown!r}, expected {wanted!r}"


def test_every_member_has_a_value():
    missing = sorted({member for _, member in CASES if member not in VALUES} - {m for _, m in VALUES_FOR})
    assert not missing, f"members without a value in VALUES: {missing}"


def test_source_owner_mismatch(s3, world):
    # CopyObject and UploadPartCopy: a source bucket owned by another account is 403
    # AccessDenied, as for ExpectedBucketOwner.
    for operation in ("CopyObject", "UploadPartCopy"):
        args = {**SUCCESS[operation](world), "ExpectedSourceBucketOwner": "000000000000"}
        with pytest.raises(ClientError) as caught:
            getattr(s3, fm.snake(operation))(**args)
        got = (caught.value.response["ResponseMetadata"]["HTTPStatusCode"], caught.value.response["Error"]["Code"])
        assert got == (403, "AccessDenied"), operation


def test_acls_equivalent_to_owner_full_control_are_accepted(s3, world):
    owner = s3.list_buckets()["Owner"]["ID"]
    for acl in ("private", "bucket-owner-full-control"):
        s3.put_object(Bucket=world.plain, Key=f"acl-{acl}", Body=BODY, ACL=acl)
    s3.put_object(Bucket=world.plain, Key="grant", Body=BODY, GrantFullControl=f'id="{owner}"')
    s3.copy_object(Bucket=world.plain, Key="grant2", CopySource={"Bucket": world.plain, "Key": "obj"},
                   ACL="bucket-owner-full-control")
    world.new_bucket("fidacl", ACL="private")
    for acl in ("public-read", "public-read-write", "authenticated-read"):
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=world.plain, Key="public", Body=BODY, ACL=acl)
        assert caught.value.response["Error"]["Code"] == "AccessControlListNotSupported", acl
    with pytest.raises(ClientError):
        s3.head_object(Bucket=world.plain, Key="public")


def test_copy_computes_the_checksum_asked_for(s3, world):
    answer = s3.copy_object(Bucket=world.plain, Key="c", CopySource={"Bucket": world.plain, "Key": "obj"},
                            ChecksumAlgorithm="CRC32C")
    assert answer["CopyObjectResult"]["ChecksumCRC32C"] == b64("CRC32C", BODY)
    head = s3.head_object(Bucket=world.plain, Key="c", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32C"] == b64("CRC32C", BODY) and "ChecksumCRC32" not in head
    # Without one, the source's (CRC32) follows the bytes.
    answer = s3.copy_object(Bucket=world.plain, Key="d", CopySource={"Bucket": world.plain, "Key": "obj"})
    assert answer["CopyObjectResult"]["ChecksumCRC32"] == b64("CRC32", BODY)


def test_transition_minimum_size_is_kept_and_echoed(s3, world):
    rules = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]}
    got = s3.get_bucket_lifecycle_configuration
    s3.put_bucket_lifecycle_configuration(Bucket=world.plain, LifecycleConfiguration=rules)
    assert got(Bucket=world.plain)["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    answer = s3.put_bucket_lifecycle_configuration(
        Bucket=world.plain, LifecycleConfiguration=rules, TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    assert answer["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert got(Bucket=world.plain)["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"


def test_unknown_checksum_algorithms_are_refused_on_every_path(server, s3, world):
    # A header, a trailer or an SDK algorithm S3 does not define: refused, never stored
    # unchecked (a client that sent it expects it verified).
    for headers in ({"x-amz-checksum-blake3": "AAAA"}, {"x-amz-trailer": "x-amz-checksum-blake3"},
                    {"x-amz-sdk-checksum-algorithm": "BLAKE3"}):
        answer = raw_request(server, "PUT", f"/{world.plain}/unverified", headers=headers, body=BODY)
        assert (answer.status, answer.error_code()) == (400, "InvalidRequest"), headers
    with pytest.raises(ClientError):
        s3.head_object(Bucket=world.plain, Key="unverified")


@pytest.mark.parametrize("algorithm", ["SHA512", "MD5", "XXHASH64", "XXHASH3", "XXHASH128"])
def test_the_2025_algorithms_are_verified_stored_and_composed(s3, world, algorithm):
    # S3 added SHA512, MD5 and the xxHash family in 2025: verified on PUT (a wrong value is
    # BadDigest), returned with ChecksumMode, and COMPOSITE (only) for multipart uploads.
    key = f"new-{algorithm}"
    s3.put_object(Bucket=world.plain, Key=key, Body=BODY, **{f"Checksum{algorithm}": b64(algorithm, BODY)})
    head = s3.head_object(Bucket=world.plain, Key=key, ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == b64(algorithm, BODY)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=world.plain, Key=key, Body=BODY, **{f"Checksum{algorithm}": b64(algorithm, b"other")})
    assert caught.value.response["Error"]["Code"] == "BadDigest"
    assert s3.head_object(Bucket=world.plain, Key=key, ChecksumMode="ENABLED")[f"Checksum{algorithm}"] == b64(
        algorithm, BODY)
    with pytest.raises(ClientError) as caught:
        s3.create_multipart_upload(Bucket=world.plain, Key=key, ChecksumAlgorithm=algorithm, ChecksumType="FULL_OBJECT")
    assert caught.value.response["Error"]["Code"] == "InvalidRequest"
    completed = complete_with_checksum(algorithm, False)(world, {})
    answer = s3.complete_multipart_upload(**completed)
    assert answer[f"Checksum{algorithm}"] == completed[f"Checksum{algorithm}"]
    assert answer["ChecksumType"] == "COMPOSITE"


@pytest.mark.parametrize("value", ["not base64!", "AAAA", b64("SHA256", BODY)])
def test_a_checksum_value_of_the_wrong_shape_is_invalid_not_a_mismatch(server, world, value):
    # A CRC32 header that is not base64 of 4 bytes cannot be a CRC32: S3 answers 400
    # InvalidRequest "Value for x-amz-checksum-crc32 header is invalid." (observed answer,
    # not in the reference); a well-formed wrong value is BadDigest (test_checksums.py).
    answer = raw_request(server, "PUT", f"/{world.plain}/shape", headers={"x-amz-checksum-crc32": value}, body=BODY)
    assert (answer.status, answer.error_code()) == (400, "InvalidRequest"), answer
    assert b"Value for x-amz-checksum-crc32 header is invalid." in answer.body

"""AWS fidelity (issue 16), generated from botocore's S3 service model (fidelity_model.py).

For every operation the server serves, a real boto3 call against the session server:

- `test_answer_has_every_member_aws_always_sends`: the members the model marks as required in
  the operation's output shape (walked through every structure present in the answer), plus
  the members and status the AWS API reference documents for a successful answer
  for the case's fixture (`DOCUMENTED_MEMBERS`, `DOCUMENTED_STATUS`: written from the
  reference pages, not generated from the model).
- `test_documented_error`: each error the model lists for the operation, plus the errors every
  operation of a kind answers (generated from the input shape: a `Bucket` that does not
  exist is NoSuchBucket, an `UploadId` that does not exist is NoSuchUpload, a well-formed
  `VersionId` that names nothing is NoSuchVersion, a missing `Key` is NoSuchKey where the
  reference says so), plus the reference's "not configured" errors.
- `test_expected_bucket_owner_mismatch_is_access_denied`: every served operation whose input
  has `ExpectedBucketOwner`, with another account's id (AWS: 403 AccessDenied).
- `test_storage_class_asked_for_is_echoed`: one hand case for `x-amz-storage-class`.
- `test_unserved_operation_answers_not_implemented`: every other model operation answers
  501 NotImplemented (docs/design/s3-compatibility.md has the table).

Cases that reveal a departure from AWS are `xfail(strict=True)` with the reason; the fix
turns them into failures that must be unmarked.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import fidelity_model as fm
from fidelity_world import BODY, NO_VERSION, SUCCESS, _complete, missing_bucket, world  # noqa: F401
from harness import unique_bucket_name
from s3util import crc32_b64


# Members the AWS API reference documents in a successful answer for the fixture the case
# builds, beyond what the model marks (written from the reference pages, not generated).
# Some depend on the fixture: TagCount and Metadata because "obj" has tags and metadata,
# the checksum because it was stored with one and boto3 sends x-amz-checksum-mode: ENABLED.
# `[]` walks a list.
DOCUMENTED_MEMBERS = {
    "ListBuckets": ["Buckets", "Owner.ID", "Buckets[].Name", "Buckets[].CreationDate"],
    "CreateBucket": ["Location"],
    "ListObjectsV2": ["Name", "Prefix", "MaxKeys", "KeyCount", "IsTruncated",
                      "Contents[].Key", "Contents[].LastModified", "Contents[].ETag", "Contents[].Size",
                      "Contents[].StorageClass"],
    "ListObjects": ["Name", "Prefix", "Marker", "MaxKeys", "IsTruncated",
                    "Contents[].Key", "Contents[].LastModified", "Contents[].ETag", "Contents[].Size",
                    "Contents[].StorageClass", "Contents[].Owner"],
    "ListObjectVersions": ["Name", "Prefix", "KeyMarker", "VersionIdMarker", "MaxKeys", "IsTruncated",
                           "Versions[].Key", "Versions[].VersionId", "Versions[].IsLatest",
                           "Versions[].LastModified", "Versions[].ETag", "Versions[].Size",
                           "Versions[].StorageClass", "Versions[].Owner"],
    "ListMultipartUploads": ["Bucket", "KeyMarker", "UploadIdMarker", "MaxUploads", "IsTruncated",
                             "Uploads[].Key", "Uploads[].UploadId", "Uploads[].Initiated",
                             "Uploads[].StorageClass", "Uploads[].Initiator", "Uploads[].Owner"],
    "ListParts": ["Bucket", "Key", "UploadId", "PartNumberMarker", "MaxParts", "IsTruncated",
                  "Initiator", "Owner", "StorageClass",
                  "Parts[].PartNumber", "Parts[].LastModified", "Parts[].ETag", "Parts[].Size"],
    "PutObject": ["ETag"],
    "GetObject": ["ETag", "ContentLength", "LastModified", "ContentType", "Body", "Metadata", "TagCount",
                  "ChecksumCRC32", "ChecksumType", "AcceptRanges"],
    "HeadObject": ["ETag", "ContentLength", "LastModified", "ContentType", "Metadata", "AcceptRanges"],
    "CopyObject": ["CopyObjectResult.ETag", "CopyObjectResult.LastModified"],
    "UploadPartCopy": ["CopyPartResult.ETag", "CopyPartResult.LastModified"],
    "DeleteObjects": ["Deleted", "Deleted[].Key"],
    "CreateMultipartUpload": ["Bucket", "Key", "UploadId"],
    "UploadPart": ["ETag"],
    "CompleteMultipartUpload": ["Location", "Bucket", "Key", "ETag"],
    "GetObjectAttributes": ["LastModified", "ETag", "Checksum.ChecksumCRC32", "Checksum.ChecksumType",
                            "StorageClass", "ObjectSize"],
    "GetObjectRetention": ["Retention.Mode", "Retention.RetainUntilDate"],
    "GetObjectLegalHold": ["LegalHold.Status"],
    "GetObjectLockConfiguration": ["ObjectLockConfiguration.ObjectLockEnabled"],
    "GetBucketVersioning": ["Status"],
    "GetBucketLifecycleConfiguration": ["Rules", "Rules[].ID", "Rules[].Expiration.Days", "Rules[].Filter",
                                        "TransitionDefaultMinimumObjectSize"],
    "GetBucketCors": ["CORSRules"],
    "GetBucketPolicy": ["Policy"],
    "GetBucketAcl": ["Owner.ID", "Grants", "Grants[].Grantee.ID", "Grants[].Grantee.Type", "Grants[].Permission"],
    "GetObjectAcl": ["Owner.ID", "Grants", "Grants[].Grantee.ID", "Grants[].Grantee.Type", "Grants[].Permission"],
    "GetBucketOwnershipControls": ["OwnershipControls.Rules", "OwnershipControls.Rules[].ObjectOwnership"],
    "GetPublicAccessBlock": ["PublicAccessBlockConfiguration.BlockPublicAcls",
                             "PublicAccessBlockConfiguration.IgnorePublicAcls",
                             "PublicAccessBlockConfiguration.BlockPublicPolicy",
                             "PublicAccessBlockConfiguration.RestrictPublicBuckets"],
    "GetBucketPolicyStatus": ["PolicyStatus.IsPublic"],
    "GetObjectTagging": ["TagSet"],
    "GetBucketLifecycle": ["Rules", "Rules[].ID"],
}  # fmt: skip

# The status of a successful answer, from the reference's examples (200 otherwise).
DOCUMENTED_STATUS = {
    "DeleteBucket": 204, "DeleteObject": 204, "DeleteObjectTagging": 204, "AbortMultipartUpload": 204,
    "DeleteBucketCors": 204, "DeleteBucketLifecycle": 204, "DeleteBucketEncryption": 204,
    "DeleteBucketTagging": 204, "PutBucketTagging": 204, "DeleteBucketPolicy": 204, "PutBucketPolicy": 204,
    "DeletePublicAccessBlock": 204, "DeleteBucketOwnershipControls": 204,
}  # fmt: skip

SUCCESS_DEPARTURES: dict[str, str] = {}


def lookup(parsed, path: str) -> list[str]:
    """The parts of a dotted path ('A[].B.C') that `parsed` lacks, as full paths."""
    missing = []

    def walk(node, parts, seen):
        if not parts:
            return
        head, rest = parts[0], parts[1:]
        is_list = head.endswith("[]")
        name = head[:-2] if is_list else head
        if not isinstance(node, dict) or name not in node:
            missing.append(".".join(seen + [head]))
            return
        if is_list:
            for index, item in enumerate(node[name]):
                walk(item, rest, seen + [f"{name}[{index}]"])
        else:
            walk(node[name], rest, seen + [name])

    walk(parsed, path.split("."), [])
    return missing


def case_params(names, departures):
    return [
        pytest.param(name, id=name, marks=[pytest.mark.xfail(strict=True, reason=departures[name])])
        if name in departures else pytest.param(name, id=name)
        for name in sorted(names)
    ]  # fmt: skip


@pytest.mark.parametrize("operation", case_params(SUCCESS, SUCCESS_DEPARTURES))
def test_answer_has_every_member_aws_always_sends(s3, world, operation):
    args = fm.fill_arguments(operation, SUCCESS[operation](world))
    answer = getattr(s3, fm.snake(operation))(**args)
    if "Body" in answer:
        answer["Body"].read()
    status = answer["ResponseMetadata"]["HTTPStatusCode"]
    assert status == DOCUMENTED_STATUS.get(operation, 200), f"{operation} answered {status}"
    missing = fm.always_present(fm.operation(operation).output_shape, answer)
    for path in DOCUMENTED_MEMBERS.get(operation, []):
        missing += lookup(answer, path)
    shown = {k: v for k, v in answer.items() if k not in ("ResponseMetadata", "Body")}
    assert not missing, f"{operation} answer lacks {missing}: {shown}"


# ---------------------------------------------------------------------------
# documented errors
# ---------------------------------------------------------------------------

# (operation, error code, status, world -> arguments). A HEAD answer has no body: botocore
# reports its status as the code.


def _err(operation, code, status, build, why=""):
    return (operation, code, status, build, why)


def generated_error_cases():
    cases = []
    for operation in sorted(fm.SERVED):
        members = fm.operation(operation).input_shape.members if fm.operation(operation).input_shape else {}
        head = fm.operation(operation).http["method"] == "HEAD"
        if "Bucket" in members and operation != "CreateBucket":
            cases.append(_err(
                operation, "404" if head else "NoSuchBucket", 404,
                lambda w, op=operation: {**SUCCESS[op](w), "Bucket": missing_bucket()},
                "a Bucket that does not exist",
            ))  # fmt: skip
        if "UploadId" in members:
            cases.append(_err(
                operation, "NoSuchUpload", 404,
                lambda w, op=operation: {**SUCCESS[op](w), "UploadId": "fidelity-no-such-upload"},
                "an UploadId that does not exist",
            ))  # fmt: skip
        if "VersionId" in members and operation != "DeleteObject":
            # DeleteObject of a version that does not exist is a 204 on AWS.
            cases.append(_err(
                operation, "404" if head else "NoSuchVersion", 404,
                lambda w, op=operation: {**fm.fill_arguments(op, SUCCESS[op](w)), "Bucket": w.locked(), "Key": "obj",
                                         "VersionId": NO_VERSION},
                "a well-formed VersionId that names nothing",
            ))  # fmt: skip
    return cases


# The model's own error lists, for served operations, and how to trigger each.
MODELLED = {
    ("AbortMultipartUpload", "NoSuchUpload"): (
        404, lambda w: dict(Bucket=w.plain, Key="mp", UploadId="fidelity-no-such-upload")),
    ("CreateBucket", "BucketAlreadyOwnedByYou"): (409, lambda w: dict(Bucket=w.plain)),
    ("HeadBucket", "NoSuchBucket"): (404, lambda w: dict(Bucket=missing_bucket())),
    ("ListObjects", "NoSuchBucket"): (404, lambda w: dict(Bucket=missing_bucket())),
    ("ListObjectsV2", "NoSuchBucket"): (404, lambda w: dict(Bucket=missing_bucket())),
    ("GetObject", "NoSuchKey"): (404, lambda w: dict(Bucket=w.plain, Key="missing")),
    ("GetObjectAcl", "NoSuchKey"): (404, lambda w: dict(Bucket=w.plain, Key="missing")),
    ("PutObjectAcl", "NoSuchKey"): (404, lambda w: dict(Bucket=w.plain, Key="missing", ACL="private")),
    ("HeadObject", "NoSuchKey"): (404, lambda w: dict(Bucket=w.plain, Key="missing")),
    ("GetObjectAttributes", "NoSuchKey"): (
        404, lambda w: dict(Bucket=w.plain, Key="missing", ObjectAttributes=["ETag"])),
    # SSE-C over plain HTTP (the session server has no --sse-c-allow-http): AWS answers
    # InvalidRequest for a customer key on an insecure connection.
    ("PutObject", "InvalidRequest"): (400, lambda w: dict(
        Bucket=w.plain, Key="ssec", Body=BODY, SSECustomerAlgorithm="AES256", SSECustomerKey="k" * 32)),
}  # fmt: skip

# Modelled errors no request to this server can trigger, and why.
UNTRIGGERABLE = {
    ("CopyObject", "ObjectNotInActiveTierError"): "one storage class: no object is ever archived",
    ("GetObject", "InvalidObjectState"): "one storage class: no object is ever archived",
    ("CreateBucket", "BucketAlreadyExists"): "needs a second tenant (test_control_channel.py covers it)",
    ("PutObject", "InvalidWriteOffset"): "appends (x-amz-write-offset-bytes) exist on directory buckets only",
    ("PutObject", "TooManyParts"): "appends exist on directory buckets only",
    ("PutObject", "EncryptionTypeMismatch"): "directory buckets only",
}

# Errors the API reference documents for served operations that the model does not list.
REFERENCE = [
    _err("GetObjectTagging", "NoSuchKey", 404, lambda w: dict(Bucket=w.plain, Key="missing")),
    _err("PutObjectTagging", "NoSuchKey", 404, lambda w: {**SUCCESS["PutObjectTagging"](w), "Key": "missing"}),
    _err("DeleteObjectTagging", "NoSuchKey", 404, lambda w: dict(Bucket=w.plain, Key="missing")),
    _err("CopyObject", "NoSuchKey", 404,
         lambda w: dict(Bucket=w.plain, Key="c", CopySource={"Bucket": w.plain, "Key": "missing"}), "missing source"),
    _err("UploadPartCopy", "NoSuchKey", 404,
         lambda w: {**SUCCESS["UploadPartCopy"](w), "CopySource": {"Bucket": w.plain, "Key": "missing"}}, "missing source"),
    _err("GetObjectRetention", "NoSuchKey", 404, lambda w: dict(Bucket=w.locked(), Key="missing")),
    _err("GetObjectLegalHold", "NoSuchKey", 404, lambda w: dict(Bucket=w.locked(), Key="missing")),
    _err("PutObjectRetention", "NoSuchKey", 404, lambda w: {**SUCCESS["PutObjectRetention"](w), "Key": "missing"}),
    _err("PutObjectLegalHold", "NoSuchKey", 404, lambda w: {**SUCCESS["PutObjectLegalHold"](w), "Key": "missing"}),
    _err("GetObjectRetention", "NoSuchObjectLockConfiguration", 404, lambda w: dict(Bucket=w.locked(), Key="bare"),
         "an object without retention"),
    _err("GetObjectLegalHold", "NoSuchObjectLockConfiguration", 404, lambda w: dict(Bucket=w.locked(), Key="bare"),
         "an object without a legal hold"),
    _err("GetObjectRetention", "InvalidRequest", 400, lambda w: dict(Bucket=w.plain, Key="obj"),
         "a bucket without object lock"),
    _err("PutObjectLegalHold", "InvalidRequest", 400,
         lambda w: dict(Bucket=w.plain, Key="obj", LegalHold={"Status": "ON"}), "a bucket without object lock"),
    _err("GetBucketTagging", "NoSuchTagSet", 404, lambda w: dict(Bucket=w.plain)),
    _err("GetPublicAccessBlock", "NoSuchPublicAccessBlockConfiguration", 404, lambda w: dict(Bucket=w.plain)),
    _err("PutObjectAcl", "AccessControlListNotSupported", 400,
         lambda w: dict(Bucket=w.plain, Key="obj", ACL="public-read"), "a public ACL (ACLs are disabled)"),
    _err("PutBucketAcl", "AccessControlListNotSupported", 400, lambda w: dict(
        Bucket=w.plain, AccessControlPolicy={
            "Owner": {"ID": w.s3.list_buckets()["Owner"]["ID"]},
            "Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                        "Permission": "READ"}]}), "a public grant in the body"),
    _err("PutBucketOwnershipControls", "InvalidBucketAclWithObjectOwnership", 400, lambda w: (
        w.s3.put_bucket_ownership_controls(
            Bucket=w.plain, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}),
        w.s3.put_bucket_acl(Bucket=w.plain, ACL="public-read"),
        dict(Bucket=w.plain, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}))[-1],
         "disabling ACLs while the bucket's ACL grants others (test_acl.py)"),
    _err("GetBucketOwnershipControls", "OwnershipControlsNotFoundError", 404, lambda w: (
        w.s3.delete_bucket_ownership_controls(Bucket=w.plain), dict(Bucket=w.plain))[-1]),
    _err("GetBucketCors", "NoSuchCORSConfiguration", 404, lambda w: dict(Bucket=w.plain)),
    _err("GetBucketLifecycleConfiguration", "NoSuchLifecycleConfiguration", 404, lambda w: dict(Bucket=w.plain)),
    _err("GetBucketEncryption", "ServerSideEncryptionConfigurationNotFoundError", 404, lambda w: dict(Bucket=w.plain)),
    _err("GetObjectLockConfiguration", "ObjectLockConfigurationNotFoundError", 404, lambda w: dict(Bucket=w.plain)),
    _err("DeleteBucket", "BucketNotEmpty", 409, lambda w: dict(Bucket=w.plain)),
    _err("CompleteMultipartUpload", "InvalidPart", 400,
         lambda w: {**_complete(w), "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}]}}),
    _err("CompleteMultipartUpload", "InvalidPartOrder", 400,
         lambda w: {**_complete(w), "MultipartUpload": {"Parts": [
             {"PartNumber": 2, "ETag": w.s3.upload_part(Bucket=w.plain, Key="mp", UploadId=w.upload(), PartNumber=2,
                                                        Body=BODY)["ETag"]},
             {"PartNumber": 1, "ETag": w.part["ETag"]}]}}),
    _err("CompleteMultipartUpload", "EntityTooSmall", 400, lambda w: dict(
        Bucket=w.plain, Key="small", UploadId=(u := w.s3.create_multipart_upload(Bucket=w.plain, Key="small")["UploadId"]),
        MultipartUpload={"Parts": [
            {"PartNumber": n, "ETag": w.s3.upload_part(Bucket=w.plain, Key="small", UploadId=u, PartNumber=n,
                                                        Body=b"tiny")["ETag"]} for n in (1, 2)]})),
    _err("UploadPart", "InvalidArgument", 400, lambda w: {**SUCCESS["UploadPart"](w), "PartNumber": 10001},
         "partNumber above 10000"),
    _err("CopyObject", "InvalidRequest", 400,
         lambda w: dict(Bucket=w.plain, Key="obj", CopySource={"Bucket": w.plain, "Key": "obj"}),
         "a copy onto itself that changes nothing"),
    _err("GetObject", "InvalidRange", 416, lambda w: dict(Bucket=w.plain, Key="obj", Range="bytes=1000-2000")),
    _err("GetObject", "PreconditionFailed", 412, lambda w: dict(Bucket=w.plain, Key="obj", IfMatch='"nope"')),
    _err("GetObject", "InvalidArgument", 400,
         lambda w: dict(Bucket=w.versioned(), Key="obj", VersionId="not-a-version-id"), "a malformed version id"),
    _err("PutObject", "PreconditionFailed", 412, lambda w: dict(Bucket=w.plain, Key="obj", Body=BODY, IfNoneMatch="*")),
    _err("PutObject", "BadDigest", 400,
         lambda w: dict(Bucket=w.plain, Key="bad", Body=BODY, ChecksumCRC32=crc32_b64(b"other"))),
    _err("PutBucketLifecycleConfiguration", "InvalidStorageClass", 400, lambda w: dict(
        Bucket=w.plain, LifecycleConfiguration={"Rules": [{"ID": "t", "Status": "Enabled", "Filter": {},
                                                            "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}]}),
         "transitions: one storage class (docs/design/s3-compatibility.md)"),
    _err("PutObject", "AccessControlListNotSupported", 400,
         lambda w: dict(Bucket=w.plain, Key="acl", Body=BODY, ACL="public-read"),
         "an ACL on a bucket whose ACLs are disabled (BucketOwnerEnforced, the default)"),
    _err("CreateBucket", "InvalidBucketAclWithObjectOwnership", 400,
         lambda w: dict(Bucket=(w.buckets.append(name := unique_bucket_name("fida")) or name), ACL="public-read"),
         "a public ACL on a new bucket (BucketOwnerEnforced, the default)"),
    _err("PutBucketEncryption", "KMS.NotFoundException", 400, lambda w: dict(
        Bucket=w.plain, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k"}}]}),
         "no KMS here (docs/design/s3-compatibility.md)"),
]  # fmt: skip

ERROR_DEPARTURES: dict[str, str] = {}


def all_error_cases():
    params = []
    seen = set()
    for operation in sorted(fm.SERVED):
        for code in fm.modelled_errors(operation):
            key = (operation, code)
            if key in UNTRIGGERABLE:
                params.append(pytest.param(
                    operation, code, 0, None, id=f"{operation}-{code}-model",
                    marks=pytest.mark.skip(reason=f"cannot be triggered here: {UNTRIGGERABLE[key]}"),
                ))  # fmt: skip
                continue
            assert key in MODELLED, f"no trigger for the modelled error {key}"
            status, build = MODELLED[key]
            shown = "404" if fm.operation(operation).http["method"] == "HEAD" else code
            params.append(pytest.param(operation, shown, status, build, id=f"{operation}-{code}-model"))
    for operation, code, status, build, why in generated_error_cases() + REFERENCE:
        case_id = f"{operation}-{code}-{why or 'reference'}".replace(" ", "_")
        while case_id in seen:
            case_id += "+"
        seen.add(case_id)
        marks = [pytest.mark.xfail(strict=True, reason=ERROR_DEPARTURES[case_id])] if case_id in ERROR_DEPARTURES else []
        params.append(pytest.param(operation, code, status, build, id=case_id, marks=marks))
    return params


def assert_error_style(exc: ClientError, head: bool):
    """AWS's error style: an XML body with a sentence for a Message and the request id
    (HEAD answers have no body: the id is in x-amz-request-id)."""
    headers = exc.response["ResponseMetadata"].get("HTTPHeaders", {})
    assert headers.get("x-amz-request-id"), "no x-amz-request-id"
    if head:
        return
    message = exc.response["Error"].get("Message", "")
    assert message and message[0].isupper(), f"message {message!r}"
    assert exc.response["ResponseMetadata"].get("RequestId") == headers["x-amz-request-id"]


@pytest.mark.parametrize("operation,code,status,build", all_error_cases())
def test_documented_error(s3, world, operation, code, status, build):
    args = fm.fill_arguments(operation, build(world))
    try:
        answer = getattr(s3, fm.snake(operation))(**args)
    except ClientError as exc:
        got = (exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"])
        assert got == (status, code), f"{operation}: expected {status} {code}, got {got}: {exc.response['Error']}"
        assert_error_style(exc, head=fm.operation(operation).http["method"] == "HEAD")
        return
    raise AssertionError(f"{operation} succeeded ({answer['ResponseMetadata']['HTTPStatusCode']}); expected {status} {code}")


OWNER_CHECKED = sorted(
    name for name in fm.SERVED
    if fm.operation(name).input_shape is not None and "ExpectedBucketOwner" in fm.operation(name).input_shape.members
)  # fmt: skip


@pytest.mark.parametrize(
    "operation", case_params(OWNER_CHECKED, {})
)
def test_expected_bucket_owner_mismatch_is_access_denied(s3, world, operation):
    # Generated from the input shape: every operation with ExpectedBucketOwner documents
    # "403 Forbidden (access denied)" when the bucket's owner is another account.
    args = {**fm.fill_arguments(operation, SUCCESS[operation](world)), "ExpectedBucketOwner": "000000000000"}
    head = fm.operation(operation).http["method"] == "HEAD"
    try:
        getattr(s3, fm.snake(operation))(**args)
    except ClientError as exc:
        got = (exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"])
        assert got == (403, "403" if head else "AccessDenied"), f"{operation}: {exc.response['Error']}"
        return
    raise AssertionError(f"{operation} succeeded with another account's id in ExpectedBucketOwner")


@pytest.mark.xfail(
    strict=True,
    reason="one storage class: STANDARD_IA (like the archive classes) is refused with "
    "InvalidStorageClass, and REDUCED_REDUNDANCY is stored as STANDARD; AWS stores and echoes "
    "the class asked for (a deliberate departure, docs/design/s3-compatibility.md)",
)
def test_storage_class_asked_for_is_echoed(s3, world):
    s3.put_object(Bucket=world.plain, Key="ia", Body=BODY, StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=world.plain, Key="ia").get("StorageClass") == "STANDARD_IA"


# ---------------------------------------------------------------------------
# operations the server does not serve
# ---------------------------------------------------------------------------

# Model operations that do not reach the 501 arm, and what they get instead.
NOT_501 = {
    # Signed for another service (s3express / s3-object-lambda): the credential scope is refused
    # before routing, as an S3 endpoint refuses a scope for another service.
    "ListDirectoryBuckets": (400, "AuthorizationHeaderMalformed"),
    "WriteGetObjectResponse": (400, "AuthorizationHeaderMalformed"),
}
UNSERVED_DEPARTURES: dict[str, str] = {}
UNSERVED = sorted(set(fm.MODEL.operation_names) - fm.SERVED - set(fm.DEPRECATED_ALIASES))


@pytest.mark.parametrize("operation", case_params(UNSERVED, UNSERVED_DEPARTURES))
def test_unserved_operation_answers_not_implemented(make_s3, world, operation):
    client = make_s3(inject_host_prefix=False)
    shape = fm.operation(operation).input_shape
    given = {"Bucket": world.plain, "Key": "obj", "CopySource": f"{world.plain}/obj"}
    given = {k: v for k, v in given.items() if shape is not None and k in shape.members}
    if operation == "UpdateObjectEncryption":
        given["ObjectEncryption"] = {"SSEKMS": {"KMSKeyArn": "arn:aws:kms:us-east-1:111122223333:key/fidelity"}}
    expected = NOT_501.get(operation, (501, "NotImplemented"))
    try:
        answer = getattr(client, fm.snake(operation))(**fm.fill_arguments(operation, given))
        got = (answer["ResponseMetadata"]["HTTPStatusCode"], "(success)")
    except ClientError as exc:
        got = (exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"])
    # Whatever the answer, the object is untouched.
    assert world.s3.get_object(Bucket=world.plain, Key="obj")["Body"].read() == BODY, f"{operation} changed the object"
    assert got == expected, f"{operation}: expected {expected}, got {got}"

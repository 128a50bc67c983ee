"""What botocore's S3 service model says, in the form the generated fidelity suite needs
(issue 16, docs/design/s3-compatibility.md).

- `SERVED`: the operations the server implements, as botocore names them (the router's
  `Operation` names that `handlers::run` dispatches, minus PostObject and OptionsObject,
  which are not in the model, plus the model's deprecated aliases that land on a served
  handler).
- `minimal_value(shape)`: a value that satisfies a model shape's required members, used to
  fill the arguments the fixtures do not give.
- `always_present(shape, parsed)`: the members the model marks as required in an output
  shape that a parsed answer lacks, walked through every structure present in the answer.
- `modelled_errors(operation)`: the error shapes the model lists for an operation.
"""

from __future__ import annotations

import datetime

import botocore.session

MODEL = botocore.session.get_session().get_service_model("s3")

# http-frontend/frontend/src/handlers.rs `run`, every arm before `other => not_implemented`.
SERVED = frozenset(
    {
        "ListBuckets", "CreateBucket", "HeadBucket", "DeleteBucket", "GetBucketLocation",
        "GetBucketVersioning", "PutBucketVersioning",
        "PutObjectLockConfiguration", "GetObjectLockConfiguration",
        "PutBucketLifecycleConfiguration", "GetBucketLifecycleConfiguration", "DeleteBucketLifecycle",
        "PutObjectRetention", "GetObjectRetention", "PutObjectLegalHold", "GetObjectLegalHold",
        "ListObjectsV2", "ListObjects", "ListObjectVersions",
        "PutObject", "GetObject", "HeadObject", "DeleteObject", "CopyObject", "UploadPartCopy",
        "DeleteObjects", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
        "AbortMultipartUpload", "ListParts", "ListMultipartUploads",
        "PutObjectTagging", "GetObjectTagging", "DeleteObjectTagging",
        "PutBucketTagging", "GetBucketTagging", "DeleteBucketTagging",
        "PutBucketEncryption", "GetBucketEncryption", "DeleteBucketEncryption",
        "GetObjectAttributes",
        "PutBucketCors", "GetBucketCors", "DeleteBucketCors",
        "PutBucketPolicy", "GetBucketPolicy", "DeleteBucketPolicy", "GetBucketPolicyStatus",
        "PutPublicAccessBlock", "GetPublicAccessBlock", "DeletePublicAccessBlock",
        "PutBucketOwnershipControls", "GetBucketOwnershipControls", "DeleteBucketOwnershipControls",
        "GetBucketAcl", "PutBucketAcl", "GetObjectAcl", "PutObjectAcl",
    }
)  # fmt: skip

# Served operations the router knows that botocore does not model.
SERVED_OUTSIDE_MODEL = ("PostObject", "OptionsObject")

# Deprecated model operations whose request routes to a served handler (same URI and method).
DEPRECATED_ALIASES = {
    "GetBucketLifecycle": "GetBucketLifecycleConfiguration",
    "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
}


def operation(name: str):
    return MODEL.operation_model(name)


def snake(name: str) -> str:
    """The boto3 method name of a model operation (botocore's own conversion)."""
    from botocore import xform_name

    return xform_name(name)


def minimal_value(shape, depth: int = 0):
    """A value for `shape` holding only its required members (first enum value for strings)."""
    kind = shape.type_name
    if kind == "structure" and shape.metadata.get("union"):
        first = next(iter(shape.members))
        return {first: minimal_value(shape.members[first], depth + 1)}
    if kind == "structure":
        return {name: minimal_value(shape.members[name], depth + 1) for name in shape.required_members}
    if kind == "list":
        return [minimal_value(shape.member, depth + 1)]
    if kind == "map":
        return {}
    if kind == "string":
        return shape.enum[0] if shape.enum else "x"
    if kind in ("integer", "long"):
        return 1
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    if kind == "blob":
        return b"x"
    raise ValueError(f"no minimal value for {shape.name} ({kind})")


def fill_arguments(name: str, given: dict) -> dict:
    """`given`, plus a minimal value for every required input member it does not name."""
    shape = operation(name).input_shape
    args = dict(given)
    if shape is None:
        return args
    for member in shape.required_members:
        if member not in args:
            args[member] = minimal_value(shape.members[member])
    return args


def always_present(shape, parsed, path: str = "") -> list[str]:
    """The model's required output members that `parsed` lacks, as dotted paths.

    Only structures present in the answer are checked: a required member of an optional
    structure is required only when that structure is there."""
    missing: list[str] = []
    if shape is None:
        return missing
    kind = shape.type_name
    if kind == "structure" and isinstance(parsed, dict):
        for member in shape.required_members:
            if member not in parsed:
                missing.append(f"{path}.{member}" if path else member)
        for member, member_shape in shape.members.items():
            if member in parsed and not member_shape.serialization.get("location"):
                missing += always_present(member_shape, parsed[member], f"{path}.{member}" if path else member)
    elif kind == "list" and isinstance(parsed, list):
        for index, item in enumerate(parsed):
            missing += always_present(shape.member, item, f"{path}[{index}]")
    return missing


def modelled_errors(name: str) -> list[str]:
    return [error.name for error in operation(name).error_shapes]

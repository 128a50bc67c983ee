"""The authorization matrix (issue 17): every served S3 operation (fidelity_world.SUCCESS, a
successful call of each) made by every kind of caller, with the outcome an independent model
of AWS's rules expects, and storage unchanged after every refusal.

The callers: the root key, a global admin, the tenant admin, a user with no policy, a user with
a read-only identity policy, a user with a prefix-scoped policy (`home/${aws:username}/*`), a
user of another tenant, anonymous on a private and on a public-read bucket, a read-write user
whose every request is presigned, an STS session of a read-write user narrowed by a read-only
session policy, and an expired session. The fixtures of each case (`fidelity_world.World`) are
made by the tenant admin, so they are tenant acme's.

The expected outcome comes from `ACTIONS` (each operation's IAM action as AWS's "Actions,
resources, and condition keys for Amazon S3" and each API page's Permissions section name it)
and `expected_allowed`, a small evaluator of the callers' policies written here, not taken from
the server. A refusal is 403 AccessDenied (400 ExpiredToken for the expired session; HEAD
answers carry only the status), or, for DeleteObjects, a 200 whose every key is AccessDenied.
"Storage unchanged" is a fingerprint of the case's buckets read with the root key before and
after the refused call (`fingerprint`).

After the matrix: AWS's documented policy examples that test_bucket_policy.py (public read,
TLS only, deny unencrypted uploads through boto3, IP ranges the server never sees) and
test_iam_enforcement.py do not already hold: an IP restriction between two real peer addresses,
a home folder per user through a bucket policy, the prefix-scoped user's copies and multipart
uploads inside its home, deny-unencrypted-uploads through the aws cli; and the BAD-INPUTS rows
for policies the other files leave: Z5 (X-Forwarded-For and its kin do not move aws:SourceIp)
and Z1's presigned writes by another tenant (test_control_channel.py has the rest of Z1,
test_bad_inputs.py X8, test_object_lock.py Z6).
"""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
from dataclasses import dataclass, field

import botocore.auth
import pytest
from botocore.exceptions import ClientError

import fidelity_model as fm
import fidelity_world as fw
from control_client import ControlClient, access_key, user
from harness import ServerProcess, empty_and_delete_bucket, make_client, run_aws, unique_bucket_name
from s3util import Endpoint, RawResponse, error_of, expect_error, http_call, sign_headers
from test_bucket_policy import deny_unencrypted_uploads, document, public_read
from test_control_channel import World, secret
from test_iam_enforcement import HOME, READONLY
from test_sts import StsWorld, session_s3

pytestmark = pytest.mark.binary

ROOT_SECRET = "matrix-root-secret-0123456789"

# ---------------------------------------------------------------------------
# what each operation asks for (AWS's documented action names)
# ---------------------------------------------------------------------------

ACCOUNT, BUCKET, OBJECT = "account", "bucket", "object"

# Operation -> (action, the resource it is asked on). CopyObject and UploadPartCopy also need
# s3:GetObject on the source (`requirements`); DeleteObjects asks s3:DeleteObject per key.
ACTIONS = {
    "ListBuckets": ("s3:ListAllMyBuckets", ACCOUNT),
    "CreateBucket": ("s3:CreateBucket", ACCOUNT),  # a new bucket: no tenant owns it yet
    "HeadBucket": ("s3:ListBucket", BUCKET),
    "DeleteBucket": ("s3:DeleteBucket", BUCKET),
    "GetBucketLocation": ("s3:GetBucketLocation", BUCKET),
    "GetBucketVersioning": ("s3:GetBucketVersioning", BUCKET),
    "PutBucketVersioning": ("s3:PutBucketVersioning", BUCKET),
    "PutObjectLockConfiguration": ("s3:PutBucketObjectLockConfiguration", BUCKET),
    "GetObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration", BUCKET),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", BUCKET),
    "PutBucketLifecycle": ("s3:PutLifecycleConfiguration", BUCKET),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", BUCKET),
    "GetBucketLifecycle": ("s3:GetLifecycleConfiguration", BUCKET),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", BUCKET),
    "PutObjectRetention": ("s3:PutObjectRetention", OBJECT),
    "GetObjectRetention": ("s3:GetObjectRetention", OBJECT),
    "PutObjectLegalHold": ("s3:PutObjectLegalHold", OBJECT),
    "GetObjectLegalHold": ("s3:GetObjectLegalHold", OBJECT),
    "ListObjectsV2": ("s3:ListBucket", BUCKET),
    "ListObjects": ("s3:ListBucket", BUCKET),
    "ListObjectVersions": ("s3:ListBucketVersions", BUCKET),
    "PutObject": ("s3:PutObject", OBJECT),
    "GetObject": ("s3:GetObject", OBJECT),
    "HeadObject": ("s3:GetObject", OBJECT),
    "DeleteObject": ("s3:DeleteObject", OBJECT),
    "CopyObject": ("s3:PutObject", OBJECT),
    "UploadPartCopy": ("s3:PutObject", OBJECT),
    "DeleteObjects": ("s3:DeleteObject", OBJECT),
    "CreateMultipartUpload": ("s3:PutObject", OBJECT),
    "UploadPart": ("s3:PutObject", OBJECT),
    "CompleteMultipartUpload": ("s3:PutObject", OBJECT),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", OBJECT),
    "ListParts": ("s3:ListMultipartUploadParts", OBJECT),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", BUCKET),
    "PutObjectTagging": ("s3:PutObjectTagging", OBJECT),
    "GetObjectTagging": ("s3:GetObjectTagging", OBJECT),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", OBJECT),
    "PutBucketTagging": ("s3:PutBucketTagging", BUCKET),
    "GetBucketTagging": ("s3:GetBucketTagging", BUCKET),
    "DeleteBucketTagging": ("s3:PutBucketTagging", BUCKET),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration", BUCKET),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration", BUCKET),
    "DeleteBucketEncryption": ("s3:PutEncryptionConfiguration", BUCKET),
    # Unversioned object: s3:GetObject and s3:GetObjectAttributes (`requirements`).
    "GetObjectAttributes": ("s3:GetObjectAttributes", OBJECT),
    "PutBucketCors": ("s3:PutBucketCORS", BUCKET),
    "GetBucketCors": ("s3:GetBucketCORS", BUCKET),
    "DeleteBucketCors": ("s3:PutBucketCORS", BUCKET),
    "PutBucketPolicy": ("s3:PutBucketPolicy", BUCKET),
    "GetBucketPolicy": ("s3:GetBucketPolicy", BUCKET),
    "GetBucketPolicyStatus": ("s3:GetBucketPolicyStatus", BUCKET),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", BUCKET),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock", BUCKET),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", BUCKET),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls", BUCKET),
    "DeleteBucketOwnershipControls": ("s3:PutBucketOwnershipControls", BUCKET),
    "GetBucketAcl": ("s3:GetBucketAcl", BUCKET),
    "PutBucketAcl": ("s3:PutBucketAcl", BUCKET),
    "GetObjectAcl": ("s3:GetObjectAcl", OBJECT),
    "PutObjectAcl": ("s3:PutObjectAcl", OBJECT),
}

assert set(ACTIONS) == set(fw.SUCCESS), "every operation of the fidelity world needs its action"


def arn(bucket: str, key: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def requirements(operation: str, args: dict) -> list[tuple[str, str | None, str]]:
    """What the call asks: (action, the bucket it touches or None, resource ARN) for each
    permission AWS checks."""
    action, scope = ACTIONS[operation]
    if scope == ACCOUNT:
        return [(action, None, arn(args.get("Bucket", "*")))]
    bucket = args["Bucket"]
    if operation == "DeleteObjects":
        return [(action, bucket, arn(bucket, item["Key"])) for item in args["Delete"]["Objects"]]
    asked = [(action, bucket, arn(bucket, args["Key"]) if scope == OBJECT else arn(bucket))]
    if "CopySource" in args:
        source = args["CopySource"]
        asked.append(("s3:GetObject", source["Bucket"], arn(source["Bucket"], source["Key"])))
    if operation == "GetObjectAttributes":
        asked.append(("s3:GetObject", bucket, arn(bucket, args["Key"])))
    return asked


# ---------------------------------------------------------------------------
# the callers, and what AWS's rules give each of them
# ---------------------------------------------------------------------------


def statements(policy_document: str) -> list[dict]:
    return json.loads(policy_document)["Statement"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def wildcard(pattern: str, value: str) -> bool:
    """IAM's `*` and `?` wildcards (case-sensitive, as for ARNs and condition values)."""
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), value) is not None


def statement_allows(statement: dict, action: str, resource: str, context: dict, username: str) -> bool:
    """An Allow statement of the simple shapes these policies use (no Deny, no NotAction, only
    StringLike conditions)."""
    assert statement["Effect"] == "Allow" and set(statement) <= {"Sid", "Effect", "Principal", "Action", "Resource",
                                                                  "Condition"}, statement  # fmt: skip
    if not any(wildcard(pattern.lower(), action.lower()) for pattern in as_list(statement["Action"])):
        return False
    if not any(wildcard(r.replace("${aws:username}", username), resource) for r in as_list(statement["Resource"])):
        return False
    for operator, keys in statement.get("Condition", {}).items():
        assert operator == "StringLike", operator
        for key, patterns in keys.items():
            value = context.get(key)
            if value is None or not any(wildcard(p.replace("${aws:username}", username), value)
                                        for p in as_list(patterns)):  # fmt: skip
                return False
    return True


READWRITE_STATEMENTS = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]


@dataclass(frozen=True)
class Identity:
    """A kind of caller. `policy_sets`: each set of statements must allow a request (a session
    is its user's policies and the session policy); `public`: the call is made on a bucket
    with a public-read policy."""

    name: str
    kind: str  # root | global_admin | tenant_admin | user | anonymous | expired
    tenant: str | None = None
    username: str = ""
    policy_sets: tuple = ()
    public: bool = False

    def refusal(self, head: bool) -> tuple[int, str]:
        status, code = (400, "ExpiredToken") if self.kind == "expired" else (403, "AccessDenied")
        return status, str(status) if head else code


IDENTITIES = [
    Identity("root", "root"),
    Identity("global_admin", "global_admin"),
    Identity("tenant_admin", "tenant_admin", tenant="acme"),
    Identity("no_policy", "user", tenant="acme", username="nopol", policy_sets=((),)),
    Identity("read_only", "user", tenant="acme", username="reader",
             policy_sets=(tuple(statements(READONLY["document"])),)),
    Identity("prefix_scoped", "user", tenant="acme", username="homer",
             policy_sets=(tuple(statements(HOME["document"])),)),
    Identity("other_tenant", "user", tenant="globex", username="bob", policy_sets=(tuple(READWRITE_STATEMENTS),)),
    Identity("anonymous_private", "anonymous"),
    Identity("presigned", "user", tenant="acme", username="alice", policy_sets=(tuple(READWRITE_STATEMENTS),)),
    Identity("sts_session", "user", tenant="acme", username="alice",
             policy_sets=(tuple(READWRITE_STATEMENTS), tuple(statements(READONLY["document"])))),
    Identity("expired_session", "expired"),
    # Last: the public-read policy it puts on the bucket retires the case's fixtures.
    Identity("anonymous_public", "anonymous", public=True),
]  # fmt: skip


def expected_allowed(identity: Identity, operation: str, args: dict, world_buckets: set[str]) -> bool:
    """AWS's rules within and across accounts (a tenant is an account): root and global admins
    may do anything; a caller of another tenant nothing on acme's buckets; the tenant admin
    anything in its tenant; a user what every one of its policy sets allows; anonymous what
    the bucket's public statements allow."""
    if identity.kind == "expired":
        return False
    if identity.kind in ("root", "global_admin"):
        return True
    bucket_policy = statements(public_read(args["Bucket"])) if identity.public and "Bucket" in args else []
    context = {"s3:prefix": args["Prefix"]} if "Prefix" in args else {}
    for action, bucket, resource in requirements(operation, args):
        if identity.kind == "anonymous":
            if not any(statement_allows(s, action, resource, context, "") for s in bucket_policy):
                return False
            continue
        if bucket in world_buckets and identity.tenant != "acme":
            return False
        if identity.kind == "tenant_admin":
            continue
        for policy_set in identity.policy_sets:
            if not any(statement_allows(s, action, resource, context, identity.username) for s in policy_set):
                return False
    return True


# ---------------------------------------------------------------------------
# the server, its identities and their clients
# ---------------------------------------------------------------------------


class PresignEverythingAuth(botocore.auth.S3SigV4QueryAuth):
    """botocore's presigned-URL signer, for requests with a body too: its parent moves a body
    into the query string (right for the form-encoded services, wrong for S3)."""

    def _modify_request_before_signing(self, request):
        body, request.data = request.data, b""
        super()._modify_request_before_signing(request)
        request.data = body


botocore.auth.AUTH_TYPE_MAPS.setdefault("s3v4-query-everything", PresignEverythingAuth)


def presigning_client(world: World, name: str):
    """`name`'s client whose every request is presigned, checked as it is sent."""

    def only_presigned(request, **_):
        assert "X-Amz-Signature=" in request.url and "Authorization" not in request.headers, request.url

    client = world.client(name, signature_version="s3v4-query-everything")
    client.meta.events.register("before-send.s3", only_presigned)
    return client


class MatrixWorld(StsWorld):
    """World's tenants and users (alice: read-write, anna: tenant admin of acme, bob: read-write
    in globex, root2: global admin) plus a user per policy of the matrix."""

    policies = [READONLY, HOME]

    def __init__(self, server, control):
        super().__init__(server, control)
        for name, policy_ids in (("nopol", ()), ("reader", ("ro",)), ("homer", ("home",))):
            self.users[name] = user(name, "acme", policy_ids=policy_ids)
            self.keys[name] = access_key(f"AK{name.upper()}{uuid.uuid4().hex[:8].upper()}", secret(), name)
        self.push()


@dataclass
class Matrix:
    """The module's server: its identities, the root client, a client per identity, and the
    fixtures of the operation being swept."""

    world: MatrixWorld
    root: object
    clients: dict = field(default_factory=dict)
    # The fixtures of the operation being swept, kept while every call leaves them unchanged.
    fixtures: fw.World | None = None
    fixtures_operation: str | None = None

    def fixtures_for(self, operation: str) -> fw.World:
        if self.fixtures is not None and self.fixtures_operation != operation:
            self.retire_fixtures()
        if self.fixtures is None:
            self.fixtures = fw.World(self.clients["tenant_admin"])
            self.fixtures_operation = operation
        return self.fixtures

    def retire_fixtures(self):
        if self.fixtures is not None:
            self.fixtures.s3 = self.root
            self.fixtures.cleanup()
            self.fixtures = None


@pytest.fixture(scope="module")
def matrix(module_tmp):
    base = module_tmp("matrix")
    server = ServerProcess(base / "data", base / "logs", ("root", ROOT_SECRET), name="maxiofs-matrix")
    server.start()
    try:
        with ControlClient(server.data_dir) as control:
            world = MatrixWorld(server, control)
            expiring = control.call({"type": "mint_session", "user_id": "alice", "duration_secs": 2})
            session = world.sts("alice").assume_role(
                RoleArn="arn:aws:iam::acme:role/reader", RoleSessionName="matrix-reader",
                Policy=READONLY["document"], DurationSeconds=3600)["Credentials"]  # fmt: skip
            root = make_client(server.endpoint)
            state = Matrix(world, root)
            state.clients = {
                "root": root,
                "global_admin": world.client("root2"),
                "tenant_admin": world.client("anna"),
                "no_policy": world.client("nopol"),
                "read_only": world.client("reader"),
                "prefix_scoped": world.client("homer"),
                "other_tenant": world.client("bob"),
                "anonymous_private": make_client(server.endpoint, anonymous=True),
                "anonymous_public": make_client(server.endpoint, anonymous=True),
                "presigned": presigning_client(world, "alice"),
                "sts_session": session_s3(world, session),
                "expired_session": session_s3(world, {
                    "AccessKeyId": expiring["access_key_id"], "SecretAccessKey": expiring["secret_access_key"],
                    "SessionToken": expiring["session_token"]}),
            }  # fmt: skip
            time.sleep(max(0.0, expiring["expires_at"] - time.time()) + 0.2)
            yield state
            state.retire_fixtures()
    finally:
        server.kill()


# ---------------------------------------------------------------------------
# storage fingerprint
# ---------------------------------------------------------------------------

BUCKET_CONFIG_READS = (
    "get_bucket_versioning", "get_bucket_tagging", "get_bucket_cors", "get_bucket_policy",
    "get_bucket_lifecycle_configuration", "get_bucket_encryption", "get_public_access_block",
    "get_object_lock_configuration", "get_bucket_ownership_controls",
)  # fmt: skip


def answer_of(call, **kwargs):
    """A read's answer without its transport metadata, or its error code."""
    try:
        answer = call(**kwargs)
    except ClientError as exc:
        return ("error", error_of(exc))
    answer.pop("ResponseMetadata", None)
    return answer


def fingerprint(root, fixtures: fw.World) -> dict:
    """Everything a refused call could have changed, read with the root key: the bucket list;
    for each of the case's buckets its configurations, object versions and delete markers
    (with their tags, and retention and legal hold in object-lock buckets), and its uploads in
    progress with their parts."""
    state: dict = {"buckets": sorted(b["Name"] for b in root.list_buckets()["Buckets"])}
    for bucket in sorted(set(fixtures.buckets)):
        if bucket not in state["buckets"]:
            continue
        entry = state[bucket] = {read: answer_of(getattr(root, read), Bucket=bucket) for read in BUCKET_CONFIG_READS}
        listed = root.list_object_versions(Bucket=bucket)
        entry["markers"] = [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listed.get("DeleteMarkers", [])]
        entry["versions"] = []
        for version in listed.get("Versions", []):
            which = dict(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
            facts = [version["Key"], version["VersionId"], version["ETag"], version["Size"], version["IsLatest"],
                     version["LastModified"], answer_of(root.get_object_tagging, **which)]  # fmt: skip
            if bucket in fixtures.locked_buckets:
                facts += [answer_of(root.get_object_retention, **which), answer_of(root.get_object_legal_hold, **which)]
            entry["versions"].append(facts)
        entry["uploads"] = [
            (u["Key"], u["UploadId"],
             [(p["PartNumber"], p["ETag"], p["Size"]) for p in
              root.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", [])])
            for u in root.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        ]  # fmt: skip
    return state


# ---------------------------------------------------------------------------
# the matrix
# ---------------------------------------------------------------------------

# Deletions of a bucket configuration find the configuration the matching read's success case
# puts there, so that a deletion that should have been refused shows in the fingerprint.
DELETES_WHAT_IS_PUT_FOR = {
    "DeleteBucketCors": "GetBucketCors",
    "DeleteBucketEncryption": "GetBucketEncryption",
    "DeleteBucketLifecycle": "GetBucketLifecycleConfiguration",
    "DeleteBucketPolicy": "GetBucketPolicy",
    "DeleteBucketTagging": "GetBucketTagging",
    "DeletePublicAccessBlock": "GetPublicAccessBlock",
}

# (operation, identity) -> why the server's answer departs from the expected one: the case is
# xfail(strict=True) until the server is fixed.
DEPARTURES: dict[tuple[str, str], str] = {}

# (operation, identity) -> the error an allowed call answers instead of success, and why.
ALLOWED_FAILURES: dict[tuple[str, str], tuple[tuple[int, str], str]] = {}


def call_outcome(client, operation: str, args: dict, refusal: tuple[int, str]) -> tuple[str, object]:
    """("refused", error) for the identity's refusal (or a DeleteObjects answer whose every key
    is AccessDenied), ("error", error) for another error, ("done", None) for a success."""
    try:
        answer = getattr(client, fm.snake(operation))(**args)
    except ClientError as exc:
        got = error_of(exc)
        return ("refused" if got == refusal else "error"), got
    if "Body" in answer:
        answer["Body"].read()
    if operation == "DeleteObjects":
        codes = {error["Code"] for error in answer.get("Errors", [])}
        if not answer.get("Deleted") and codes == {"AccessDenied"}:
            return "refused", (200, "AccessDenied per key")
        assert not codes, f"DeleteObjects answered some keys with errors: {answer.get('Errors')}"
    return "done", None


def matrix_cases():
    for operation in sorted(fw.SUCCESS):
        for identity in IDENTITIES:
            key = (operation, identity.name)
            marks = [pytest.mark.xfail(strict=True, reason=DEPARTURES[key])] if key in DEPARTURES else []
            yield pytest.param(operation, identity, id=f"{operation}-{identity.name}", marks=marks)


@pytest.mark.parametrize("operation,identity", list(matrix_cases()))
def test_operation_by_identity(matrix, operation, identity):
    fixtures = matrix.fixtures_for(operation)
    keep_fixtures = False
    try:
        if operation in DELETES_WHAT_IS_PUT_FOR:
            fw.SUCCESS[DELETES_WHAT_IS_PUT_FOR[operation]](fixtures)
        args = fm.fill_arguments(operation, fw.SUCCESS[operation](fixtures))
        if identity.public:
            fixtures.s3.put_bucket_policy(Bucket=fixtures.plain, Policy=public_read(fixtures.plain))
        allowed = expected_allowed(identity, operation, args, set(fixtures.buckets))
        head = fm.operation(operation).http["method"] == "HEAD"
        before = fingerprint(matrix.root, fixtures)
        outcome, error = call_outcome(matrix.clients[identity.name], operation, args, identity.refusal(head))
        after = fingerprint(matrix.root, fixtures)
        if allowed:
            excused = ALLOWED_FAILURES.get((operation, identity.name))
            assert outcome == "done" or (excused and error == excused[0]), (
                f"{identity.name} may {operation} ({requirements(operation, args)}); the server answered {error}")
        else:
            assert outcome == "refused", (
                f"{identity.name} may not {operation} ({requirements(operation, args)}); expected "
                f"{identity.refusal(head)}, the server answered {'success' if outcome == 'done' else error}")
            assert after == before, f"storage changed after a refused {operation} by {identity.name}"
        # A call that changed nothing leaves the fixtures for the next caller.
        keep_fixtures = after == before and not identity.public
    finally:
        if not keep_fixtures:
            matrix.retire_fixtures()


# ---------------------------------------------------------------------------
# AWS's documented policy examples, and the BAD-INPUTS rows for policies
# ---------------------------------------------------------------------------


@pytest.fixture
def bucket(matrix):
    """A bucket of tenant acme (made by the tenant admin) with one object, "doc"."""
    name = unique_bucket_name("matrix-policy")
    matrix.clients["tenant_admin"].create_bucket(Bucket=name)
    matrix.clients["tenant_admin"].put_object(Bucket=name, Key="doc", Body=b"shared")
    yield name
    matrix.root.delete_bucket_policy(Bucket=name)
    empty_and_delete_bucket(matrix.root, name)


def keys_in(matrix, bucket: str) -> dict[str, str]:
    return {o["Key"]: o["ETag"] for o in matrix.root.list_objects_v2(Bucket=bucket).get("Contents", [])}


def signed_from(ep: Endpoint, source_ip: str, method: str, path: str, headers: dict | None = None,
                body: bytes = b"") -> RawResponse:
    """One SigV4-signed request from the loopback address `source_ip` (every 127/8 address is
    the machine's own), so the server sees that peer."""
    target, signed = sign_headers(ep, method, path, headers=headers, body=body)
    if method == "PUT":
        signed["Content-Length"] = str(len(body))
    connection = http.client.HTTPConnection(ep.host, ep.port, timeout=30, source_address=(source_ip, 0))
    try:
        connection.request(method, target, body=body or None, headers=signed)
        answer = connection.getresponse()
        return RawResponse(answer.status, answer.reason, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
    finally:
        connection.close()


def deny_unless_from(bucket: str, operator: str, cidr: str) -> str:
    """AWS's "restrict access to specific IP addresses" example: a Deny of everything with
    NotIpAddress (or, to shut one range out, IpAddress)."""
    return document({"Sid": "IPRestrict", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": [arn(bucket), arn(bucket, "*")],
                     "Condition": {operator: {"aws:SourceIp": cidr}}})  # fmt: skip


def spoofing(address: str) -> dict:
    """The headers a proxy adds to name its client. The server trusts no proxy, so none of
    them may move aws:SourceIp (BAD-INPUTS Z5)."""
    return {"X-Forwarded-For": address, "X-Real-IP": address, "Forwarded": f"for={address}"}


def test_ip_restriction_follows_the_peer_address_not_forwarded_headers(matrix, bucket):
    alice = matrix.world.endpoint("alice")
    matrix.root.put_bucket_policy(Bucket=bucket, Policy=deny_unless_from(bucket, "NotIpAddress", "127.0.0.1/32"))
    assert signed_from(alice, "127.0.0.1", "GET", f"/{bucket}/doc").body == b"shared"
    before = keys_in(matrix, bucket)
    for headers in ({}, spoofing("127.0.0.1")):
        got = signed_from(alice, "127.0.0.2", "GET", f"/{bucket}/doc", headers=headers)
        assert (got.status, got.error_code()) == (403, "AccessDenied"), (headers, got)
        got = signed_from(alice, "127.0.0.2", "PUT", f"/{bucket}/doc", headers=headers, body=b"changed")
        assert (got.status, got.error_code()) == (403, "AccessDenied"), (headers, got)
    assert keys_in(matrix, bucket) == before
    # The other way round: shutting 127.0.0.2 out does not shut out a peer that claims it.
    matrix.root.put_bucket_policy(Bucket=bucket, Policy=deny_unless_from(bucket, "IpAddress", "127.0.0.2/32"))
    assert signed_from(alice, "127.0.0.1", "GET", f"/{bucket}/doc", headers=spoofing("127.0.0.2")).status == 200
    assert signed_from(alice, "127.0.0.2", "GET", f"/{bucket}/doc").status == 403


def test_a_home_folder_per_user_through_the_bucket_policy(matrix, bucket):
    # AWS's example of a folder per user: ${aws:username} in the resource and in the
    # s3:prefix condition. nopol and reader have no identity policy that reaches "home/".
    users = [f"arn:aws:iam::acme:user/{name}" for name in ("nopol", "reader")]
    matrix.root.put_bucket_policy(Bucket=bucket, Policy=document(
        {"Sid": "ListOwnFolder", "Effect": "Allow", "Principal": {"AWS": users}, "Action": "s3:ListBucket",
         "Resource": arn(bucket), "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}},
        {"Sid": "ObjectsInOwnFolder", "Effect": "Allow", "Principal": {"AWS": users}, "Action": "s3:*Object",
         "Resource": arn(bucket, "home/${aws:username}/*")}))  # fmt: skip
    nopol, reader = matrix.clients["no_policy"], matrix.clients["read_only"]
    nopol.put_object(Bucket=bucket, Key="home/nopol/notes", Body=b"mine")
    reader.put_object(Bucket=bucket, Key="home/reader/notes", Body=b"theirs")
    assert nopol.get_object(Bucket=bucket, Key="home/nopol/notes")["Body"].read() == b"mine"
    listed = nopol.list_objects_v2(Bucket=bucket, Prefix="home/nopol/")["Contents"]
    assert [o["Key"] for o in listed] == ["home/nopol/notes"]
    before = keys_in(matrix, bucket)
    expect_error(nopol.get_object, 403, "AccessDenied", Bucket=bucket, Key="home/reader/notes")
    expect_error(nopol.put_object, 403, "AccessDenied", Bucket=bucket, Key="home/reader/notes", Body=b"x")
    expect_error(nopol.delete_object, 403, "AccessDenied", Bucket=bucket, Key="home/reader/notes")
    expect_error(nopol.list_objects_v2, 403, "AccessDenied", Bucket=bucket, Prefix="home/reader/")
    expect_error(nopol.list_objects_v2, 403, "AccessDenied", Bucket=bucket)
    expect_error(nopol.get_object, 403, "AccessDenied", Bucket=bucket, Key="doc")
    # A user the policy does not name has no folder: bob is another tenant's.
    expect_error(matrix.clients["other_tenant"].put_object, 403, "AccessDenied", Bucket=bucket,
                 Key="home/bob/x", Body=b"x")  # fmt: skip
    assert keys_in(matrix, bucket) == before
    nopol.delete_object(Bucket=bucket, Key="home/nopol/notes")
    assert sorted(keys_in(matrix, bucket)) == ["doc", "home/reader/notes"]


def test_a_prefix_scoped_user_copies_and_uploads_in_parts_inside_their_home(matrix, bucket):
    # The matrix's prefix-scoped user (identity policy `home`) is refused everything outside
    # home/homer/; inside it, the writes that are s3:PutObject succeed, copies included.
    homer = matrix.clients["prefix_scoped"]
    homer.put_object(Bucket=bucket, Key="home/homer/a", Body=b"a")
    homer.copy_object(Bucket=bucket, Key="home/homer/b", CopySource={"Bucket": bucket, "Key": "home/homer/a"})
    upload = homer.create_multipart_upload(Bucket=bucket, Key="home/homer/c")["UploadId"]
    part = homer.upload_part_copy(Bucket=bucket, Key="home/homer/c", UploadId=upload, PartNumber=1,
                                  CopySource={"Bucket": bucket, "Key": "home/homer/a"})["CopyPartResult"]
    homer.complete_multipart_upload(Bucket=bucket, Key="home/homer/c", UploadId=upload,
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert homer.get_object(Bucket=bucket, Key="home/homer/c")["Body"].read() == b"a"
    listed = homer.list_objects_v2(Bucket=bucket, Prefix="home/homer/")["Contents"]
    assert [o["Key"] for o in listed] == ["home/homer/a", "home/homer/b", "home/homer/c"]
    before = keys_in(matrix, bucket)
    # Copying out of the home, or into it from outside, needs both ends.
    expect_error(homer.copy_object, 403, "AccessDenied", Bucket=bucket, Key="home/homer/d",
                 CopySource={"Bucket": bucket, "Key": "doc"})
    expect_error(homer.copy_object, 403, "AccessDenied", Bucket=bucket, Key="out",
                 CopySource={"Bucket": bucket, "Key": "home/homer/a"})
    expect_error(homer.delete_object, 403, "AccessDenied", Bucket=bucket, Key="home/homer/a")
    assert keys_in(matrix, bucket) == before


def test_deny_unencrypted_uploads_through_the_aws_cli(matrix, bucket, tmp_path):
    # AWS's example, put and read back with `aws s3api ... --policy file://`, then in force on
    # `aws s3 cp` with and without --sse.
    policy = deny_unencrypted_uploads(bucket)
    (tmp_path / "policy.json").write_text(policy)
    (tmp_path / "report.csv").write_bytes(b"a,b\n1,2\n")
    anna, alice = matrix.world.endpoint("anna"), matrix.world.endpoint("alice")
    run_aws(anna, tmp_path, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy",
            f"file://{tmp_path / 'policy.json'}")
    shown = run_aws(anna, tmp_path, "s3api", "get-bucket-policy", "--bucket", bucket, "--output", "json").stdout
    assert json.loads(json.loads(shown)["Policy"]) == json.loads(policy)
    refused = run_aws(alice, tmp_path, "s3", "cp", str(tmp_path / "report.csv"), f"s3://{bucket}/plain.csv",
                      check=False)  # fmt: skip
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr, refused.stderr
    run_aws(alice, tmp_path, "s3", "cp", str(tmp_path / "report.csv"), f"s3://{bucket}/sealed.csv",
            "--sse", "AES256")
    head = run_aws(alice, tmp_path, "s3api", "head-object", "--bucket", bucket, "--key", "sealed.csv",
                   "--output", "json")
    assert json.loads(head.stdout)["ServerSideEncryption"] == "AES256"
    assert sorted(keys_in(matrix, bucket)) == ["doc", "sealed.csv"]


def test_urls_presigned_by_another_tenant_change_nothing(matrix, bucket):
    # BAD-INPUTS Z1 (test_control_channel.py covers a presigned GET and POST forms): bob's
    # presigned writes into acme's bucket.
    bob = matrix.clients["other_tenant"]
    upload = matrix.clients["tenant_admin"].create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    before = keys_in(matrix, bucket)
    attempts = [
        ("PUT", bob.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "doc"}), b"overwritten"),
        ("PUT", bob.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "new"}), b"planted"),
        ("DELETE", bob.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "doc"}), b""),
        ("PUT", bob.generate_presigned_url("upload_part", Params={
            "Bucket": bucket, "Key": "mp", "UploadId": upload, "PartNumber": 1}), b"part"),
        ("DELETE", bob.generate_presigned_url("abort_multipart_upload", Params={
            "Bucket": bucket, "Key": "mp", "UploadId": upload}), b""),
    ]  # fmt: skip
    for method, url, body in attempts:
        got = http_call(method, url, body)
        assert (got.status, got.error_code()) == (403, "AccessDenied"), (method, url, got)
    assert keys_in(matrix, bucket) == before
    parts = matrix.root.list_parts(Bucket=bucket, Key="mp", UploadId=upload)
    assert parts.get("Parts", []) == []
    matrix.root.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)

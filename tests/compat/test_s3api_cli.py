"""aws cli v1 `s3api`: every implemented operation through a second client beside boto3.

Each operation has a success case (the cli's JSON output parsed) and a negative case that
asserts the exact error code the cli prints, e.g. "An error occurred (NoSuchKey) when calling
the GetObject operation: ...". HEAD requests and 304s carry no body, so the cli prints the
HTTP status in place of the code ("(404)", "(304)").
"""

import base64
import hashlib
import json
import urllib.error
import urllib.request
import zlib
from types import SimpleNamespace

import pytest

from harness import empty_and_delete_bucket, run_aws, unique_bucket_name
from s3util import MiB, Endpoint

BODY = b"hello, s3api world\n"
PART = 5 * MiB


def api(aws, *args) -> dict:
    """Run `aws s3api ...`; return its JSON output ({} when it prints nothing)."""
    out = aws("s3api", *args).stdout
    return json.loads(out) if out.strip() else {}


def assert_error(result, code: str):
    assert result.returncode != 0, result.stdout
    assert f"An error occurred ({code}) when calling" in result.stderr, result.stderr


def api_error(aws, code: str, *args):
    assert_error(aws("s3api", *args, check=False), code)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def tag_set(**tags) -> str:
    return json.dumps({"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


@pytest.fixture
def env(s3, bucket, tmp_path):
    """A bucket holding "obj" (BODY), an open upload for "mp", and a file with BODY."""
    etag = s3.put_object(Bucket=bucket, Key="obj", Body=BODY)["ETag"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    body = tmp_path / "body"
    body.write_bytes(BODY)
    yield SimpleNamespace(b=bucket, etag=etag, upload=upload, file=str(body), tmp=tmp_path,
                          nob=unique_bucket_name("absent"), out=str(tmp_path / "out"),
                          aws_tags=tag_set(**{"aws:k": "v"}))  # fmt: skip
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)


# ---------------------------------------------------------------------------
# negative cases: one command each, the exact code in stderr
# ---------------------------------------------------------------------------

BAD_MD5 = b64(hashlib.md5(b"something else").digest())
ERRORS = [
    ("BucketAlreadyOwnedByYou", "create-bucket --bucket {b}"),
    ("InvalidBucketName", "create-bucket --bucket Bad_Name"),
    ("404", "head-bucket --bucket {nob}"),
    ("BucketNotEmpty", "delete-bucket --bucket {b}"),
    ("NoSuchBucket", "get-bucket-location --bucket {nob}"),
    ("NoSuchBucket", "get-bucket-versioning --bucket {nob}"),
    ("BadDigest", "put-object --bucket {b} --key k --body {file} --content-md5 " + BAD_MD5),
    ("InvalidDigest", "put-object --bucket {b} --key k --body {file} --content-md5 nope"),
    ("NoSuchBucket", "put-object --bucket {nob} --key k --body {file}"),
    ("NoSuchKey", "get-object --bucket {b} --key missing {out}"),
    ("PreconditionFailed", 'get-object --bucket {b} --key obj --if-match "bogus" {out}'),
    ("304", "get-object --bucket {b} --key obj --if-none-match {etag} {out}"),
    ("InvalidRange", "get-object --bucket {b} --key obj --range bytes=100-200 {out}"),
    ("InvalidPartNumber", "get-object --bucket {b} --key obj --part-number 2 {out}"),
    ("404", "head-object --bucket {b} --key missing"),
    ("NoSuchBucket", "delete-object --bucket {nob} --key k"),
    ("NoSuchBucket", "delete-objects --bucket {nob} --delete Objects=[{{Key=k}}]"),
    ("NoSuchBucket", "list-objects --bucket {nob}"),
    ("NoSuchBucket", "list-objects-v2 --bucket {nob}"),
    ("NoSuchBucket", "list-object-versions --bucket {nob}"),
    ("PreconditionFailed", 'copy-object --bucket {b} --key c --copy-source {b}/obj --copy-source-if-match "x"'),
    ("NoSuchKey", "copy-object --bucket {b} --key c --copy-source {b}/missing"),
    ("NoSuchBucket", "create-multipart-upload --bucket {nob} --key k"),
    ("NoSuchUpload", "upload-part --bucket {b} --key mp --upload-id bogus --part-number 1 --body {file}"),
    ("InvalidRange", "upload-part-copy --bucket {b} --key mp --upload-id {upload} --part-number 1 "
                     "--copy-source {b}/obj --copy-source-range bytes=0-1000"),
    ("InvalidArgument", "upload-part-copy --bucket {b} --key mp --upload-id {upload} --part-number 1 "
                        "--copy-source {b}/obj --copy-source-range bytes=5-"),
    ("NoSuchUpload", "list-parts --bucket {b} --key mp --upload-id bogus"),
    ("NoSuchBucket", "list-multipart-uploads --bucket {nob}"),
    ("NoSuchUpload", "abort-multipart-upload --bucket {b} --key mp --upload-id bogus"),
    ("NoSuchUpload", "complete-multipart-upload --bucket {b} --key mp --upload-id bogus"),
    ("InvalidTag", "put-object-tagging --bucket {b} --key obj --tagging {aws_tags}"),
    ("NoSuchKey", "get-object-tagging --bucket {b} --key missing"),
    ("NoSuchKey", "delete-object-tagging --bucket {b} --key missing"),
    ("InvalidTag", "put-bucket-tagging --bucket {b} --tagging {aws_tags}"),
    ("NoSuchTagSet", "get-bucket-tagging --bucket {b}"),
    ("NoSuchBucket", "delete-bucket-tagging --bucket {nob}"),
    ("NoSuchKey", "get-object-attributes --bucket {b} --key missing --object-attributes ETag"),
    ("NoSuchBucketPolicy", "get-bucket-policy --bucket {b}"),
    ("NotImplemented", "get-bucket-website --bucket {b}"),
    ("MalformedXML", "put-bucket-versioning --bucket {b} --versioning-configuration Status=Sometimes"),
    ("InvalidArgument", "get-object --bucket {b} --key obj --version-id not-an-id {out}"),
    ("NoSuchVersion", "get-object --bucket {b} --key obj --version-id " + "0" * 32 + " {out}"),
    ("ObjectLockConfigurationNotFoundError", "get-object-lock-configuration --bucket {b}"),
    ("InvalidRequest", "get-object-retention --bucket {b} --key obj"),
    ("NoSuchLifecycleConfiguration", "get-bucket-lifecycle-configuration --bucket {b}"),
    ("InvalidStorageClass", "put-bucket-lifecycle-configuration --bucket {b} --lifecycle-configuration "
                            '{{"Rules":[{{"ID":"t","Status":"Enabled","Filter":{{}},'
                            '"Transitions":[{{"Days":30,"StorageClass":"GLACIER"}}]}}]}}'),
]  # fmt: skip


@pytest.mark.parametrize("code,command", ERRORS, ids=[f"{c.split()[0]}-{code}" for code, c in ERRORS])
def test_error_codes(aws, env, code, command):
    # Split before formatting: a substituted value (a JSON tag set) may hold spaces.
    api_error(aws, code, *(word.format(**vars(env)) for word in command.split(" ")))


@pytest.mark.parametrize("secret,code", [(None, "InvalidAccessKeyId"), ("wrong", "SignatureDoesNotMatch")])
def test_list_buckets_bad_credentials(server, tmp_path, secret, code):
    access = server.access_key if secret else "NOSUCHACCESSKEY"
    ep = Endpoint(server.host, server.port, access, secret or server.secret_key)
    assert_error(run_aws(ep, tmp_path, "s3api", "list-buckets", check=False), code)


# ---------------------------------------------------------------------------
# buckets
# ---------------------------------------------------------------------------


def test_bucket_lifecycle(aws):
    name = unique_bucket_name("s3api")
    assert api(aws, "create-bucket", "--bucket", name)["Location"] == f"/{name}"
    assert name in [b["Name"] for b in api(aws, "list-buckets")["Buckets"]]
    api(aws, "head-bucket", "--bucket", name)
    # us-east-1 is reported as an empty LocationConstraint, which the cli prints as null.
    assert api(aws, "get-bucket-location", "--bucket", name) == {"LocationConstraint": None}
    assert api(aws, "get-bucket-versioning", "--bucket", name) == {}
    assert api(aws, "delete-bucket", "--bucket", name) == {}
    api_error(aws, "404", "head-bucket", "--bucket", name)


def test_bucket_tagging(aws, env):
    api(aws, "put-bucket-tagging", "--bucket", env.b, "--tagging", tag_set(team="a", env="dev"))
    got = api(aws, "get-bucket-tagging", "--bucket", env.b)["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in got) == [("env", "dev"), ("team", "a")]
    api(aws, "delete-bucket-tagging", "--bucket", env.b)
    api_error(aws, "NoSuchTagSet", "get-bucket-tagging", "--bucket", env.b)


def test_bucket_cors(aws, env):
    rules = [{"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "HEAD"],
              "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 60}]  # fmt: skip
    api_error(aws, "NoSuchCORSConfiguration", "get-bucket-cors", "--bucket", env.b)
    api(aws, "put-bucket-cors", "--bucket", env.b, "--cors-configuration", json.dumps({"CORSRules": rules}))
    assert api(aws, "get-bucket-cors", "--bucket", env.b)["CORSRules"] == rules
    bad = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["TRACE"]}]}
    api_error(aws, "InvalidRequest", "put-bucket-cors", "--bucket", env.b, "--cors-configuration", json.dumps(bad))
    api(aws, "delete-bucket-cors", "--bucket", env.b)
    api_error(aws, "NoSuchCORSConfiguration", "get-bucket-cors", "--bucket", env.b)


# ---------------------------------------------------------------------------
# objects
# ---------------------------------------------------------------------------


def crc32_b64(data: bytes) -> str:
    return b64(zlib.crc32(data).to_bytes(4, "big"))


PUT_OPTIONS = [
    (["--metadata", "color=red,size=L"], lambda head, tags: head["Metadata"] == {"color": "red", "size": "L"}),
    (["--content-type", "text/x-test"], lambda head, tags: head["ContentType"] == "text/x-test"),
    (["--tagging", "k=v&x=y"], lambda head, tags: tags == [("k", "v"), ("x", "y")]),
    (["--checksum-algorithm", "CRC32"], lambda head, tags: head["ChecksumCRC32"] == crc32_b64(BODY)),
    (["--checksum-algorithm", "SHA256"],
     lambda head, tags: head["ChecksumSHA256"] == b64(hashlib.sha256(BODY).digest())),
    (["--content-md5", b64(hashlib.md5(BODY).digest())], lambda head, tags: head["ContentLength"] == len(BODY)),
]  # fmt: skip


@pytest.mark.parametrize("options,check", PUT_OPTIONS, ids=[o[0] for o, _ in PUT_OPTIONS])
def test_put_object_options(aws, env, options, check):
    put = api(aws, "put-object", "--bucket", env.b, "--key", "k", "--body", env.file, *options)
    assert put["ETag"] == f'"{hashlib.md5(BODY).hexdigest()}"'
    head = api(aws, "head-object", "--bucket", env.b, "--key", "k", "--checksum-mode", "ENABLED")
    tags = api(aws, "get-object-tagging", "--bucket", env.b, "--key", "k")["TagSet"]
    assert check(head, sorted((t["Key"], t["Value"]) for t in tags)), (head, tags)
    if "--checksum-algorithm" in options:
        algorithm = options[1]
        assert put[f"Checksum{algorithm}"] == head[f"Checksum{algorithm}"]


@pytest.mark.parametrize("options,length,content", [
    ([], len(BODY), BODY),
    (["--range", "bytes=0-4"], 5, BODY[:5]),
    (["--range", "bytes=-3"], 3, BODY[-3:]),
    (["--if-match", "{etag}"], len(BODY), BODY),
    (["--if-none-match", '"other"'], len(BODY), BODY),
    (["--part-number", "1"], len(BODY), BODY),
])  # fmt: skip
def test_get_object(aws, env, options, length, content):
    options = [o.format(etag=env.etag) for o in options]
    got = api(aws, "get-object", "--bucket", env.b, "--key", "obj", *options, env.out)
    assert got["ContentLength"] == length and got["ETag"] == env.etag
    assert open(env.out, "rb").read() == content
    if "--range" in options:
        start = BODY.find(content)
        assert got["ContentRange"] == f"bytes {start}-{start + length - 1}/{len(BODY)}"


def test_head_and_delete_object(aws, env):
    head = api(aws, "head-object", "--bucket", env.b, "--key", "obj")
    assert (head["ContentLength"], head["ETag"]) == (len(BODY), env.etag)
    assert api(aws, "delete-object", "--bucket", env.b, "--key", "obj") == {}
    api_error(aws, "404", "head-object", "--bucket", env.b, "--key", "obj")
    # Deleting an absent key succeeds too (204).
    assert api(aws, "delete-object", "--bucket", env.b, "--key", "obj") == {}


@pytest.mark.parametrize("quiet", [False, True])
def test_delete_objects(aws, env, quiet):
    long_key = "k" * 1025
    request = {"Objects": [{"Key": "obj"}, {"Key": "never"}, {"Key": long_key}], "Quiet": quiet}
    got = api(aws, "delete-objects", "--bucket", env.b, "--delete", json.dumps(request))
    assert [(e["Key"], e["Code"]) for e in got["Errors"]] == [(long_key, "KeyTooLongError")]
    deleted = sorted(d["Key"] for d in got.get("Deleted", []))
    assert deleted == ([] if quiet else ["never", "obj"])
    api_error(aws, "404", "head-object", "--bucket", env.b, "--key", "obj")


def test_copy_object(aws, env):
    got = api(aws, "copy-object", "--bucket", env.b, "--key", "copy", "--copy-source", f"{env.b}/obj",
              "--metadata-directive", "REPLACE", "--metadata", "new=yes", "--content-type", "text/plain",
              "--copy-source-if-match", env.etag)  # fmt: skip
    assert got["CopyObjectResult"]["ETag"] == env.etag
    head = api(aws, "head-object", "--bucket", env.b, "--key", "copy")
    assert (head["Metadata"], head["ContentType"], head["ContentLength"]) == ({"new": "yes"}, "text/plain", len(BODY))


def test_object_tagging(aws, env):
    args = ["--bucket", env.b, "--key", "obj"]
    assert api(aws, "get-object-tagging", *args)["TagSet"] == []
    api(aws, "put-object-tagging", *args, "--tagging", tag_set(a="1", b="two words"))
    got = api(aws, "get-object-tagging", *args)["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in got) == [("a", "1"), ("b", "two words")]
    api(aws, "delete-object-tagging", *args)
    assert api(aws, "get-object-tagging", *args)["TagSet"] == []


def test_get_object_attributes_single_part(aws, env):
    got = api(aws, "get-object-attributes", "--bucket", env.b, "--key", "obj",
              "--object-attributes", "ETag", "ObjectSize")  # fmt: skip
    assert (got["ETag"], got["ObjectSize"]) == (env.etag.strip('"'), len(BODY))


# ---------------------------------------------------------------------------
# listings
# ---------------------------------------------------------------------------

KEYS = ["a/1", "a/2", "b", "c/3", "d e"]


@pytest.fixture
def listed(s3, bucket):
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    return bucket


def keys_of(page) -> list[str]:
    return [c["Key"] for c in page.get("Contents", [])]


def prefixes_of(page) -> list[str]:
    return [p["Prefix"] for p in page.get("CommonPrefixes", [])]


@pytest.mark.parametrize("options,keys,prefixes", [
    ([], KEYS, []),
    (["--delimiter", "/"], ["b", "d e"], ["a/", "c/"]),
    (["--delimiter", "/", "--marker", "b"], ["d e"], ["c/"]),
    (["--marker", "a/2", "--max-keys", "2"], ["b", "c/3"], []),
])  # fmt: skip
def test_list_objects_v1(aws, listed, options, keys, prefixes):
    page = api(aws, "list-objects", "--bucket", listed, *options)
    assert (keys_of(page), prefixes_of(page)) == (keys, prefixes)


@pytest.mark.parametrize("options,keys,prefixes", [
    ([], KEYS, []),
    (["--start-after", "b"], ["c/3", "d e"], []),
    (["--prefix", "a/", "--delimiter", "/"], ["a/1", "a/2"], []),
    (["--delimiter", "/", "--start-after", "a/1"], ["b", "d e"], ["a/", "c/"]),
    # An explicit encoding type is not decoded by the cli: the raw, URL-encoded key shows.
    (["--encoding-type", "url", "--prefix", "d"], ["d%20e"], []),
])  # fmt: skip
def test_list_objects_v2(aws, listed, options, keys, prefixes):
    page = api(aws, "list-objects-v2", "--bucket", listed, *options)
    assert (keys_of(page), prefixes_of(page)) == (keys, prefixes)


def test_list_objects_v2_pagination(aws, listed):
    first = api(aws, "list-objects-v2", "--bucket", listed, "--page-size", "2", "--max-items", "3")
    assert keys_of(first) == KEYS[:3] and first["NextToken"]
    rest = api(aws, "list-objects-v2", "--bucket", listed, "--page-size", "2", "--starting-token", first["NextToken"])
    assert keys_of(rest) == KEYS[3:] and "NextToken" not in rest


def test_list_object_versions(aws, listed):
    got = api(aws, "list-object-versions", "--bucket", listed, "--prefix", "a/")
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in got["Versions"]] == [
        ("a/1", "null", True), ("a/2", "null", True),
    ]  # fmt: skip


# ---------------------------------------------------------------------------
# multipart
# ---------------------------------------------------------------------------


def write_parts_json(path, parts: list[tuple[int, str]]) -> str:
    path.write_text(json.dumps({"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]}))
    return f"file://{path}"


def test_multipart_round_trip(aws, env):
    big = env.tmp / "part1"
    big.write_bytes(b"p" * PART)
    args = ["--bucket", env.b, "--key", "big"]
    upload = api(aws, "create-multipart-upload", *args, "--checksum-algorithm", "CRC32")["UploadId"]
    up = ["--upload-id", upload]
    one = api(aws, "upload-part", *args, *up, "--part-number", "1", "--body", str(big), "--checksum-algorithm", "CRC32")
    two = api(aws, "upload-part-copy", *args, *up, "--part-number", "2",
              "--copy-source", f"{env.b}/obj", "--copy-source-range", "bytes=0-4")["CopyPartResult"]  # fmt: skip
    assert two["ETag"] == f'"{hashlib.md5(BODY[:5]).hexdigest()}"'
    # The upload has a checksum algorithm, so the copied part gets (and reports) its CRC32.
    assert (one["ChecksumCRC32"], two["ChecksumCRC32"]) == (crc32_b64(big.read_bytes()), crc32_b64(BODY[:5]))
    listed = api(aws, "list-parts", *args, *up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, PART), (2, 5)]
    uploads = api(aws, "list-multipart-uploads", "--bucket", env.b)["Uploads"]
    assert sorted((u["Key"], u["UploadId"]) for u in uploads) == sorted([("big", upload), ("mp", env.upload)])

    parts = [{"PartNumber": 1, "ETag": one["ETag"], "ChecksumCRC32": one["ChecksumCRC32"]},
             {"PartNumber": 2, "ETag": two["ETag"], "ChecksumCRC32": two["ChecksumCRC32"]}]  # fmt: skip
    (env.tmp / "parts.json").write_text(json.dumps({"Parts": parts}))
    done = api(aws, "complete-multipart-upload", *args, *up, "--multipart-upload", f"file://{env.tmp}/parts.json")
    composite = crc32_b64(b"".join(base64.b64decode(p["ChecksumCRC32"]) for p in parts)) + "-2"
    assert (done["ETag"].endswith('-2"'), done["ChecksumCRC32"]) == (True, composite)

    attrs = api(aws, "get-object-attributes", *args,
                "--object-attributes", "ETag", "ObjectSize", "Checksum", "ObjectParts")  # fmt: skip
    assert (attrs["ETag"], attrs["ObjectSize"]) == (done["ETag"].strip('"'), PART + 5)
    assert attrs["Checksum"] == {"ChecksumCRC32": composite, "ChecksumType": "COMPOSITE"}
    assert [(p["PartNumber"], p["Size"]) for p in attrs["ObjectParts"]["Parts"]] == [(1, PART), (2, 5)]
    part2 = api(aws, "get-object", *args, "--part-number", "2", env.out)
    assert (part2["PartsCount"], open(env.out, "rb").read()) == (2, BODY[:5])


@pytest.mark.parametrize("sizes,order,code", [
    ((PART, PART), (2, 1), "InvalidPartOrder"),
    ((10, PART), (1, 2), "EntityTooSmall"),
])  # fmt: skip
def test_complete_rejected(aws, env, sizes, order, code):
    args = ["--bucket", env.b, "--key", "bad"]
    upload = api(aws, "create-multipart-upload", *args)["UploadId"]
    up = ["--upload-id", upload]
    etags = {}
    for number, size in enumerate(sizes, start=1):
        path = env.tmp / f"part{number}"
        path.write_bytes(b"z" * size)
        etags[number] = api(aws, "upload-part", *args, *up, "--part-number", str(number), "--body", str(path))["ETag"]
    spec = write_parts_json(env.tmp / "parts.json", [(n, etags[n]) for n in order])
    api_error(aws, code, "complete-multipart-upload", *args, *up, "--multipart-upload", spec)
    api_error(aws, "404", "head-object", *args)
    api(aws, "abort-multipart-upload", *args, *up)
    api_error(aws, "NoSuchUpload", "list-parts", *args, *up)
    api_error(aws, "NoSuchUpload", "abort-multipart-upload", *args, *up)


# ---------------------------------------------------------------------------
# presign
# ---------------------------------------------------------------------------


def fetch(url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_presign(aws, env):
    url = aws("s3", "presign", f"s3://{env.b}/obj", "--expires-in", "300").stdout.strip()
    assert fetch(url) == (200, BODY)
    status, body = fetch(url.replace("obj?", "other?"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body


# ---------------------------------------------------------------------------
# versioning, object lock, lifecycle
# ---------------------------------------------------------------------------


def test_versioning_with_the_cli(aws, s3, bucket, tmp_path):
    api(aws, "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
    assert api(aws, "get-bucket-versioning", "--bucket", bucket) == {"Status": "Enabled"}
    body = tmp_path / "body"
    ids = []
    for n in range(3):
        body.write_bytes(f"version {n}".encode())
        ids.append(api(aws, "put-object", "--bucket", bucket, "--key", "k", "--body", str(body))["VersionId"])
    out = tmp_path / "out"
    got = api(aws, "get-object", "--bucket", bucket, "--key", "k", "--version-id", ids[0], str(out))
    assert got["VersionId"] == ids[0] and out.read_bytes() == b"version 0"
    marker = api(aws, "delete-object", "--bucket", bucket, "--key", "k")
    assert marker["DeleteMarker"] is True
    listed = api(aws, "list-object-versions", "--bucket", bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == list(reversed(ids))
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker["VersionId"], True)]
    api_error(aws, "404", "head-object", "--bucket", bucket, "--key", "k")
    gone = api(aws, "delete-object", "--bucket", bucket, "--key", "k", "--version-id", ids[1])
    assert gone["VersionId"] == ids[1]
    result = api(aws, "delete-objects", "--bucket", bucket, "--delete",
                 json.dumps({"Objects": [{"Key": "k", "VersionId": marker["VersionId"]}]}))  # fmt: skip
    assert result["Deleted"][0]["DeleteMarker"] is True
    assert api(aws, "head-object", "--bucket", bucket, "--key", "k")["VersionId"] == ids[2]
    api(aws, "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Suspended")
    assert api(aws, "get-bucket-versioning", "--bucket", bucket) == {"Status": "Suspended"}


def test_object_lock_with_the_cli(aws, s3, tmp_path):
    bucket = unique_bucket_name("s3api-lock")
    api(aws, "create-bucket", "--bucket", bucket, "--object-lock-enabled-for-bucket")
    try:
        api(aws, "put-object-lock-configuration", "--bucket", bucket, "--object-lock-configuration",
            json.dumps({"ObjectLockEnabled": "Enabled",
                        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}))  # fmt: skip
        config = api(aws, "get-object-lock-configuration", "--bucket", bucket)["ObjectLockConfiguration"]
        assert config["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 1}
        body = tmp_path / "body"
        body.write_bytes(BODY)
        version = api(aws, "put-object", "--bucket", bucket, "--key", "k", "--body", str(body))["VersionId"]
        assert api(aws, "get-object-retention", "--bucket", bucket, "--key", "k")["Retention"]["Mode"] == "GOVERNANCE"
        api_error(aws, "AccessDenied", "delete-object", "--bucket", bucket, "--key", "k", "--version-id", version)
        api(aws, "put-object-legal-hold", "--bucket", bucket, "--key", "k", "--legal-hold", "Status=ON")
        assert api(aws, "get-object-legal-hold", "--bucket", bucket, "--key", "k")["LegalHold"]["Status"] == "ON"
        api_error(aws, "AccessDenied", "delete-object", "--bucket", bucket, "--key", "k", "--version-id", version,
                  "--bypass-governance-retention")  # fmt: skip
        api(aws, "put-object-legal-hold", "--bucket", bucket, "--key", "k", "--legal-hold", "Status=OFF")
        api(aws, "delete-object", "--bucket", bucket, "--key", "k", "--version-id", version,
            "--bypass-governance-retention")  # fmt: skip
        api_error(aws, "InvalidBucketState", "put-bucket-versioning", "--bucket", bucket,
                  "--versioning-configuration", "Status=Suspended")  # fmt: skip
    finally:
        empty_and_delete_bucket(s3, bucket)


def test_lifecycle_with_the_cli(aws, bucket):
    rules = {"Rules": [{"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
                        "Expiration": {"Days": 30},
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 3}}]}  # fmt: skip
    api(aws, "put-bucket-lifecycle-configuration", "--bucket", bucket, "--lifecycle-configuration", json.dumps(rules))
    got = api(aws, "get-bucket-lifecycle-configuration", "--bucket", bucket)["Rules"]
    assert got == [{**rules["Rules"][0]}]
    duplicate = {"Rules": rules["Rules"] * 2}
    api_error(aws, "InvalidArgument", "put-bucket-lifecycle-configuration", "--bucket", bucket,
              "--lifecycle-configuration", json.dumps(duplicate))  # fmt: skip
    assert api(aws, "get-bucket-lifecycle-configuration", "--bucket", bucket)["Rules"] == got
    api(aws, "delete-bucket-lifecycle", "--bucket", bucket)
    api_error(aws, "NoSuchLifecycleConfiguration", "get-bucket-lifecycle-configuration", "--bucket", bucket)

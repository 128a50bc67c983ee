"""Real third-party clients end to end: rclone, s3cmd, restic and aws cli v1.

Each client is configured only through its environment or a config file in the test's tmp
dir, so nothing from the developer's home leaks in. What each one sends (ListObjects v1,
UNSIGNED-PAYLOAD + Content-MD5, signed aws-chunked without Content-Encoding, s3cmd's
namespace-less CompleteMultipartUpload, GetBucketLocation first) is in
shared docs S3-CLIENTS.md §2.

Retries are switched off or detected wherever the client allows it: a client that silently
retries a failed request would hide exactly the server bugs these tests are for.

rclone, s3cmd and restic come from Debian (`.ci/run` installs them). Without one of them a
test is skipped locally, but fails when CI is set, so CI never goes green without running it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness import client_env, empty_and_delete_bucket, unique_bucket_name
from s3util import MiB, Endpoint, file_sha256, write_random_file

# Per client command: generous for a debug build on 2 shared cores, but far below the
# minutes-long backoff of restic and s3cmd, so a retry loop fails the test instead of hanging.
COMMAND_TIMEOUT = 180.0
GiB = 1024 * MiB


def require(tool: str) -> str:
    """Path of `tool`; skip without it locally, fail without it in CI."""
    path = shutil.which(tool)
    if path:
        return path
    message = f"{tool} is not installed (apt-get install {tool}; .ci/run installs it in CI)"
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(message)
    pytest.skip(message)


def run(cmd: list[str], env: dict, cwd: Path | None = None, ok_codes=(0,),
        timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    if res.returncode not in ok_codes:
        raise AssertionError(
            f"{' '.join(cmd)} exited {res.returncode}\nstdout:\n{res.stdout[-4000:]}\n"
            f"stderr:\n{res.stderr[-4000:]}"
        )
    return res


# ---------------------------------------------------------------------------
# local trees
# ---------------------------------------------------------------------------

# Names that exercise URL encoding in keys, listings and markers.
ODD_NAMES = ["with space.txt", "ünïcödé.bin", "日本語/ファイル.txt", "plus+and%percent.txt",
             "dir with space/inner file", "a&b=c.txt"]
SMALL_SIZES = [0, 1, 100, 1000, 4096, 65_537, 300_000, MiB + 1]


def make_tree(root: Path, count: int = 200, big_bytes: int = 20 * MiB,
              seed: int = 7) -> dict[str, str]:
    """`count` files in nested dirs (one of `big_bytes`, several empty, odd names);
    return {relative path: sha256}. Mtimes are an hour back, so a later edit is newer."""
    rng = random.Random(seed)
    names = ["big/twenty.bin", "empty-top", "d0/empty-nested", *ODD_NAMES]
    while len(names) < count:
        depth = rng.randrange(4)
        dirs = [f"d{rng.randrange(5)}" for _ in range(depth)]
        names.append("/".join([*dirs, f"f{len(names):03d}.dat"]))
    sizes = {name: rng.choice(SMALL_SIZES) for name in names}
    sizes.update({"big/twenty.bin": big_bytes, "empty-top": 0, "d0/empty-nested": 0})
    an_hour_ago = time.time() - 3600
    digests = {}
    for rel, size in sizes.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        digests[rel] = write_random_file(path, size)
        os.utime(path, (an_hour_ago, an_hour_ago))
    return digests


def tree_digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): file_sha256(p) for p in root.rglob("*") if p.is_file()}


def mutate_tree(root: Path, digests: dict[str, str], seed: int = 11) -> tuple[set[str], set[str]]:
    """Rewrite a few files (new size, new content, mtime now), delete a few, add two.
    Updates `digests`; returns (written paths, deleted paths)."""
    rng = random.Random(seed)
    small = sorted(rel for rel in digests if not rel.startswith("big/"))
    changed = set(rng.sample(small, 6))
    deleted = set(rng.sample(sorted(set(small) - changed), 5))
    for rel in changed:
        digests[rel] = write_random_file(root / rel, (root / rel).stat().st_size + 17)
    for rel in deleted:
        (root / rel).unlink()
        del digests[rel]
    for rel in ("new/added one.txt", "d1/added-two.bin"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        digests[rel] = write_random_file(root / rel, 5000)
        changed.add(rel)
    return changed, deleted


def bucket_keys(s3, bucket: str, prefix: str = "") -> dict[str, int]:
    """{key: size} of every object under prefix (ListObjectsV2, paginated)."""
    keys, token = {}, {}
    while True:
        page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, **token)
        keys.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
        if not page.get("IsTruncated"):
            return keys
        token = {"ContinuationToken": page["NextContinuationToken"]}


def bucket_exists(s3, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except ClientError as exc:
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404, exc.response
        return False


def drop_bucket(s3, bucket: str):
    """Best-effort cleanup of a bucket a test may have left behind."""
    try:
        for key in bucket_keys(s3, bucket):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)
    except ClientError:
        pass


@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "client-home"
    path.mkdir()
    return path


def base_env(server: Endpoint, home: Path) -> dict:
    """aws cli style env (keys, region, no CA bundle, no proxy) with HOME in the tmp dir."""
    env = client_env(server, home)
    env = {k: v for k, v in env.items() if not k.startswith(("RCLONE_", "RESTIC_", "S3CMD_"))}
    env["HOME"] = str(home)
    return env


# ---------------------------------------------------------------------------
# rclone (provider=Other: ListObjects v1, UNSIGNED-PAYLOAD + Content-MD5)
# ---------------------------------------------------------------------------


@pytest.fixture
def rclone(server, home):
    exe = require("rclone")
    env = base_env(server, home)
    config = home / "rclone.conf"
    config.write_text("")
    env.update(
        RCLONE_CONFIG=str(config),
        RCLONE_CONFIG_MX_TYPE="s3",
        RCLONE_CONFIG_MX_PROVIDER="Other",
        RCLONE_CONFIG_MX_ENDPOINT=server.url,
        RCLONE_CONFIG_MX_ACCESS_KEY_ID=server.access_key,
        RCLONE_CONFIG_MX_SECRET_ACCESS_KEY=server.secret_key,
        RCLONE_CONFIG_MX_REGION="us-east-1",
        RCLONE_CACHE_DIR=str(home / "rclone-cache"),
    )
    strict = ["--retries", "1", "--low-level-retries", "1", "--stats", "0"]

    def call(*args: str, ok_codes=(0,)) -> subprocess.CompletedProcess:
        return run([exe, *args, *strict], env, ok_codes=ok_codes)

    return call


# rclone's own multipart path (its default cutoff is 200 MiB): the 20 MiB file goes up in
# 5 MiB UNSIGNED-PAYLOAD parts, and its MD5 lands in X-Amz-Meta-Md5chksum for `check --checksum`.
RCLONE_MULTIPART = ("--s3-upload-cutoff", "8M", "--s3-chunk-size", "5M")


def assert_rclone_check_clean(result: subprocess.CompletedProcess, files: int):
    assert result.returncode == 0, result.stderr
    assert "0 differences found" in result.stderr, result.stderr
    assert f"{files} matching files" in result.stderr, result.stderr


def test_rclone_sync_check_modify_and_back(rclone, s3, tmp_path):
    bucket = unique_bucket_name("rclone")
    local, back = tmp_path / "local", tmp_path / "back"
    digests = make_tree(local)
    try:
        rclone("mkdir", f"mx:{bucket}")
        assert bucket_exists(s3, bucket)
        rclone("sync", str(local), f"mx:{bucket}/tree", *RCLONE_MULTIPART)
        assert bucket_keys(s3, bucket, "tree/") == {
            f"tree/{rel}": (local / rel).stat().st_size for rel in digests
        }
        assert_rclone_check_clean(rclone("check", str(local), f"mx:{bucket}/tree"), len(digests))
        big = s3.head_object(Bucket=bucket, Key="tree/big/twenty.bin")
        assert big["ETag"].strip('"').endswith("-4"), "expected rclone's 5 MiB parts"
        listed = rclone("lsf", "-R", "--files-only", f"mx:{bucket}/tree").stdout.splitlines()
        assert sorted(listed) == sorted(digests)

        _, deleted = mutate_tree(local, digests)
        rclone("sync", str(local), f"mx:{bucket}/tree", *RCLONE_MULTIPART)
        keys = bucket_keys(s3, bucket, "tree/")
        assert set(keys) == {f"tree/{rel}" for rel in digests}
        assert not {f"tree/{rel}" for rel in deleted} & set(keys)
        assert_rclone_check_clean(rclone("check", str(local), f"mx:{bucket}/tree"), len(digests))
        # A content change the size does not reveal: --checksum compares MD5 with the ETag.
        assert_rclone_check_clean(
            rclone("check", "--checksum", str(local), f"mx:{bucket}/tree"), len(digests))

        rclone("sync", f"mx:{bucket}/tree", str(back))
        assert tree_digests(back) == digests
    finally:
        drop_bucket(s3, bucket)


def test_rclone_copyto_delete_purge(rclone, s3, tmp_path):
    bucket = unique_bucket_name("rclone-purge")
    src = tmp_path / "one file.bin"
    digest = write_random_file(src, 3 * MiB + 5)
    try:
        rclone("mkdir", f"mx:{bucket}")
        rclone("copyto", str(src), f"mx:{bucket}/renamed/ü copy.bin")
        head = s3.head_object(Bucket=bucket, Key="renamed/ü copy.bin")
        assert head["ContentLength"] == 3 * MiB + 5
        assert "mtime" in head["Metadata"], head["Metadata"]
        rclone("copyto", f"mx:{bucket}/renamed/ü copy.bin", str(tmp_path / "back.bin"))
        assert file_sha256(tmp_path / "back.bin") == digest

        for rel in ("keep/a.txt", "gone/b.txt", "gone/deeper/c.txt"):
            s3.put_object(Bucket=bucket, Key=rel, Body=b"x" * 10)
        rclone("delete", f"mx:{bucket}/gone")
        assert set(bucket_keys(s3, bucket)) == {"renamed/ü copy.bin", "keep/a.txt"}

        rclone("purge", f"mx:{bucket}")
        assert not bucket_exists(s3, bucket)
    finally:
        drop_bucket(s3, bucket)


# ---------------------------------------------------------------------------
# s3cmd (v1 listing with trailing slash, 15 MiB parts, namespace-less Complete XML)
# ---------------------------------------------------------------------------


@pytest.fixture
def s3cmd(server, home):
    exe = require("s3cmd")
    env = base_env(server, home)
    config = home / ".s3cfg"
    config.write_text(
        "[default]\n"
        f"access_key = {server.access_key}\n"
        f"secret_key = {server.secret_key}\n"
        f"host_base = {server.netloc}\n"
        f"host_bucket = {server.netloc}\n"
        "bucket_location = us-east-1\n"
        "use_https = False\n"
        "signature_v2 = False\n"
        "check_ssl_certificate = False\n"
        "multipart_chunk_size_mb = 15\n"
        "progress_meter = False\n"
    )

    def call(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        res = run([exe, "-c", str(config), *args], env, cwd=cwd)
        # s3cmd retries failed requests on its own, with sleeps; a retry is a server error.
        assert "Retrying" not in res.stderr and "ERROR" not in res.stderr, res.stderr
        return res

    return call


def test_s3cmd_put_get_sync(s3cmd, s3, tmp_path):
    bucket = unique_bucket_name("s3cmd")
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small_digest = write_random_file(small, 777)
    big_digest = write_random_file(big, 40 * MiB)
    try:
        assert f"Bucket 's3://{bucket}/' created" in s3cmd("mb", f"s3://{bucket}").stdout
        s3cmd("put", str(small), f"s3://{bucket}/small.txt")
        s3cmd("put", str(big), f"s3://{bucket}/dir/big.bin")
        head = s3.head_object(Bucket=bucket, Key="dir/big.bin")
        assert head["ContentLength"] == 40 * MiB
        assert head["ETag"].strip('"').endswith("-3"), "expected 15 + 15 + 10 MiB parts"

        s3cmd("get", f"s3://{bucket}/small.txt", str(tmp_path / "small.back"))
        s3cmd("get", f"s3://{bucket}/dir/big.bin", str(tmp_path / "big.back"))
        assert file_sha256(tmp_path / "small.back") == small_digest
        assert file_sha256(tmp_path / "big.back") == big_digest

        top = s3cmd("ls", f"s3://{bucket}").stdout
        assert f"DIR  s3://{bucket}/dir/" in top and f"s3://{bucket}/small.txt" in top
        assert "big.bin" not in top
        everything = s3cmd("la").stdout
        assert f"s3://{bucket}/small.txt" in everything

        up, down = tmp_path / "up", tmp_path / "down"
        digests = make_tree(up, count=40, big_bytes=2 * MiB)
        s3cmd("sync", f"{up}/", f"s3://{bucket}/tree/")
        assert set(bucket_keys(s3, bucket, "tree/")) == {f"tree/{rel}" for rel in digests}
        again = s3cmd("sync", f"{up}/", f"s3://{bucket}/tree/")
        assert "upload:" not in again.stdout, "a second sync re-uploaded unchanged files"
        s3cmd("sync", f"s3://{bucket}/tree/", f"{down}/")
        assert tree_digests(down) == digests

        s3cmd("del", f"s3://{bucket}/small.txt")
        assert "small.txt" not in bucket_keys(s3, bucket)
        s3cmd("del", "--recursive", "--force", f"s3://{bucket}")
        assert bucket_keys(s3, bucket) == {}
        s3cmd("rb", f"s3://{bucket}")
        assert not bucket_exists(s3, bucket)
    finally:
        drop_bucket(s3, bucket)


def test_s3cmd_setcors_and_delcors(s3cmd, s3, tmp_path):
    bucket = unique_bucket_name("s3cmd-cors")
    rules = tmp_path / "cors.xml"
    rules.write_text(
        "<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
        "<AllowedHeader>*</AllowedHeader><MaxAgeSeconds>300</MaxAgeSeconds>"
        "</CORSRule></CORSConfiguration>"
    )
    try:
        s3.create_bucket(Bucket=bucket)
        s3cmd("setcors", str(rules), f"s3://{bucket}")
        assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [{
            "AllowedOrigins": ["https://app.example.com"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["*"],
            "MaxAgeSeconds": 300,
        }]  # fmt: skip
        s3cmd("delcors", f"s3://{bucket}")
        with pytest.raises(ClientError) as gone:
            s3.get_bucket_cors(Bucket=bucket)
        assert gone.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    finally:
        drop_bucket(s3, bucket)


# ---------------------------------------------------------------------------
# restic (minio-go: GetBucketLocation, STREAMING-AWS4-HMAC-SHA256-PAYLOAD)
# ---------------------------------------------------------------------------


@pytest.fixture
def restic(server, home, s3):
    bucket = unique_bucket_name("restic")
    yield restic_runner(server, home, bucket)
    drop_bucket(s3, bucket)


@pytest.fixture
def locked_restic(server, home, s3):
    """restic on a bucket with object lock (so versioned) and a default GOVERNANCE retention:
    every object restic writes is immutable for a day."""
    bucket = unique_bucket_name("restic-locked")
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    yield bucket, restic_runner(server, home, bucket)
    empty_and_delete_bucket(s3, bucket)


def restic_runner(server, home, bucket):
    exe = require("restic")
    env = base_env(server, home)
    env.update(
        RESTIC_REPOSITORY=f"s3:{server.url}/{bucket}",
        RESTIC_PASSWORD="compat-suite-password",
        RESTIC_CACHE_DIR=str(home / "restic-cache"),
    )

    def call(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        res = run([exe, "--quiet", *args], env, cwd=cwd)
        # restic's backend retries with backoff and prints what it retried.
        assert "retrying" not in res.stderr.lower(), res.stderr
        return res

    return call


def test_restic_backup_check_restore(restic, tmp_path):
    digests = make_tree(tmp_path / "tree", count=120)
    restic("init")
    restic("backup", "--host", "compat", "tree", cwd=tmp_path)
    snapshots = json.loads(restic("snapshots", "--json").stdout)
    assert len(snapshots) == 1 and snapshots[0]["paths"] == [str(tmp_path / "tree")]
    restic("check", "--read-data")

    restic("restore", "latest", "--target", str(tmp_path / "restored"))
    assert tree_digests(tmp_path / "restored" / "tree") == digests

    mutate_tree(tmp_path / "tree", digests)
    restic("backup", "--host", "compat", "tree", cwd=tmp_path)
    assert len(json.loads(restic("snapshots", "--json").stdout)) == 2
    restic("forget", "--keep-last", "1", "--prune")
    assert len(json.loads(restic("snapshots", "--json").stdout)) == 1
    restic("check", "--read-data")
    restic("restore", "latest", "--target", str(tmp_path / "restored-2"))
    assert tree_digests(tmp_path / "restored-2" / "tree") == digests


# ---------------------------------------------------------------------------
# aws cli v1: s3 sync and a 1 GiB multipart cp
# ---------------------------------------------------------------------------


def synced(result: subprocess.CompletedProcess, verb: str, bucket: str, prefix: str) -> set[str]:
    """Relative keys of the `verb:` lines ("upload: ./x to s3://b/p/x") of an s3 sync."""
    marker = f"s3://{bucket}/{prefix}"
    out = set()
    for line in result.stdout.splitlines():
        if line.startswith(f"{verb}:") and marker in line:
            out.add(line.split(marker, 1)[1])
    return out


def test_awscli_sync_changes_only_and_delete(aws, s3, tmp_path):
    bucket = unique_bucket_name("cli-sync")
    local, down = tmp_path / "local", tmp_path / "down"
    digests = make_tree(local, count=60, big_bytes=9 * MiB)
    try:
        aws("s3", "mb", f"s3://{bucket}")
        first = aws("s3", "sync", str(local), f"s3://{bucket}/t/", "--no-progress")
        assert synced(first, "upload", bucket, "t/") == set(digests)
        sizes = {f"t/{rel}": (local / rel).stat().st_size for rel in digests}
        assert bucket_keys(s3, bucket) == sizes

        changed, deleted = mutate_tree(local, digests)
        second = aws("s3", "sync", str(local), f"s3://{bucket}/t/", "--no-progress")
        assert synced(second, "upload", bucket, "t/") == changed
        assert synced(second, "delete", bucket, "t/") == set()
        assert set(bucket_keys(s3, bucket)) >= {f"t/{rel}" for rel in deleted}

        third = aws("s3", "sync", str(local), f"s3://{bucket}/t/", "--delete", "--no-progress")
        assert synced(third, "upload", bucket, "t/") == set()
        assert synced(third, "delete", bucket, "t/") == deleted
        assert set(bucket_keys(s3, bucket)) == {f"t/{rel}" for rel in digests}

        aws("s3", "sync", f"s3://{bucket}/t/", str(down), "--no-progress")
        assert tree_digests(down) == digests
    finally:
        drop_bucket(s3, bucket)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_awscli_cp_1gib_multipart(aws, s3, tmp_path):
    bucket = unique_bucket_name("cli-1gib")
    src, back = tmp_path / "one-gib.bin", tmp_path / "one-gib.back"
    try:
        digest = write_random_file(src, GiB)
        aws("s3", "mb", f"s3://{bucket}")
        aws("s3", "cp", str(src), f"s3://{bucket}/one-gib.bin", "--only-show-errors", timeout=900)
        src.unlink()  # keep at most 1 GiB on disk
        head = s3.head_object(Bucket=bucket, Key="one-gib.bin")
        assert head["ContentLength"] == GiB
        assert head["ETag"].strip('"').endswith("-128"), "expected 128 parts of 8 MiB"
        aws("s3", "cp", f"s3://{bucket}/one-gib.bin", str(back), "--only-show-errors", timeout=900)
        assert back.stat().st_size == GiB
        assert file_sha256(back) == digest
    finally:
        src.unlink(missing_ok=True)
        back.unlink(missing_ok=True)
        drop_bucket(s3, bucket)


def test_restic_on_a_versioned_locked_bucket(locked_restic, s3, tmp_path):
    """A backup tool that asks for immutability gets it: restic works unchanged on a bucket
    with object lock, its prunes only write delete markers, and every version it wrote stays
    readable and undeletable until its retention ends."""
    bucket, restic = locked_restic
    digests = make_tree(tmp_path / "tree", count=40)
    restic("init")
    restic("backup", "--host", "compat", "tree", cwd=tmp_path)
    mutate_tree(tmp_path / "tree", digests)
    restic("backup", "--host", "compat", "tree", cwd=tmp_path)
    restic("forget", "--keep-last", "1", "--prune")
    restic("check", "--read-data")
    restic("restore", "latest", "--target", str(tmp_path / "restored"))
    assert tree_digests(tmp_path / "restored" / "tree") == digests
    versions = s3.list_object_versions(Bucket=bucket)
    written = versions.get("Versions", [])
    assert written and versions.get("DeleteMarkers"), "prune deleted nothing"
    sample = written[-1]
    retention = s3.get_object_retention(Bucket=bucket, Key=sample["Key"], VersionId=sample["VersionId"])
    assert retention["Retention"]["Mode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=sample["Key"], VersionId=sample["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # What prune removed is still there underneath its delete markers.
    for marker in versions["DeleteMarkers"][:3]:
        older = [v for v in written if v["Key"] == marker["Key"]]
        assert older
        s3.head_object(Bucket=bucket, Key=marker["Key"], VersionId=older[0]["VersionId"])

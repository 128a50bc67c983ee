"""aws cli v1 (`python -m awscli`) end to end."""

import json
import os
import time

import pytest

from harness import unique_bucket_name
from s3util import MiB, file_sha256, write_random_file

TREE = {
    "a.txt": 10,
    "empty": 0,
    "dir/b.bin": 70_000,
    "dir/sub/c.bin": 4096,
    "dir/sub/d e.txt": 5,
    "ü/unicode.txt": 33,
}


def make_tree(root, files: dict[str, int]) -> dict[str, str]:
    """Create files of the given sizes under root; return {relative path: sha256}.

    Their mtimes are set an hour back, so `s3 sync` (which re-uploads a local file newer
    than the object's whole-second LastModified) sees them as unchanged once uploaded.
    """
    digests = {}
    an_hour_ago = time.time() - 3600
    for rel, size in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        digests[rel] = write_random_file(path, size)
        os.utime(path, (an_hour_ago, an_hour_ago))
    return digests


def tree_digests(root) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): file_sha256(p) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def cli_bucket(aws, s3):
    name = unique_bucket_name("cli")
    result = aws("s3", "mb", f"s3://{name}")
    assert f"make_bucket: {name}" in result.stdout
    yield name
    aws("s3", "rb", f"s3://{name}", "--force", check=False)


def test_mb_ls_rb(aws, s3):
    name = unique_bucket_name("cli-mb")
    aws("s3", "mb", f"s3://{name}")
    assert name in aws("s3", "ls").stdout
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    result = aws("s3", "rb", f"s3://{name}")
    assert f"remove_bucket: {name}" in result.stdout
    assert name not in aws("s3", "ls").stdout


def test_mb_existing_bucket_fails(aws, cli_bucket):
    result = aws("s3", "mb", f"s3://{cli_bucket}", check=False)
    assert result.returncode != 0
    assert "BucketAlreadyOwnedByYou" in result.stderr


def test_cp_small_round_trip(aws, s3, cli_bucket, tmp_path):
    src, dst = tmp_path / "small.txt", tmp_path / "back.txt"
    digest = write_random_file(src, 1234)
    aws("s3", "cp", str(src), f"s3://{cli_bucket}/folder/small.txt")
    assert s3.head_object(Bucket=cli_bucket, Key="folder/small.txt")["ContentLength"] == 1234
    aws("s3", "cp", f"s3://{cli_bucket}/folder/small.txt", str(dst))
    assert file_sha256(dst) == digest


@pytest.mark.slow
def test_cp_100mib_multipart(aws, s3, cli_bucket, tmp_path):
    src, dst = tmp_path / "big.bin", tmp_path / "big.back"
    digest = write_random_file(src, 100 * MiB)
    aws("s3", "cp", str(src), f"s3://{cli_bucket}/big.bin", "--only-show-errors")
    head = s3.head_object(Bucket=cli_bucket, Key="big.bin")
    assert head["ContentLength"] == 100 * MiB
    assert head["ETag"].rstrip('"').rsplit("-", 1)[1] == "13", "expected 13 parts of 8 MiB"
    src.unlink()
    aws("s3", "cp", f"s3://{cli_bucket}/big.bin", str(dst), "--only-show-errors")
    assert file_sha256(dst) == digest


def test_ls_and_recursive(aws, cli_bucket, tmp_path):
    make_tree(tmp_path / "tree", TREE)
    aws("s3", "cp", str(tmp_path / "tree"), f"s3://{cli_bucket}/", "--recursive", "--only-show-errors")

    top = aws("s3", "ls", f"s3://{cli_bucket}/").stdout
    assert "PRE dir/" in top and "PRE ü/" in top
    assert "a.txt" in top and "c.bin" not in top

    listed = aws("s3", "ls", f"s3://{cli_bucket}/", "--recursive").stdout.splitlines()
    keys = sorted(line.split(None, 3)[3] for line in listed if line.strip())
    assert keys == sorted(TREE)
    sizes = {line.split(None, 3)[3]: int(line.split(None, 3)[2]) for line in listed if line.strip()}
    assert sizes == TREE


def test_rm(aws, s3, cli_bucket, tmp_path):
    make_tree(tmp_path / "tree", TREE)
    aws("s3", "cp", str(tmp_path / "tree"), f"s3://{cli_bucket}/", "--recursive", "--only-show-errors")
    aws("s3", "rm", f"s3://{cli_bucket}/a.txt")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=cli_bucket)["Contents"]}
    assert keys == set(TREE) - {"a.txt"}
    aws("s3", "rm", f"s3://{cli_bucket}/dir/", "--recursive")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=cli_bucket)["Contents"]}
    assert keys == {"empty", "ü/unicode.txt"}


def test_sync_up_and_down(aws, s3, cli_bucket, tmp_path):
    up, down = tmp_path / "up", tmp_path / "down"
    digests = make_tree(up, TREE)
    aws("s3", "sync", str(up), f"s3://{cli_bucket}/tree", "--only-show-errors")
    aws("s3", "sync", f"s3://{cli_bucket}/tree", str(down), "--only-show-errors")
    assert tree_digests(down) == digests

    # A second sync with nothing changed transfers nothing.
    again = aws("s3", "sync", str(up), f"s3://{cli_bucket}/tree")
    assert "upload:" not in again.stdout

    # A changed file and a deletion propagate.
    digests["a.txt"] = write_random_file(up / "a.txt", 99)
    (up / "dir" / "b.bin").unlink()
    del digests["dir/b.bin"]
    aws("s3", "sync", str(up), f"s3://{cli_bucket}/tree", "--delete", "--only-show-errors")
    aws("s3", "sync", f"s3://{cli_bucket}/tree", str(down), "--delete", "--only-show-errors")
    assert tree_digests(down) == digests


def test_s3api_head_object(aws, s3, cli_bucket):
    s3.put_object(Bucket=cli_bucket, Key="h k", Body=b"12345", ContentType="text/plain", Metadata={"a": "b"})
    out = json.loads(aws("s3api", "head-object", "--bucket", cli_bucket, "--key", "h k").stdout)
    assert out["ContentLength"] == 5
    assert out["ContentType"] == "text/plain"
    assert out["Metadata"] == {"a": "b"}
    assert out["ETag"] == '"827ccb0eea8a706c4c34a16891f84e7b"'

    missing = aws("s3api", "head-object", "--bucket", cli_bucket, "--key", "nope", check=False)
    assert missing.returncode != 0 and "404" in missing.stderr

"""Security issue 14, finding 7: the data directory is private to the user running MaxIOFS.

Segments hold the bytes of unencrypted objects; meta.sqlite, the master key file and the root
credentials are in the same tree. Before the fix they were 0644 in 0755 directories and a
plaintext object could be read as `nobody`. Now every directory is 0700 and every file 0600,
whatever the caller's umask, and a start tightens a tree an older version left open.
"""

import os
import shutil
import stat
import subprocess
from pathlib import Path

from harness import make_client


def open_entries(root: Path) -> list[str]:
    """Every file or directory below `root` (root included) that group or other may access."""
    found = []
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.lstat().st_mode
        if stat.S_IMODE(mode) & 0o077:
            found.append(f"{path.relative_to(root.parent)} {stat.filemode(mode)}")
    return found


def test_data_dir_is_private_even_under_an_open_umask(server_factory):
    server = server_factory.create("private")
    old_umask = os.umask(0o022)  # the server inherits it; it must not matter
    try:
        server.start()
    finally:
        os.umask(old_umask)
    s3 = make_client(server.endpoint)
    s3.create_bucket(Bucket="private")
    s3.put_object(Bucket="private", Key="plain", Body=b"plaintext object bytes " * 1000)
    assert open_entries(server.data_dir) == []
    segments = [p for p in server.data_dir.rglob("*") if p.is_file() and p.stat().st_size >= 23000]
    assert segments, "no segment file found"
    if os.geteuid() == 0 and shutil.which("setpriv"):
        # The attack of the review: read the object's segment as an unprivileged user.
        result = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", str(segments[0])],
            capture_output=True)
        assert result.returncode != 0
        assert b"plaintext object bytes" not in result.stdout
        assert b"Permission denied" in result.stderr


def test_start_tightens_a_tree_left_open(server_factory):
    server = server_factory.create("loose")
    server.start()
    make_client(server.endpoint).create_bucket(Bucket="loose")
    server.stop()
    # What an older version (or a `cp -r` under umask 022) left behind.
    for path in [server.data_dir, *server.data_dir.rglob("*")]:
        if path.is_symlink() or path.is_socket():
            continue
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert open_entries(server.data_dir) != []
    server.start()
    assert open_entries(server.data_dir) == []
    assert "group and other permissions removed" in server.stderr_path.read_text()
    assert make_client(server.endpoint).head_bucket(Bucket="loose")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_root_credentials_file_is_private(server_factory):
    server = server_factory.create("generated", credentials=None)
    server.start()
    credentials = server.data_dir / "root-credentials"
    assert credentials.exists()
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700


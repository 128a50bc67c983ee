"""On-disk helpers for the storage tests: find where an object's bytes live and damage them.

Reads each partition's SQLite with the stdlib sqlite3 module (read-only; a live server keeps
serving) and decodes the extents blob (docs/design/storage-format.md): version u8, count u32,
then (segment u32, offset u64, length u64) per extent, then (version 2) the check block
CRC32Cs.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import subprocess
from pathlib import Path

from harness import maxiofs_bin


def extents_of(data_dir: Path, bucket: str, key: str) -> tuple[Path, list[tuple[int, int, int]]]:
    """(partition dir, [(segment id, offset, length)]) of an object, in object order."""
    for meta in sorted((Path(data_dir) / "partitions").glob("*/meta.sqlite")):
        connection = sqlite3.connect(f"file:{meta}?mode=ro", uri=True)
        try:
            row = connection.execute(
                "SELECT extents FROM objects WHERE bucket = ? AND key = ?", (bucket, key.encode())
            ).fetchone()
        finally:
            connection.close()
        if row is None:
            continue
        blob = row[0]
        count = struct.unpack_from("<I", blob, 1)[0]
        extents = [struct.unpack_from("<IQQ", blob, 5 + 20 * i) for i in range(count)]
        return meta.parent, extents
    raise KeyError(f"{bucket}/{key} not found on disk")


def flip_byte(data_dir: Path, bucket: str, key: str, position: int) -> None:
    """Flips one bit of the object's byte at `position`, in place on disk (as bit rot would)."""
    partition, extents = extents_of(data_dir, bucket, key)
    for segment_id, offset, length in extents:
        if position < length:
            path = partition / "segments" / f"{segment_id:08}.seg"
            fd = os.open(path, os.O_RDWR)
            try:
                byte = os.pread(fd, 1, offset + position)
                os.pwrite(fd, bytes([byte[0] ^ 0x10]), offset + position)
                os.fsync(fd)
            finally:
                os.close(fd)
            return
        position -= length
    raise ValueError("position past the end of the object")


def run_verify(data_dir: Path) -> subprocess.CompletedProcess:
    """`maxiofs verify --data-dir` on a data dir; returns the finished process."""
    return subprocess.run(
        [str(maxiofs_bin()), "verify", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def allocated_bytes(path: Path) -> int:
    """Bytes the file system really holds for a tree (st_blocks): holes do not count."""
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(directory, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total

#!/usr/bin/env python3
"""First whole-server measurement: PUT and GET at a given size through wrk with presigned
URLs against a running server, reporting ops/s, MB/s and operations per server CPU-second
(utime+stime of the server PID from /proc, which stays stable on a noisy shared machine).

    perf/wrk/run.py --endpoint http://127.0.0.1:9000 --pid PID --size 4096 --seconds 10
"""

import argparse
import os
import re
import subprocess
import tempfile
from pathlib import Path

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(url_file: Path, endpoint: str, method: str, size: int, seconds: int, connections: int) -> dict:
    cmd = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
        "-s", str(HERE / "presigned.lua"), endpoint, "--", str(url_file), method, str(size),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    return {"requests": requests, "errors": int(errors.group(1)) if errors else 0, "p50": p50, "p99": p99}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--keys", type=int, default=512)
    args = parser.parse_args()
    s3 = boto3.client(
        "s3", endpoint_url=args.endpoint, region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )  # fmt: skip
    bucket = "bench"
    try:
        s3.create_bucket(Bucket=bucket)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    with tempfile.TemporaryDirectory() as tmp:
        for method, client_method in (("PUT", "put_object"), ("GET", "get_object")):
            urls = Path(tmp) / f"{method}.txt"
            lines = []
            for i in range(args.keys):
                url = s3.generate_presigned_url(client_method, Params={"Bucket": bucket, "Key": f"k{args.size}/{i}"}, ExpiresIn=3600)
                lines.append("/" + url.split("/", 3)[3])  # path and query, wrk adds the host
            urls.write_text("\n".join(lines) + "\n")
            before = cpu_seconds(args.pid)
            result = run_wrk(urls, args.endpoint, method, args.size, args.seconds, args.connections)
            cpu = cpu_seconds(args.pid) - before
            ops = result["requests"] / args.seconds
            print(
                f"{method} {args.size} B: {ops:,.0f} ops/s, {ops * args.size / 1e6:,.1f} MB/s, "
                f"p50 {result['p50']}, p99 {result['p99']}, server CPU {cpu:.2f} s, "
                f"{result['requests'] / cpu:,.0f} ops per server CPU-second, errors {result['errors']}"
            )


if __name__ == "__main__":
    main()

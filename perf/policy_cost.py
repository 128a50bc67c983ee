#!/usr/bin/env python3
"""What authorization costs per request (issue 17): 4 KiB GETs of the same keys on one
MaxIOFS, signed by identities that take different paths through `auth::check_bucket_policy`,
alternating within every round, in server CPU microseconds per operation (utime + stime of
the server over the phase, as perf/compare.py measures):

- root: never evaluated (the baseline);
- tenant admin without policies, bucket without a policy: the fast path (no evaluation);
- user with the built-in `readwrite`: evaluated, without building condition keys;
- the same user on a bucket with a 20-statement policy with conditions: keys built, 21
  statements evaluated.

    cargo build --release -p maxiofs -p loadgen
    perf/policy_cost.py --rounds 3 --seconds 8 --out perf/results/policy.md
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "compat"))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

import compare  # noqa: E402  (perf/compare.py: Server, fmt)
from control_client import ControlClient, access_key, snapshot, tenant, user  # noqa: E402

BUCKET = "bench"
KEYS = {"anna": ("AKPOLICYANNA0001", "policy-anna-secret-0123456789"),
        "alice": ("AKPOLICYALICE001", "policy-alice-secret-012345678")}


def twenty_statements() -> str:
    """19 statements that never apply to a GET (other actions, conditions on other ranges),
    then the one that allows it: every GET walks all of them."""
    statements = [
        {"Sid": f"Deny{i}", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/locked{i}/*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": f"10.{i}.0.0/16"}}}
        for i in range(19)
    ]
    statements.append({"Sid": "Read", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{BUCKET}/*",
                       "Condition": {"StringLike": {"aws:UserAgent": "*"}}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def push_identity(data_dir):
    users = [user("anna", "acme", role="tenant_admin", policy_ids=()), user("alice", "acme")]
    keys = [access_key(key_id, secret, name) for name, (key_id, secret) in KEYS.items()]
    with ControlClient(data_dir) as control:
        control.put_identity(snapshot(1, [tenant("acme")], users, keys))


def load(args, server, who, prepare, out_json):
    key_id, secret = KEYS.get(who, (compare.ACCESS_KEY, compare.SECRET_KEY))
    cmd = [args.loadgen, "--endpoint", server.endpoint, "--bucket", BUCKET, "--key-prefix", "p/",
           "--duration", f"{args.seconds}s", "--warmup", "1s", "--pid", str(server.proc.pid),
           "--label", who, "--json", str(out_json), "--mix", "get", "--size", "4KiB", "--keys", "512",
           "--connections", "32"]
    if prepare:
        cmd.append("--prepare")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.stdout.write(result.stdout + result.stderr)
        raise SystemExit(f"loadgen failed for {who}")
    return json.loads(Path(out_json).read_text())


def main():
    args = compare.cost_arguments("policy-cost.md")
    work = Path(tempfile.mkdtemp(prefix="maxiofs-policy-cost-"))
    server = compare.Server("maxiofs", work, args)
    root = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=compare.ACCESS_KEY,
                        aws_secret_access_key=compare.SECRET_KEY, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))
    phases = [("root", "root", False), ("tenant admin, no policy", "anna", False),
              ("user with readwrite", "alice", False), ("user, 20-statement bucket policy", "alice", True)]
    results = {name: [] for name, _, _ in phases}
    try:
        push_identity(server.dir / "data")
        load(args, server, "anna", True, work / "prepare.json")  # the bucket is acme's
        for round_index in range(args.rounds):
            for name, who, with_policy in phases:
                if with_policy:
                    root.put_bucket_policy(Bucket=BUCKET, Policy=twenty_statements())
                run = load(args, server, who, False, work / f"{round_index}-{who}.json")
                if with_policy:
                    root.delete_bucket_policy(Bucket=BUCKET)
                results[name].append(compare.cpu_us(run))
                print(f"round {round_index + 1} {name}: {compare.cpu_us(run):.1f} us/op", flush=True)
    finally:
        server.stop()
    base = compare.median(results["root"])
    lines = ["| identity and bucket | server CPU us / 4 KiB GET (median) | vs root |", "|---|---|---|"]
    for name, _, _ in phases:
        value = compare.median(results[name])
        lines.append(f"| {name} | {compare.fmt(value, 1)} | {compare.fmt(value / base, 3)}x |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

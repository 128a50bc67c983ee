#!/usr/bin/env python3
"""Side by side on 127.0.0.1: MaxIOFS and the peers that install here, the same workloads
against each in one run, servers alternating within every round (A B A B), with this
machine's limits measured in the same run (fio O_DIRECT sequential write, MD5 per core).

Every phase is one `maxiofs-load` run (bench/loadgen); the figure that matters is operations
per server CPU-second (utime + stime of the server process over the phase), which stays stable
on a shared machine where wall-clock throughput drifts. Writes a markdown table and the raw
JSON of every phase.

    cargo build --release -p maxiofs -p loadgen
    cargo install s3s-fs --version 0.14.1 --features binary --locked
    pip install 'moto[server]'          # optional: --servers maxiofs,s3s-fs,moto
    perf/compare.py --rounds 2 --seconds 10 --out perf/results/run.md

Against an earlier MaxIOFS (same flags, same alternation; ratios are current / previous):

    git worktree add ../prev <commit> --detach && (cd ../prev && cargo build --release -p maxiofs)
    perf/compare.py --servers maxiofs,maxiofs-prev --maxiofs-prev ../prev/target/release/maxiofs

Workloads whose name starts with "versioned" or "LIST-versions" run in a bucket of their own
with versioning enabled (`maxiofs-load --versioned`), only on servers that have versioning
(VERSIONING_SERVERS); the table of workload ratios (versioned / unversioned PUT, latest of
100 versions / of 1, LIST-versions / LIST per entry) is computed per server.

Fsync policies (stated next to the numbers): MaxIOFS fdatasyncs data and commits SQLite
(synchronous=FULL) before every 2xx, group-committed; s3s-fs never fsyncs; moto keeps
everything in memory.
"""

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ACCESS_KEY = "benchaccesskey"
SECRET_KEY = "benchsecretkey1"

FSYNC_POLICY = {
    "maxiofs": "durable: fdatasync + SQLite FULL commit before every 2xx (group commit)",
    "maxiofs-prev": "durable, as maxiofs (an earlier build, --maxiofs-prev)",
    "s3s-fs": "never fsyncs (page cache only)",
    "moto": "in memory, no disk",
}

# MaxIOFS builds: server name -> the argument holding its binary. They get the same flags.
MAXIOFS_BINARIES = {"maxiofs": "maxiofs", "maxiofs-prev": "maxiofs_prev"}

# Servers that run the versioned workloads. s3s-fs 0.14.1 has no versioning; maxiofs-prev is
# meant for a build from before issue 15 (PutBucketVersioning answered 501); moto has
# versioning but preparing 51,200 versions at its ~200 PUT/s would take minutes.
VERSIONING_SERVERS = ("maxiofs",)

# name, loadgen arguments, whether the phase needs its keys written first (only in round 1:
# later rounds read what round 1 wrote), servers it is skipped on (too slow or too big).
# Names starting with "versioned" or "LIST-versions" run in the versioned bucket.
WORKLOADS = [
    ("4 KiB PUT", ["--mix", "put", "--size", "4KiB", "--keys", "100000000",
                   "--connections", "32"], None, ()),
    ("versioned 4 KiB PUT", ["--mix", "put", "--size", "4KiB", "--keys", "100000000",
                             "--connections", "32"], None, ()),
    ("4 KiB PUT overwrite (512 keys)", ["--mix", "put", "--size", "4KiB", "--keys", "512",
                                        "--connections", "32"], "single", ()),
    ("versioned 4 KiB PUT overwrite (512 keys)",
     ["--mix", "put", "--size", "4KiB", "--keys", "512", "--connections", "32"], "single", ()),
    ("4 KiB GET", ["--mix", "get", "--size", "4KiB", "--keys", "512",
                   "--connections", "32"], "single", ()),
    ("versioned 4 KiB GET, 1 version", ["--mix", "get", "--size", "4KiB", "--keys", "512",
                                        "--connections", "32"], "single", ()),
    ("versioned 4 KiB GET, latest of 100 versions",
     ["--mix", "get", "--size", "4KiB", "--keys", "512", "--versions", "100",
      "--connections", "32"], "single", ()),
    ("1 MiB PUT", ["--mix", "put", "--size", "1MiB", "--keys", "100000000",
                   "--connections", "16"], None, ()),
    ("1 MiB GET", ["--mix", "get", "--size", "1MiB", "--keys", "256",
                   "--connections", "16"], "single", ()),
    ("64 MiB multipart PUT", ["--mix", "multipart", "--size", "64MiB", "--part-size", "8MiB",
                              "--keys", "100000000", "--connections", "4"], None, ("moto",)),
    ("64 MiB GET (multipart)", ["--mix", "get", "--size", "64MiB", "--part-size", "8MiB",
                                "--keys", "8", "--connections", "4"], "multipart", ("moto",)),
    ("LIST 10,000 keys", ["--mix", "list", "--size", "0", "--keys", "10000",
                          "--connections", "4"], "single", ("moto",)),
    ("LIST-versions 10,000 versions (10,000 keys x 1)",
     ["--mix", "list-versions", "--size", "0", "--keys", "10000", "--connections", "4"],
     "single", ("moto",)),
    ("LIST-versions 10,000 versions (1,000 keys x 10)",
     ["--mix", "list-versions", "--size", "0", "--keys", "1000", "--versions", "10",
      "--connections", "4"], "single", ("moto",)),
    # ListObjectVersions of a bucket that never had versioning: every key its null version
    # (builds from before issue 15 answer it too, so it compares across them).
    ("unversioned LIST-versions 10,000 keys",
     ["--mix", "list-versions", "--size", "0", "--keys", "10000", "--connections", "4"],
     "single", ("moto",)),
    ("mixed 4 KiB (GET 60, PUT 30, HEAD 5, DELETE 5)",
     ["--mix", "get=60,put=30,head=5,delete=5", "--size", "4KiB", "--keys", "1000",
      "--connections", "32"], "single", ()),
]

# Ratios between workloads on one server: label, numerator, denominator, whether per listed
# entry (CPU per listing / entries per listing), budget (numerator / denominator at most).
WORKLOAD_RATIOS = [
    ("versioned / unversioned 4 KiB PUT", "versioned 4 KiB PUT", "4 KiB PUT", False, 1.10),
    ("versioned / unversioned 4 KiB PUT, overwrites (512 keys)",
     "versioned 4 KiB PUT overwrite (512 keys)", "4 KiB PUT overwrite (512 keys)", False, 1.10),
    ("GET latest of 100 versions / of 1 version", "versioned 4 KiB GET, latest of 100 versions",
     "versioned 4 KiB GET, 1 version", False, 1.10),
    ("versioned GET (1 version) / unversioned 4 KiB GET", "versioned 4 KiB GET, 1 version",
     "4 KiB GET", False, None),
    ("LIST-versions (10,000 keys x 1) / LIST, per entry",
     "LIST-versions 10,000 versions (10,000 keys x 1)", "LIST 10,000 keys", True, None),
    ("LIST-versions (1,000 keys x 10) / LIST, per entry",
     "LIST-versions 10,000 versions (1,000 keys x 10)", "LIST 10,000 keys", True, None),
    ("LIST-versions of an unversioned bucket / LIST, per entry",
     "unversioned LIST-versions 10,000 keys", "LIST 10,000 keys", True, None),
]


def is_versioned(workload_name):
    return workload_name.startswith(("versioned", "LIST-versions"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port, proc, seconds=20.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


class Server:
    def __init__(self, name, work, args):
        self.name = name
        self.dir = work / name
        self.dir.mkdir(parents=True)
        self.log = open(self.dir / "log", "w")
        env = dict(os.environ, MAXIOFS_ROOT_USER=ACCESS_KEY, MAXIOFS_ROOT_PASSWORD=SECRET_KEY)
        if name in MAXIOFS_BINARIES:
            port = free_port()
            cmd = [getattr(args, MAXIOFS_BINARIES[name]), "server", "--data-dir", str(self.dir / "data"),
                   "--address", f"127.0.0.1:{port}", "--shards", str(args.shards)]
            if not args.pin:
                cmd.append("--no-pin")
        elif name == "s3s-fs":
            port = free_port()
            (self.dir / "data").mkdir()
            cmd = [args.s3s_fs, "--host", "127.0.0.1", "--port", str(port),
                   "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY,
                   str(self.dir / "data")]
        elif name == "moto":
            port = free_port()
            cmd = [args.moto_server, "-H", "127.0.0.1", "-p", str(port)]
        else:
            raise ValueError(name)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.endpoint = f"http://127.0.0.1:{port}"
        wait_port(port, self.proc)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(args, server, workload_args, prefix, prepare, seconds, out_json, versioned=False):
    # A bucket never returns to unversioned: versioned phases have a bucket of their own.
    bucket = ["--bucket", "benchver", "--versioned"] if versioned else ["--bucket", "bench"]
    cmd = [args.loadgen, "--endpoint", server.endpoint, *bucket,
           "--key-prefix", prefix, "--duration", f"{seconds}s", "--warmup", "1s",
           "--pid", str(server.proc.pid), "--label", server.name, "--json", str(out_json),
           *workload_args]
    if prepare == "single":
        cmd.append("--prepare")
    elif prepare == "multipart":
        cmd.append("--prepare-multipart")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        sys.stdout.write(result.stderr)
        return None
    return json.loads(Path(out_json).read_text())


def run_k6(args, server, seconds, out_json):
    """The mixed k6 scenario in saturation mode; server CPU sampled around it."""
    env = dict(os.environ, S3_ENDPOINT=server.endpoint, ACCESS_KEY=ACCESS_KEY,
               SECRET_KEY=SECRET_KEY, MODE="saturation", SCALE=str(seconds / 120),
               TEST_BUCKET="k6mixed", K6_NO_USAGE_REPORT="true")
    before = cpu_seconds(server.proc.pid)
    started = time.time()
    result = subprocess.run(
        [args.k6, "run", "--quiet", "--no-usage-report", "--summary-export", str(out_json),
         str(REPO / "k6" / "mixed.js")], capture_output=True, text=True, env=env)
    elapsed = time.time() - started
    cpu = cpu_seconds(server.proc.pid) - before
    if not Path(out_json).exists():
        sys.stdout.write(result.stdout + result.stderr)
        return None
    summary = json.loads(Path(out_json).read_text())
    metrics = summary["metrics"]
    requests = metrics["http_reqs"]["count"]
    duration = metrics["http_req_duration"]
    print(f"{server.name} k6 mixed: {requests} requests, server cpu {cpu:.2f} s, "
          f"thresholds {'ok' if result.returncode == 0 else 'crossed'}")
    return {
        "label": server.name, "total_ops": requests, "ops_per_sec": metrics["http_reqs"]["rate"],
        "server_cpu_seconds": cpu, "ops_per_server_cpu_sec": requests / cpu if cpu else None,
        "server_cpu_us_per_op": cpu * 1e6 / requests if requests else None,
        "p50_ms": duration.get("med"), "p95_ms": duration.get("p(95)"),
        "seconds": elapsed, "thresholds_ok": result.returncode == 0,
        "mb_per_sec": None, "total_errors": metrics.get("checks", {}).get("fails", 0),
    }


def fio_seq_write(work, seconds):
    """O_DIRECT sequential write, 1 MiB blocks, queue depth 16, io_uring: the disk's rate."""
    target = work / "fio.dat"
    cmd = ["fio", "--name=seqwrite", f"--filename={target}", "--rw=write", "--bs=1M",
           "--iodepth=16", "--ioengine=io_uring", "--direct=1", "--size=4G",
           f"--runtime={seconds}", "--time_based", "--output-format=json"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    target.unlink(missing_ok=True)
    if result.returncode != 0:
        print(result.stderr)
        return None
    job = json.loads(result.stdout)["jobs"][0]["write"]
    return job["bw_bytes"] / 1e6


def md5_per_core(seconds=2.0):
    """MD5 throughput of one core (OpenSSL through hashlib), MB/s."""
    data = os.urandom(8 << 20)
    digest = hashlib.md5()
    count = 0
    started = time.process_time()
    while time.process_time() - started < seconds:
        digest.update(data)
        count += len(data)
    return count / (time.process_time() - started) / 1e6


def fmt(value, digits=0):
    if value is None:
        return "-"
    if digits == 0 and abs(value) < 100:
        digits = 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f}"


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def cpu_us(run):
    return run.get("server_cpu_us_per_op") if run else None


def cpu_us_per_entry(run):
    """Server CPU per listed entry: CPU per listing / entries per listing."""
    if not run:
        return None
    ops = [o for o in run.get("ops") or [] if o.get("ok") and o.get("listed_keys")]
    if not ops or not run.get("server_cpu_seconds"):
        return None
    entries = sum(o["listed_keys"] for o in ops)
    return run["server_cpu_seconds"] * 1e6 / entries


def cpu_per_op_table(servers, peers, results):
    """Server CPU per operation in every round; maxiofs / peer per round (the rounds alternate
    the servers, so a round's pair shares the machine's state) and the median of those."""
    lines = ["Server CPU per operation, us (rounds 1 / 2 / ...); ratio maxiofs / peer taken per "
             "round, then the median (below 1: maxiofs spends less):", ""]
    header = "| workload | " + " | ".join(f"{s} CPU us/op" for s in servers)
    header += " | " + " | ".join(f"maxiofs / {p} per round | median" for p in peers) + " |"
    lines.append(header)
    lines.append("|" + "---|" * (1 + len(servers) + 2 * len(peers)))
    for name in results:
        row = [name]
        per_server = {}
        for server in servers:
            per_server[server] = [cpu_us(r) for r in results[name].get(server, [])]
            row.append(" / ".join(fmt(v, 1) for v in per_server[server])
                       if per_server[server] else "-")
        for peer in peers:
            pairs = [a / b for a, b in zip(per_server.get("maxiofs", []),
                                           per_server.get(peer, [])) if a and b]
            row.append(" / ".join(f"{r:.3f}" for r in pairs) if pairs else "-")
            row.append(f"**{median(pairs):.3f}**" if pairs else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    return lines


def workload_ratio_table(servers, results):
    """Ratios between workloads of one server, from the same rounds (per round, then median)."""
    lines = []
    for server in servers:
        rows = []
        for label, numerator, denominator, per_entry, budget in WORKLOAD_RATIOS:
            top = results.get(numerator, {}).get(server, [])
            bottom = results.get(denominator, {}).get(server, [])
            if not top or not bottom:
                continue
            figure = cpu_us_per_entry if per_entry else cpu_us
            pairs = [(figure(a), figure(b)) for a, b in zip(top, bottom)]
            ratios = [a / b for a, b in pairs if a and b]
            if not ratios:
                continue
            unit = "us/entry" if per_entry else "us/op"
            verdict = "-"
            if budget is not None:
                verdict = (f"within {budget:.2f}" if median(ratios) <= budget
                           else f"over {budget:.2f} by {(median(ratios) / budget - 1) * 100:.1f} %")
            rows.append(
                f"| {label} | " + " / ".join(fmt(a, 3 if per_entry else 1) for a, _ in pairs)
                + f" {unit} | " + " / ".join(fmt(b, 3 if per_entry else 1) for _, b in pairs)
                + f" {unit} | " + " / ".join(f"{r:.3f}" for r in ratios)
                + f" | **{median(ratios):.3f}** | {verdict} |")
        if rows:
            lines.append(f"Workload ratios on {server}, server CPU, per round then median:")
            lines.append("")
            lines.append("| ratio | numerator | denominator | per round | median | budget |")
            lines.append("|---|---|---|---|---|---|")
            lines.extend(rows)
            lines.append("")
    return lines


def write_report(args, results, baselines, out):
    servers = args.servers
    peers = [name for name in servers if name != "maxiofs"]
    lines = []
    lines.append(f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                 f"{args.rounds} rounds x {args.seconds} s per phase, servers alternating; "
                 f"MaxIOFS {args.shards} shards{', pinned' if args.pin else ', not pinned'}.")
    lines.append("")
    lines.append("Fsync policy: " + "; ".join(f"**{s}**: {FSYNC_POLICY[s]}" for s in servers)
                 + ".")
    lines.append("")
    lines.append("Baselines measured in this run: fio O_DIRECT sequential write (1 MiB, QD16) "
                 + " / ".join(f"{fmt(b, 0)} MB/s" for b in baselines["fio_write_mb_s"])
                 + f"; MD5 per core {fmt(baselines['md5_mb_s'], 0)} MB/s.")
    lines.append("")
    header = "| workload | " + " | ".join(f"{s} ops/CPU-s" for s in servers)
    header += " | " + " | ".join(f"ratio vs {p}" for p in peers) + " |"
    lines.append(header)
    lines.append("|" + "---|" * (1 + len(servers) + len(peers)))
    for name in results:
        row = [name]
        medians = {}
        for server in servers:
            runs = [r for r in results[name].get(server, []) if r]
            values = [r.get("ops_per_server_cpu_sec") for r in runs]
            values = [v for v in values if v]
            medians[server] = sorted(values)[len(values) // 2] if values else None
            row.append(" / ".join(fmt(v) for v in values) if values else "-")
        for peer in peers:
            ours, theirs = medians.get("maxiofs"), medians.get(peer)
            row.append(f"{ours / theirs:.2f}x" if ours and theirs else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.extend(cpu_per_op_table(servers, peers, results))
    lines.extend(workload_ratio_table(servers, results))
    lines.append("")
    lines.append("Wall clock and CPU per operation (each round):")
    lines.append("")
    lines.append("| workload | server | ops/s | MB/s | CPU us/op | p50 ms | p99 ms | errors |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for name in results:
        for server in servers:
            for run in results[name].get(server, []):
                if not run:
                    lines.append(f"| {name} | {server} | failed | | | | | |")
                    continue
                ops = run.get("ops") or [{}]
                main = max(ops, key=lambda o: o.get("ok", 0)) if ops else {}
                p50 = run.get("p50_ms", main.get("p50_ms"))
                p99 = run.get("p99_ms", main.get("p99_ms"))
                lines.append(
                    f"| {name} | {server} | {fmt(run.get('ops_per_sec'))} | "
                    f"{fmt(run.get('mb_per_sec'), 1)} | {fmt(run.get('server_cpu_us_per_op'), 1)}"
                    f" | {fmt(p50, 2)} | {fmt(p99, 2)} | {run.get('total_errors', 0)} |")
    text = "\n".join(lines) + "\n"
    Path(out).write_text(text)
    print(text)


# Disk a full run writes per server and round: the fresh-key 1 MiB PUT phase (~5 GB at
# 500 MB/s for 10 s), the 64 MiB multipart PUTs (~4 GB) and the prepared GET keys. Measured on
# 2026-12-02: three rounds against two servers wrote ~50 GB and filled the shared disk.
BYTES_PER_SERVER_ROUND = 9 * 10**9


def check_free_space(args, work):
    """Refuses to start a run that would fill the disk (other people's builds fail with it)."""
    phases = [w for w in WORKLOADS
              if not args.only or any(w[0].startswith(p) for p in args.only.split(","))]
    if not any("PUT" in name for name, *_ in phases):
        return
    needed = BYTES_PER_SERVER_ROUND * args.rounds * len(args.servers) * args.seconds // 10
    free = shutil.disk_usage(work).free
    if free < needed and not args.allow_low_space:
        sys.exit(f"compare: {free / 1e9:.0f} GB free under {work}, a run of this size writes up "
                 f"to ~{needed / 1e9:.0f} GB: use --work on a larger disk, fewer --rounds or "
                 f"--seconds, --only, or --allow-low-space")


def cost_arguments(default_out):
    """The command line of a one-server cost script (sse_cost.py, policy_cost.py): phases
    alternating on one MaxIOFS, `--rounds` of `--seconds` each."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--pin", action="store_true")
    target = REPO / "target" / "release"
    parser.add_argument("--maxiofs", default=str(target / "maxiofs"))
    parser.add_argument("--loadgen", default=str(target / "maxiofs-load"))
    parser.add_argument("--out", default=default_out)
    return parser.parse_args()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--servers", default="maxiofs,s3s-fs")
    parser.add_argument("--only", default="", help="comma-separated workload name prefixes")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--pin", action="store_true", help="pin MaxIOFS shards to cores")
    parser.add_argument("--k6-seconds", type=int, default=20, help="0 skips the k6 phase")
    parser.add_argument("--fio-seconds", type=int, default=10, help="0 skips fio")
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "release"
    parser.add_argument("--maxiofs", default=str(target / "maxiofs"))
    parser.add_argument("--maxiofs-prev", default=None,
                        help="an earlier MaxIOFS binary, server name maxiofs-prev")
    parser.add_argument("--loadgen", default=str(target / "maxiofs-load"))
    parser.add_argument("--s3s-fs", default=shutil.which("s3s-fs") or "s3s-fs")
    parser.add_argument("--moto-server", default=shutil.which("moto_server") or "moto_server")
    parser.add_argument("--k6", default=shutil.which("k6") or str(REPO / "target/k6-venv/bin/k6"))
    parser.add_argument("--work", default=None, help="data directory (default: a temp dir)")
    parser.add_argument("--out", default="perf-compare.md")
    parser.add_argument("--allow-low-space", action="store_true",
                        help="run even when the work dir has less free space than the run needs")
    args = parser.parse_args()
    args.servers = args.servers.split(",")
    if args.servers[0] != "maxiofs":
        parser.error("--servers must start with maxiofs (ratios are ours / theirs)")
    if "maxiofs-prev" in args.servers and not args.maxiofs_prev:
        parser.error("--servers maxiofs-prev needs --maxiofs-prev PATH")
    work = Path(args.work or tempfile.mkdtemp(prefix="maxiofs-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    check_free_space(args, work)
    raw = Path(args.out).with_suffix(".json")
    baselines = {"fio_write_mb_s": [], "md5_mb_s": md5_per_core()}
    if args.fio_seconds:
        baselines["fio_write_mb_s"].append(fio_seq_write(work, args.fio_seconds))
    servers = {}
    results = {}
    try:
        for name in args.servers:
            servers[name] = Server(name, work, args)
        workloads = [w for w in WORKLOADS
                     if not args.only or any(w[0].startswith(p) for p in args.only.split(","))]
        for round_index in range(1, args.rounds + 1):
            for name, workload_args, prepare, skip in workloads:
                slug = "".join(c if c.isalnum() else "-" for c in name.lower())[:48]
                for server_name in args.servers:
                    if server_name in skip or (is_versioned(name)
                                               and server_name not in VERSIONING_SERVERS):
                        continue
                    server = servers[server_name]
                    # Read phases reuse round 1's keys; write phases always use fresh ones.
                    prefix = f"{slug}/" if prepare else f"{slug}/r{round_index}/"
                    print(f"# {name}, round {round_index}, {server_name}", flush=True)
                    run = run_load(args, server, workload_args, prefix,
                                   prepare if round_index == 1 else None, args.seconds,
                                   work / f"{slug}-{server_name}-{round_index}.json",
                                   versioned=is_versioned(name))
                    results.setdefault(name, {}).setdefault(server_name, []).append(run)
            if args.k6_seconds and Path(args.k6).exists() and not args.only:
                for server_name in args.servers:
                    if server_name == "moto":
                        continue
                    run = run_k6(args, servers[server_name], args.k6_seconds,
                                 work / f"k6-{server_name}-{round_index}.json")
                    results.setdefault("k6 mixed (saturation, 25 VUs)", {}) \
                        .setdefault(server_name, []).append(run)
        if args.fio_seconds:
            baselines["fio_write_mb_s"].append(fio_seq_write(work, args.fio_seconds))
    finally:
        for server in servers.values():
            server.stop()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    raw.write_text(json.dumps({"baselines": baselines, "results": results}, indent=1))
    write_report(args, results, baselines, args.out)


if __name__ == "__main__":
    main()

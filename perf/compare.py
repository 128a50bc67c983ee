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
    "s3s-fs": "never fsyncs (page cache only)",
    "moto": "in memory, no disk",
}

# name, loadgen arguments, whether the phase needs its keys written first (only in round 1:
# later rounds read what round 1 wrote), servers it is skipped on (too slow or too big).
WORKLOADS = [
    ("4 KiB PUT", ["--mix", "put", "--size", "4KiB", "--keys", "100000000",
                   "--connections", "32"], None, ()),
    ("4 KiB GET", ["--mix", "get", "--size", "4KiB", "--keys", "512",
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
    ("mixed 4 KiB (GET 60, PUT 30, HEAD 5, DELETE 5)",
     ["--mix", "get=60,put=30,head=5,delete=5", "--size", "4KiB", "--keys", "1000",
      "--connections", "32"], "single", ()),
]


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
        if name == "maxiofs":
            port = free_port()
            cmd = [args.maxiofs, "server", "--data-dir", str(self.dir / "data"),
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


def run_load(args, server, workload_args, prefix, prepare, seconds, out_json):
    cmd = [args.loadgen, "--endpoint", server.endpoint, "--bucket", "bench",
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
                slug = "".join(c if c.isalnum() else "-" for c in name.lower())[:24]
                for server_name in args.servers:
                    if server_name in skip:
                        continue
                    server = servers[server_name]
                    # Read phases reuse round 1's keys; write phases always use fresh ones.
                    prefix = f"{slug}/" if prepare else f"{slug}/r{round_index}/"
                    print(f"# {name}, round {round_index}, {server_name}", flush=True)
                    run = run_load(args, server, workload_args, prefix,
                                   prepare if round_index == 1 else None, args.seconds,
                                   work / f"{slug}-{server_name}-{round_index}.json")
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

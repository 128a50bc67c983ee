#!/usr/bin/env python3
"""What server-side encryption costs, per operation, on one MaxIOFS: 1 MiB (and 4 KiB) PUT
and GET, plaintext and SSE-S3, alternating within every round, in server CPU microseconds per
operation (utime + stime of the server over the phase, as perf/compare.py measures).

SSE-S3 phases turn on the server-wide `security.encrypt_all_objects` setting through the
control socket, so the load generator sends the same requests in both modes; the encrypted
keys are written (and read) under their own prefix.

    cargo build --release -p maxiofs -p loadgen
    perf/sse_cost.py --rounds 3 --seconds 8 --out perf/results/sse.md
"""

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "compat"))

import compare  # noqa: E402  (perf/compare.py: Server, run_load, fmt)
from control_client import ControlClient  # noqa: E402

# label, size, GET keys, connections
SIZES = [("1 MiB", "1MiB", "256", "16"), ("4 KiB", "4KiB", "512", "32")]
PUT_KEYS = "1024"


def set_encryption(data_dir, version, on):
    with ControlClient(data_dir) as control:
        control.put_settings(version, {"security.encrypt_all_objects": "true" if on else "false"})


def main():
    args = compare.cost_arguments("sse-cost.md")
    work = Path(tempfile.mkdtemp(prefix="maxiofs-sse-cost-"))
    server = compare.Server("maxiofs", work, args)
    data_dir = server.dir / "data"
    version = 0
    results = {}
    try:
        for round_index in range(args.rounds):
            for label, size, keys, connections in SIZES:
                for op in ("put", "get"):
                    for mode in ("plain", "sse-s3"):
                        version += 1
                        set_encryption(data_dir, version, mode == "sse-s3")
                        # PUTs overwrite a bounded key set: the run's disk use stays bounded
                        # (overwritten extents are punched) at the price of one more delete
                        # per PUT in the metadata commit.
                        workload = ["--mix", op, "--size", size, "--keys",
                                    keys if op == "get" else PUT_KEYS,
                                    "--connections", connections]
                        # Round 1 writes the GET keys (in the phase's mode); later rounds
                        # read them again.
                        prepare = "single" if op == "get" and round_index == 0 else None
                        prefix = f"{mode}/{size}/{op}/"
                        out_json = work / f"{label}-{op}-{mode}-{round_index}.json"
                        run = compare.run_load(args, server, workload, prefix, prepare,
                                               args.seconds, out_json)
                        results.setdefault((label, op), {}).setdefault(mode, []).append(run)
    finally:
        server.stop()
    lines = [f"{args.rounds} rounds x {args.seconds} s per phase, plain and SSE-S3 alternating; "
             f"MaxIOFS {args.shards} shards.", "",
             "| workload | plain CPU us/op | SSE-S3 CPU us/op | SSE-S3 / plain |",
             "|---|---|---|---|"]
    for (label, op), modes in results.items():
        medians = {}
        cells = []
        for mode in ("plain", "sse-s3"):
            values = [r["server_cpu_us_per_op"] for r in modes.get(mode, [])
                      if r and r.get("server_cpu_us_per_op")]
            medians[mode] = sorted(values)[len(values) // 2] if values else None
            cells.append(" / ".join(compare.fmt(v, 1) for v in values) or "-")
        ratio = (f"{medians['sse-s3'] / medians['plain']:.2f}x"
                 if medians["plain"] and medians["sse-s3"] else "-")
        lines.append(f"| {label} {op.upper()} | {cells[0]} | {cells[1]} | {ratio} |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()

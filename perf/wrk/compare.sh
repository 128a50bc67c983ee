#!/usr/bin/env bash
# Side by side on 127.0.0.1, alternating servers (A B A B): MaxIOFS (release build, 2 shards,
# not pinned, durable: fdatasync + SQLite FULL before every 2xx) and s3s-fs 0.14.1 (files on
# a local dir, never fsyncs). Prints one line per phase from run.py.
#
#   cargo build --release -p maxiofs
#   cargo install s3s-fs --version 0.14.1 --features binary --locked
#   apt-get install wrk; pip install boto3
#   perf/wrk/compare.sh [seconds-per-phase] [rounds]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
seconds="${1:-10}"
rounds="${2:-2}"
work="$(mktemp -d)"
export AWS_ACCESS_KEY_ID=benchaccesskey AWS_SECRET_ACCESS_KEY=benchsecretkey1
unset AWS_CA_BUNDLE
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

MAXIOFS_ROOT_USER=$AWS_ACCESS_KEY_ID MAXIOFS_ROOT_PASSWORD=$AWS_SECRET_ACCESS_KEY \
    "$repo/target/release/maxiofs" server --data-dir "$work/maxiofs" --address 127.0.0.1:0 \
    --shards 2 --no-pin >"$work/maxiofs.out" 2>"$work/maxiofs.err" &
pids+=($!); maxiofs_pid=$!
s3s_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/s3s"
s3s-fs --host 127.0.0.1 --port "$s3s_port" --access-key "$AWS_ACCESS_KEY_ID" \
    --secret-key "$AWS_SECRET_ACCESS_KEY" "$work/s3s" >"$work/s3s.log" 2>&1 &
pids+=($!); s3s_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/maxiofs.out" && break; sleep 0.1; done
maxiofs_endpoint="http://$(grep -o '127.0.0.1:[0-9]*' "$work/maxiofs.out")"
sleep 1
python="${PYTHON:-python3}"
for size in 4096 1048576; do
    for round in $(seq "$rounds"); do
        echo "# size $size, round $round"
        echo "maxiofs:"; "$python" "$here/run.py" --endpoint "$maxiofs_endpoint" --pid "$maxiofs_pid" --size "$size" --seconds "$seconds"
        echo "s3s-fs:";  "$python" "$here/run.py" --endpoint "http://127.0.0.1:$s3s_port" --pid "$s3s_pid" --size "$size" --seconds "$seconds"
    done
done

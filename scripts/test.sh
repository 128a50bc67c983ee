#!/usr/bin/env bash
# The one command that runs every test: format and lint gates, the Rust tests, then the
# black-box compat suite (tests/compat) against the freshly built binary.
#
#   scripts/test.sh                 everything
#   scripts/test.sh -k multipart    extra arguments go to pytest
#
# Env: SKIP_LINT=1 skips fmt/clippy; SKIP_COMPAT=1 skips the Python suite and the k6 smoke;
#      SKIP_K6=1 skips only the k6 smoke;
#      CRASH_ROUNDS=N sets the number of kill/restart rounds of the crash test;
#      SIM_SEEDS=N the number of seeds of the storage simulation (SIM_SEED=N replays one).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
unset AWS_CA_BUNDLE AWS_PROFILE AWS_DEFAULT_PROFILE

step() { printf '\n==> %s\n' "$*"; }

if [[ "${SKIP_LINT:-0}" != 1 ]]; then
    step "cargo fmt --check"
    cargo fmt --all --check
    step "cargo clippy"
    cargo clippy --workspace --all-targets -- -D warnings
fi

# The web console first: the binary embeds console/dist (admin-api/build.rs).
step "console: build, lint and unit tests"
if command -v npm >/dev/null 2>&1; then
    scripts/build-console.sh
    (cd console && npm run lint --silent && npm test --silent)
elif [[ -n "${CI:-}" && "${CI}" != false ]]; then
    echo "test.sh: npm not found (.ci/run installs nodejs and npm)" >&2
    exit 1
else
    echo "test.sh: npm not found: the binary embeds a placeholder, the console tests skip" >&2
fi

step "cargo build"
# --all-targets compiles the criterion benchmarks too (dev profile): CI checks that they build;
# `cargo bench -p bench` measures with the optimized profile.
cargo build --workspace --all-targets

step "Rust tests"
if cargo nextest --version >/dev/null 2>&1; then
    # --no-tests=warn: a workspace without any Rust test yet is not a failure.
    cargo nextest run --workspace --no-tests=warn
else
    cargo test --workspace
fi

if [[ "${SKIP_COMPAT:-0}" == 1 ]]; then
    exit 0
fi

step "compat suite (pytest)"
venv="$repo/target/venv"
requirements="$repo/tests/compat/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" >"$stamp"
fi

# playwright-core for the browser tests (they drive the system Chromium; no browser download).
browser_dir="$repo/tests/browser"
browser_stamp="$browser_dir/node_modules/.lock.sha256"
browser_want="$(sha256sum "$browser_dir/package-lock.json" | cut -d' ' -f1)"
if command -v npm >/dev/null 2>&1 && [[ "$(cat "$browser_stamp" 2>/dev/null)" != "$browser_want" ]]; then
    (cd "$browser_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
    echo "$browser_want" >"$browser_stamp"
fi

export MAXIOFS_BIN="${MAXIOFS_BIN:-$repo/target/debug/maxiofs}"
export PATH="$venv/bin:$PATH"
"$venv/bin/python" -m pytest tests/compat -q "$@"

if [[ "${SKIP_K6:-0}" != 1 ]]; then
    # 10 s of the mixed k6 scenario against the server, with the SLO thresholds.
    step "k6 smoke"
    k6/smoke.sh
fi

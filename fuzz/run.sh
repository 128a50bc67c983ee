#!/usr/bin/env bash
# Builds the fuzz targets (cargo-fuzz, nightly, libFuzzer) and runs each one in turn for N
# seconds, one process each (the CI machine has 2 shared cores). Fails on the first crash,
# leak, timeout or out-of-memory, leaving the reproducer in fuzz/artifacts/<target>/.
#
#   fuzz/run.sh                  every target, 10 s each (the CI run)
#   fuzz/run.sh 300              every target, 5 minutes each
#   fuzz/run.sh 60 sigv4 range   only these targets
#
# The committed corpus (fuzz/corpus/<target>) is read, never written: libFuzzer keeps the new
# inputs it finds in a scratch folder (kept with FUZZ_KEEP_NEW=1, to pick from by hand).
# Env: FUZZ_TOOLCHAIN (default nightly); FUZZ_TARGET_DIR (default fuzz/target; CI points it
# at a cache that outlives the clone); FUZZ_SANITIZER (default none: our crates deny unsafe
# code and panics, overflows, stack overflows and OOMs are caught without a sanitizer, while
# ASan costs 60 % more build CPU and 5-15x fewer runs per second; `address` for a pass that
# also watches the unsafe code of our dependencies).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
seconds="${1:-10}"
shift || true
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
fuzz=(cargo "+$toolchain" fuzz)
# Build and run must agree on these, or `run` rebuilds.
build_options=(--sanitizer "${FUZZ_SANITIZER:-none}")
if [[ -n "${FUZZ_TARGET_DIR:-}" ]]; then
    build_options+=(--target-dir "$FUZZ_TARGET_DIR")
fi

if (($# > 0)); then
    targets=("$@")
else
    mapfile -t targets < <("${fuzz[@]}" list)
fi

dictionary() {
    case "$1" in
        http_head | router | sigv4 | sigv2 | query | range) echo fuzz/dict/http.dict ;;
        http_chunked | aws_chunked) echo fuzz/dict/chunked.dict ;;
        xml_bodies) echo fuzz/dict/xml.dict ;;
        form_data | post_policy) echo fuzz/dict/form.dict ;;
        admin_json) echo fuzz/dict/json.dict ;;
    esac
}

# Longest input per target: the form parser's buffer bounds (8 KiB of part headers or
# preamble) need inputs longer than libFuzzer's default of 4 KiB to be tested at all.
max_len() {
    case "$1" in
        form_data | http_chunked | aws_chunked) echo 20000 ;;
        *) echo 4096 ;;
    esac
}

started=$(date +%s)
"${fuzz[@]}" build "${build_options[@]}"
built=$(date +%s)
echo "fuzz: built in $((built - started)) s"

scratch="$(mktemp -d)"
total_runs=0
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target"
    log="$scratch/$target.log"
    options=(-max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout=10
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$target/")
    dict="$(dictionary "$target")"
    [[ -n "$dict" ]] && options+=(-dict="$dict")
    mkdir -p "fuzz/artifacts/$target"
    status=0
    "${fuzz[@]}" run "${build_options[@]}" "$target" "$scratch/$target" \
        "fuzz/corpus/$target" -- "${options[@]}" >"$log" 2>&1 || status=$?
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    total_runs=$((total_runs + ${runs:-0}))
    if ((status != 0)); then
        tail -n 60 "$log" >&2
        echo "fuzz: $target FAILED after ${runs:-?} runs; reproducer in fuzz/artifacts/$target/" >&2
        replay="cargo +$toolchain fuzz run ${build_options[*]} $target <reproducer>"
        echo "fuzz: replay with: $replay" >&2
        exit 1
    fi
    found="$(find "$scratch/$target" -type f | wc -l)"
    echo "fuzz: $target ok, ${seconds} s, ${runs:-?} runs, $found new inputs"
done
if [[ "${FUZZ_KEEP_NEW:-0}" == 1 ]]; then
    echo "fuzz: new inputs kept in $scratch"
else
    rm -rf "$scratch"
fi
echo "fuzz: ${#targets[@]} targets, $total_runs runs, 0 crashes in $(($(date +%s) - started)) s"

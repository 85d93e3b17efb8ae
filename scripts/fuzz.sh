#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 60), one after another,
# one libFuzzer process each (the machine has 2 cores that others share).
#
#   scripts/fuzz.sh [--nightly-only] [SECONDS] [TARGET...]
#
# Toolchain: a nightly toolchain if rustup has one; otherwise stable rustc with
# RUSTC_BOOTSTRAP=1, which unlocks the `-Z` sanitizer flags cargo-fuzz passes (stable's
# x86_64 Linux standard library ships the sanitizer runtimes). With --nightly-only the
# script exits 0 without fuzzing when no nightly toolchain is installed (for CI).
# FUZZ_TOOLCHAIN=stable forces the stable + RUSTC_BOOTSTRAP=1 route even if nightly exists.
#
# Findings land in fuzz/artifacts/TARGET/; the corpus grows in fuzz/corpus/TARGET/; each
# run's log, with libFuzzer's final stats (executions, exec/s, coverage), is written to
# fuzz/target/logs/TARGET.log. Exits non-zero if any target found a crash.
set -euo pipefail
cd "$(dirname "$0")/.."

nightly_only=false
if [[ "${1:-}" == "--nightly-only" ]]; then
    nightly_only=true
    shift
fi
seconds="${1:-60}"
shift || true

toolchain="${FUZZ_TOOLCHAIN:-auto}"
if [[ "$toolchain" != stable ]] && rustup toolchain list 2>/dev/null | grep -q '^nightly' \
    && cargo +nightly --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
    echo "fuzz: using $(cargo +nightly --version)"
elif $nightly_only; then
    echo "fuzz: no nightly toolchain installed; skipping (run scripts/fuzz.sh without --nightly-only to use stable with RUSTC_BOOTSTRAP=1)"
    exit 0
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
    echo "fuzz: using $(cargo --version) with RUSTC_BOOTSTRAP=1"
fi

bash scripts/install-fuzz.sh

cd fuzz
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <("${fuzz[@]}" list)
fi

"${fuzz[@]}" build -O
mkdir -p target/logs
failed=()
for target in "${targets[@]}"; do
    echo "fuzz: ${target} for ${seconds}s"
    log="target/logs/${target}.log"
    if "${fuzz[@]}" run -O "$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
        >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$target")
    fi
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
    speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || echo '?')
    echo "fuzz: ${target}: ${status}, ${runs} runs, ${speed} exec/s, ${cov}"
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: crashes in: ${failed[*]} (see fuzz/artifacts/ and fuzz/target/logs/)"
    for target in "${failed[@]}"; do
        tail -n 40 "target/logs/${target}.log"
    done
    exit 1
fi
echo "fuzz: no findings"

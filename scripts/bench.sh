#!/usr/bin/env bash
# Reproduces every number in BENCHMARKS.md. Nothing here runs in CI: CI only compiles the
# benchmarks (`cargo bench --workspace --no-run`).
#
#   scripts/bench.sh                  # everything (about 25 minutes on 2 cores)
#   scripts/bench.sh verify peers     # only some sections: verify peers chart adapters crm
#
# Results go to target/bench-results/ (raw logs, tables.md, summaries) and the chart to
# benches/ns-per-byte.svg. Servers and load generators only ever use 127.0.0.1, and every
# load run is bounded in requests and seconds.
#
# Noise: on a shared 2-core machine, run as root if you can: the single-threaded benchmarks
# then get SCHED_FIFO priority (chrt), so compile jobs on the same machine do not preempt
# them. Servers and load generators are pinned to different cores (taskset). Ratios are
# always taken within one run, side by side.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${BENCH_OUT:-target/bench-results}
ROUNDS=${BENCH_ROUNDS:-5}
SECTIONS=${*:-verify peers chart adapters crm}
mkdir -p "$OUT"
T=target/release

# Highest real-time priority we may use, or nothing.
RT=()
if [ "$(id -u)" = 0 ] && command -v chrt >/dev/null; then
    RT=(chrt -f 50)
fi
PIN0=() PIN1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN0=(taskset -c 0) PIN1=(taskset -c 1)
fi

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_port() { # host port: wait up to 30 s for a listener
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listening on $1:$2" >&2
    return 1
}

stop() { # pid: stop a server we started, by its id
    kill -INT "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

machine() {
    {
        echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
        echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') x $(nproc)"
        echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
        echo "kernel: $(uname -sr)"
        echo "rustc: $(rustc --version)"
        echo "scheduling: ${RT[*]:-normal} ${PIN0[*]:+(servers on cpu 0, load on cpu 1)}"
    } >"$OUT/machine.txt"
    cat "$OUT/machine.txt"
}

load() { echo "load ($1): $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"; }

# Criterion benches: single-threaded, so they can run at real-time priority.
criterion_bench() { # package bench
    cargo bench -p "$1" --bench "$2" --no-run
    local exe
    exe=$(cargo bench -p "$1" --bench "$2" --no-run --message-format=json 2>/dev/null |
        grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
    load "$2 start"
    # criterion writes to $CARGO_TARGET_DIR/criterion (target/criterion here).
    CARGO_TARGET_DIR="$PWD/target" "${RT[@]}" "$exe" --bench | tee "$OUT/$2.log"
    load "$2 end"
}

# One line of medians over rounds, for each URL in a bench-load log.
summarise_load() { # log
    awk '
        { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          u = v["url"]; n[u]++; p50[u, n[u]] = v["p50_us"]; p99[u, n[u]] = v["p99_us"]; rps[u, n[u]] = v["rps"]
          if (!(u in seen)) { seen[u] = 1; order[++k] = u } }
        function median(a, u, c,    i, j, t, x) {
            for (i = 1; i <= c; i++) x[i] = a[u, i]
            for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (x[j] + 0 < x[i] + 0) { t = x[i]; x[i] = x[j]; x[j] = t }
            return (c % 2) ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
        }
        END { for (i = 1; i <= k; i++) { u = order[i]
            printf "%s rounds=%d median_p50_us=%s median_p99_us=%s median_rps=%s\n", u, n[u], median(p50, u, n[u]), median(p99, u, n[u]), median(rps, u, n[u]) } }
    ' "$1"
}

adapters() {
    cargo build --release -p bookhook-bench --bins
    : >"$OUT/adapters.log"
    local size=1024 n=20000 c=8
    "${PIN0[@]}" "$T/bench-axum" 127.0.0.1:18081 & local axum=$!
    PIDS+=("$axum")
    "${PIN0[@]}" "$T/bench-actix" 127.0.0.1:18082 & local actix=$!
    PIDS+=("$actix")
    wait_port 127.0.0.1 18081
    wait_port 127.0.0.1 18082
    load "adapters start"
    # Interleaved rounds: with and without the layer alternate, so drift hits both.
    for round in $(seq "$ROUNDS"); do
        for url in http://127.0.0.1:18081/plain http://127.0.0.1:18081/verified \
            http://127.0.0.1:18082/plain http://127.0.0.1:18082/verified \
            http://127.0.0.1:18082/middleware/verified; do
            "${PIN1[@]}" "$T/bench-load" --url "$url" --size $size -n $n --warmup 2000 -c $c \
                --max-secs 60 | tee -a "$OUT/adapters.log"
        done
        echo "round $round done"
    done
    load "adapters end"
    stop "$axum"
    stop "$actix"
    summarise_load "$OUT/adapters.log" | tee "$OUT/adapters-summary.txt"
}

crm() {
    cargo build --release -p crm-sync -p bookhook-bench --bins
    local dir
    dir=$(mktemp -d)
    "$T/bench-fake-crm" 127.0.0.1:18090 2>"$OUT/fake-crm.log" & local fake=$!
    PIDS+=("$fake")
    wait_port 127.0.0.1 18090
    : >"$OUT/crm.log"
    for round in $(seq "$ROUNDS"); do
        rm -f "$dir"/load.db*
        CRM_SYNC_ADDR=127.0.0.1:18080 CRM_SYNC_DB="$dir/load.db" \
            SLATIS_WEBHOOK_SECRET=whsec_load HUBSPOT_TOKEN=fake-token \
            HUBSPOT_BASE_URL=http://127.0.0.1:18090 RUST_LOG=warn \
            "$T/crm-sync" 2>>"$OUT/crm-sync-server.log" & local server=$!
        PIDS+=("$server")
        wait_port 127.0.0.1 18080
        load "crm round $round"
        "$T/crm-sync-load" --url http://127.0.0.1:18080 --secret whsec_load \
            -n 20000 -c 64 --max-secs 120 --run-id "bench$round$$" | tee -a "$OUT/crm.log"
        stop "$server"
    done
    stop "$fake"
    rm -rf "$dir"
    awk '/throughput=/ { print }' "$OUT/crm.log" >"$OUT/crm-summary.txt"
}

machine
for section in $SECTIONS; do
    case $section in
    verify) criterion_bench bookhook-verify verify ;;
    peers) criterion_bench bookhook-bench peers ;;
    chart)
        mkdir -p benches
        cargo run --release -q -p bookhook-bench --bin bench-chart -- \
            target/criterion benches/ns-per-byte.svg | tee "$OUT/tables.md"
        ;;
    adapters) adapters ;;
    crm) crm ;;
    *)
        echo "unknown section $section (verify peers chart adapters crm)" >&2
        exit 2
        ;;
    esac
done

#!/usr/bin/env bash
# Reproduces every number in BENCHMARKS.md. Nothing here runs in CI: CI only compiles the
# benchmarks (`cargo bench --workspace --no-run`).
#
#   scripts/bench.sh                  # everything (about 16 minutes on 2 cores)
#   scripts/bench.sh verify peers     # only some sections: verify peers chart adapters crm replay
#   scripts/bench.sh scaling          # crm-sync on SQLite vs PostgreSQL with 1 and 3 replicas
#                                     # (acks/s, p50/p99), then the worker drain rate of 3
#                                     # replicas to a CRM answering in 20 ms (issue 14)
#   scripts/bench.sh before-after     # the verify core before the performance work vs now
#   scripts/bench.sh crm-before-after # crm-sync acks/s and p99 at BENCH_CRM_BEFORE vs now,
#                                     # alternating rounds; then the /metrics scrape time
#                                     # with 10 000 rows in the inbox
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
T=${CARGO_TARGET_DIR:-target}/release

# Highest real-time priority we may use, or nothing.
RT=()
if [ "$(id -u)" = 0 ] && command -v chrt >/dev/null; then
    RT=(chrt -f 50)
fi
# Servers on cpu 0, load generators on cpu 1, both single-threaded and (as root) at
# real-time priority: otherwise whatever else runs on the machine decides the tail.
PIN0=("${RT[@]}") PIN1=("${RT[@]}")
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN0=(taskset -c 0 "${RT[@]}") PIN1=(taskset -c 1 "${RT[@]}")
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

# Where a 256 B Standard Webhooks verify spends its time (perf, criterion's profile mode).
paired_bench() { # bookhook ÷ floor as A-B-A paired rounds (see crates/verify/benches/paired.rs)
    cargo bench -p bookhook-verify --bench paired --no-run
    local exe
    exe=$(cargo bench -p bookhook-verify --bench paired --no-run --message-format=json 2>/dev/null |
        grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
    load "paired start"
    "${PIN1[@]}" "$exe" --bench | tee "$OUT/paired.log"
    load "paired end"
}

verify_profile() {
    command -v perf >/dev/null || return 0
    local exe
    exe=$(cargo bench -p bookhook-verify --bench verify --no-run --message-format=json 2>/dev/null |
        grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
    mkdir -p target/bench-profile
    (cd target/bench-profile && "${RT[@]}" perf record -q -o perf-verify.data -- "$exe" --bench \
        --profile-time 5 'verify/standard/bookhook/256$' >/dev/null 2>&1) || true
    perf report -i target/bench-profile/perf-verify.data --no-children --sort sym --stdio \
        2>/dev/null | grep -E '^ +[0-9]' | awk 'NR <= 30' | tee "$OUT/verify-profile.txt"
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
    rm -f "$OUT"/adapters-c*.log "$OUT/adapters-profile.txt"
    local size=1024 n=20000 c=8
    "${PIN0[@]}" "$T/bench-axum" 127.0.0.1:18081 & local axum=$!
    PIDS+=("$axum")
    "${PIN0[@]}" "$T/bench-actix" 127.0.0.1:18082 & local actix=$!
    PIDS+=("$actix")
    wait_port 127.0.0.1 18081
    wait_port 127.0.0.1 18082
    load "adapters start"
    # Interleaved rounds: with and without the layer alternate, so drift hits both. One
    # connection gives the latency a single delivery sees; eight keep the one server thread
    # busy, so p50 is then queueing behind the server's own per-request CPU time.
    for round in $(seq "$ROUNDS"); do
        for c in 1 $c; do
            for url in http://127.0.0.1:18081/plain http://127.0.0.1:18081/verified \
                http://127.0.0.1:18082/plain http://127.0.0.1:18082/verified \
                http://127.0.0.1:18082/scoped/plain http://127.0.0.1:18082/middleware/verified; do
                "${PIN1[@]}" "$T/bench-load" --url "$url" --size $size -n $n --warmup 2000 \
                    -c "$c" --max-secs 60 | tee -a "$OUT/adapters-c$c.log"
            done
        done
        echo "round $round done"
    done
    # The target itself, measured so that drift cancels: one connection alternating plain and
    # verified requests, the median of the per-pair differences against the plain p50.
    : >"$OUT/adapters-paired.log"
    for round in 1 2 3; do
        # The axum layer's cost split into parts: layering alone (/noop), verifying in the
        # handler with no adapter (/inhandler, with /inhandler-none as its control), and a
        # second, warm-cache verify on top (/inhandler-twice). See bench-axum.rs.
        for spec in "18081/plain /verified" "18082/plain /verified" \
            "18082/scoped/plain /middleware/verified" "18081/plain /extractor" \
            "18081/plain /noop" \
            "18081/plain /inhandler-none" "18081/plain /inhandler" \
            "18081/plain /inhandler-twice"; do
            set -- $spec
            "${PIN1[@]}" "$T/bench-load" --url "http://127.0.0.1:$1" --alternate-with "$2" \
                --size $size -n $n --warmup 2000 -c 1 --max-secs 60 | tee -a "$OUT/adapters-paired.log"
        done
    done
    load "adapters end"
    # Where a verified request's CPU time goes: perf over the server's core while loaded.
    if command -v perf >/dev/null; then
        # (samples of the server process only, by pid)
        for url in http://127.0.0.1:18081/verified http://127.0.0.1:18082/verified; do
            local name=${url#http://127.0.0.1:} pid=$axum
            name=${name//\//-}
            [ "${url#*18082}" != "$url" ] && pid=$actix

            "${PIN1[@]}" "$T/bench-load" --url "$url" --size $size -n 1000000 --warmup 0 \
                -c "$c" --max-secs 6 >/dev/null &
            local loader=$!
            sleep 1
            perf record -q -a -C 0 -o "$OUT/perf-$name.data" -- sleep 3 >/dev/null 2>&1 || true
            wait "$loader" || true
            perf report -i "$OUT/perf-$name.data" --no-children --pid "$pid" \
                --percentage relative --sort sym --stdio 2>/dev/null |
                awk -v name="$name" '
                    /^ +[0-9.]+%/ { p = $1 + 0; total += p
                        if ($0 ~ /sha2::|hmac::/) hmac += p
                        else if ($0 ~ /bookhook_verify::/) verify += p
                        else if ($0 ~ /bookhook_(axum|actix)::/) adapter += p }
                    END { printf "%s share of the server thread'"'"'s CPU: hmac=%.1f%% verify-other=%.1f%% adapter=%.1f%% (sampled %.0f%%)\n", name, hmac, verify, adapter, total }
                ' | tee -a "$OUT/adapters-profile.txt"
        done
    fi
    # Where the extra CPU per verified request goes (axum, saturated): samples per symbol
    # on the server thread, /plain vs /verified, turned into ns per request.
    if command -v perf >/dev/null; then
        for path in plain verified; do
            "${PIN1[@]}" "$T/bench-load" --url "http://127.0.0.1:18081/$path" --size $size \
                -n 4000000 --warmup 0 -c "$c" --max-secs 5 >"$OUT/diff-$path.load" &
            local loader=$!
            sleep 1
            perf record -q -F 4999 -a -C 0 -o "$OUT/diff-$path.data" -- sleep 3 >/dev/null 2>&1 || true
            wait "$loader" || true
            perf report -i "$OUT/diff-$path.data" --no-children --pid "$axum" --sort sym \
                --stdio -F sample,sym 2>/dev/null | grep -E '^ +[0-9]' >"$OUT/diff-$path.syms" || true
        done
        local rps_plain rps_verified
        rps_plain=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' "$OUT/diff-plain.load")
        rps_verified=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' "$OUT/diff-verified.load")
        # one sample = 1/4999 s of CPU; 3 s of recording
        awk -v a="$rps_plain" -v b="$rps_verified" '
            { file = (FILENAME ~ /diff-plain/) ? 1 : 2; n = $1; $1 = ""; $2 = ""; sym = substr($0, 3, 100)
              ns = n * 1e9 / 4999 / (3 * (file == 1 ? a : b))
              if (file == 1) { pa[sym] += ns; ta += ns } else { pb[sym] += ns; tb += ns; seen[sym] = 1 } }
            END { printf "axum server CPU per request: plain %.0f ns, verified %.0f ns\n", ta, tb > "/dev/stderr"
                  for (s in pa) seen[s] = 1
                  for (s in seen) printf "%8.0f ns  %s\n", pb[s] - pa[s], s }
        ' "$OUT/diff-plain.syms" "$OUT/diff-verified.syms" 2>"$OUT/adapters-diff.txt" |
            sort -rn | awk 'NR <= 25' >>"$OUT/adapters-diff.txt"
        cat "$OUT/adapters-diff.txt"
    fi
    stop "$axum"
    stop "$actix"
    for c in 1 $c; do
        echo "connections=$c"
        summarise_load "$OUT/adapters-c$c.log"
    done | tee "$OUT/adapters-summary.txt"
}

crm() {
    cargo build --release -p crm-sync -p bookhook-bench --bins
    local dir
    dir=$(mktemp -d)
    # crm-sync and its load generator share both cores (no pinning), at real-time priority
    # as root so that other work on the machine does not decide the number.
    "${RT[@]}" "$T/bench-fake-crm" 127.0.0.1:18090 2>"$OUT/fake-crm.log" & local fake=$!
    PIDS+=("$fake")
    wait_port 127.0.0.1 18090
    : >"$OUT/crm.log"
    for round in $(seq "$ROUNDS"); do
        rm -f "$dir"/load.db*
        CRM_SYNC_ADDR=127.0.0.1:18080 CRM_SYNC_DB="$dir/load.db" \
            SLATIS_WEBHOOK_SECRET=whsec_load HUBSPOT_TOKEN=fake-token \
            HUBSPOT_BASE_URL=http://127.0.0.1:18090 RUST_LOG=warn \
            "${RT[@]}" "$T/crm-sync" 2>>"$OUT/crm-sync-server.log" & local server=$!
        PIDS+=("$server")
        wait_port 127.0.0.1 18080
        load "crm round $round"
        if [ "$round" = 1 ] && command -v perf >/dev/null; then
            # Where the time goes, whole machine, during the first round.
            perf record -q -a -g -o "$OUT/perf-crm.data" -- sleep 3 >/dev/null 2>&1 &
            local profiler=$!
        fi
        "${RT[@]}" "$T/crm-sync-load" --url http://127.0.0.1:18080 --secret whsec_load \
            -n 20000 -c 64 --max-secs 120 --run-id "bench$round$$" | tee -a "$OUT/crm.log"
        if [ "$round" = 1 ] && [ -n "${profiler:-}" ]; then
            wait "$profiler" || true
            perf report -i "$OUT/perf-crm.data" --no-children --sort comm,dso --stdio 2>/dev/null |
                grep -E '^ +[0-9]' | awk 'NR <= 15' >"$OUT/crm-profile.txt" || true
            perf report -i "$OUT/perf-crm.data" --no-children --sort sym --stdio -g none 2>/dev/null |
                grep -E '^ +[0-9]' | awk 'NR <= 30' >>"$OUT/crm-profile.txt" || true
        fi
        stop "$server"
    done
    stop "$fake"
    rm -rf "$dir"
    awk '/throughput=/ { print }' "$OUT/crm.log" >"$OUT/crm-summary.txt"
}

# A throw-away PostgreSQL cluster for the scaling runs, as the tests' harness makes one:
# Debian's packaged binaries, initdb into a temp dir, the server on 127.0.0.1 (as the
# `postgres` user when root), fsync and synchronous_commit on, as in production.
PG_PORT=18432
pg_start() {
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
    [ -x "$PGBIN/initdb" ] || { echo "PostgreSQL is missing: scripts/install-test-deps.sh" >&2; return 1; }
    PGDIR=$(mktemp -d)
    AS_PG=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$PGDIR"
        AS_PG=(runuser -u postgres --)
    fi
    "${AS_PG[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 \
        --locale=C --no-sync >/dev/null
    "${RT[@]}" "${AS_PG[@]}" "$PGBIN/postgres" -D "$PGDIR/data" -h 127.0.0.1 -p "$PG_PORT" \
        -k "$PGDIR" -c fsync=on -c synchronous_commit=on -c max_connections=200 \
        -c shared_buffers=256MB 2>"$OUT/postgres.log" &
    PIDS+=("$!")
    until "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; do sleep 0.1; done
}
pg_createdb() { "${AS_PG[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$1"; }
pg_psql() { "${AS_PG[@]}" "$PGBIN/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$1" -c "$2"; }
pg_stop() {
    "${AS_PG[@]}" "$PGBIN/pg_ctl" stop -D "$PGDIR/data" -m fast -w >/dev/null || true
    rm -rf "$PGDIR"
}

# Starts a crm-sync on 127.0.0.1:$1 with the variables that follow; its pid in SERVERS.
SERVERS=()
start_crm_sync() { # port VAR=value...
    local port=$1
    shift
    env CRM_SYNC_ADDR="127.0.0.1:$port" SLATIS_WEBHOOK_SECRET=whsec_load RUST_LOG=warn "$@" \
        "${RT[@]}" "$T/crm-sync" 2>>"$OUT/crm-sync-server.log" &
    SERVERS+=("$!")
    PIDS+=("$!")
    wait_port 127.0.0.1 "$port"
}
stop_crm_sync() {
    for s in "${SERVERS[@]}"; do stop "$s"; done
    SERVERS=()
}

# Issue 14: acknowledgements on SQLite (one process) vs PostgreSQL with one and with three
# replicas, the same load generator and 64 connections, alternating setups within each
# round; the workers sync to bench-fake-crm meanwhile, as in `crm`. Then the drain: an
# inbox of BENCH_DRAIN_N pending rows (stored with no HUBSPOT_TOKEN), sent by three
# replicas to a fake CRM answering each batch in 20 ms; contacts/s and contacts sent twice.
scaling_acks() {
    cargo build --release -p crm-sync -p bookhook-bench --bins
    pg_start
    local dir n=${BENCH_SCALING_N:-20000}
    dir=$(mktemp -d)
    "${RT[@]}" "$T/bench-fake-crm" 127.0.0.1:18090 2>"$OUT/fake-crm.log" & local fake=$!
    PIDS+=("$fake")
    wait_port 127.0.0.1 18090
    local crm=(HUBSPOT_TOKEN=fake-token HUBSPOT_BASE_URL=http://127.0.0.1:18090)
    : >"$OUT/scaling.log"
    for round in $(seq "$ROUNDS"); do
        for setup in sqlite pg1 pg3; do
            local urls=http://127.0.0.1:18080
            case $setup in
            sqlite) start_crm_sync 18080 "${crm[@]}" CRM_SYNC_DB="$dir/load-$round.db" ;;
            pg1)
                pg_createdb "pg1_$round"
                start_crm_sync 18080 "${crm[@]}" \
                    CRM_SYNC_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/pg1_$round"
                ;;
            pg3)
                pg_createdb "pg3_$round"
                for port in 18080 18081 18082; do
                    start_crm_sync "$port" "${crm[@]}" \
                        CRM_SYNC_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/pg3_$round"
                done
                urls=http://127.0.0.1:18080,http://127.0.0.1:18081,http://127.0.0.1:18082
                ;;
            esac
            load "scaling $setup round $round"
            local db=${setup}_$round lsn0 xact0
            if [ "$setup" != sqlite ]; then
                lsn0=$(pg_psql "$db" "SELECT pg_current_wal_lsn()")
                xact0=$(pg_psql "$db" "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'")
            fi
            "${RT[@]}" "$T/crm-sync-load" --url "$urls" --secret whsec_load -n "$n" -c 64 \
                --max-secs 120 --run-id "scale$setup$round$$" | sed "s/^/setup=$setup round=$round /" |
                tee -a "$OUT/scaling.log"
            stop_crm_sync
            if [ "$setup" != sqlite ]; then
                # WAL written and transactions committed per delivery (the workers' claims
                # and marks included: they ran during the load).
                pg_psql "$db" "SELECT 'setup=$setup round=$round wal_bytes_per_delivery=' ||
                    round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0') / $n) ||
                    ' commits_per_1000_deliveries=' ||
                    round((xact_commit - $xact0) * 1000.0 / $n) ||
                    ' table_bytes_per_delivery=' || round(pg_table_size('deliveries')::numeric / $n) ||
                    ' index_bytes_per_delivery=' || round(pg_indexes_size('deliveries')::numeric / $n)
                    FROM pg_stat_database WHERE datname = '$db'" | tee -a "$OUT/scaling.log"
            fi
        done
    done
    stop "$fake"
    awk '/throughput=|wal_bytes/ { print }' "$OUT/scaling.log" >"$OUT/scaling-summary.txt"

    pg_stop
    rm -rf "$dir"
}

scaling_drain() {
    cargo build --release -p crm-sync -p bookhook-bench --bins
    pg_start
    local fake drain_n=${BENCH_DRAIN_N:-30000}
    local crm=(HUBSPOT_TOKEN=fake-token HUBSPOT_BASE_URL=http://127.0.0.1:18090)
    # Drain: fill (no token: rows wait), then three replicas with the token.
    "${RT[@]}" "$T/bench-fake-crm" 127.0.0.1:18090 --delay-ms 20 2>"$OUT/fake-crm-drain.log" &
    fake=$!
    PIDS+=("$fake")
    wait_port 127.0.0.1 18090
    pg_createdb drain
    local url="postgres://postgres@127.0.0.1:$PG_PORT/drain"
    start_crm_sync 18080 CRM_SYNC_DATABASE_URL="$url"
    "$T/crm-sync-load" --url http://127.0.0.1:18080 --secret whsec_load -n "$drain_n" -c 64 \
        --max-secs 120 --run-id "drain$$" >/dev/null
    stop_crm_sync
    load "drain"
    local started ended
    started=$(date +%s.%N)
    for port in 18080 18081 18082; do
        start_crm_sync "$port" "${crm[@]}" CRM_SYNC_DATABASE_URL="$url"
    done
    # Bounded: at most 300 s.
    for _ in $(seq 3000); do
        [ "$(pg_psql drain "SELECT count(*) FROM deliveries WHERE status = 'pending'")" = 0 ] && break
        sleep 0.1
    done
    ended=$(date +%s.%N)
    local fake_stats
    fake_stats=$(curl -s http://127.0.0.1:18090/stats)
    stop_crm_sync
    stop "$fake"
    {
        awk -v n="$drain_n" -v a="$started" -v b="$ended" -v f="$fake_stats" 'BEGIN {
            printf "drain rows=%d replicas=3 crm_delay_ms=20 seconds=%.2f contacts_per_s=%.0f fake=%s ",
                n, b - a, n / (b - a), f }'
        echo \
            "delivered=$(pg_psql drain "SELECT count(*) FROM deliveries WHERE status = 'delivered'")"
        sizes() {
            echo "table=$(pg_psql drain "SELECT pg_table_size('deliveries')")" \
                "indexes=$(pg_psql drain "SELECT pg_indexes_size('deliveries')")" \
                "body_bytes=$(pg_psql drain "SELECT sum(octet_length(body)) FROM deliveries")" \
                "dead_rows=$(pg_psql drain "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'deliveries'")"
        }
        echo "postgres after $drain_n deliveries stored, claimed and marked: $(sizes)"
        pg_psql drain "VACUUM (FULL, ANALYZE) deliveries"
        echo "postgres after VACUUM FULL (live rows only): $(sizes)"
    } | tee -a "$OUT/scaling-summary.txt"
    pg_stop
}

scaling() {
    scaling_acks
    scaling_drain
}

# crm-sync now (metrics on: they cannot be turned off) against an earlier commit
# (BENCH_CRM_BEFORE, default 9bf0fbb: the commit before /metrics, the admin page and the
# command line), in paired rounds that alternate before/after so drift hits both alike.
# Same load as `crm` (BENCH_CRM_N deliveries per round, default 20 000: at ~20 000 acks/s a
# round is one second, so use more for a steadier p99): distinct signed Slatis deliveries
# over 64 connections, a fresh
# database each round, the worker syncing to bench-fake-crm.
CRM_BEFORE=${BENCH_CRM_BEFORE:-9bf0fbb}
CRM_N=${BENCH_CRM_N:-20000} # deliveries per round
crm_before_after() {
    cargo build --release -p crm-sync -p bookhook-bench --bins
    local wt=target/bench-crm-before-$CRM_BEFORE
    if [ ! -d "$wt" ]; then
        git worktree add --detach "$wt" "$CRM_BEFORE"
    fi
    local before_target=$PWD/target/bench-crm-before-target
    (cd "$wt" && CARGO_TARGET_DIR="$before_target" cargo build --release -p crm-sync --bins)
    local dir
    dir=$(mktemp -d)
    "${RT[@]}" "$T/bench-fake-crm" 127.0.0.1:18090 2>"$OUT/fake-crm.log" & local fake=$!
    PIDS+=("$fake")
    wait_port 127.0.0.1 18090
    : >"$OUT/crm-before-after.log"
    for round in $(seq "$ROUNDS"); do
        for which in before after; do
            local exe=$T/crm-sync
            [ "$which" = before ] && exe=$before_target/release/crm-sync
            rm -f "$dir"/load.db*
            CRM_SYNC_ADDR=127.0.0.1:18080 CRM_SYNC_DB="$dir/load.db" \
                SLATIS_WEBHOOK_SECRET=whsec_load HUBSPOT_TOKEN=fake-token \
                HUBSPOT_BASE_URL=http://127.0.0.1:18090 RUST_LOG=warn \
                "${RT[@]}" "$exe" 2>>"$OUT/crm-sync-server.log" & local server=$!
            PIDS+=("$server")
            wait_port 127.0.0.1 18080
            load "crm $which round $round"
            "${RT[@]}" "$T/crm-sync-load" --url http://127.0.0.1:18080 --secret whsec_load \
                -n "$CRM_N" -c 64 --max-secs 120 --run-id "ba$which$round$$" |
                sed "s/^/which=$which round=$round /" | tee -a "$OUT/crm-before-after.log"
            # The server's CPU time (user + system) per acknowledgement: what the metrics
            # cost, without the disk's fsync noise that throughput and p99 carry on a
            # shared machine. Read before stopping it (includes start-up and the worker).
            awk -v which="$which" -v round="$round" -v n="$CRM_N" -v hz="$(getconf CLK_TCK)" \
                '{ printf "which=%s round=%s cpu_us_per_ack=%.2f\n", which, round, ($14 + $15) * 1e6 / hz / n }' \
                "/proc/$server/stat" | tee -a "$OUT/crm-before-after.log"
            stop "$server"
        done
    done
    stop "$fake"
    # Medians per side, and the after/before ratio of each pair.
    awk '
        /throughput=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          w = v["which"]; r = v["round"]; rps[w, r] = v["throughput"] + 0; p99[w, r] = v["p99"] + 0; n[w]++ }
        /cpu_us_per_ack=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          cpu[v["which"], v["round"]] = v["cpu_us_per_ack"] + 0 }
        function median(a, w, c,    i, j, t, x) {
            for (i = 1; i <= c; i++) x[i] = a[w, i]
            for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
            return (c % 2) ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
        }
        END {
            for (r = 1; r <= n["after"]; r++) { rr[r] = rps["after", r] / rps["before", r]; pr[r] = p99["after", r] / p99["before", r] }
            for (r = 1; r <= n["after"]; r++) { ratio["x", r] = rr[r]; pratio["x", r] = pr[r]; cratio["x", r] = cpu["after", r] / cpu["before", r] }
            printf "server CPU per ack: before median %.2f us, after median %.2f us, paired ratio median %.3f\n", median(cpu, "before", n["before"]), median(cpu, "after", n["after"]), median(cratio, "x", n["after"])
            printf "before: median %.0f acks/s, median p99 %.1f ms (%d rounds)\n", median(rps, "before", n["before"]), median(p99, "before", n["before"]), n["before"]
            printf "after:  median %.0f acks/s, median p99 %.1f ms (%d rounds)\n", median(rps, "after", n["after"]), median(p99, "after", n["after"]), n["after"]
            printf "paired after/before: median acks/s ratio %.3f, median p99 ratio %.3f\n", median(ratio, "x", n["after"]), median(pratio, "x", n["after"])
        }
    ' "$OUT/crm-before-after.log" | tee "$OUT/crm-before-after-summary.txt"

    # The /metrics scrape with 10 000 rows waiting (no CRM: they stay pending, so the
    # oldest-pending lookup has work), 50 scrapes, one at a time.
    rm -f "$dir"/load.db*
    CRM_SYNC_ADDR=127.0.0.1:18080 CRM_SYNC_DB="$dir/load.db" SLATIS_WEBHOOK_SECRET=whsec_load \
        RUST_LOG=warn "$T/crm-sync" 2>>"$OUT/crm-sync-server.log" & local server=$!
    PIDS+=("$server")
    wait_port 127.0.0.1 18080
    "$T/crm-sync-load" --url http://127.0.0.1:18080 --secret whsec_load -n 10000 -c 32 \
        --max-secs 120 --run-id "scrape$$" >/dev/null
    curl -s http://127.0.0.1:18080/metrics | grep '^crm_sync_inbox_rows' | tee "$OUT/crm-scrape.txt"
    for _ in $(seq 50); do
        curl -s -o /dev/null -w '%{time_total} %{size_download}\n' http://127.0.0.1:18080/metrics
    done | sort -n | awk '{ t[NR] = $1 * 1000; b = $2 } END {
        printf "/metrics with 10 000 rows: median %.2f ms, max %.2f ms over %d scrapes, %d bytes\n", t[int((NR + 1) / 2)], t[NR], NR, b }' |
        tee -a "$OUT/crm-scrape.txt"
    stop "$server"
    rm -rf "$dir"
}

# The verify core before some performance work (BENCH_BEFORE, default 80bd1a9; the earlier round was 7d9fde1) against now, on
# the same benches:
# criterion medians for the Standard Webhooks groups, before and after alternating, and
# (with valgrind) instructions per verify call, which noise does not move.
BEFORE=${BENCH_BEFORE:-80bd1a9}
before_after() {
    local dir=target/bench-before-$BEFORE
    if [ ! -d "$dir" ]; then
        git worktree add --detach "$dir" "$BEFORE"
    fi
    # Today's benches, on the old core.
    mkdir -p "$dir/crates/verify/benches"
    cp -r crates/verify/benches/. "$dir/crates/verify/benches/"
    if ! grep -q '^\[\[bench\]\]' "$dir/crates/verify/Cargo.toml"; then
        sed -i 's/^proptest.workspace = true$/proptest.workspace = true\ncriterion = { version = "0.8", default-features = false }/' \
            "$dir/crates/verify/Cargo.toml"
    fi
    for bench in verify paired; do
        grep -q "^name = \"$bench\"" "$dir/crates/verify/Cargo.toml" ||
            printf '\n[[bench]]\nname = "%s"\nharness = false\n' "$bench" >>"$dir/crates/verify/Cargo.toml"
    done
    local old new filter='verify/standard(-3-secrets)?/(floor|bookhook)/'
    old=$(cd "$dir" && CARGO_TARGET_DIR="$PWD/../bench-before-target" cargo bench -p bookhook-verify \
        --bench verify --no-run --message-format=json 2>/dev/null |
        grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
    new=$(cargo bench -p bookhook-verify --bench verify --no-run --message-format=json 2>/dev/null |
        grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
    : >"$OUT/before-after.log"
    load "before-after start"
    for round in 1 2; do
        for which in before after; do
            local exe=$new
            [ "$which" = before ] && exe=$old
            mkdir -p "target/bench-$which-criterion"
            (cd "target/bench-$which-criterion" && "${RT[@]}" "$exe" --bench "$filter" \
                --warm-up-time 1 --measurement-time 3 2>&1) |
                awk -v w="$which" -v r="$round" '/^verify\// { name = $1 } $1 == "time:" { print w, r, name, $4 $5 }' |
                tee -a "$OUT/before-after.log"
        done
    done
    # The same comparison as paired ratios (bookhook ÷ floor), which drift cancels out of.
    local old_paired new_paired
    old_paired=$(cd "$dir" && CARGO_TARGET_DIR="$PWD/../bench-before-target" cargo bench \
        -p bookhook-verify --bench paired --no-run --message-format=json 2>/dev/null |
        grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
    new_paired=$(cargo bench -p bookhook-verify --bench paired --no-run --message-format=json \
        2>/dev/null | grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
    : >"$OUT/paired-before-after.log"
    for round in 1 2; do
        for which in before after; do
            local exe=$new_paired
            [ "$which" = before ] && exe=$old_paired
            echo "== $which round $round $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/paired-before-after.log"
            "${PIN1[@]}" "$exe" --bench >>"$OUT/paired-before-after.log"
        done
    done
    load "before-after end"
    for which in before after; do
        echo "$which (criterion medians of the last round):"
        cargo run --release -q -p bookhook-bench --bin bench-chart -- \
            "target/bench-$which-criterion/target/criterion" /dev/null | grep -E '^\| standard'
    done | tee "$OUT/before-after-summary.txt"
    if command -v valgrind >/dev/null; then
        for which in before after; do
            local exe=$new
            [ "$which" = before ] && exe=$old
            (cd "target/bench-$which-criterion" && valgrind --tool=callgrind \
                --callgrind-out-file=callgrind.out \
                --toggle-collect='bookhook_verify::verifier::Verifier::verify_with_query*' \
                "$exe" --bench --profile-time 1 'verify/standard/bookhook/256$' >/dev/null 2>&1)
            local total
            total=$(callgrind_annotate "target/bench-$which-criterion/callgrind.out" 2>/dev/null |
                awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
            callgrind_annotate --tree=calling "target/bench-$which-criterion/callgrind.out" 2>/dev/null |
                awk -v w="$which" -v t="$total" '/> .*verifier::matching_secret \(/ && !seen {
                        seen = 1
                        n = $0; sub(/.*\(/, "", n); sub(/x\).*/, "", n); gsub(",", "", n)
                        m = $1; gsub(",", "", m)
                        printf "%s: %.0f instructions per verify (256 B) outside the HMAC and compare (%.0f calls)\n", w, (t - m) / n, n }'
        done | tee "$OUT/before-after-instructions.txt"
    fi
}

# The replay guard (issue 17): its own cost in criterion, then in the axum server, paired,
# with every delivery new (`--unique-ids`: a repeated one would measure the duplicate path).
replay() {
    criterion_bench bookhook-replay guard
    cargo build --release -p bookhook-bench --bins
    local redis_dir="" redis_pid="" redis_port=16379
    if command -v redis-server >/dev/null; then
        redis_dir=$(mktemp -d)
        # On the load generator's core: the server's core stays the server's alone.
        "${PIN1[@]}" redis-server --bind 127.0.0.1 --port $redis_port --dir "$redis_dir" \
            --save "" --appendonly no >/dev/null & redis_pid=$!
        PIDS+=("$redis_pid")
        wait_port 127.0.0.1 $redis_port
        export BENCH_REDIS_URL="redis://127.0.0.1:$redis_port/"
    else
        echo "redis-server missing: the Redis guard is not measured (scripts/install-test-deps.sh)" >&2
    fi
    "${PIN0[@]}" "$T/bench-axum" 127.0.0.1:18083 & local axum=$!
    PIDS+=("$axum")
    wait_port 127.0.0.1 18083
    unset BENCH_REDIS_URL
    load "replay start"
    : >"$OUT/replay-paired.log"
    local specs=("/plain /verified" "/plain /inhandler" "/plain /guarded" "/verified /guarded")
    [ -n "$redis_pid" ] && specs+=("/verified /guarded-redis")
    for round in 1 2 3; do
        for spec in "${specs[@]}"; do
            set -- $spec
            "${PIN1[@]}" "$T/bench-load" --url "http://127.0.0.1:18083$1" --alternate-with "$2" \
                --unique-ids --size 1024 -n 20000 --warmup 2000 -c 1 --max-secs 60 |
                tee -a "$OUT/replay-paired.log"
        done
    done
    load "replay end"
    stop "$axum"
    if [ -n "$redis_pid" ]; then
        stop "$redis_pid"
        rm -rf "$redis_dir"
    fi
}

machine
for section in $SECTIONS; do
    case $section in
    verify)
        criterion_bench bookhook-verify verify
        paired_bench
        verify_profile
        ;;
    peers) criterion_bench bookhook-bench peers ;;
    chart)
        mkdir -p benches
        cargo run --release -q -p bookhook-bench --bin bench-chart -- \
            target/criterion benches/ns-per-byte.svg | tee "$OUT/tables.md"
        ;;
    adapters) adapters ;;
    replay) replay ;;
    crm) crm ;;
    scaling) scaling ;;
    scaling-acks) scaling_acks ;;
    scaling-drain) scaling_drain ;;
    crm-before-after) crm_before_after ;;
    before-after) before_after ;;
    *)
        echo "unknown section $section (verify peers chart adapters replay crm scaling crm-before-after before-after)" >&2
        exit 2
        ;;
    esac
done

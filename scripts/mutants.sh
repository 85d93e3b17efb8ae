#!/usr/bin/env bash
# Mutation testing (issue 19): for each package given (default: bookhook-verify), cargo-mutants
# changes the code one mutant at a time and runs that package's tests; a mutant the tests
# still pass is "missed". Prints caught / missed / unviable / timeout per package and exits
# non-zero if any mutant is missed (or the unmutated tree fails its tests). Mutants that
# cannot change behaviour are excluded, each with a reason, in .cargo/mutants.toml.
#
#   bash scripts/mutants.sh                                  # bookhook-verify
#   bash scripts/mutants.sh bookhook-verify bookhook-axum
#   bash scripts/mutants.sh bookhook-verify -- -f crates/verify/src/verifier.rs
#   bash scripts/mutants.sh crm-sync -- -f examples/crm-sync/src/dedupe.rs -f examples/crm-sync/src/contact.rs
#
# Arguments after `--` go to every `cargo mutants` run. Outcomes are kept in
# mutants.out/<package>/ (ignored by git). MUTANTS_JOBS sets the parallel jobs (default: one
# per core, at most 4; cargo-mutants' jobserver keeps all their compiler and test processes
# to one per core, so one job's tests run while another links).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_MUTANTS_VERSION=27.1.0

if [ "$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $CARGO_MUTANTS_VERSION" ]; then
    cargo install --locked cargo-mutants --version "$CARGO_MUTANTS_VERSION"
fi

packages=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    packages+=("$1")
    shift
done
[ $# -gt 0 ] && shift # the `--`
[ ${#packages[@]} -gt 0 ] || packages=(bookhook-verify)

# The tests that exercise each package. The adapters are tested through the workspace case
# tables in tests/ (bookhook-integration) as well as their own tests. cargo-mutants 27.1
# runs the unmutated baseline with the package's own tests only (the mutants with all of
# these): an integration test that fails unmutated would count every mutant as caught, so
# let `cargo test -p bookhook-integration` pass first (CI runs the workspace's tests before).
test_packages() {
    case "$1" in
        bookhook-axum | bookhook-actix) echo "$1 bookhook-integration" ;;
        *) echo "$1" ;;
    esac
}

# Which of those tests run per mutant. crm-sync is mutated in its dedupe keys and contact
# extraction only (`-- -f examples/crm-sync/src/dedupe.rs -f examples/crm-sync/src/contact.rs`):
# their tests are the library's unit tests (`--lib`: those modules' own, and the inbox's
# and worker's, which store and send what they produce). The integration tests start the
# real binary (and Chromium, redis-server), minutes per mutant, and reach these modules
# only through the same functions; nextest does not run doctests either way.
test_selection() {
    case "$1" in
        crm-sync) echo "--cargo-test-arg=--lib" ;;
    esac
}

# nextest runs each package's unit and integration tests, not its doctests, and needs no
# doctest compilation per mutant: that is most of a `cargo test` run of bookhook-verify
# (27 s against 8 s on 2 cores). The doctests still run in CI's `cargo test`. Without
# nextest, `cargo test --tests` runs the same tests (no doctests) one binary at a time.
if cargo nextest --version >/dev/null 2>&1; then
    test_tool=nextest
else
    test_tool=cargo
fi

# A mutant whose tests outlive the timeout (e.g. a loop that no longer ends) counts as
# caught: the tests noticed it, by not finishing. cargo-mutants sets the timeout from the
# unmutated run (5 times it); the floor here, well above a whole run of any package's tests
# (bookhook-verify's take about 8 s), keeps a slow or busy machine from passing a mutant
# off as a timeout when its tests would only have been slow. Override it with
# CARGO_MUTANTS_MINIMUM_TEST_TIMEOUT.
min_test_timeout=${CARGO_MUTANTS_MINIMUM_TEST_TIMEOUT:-60}

cores=$(nproc 2>/dev/null || echo 2)
jobs=${MUTANTS_JOBS:-$((cores < 4 ? cores : 4))}

# Each job builds in its own copy of the tree (under $TMPDIR, without target/ or anything
# .gitignore'd), so a shared CARGO_TARGET_DIR would only make the jobs wait for each
# other's lock and collect one build per mutated copy: leave it unset for the copies.
unset CARGO_TARGET_DIR

status=0
summary=()
for package in "${packages[@]}"; do
    out=mutants.out/$package
    rm -rf "$out"
    mkdir -p "$out"
    test_args=()
    for t in $(test_packages "$package"); do test_args+=(--test-package "$t"); done
    selection=$(test_selection "$package")
    for a in $selection; do test_args+=("$a"); done
    [ -n "$selection" ] || [ "$test_tool" != cargo ] || test_args+=(--cargo-test-arg=--tests)
    started=$(date +%s)
    set +e
    cargo mutants --package "$package" "${test_args[@]}" \
        --jobs "$jobs" --gitignore=true --no-shuffle --colors=never \
        --test-tool "$test_tool" --profile mutants --minimum-test-timeout "$min_test_timeout" \
        --output "$out" "$@"
    code=$?
    set -e
    elapsed=$(($(date +%s) - started))
    count() { awk 'END { print NR }' "$out/mutants.out/$1.txt" 2>/dev/null || echo 0; }
    caught=$(count caught) missed=$(count missed) unviable=$(count unviable) timeout=$(count timeout)
    viable=$((caught + missed + timeout))
    percent=$([ "$viable" -gt 0 ] && echo "$(((caught + timeout) * 1000 / viable))" || echo 1000)
    summary+=("$(printf '%-16s caught %4d  missed %3d  unviable %3d  timeout %2d  (%d.%d %% of viable caught; %d s)' \
        "$package" "$caught" "$missed" "$unviable" "$timeout" $((percent / 10)) $((percent % 10)) "$elapsed")")
    if [ "$timeout" -gt 0 ]; then
        echo "TIMED OUT in $package (counted as caught; see the timeout above):"
        sed 's/^/  /' "$out/mutants.out/timeout.txt"
    fi
    if [ "$missed" -gt 0 ]; then
        echo "MISSED in $package (kill them with a test, or explain them in .cargo/mutants.toml):"
        sed 's/^/  /' "$out/mutants.out/missed.txt"
        status=1
    fi
    # 0 all caught, 2 missed, 3 timeouts (counted as caught); anything else is a failure
    # of the run itself (e.g. 4: the unmutated tests fail).
    case $code in 0 | 2 | 3) ;; *)
        echo "cargo mutants failed for $package (exit $code)"
        status=1
        ;;
    esac
done

echo
echo "mutation testing summary"
printf '%s\n' "${summary[@]}"
exit $status

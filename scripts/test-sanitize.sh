#!/usr/bin/env bash
# Runs the test suite under each sanitizer named, against fresh throwaway clusters, like `make test`.
#
# usage: test-sanitize.sh [thread] [address] [-- SWIFT_TEST_ARGS...]
#
# Each sanitizer builds into its own directory (.build-tsan, .build-asan), so that the ordinary .build stays as it
# is. Reports that are known false positives are suppressed by scripts/sanitizers/*.supp (each entry says why);
# any other report fails the run. Prints the build and test time of each run; the output of a build or a test run
# only when it fails (it is kept in the build directory, sanitize-build.log and sanitize-tests.log).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SWIFT="${SWIFT:-swift}"
supp_dir="$PWD/scripts/sanitizers"
sanitizers=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
    sanitizers+=("$1")
    shift
done
[[ $# -gt 0 ]] && shift
[[ ${#sanitizers[@]} -gt 0 ]] || sanitizers=(thread address)

# Report every race, not just the first; ASan stops at the first error anyway.
export TSAN_OPTIONS="${TSAN_OPTIONS:-suppressions=$supp_dir/tsan.supp second_deadlock_stack=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$supp_dir/lsan.supp}"

failed=()
summary=()
for sanitizer in "${sanitizers[@]}"; do
    case "$sanitizer" in
        thread) scratch=.build-tsan ;;
        address) scratch=.build-asan ;;
        *) printf 'test-sanitize: unknown sanitizer %s (thread, address)\n' "$sanitizer" >&2; exit 2 ;;
    esac
    started=$SECONDS
    mkdir -p "$scratch"
    build_log="$scratch/sanitize-build.log" test_log="$scratch/sanitize-tests.log"
    if ! "$SWIFT" build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" >"$build_log" 2>&1; then
        cat "$build_log"
        printf 'test-sanitize: %s: build FAILED (output in %s)\n' "$sanitizer" "$build_log"
        exit 1
    fi
    built=$SECONDS
    # The run's output is kept in a file; on a failure, everything but the lines of tests that started or passed is
    # printed: the failed tests' issues and logs, and every sanitizer report.
    # Bounded like run-tests.sh's run, so that a test that never ends fails the step instead of holding CI.
    if timeout --kill-after=60 "${TEST_RUN_LIMIT:-1800}" scripts/with-test-servers.sh "$SWIFT" test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" "$@" \
        >"$test_log" 2>&1; then
        result=passed
    else
        grep -v -e '^◇ ' -e '^✔ ' -e '^↳ ' "$test_log" || true
        result="FAILED (output in $test_log)"
        failed+=("$sanitizer")
    fi
    summary+=("$sanitizer: $result (build $((built - started)) s, tests $((SECONDS - built)) s)")
done
printf 'test-sanitize: %s\n' "${summary[@]}"
[[ ${#failed[@]} -eq 0 ]]

#!/usr/bin/env bash
# Builds the tests, runs them against fresh servers (scripts/with-test-servers.sh), and prints a short account:
# the build's warnings, one line per test target, and, when something failed, every issue in full, each followed by
# the failing test's own log (Tests/TestSupport keeps each test's log in memory and prints it only when it fails).
#
# usage: run-tests.sh [SWIFT TEST FLAGS...]     e.g. run-tests.sh --filter PostgresPolicyTests
#
# Everything else is kept: the build's output in .build/tests-build.log, the run's in .build/tests-run.log, and
# swift-testing's event stream (one JSON object a line, read with jq) in .build/tests-events.jsonl.
# Exits with the build's status when it fails, else with the test run's.
set -euo pipefail

script_dir="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$script_dir/.."
SWIFT="${SWIFT:-swift}"
readonly build_log=.build/tests-build.log run_log=.build/tests-run.log events=.build/tests-events.jsonl
mkdir -p .build
command -v jq >/dev/null 2>&1 || "$script_dir/install-deps.sh"

began=$SECONDS
if ! "$SWIFT" build --build-tests >"$build_log" 2>&1; then
    cat "$build_log"
    echo "build: FAILED (full output in $build_log)"
    exit 1
fi
# The same warning is reported once per file that includes it; show each once.
grep -E '^[^ ]+:[0-9]+:[0-9]+: warning:' "$build_log" | sort -u || true
echo "build: ok ($((SECONDS - began)) s)"

began=$SECONDS
rm -f "$events"
status=0
# At most 8 tests at a time: many tests bound how long a connect or a cancel may take, and hundreds of tests at once
# on two cores make those bounds a matter of luck. (About 15 s longer than running all at once.)
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-8}"
# A test that never ends must not hold the run until CI's own limit: after TEST_RUN_LIMIT seconds (30 minutes; a
# whole run takes about 8 on two cores) the run is stopped (with-test-servers.sh stops the servers on SIGTERM) and
# the tests still running are named below.
readonly run_limit="${TEST_RUN_LIMIT:-1800}"
timeout --kill-after=60 "$run_limit" scripts/with-test-servers.sh "$SWIFT" test --skip-build --quiet \
    --experimental-event-stream-output "$events" --experimental-event-stream-version 0 "$@" >"$run_log" 2>&1 ||
    status=$?
grep '^with-test-servers: PostgreSQL' "$run_log" || true
if [[ "$status" -eq 124 || "$status" -eq 137 ]] && [[ -s "$events" ]]; then
    echo "tests: stopped after $run_limit s; still running then:"
    jq -rs '
        map(select(.kind == "event" and (.payload.testID // "" | contains("/")))) | group_by(.payload.testID)[]
        | select(any(.[]; .payload.kind == "testStarted") and all(.[]; .payload.kind != "testEnded"))
        | "  \(.[0].payload.testID)"
    ' "$events"
fi

# One line per test target: the test functions planned, and how each ended. A suite skipped as a whole reports no
# test of its own, so its tests count as skipped; when the run did not end (a crash), as not run.
if [[ -s "$events" ]]; then
    jq -rs '
        def target: split(".")[0];
        (if any(.[]; .kind == "event" and .payload.kind == "runEnded") then "skipped" else "not run" end) as $unrun
        | (map(select(.kind == "test" and .payload.kind == "function") | .payload.id | target)) as $planned
        | (map(select(.kind == "event" and (.payload.kind == "testEnded" or .payload.kind == "testSkipped")
                      and (.payload.testID | contains("/"))) | .payload)) as $ended
        | $planned | unique[] as $target
        | ($planned | map(select(. == $target)) | length) as $total
        | ($ended | map(select(.testID | target == $target))) as $mine
        | ($mine | map(select(.kind == "testEnded" and any(.messages[]; .symbol == "fail"))) | length) as $failed
        | ($mine | map(select(.kind == "testEnded")) | length) as $ran
        | "\($target):\t\($ran - $failed) passed, \($failed) failed, \($total - $ran) \($unrun)"
    ' "$events" | awk -F '\t' '{ printf "%-34s %s\n", $1, $2 }'
fi

if [[ "$status" -ne 0 ]]; then
    # swift-testing's banners and XCTest's empty run say nothing here; the rest is the failures and their logs.
    grep -v -e '^↳ ' -e '^with-test-servers: PostgreSQL' -e "^Test Suite '" -e $'^\t Executed ' -e '^◇ Test run started' "$run_log" || true
    echo "tests: FAILED after $((SECONDS - began)) s (full output in $run_log)"
else
    echo "tests: ok ($((SECONDS - began)) s)"
fi
exit "$status"

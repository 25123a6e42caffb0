#!/usr/bin/env bash
# The short versions of `make demo-ha`, `make bank` and `make fleet`, for CI: one failover of each kind under
# writers, one disruption in each of the bank's four runs (on pg_auto_failover, on the scripted primary and standby,
# and on the fleet's restarted server), and 40 clients (pools of 4, 2 workers) through the restarts and a failover:
# more than the restarted server's 47 slots for the app, fewer than the formation's 90.
# Prints each check's summary lines when it passes and its whole output when it fails; exits non-zero if any
# failed. Each check has 15 minutes (a cold release build included); after each, its servers are stopped and deleted
# whatever happened, even if the check had to be killed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh || exit 1
status=0
check() {
    local label="$1" output began=$SECONDS
    shift
    output="$(mktemp)"
    if timeout -k 30 900 "$@" >"$output" 2>&1; then
        grep -E '^(acknowledged=|[a-z-]+ [a-z]+: transfers=|fleet [a-z-]+:|fleet: )' "$output" | sed "s/^/$label: /"
        echo "$label: ok ($((SECONDS - began)) s)"
    else
        cat "$output"
        echo "$label: FAILED"
        status=1
    fi
    rm -f "$output"
    scripts/ha-cluster.sh stop >/dev/null 2>&1 || true
    scripts/pg-cluster.sh delete fleet >/dev/null 2>&1 || true
    scripts/pg-cluster.sh delete demo-primary >/dev/null 2>&1 || true
    scripts/pg-cluster.sh delete demo-standby >/dev/null 2>&1 || true
}
check demo-ha scripts/run-ha-check.sh HADemo 1
check bank scripts/run-bank.sh ha 1 1
check bank-scripted scripts/run-bank.sh scripted 1 1
check bank-restarts scripts/run-bank.sh restarts 1 1
check fleet scripts/run-fleet.sh --clients 40 --warm-up-s 15 --settle-s 40
exit "$status"

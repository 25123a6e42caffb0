#!/usr/bin/env bash
# The short versions of `make demo-ha`, `make bank` and `make fleet`, for CI: one failover of each kind under
# writers; the bank in one of its four modes through one failover by pg_auto_failover, and through one scripted
# failover of a primary and its synchronous standby (`make bank BANK_CLUSTER=all` runs every mode on every cluster,
# the restarted server included); and 40 clients (pools of 4, 2 workers) through the restarts and through a failover:
# more than the restarted server's 47 slots for the app, fewer than the formation's 90.
# The examples are built once first; each check then has its own time limit (a formation that is slow to form
# included), and after each its servers are stopped and deleted whatever happened, even if it had to be killed.
# Prints each check's summary lines when it passes, and its whole output when it fails, followed by its own last
# lines again; exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh || exit 1
swift build -c release --package-path Examples/HighAvailability || exit 1
status=0
check() {
    local label="$1" seconds="$2" output began=$SECONDS
    shift 2
    output="$(mktemp)"
    if timeout -k 30 "$seconds" "$@" >"$output" 2>&1; then
        grep -E '^(acknowledged=|[a-z-]+ [a-z]+: transfers=|fleet [a-z-]+:|fleet: )' "$output" | sed "s/^/$label: /"
        echo "$label: ok ($((SECONDS - began)) s)"
    else
        cat "$output"
        # The servers' logs come last in the output; the check's own last lines say why it failed.
        echo "--- $label: its last lines, without the servers' logs ---"
        grep -vE '^[0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]+ [A-Z]+ |^--- last [0-9]+ lines of ' "$output" | tail -n 12
        echo "$label: FAILED after $((SECONDS - began)) s (limit $seconds s)"
        status=1
    fi
    rm -f "$output"
    scripts/ha-cluster.sh stop >/dev/null 2>&1 || true
    scripts/pg-cluster.sh delete fleet >/dev/null 2>&1 || true
    scripts/pg-cluster.sh delete demo-primary >/dev/null 2>&1 || true
    scripts/pg-cluster.sh delete demo-standby >/dev/null 2>&1 || true
}
# The fleet's idle timeout is 5 s so that its 20 s warm-up ends in a steady state (pools filled, idle sessions
# timed out); its whole-fleet serving time is a figure, so 45 s of settling suffice.
fleet=(scripts/run-fleet.sh --clients 40 --idle-ms 5000 --warm-up-s 20 --settle-s 45)
check demo-ha 360 scripts/run-ha-check.sh HADemo 1
check bank 360 scripts/run-bank.sh ha 1 1 1
check bank-scripted 300 scripts/run-bank.sh scripted 1 1 1
check fleet-restarts 300 env FLEET_TARGETS=restarts "${fleet[@]}"
check fleet-failover 420 env FLEET_TARGETS=failover "${fleet[@]}"
exit "$status"

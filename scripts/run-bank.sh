#!/usr/bin/env bash
# Builds the Bank of Examples/HighAvailability and runs it against the cluster named by the first argument, which is
# stopped and deleted afterwards whatever happens:
#   ha        a fresh pg_auto_failover formation (scripts/ha-cluster.sh), failed over by the engine (the default)
#   scripted  a primary and a synchronous standby, failed over by scripts/pg-cluster.sh as `make demo` does
#   restarts  the fleet's small server (max_connections=50), restarted fast, then immediately
#   all       each of them in turn
# usage: run-bank.sh [ha|scripted|restarts|all] [DISRUPTIONS_PER_RUN] [SECONDS_BETWEEN_DISRUPTIONS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cluster="${1:-ha}"
[[ $# -eq 0 ]] || shift
case "$cluster" in
    ha) exec scripts/run-ha-check.sh Bank "$@" ;;
    scripted | restarts) ;;
    all)
        for each in ha scripted restarts; do "$0" "$each" "$@"; done
        exit 0
        ;;
    *) printf 'run-bank.sh: unknown cluster %s (ha, scripted, restarts, all)\n' "$cluster" >&2; exit 2 ;;
esac
scripts/install-deps.sh
swift build -c release --package-path Examples/HighAvailability --product Bank
binary="$(swift build -c release --package-path Examples/HighAvailability --show-bin-path)/Bank"
if [[ "$cluster" == scripted ]]; then
    TEST_CLUSTERS="demo-primary demo-standby=standby:demo-primary" exec scripts/with-test-servers.sh "$binary" "$@"
fi
TEST_CLUSTERS="fleet=cluster:max_connections=50" exec scripts/with-test-servers.sh "$binary" "$@"

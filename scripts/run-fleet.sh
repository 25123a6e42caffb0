#!/usr/bin/env bash
# Builds the Fleet of Examples/HighAvailability and runs it twice: against a cluster with max_connections=50 that
# it restarts (fast, then immediate), and against a fresh pg_auto_failover formation that it fails over. Every
# server is stopped and deleted afterwards whatever happens.
# usage: run-fleet.sh [FLEET OPTION...] (see Examples/HighAvailability/Sources/Fleet: --clients 200 --pool 4 ...)
# FLEET_TARGETS picks the runs: "restarts failover" (the default), or either alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
swift build -c release --package-path Examples/HighAvailability --product Fleet
binary="$(swift build -c release --package-path Examples/HighAvailability --show-bin-path)/Fleet"
targets=" ${FLEET_TARGETS:-restarts failover} "
if [[ "$targets" == *" restarts "* ]]; then
    TEST_CLUSTERS="fleet=cluster:max_connections=50,log_connections=on" scripts/with-test-servers.sh "$binary" "$@"
fi
if [[ "$targets" == *" failover "* ]]; then
    scripts/ha-cluster.sh run "$binary" "$@"
fi

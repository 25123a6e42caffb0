#!/usr/bin/env bash
# Builds Examples/HighAvailability and runs one of its executables (HADemo, Bank, Fleet) with its arguments against a
# fresh pg_auto_failover formation, which scripts/ha-cluster.sh stops and deletes afterwards whatever happens.
# usage: run-ha-check.sh EXECUTABLE [ARGUMENT...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
swift build -c release --package-path Examples/HighAvailability --product "$1"
binary="$(swift build -c release --package-path Examples/HighAvailability --show-bin-path)/$1"
shift
exec scripts/ha-cluster.sh run "$binary" "$@"

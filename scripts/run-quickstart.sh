#!/usr/bin/env bash
# Builds and runs Examples/Quickstart against the server described by the POSTGRES_* variables that
# with-test-servers.sh exports, passing it a libpq connection string.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build --package-path Examples/Quickstart
swift run --skip-build --package-path Examples/Quickstart Quickstart \
    "host=${POSTGRES_HOST} port=${POSTGRES_PORT} user=${POSTGRES_USER} dbname=${POSTGRES_DB}"

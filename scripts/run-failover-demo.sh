#!/usr/bin/env bash
# Builds and runs Examples/FailoverDemo against the primary and synchronous standby that with-test-servers.sh
# started as `demo-primary` and `demo-standby` (see the demo target in the Makefile); arguments (`--plain`) go to
# the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build --package-path Examples/FailoverDemo
exec swift run --skip-build --package-path Examples/FailoverDemo FailoverDemo "$@" \
    --primary-port "${POSTGRES_DEMO_PRIMARY_PORT:?}" --primary-name demo-primary \
    --standby-port "${POSTGRES_DEMO_STANDBY_PORT:?}" --standby-name demo-standby \
    --cluster-script "${POSTGRES_CLUSTER_SCRIPT:?}" \
    --user "${POSTGRES_APP_USER:-app}" --password "${POSTGRES_APP_PASSWORD:-app-secret}"

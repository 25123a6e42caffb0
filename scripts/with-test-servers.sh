#!/usr/bin/env bash
# Runs a command with throwaway PostgreSQL clusters, then stops them whatever happens.
#
# usage: with-test-servers.sh CMD [ARGS...]
#
# Starts the clusters named in $TEST_CLUSTERS (default "main crash storm") with scripts/pg-cluster.sh and exports:
#   for `main`:          POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_DB, POSTGRES_APP_USER, POSTGRES_APP_PASSWORD
#   for every cluster:   POSTGRES_<NAME>_PORT, POSTGRES_<NAME>_DATADIR  (NAME uppercased, '-' becomes '_')
#   always:              POSTGRES_CLUSTER_SCRIPT (absolute path of pg-cluster.sh), POSTGRES_BINDIR
# A test may stop and restart a cluster itself, e.g.
#   "$POSTGRES_CLUSTER_SCRIPT" stop crash immediate; "$POSTGRES_CLUSTER_SCRIPT" start-existing crash
# The clusters are stopped on exit, on INT/TERM/HUP, and when CMD fails; the exit status is CMD's.
# After a successful run their directories are deleted; after a failure they are kept for the server logs.
set -euo pipefail

script_dir="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly CLUSTER_SCRIPT="$script_dir/pg-cluster.sh"

log() { printf 'with-test-servers: %s\n' "$*" >&2; }

if [[ $# -lt 1 ]]; then
    sed -n '3,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
fi

read -r -a clusters <<<"${TEST_CLUSTERS-main crash storm}"
started=()
logs=()
child=""
cmd_status=""

# The functions below run from traps.
# shellcheck disable=SC2317
stop_clusters() {
    local name
    for name in "${started[@]}"; do
        if [[ "$cmd_status" == 0 ]]; then
            "$CLUSTER_SCRIPT" delete "$name" || log "could not delete cluster $name"
        else
            "$CLUSTER_SCRIPT" stop "$name" immediate || log "could not stop cluster $name"
        fi
    done
    if [[ ${#logs[@]} -gt 0 && "$cmd_status" != 0 ]]; then
        log "server logs kept: ${logs[*]}"
    fi
    started=()
}

# shellcheck disable=SC2317
on_exit() {
    local rc=$?
    trap - EXIT INT TERM HUP
    stop_clusters
    exit "$rc"
}

# Forwards the signal to CMD, gives it a moment to finish, then exits (on_exit stops the clusters).
# shellcheck disable=SC2317
on_signal() {
    local signal="$1" code="$2" i
    trap - INT TERM HUP
    log "got SIG$signal, stopping"
    if [[ -n "$child" ]] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$child" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$child" 2>/dev/null || true
    fi
    exit "$code"
}

trap on_exit EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

"$script_dir/install-deps.sh"

summary=()
for name in "${clusters[@]}"; do
    # Record before starting, so a half-started cluster is stopped too.
    started+=("$name")
    "$CLUSTER_SCRIPT" start "$name"
    eval "$("$CLUSTER_SCRIPT" env "$name")"
    upper="$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
    port_var="POSTGRES_${upper}_PORT"
    datadir_var="POSTGRES_${upper}_DATADIR"
    summary+=("$name=${!port_var}")
    logs+=("$(dirname "${!datadir_var}")/server.log")
done
log "PostgreSQL on 127.0.0.1: ${summary[*]:-none}"

# pg-cluster.sh env also prints POSTGRES_BINDIR; this one is set even when TEST_CLUSTERS is empty.
export POSTGRES_CLUSTER_SCRIPT="$CLUSTER_SCRIPT"

# CMD runs in the background so that signals reach our traps at once; the subshell undoes the SIGINT/SIGQUIT
# ignore that bash applies to background jobs, and <&0 keeps our stdin.
(
    trap - INT QUIT TERM HUP
    exec "$@"
) <&0 &
child=$!
set +e
wait "$child"
cmd_status=$?
set -e
child=""
exit "$cmd_status"

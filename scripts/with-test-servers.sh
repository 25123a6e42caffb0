#!/usr/bin/env bash
# Runs a command with throwaway PostgreSQL servers, then stops them whatever happens.
#
# usage: with-test-servers.sh CMD [ARGS...]
#
# Starts the servers listed in $TEST_CLUSTERS with scripts/pg-cluster.sh: the clusters together, then standbys and
# pgbouncers in the order listed. Each entry is NAME or NAME=KIND:
#   NAME=cluster[:S=V,S=V...]          a plain cluster, with postgresql.conf settings S=V (start NAME S=V ...)
#   NAME=tls                           a cluster serving TLS (start-tls NAME)
#   NAME=standby:PRIMARY               a streaming hot standby of PRIMARY, listed earlier (start-standby NAME PRIMARY)
#   NAME=bouncer:CLUSTER[:S=V,S=V...]  pgbouncer in front of CLUSTER, with pgbouncer settings S=V
#                                      (start-bouncer NAME CLUSTER S=V ...)
# A bare NAME is a cluster, except `tls` (NAME=tls), `standby` (standby:primary) and `bouncer` (bouncer:main).
# The default, what `make test` uses:
#   main crash storm failover failover-standby=standby:failover primary standby tls bouncer
#   bouncer-primary=bouncer:primary:max_client_conn=2,query_wait_timeout=2
#   slots=cluster:max_connections=8,superuser_reserved_connections=2,log_connections=on
#   listen listen-standby=standby:listen bouncer-session=bouncer:main:pool_mode=session
#
# Exports the POSTGRES_* variables that describe the servers: POSTGRES_<NAME>_PORT for each (NAME uppercased, '-'
# becoming '_'), and more. The tests read them in one place, whose doc comment is the contract:
# ServerEnvironment, in Tests/TestSupport/ServerEnvironment.swift. A test may stop, restart or promote a server, e.g.
#   "$POSTGRES_CLUSTER_SCRIPT" stop crash immediate; "$POSTGRES_CLUSTER_SCRIPT" start-existing crash
# The servers are stopped on exit (pgbouncers and standbys before what they depend on), on INT/TERM/HUP, and when
# CMD fails; the exit status is CMD's. After a successful run their directories are deleted; after a failure they
# are kept for the server logs.
set -euo pipefail

script_dir="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly CLUSTER_SCRIPT="$script_dir/pg-cluster.sh"

log() { printf 'with-test-servers: %s\n' "$*" >&2; }

if [[ $# -lt 1 ]]; then
    sed -n '3,30s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
fi

readonly DEFAULT_SERVERS="main crash storm failover failover-standby=standby:failover primary standby tls bouncer \
bouncer-primary=bouncer:primary:max_client_conn=2,query_wait_timeout=2 \
slots=cluster:max_connections=8,superuser_reserved_connections=2,log_connections=on \
listen listen-standby=standby:listen bouncer-session=bouncer:main:pool_mode=session"
read -r -a clusters <<<"${TEST_CLUSTERS-$DEFAULT_SERVERS}"
started=()
start_jobs=()
logs=()
child=""
cmd_status=""

# The functions below run from traps.
# shellcheck disable=SC2317
stop_clusters() {
    local i name job
    # Let starts still running finish (each is bounded), so that nothing starts after it was stopped.
    for job in "${start_jobs[@]}"; do
        wait "$job" 2>/dev/null || true
    done
    # Newest first: a pgbouncer or a standby before the cluster it depends on.
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do
        name="${started[$i]}"
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

# The pg-cluster.sh command line that starts entry $1 (NAME or NAME=KIND, see above), one word a line.
start_command() {
    local entry="$1" name spec kind rest upstream settings
    name="${entry%%=*}"
    if [[ "$entry" == *=* ]]; then
        spec="${entry#*=}"
    else
        case "$name" in
            tls) spec=tls ;;
            standby) spec=standby:primary ;;
            bouncer) spec=bouncer:main ;;
            *) spec=cluster ;;
        esac
    fi
    kind="${spec%%:*}"
    rest=""
    [[ "$spec" != *:* ]] || rest="${spec#*:}"
    case "$kind" in
        cluster)
            printf '%s\n' start "$name"
            [[ -z "$rest" ]] || printf '%s\n' "${rest//,/$'\n'}"
            ;;
        tls) [[ -z "$rest" ]] && printf '%s\n' start-tls "$name" ;;
        standby) [[ -n "$rest" && "$rest" != *:* ]] && printf '%s\n' start-standby "$name" "$rest" ;;
        bouncer)
            upstream="${rest%%:*}"
            settings=""
            [[ "$rest" != *:* ]] || settings="${rest#*:}"
            [[ -n "$upstream" ]] || return 1
            printf '%s\n' start-bouncer "$name" "$upstream"
            [[ -z "$settings" ]] || printf '%s\n' "${settings//,/$'\n'}"
            ;;
        *) return 1 ;;
    esac
}

# Clusters that depend on nothing start together; then standbys and pgbouncers, in the order listed.
startup_began=$(date +%s%N)
later=()
for entry in "${clusters[@]}"; do
    mapfile -t command < <(start_command "$entry" || true)
    [[ ${#command[@]} -gt 0 ]] || { log "cannot read TEST_CLUSTERS entry '$entry' (see $0 --help)"; exit 2; }
    # Record before starting, so a half-started server is stopped too.
    started+=("${entry%%=*}")
    case "${command[0]}" in
        start | start-tls)
            "$CLUSTER_SCRIPT" "${command[@]}" &
            start_jobs+=("$!")
            ;;
        *) later+=("$entry") ;;
    esac
done
start_failed=false
for job in "${start_jobs[@]}"; do
    wait "$job" || start_failed=true
done
start_jobs=()
if $start_failed; then
    log "a cluster did not start"
    exit 1
fi
for entry in "${later[@]}"; do
    mapfile -t command < <(start_command "$entry")
    "$CLUSTER_SCRIPT" "${command[@]}"
done
startup_ms=$((($(date +%s%N) - startup_began) / 1000000))

summary=()
for name in "${started[@]}"; do
    eval "$("$CLUSTER_SCRIPT" env "$name")"
    upper="$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
    port_var="POSTGRES_${upper}_PORT"
    log_var="POSTGRES_${upper}_LOG"
    summary+=("$name=${!port_var}")
    logs+=("${!log_var}")
done
log "PostgreSQL on 127.0.0.1: ${summary[*]:-none} (started in ${startup_ms} ms)"

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

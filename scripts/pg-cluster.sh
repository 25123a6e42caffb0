#!/usr/bin/env bash
# Throwaway PostgreSQL clusters, streaming standbys and pgbouncers on 127.0.0.1 for tests and demos.
#
# usage: pg-cluster.sh start NAME [SETTING=VALUE...]
#                                                 create a fresh cluster NAME and start it (replaces an old NAME),
#                                                 with postgresql.conf settings, e.g. max_connections=8
#        pg-cluster.sh start-tls NAME             the same, serving TLS only to role app (certificate for localhost)
#        pg-cluster.sh start-standby NAME PRIMARY a streaming hot standby of the running cluster PRIMARY
#        pg-cluster.sh promote NAME [SECONDS]     promote standby NAME; wait (30 s) until it accepts writes
#        pg-cluster.sh start-bouncer NAME CLUSTER [SETTING=VALUE...]
#                                                 pgbouncer (transaction pooling) in front of the running CLUSTER
#        pg-cluster.sh stop NAME [MODE]           stop it; MODE is fast (default), smart or immediate
#        pg-cluster.sh start-existing NAME        start a stopped server again, on the port it had
#        pg-cluster.sh restart NAME [MODE]        stop with MODE, then start-existing
#        pg-cluster.sh env NAME                   print `export POSTGRES_...=...` lines for NAME
#        pg-cluster.sh delete NAME                stop it (immediate) and delete its directory
#        pg-cluster.sh status                     list this checkout's servers
#        pg-cluster.sh stop-all                   stop every server of this checkout and delete all their state
#
# All state lives in one directory per checkout, /tmp/resilient-postgres-<uid>-<cksum of the checkout path>
# (override with RESILIENT_PG_STATE_DIR), one subdirectory per server:
#   NAME/kind         cluster, tls, standby or bouncer
#   NAME/data         the data directory          NAME/server.log   the server's log
#   NAME/port         the TCP port                NAME/.s.PGSQL.*   the Unix socket
# A start command given an existing NAME replaces it and keeps its port when that port is still free, so that a
# standby can be rebuilt (say after a failover) where clients expect it.
#
# Each cluster is configured for speed and for fault tests: no fsync, replication allowed (wal_level=replica, role
# `replicator`), role `app` (password app-secret, SCRAM), role `rejectme` (always rejected by pg_hba.conf), and group
# `password_signin`, whose members must sign in with their passwords (SCRAM) while other roles are trusted.
#
# scripts/lib/ holds the rest, each file with its description: pg-init.sh (new data directories, copied from one
# initdb per checkout), pg-standby.sh (standbys and promotion), pg-tls.sh and pgbouncer.sh.
# A failover: `stop PRIMARY immediate` (a crash, as clients see it), then `promote STANDBY`; to fail back,
# `start-standby PRIMARY STANDBY` rebuilds the old primary as a standby of the new one, on its old port.
#
# The servers refuse to run as root: when this script runs as root, they run as the `postgres` user.
set -euo pipefail

SCRIPT_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
REPO_ROOT="$(cd -P "$SCRIPT_DIR/.." && pwd)"
readonly SCRIPT_DIR SCRIPT_PATH REPO_ROOT
# Below Linux's range of ephemeral ports (32768-60999 by default, /proc/sys/net/ipv4/ip_local_port_range). A port
# in it can be a client socket's own: a connect to a local port nothing listens on (a client retrying while the
# server restarts) may be given that same port and connect to itself, and the server that starts next cannot
# bind it. A server listening on every address then listens on IPv6 alone, and 127.0.0.1 refuses connections.
readonly FIRST_PORT=25432
readonly LAST_PORT=26431
readonly APP_USER=app
readonly APP_PASSWORD=app-secret
readonly REPLICATION_USER=replicator

repo_sum="$(printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1)"
STATE_DIR="${RESILIENT_PG_STATE_DIR:-/tmp/resilient-postgres-$(id -u)-$repo_sum}"
readonly STATE_DIR

# Connection settings from the caller's environment must not redirect our own psql/pg_ctl calls.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE PGOPTIONS \
    PGDATA PGSSLMODE PGTARGETSESSIONATTRS PGCONNECT_TIMEOUT PGAPPNAME

# The server's log of the cluster being worked on; its tail is printed when the script fails.
current_cluster_dir=""

usage() {
    sed -n '4,19s/^# \{0,1\}//p' "$SCRIPT_PATH" >&2
    exit "${1:-2}"
}

log() { printf 'pg-cluster: %s\n' "$*" >&2; }

die() {
    log "error: $*"
    exit 1
}

print_log_tail() {
    local dir="$current_cluster_dir" file
    [[ -n "$dir" ]] || return 0
    for file in "$dir/server.log" "$dir/pgbouncer.log" "$dir/basebackup.log" "$dir/initdb.log"; do
        if [[ -s "$file" ]]; then
            printf -- '--- last 30 lines of %s ---\n' "$file" >&2
            tail -n 30 "$file" >&2 || true
            printf -- '---\n' >&2
            return 0
        fi
    done
}

on_exit() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then print_log_tail; fi
    exit "$rc"
}
trap on_exit EXIT

# --- where the server binaries are and who runs them ---------------------------------------------------------------

find_bindir() {
    local dir best=""
    if [[ -n "${POSTGRES_BINDIR:-}" && -x "${POSTGRES_BINDIR}/initdb" ]]; then
        printf '%s' "$POSTGRES_BINDIR"
        return 0
    fi
    while IFS= read -r dir; do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]] && best="$dir"
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
    if [[ -z "$best" ]] && command -v initdb >/dev/null 2>&1; then
        best="$(dirname "$(readlink -f "$(command -v initdb)")")"
    fi
    [[ -n "$best" ]] || die "no PostgreSQL server found (looked in /usr/lib/postgresql/*/bin); run scripts/install-deps.sh"
    printf '%s' "$best"
}

BINDIR="$(find_bindir)"
readonly BINDIR

if [[ "$(id -u)" -eq 0 ]]; then
    readonly SERVER_USER=postgres
    id "$SERVER_USER" >/dev/null 2>&1 || die "user '$SERVER_USER' does not exist; run scripts/install-deps.sh"
    command -v runuser >/dev/null 2>&1 || die "runuser not found; run scripts/install-deps.sh"
else
    SERVER_USER="$(id -un)"
    readonly SERVER_USER
fi

# Runs a server binary as the server user.
as_server() {
    local prog="$1"
    shift
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u "$SERVER_USER" -- "$BINDIR/$prog" "$@"
    else
        "$BINDIR/$prog" "$@"
    fi
}

# Server binaries would complain about a working directory the server user cannot read (e.g. /root).
cd /

# --- state -----------------------------------------------------------------------------------------------------------

ensure_state_dir() {
    if [[ ! -d "$STATE_DIR" ]]; then
        mkdir -p "$STATE_DIR"
        chmod 0755 "$STATE_DIR"
    fi
    # /tmp is shared: never use a directory someone else planted there.
    [[ -O "$STATE_DIR" ]] || die "$STATE_DIR is not owned by $(id -un)"
}

check_name() {
    [[ "${1:-}" =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] || die "invalid server name '${1:-}' (letters, digits, _ and -)"
}

cluster_dir() { printf '%s/%s' "$STATE_DIR" "$1"; }

recorded_port() {
    local file
    file="$(cluster_dir "$1")/port"
    [[ -s "$file" ]] || die "server '$1' does not exist (no $file); start it with: $SCRIPT_PATH start $1"
    cat "$file"
}

# What runs in a server directory: cluster, tls, standby or bouncer.
kind_of() {
    if [[ -s "$1/kind" ]]; then cat "$1/kind"; else printf 'cluster\n'; fi
}

is_running() {
    local data="$1/data"
    if [[ -f "$1/pgbouncer.ini" ]]; then
        bouncer_is_running "$1"
        return
    fi
    [[ -f "$data/postmaster.pid" ]] || return 1
    as_server pg_ctl -D "$data" status >/dev/null 2>&1
}

port_in_use() {
    # A successful TCP connect means something listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Picks a free port not recorded by any server of this script (in any checkout) nor listed in $2, preferring $3
# when it is free, and records it in $1/port.
choose_port() {
    local dir="$1" skip="${2:-}" preferred="${3:-}" port taken
    # Serialize port choice within this checkout (parallel `start` calls).
    exec 9>"$STATE_DIR/.port.lock"
    flock 9
    taken=" $skip $({ cat /tmp/resilient-postgres-*/*/port "$STATE_DIR"/*/port 2>/dev/null || true; } | tr '\n' ' ') "
    for port in $preferred $(seq "$FIRST_PORT" "$LAST_PORT"); do
        [[ "$taken" == *" $port "* ]] && continue
        port_in_use "$port" && continue
        printf '%s\n' "$port" >"$dir/port"
        exec 9>&-
        return 0
    done
    exec 9>&-
    die "no free TCP port in $FIRST_PORT-$LAST_PORT"
}

set_port_in_conf() {
    sed -i "s/^port = .*/port = $2/" "$1/data/postgresql.conf"
}

# Closes every descriptor this shell inherited beyond stdin, stdout and stderr (and bash's own script descriptor).
# A server outlives this script: if it inherited the caller's pipes (a test runner's output pipe, a sanitizer's
# symbolizer pipe), whoever waits for those pipes to close would wait as long as the server runs.
close_inherited_descriptors() {
    local fd
    for fd in $(ls "/proc/$BASHPID/fd" 2>/dev/null); do
        ((fd > 2 && fd != 255)) || continue
        eval "exec $fd>&-" 2>/dev/null || true
    done
    return 0
}

# Runs one SQL command as the superuser over the cluster's Unix socket and prints the result, unaligned.
server_query() {
    local dir="$1" sql="$2"
    PGCONNECT_TIMEOUT=5 as_server psql -X -qAt -v ON_ERROR_STOP=1 -h "$dir" -p "$(cat "$dir/port")" -U postgres \
        -d postgres -c "$sql"
}

# Stops whatever ran in server directory $1 before and leaves the directory empty, owned by the server user. The
# port it had is left in $previous_port, for the new server to take again.
previous_port=""
prepare_dir() {
    local dir="$1"
    ensure_state_dir
    current_cluster_dir="$dir"
    previous_port=""
    # A server of the same name left by an earlier (possibly killed) run: stop it and start afresh.
    if [[ -e "$dir" ]]; then
        previous_port="$(cat "$dir/port" 2>/dev/null || true)"
        stop_server "$dir" immediate
        rm -rf "$dir"
    fi
    mkdir -p "$dir"
    chmod 0755 "$dir"
    [[ "$(id -u)" -ne 0 ]] || chown "$SERVER_USER:" "$dir"
}

# Starts the server of an existing cluster directory and waits until it accepts connections.
# Returns 1 (after logging) when the port was taken in the meantime, so the caller may pick another.
start_server() {
    local dir="$1" port
    port="$(cat "$dir/port")"
    if (close_inherited_descriptors && as_server pg_ctl -D "$dir/data" -w -t 60 -s -l "$dir/server.log" start >/dev/null); then
        wait_ready "$dir" "$port"
        return 0
    fi
    if grep -qE 'could not (bind|create listen socket)|Address already in use' "$dir/server.log" 2>/dev/null; then
        log "port $port is taken"
        return 1
    fi
    die "could not start the server in $dir/data"
}

# Chooses a port (the one the directory had before, when free) and starts the server on it. Another process may
# grab the chosen port before the server binds it: then another one is tried.
start_on_free_port() {
    local dir="$1" attempt skip=""
    for attempt in 1 2 3 4 5; do
        choose_port "$dir" "$skip" "$previous_port"
        set_port_in_conf "$dir" "$(cat "$dir/port")"
        if start_server "$dir"; then
            return 0
        fi
        [[ $attempt -lt 5 ]] || die "could not find a port the server can bind"
        skip+=" $(cat "$dir/port")"
        mv "$dir/server.log" "$dir/server.log.$attempt"
    done
}

wait_ready() {
    local dir="$1" port="$2" i
    for ((i = 0; i < 100; i++)); do
        if as_server pg_isready -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 1; then
            return 0
        fi
        sleep 0.1
    done
    die "server in $dir does not accept connections on port $port"
}

# Stops the server of a directory if it runs. Falls back to an immediate stop, then to SIGKILL of the
# postmaster, so that a wedged leftover can never block a new run.
stop_server() {
    local dir="$1" mode="$2" pid
    if [[ -f "$dir/pgbouncer.ini" ]]; then
        stop_bouncer "$dir" "$mode"
        return
    fi
    [[ -d "$dir/data" ]] || return 0
    is_running "$dir" || return 0
    if as_server pg_ctl -D "$dir/data" -w -t 60 -s -m "$mode" stop >/dev/null; then
        return 0
    fi
    if [[ "$mode" != immediate ]]; then
        log "$mode stop of $dir failed; stopping it immediately"
        as_server pg_ctl -D "$dir/data" -w -t 30 -s -m immediate stop >/dev/null && return 0
    fi
    pid="$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && grep -q postgres "/proc/$pid/cmdline" 2>/dev/null; then
        log "killing postmaster $pid of $dir"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    ! is_running "$dir" || die "could not stop the server in $dir/data"
}

# --- commands --------------------------------------------------------------------------------------------------------

# start NAME [SETTING=VALUE...] (kind cluster), or start-tls NAME (kind tls).
cmd_start() {
    local name="$1" kind="${2:-cluster}" dir
    shift 2
    check_settings "$@"
    dir="$(cluster_dir "$name")"
    prepare_dir "$dir"
    init_cluster "$dir"
    if [[ "$kind" == tls ]]; then
        configure_tls "$dir"
    fi
    add_settings "$dir" "$@"
    printf '%s\n' "$kind" >"$dir/kind"
    start_on_free_port "$dir"
    create_roles "$dir"
}

cmd_stop() {
    local name="$1" mode="${2:-fast}" dir
    case "$mode" in fast | smart | immediate) ;; *) die "unknown stop mode '$mode' (fast, smart, immediate)" ;; esac
    dir="$(cluster_dir "$name")"
    current_cluster_dir="$dir"
    stop_server "$dir" "$mode"
}

cmd_start_existing() {
    local name="$1" dir port
    dir="$(cluster_dir "$name")"
    current_cluster_dir="$dir"
    port="$(recorded_port "$name")"
    if [[ -f "$dir/pgbouncer.ini" ]]; then
        bouncer_is_running "$dir" && return 0
        start_bouncer_process "$dir" || die "port $port of pgbouncer '$name' is now used by another process"
        return 0
    fi
    [[ -d "$dir/data" ]] || die "server '$name' has no data directory"
    if is_running "$dir"; then
        wait_ready "$dir" "$port"
        return 0
    fi
    port_in_use "$port" && die "port $port of server '$name' is now used by another process"
    start_server "$dir" || die "could not start server '$name' on its port $port"
}

cmd_restart() {
    cmd_stop "$1" "${2:-fast}"
    cmd_start_existing "$1"
}

cmd_env() {
    local name="$1" dir port upper kind
    dir="$(cluster_dir "$name")"
    port="$(recorded_port "$name")"
    kind="$(kind_of "$dir")"
    upper="$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
    if [[ "$name" == main ]]; then
        printf 'export POSTGRES_HOST=127.0.0.1\n'
        printf 'export POSTGRES_PORT=%s\n' "$port"
        printf 'export POSTGRES_USER=postgres\n'
        printf 'export POSTGRES_DB=postgres\n'
    fi
    printf 'export POSTGRES_APP_USER=%s\n' "$APP_USER"
    printf 'export POSTGRES_APP_PASSWORD=%s\n' "$APP_PASSWORD"
    printf 'export POSTGRES_%s_PORT=%s\n' "$upper" "$port"
    printf 'export POSTGRES_%s_KIND=%s\n' "$upper" "$kind"
    if [[ "$kind" == bouncer ]]; then
        printf 'export POSTGRES_%s_UPSTREAM=%q\n' "$upper" "$(cat "$dir/upstream")"
        printf 'export POSTGRES_%s_LOG=%q\n' "$upper" "$dir/pgbouncer.log"
    else
        printf 'export POSTGRES_%s_DATADIR=%q\n' "$upper" "$dir/data"
        printf 'export POSTGRES_%s_LOG=%q\n' "$upper" "$dir/server.log"
    fi
    if [[ "$kind" == tls ]]; then
        printf 'export POSTGRES_%s_SSLROOTCERT=%q\n' "$upper" "$dir/tls/root.crt"
    fi
    if [[ "$kind" == standby ]]; then
        printf 'export POSTGRES_%s_PRIMARY=%q\n' "$upper" "$(cat "$dir/primary")"
    fi
    printf 'export POSTGRES_CLUSTER_SCRIPT=%q\n' "$SCRIPT_PATH"
    printf 'export POSTGRES_BINDIR=%q\n' "$BINDIR"
}

cmd_delete() {
    local dir
    dir="$(cluster_dir "$1")"
    [[ -e "$dir" ]] || return 0
    current_cluster_dir="$dir"
    stop_server "$dir" immediate
    current_cluster_dir=""
    rm -rf "$dir"
}

cmd_status() {
    local dir name state
    [[ -d "$STATE_DIR" ]] || { printf 'no servers (%s does not exist)\n' "$STATE_DIR"; return 0; }
    printf '%-16s %-8s %-6s %-8s %s\n' NAME KIND PORT STATE DIRECTORY
    for dir in "$STATE_DIR"/*/; do
        dir="${dir%/}"
        [[ -d "$dir/data" || -f "$dir/pgbouncer.ini" ]] || continue
        name="$(basename "$dir")"
        if is_running "$dir"; then state=running; else state=stopped; fi
        printf '%-16s %-8s %-6s %-8s %s\n' "$name" "$(kind_of "$dir")" "$(cat "$dir/port" 2>/dev/null || echo '?')" \
            "$state" "$dir"
    done
}

cmd_stop_all() {
    local dir
    [[ -d "$STATE_DIR" ]] || return 0
    ensure_state_dir
    for dir in "$STATE_DIR"/*/; do
        dir="${dir%/}"
        [[ -d "$dir" ]] || continue
        current_cluster_dir="$dir"
        stop_server "$dir" immediate
    done
    current_cluster_dir=""
    rm -rf "$STATE_DIR"
}

# shellcheck source=scripts/lib/pg-init.sh
source "$SCRIPT_DIR/lib/pg-init.sh"
# shellcheck source=scripts/lib/pg-standby.sh
source "$SCRIPT_DIR/lib/pg-standby.sh"
# shellcheck source=scripts/lib/pg-tls.sh
source "$SCRIPT_DIR/lib/pg-tls.sh"
# shellcheck source=scripts/lib/pgbouncer.sh
source "$SCRIPT_DIR/lib/pgbouncer.sh"

# --- dispatch --------------------------------------------------------------------------------------------------------

[[ $# -ge 1 ]] || usage
command="$1"
shift
case "$command" in
    start)
        [[ $# -ge 1 ]] || usage
        check_name "$1"
        ;;
    start-tls | start-existing | env | delete)
        [[ $# -eq 1 ]] || usage
        check_name "$1"
        ;;
    stop | restart | promote)
        [[ $# -eq 1 || $# -eq 2 ]] || usage
        check_name "$1"
        ;;
    start-standby)
        [[ $# -eq 2 ]] || usage
        check_name "$1"
        check_name "$2"
        ;;
    start-bouncer)
        [[ $# -ge 2 ]] || usage
        check_name "$1"
        check_name "$2"
        ;;
    status | stop-all)
        [[ $# -eq 0 ]] || usage
        ;;
    -h | --help | help) usage 0 ;;
    *) log "unknown command '$command'"; usage ;;
esac

case "$command" in
    start) cmd_start "$1" cluster "${@:2}" ;;
    start-tls) cmd_start "$1" tls ;;
    start-standby) cmd_start_standby "$@" ;;
    promote) cmd_promote "$@" ;;
    start-bouncer) cmd_start_bouncer "$@" ;;
    stop) cmd_stop "$@" ;;
    start-existing) cmd_start_existing "$@" ;;
    restart) cmd_restart "$@" ;;
    env) cmd_env "$@" ;;
    delete) cmd_delete "$@" ;;
    status) cmd_status ;;
    stop-all) cmd_stop_all ;;
esac

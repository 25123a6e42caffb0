#!/usr/bin/env bash
# Throwaway PostgreSQL clusters on 127.0.0.1 for tests and demos.
#
# usage: pg-cluster.sh start NAME             create a fresh cluster NAME and start it (replaces an old NAME)
#        pg-cluster.sh stop NAME [MODE]       stop it; MODE is fast (default), smart or immediate
#        pg-cluster.sh start-existing NAME    start a stopped cluster again, on the port it had
#        pg-cluster.sh restart NAME [MODE]    stop with MODE, then start-existing
#        pg-cluster.sh env NAME               print `export POSTGRES_...=...` lines for NAME
#        pg-cluster.sh delete NAME            stop it (immediate) and delete its directory
#        pg-cluster.sh status                 list this checkout's clusters
#        pg-cluster.sh stop-all               stop every cluster of this checkout and delete all their state
#
# All state lives in one directory per checkout, /tmp/resilient-postgres-<uid>-<cksum of the checkout path>
# (override with RESILIENT_PG_STATE_DIR), one subdirectory per cluster:
#   NAME/data         the data directory          NAME/server.log   the server's log
#   NAME/port         the TCP port                NAME/.s.PGSQL.*   the Unix socket
#
# Each cluster is configured for speed and for fault tests: no fsync, replication allowed (wal_level=replica),
# role `app` (password app-secret, SCRAM) and role `rejectme` (always rejected by pg_hba.conf).
# The server refuses to run as root: when this script runs as root, server commands run as the `postgres` user.
set -euo pipefail

SCRIPT_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
REPO_ROOT="$(cd -P "$SCRIPT_DIR/.." && pwd)"
readonly SCRIPT_DIR SCRIPT_PATH REPO_ROOT
readonly FIRST_PORT=55432
readonly LAST_PORT=56431
readonly APP_USER=app
readonly APP_PASSWORD=app-secret

repo_sum="$(printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1)"
STATE_DIR="${RESILIENT_PG_STATE_DIR:-/tmp/resilient-postgres-$(id -u)-$repo_sum}"
readonly STATE_DIR

# Connection settings from the caller's environment must not redirect our own psql/pg_ctl calls.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE PGOPTIONS \
    PGDATA PGSSLMODE PGTARGETSESSIONATTRS PGCONNECT_TIMEOUT PGAPPNAME

# The server's log of the cluster being worked on; its tail is printed when the script fails.
current_cluster_dir=""

usage() {
    sed -n '3,11s/^# \{0,1\}//p' "$SCRIPT_PATH" >&2
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
    for file in "$dir/server.log" "$dir/initdb.log"; do
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
    [[ "${1:-}" =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] || die "invalid cluster name '${1:-}' (letters, digits, _ and -)"
}

cluster_dir() { printf '%s/%s' "$STATE_DIR" "$1"; }

recorded_port() {
    local file
    file="$(cluster_dir "$1")/port"
    [[ -s "$file" ]] || die "cluster '$1' does not exist (no $file); start it with: $SCRIPT_PATH start $1"
    cat "$file"
}

is_running() {
    local data="$1/data"
    [[ -f "$data/postmaster.pid" ]] || return 1
    as_server pg_ctl -D "$data" status >/dev/null 2>&1
}

port_in_use() {
    # A successful TCP connect means something listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Picks a free port not recorded by any cluster of this script (in any checkout) nor listed in $2,
# and records it in $1/port.
choose_port() {
    local dir="$1" port taken
    # Serialize port choice within this checkout (parallel `start` calls).
    exec 9>"$STATE_DIR/.port.lock"
    flock 9
    taken=" ${2:-} $({ cat /tmp/resilient-postgres-*/*/port "$STATE_DIR"/*/port 2>/dev/null || true; } | tr '\n' ' ') "
    for ((port = FIRST_PORT; port <= LAST_PORT; port++)); do
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

# Stops the server of a cluster directory if it runs. Falls back to an immediate stop, then to SIGKILL of the
# postmaster, so that a wedged leftover can never block a new run.
stop_server() {
    local dir="$1" mode="$2" pid
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

cmd_start() {
    local name="$1" dir attempt skip
    dir="$(cluster_dir "$name")"
    ensure_state_dir
    current_cluster_dir="$dir"

    # A cluster of the same name left by an earlier (possibly killed) run: stop it and start afresh.
    if [[ -e "$dir" ]]; then
        stop_server "$dir" immediate
        rm -rf "$dir"
    fi
    mkdir -p "$dir"
    chmod 0755 "$dir"
    [[ "$(id -u)" -ne 0 ]] || chown "$SERVER_USER:" "$dir"

    if ! as_server initdb -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync --no-instructions \
        >"$dir/initdb.log" 2>&1; then
        die "initdb failed (see $dir/initdb.log)"
    fi

    cat >>"$dir/data/postgresql.conf" <<EOF

# --- test cluster settings ---
listen_addresses = '127.0.0.1'
port = 0
unix_socket_directories = '$dir'
max_connections = 100
# Durability is not wanted in a throwaway cluster: speed instead.
fsync = off
synchronous_commit = off
full_page_writes = off
# Room for a streaming standby (pg_basebackup -R -X stream).
wal_level = replica
max_wal_senders = 5
hot_standby = on
password_encryption = 'scram-sha-256'
# Everything goes to stderr, which pg_ctl -l sends to server.log.
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %e %q%u@%d %a '
EOF

    # First match wins: rejectme is always rejected, app must use its password, everyone else is trusted.
    cat >"$dir/data/pg_hba.conf" <<EOF
# TYPE  DATABASE     USER      ADDRESS         METHOD
host    all          rejectme  127.0.0.1/32    reject
host    all          app       127.0.0.1/32    scram-sha-256
host    all          all       127.0.0.1/32    trust
host    replication  all       127.0.0.1/32    trust
local   all          all                       trust
local   replication  all                       trust
EOF

    # Another process may grab the chosen port before the server binds it: then try another one.
    skip=""
    for attempt in 1 2 3 4 5; do
        choose_port "$dir" "$skip"
        set_port_in_conf "$dir" "$(cat "$dir/port")"
        if start_server "$dir"; then
            break
        fi
        [[ $attempt -lt 5 ]] || die "could not find a port the server can bind"
        skip+=" $(cat "$dir/port")"
        mv "$dir/server.log" "$dir/server.log.$attempt"
    done

    as_server psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$(cat "$dir/port")" -U postgres -d postgres >/dev/null <<EOF
SET password_encryption = 'scram-sha-256';
CREATE ROLE $APP_USER LOGIN PASSWORD '$APP_PASSWORD';
CREATE ROLE rejectme LOGIN;
GRANT ALL ON SCHEMA public TO $APP_USER;
EOF
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
    [[ -d "$dir/data" ]] || die "cluster '$name' has no data directory"
    if is_running "$dir"; then
        wait_ready "$dir" "$port"
        return 0
    fi
    port_in_use "$port" && die "port $port of cluster '$name' is now used by another process"
    start_server "$dir" || die "could not start cluster '$name' on its port $port"
}

cmd_restart() {
    cmd_stop "$1" "${2:-fast}"
    cmd_start_existing "$1"
}

cmd_env() {
    local name="$1" dir port upper
    dir="$(cluster_dir "$name")"
    port="$(recorded_port "$name")"
    upper="$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
    if [[ "$name" == main ]]; then
        printf 'export POSTGRES_HOST=127.0.0.1\n'
        printf 'export POSTGRES_PORT=%s\n' "$port"
        printf 'export POSTGRES_USER=postgres\n'
        printf 'export POSTGRES_DB=postgres\n'
        printf 'export POSTGRES_APP_USER=%s\n' "$APP_USER"
        printf 'export POSTGRES_APP_PASSWORD=%s\n' "$APP_PASSWORD"
    fi
    printf 'export POSTGRES_%s_PORT=%s\n' "$upper" "$port"
    printf 'export POSTGRES_%s_DATADIR=%q\n' "$upper" "$dir/data"
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
    [[ -d "$STATE_DIR" ]] || { printf 'no clusters (%s does not exist)\n' "$STATE_DIR"; return 0; }
    printf '%-12s %-6s %-8s %s\n' NAME PORT STATE DATADIR
    for dir in "$STATE_DIR"/*/; do
        dir="${dir%/}"
        [[ -d "$dir/data" ]] || continue
        name="$(basename "$dir")"
        if is_running "$dir"; then state=running; else state=stopped; fi
        printf '%-12s %-6s %-8s %s\n' "$name" "$(cat "$dir/port" 2>/dev/null || echo '?')" "$state" "$dir/data"
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

# --- dispatch --------------------------------------------------------------------------------------------------------

[[ $# -ge 1 ]] || usage
command="$1"
shift
case "$command" in
    start | start-existing | env | delete)
        [[ $# -eq 1 ]] || usage
        check_name "$1"
        ;;
    stop | restart)
        [[ $# -eq 1 || $# -eq 2 ]] || usage
        check_name "$1"
        ;;
    status | stop-all)
        [[ $# -eq 0 ]] || usage
        ;;
    -h | --help | help) usage 0 ;;
    *) log "unknown command '$command'"; usage ;;
esac

case "$command" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    start-existing) cmd_start_existing "$@" ;;
    restart) cmd_restart "$@" ;;
    env) cmd_env "$@" ;;
    delete) cmd_delete "$@" ;;
    status) cmd_status ;;
    stop-all) cmd_stop_all ;;
esac

# pgbouncer in front of a cluster, for scripts/pg-cluster.sh (sourced by it; not run on its own).
#
#   start-bouncer NAME CLUSTER [SETTING=VALUE...]
#       pgbouncer with pool_mode=transaction on its own port, in front of the running cluster CLUSTER, running as
#       the server user. Role app logs in with SCRAM: the auth file holds CLUSTER's SCRAM secret for app, which lets
#       pgbouncer log in to CLUSTER as app with the client's proof (no password is stored). Databases:
#         postgres      CLUSTER's postgres database
#         isolated      CLUSTER's postgres database again, in a pool of its own: server sessions that clients of
#                       `postgres` never share, for tests that leave session state behind on purpose
#         unreachable   a socket directory where no server listens: a server pgbouncer never reached
#       SETTING=VALUE pairs override the [pgbouncer] settings below, e.g. max_client_conn=2.
#
# Files, in NAME: pgbouncer.ini, userlist.txt (the auth file), pgbouncer.log, pgbouncer.pid, upstream (CLUSTER).
# `stop NAME fast|immediate` sends SIGTERM (immediate shutdown), `stop NAME smart` SIGINT (safe shutdown: waits for
# transactions in progress); `start-existing NAME` starts it again on its port, even when CLUSTER is down.
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # current_cluster_dir and previous_port belong to pg-cluster.sh

# The [pgbouncer] settings, before overrides; listen_port, auth_file, logfile and pidfile are added per server.
readonly BOUNCER_DEFAULTS=(
    listen_addr=127.0.0.1
    unix_socket_dir=
    auth_type=scram-sha-256
    pool_mode=transaction
    max_client_conn=100
    default_pool_size=5
    # After a failed login to the server, new clients are refused for this long (default 15 s): keep it short so
    # that a server coming back is used soon, as in a failover.
    server_login_retry=1
    server_connect_timeout=5
    query_wait_timeout=10
)

bouncer_binary() {
    local path
    for path in "$(command -v pgbouncer 2>/dev/null || true)" /usr/sbin/pgbouncer /usr/bin/pgbouncer; do
        [[ -n "$path" && -x "$path" ]] && { printf '%s' "$path"; return 0; }
    done
    die "pgbouncer not found; run scripts/install-deps.sh"
}

cmd_start_bouncer() {
    local name="$1" upstream="$2" dir upstream_dir secret setting attempt skip=""
    shift 2
    for setting in "$@"; do
        [[ "$setting" =~ ^[a-z_]+=[^[:cntrl:]]*$ ]] || die "invalid pgbouncer setting '$setting' (expected name=value)"
    done
    upstream_dir="$(cluster_dir "$upstream")"
    recorded_port "$upstream" >/dev/null
    [[ -d "$upstream_dir/data" ]] || die "'$upstream' is not a PostgreSQL cluster"
    current_cluster_dir="$upstream_dir"
    is_running "$upstream_dir" || die "cluster '$upstream' is not running; start it first"
    secret="$(server_query "$upstream_dir" "SELECT rolpassword FROM pg_authid WHERE rolname = '$APP_USER'")"
    [[ "$secret" == SCRAM-SHA-256\$* ]] || die "role $APP_USER of '$upstream' has no SCRAM secret"
    bouncer_binary >/dev/null

    dir="$(cluster_dir "$name")"
    prepare_dir "$dir"
    printf 'bouncer\n' >"$dir/kind"
    printf '%s\n' "$upstream" >"$dir/upstream"
    printf '"%s" "%s"\n' "$APP_USER" "$secret" >"$dir/userlist.txt"
    chmod 0600 "$dir/userlist.txt"
    mkdir -p "$dir/no-server"
    [[ "$(id -u)" -ne 0 ]] || chown -R "$SERVER_USER:" "$dir"

    for attempt in 1 2 3 4 5; do
        choose_port "$dir" "$skip" "$previous_port"
        write_bouncer_ini "$dir" "$(recorded_port "$upstream")" "$@"
        if start_bouncer_process "$dir"; then
            break
        fi
        [[ $attempt -lt 5 ]] || die "could not find a port pgbouncer can bind"
        skip+=" $(cat "$dir/port")"
        mv "$dir/pgbouncer.log" "$dir/pgbouncer.log.$attempt"
    done
    check_bouncer_login "$dir"
}

# Writes NAME/pgbouncer.ini: the defaults, then the overrides given, each setting once.
write_bouncer_ini() {
    local dir="$1" upstream_port="$2" setting key
    shift 2
    local -A values=()
    local -a order=()
    for setting in "${BOUNCER_DEFAULTS[@]}" "listen_port=$(cat "$dir/port")" "auth_file=$dir/userlist.txt" \
        "logfile=$dir/pgbouncer.log" "pidfile=$dir/pgbouncer.pid" "$@"; do
        key="${setting%%=*}"
        [[ -v "values[$key]" ]] || order+=("$key")
        values[$key]="${setting#*=}"
    done
    {
        printf ';; pgbouncer in front of %s (written by pg-cluster.sh)\n[databases]\n' "$(cat "$dir/upstream")"
        printf 'postgres = host=127.0.0.1 port=%s dbname=postgres\n' "$upstream_port"
        printf 'isolated = host=127.0.0.1 port=%s dbname=postgres\n' "$upstream_port"
        printf 'unreachable = host=%s port=%s dbname=postgres\n' "$dir/no-server" "$upstream_port"
        printf '\n[pgbouncer]\n'
        for key in "${order[@]}"; do
            printf '%s = %s\n' "$key" "${values[$key]}"
        done
    } >"$dir/pgbouncer.ini"
    [[ "$(id -u)" -ne 0 ]] || chown "$SERVER_USER:" "$dir/pgbouncer.ini"
}

bouncer_pid() {
    local pid
    pid="$(cat "$1/pgbouncer.pid" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] && grep -q pgbouncer "/proc/$pid/comm" 2>/dev/null && printf '%s' "$pid"
}

bouncer_is_running() {
    [[ -n "$(bouncer_pid "$1")" ]]
}

# Starts pgbouncer (as a daemon) with NAME/pgbouncer.ini and waits until it listens. Returns 1 when its port was
# taken, so the caller may pick another.
start_bouncer_process() {
    local dir="$1" port binary i
    port="$(cat "$dir/port")"
    binary="$(bouncer_binary)"
    current_cluster_dir="$dir"
    # Like a server, the daemon must not hold the caller's descriptors (see close_inherited_descriptors).
    if [[ "$(id -u)" -eq 0 ]]; then
        (close_inherited_descriptors && runuser -u "$SERVER_USER" -- "$binary" -d -q "$dir/pgbouncer.ini") || true
    else
        (close_inherited_descriptors && "$binary" -d -q "$dir/pgbouncer.ini") || true
    fi
    for ((i = 0; i < 100; i++)); do
        if bouncer_is_running "$dir" && port_in_use "$port"; then
            return 0
        fi
        if grep -q 'Address already in use' "$dir/pgbouncer.log" 2>/dev/null; then
            stop_bouncer "$dir" immediate
            log "port $port is taken"
            return 1
        fi
        sleep 0.1
    done
    tail -n 20 "$dir/pgbouncer.log" >&2 2>/dev/null || true
    die "pgbouncer in $dir does not listen on port $port"
}

# Logs in through pgbouncer as app and runs a query on the upstream cluster: the auth file and the pool work.
check_bouncer_login() {
    local dir="$1" port
    port="$(cat "$dir/port")"
    PGPASSWORD="$APP_PASSWORD" PGCONNECT_TIMEOUT=5 "$BINDIR/psql" -X -qAt \
        "host=127.0.0.1 port=$port user=$APP_USER dbname=postgres" -c "SELECT 1" >/dev/null ||
        die "cannot log in as $APP_USER through pgbouncer on port $port (see $dir/pgbouncer.log)"
}

# Stops pgbouncer: SIGINT (safe shutdown) for smart, SIGTERM (immediate) otherwise, SIGKILL if it lingers.
stop_bouncer() {
    local dir="$1" mode="$2" pid signal=TERM i
    pid="$(bouncer_pid "$dir")" || true
    [[ -n "$pid" ]] || return 0
    [[ "$mode" != smart ]] || signal=INT
    kill -"$signal" "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        [[ -d "/proc/$pid" ]] || break
        sleep 0.1
    done
    if [[ -d "/proc/$pid" ]]; then
        log "killing pgbouncer $pid of $dir"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$dir/pgbouncer.pid"
}

# Streaming standbys and their promotion, for scripts/pg-cluster.sh (sourced by it; not run on its own).
#
#   start-standby NAME PRIMARY   pg_basebackup -R -X stream from the running cluster PRIMARY as role `replicator`,
#                                then start NAME on its own port (hot_standby=on) and wait until it streams
#   promote NAME [SECONDS]       pg_ctl promote, then wait until pg_is_in_recovery() is false (30 s at most)
#
# A failover: `pg-cluster.sh stop PRIMARY immediate` (a crash, as far as clients can tell), then `promote STANDBY`.
# PRIMARY may itself be a standby (a cascade) or a promoted former standby.
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # current_cluster_dir and previous_port belong to pg-cluster.sh

# How long a new standby may take to stream from its primary.
readonly STANDBY_STREAM_TIMEOUT=30
# The default bound of `promote`.
readonly PROMOTE_TIMEOUT=30

cmd_start_standby() {
    local name="$1" primary="$2" dir primary_dir primary_port
    [[ "$name" != "$primary" ]] || die "a standby cannot be its own primary"
    primary_dir="$(cluster_dir "$primary")"
    primary_port="$(recorded_port "$primary")"
    [[ -d "$primary_dir/data" ]] || die "'$primary' is not a PostgreSQL cluster"
    current_cluster_dir="$primary_dir"
    is_running "$primary_dir" || die "primary '$primary' is not running; start it first"

    # Keep enough WAL for a standby that falls behind or is being rebuilt (the clusters have no replication slots).
    server_query "$primary_dir" "ALTER SYSTEM SET wal_keep_size = '256MB'" >/dev/null
    server_query "$primary_dir" "SELECT pg_reload_conf()" >/dev/null

    dir="$(cluster_dir "$name")"
    prepare_dir "$dir"
    if ! as_server pg_basebackup -d "host=127.0.0.1 port=$primary_port user=$REPLICATION_USER application_name=$name" \
        -D "$dir/data" -R -X stream -c fast --no-sync >"$dir/basebackup.log" 2>&1; then
        cat "$dir/basebackup.log" >&2
        die "pg_basebackup of '$primary' (port $primary_port) failed"
    fi
    # The copy carries the primary's settings: give the standby its own socket directory (the port is set below).
    sed -i "s|^unix_socket_directories = .*|unix_socket_directories = '$dir'|" "$dir/data/postgresql.conf"
    printf '\n# --- standby of %s ---\nhot_standby = on\n' "$primary" >>"$dir/data/postgresql.conf"
    printf 'standby\n' >"$dir/kind"
    printf '%s\n' "$primary" >"$dir/primary"

    start_on_free_port "$dir"
    wait_streaming "$dir" "$primary"
}

# Waits until the standby's WAL receiver streams from its primary.
wait_streaming() {
    local dir="$1" primary="$2" i status
    for ((i = 0; i < STANDBY_STREAM_TIMEOUT * 10; i++)); do
        status="$(server_query "$dir" "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null || true)"
        [[ "$status" == streaming ]] && return 0
        sleep 0.1
    done
    die "standby in $dir does not stream from '$primary' after ${STANDBY_STREAM_TIMEOUT}s (WAL receiver: ${status:-none})"
}

cmd_promote() {
    local name="$1" timeout="${2:-$PROMOTE_TIMEOUT}" dir in_recovery i
    [[ "$timeout" =~ ^[1-9][0-9]*$ ]] || die "invalid promotion timeout '$timeout' (whole seconds)"
    dir="$(cluster_dir "$name")"
    current_cluster_dir="$dir"
    [[ -d "$dir/data" ]] || die "'$name' is not a PostgreSQL cluster"
    is_running "$dir" || die "'$name' is not running"
    in_recovery="$(server_query "$dir" "SELECT pg_is_in_recovery()")" || die "cannot ask '$name' whether it is a standby"
    if [[ "$in_recovery" == f ]]; then
        log "'$name' already accepts writes"
        return 0
    fi
    # pg_ctl waits until recovery has ended; the loop below until the server says so to a client.
    as_server pg_ctl -D "$dir/data" promote -w -t "$timeout" -s >/dev/null ||
        die "pg_ctl promote of '$name' failed or took more than ${timeout}s"
    for ((i = 0; i < timeout * 20; i++)); do
        in_recovery="$(server_query "$dir" "SELECT pg_is_in_recovery()" 2>/dev/null || true)"
        if [[ "$in_recovery" == f ]]; then
            printf 'cluster\n' >"$dir/kind"
            rm -f "$dir/primary"
            return 0
        fi
        sleep 0.05
    done
    die "'$name' was promoted but still reports recovery after ${timeout}s"
}

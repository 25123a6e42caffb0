#!/usr/bin/env bash
# A pg_auto_failover formation on 127.0.0.1: a monitor and two PostgreSQL nodes, each run by its own pg_autoctl
# keeper, with timings short enough that a failover takes seconds on loopback.
#
# usage: ha-cluster.sh start               create the monitor and node1, node2; wait for a primary and a secondary
#        ha-cluster.sh env                 print `export POSTGRES_HA_...=...` lines (URI, monitor port, node ports)
#        ha-cluster.sh uri                 the formation's URI, as `pg_autoctl show uri --formation default` gives it
#        ha-cluster.sh state               the monitor's view: node, port, reported state, goal state
#        ha-cluster.sh primary             the name of the node the monitor reports as primary
#        ha-cluster.sh fail KIND           fail the primary over, KIND being
#                                            crash       its postgres and keeper killed with SIGKILL (a node crash)
#                                            partition   its keeper stopped and its port black-holed (nftables)
#                                            switchover  `pg_autoctl perform switchover`
#                                          and wait until the monitor reports the other node as the new primary
#        ha-cluster.sh rejoin              restart what `fail` stopped, open the port, and wait until the old primary
#                                          is a secondary of the new one
#        ha-cluster.sh stop                stop the keepers and servers and delete all their state
#        ha-cluster.sh run COMMAND...      start, export the env, run COMMAND, then stop whatever happens
#
# The state lives in /tmp/resilient-ha-<uid>-<cksum of the checkout path> (override with RESILIENT_HA_STATE_DIR):
# monitor/ and node1/, node2/, each with data/, port, keeper.log and keeper.pid. The keepers and servers run as user
# `postgres` when this script runs as root; black-holing a port needs root (nft).
#
# Timings (defaults are tens of seconds): the monitor checks each node every second, giving each check 2 s, and
# considers a node unhealthy after 5 s without a report, loose enough that a loaded machine (a fleet run on 2 cores)
# causes no failover of its own; a primary that loses the monitor and its standby demotes itself after 2 s
# (network_partition_timeout), and the monitor waits 3 s for a demotion it cannot confirm (primary_demote_timeout),
# which must stay longer than the self-demotion so that two primaries never accept writes at once. The app's role
# may hold all but 10 of a node's connections, so that the monitor's checks and replication always find a slot.
# Each node logs its connections (log_connections, lines starting with the time), which `make fleet` counts.
#
# `run` gives its command HA_RUN_TIMEOUT seconds (default 900), then stops it and the formation.
set -euo pipefail

SCRIPT_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
REPO_ROOT="$(cd -P "$SCRIPT_DIR/.." && pwd)"
readonly SCRIPT_DIR SCRIPT_PATH REPO_ROOT
# Below Linux's range of ephemeral ports (32768-60999 by default, /proc/sys/net/ipv4/ip_local_port_range). A port
# in it can be a client socket's own: a connect to a local port nothing listens on (a client retrying while the
# server restarts) may be given that same port and connect to itself, and the server that starts next cannot
# bind it. A server listening on every address then listens on IPv6 alone, and 127.0.0.1 refuses connections.
readonly FIRST_PORT=27432
readonly LAST_PORT=28431
readonly NODES=(node1 node2)
readonly APP_USER=app
readonly APP_PASSWORD=app-secret

repo_sum="$(printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1)"
STATE_DIR="${RESILIENT_HA_STATE_DIR:-/tmp/resilient-ha-$(id -u)-$repo_sum}"
readonly STATE_DIR
# The nftables table that black-holes a node's port: one per checkout.
readonly NFT_TABLE="resilient_ha_$repo_sum"

unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE PGOPTIONS \
    PGDATA PGSSLMODE PGTARGETSESSIONATTRS PGCONNECT_TIMEOUT PGAPPNAME

usage() {
    sed -n '5,19s/^# \{0,1\}//p' "$SCRIPT_PATH" >&2
    exit "${1:-2}"
}

log() { printf 'ha-cluster: %s\n' "$*" >&2; }

die() {
    log "error: $*"
    exit 1
}

find_bindir() {
    local dir best=""
    while IFS= read -r dir; do
        [[ -x "$dir/pg_ctl" && -x "$dir/postgres" && -f "$dir/../lib/pgautofailover.so" ]] && best="$dir"
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
    [[ -n "$best" ]] || die "no PostgreSQL with pg_auto_failover found; run scripts/install-deps.sh"
    printf '%s' "$best"
}

BINDIR="$(find_bindir)"
readonly BINDIR
command -v pg_autoctl >/dev/null 2>&1 || die "pg_autoctl not found; run scripts/install-deps.sh"

if [[ "$(id -u)" -eq 0 ]]; then
    readonly SERVER_USER=postgres
else
    SERVER_USER="$(id -un)"
    readonly SERVER_USER
fi

# Runs a command as the server user, with pg_autoctl's configuration and state kept in the state directory.
as_server() {
    local env=(env "PATH=$BINDIR:$PATH" "XDG_CONFIG_HOME=$STATE_DIR/xdg/config" "XDG_DATA_HOME=$STATE_DIR/xdg/data"
        "XDG_RUNTIME_DIR=$STATE_DIR/xdg/run" "PG_CONFIG=$BINDIR/pg_config")
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u "$SERVER_USER" -- "${env[@]}" "$@"
    else
        "${env[@]}" "$@"
    fi
}

# The server binaries complain about a working directory the server user cannot read (e.g. /root).
cd /

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free port not recorded by this script in any checkout, recorded in $1/port.
choose_port() {
    local dir="$1" port taken
    taken=" $({ cat /tmp/resilient-ha-*/*/port /tmp/resilient-postgres-*/*/port 2>/dev/null || true; } | tr '\n' ' ') "
    for port in $(seq "$FIRST_PORT" "$LAST_PORT"); do
        [[ "$taken" == *" $port "* ]] && continue
        port_in_use "$port" && continue
        printf '%s\n' "$port" >"$dir/port"
        return 0
    done
    die "no free TCP port in $FIRST_PORT-$LAST_PORT"
}

port_of() { cat "$STATE_DIR/$1/port"; }

monitor_uri() {
    printf 'postgres://autoctl_node@127.0.0.1:%s/pg_auto_failover?sslmode=disable' "$(port_of monitor)"
}

# Runs SQL on the monitor, each statement in a transaction of its own; one row a line, fields separated by spaces.
monitor_sql() {
    "$BINDIR/psql" -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port_of monitor)" -U postgres \
        -d pg_auto_failover <<<"$1"
}

# Starts a keeper (`pg_autoctl run`) for $1 as the leader of a process group of its own, whose id it records in
# keeper.pgid, so that the keeper and every process it starts can be signalled together.
start_keeper() {
    local dir="$STATE_DIR/$1"
    rm -f "$dir/keeper.pgid"
    (
        # The keeper outlives this script: it must not hold the descriptors our caller waits on (a parent that
        # watches for the end of this script through a pipe or socket would otherwise wait for the keeper too).
        for fd in /proc/"$BASHPID"/fd/*; do
            fd="${fd##*/}"
            if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        exec </dev/null >>"$dir/keeper.log" 2>&1
        as_server setsid sh -c 'echo $$ >"$1"; exec pg_autoctl run --pgdata "$2"' keeper "$dir/keeper.pgid" "$dir/data"
    ) &
    wait_for "$1's keeper starting" 10 '[[ -s "$dir/keeper.pgid" ]]'
}

# Whether a process of $1's keeper group is still alive.
keeper_alive() {
    local file="$STATE_DIR/$1/keeper.pgid"
    [[ -s "$file" ]] && pgrep -g "$(cat "$file")" >/dev/null
}

# Signals $2 to the keeper of $1 and every process in its group.
signal_keeper() {
    local file="$STATE_DIR/$1/keeper.pgid"
    [[ -s "$file" ]] || return 0
    kill "-$2" -- "-$(cat "$file")" 2>/dev/null || true
}

# The postmaster of $1, from its pid file, or nothing.
postmaster_pid() {
    local file="$STATE_DIR/$1/data/postmaster.pid"
    [[ -s "$file" ]] && head -n 1 "$file" || true
}

wait_for() {
    local what="$1" seconds="$2" condition="$3" deadline=$((SECONDS + $2))
    until eval "$condition"; do
        ((SECONDS < deadline)) || die "$what did not happen within $seconds s; state:
$(monitor_sql 'SELECT nodename, nodeport, reportedstate, goalstate FROM pgautofailover.node ORDER BY nodeid' 2>&1 || true)"
        sleep 0.1
    done
}

# The node reported (and assigned) as $1, or nothing.
node_in_state() {
    monitor_sql "SELECT nodename FROM pgautofailover.node WHERE reportedstate = '$1' AND goalstate = '$1'" 2>/dev/null || true
}

# The node that accepts writes: reported single (no standby yet), primary, or wait_primary (a primary whose standby
# is not in sync).
writable_node() {
    monitor_sql "SELECT nodename FROM pgautofailover.node
        WHERE reportedstate IN ('single', 'primary', 'wait_primary') AND goalstate = reportedstate" 2>/dev/null || true
}

# Whether this process may black-hole a port: nft is installed and may change the ruleset.
can_partition() { command -v nft >/dev/null 2>&1 && nft list tables >/dev/null 2>&1; }

healthy() { [[ -n "$(node_in_state primary)" && -n "$(node_in_state secondary)" ]]; }

cmd_start() {
    [[ ! -e "$STATE_DIR" ]] || cmd_stop
    mkdir -p "$STATE_DIR"/xdg/{config,data,run} "$STATE_DIR/monitor" "$STATE_DIR/node1" "$STATE_DIR/node2"
    chmod 0755 "$STATE_DIR"
    [[ "$(id -u)" -ne 0 ]] || chown -R "$SERVER_USER" "$STATE_DIR"
    chmod 0700 "$STATE_DIR/xdg/run"

    choose_port "$STATE_DIR/monitor"
    as_server pg_autoctl create monitor --pgdata "$STATE_DIR/monitor/data" --pgport "$(port_of monitor)" \
        --hostname 127.0.0.1 --auth trust --no-ssl >>"$STATE_DIR/monitor/keeper.log" 2>&1 \
        || { tail -n 30 "$STATE_DIR/monitor/keeper.log" >&2; die "could not create the monitor"; }
    start_keeper monitor
    # The keeper finishes the monitor's set-up (its extensions, a restart) before it accepts connections, which has
    # taken past 90 s on a machine whose disk was busy.
    wait_for "the monitor accepting connections" 180 "monitor_sql 'SELECT 1' >/dev/null 2>&1"
    monitor_sql "ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
        ALTER SYSTEM SET pgautofailover.health_check_timeout = 2000;
        ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1;
        ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500;
        ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 5000;
        ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 3000;
        ALTER SYSTEM SET pgautofailover.startup_grace_period = 2000;
        SELECT pg_reload_conf();" >/dev/null

    local node
    for node in "${NODES[@]}"; do
        choose_port "$STATE_DIR/$node"
        # Writes to the port file happen as us; the server user only reads it.
        as_server pg_autoctl create postgres --pgdata "$STATE_DIR/$node/data" --pgport "$(port_of "$node")" \
            --hostname 127.0.0.1 --name "$node" --monitor "$(monitor_uri)" --auth trust --no-ssl \
            --dbname postgres >>"$STATE_DIR/$node/keeper.log" 2>&1 \
            || { tail -n 30 "$STATE_DIR/$node/keeper.log" >&2; die "could not create $node"; }
        as_server pg_autoctl config set --pgdata "$STATE_DIR/$node/data" timeout.network_partition_timeout 2 >/dev/null
        as_server pg_autoctl config set --pgdata "$STATE_DIR/$node/data" timeout.prepare_promotion_catchup 5 >/dev/null
        as_server pg_autoctl config set --pgdata "$STATE_DIR/$node/data" \
            timeout.postgresql_restart_failure_timeout 5 >/dev/null
        start_keeper "$node"
        if [[ "$node" == node1 ]]; then
            wait_for "node1 becoming the primary" 120 '[[ -n "$(writable_node)" ]]'
            wait_for "node1 accepting connections" 60 \
                '"$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$(port_of node1)" -U postgres -d postgres'
            "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port_of node1)" -U postgres -d postgres \
                <<<"CREATE ROLE $APP_USER LOGIN PASSWORD '$APP_PASSWORD'; GRANT CREATE ON SCHEMA public TO $APP_USER;
                    SELECT format('ALTER ROLE $APP_USER CONNECTION LIMIT %s', setting::int - 10)
                    FROM pg_settings WHERE name = 'max_connections' \\gexec
                    ALTER SYSTEM SET log_connections = on; ALTER SYSTEM SET log_line_prefix = '%m [%p] ';
                    SELECT pg_reload_conf();" \
                >/dev/null
        fi
    done
    wait_for "a primary and a secondary" 180 healthy
    log "formation up: $(cmd_uri)"
}

cmd_env() {
    printf 'export POSTGRES_HA_URI=%q\n' "$(cmd_uri)"
    printf 'export POSTGRES_HA_MONITOR_PORT=%s\n' "$(port_of monitor)"
    printf 'export POSTGRES_HA_NODE1_PORT=%s\n' "$(port_of node1)"
    printf 'export POSTGRES_HA_NODE2_PORT=%s\n' "$(port_of node2)"
    printf 'export POSTGRES_HA_SCRIPT=%q\n' "$SCRIPT_PATH"
    printf 'export POSTGRES_HA_STATE_DIR=%q\n' "$STATE_DIR"
    printf 'export POSTGRES_APP_USER=%s POSTGRES_APP_PASSWORD=%s\n' "$APP_USER" "$APP_PASSWORD"
    if can_partition; then
        printf 'export POSTGRES_HA_CAN_PARTITION=1\n'
    else
        printf 'export POSTGRES_HA_CAN_PARTITION=0\n'
    fi
}

cmd_uri() {
    as_server pg_autoctl show uri --pgdata "$STATE_DIR/monitor/data" --formation default
}

cmd_state() {
    monitor_sql 'SELECT nodename, nodeport, reportedstate, goalstate FROM pgautofailover.node ORDER BY nodeid'
}

cmd_primary() {
    local primary
    primary="$(node_in_state primary)"
    [[ -n "$primary" ]] || die "no node is primary now"
    printf '%s\n' "$primary"
}

cmd_fail() {
    local kind="${1:-}" old new
    old="$(cmd_primary)"
    printf '%s %s\n' "$old" "$kind" >"$STATE_DIR/failed"
    case "$kind" in
        crash)
            local postmaster
            postmaster="$(postmaster_pid "$old")"
            signal_keeper "$old" KILL
            [[ -z "$postmaster" ]] || kill -KILL "$postmaster" 2>/dev/null || true
            ;;
        partition)
            can_partition || die "black-holing a port needs nft and root (CAP_NET_ADMIN)"
            signal_keeper "$old" TERM
            nft delete table inet "$NFT_TABLE" 2>/dev/null || true
            nft add table inet "$NFT_TABLE"
            nft add chain inet "$NFT_TABLE" output '{ type filter hook output priority 0 ; }'
            nft add rule inet "$NFT_TABLE" output tcp dport "$(port_of "$old")" drop
            nft add rule inet "$NFT_TABLE" output tcp sport "$(port_of "$old")" drop
            ;;
        switchover)
            as_server pg_autoctl perform switchover --pgdata "$STATE_DIR/$old/data" --formation default \
                >>"$STATE_DIR/$old/keeper.log" 2>&1 &
            ;;
        *) usage ;;
    esac
    wait_for "a new primary after $kind" 120 \
        'new="$(writable_node)"; [[ -n "$new" && "$new" != "$old" ]]'
    wait
    printf '%s\n' "$new"
}

cmd_rejoin() {
    [[ -s "$STATE_DIR/failed" ]] || die "nothing failed"
    local old kind
    read -r old kind <"$STATE_DIR/failed"
    case "$kind" in
        crash)
            # The killed postmaster's backends exit when they notice it is gone; the keeper restarts it, and retries
            # while their shared memory is still attached.
            start_keeper "$old"
            ;;
        partition)
            nft delete table inet "$NFT_TABLE" 2>/dev/null || true
            # Its postgres may still be shutting down: a WAL sender waits for its standby's connection, whose
            # packets were dropped, until TCP gives up. The node was failed over already; a crash is harmless.
            for _ in $(seq 50); do
                keeper_alive "$old" || break
                sleep 0.1
            done
            signal_keeper "$old" KILL
            local postmaster
            postmaster="$(postmaster_pid "$old")"
            [[ -z "$postmaster" ]] || kill -KILL "$postmaster" 2>/dev/null || true
            wait_for "the stopped keeper exiting" 30 '! keeper_alive "$old"'
            wait_for "the stopped postmaster exiting" 30 '[[ -z "$postmaster" ]] || ! kill -0 "$postmaster" 2>/dev/null'
            start_keeper "$old"
            ;;
        switchover) ;;
    esac
    wait_for "$old rejoining as secondary" 180 \
        '[[ "$(node_in_state secondary)" == "$old" && -n "$(node_in_state primary)" ]]'
    rm -f "$STATE_DIR/failed"
}

cmd_stop() {
    [[ -d "$STATE_DIR" ]] || return 0
    nft delete table inet "$NFT_TABLE" 2>/dev/null || true
    local node pid
    for node in node1 node2 monitor; do
        signal_keeper "$node" TERM
    done
    for node in node1 node2 monitor; do
        for _ in $(seq 50); do
            keeper_alive "$node" || break
            sleep 0.1
        done
        signal_keeper "$node" KILL
        pid="$(postmaster_pid "$node")"
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            as_server "$BINDIR/pg_ctl" -D "$STATE_DIR/$node/data" stop -m immediate >/dev/null 2>&1 \
                || kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$STATE_DIR"
}

# The last lines of every keeper's log, and of its server's latest log file, for a run that failed.
print_keeper_logs() {
    local file
    for file in "$STATE_DIR"/*/keeper.log; do
        [[ -s "$file" ]] || continue
        printf -- '--- last 20 lines of %s ---\n' "$file" >&2
        tail -n 20 "$file" >&2 || true
    done
    for file in "$STATE_DIR"/*/data/log; do
        [[ -d "$file" ]] || continue
        # The server's log collector writes here (pg_autoctl's settings), a file a day or a restart.
        file="$(ls -t "$file"/* 2>/dev/null | head -n 1)"
        [[ -s "$file" ]] || continue
        printf -- '--- last 20 lines of %s ---\n' "$file" >&2
        tail -n 20 "$file" >&2 || true
    done
}

cmd_run() {
    [[ $# -gt 0 ]] || usage
    trap 'status=$?; [[ $status -eq 0 ]] || print_keeper_logs; cmd_stop' EXIT
    trap 'exit 130' INT TERM
    cmd_start
    eval "$(cmd_env)"
    # `timeout` runs the command in a process group of its own and signals it whole at the deadline; a TERM or INT
    # to this script is passed on to it at once, and the formation stopped once it has ended.
    local status child
    timeout -k 30 "${HA_RUN_TIMEOUT:-900}" "$@" &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 130' INT TERM
    status=0
    wait "$child" || status=$?
    return "$status"
}

command="${1:-}"
shift || true
case "$command" in
    start) cmd_start ;;
    env) cmd_env ;;
    uri) cmd_uri ;;
    state) cmd_state ;;
    primary) cmd_primary ;;
    fail) cmd_fail "$@" ;;
    rejoin) cmd_rejoin ;;
    stop) cmd_stop ;;
    run) cmd_run "$@" ;;
    *) usage ;;
esac

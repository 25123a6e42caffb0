# Cluster data directories, for scripts/pg-cluster.sh (sourced by it; not run on its own).
#
# initdb is the slowest part of starting a cluster, and its output is the same every time: it runs once per
# checkout and server version, into STATE_DIR/.template-<cksum of the version>, and each new cluster copies that.
# (The copies share a system identifier, which only matters to replication between them; a standby is copied from
# its own primary anyway.) `stop-all` deletes the template with the rest of the state.
# shellcheck shell=bash

# Makes the template data directory unless it exists, and prints its path. Parallel starts wait for one initdb.
ensure_template() {
    local template version
    version="$(as_server pg_ctl --version | cksum | cut -d' ' -f1)"
    template="$STATE_DIR/.template-$version"
    exec 8>"$STATE_DIR/.template.lock"
    flock 8
    if [[ ! -f "$template/PG_VERSION" ]]; then
        rm -rf "$template" "$template.new"
        mkdir -m 0700 "$template.new"
        [[ "$(id -u)" -ne 0 ]] || chown "$SERVER_USER:" "$template.new"
        if ! as_server initdb -D "$template.new" -A trust -U postgres -E UTF8 --locale=C --no-sync \
            --no-instructions >"$STATE_DIR/.template-initdb.log" 2>&1; then
            exec 8>&-
            die "initdb failed (see $STATE_DIR/.template-initdb.log)"
        fi
        mv "$template.new" "$template"
    fi
    exec 8>&-
    printf '%s' "$template"
}

# A new data directory in $1/data, with the settings every cluster of this script has.
init_cluster() {
    local dir="$1" template
    template="$(ensure_template)"
    cp -a "$template" "$dir/data"

    cat >>"$dir/data/postgresql.conf" <<EOF

# --- test cluster settings ---
listen_addresses = '127.0.0.1'
port = 0
unix_socket_directories = '$dir'
max_connections = 200
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

    # First match wins: rejectme is always rejected, app and the members of password_signin (roles a test makes to
    # change their passwords) must use their passwords, everyone else is trusted.
    cat >"$dir/data/pg_hba.conf" <<EOF
# TYPE  DATABASE     USER      ADDRESS         METHOD
host    all          rejectme  127.0.0.1/32    reject
host    all          app       127.0.0.1/32    scram-sha-256
host    all          +password_signin 127.0.0.1/32 scram-sha-256
host    all          all       127.0.0.1/32    trust
host    replication  all       127.0.0.1/32    trust
local   all          all                       trust
local   replication  all                       trust
EOF
}

create_roles() {
    local dir="$1"
    as_server psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$(cat "$dir/port")" -U postgres -d postgres >/dev/null <<EOF
SET password_encryption = 'scram-sha-256';
CREATE ROLE $APP_USER LOGIN PASSWORD '$APP_PASSWORD';
CREATE ROLE rejectme LOGIN;
CREATE ROLE password_signin NOLOGIN;
CREATE ROLE $REPLICATION_USER LOGIN REPLICATION;
GRANT ALL ON SCHEMA public TO $APP_USER;
EOF
}


# Dies unless every argument is a postgresql.conf setting given as NAME=VALUE.
check_settings() {
    local setting
    for setting in "$@"; do
        [[ "$setting" =~ ^[a-z_.]+=[^[:cntrl:]]*$ ]] || die "invalid server setting '$setting' (expected name=value)"
    done
}

# Appends the settings given as NAME=VALUE to $1's postgresql.conf, where they win over the ones above.
add_settings() {
    local dir="$1" setting value
    shift
    [[ $# -gt 0 ]] || return 0
    printf '\n# --- settings given to start ---\n' >>"$dir/data/postgresql.conf"
    for setting in "$@"; do
        value="${setting#*=}"
        printf "%s = '%s'\n" "${setting%%=*}" "${value//\'/\'\'}" >>"$dir/data/postgresql.conf"
    done
}

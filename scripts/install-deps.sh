#!/usr/bin/env bash
# Installs what building and testing need on Debian/Ubuntu, and nothing else:
#   - pkg-config (pkgconf) able to find libpq      -> pkg-config, libpq-dev
#   - the libpq headers                             -> libpq-dev
#   - a PostgreSQL server (initdb, pg_ctl, postgres) -> postgresql
#   - runuser, to run the server as `postgres` when we are root -> util-linux
#   - pgbouncer, for the pooler tests                -> pgbouncer
#   - openssl, for the TLS cluster's certificates   -> openssl
#   - nft, for the tests that cut a server's network off, when we are root -> nftables
#   - jq, to sum up `make test`'s run from swift-testing's event stream -> jq
#   - pg_auto_failover (pg_autoctl and the monitor's extension), for the HA engine's
#     demo, fleet and bank (scripts/ha-cluster.sh) -> pg-auto-failover-cli, postgresql-N-auto-failover
# Idempotent and silent when everything is already present.
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*" >&2; }

# Highest-versioned server bin directory that has initdb, or nothing.
find_server_bindir() {
    local dir best=""
    # Version directories sort correctly with `sort -V` (9.6 < 10 < 15).
    while IFS= read -r dir; do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]] && best="$dir"
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
    printf '%s' "$best"
}

have_pkg_config() { command -v pkg-config >/dev/null 2>&1 || command -v pkgconf >/dev/null 2>&1; }

pkg_config() {
    if command -v pkg-config >/dev/null 2>&1; then pkg-config "$@"; else pkgconf "$@"; fi
}

libpq_headers_present() {
    local incdir=""
    if have_pkg_config; then
        incdir="$(pkg_config --variable=includedir libpq 2>/dev/null || true)"
    fi
    [[ -n "$incdir" && -f "$incdir/libpq-fe.h" ]] || [[ -f /usr/include/postgresql/libpq-fe.h ]]
}

missing=()
if ! have_pkg_config; then
    missing+=(pkg-config)
fi
if ! have_pkg_config || ! pkg_config --exists libpq || ! libpq_headers_present; then
    missing+=(libpq-dev)
fi
server_missing=false
if [[ -z "$(find_server_bindir)" ]]; then
    server_missing=true
    missing+=(postgresql)
fi
# runuser only matters when we are root (initdb and postgres refuse to run as root).
if [[ "$(id -u)" -eq 0 ]] && ! command -v runuser >/dev/null 2>&1; then
    missing+=(util-linux)
fi
# Debian installs pgbouncer in /usr/sbin, which a non-root PATH may lack.
bouncer_missing=false
if ! command -v pgbouncer >/dev/null 2>&1 && [[ ! -x /usr/sbin/pgbouncer ]]; then
    bouncer_missing=true
    missing+=(pgbouncer)
fi
if ! command -v openssl >/dev/null 2>&1; then
    missing+=(openssl)
fi

if ! command -v jq >/dev/null 2>&1; then
    missing+=(jq)
fi

if ! command -v pg_autoctl >/dev/null 2>&1; then
    missing+=(pg-auto-failover-cli)
fi
# The extension for the server version the scripts use, the highest installed; with no server yet, for the one
# `postgresql` brings, once it is installed.
auto_failover_package() {
    local bindir major
    bindir="$(find_server_bindir)"
    [[ -n "$bindir" ]] || return 0
    major="$(basename "$(dirname "$bindir")")"
    [[ -f "/usr/lib/postgresql/$major/lib/pgautofailover.so" ]] || printf 'postgresql-%s-auto-failover' "$major"
}
extension="$(auto_failover_package)"
[[ -z "$extension" ]] || missing+=("$extension")

# nft only matters when we are root (only root may add the rules that cut a server off).
if [[ "$(id -u)" -eq 0 ]] && ! command -v nft >/dev/null 2>&1; then
    missing+=(nftables)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

log "missing: ${missing[*]}"

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        log "not root and sudo is not available; install them yourself:"
        log "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found; install the equivalents of: ${missing[*]}"
    exit 1
fi

# Remember which Debian clusters were already running, so we only stop one that
# the postgresql package itself starts during installation.
clusters_online_before=""
if command -v pg_lsclusters >/dev/null 2>&1; then
    clusters_online_before="$(pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1 "/" $2 }' || true)"
fi

# apt's chatter goes to a file that is shown only when something fails.
apt_log="$(mktemp)"
trap 'rm -f "$apt_log"' EXIT
run_apt() {
    if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$apt_log" 2>&1; then
        cat "$apt_log" >&2
        log "apt-get $* failed"
        exit 1
    fi
}
run_apt update
run_apt install -y --no-install-recommends "${missing[@]}"

if $server_missing && command -v pg_lsclusters >/dev/null 2>&1; then
    # Debian's postinst creates and may start a default cluster (e.g. 15/main on
    # port 5432). The test harness runs its own throwaway clusters; stop that one.
    while read -r version name _port status _rest; do
        [[ "$status" == online ]] || continue
        if grep -qxF "$version/$name" <<<"$clusters_online_before"; then
            continue
        fi
        log "stopping the cluster $version/$name that the postgresql package started"
        "${as_root[@]}" pg_ctlcluster "$version" "$name" stop || log "could not stop $version/$name"
    done < <(pg_lsclusters -h 2>/dev/null || true)
fi

if $bouncer_missing && command -v pgrep >/dev/null 2>&1 && pgrep -x pgbouncer >/dev/null 2>&1; then
    # The package's service, if the system started it: the tests run pgbouncers of their own.
    log "stopping the pgbouncer service that the pgbouncer package started"
    "${as_root[@]}" service pgbouncer stop >/dev/null 2>&1 || log "could not stop the pgbouncer service"
fi

if [[ -z "$(find_server_bindir)" ]]; then
    log "installed ${missing[*]}, but no initdb found under /usr/lib/postgresql/*/bin"
    exit 1
fi
extension="$(auto_failover_package)"
if [[ -n "$extension" ]]; then
    run_apt install -y --no-install-recommends "$extension"
    missing+=("$extension")
fi
if ! pkg_config --exists libpq; then
    log "installed ${missing[*]}, but pkg-config still cannot find libpq"
    exit 1
fi
log "installed: ${missing[*]}"

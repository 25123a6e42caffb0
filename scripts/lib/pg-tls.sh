# TLS for a cluster, for scripts/pg-cluster.sh (sourced by it; not run on its own).
#
#   start-tls NAME   a cluster like `start NAME` that serves TLS: a throwaway CA and a server certificate for
#                    localhost (SAN DNS:localhost, IP:127.0.0.1) made with openssl in NAME/tls, ssl=on,
#                    ssl_min_protocol_version=TLSv1.2. Role app may connect over TLS only (hostssl; hostnossl is
#                    rejected); the superuser may connect either way.
#
# Files, in NAME/tls: root.crt (the CA certificate clients give as sslrootcert; `env` exports it as
# POSTGRES_<NAME>_SSLROOTCERT), server.crt and server.key (the server's). The CA's key is deleted once the server
# certificate is signed: nothing else is ever signed by that CA.
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # current_cluster_dir and previous_port belong to pg-cluster.sh

# Days the throwaway certificates are valid.
readonly TLS_DAYS=30

# Makes the CA and the server certificate in $1/tls and configures the cluster in $1/data to use them.
configure_tls() {
    local dir="$1" tls="$1/tls"
    command -v openssl >/dev/null 2>&1 || die "openssl not found; run scripts/install-deps.sh"
    mkdir -p "$tls"
    if ! make_certificates "$tls" >"$tls/openssl.log" 2>&1; then
        cat "$tls/openssl.log" >&2
        die "openssl could not make the certificates in $tls"
    fi
    chmod 0644 "$tls/root.crt" "$tls/server.crt"
    chmod 0600 "$tls/server.key"
    [[ "$(id -u)" -ne 0 ]] || chown -R "$SERVER_USER:" "$tls"

    cat >>"$dir/data/postgresql.conf" <<EOF
# --- TLS ---
ssl = on
ssl_cert_file = '$tls/server.crt'
ssl_key_file = '$tls/server.key'
ssl_min_protocol_version = 'TLSv1.2'
EOF

    # As init_cluster's, except that app must use TLS.
    cat >"$dir/data/pg_hba.conf" <<EOF
# TYPE    DATABASE     USER      ADDRESS         METHOD
host      all          rejectme  127.0.0.1/32    reject
hostssl   all          app       127.0.0.1/32    scram-sha-256
hostnossl all          app       127.0.0.1/32    reject
host      all          all       127.0.0.1/32    trust
host      replication  all       127.0.0.1/32    trust
local     all          all                       trust
local     replication  all                       trust
EOF
}

# A CA (P-256 key, self-signed) and a server certificate for localhost signed by it.
make_certificates() {
    local tls="$1"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$TLS_DAYS" \
        -subj "/CN=ResilientPostgres throwaway test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$tls/root.key" -out "$tls/root.crt"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
        -keyout "$tls/server.key" -out "$tls/server.csr"
    cat >"$tls/server.ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
EOF
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/root.crt" -CAkey "$tls/root.key" -set_serial "0x$(openssl rand -hex 8)" \
        -days "$TLS_DAYS" -extfile "$tls/server.ext" -out "$tls/server.crt"
    rm -f "$tls/root.key" "$tls/server.csr" "$tls/server.ext"
}

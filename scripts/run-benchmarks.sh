#!/usr/bin/env bash
# Runs the benchmark executable (built by `make bench`) against the server that with-test-servers.sh started.
#
# usage: run-benchmarks.sh [--pin] [BENCHMARK OPTIONS...]
#   --pin   moves the server (postmaster and every backend, with all their threads; backends started later inherit
#           it) and the benchmark onto one CPU, $BENCH_CPU (default 0), with taskset, and passes --pinned
# Other options go to the executable: --rounds N, --workloads W..., --systems S..., --skip-rss-growth.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'run-benchmarks: %s\n' "$*" >&2; }

: "${POSTGRES_MAIN_DATADIR:?run through scripts/with-test-servers.sh, which starts the server}"
binary="${BENCH_BINARY:-$(swift build -c release --package-path Benchmarks --show-bin-path)/ResilientPostgresBenchmarks}"
[[ -x "$binary" ]] || { log "$binary not found: build with swift build -c release --package-path Benchmarks"; exit 1; }

pin=false
args=()
for arg in "$@"; do
    if [[ "$arg" == --pin ]]; then pin=true; else args+=("$arg"); fi
done

if ! $pin; then
    exec "$binary" "${args[@]}"
fi

command -v taskset >/dev/null 2>&1 || { log "taskset not found (apt-get install util-linux)"; exit 1; }
cpu="${BENCH_CPU:-0}"
postmaster="$(head -n 1 "$POSTGRES_MAIN_DATADIR/postmaster.pid")"
[[ "$postmaster" =~ ^[0-9]+$ ]] || { log "no postmaster PID in $POSTGRES_MAIN_DATADIR/postmaster.pid"; exit 1; }
# The postmaster and its children (checkpointer, walwriter, ...); backends forked later inherit the postmaster's CPU.
command -v pgrep >/dev/null 2>&1 || { log "pgrep not found (apt-get install procps)"; exit 1; }
mapfile -t server_pids < <(echo "$postmaster"; pgrep -P "$postmaster")
for pid in "${server_pids[@]}"; do
    taskset -a -c -p "$cpu" "$pid" >/dev/null
done
log "pinned the server (${#server_pids[@]} processes) and the benchmark to CPU $cpu"
exec taskset -c "$cpu" "$binary" --pinned "${args[@]}"

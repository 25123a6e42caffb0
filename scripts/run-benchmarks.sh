#!/usr/bin/env bash
# Runs the benchmark executable (built by `make bench`) against the server that with-test-servers.sh started.
#
# usage: run-benchmarks.sh [--pin] [--skip-callgrind] [BENCHMARK OPTIONS...]
#   --pin             moves the server (postmaster and every backend, with all their threads; backends started later
#                     inherit it) and the benchmark onto one CPU, $BENCH_CPU (default 0), with taskset, and passes
#                     --pinned
#   --skip-callgrind  skips the instruction counts that follow the timed run: each system's $CALLGRIND_WORKLOADS
#                     (default seq_param) under valgrind's callgrind, one JSON line per system with
#                     "instructions_per_op", and ResilientPostgres's ratio to libpq (needs valgrind; several minutes);
#                     a floor (seq_param_floor, seq_param_floor_thread) is counted for libpq alone
# Other options go to the executable: --rounds N, --workloads W..., --systems S..., --skip-rss-growth.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'run-benchmarks: %s\n' "$*" >&2; }

: "${POSTGRES_MAIN_DATADIR:?run through scripts/with-test-servers.sh, which starts the server}"
binary="${BENCH_BINARY:-$(swift build -c release --package-path Benchmarks --show-bin-path)/ResilientPostgresBenchmarks}"
[[ -x "$binary" ]] || { log "$binary not found: build with swift build -c release --package-path Benchmarks"; exit 1; }

pin=false
callgrind=true
args=()
for arg in "$@"; do
    case "$arg" in
        --pin) pin=true ;;
        --skip-callgrind) callgrind=false ;;
        *) args+=("$arg") ;;
    esac
done
if $callgrind && ! command -v valgrind >/dev/null 2>&1; then
    log "valgrind not found (apt-get install valgrind): no instruction counts"
    callgrind=false
fi

# Instructions per operation of each system under callgrind, counted over the timed part only (the child starts the
# count at the timed part); repeatable from run to run, unlike timings on a shared machine.
count_instructions() {
    local profiles="Benchmarks/.build/profiles" workload system operations out
    mkdir -p "$profiles"
    # valgrind 3.19 cannot read the DWARF 5 the toolchain emits; the symbol table is enough for function names.
    objcopy --strip-debug "$binary" "$profiles/ResilientPostgresBenchmarks"
    echo
    echo "Instructions per operation (callgrind, the timed part only; Benchmarks/Scripts/profile.sh shows where):"
    for workload in ${CALLGRIND_WORKLOADS:-seq_param}; do
        # A variant only ResilientPostgres runs (`seq_param_io`, `seq_param_thread`) is compared with the others'
        # run of the workload it varies.
        local base="$workload"
        case "$workload" in
            *_io) base="${workload%_io}" ;;
            seq_param_thread|seq_param_floor*) base=seq_param ;;
        esac
        case "$base" in
            rows_10k) operations=500000 ;;
            insert_tx) operations=5000 ;;
            policy) operations=2000000 ;;
            stream_rows|copy_in) operations=1000000 ;;
            *) operations=20000 ;;
        esac
        for system in libpq postgres-nio ResilientPostgres; do
            local run="$base"
            if [[ "$workload" == seq_param_floor* ]]; then
                # A floor is libpq's alone: its line beside libpq's `seq_param` says what the bare waiting costs.
                [[ "$system" == libpq ]] || continue
                run="$workload"
            elif [[ "$system" == ResilientPostgres ]]; then
                run="$workload"
            elif [[ "$system" == postgres-nio && "$base" != "$workload" ]]; then
                continue  # counted with the workload itself; the variant is compared with libpq alone
            fi
            out="$profiles/$system.$run.callgrind"
            valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
                "$profiles/ResilientPostgresBenchmarks" child --system "$system" --workload "$run" \
                >/dev/null 2>&1 || { log "callgrind of $system $workload failed"; continue; }
            python3 Benchmarks/Scripts/callgrind-summary.py "$out" "$operations" --json "$workload" "$system" "$1"
        done | tee "$profiles/instructions.$workload.jsonl"
        python3 - "$profiles/instructions.$workload.jsonl" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
counts = {line["system"]: line["instructions_per_op"] for line in lines}
if "libpq" in counts and "ResilientPostgres" in counts:
    ratio = counts["ResilientPostgres"] / counts["libpq"]
    verdict = "met" if ratio <= 2.5 else "MISSED"
    print(f'{lines[0]["workload"]}: ResilientPostgres {counts["ResilientPostgres"]:,} instructions per operation, '
          f'{ratio:.2f}x libpq\'s {counts["libpq"]:,} (target <= 2.5x, aim <= 1.5x): {verdict}')
PY
    done
}

if ! $pin; then
    "$binary" "${args[@]}"
    if $callgrind; then count_instructions false; fi
    exit 0
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
taskset -c "$cpu" "$binary" --pinned "${args[@]}"
if $callgrind; then count_instructions true; fi

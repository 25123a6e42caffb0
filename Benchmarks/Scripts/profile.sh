#!/usr/bin/env bash
# Profiles the timed part of one workload for one system with callgrind, against a throwaway server, and prints
# instructions per operation by area, the costliest functions, and runtime calls per operation.
#
# usage: Benchmarks/Scripts/profile.sh [SYSTEM [WORKLOAD [OPERATIONS]]]
#   SYSTEM      libpq, postgres-nio or ResilientPostgres (default ResilientPostgres)
#   WORKLOAD    a workload name (default seq_param)
#   OPERATIONS  what the summary divides by (default: 20000; 500000 rows for rows_10k, 1000000 rows for
#               stream_rows and copy_in, 2000000 for policy)
# Needs valgrind (apt-get install valgrind). The profile is kept in Benchmarks/.build/profiles/.
# Instruction counts are repeatable from run to run, unlike timings on a shared machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

system="${1:-ResilientPostgres}"
workload="${2:-seq_param}"
case "$workload" in
    rows_10k|rows_10k_io) default_operations=500000 ;;
    policy) default_operations=2000000 ;;
    stream_rows|stream_rows_io|copy_in) default_operations=1000000 ;;
    insert_tx) default_operations=5000 ;;
    *) default_operations=20000 ;;
esac
operations="${3:-$default_operations}"

command -v valgrind >/dev/null 2>&1 || { echo "profile: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
swift build -c release --package-path Benchmarks
binary="$(swift build -c release --package-path Benchmarks --show-bin-path)/ResilientPostgresBenchmarks"
profiles="Benchmarks/.build/profiles"
mkdir -p "$profiles"
# valgrind 3.19 cannot read the DWARF 5 the toolchain emits; the symbol table is enough for function names.
objcopy --strip-debug "$binary" "$profiles/ResilientPostgresBenchmarks"
out="$profiles/$system.$workload.callgrind"

TEST_CLUSTERS=main scripts/with-test-servers.sh bash -c '
    set -euo pipefail
    "$1/ResilientPostgresBenchmarks" setup
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$2" \
        "$1/ResilientPostgresBenchmarks" child --system "$3" --workload "$4" 2>&1 | grep -E "RESULT|Collected"
' profile "$profiles" "$out" "$system" "$workload"
python3 Benchmarks/Scripts/callgrind-summary.py "$out" "$operations" 30

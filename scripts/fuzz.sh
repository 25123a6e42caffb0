#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (with AddressSanitizer) and runs each for FUZZ_SECONDS.
#
# usage: FUZZ_SECONDS=60 fuzz.sh [TARGET...]      targets: FuzzConnectionString FuzzDecoding (default: both)
#
# Each target starts from its corpus in Fuzz/Corpus/TARGET (read only) and writes the new inputs it finds to
# .build-fuzz/corpus/TARGET, its full log to .build-fuzz/TARGET.log, and any input that crashes or hangs (10 s)
# to .build-fuzz/findings/. Exits non-zero when a target found one; replay it with `.build-fuzz/release/TARGET FILE`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SWIFT="${SWIFT:-swift}"
seconds="${FUZZ_SECONDS:-60}"
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(FuzzConnectionString FuzzDecoding)

# `--sanitize=fuzzer` tells SwiftPM that libFuzzer supplies `main`; the one flag naming both sanitizers comes last
# because the Swift driver keeps only the last -sanitize flag (`--sanitize=fuzzer --sanitize=address` would build
# without the fuzzer's coverage instrumentation).
"$SWIFT" build -c release --package-path Fuzz --scratch-path .build-fuzz --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address
mkdir -p .build-fuzz/findings

failed=()
for target in "${targets[@]}"; do
    work=".build-fuzz/corpus/$target"
    log=".build-fuzz/$target.log"
    mkdir -p "$work"
    printf 'fuzz: %s for %s s\n' "$target" "$seconds"
    set +e
    ".build-fuzz/release/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/findings/$target-" "$work" "Fuzz/Corpus/$target" >"$log" 2>&1
    status=$?
    set -e
    # libFuzzer's own summary: inputs loaded, runs, speed, coverage, corpus size.
    grep -E '^#[0-9]+ +(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
    if [[ $status -ne 0 ]]; then
        failed+=("$target")
        grep -E '^==[0-9]+==|^SUMMARY|Test unit written|Fatal error' "$log" || true
        printf 'fuzz: %s FAILED (exit %s); see %s\n' "$target" "$status" "$log"
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    printf 'fuzz: findings in: %s\n' "${failed[*]}"
    exit 1
fi
printf 'fuzz: no findings\n'

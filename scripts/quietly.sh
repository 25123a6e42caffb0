#!/usr/bin/env bash
# Runs a command with its output held back: prints `LABEL: ok (N s)` when it succeeds, and its whole output then
# `LABEL: FAILED` when it fails. Exits with the command's status. For `make test`, whose green run stays short.
#
# usage: quietly.sh LABEL CMD [ARGS...]
set -uo pipefail

if [[ $# -lt 2 ]]; then
    sed -n '2,5s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
fi
label="$1"
shift
output="$(mktemp)"
trap 'rm -f "$output"' EXIT
began=$SECONDS
"$@" >"$output" 2>&1
status=$?
if [[ "$status" -eq 0 ]]; then
    echo "$label: ok ($((SECONDS - began)) s)"
else
    cat "$output"
    echo "$label: FAILED (exit status $status)"
fi
exit "$status"

#!/usr/bin/env bash
# Runs every load-generator scenario at smoke size against a debug roamd it starts itself:
# fails on any error or non-zero correctness check (lost, duplicated, …). Seconds after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p roam-loadgen -p roamd
LG=(target/debug/loadgen --smoke --roamd target/debug/roamd)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
run() { echo "== loadgen $1"; "${LG[@]}" --out "$OUT/$1.json" "$@" >/dev/null; }
# One line per scenario.
run ceiling
run idle
run send
run fanout
run crash
run history
run list
run catchup
run soak
echo "bench smoke: every scenario ran, no faults"

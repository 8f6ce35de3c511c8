#!/usr/bin/env bash
# Runs every load-generator scenario at smoke size against a debug roamd it starts itself:
# fails on any error or non-zero correctness check (lost, duplicated, …). Seconds after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
# The same build as scripts/test.sh (whole workspace, all targets): there it is already done, and
# a narrower `-p` build would resolve dependency features differently and compile them again.
cargo build --locked --workspace --all-targets
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
run cluster
run history
run list
run catchup
run soak
echo "bench smoke: every scenario ran, no faults"

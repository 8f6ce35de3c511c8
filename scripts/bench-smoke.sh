#!/usr/bin/env bash
# The load generator's scenarios at smoke size (seconds each): each exits non-zero when a
# correctness check (lost, duplicated, …) fails.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p roam-loadgen -p roamd
target/debug/loadgen --smoke --roamd target/debug/roamd history
target/debug/loadgen --smoke --roamd target/debug/roamd list
target/debug/loadgen --smoke --roamd target/debug/roamd catchup
target/debug/loadgen --smoke --roamd target/debug/roamd soak

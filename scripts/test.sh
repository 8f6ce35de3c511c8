#!/usr/bin/env bash
# Runs every test of Roam: the Rust unit and integration tests, then the suite that drives the
# official Easemob Web SDK (from npm, unmodified) against a freshly built roamd.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --workspace --all-targets
# Unit tests, the storage conformance suite (crates/conformance, run by each engine's
# `conformance` test target) and roamd's integration tests.
cargo test --locked --workspace

# The SDK suite needs its npm packages (easemob-websdk, ws, xhr2), pinned by e2e/package-lock.json.
if [ ! -d e2e/node_modules ] || [ e2e/package-lock.json -nt e2e/node_modules ]; then
  (cd e2e && npm ci --no-audit --no-fund)
fi
(cd e2e && ROAMD_BIN="$PWD/../target/debug/roamd" npm test)

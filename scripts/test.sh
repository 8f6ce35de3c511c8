#!/usr/bin/env bash
# Runs every test of Roam: the Rust unit and integration tests, then the suite that drives the
# official Easemob Web SDK (from npm, unmodified) against a freshly built roamd.
set -euo pipefail
cd "$(dirname "$0")/.."

# The SDK suite needs Node.js 20+ and npm: say so now, not after the Rust build.
bash scripts/node-check.sh
# The PostgreSQL engine's tests and the cluster tests need PostgreSQL and NATS: say so now too.
bash scripts/services-check.sh

# Each stage's start, with the seconds since the suite began (CI keeps the whole run under 20 min).
stage() { echo "==== [$SECONDS s] $*"; }

stage "cargo build"
cargo build --locked --workspace --all-targets
# Unit tests, the storage conformance suite (crates/conformance, run by each engine's
# `conformance` test target) and roamd's integration tests.
stage "cargo test"
cargo test --locked --workspace
# Every load-generator scenario at smoke size against a debug roamd (BENCHMARKS.md has the full run).
stage "bench smoke"
bash scripts/bench-smoke.sh
# The REST API fuzzed from its OpenAPI document: no server error, answers match their schemas.
stage "schemathesis"
bash scripts/schemathesis.sh
# A short run of every fuzz target from its kept corpus (docs/fuzzing.md).
stage "fuzz smoke"
bash scripts/fuzz.sh

# The SDK suite needs its npm packages (easemob-websdk in every tested version, ws, xhr2),
# pinned by e2e/package-lock.json.
if [ ! -d e2e/node_modules ] || [ e2e/package-lock.json -nt e2e/node_modules ]; then
  (cd e2e && npm ci --no-audit --no-fund)
fi

# The whole SDK suite once per SDK version (e2e/lib/sdk-version.js), newest first. Every version
# runs even if an earlier one failed; the script fails if any did. SDK_VERSIONS="4.21.1" runs one.
SDK_VERSIONS="${SDK_VERSIONS:-4.21.1 4.13.0 4.7.0}"
failed=""
for v in $SDK_VERSIONS; do
  stage "SDK suite: easemob-websdk $v"
  if (cd e2e && E2E_SDK="$v" ROAMD_BIN="$PWD/../target/debug/roamd" npm test); then
    echo "==== easemob-websdk $v: passed ===="
  else
    echo "==== easemob-websdk $v: FAILED ===="
    failed="$failed $v"
  fi
done
if [ -n "$failed" ]; then
  echo "SDK suite failed on easemob-websdk:$failed" >&2
  exit 1
fi

# Three roamd nodes on one PostgreSQL database and NATS, the official SDK's devices spread over
# them; one node killed with SIGKILL mid-stream (e2e/cluster, scripts/cluster.sh).
stage "cluster suite"
bash scripts/cluster.sh

# The web chat in Debian's headless chromium (playwright-core), against the debug roamd.
stage "web chat"
ROAMD_BIN="$PWD/target/debug/roamd" bash scripts/web.sh
stage "done"

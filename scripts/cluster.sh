#!/usr/bin/env bash
# The cluster suite (e2e/cluster/): three roamd nodes on one PostgreSQL database, live signals
# through NATS, the official SDK's devices spread over the nodes. Needs PostgreSQL (the server of
# ROAM_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test, whose user may create
# databases: the suite makes and drops its own, roam_e2e_<pid>_<n>) and NATS (ROAM_TEST_NATS_URL,
# default nats://127.0.0.1:4222). Tests ROAMD_BIN (default target/debug/roamd); builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() { echo "==== [$SECONDS s] $*"; }

ROAMD_BIN="${ROAMD_BIN:-$PWD/target/debug/roamd}"
PG_URL="${ROAM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
NATS_URL="${ROAM_TEST_NATS_URL:-nats://127.0.0.1:4222}"
# The same server, its maintenance database (where the suite runs CREATE/DROP DATABASE).
PG_ADMIN_URL="${PG_URL%%\?*}"
PG_ADMIN_URL="${PG_ADMIN_URL%/*}/postgres"

stage "cluster: checks"
bash scripts/node-check.sh
if [ ! -x "$ROAMD_BIN" ]; then
  echo "cluster suite: no roamd binary at $ROAMD_BIN: run \`cargo build -p roamd\` (or set ROAMD_BIN)" >&2
  exit 1
fi
if ! command -v psql >/dev/null; then
  echo "cluster suite: psql not found: install the PostgreSQL client (Debian: apt-get install postgresql-client)" >&2
  exit 1
fi
if ! psql_err="$(psql -d "$PG_ADMIN_URL" -w -tAc 'SELECT 1' 2>&1 >/dev/null)"; then
  pg_where="${PG_ADMIN_URL##*@}"
  echo "cluster suite: PostgreSQL does not answer at ${pg_where%/*} (set ROAM_TEST_DATABASE_URL): $(echo "$psql_err" | head -1)" >&2
  exit 1
fi
if [ "$NATS_URL" != off ]; then
  hostport="${NATS_URL#nats://}"
  hostport="${hostport##*@}"
  nats_host="${hostport%:*}"
  nats_port="${hostport##*:}"
  # A NATS server greets every new connection with an INFO line.
  if ! greeting="$(timeout 5 bash -c "exec 3<>/dev/tcp/$nats_host/$nats_port && head -c 4 <&3" 2>/dev/null)" || [ "$greeting" != "INFO" ]; then
    echo "cluster suite: NATS does not answer at $NATS_URL (start nats-server, or set ROAM_TEST_NATS_URL; ROAM_TEST_NATS_URL=off runs the nodes without NATS)" >&2
    exit 1
  fi
  roamd_help="$("$ROAMD_BIN" --help)"
  if [[ $roamd_help != *--nats-url* ]]; then
    echo "cluster suite: note: $ROAMD_BIN has no --nats-url: the nodes run without NATS, so live delivery across nodes is expected to fail" >&2
  fi
fi

if [ ! -d e2e/node_modules ] || [ e2e/package-lock.json -nt e2e/node_modules ]; then
  stage "cluster: npm ci"
  (cd e2e && npm ci --no-audit --no-fund)
fi

stage "cluster: suite against $ROAMD_BIN"
if (cd e2e && ROAMD_BIN="$ROAMD_BIN" ROAM_TEST_DATABASE_URL="$PG_URL" ROAM_TEST_NATS_URL="$NATS_URL" npm run test:cluster); then
  stage "cluster: passed"
else
  stage "cluster: FAILED"
  exit 1
fi

#!/usr/bin/env bash
# The cluster suite (e2e/cluster/): three roamd nodes on one PostgreSQL database, live signals
# through NATS, the official SDK's devices spread over the nodes. Needs PostgreSQL (trust auth
# for E2E_PG_USER, default postgres, at E2E_PG_HOST:E2E_PG_PORT, default 127.0.0.1:5432; the
# suite makes and drops its own database) and NATS (E2E_NATS_URL, default
# nats://127.0.0.1:4222). Tests ROAMD_BIN (default target/debug/roamd); builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() { echo "==== [$SECONDS s] $*"; }

ROAMD_BIN="${ROAMD_BIN:-$PWD/target/debug/roamd}"
PG_HOST="${E2E_PG_HOST:-127.0.0.1}"
PG_PORT="${E2E_PG_PORT:-5432}"
PG_USER="${E2E_PG_USER:-postgres}"
NATS_URL="${E2E_NATS_URL:-nats://127.0.0.1:4222}"

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
if ! psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -w -tAc 'SELECT 1' >/dev/null 2>/tmp/roam-cluster-psql.$$; then
  echo "cluster suite: PostgreSQL does not answer at $PG_HOST:$PG_PORT as user $PG_USER (trust auth expected; set E2E_PG_HOST/E2E_PG_PORT/E2E_PG_USER): $(head -c 300 /tmp/roam-cluster-psql.$$)" >&2
  rm -f /tmp/roam-cluster-psql.$$
  exit 1
fi
rm -f /tmp/roam-cluster-psql.$$
if [ "$NATS_URL" != off ]; then
  hostport="${NATS_URL#nats://}"
  hostport="${hostport##*@}"
  nats_host="${hostport%:*}"
  nats_port="${hostport##*:}"
  # A NATS server greets every new connection with an INFO line.
  if ! greeting="$(timeout 5 bash -c "exec 3<>/dev/tcp/$nats_host/$nats_port && head -c 4 <&3" 2>/dev/null)" || [ "$greeting" != "INFO" ]; then
    echo "cluster suite: NATS does not answer at $NATS_URL (start nats-server, or set E2E_NATS_URL)" >&2
    exit 1
  fi
  if ! "$ROAMD_BIN" --help | grep -q -- '--nats-url'; then
    echo "cluster suite: note: $ROAMD_BIN has no --nats-url: the nodes run without NATS, so live delivery across nodes is expected to fail" >&2
  fi
fi

if [ ! -d e2e/node_modules ] || [ e2e/package-lock.json -nt e2e/node_modules ]; then
  stage "cluster: npm ci"
  (cd e2e && npm ci --no-audit --no-fund)
fi

stage "cluster: suite against $ROAMD_BIN"
if (cd e2e && ROAMD_BIN="$ROAMD_BIN" E2E_NATS_URL="$NATS_URL" npm run test:cluster); then
  stage "cluster: passed"
else
  stage "cluster: FAILED"
  exit 1
fi

#!/usr/bin/env bash
# Fails with a clear message unless PostgreSQL and NATS answer where the tests look for them:
# the PostgreSQL engine's conformance suite and the cluster tests run against the real servers
# (ROAM_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; ROAM_TEST_NATS_URL,
# default nats://127.0.0.1:4222). roamd itself needs neither: SQLite is its default.
set -euo pipefail
answers() { # host port
  timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}
host_port() { # url default-port -> "host port"
  local rest=${1#*://}
  rest=${rest#*@}
  rest=${rest%%/*}
  local host=${rest%%:*} port=${rest##*:}
  [[ $port == "$rest" ]] && port=$2
  echo "$host $port"
}
read -r pg_host pg_port < <(host_port "${ROAM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}" 5432)
read -r nats_host nats_port < <(host_port "${ROAM_TEST_NATS_URL:-nats://127.0.0.1:4222}" 4222)
missing=""
answers "$pg_host" "$pg_port" || missing="$missing PostgreSQL at $pg_host:$pg_port (ROAM_TEST_DATABASE_URL),"
answers "$nats_host" "$nats_port" || missing="$missing NATS at $nats_host:$nats_port (ROAM_TEST_NATS_URL),"
if [[ -n $missing ]]; then
  echo "scripts/test.sh: the PostgreSQL and cluster tests need these servers, which do not answer:${missing%,}" >&2
  exit 1
fi

#!/usr/bin/env bash
# The web chat's browser tests: builds web/ (npm), starts the debug roamd serving it on a free
# port with a temp data dir and an admin credential, seeds the test users, drives Debian's
# chromium with playwright-core (web/tests/), and stops roamd. Screenshots land in
# web/test-results/. Installs what it needs when missing: chromium (apt-get, as root) and the
# page's npm packages (npm ci, pinned by web/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."

ROAMD_BIN="${ROAMD_BIN:-$PWD/target/debug/roamd}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "web.sh: no chromium at $CHROMIUM; install Debian's (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
  fi
fi
if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules ]; then
  (cd web && npm ci --no-audit --no-fund)
fi
(cd web && npm run build --silent)
[ -x "$ROAMD_BIN" ] || cargo build --locked -p roamd

data="$(mktemp -d)"
secret="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
"$ROAMD_BIN" --listen 127.0.0.1:0 --data-dir "$data/db" --app-key roam#demo \
  --client-id web-admin --client-secret "$secret" --web-dir web/dist \
  >"$data/stdout" 2>"$data/stderr" &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

# roamd prints "roamd listening on ADDR" once it is ready.
addr=""
for _ in $(seq 1 600); do
  addr="$(sed -n 's/^roamd listening on //p' "$data/stdout")"
  [ -n "$addr" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "web.sh: roamd exited before it was ready:" >&2
    cat "$data/stderr" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$addr" ] || { echo "web.sh: roamd not ready after 60 s" >&2; cat "$data/stderr" >&2; exit 1; }

export WEB_URL="http://$addr" WEB_APP_KEY="roam#demo" WEB_ADMIN="web-admin:$secret"
(cd web && node tests/seed.js "$WEB_URL" roam#demo web-admin "$secret" \
  alice bob carol dave erin frank gina hank ivan judy)
if ! (cd web && npm test); then
  echo "web.sh: browser tests failed; roamd's log tail:" >&2
  tail -n 60 "$data/stderr" >&2
  exit 1
fi

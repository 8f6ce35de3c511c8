#!/usr/bin/env bash
# Fuzzes the REST API from its own OpenAPI document (/openapi.json) with schemathesis (PyPI):
# a live roamd (debug build) on a free port with a fresh data dir, two users seeded, every
# request sent with the admin token. Fails on any server error (5xx) or an answer that does not
# match the documented schema. Installs schemathesis into a venv under target/ if missing.
# SCHEMATHESIS_EXAMPLES (default 20) sets the examples per operation.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/schemathesis
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv" 2>/dev/null || { apt-get update && apt-get install -y python3-venv && python3 -m venv "$venv"; }
  "$venv/bin/pip" install --quiet "schemathesis>=4.3,<5"
fi
[ -x target/debug/roamd ] || cargo build --locked -p roamd

data=$(mktemp -d)
out="$data/stdout"
ROAM_CLIENT_ID=admin ROAM_CLIENT_SECRET=secret RUST_LOG=warn \
  target/debug/roamd --listen 127.0.0.1:0 --data-dir "$data/db" --app-key roam#demo >"$out" 2>"$data/stderr" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 300); do
  grep -q "roamd listening on" "$out" && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/stderr" >&2; exit 1; }
  sleep 0.1
done
addr=$(sed -n 's/^roamd listening on //p' "$out")
[ -n "$addr" ] || { echo "roamd did not start" >&2; exit 1; }
base="http://$addr"

# The admin token, and two users for the routes that name one.
token=$(python3 - "$base" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
def post(path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, json.dumps(body).encode(), headers)
    return json.load(urllib.request.urlopen(req))
token = post("/roam/demo/token", {"grant_type": "client_credentials",
                                  "client_id": "admin", "client_secret": "secret"})["access_token"]
post("/roam/demo/users", [{"username": "alice", "password": "pw"},
                          {"username": "bob", "password": "pw"}], token)
print(token)
PY
)

status=0
"$venv/bin/schemathesis" run "$base/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-20}" \
  --phases examples,coverage,fuzzing \
  --workers 1 --seed 1 --request-timeout 30 \
  --suppress-health-check all \
  --report junit --report-dir "$data/report" || status=$?
if grep -E "panicked|ERROR" "$data/stderr" >&2; then
  echo "roamd logged errors during the run (above)" >&2
  exit 1
fi
exit $status

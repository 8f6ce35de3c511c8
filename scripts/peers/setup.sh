#!/usr/bin/env bash
# Installs and prepares the two peers of `loadgen peers` on this machine (never in CI):
#   Prosody 0.12 (Debian) + mod_mam on SQLite, tuned (Nagle off, WAL), on 127.0.0.1:$PROSODY_PORT;
#   Synapse (PyPI, in a venv) on SQLite, on 127.0.0.1:$SYNAPSE_PORT.
# Everything goes under target/peers/: <peer>/run/ is the data directory a round runs on, and
# <peer>/seed/ the database with the benchmark users registered, copied over run/ before every
# round (so each round starts from the same fresh state). Idempotent: a peer whose seed exists is
# left alone (`--force` redoes both). Needs root for apt-get; prosody runs as root (run_as_root).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PEERS=$ROOT/target/peers
TEMPLATES=$ROOT/scripts/peers
PROSODY_PORT=${PROSODY_PORT:-15222}
SYNAPSE_PORT=${SYNAPSE_PORT:-18008}
SYNAPSE_VERSION=${SYNAPSE_VERSION:-1.163.2}
# Users s0..s(N-1) send to r0..r(N-1); all with the password below.
USERS=${PEER_USERS:-16}
PASSWORD=bench-pw
FORCE=${1:-}

fill() { # template data port secret > out
  sed -e "s|@DATA@|$2|g" -e "s|@PORT@|$3|g" -e "s|@SECRET@|${4:-}|g" "$1"
}

wait_port() { # port seconds
  for _ in $(seq 1 $(($2 * 10))); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1 after $2 s" >&2
  return 1
}

setup_prosody() {
  local dir=$PEERS/prosody
  if [[ -f $dir/seed/prosody.sqlite && $FORCE != --force ]]; then
    echo "prosody: ready ($dir/seed)"; return
  fi
  if ! command -v prosody >/dev/null || ! dpkg -s lua-dbi-sqlite3 >/dev/null 2>&1; then
    apt-get install -y prosody lua-dbi-sqlite3
  fi
  # The Debian service would hold port 5222 and its own data; ours runs on its own port.
  rm -rf "$dir"; mkdir -p "$dir/run" "$dir/seed"
  fill "$TEMPLATES/prosody.cfg.lua.in" "$dir/run" "$PROSODY_PORT" > "$dir/prosody.cfg.lua"
  for i in $(seq 0 $((USERS - 1))); do
    for u in s r; do
      prosodyctl --config "$dir/prosody.cfg.lua" register "$u$i" localhost "$PASSWORD"
    done
  done
  # WAL (the tuning): persistent in the file, so every copy of the seed has it.
  python3 - "$dir/run/prosody.sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print("prosody journal_mode:", c.execute("PRAGMA journal_mode=WAL").fetchone()[0])
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.close()
PY
  cp "$dir/run/prosody.sqlite" "$dir/seed/prosody.sqlite"
  echo "prosody: ready ($dir/seed, $USERS senders + $USERS recipients)"
}

setup_synapse() {
  local dir=$PEERS/synapse venv=$PEERS/venv-synapse
  if [[ -f $dir/seed/homeserver.db && $FORCE != --force ]]; then
    echo "synapse: ready ($dir/seed)"; return
  fi
  if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c "import synapse" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "matrix-synapse==$SYNAPSE_VERSION"
  fi
  rm -rf "$dir"; mkdir -p "$dir/run" "$dir/seed"
  local secret; secret=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  fill "$TEMPLATES/homeserver.yaml.in" "$dir/run" "$SYNAPSE_PORT" "$secret" > "$dir/homeserver.yaml"
  fill "$TEMPLATES/synapse-log.config.in" "$dir/run" "$SYNAPSE_PORT" > "$dir/run/log.config"
  (cd "$dir/run" && "$venv/bin/python" -m synapse.app.homeserver -c "$dir/homeserver.yaml" \
    --generate-keys >/dev/null)
  "$venv/bin/python" -m synapse.app.homeserver -c "$dir/homeserver.yaml" &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  wait_port "$SYNAPSE_PORT" 120
  # Shared-secret registration (the admin API): nonce, then an HMAC-SHA1 of the fields.
  "$venv/bin/python" - "$SYNAPSE_PORT" "$secret" "$USERS" "$PASSWORD" <<'PY'
import hashlib, hmac, json, sys, urllib.request
port, secret, n, pw = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), sys.argv[4]
url = f"http://127.0.0.1:{port}/_synapse/admin/v1/register"
for i in range(n):
    for u in (f"s{i}", f"r{i}"):
        nonce = json.load(urllib.request.urlopen(url))["nonce"]
        mac = hmac.new(secret, digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), u.encode(), pw.encode(), b"notadmin"]))
        body = json.dumps({"nonce": nonce, "username": u, "password": pw,
                           "admin": False, "mac": mac.hexdigest()}).encode()
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        urllib.request.urlopen(req).read()
PY
  kill "$pid"; wait "$pid" || true
  trap - RETURN
  python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" \
    "$dir/run/homeserver.db"
  cp "$dir/run/homeserver.db" "$dir/seed/homeserver.db"
  echo "synapse: ready ($dir/seed, $USERS senders + $USERS recipients)"
}

mkdir -p "$PEERS"
setup_prosody
setup_synapse

#!/usr/bin/env bash
# The full benchmark run, in one command (BENCHMARKS.md says what each part measures):
#   1. builds release roamd and loadgen;
#   2. runs every loadgen scenario at full size against a separately started roamd, each report
#      to target/bench/<scenario>.json (peers only when scripts/peers/setup.sh has installed
#      them; `PEERS=setup` runs that script first);
#   3. runs the divan micro-benchmarks (codec, wire mapping, domain) into target/bench/divan.txt;
#   4. draws the plots into docs/bench/ (matplotlib in a venv under target/bench/venv).
# A scenario that fails (or does not exist in this build) stops the run with its name: nothing
# is skipped silently. Takes tens of minutes; do not run two at once on one machine.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/bench
mkdir -p "$OUT" docs/bench
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}

echo "== build (release)"
cargo build --release -p roamd -p roam-loadgen
LOADGEN=target/release/loadgen
ROAMD=target/release/roamd

run() { # scenario [args...]
  local name=$1; shift
  echo "== loadgen $name"
  if ! "$LOADGEN" --roamd "$ROAMD" --out "$OUT/$name.json" "$name" "$@" > "$OUT/$name.log" 2>&1; then
    echo "bench: scenario '$name' failed; see $OUT/$name.log:" >&2
    tail -20 "$OUT/$name.log" >&2
    exit 1
  fi
}

# The ceiling first: the other scenarios' rates are read against it.
run ceiling
run idle
run send
run fanout
run history
run list
run catchup
run crash
run cluster

if [[ ${PEERS:-} == setup ]]; then
  scripts/peers/setup.sh
fi
if [[ -f target/peers/prosody/seed/prosody.sqlite || -f target/peers/synapse/seed/homeserver.db ]]; then
  run peers
else
  echo "== loadgen peers: skipped (not installed; scripts/peers/setup.sh or PEERS=setup)"
fi

echo "== divan micro-benchmarks"
: > "$OUT/divan.txt"
for crate in roam-protocol roam-wire roam-domain; do
  cargo bench -p "$crate" --bench "$(case $crate in
    roam-protocol) echo codec ;; roam-wire) echo mapping ;; roam-domain) echo ids ;; esac)" \
    | tee -a "$OUT/divan.txt"
done

echo "== plots"
if [[ ! -x $OUT/venv/bin/python ]] || ! "$OUT/venv/bin/python" -c "import matplotlib" 2>/dev/null; then
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/pip" install -q matplotlib
fi
"$OUT/venv/bin/python" scripts/bench-plots.py "$OUT" docs/bench
echo "== done: reports in $OUT/, plots in docs/bench/"

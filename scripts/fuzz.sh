#!/usr/bin/env bash
# A smoke run of every cargo-fuzz target (docs/fuzzing.md): builds them, then fuzzes each for
# FUZZ_SECONDS (default 10) starting from the corpus kept in fuzz/corpus/. Any crash, panic,
# leak past the RSS limit or hang fails the stage; the crashing input is left in
# fuzz/artifacts/<target>/. New corpus entries go to a temp dir and are not kept.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
# cargo-fuzz passes the compiler nightly-only flags (coverage instrumentation, `--cfg fuzzing`);
# stable rustc accepts them with RUSTC_BOOTSTRAP. No sanitizer (`-s none`): the fuzzed crates
# forbid unsafe code, so AddressSanitizer would only slow every execution.
export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SECONDS:-10}"

cargo fuzz build -s none
for target in $(cargo fuzz list); do
  echo "==== fuzz $target: ${seconds}s ===="
  work="$(mktemp -d)"
  mkdir -p "fuzz/artifacts/$target"
  log="$work.log"
  if ! cargo fuzz run -s none "$target" "$work" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=4096 -timeout=30 \
    -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$target/" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$log" || true
  rm -rf "$work" "$log"
done

#!/usr/bin/env bash
# Fails with a clear message unless `node` (20 or newer) and `npm` are on PATH: the SDK suite
# (e2e/) and the examples need them. Debian's own nodejs package is 18: use NodeSource's
# packages, nvm, or the official tarball from nodejs.org.
set -euo pipefail
need=20
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "scripts/test.sh: Node.js $need+ and npm are needed for the SDK suite, and node or npm is not on PATH (https://nodejs.org/en/download)" >&2
  exit 1
fi
version=$(node --version)
major=${version#v}
major=${major%%.*}
if ! [ "$major" -ge "$need" ] 2>/dev/null; then
  echo "scripts/test.sh: Node.js $need+ is needed for the SDK suite, found $version (Debian's nodejs is 18: use NodeSource, nvm or nodejs.org)" >&2
  exit 1
fi

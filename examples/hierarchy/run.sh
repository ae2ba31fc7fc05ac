#!/usr/bin/env bash
# Runs province 32, city 3207 and county 320722 (three nodes) as five
# separate processes on this machine. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")"
BIN=${BIN:-../../bin/gridcrm}
export GRIDCRM_ADMIN_PASSWORD=${GRIDCRM_ADMIN_PASSWORD:-change-me-now}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
for f in province-32.yaml city-3207.yaml county-320722-1.yaml county-320722-2.yaml county-320722-3.yaml; do
  "$BIN" node --config "$f" --log-level warn & pids+=($!)
done
echo "APIs: province http://127.0.0.1:9401  city http://127.0.0.1:9402  county http://127.0.0.1:9403-9405"
echo "admin password: $GRIDCRM_ADMIN_PASSWORD"
wait

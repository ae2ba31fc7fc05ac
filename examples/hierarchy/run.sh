#!/usr/bin/env bash
# Runs province 32, city 3207 and county 320722 (three nodes) as five
# separate processes on this machine. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")"
BIN=${BIN:-../../bin/gridcrm}
export GRIDCRM_ADMIN_PASSWORD=${GRIDCRM_ADMIN_PASSWORD:-change-me-now}
# Mutual TLS between the nodes: a province CA in ./pki and a certificate
# per node (kept across runs; in production the CA stays offline and each
# node gets only its own certificate and key and a copy of ./pki without
# keys).
if [ ! -f pki/root.crt ]; then "$BIN" cert init-root --dir pki --province 32 >/dev/null; fi
for f in province-32.yaml city-3207.yaml county-320722-1.yaml county-320722-2.yaml county-320722-3.yaml; do
  id=$(awk '/^node_id:/{print $2}' "$f"); region=$(awk '/^region:/{gsub(/"/,"",$2); print $2}' "$f")
  if [ ! -f "pki/nodes/$region/$id.crt" ]; then "$BIN" cert issue --dir pki --region "$region" --node "$id" >/dev/null; fi
done
"$BIN" cert crl --dir pki >/dev/null # fresh revocation lists for every run
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
for f in province-32.yaml city-3207.yaml county-320722-1.yaml county-320722-2.yaml county-320722-3.yaml; do
  "$BIN" node --config "$f" --log-level warn & pids+=($!)
done
echo "APIs: province http://127.0.0.1:9601  city http://127.0.0.1:9602  county http://127.0.0.1:9603-9605"
echo "admin password: $GRIDCRM_ADMIN_PASSWORD"
wait

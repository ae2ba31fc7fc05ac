#!/bin/sh
# Peak RSS of one node while six clients each send a ~31 MiB import at
# once (issue 16: six 31 MiB imports took a node from 57 MB to 650 MB).
#
#   bench/import_rss.sh [many|padded|rows|retry]...   (default: all four)
#
#   many    31 MiB of ordinary rows (about 120,000): refused at row 10,001
#   padded  10,000 valid rows padded with JSON whitespace to 31 MiB: the
#           largest import that passes every limit
#   rows    10,000 ordinary rows (about 4 MiB): what a maximal import costs
#           to commit, whatever its body's size
#   retry   the padded files again, each client retrying its 429 after
#           Retry-After until its import is taken (all six import)
#
# It builds bin/gridcrm, starts a one-node county (max_imports: 2, the
# default) on loopback in a temporary directory, and prints the node's RSS
# before, its peak during each case (VmHWM, reset by a fresh node per
# case), and what the six answered. Not part of make test: it takes a
# minute or two and about 1 GB of disk.
set -eu
cd "$(dirname "$0")/.."
cases=${*:-many padded rows retry}
tmp=$(mktemp -d /tmp/gridcrm-import-rss.XXXXXX)
trap 'kill $node_pid 2>/dev/null || true; wait; rm -rf "$tmp"' EXIT INT TERM
node_pid=
go build -o "$tmp/gridcrm" ./cmd/gridcrm
pw='Rss-bench-2026-import'
port=$((20000 + $$ % 10000))

python3 - "$tmp" <<'EOF'
import json, sys
tmp = sys.argv[1]
MiB = 1 << 20
def row(client, i, pad=0):
    r = {"account_no": "R%d%08d" % (client, i), "name": "连云港市东海县恒通纺织机械有限公司%d号厂区" % (i % 97),
         "category": "industrial", "voltage_kv": 10, "capacity_kva": 630, "industry": "纺织",
         "address": "江苏省连云港市东海县牛山街道和平东路%d号" % (i % 500), "region": "320722", "grid": "网格%02d" % (i % 12), "tags": ["VIP"]}
    s = json.dumps(r, ensure_ascii=False, separators=(",", ":"))
    return s[:1] + " " * pad + s[1:]
for client in range(6):
    # many: ordinary rows to 31 MiB
    with open("%s/many-%d.json" % (tmp, client), "w") as f:
        f.write("[")
        n, i = 1, 0
        while n < 31 * MiB:
            s = ("," if i else "") + row(client, i)
            f.write(s); n += len(s.encode()); i += 1
        f.write("]")
    # padded: 10,000 rows, each padded to 31 MiB / 10,000
    with open("%s/padded-%d.json" % (tmp, client), "w") as f:
        base = len(row(client, 0).encode()) + 1
        pad = 31 * MiB // 10000 - base
        f.write("[" + ",".join(row(client, i, pad) for i in range(10000)) + "]")
    with open("%s/rows-%d.json" % (tmp, client), "w") as f:
        f.write("[" + ",".join(row(client, i) for i in range(10000)) + "]")
EOF
ls -l "$tmp"/many-0.json "$tmp"/padded-0.json "$tmp"/rows-0.json | awk '{printf "%s %.1f MiB\n", $NF, $5/1048576}'

rss() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' /proc/$node_pid/status; }
hwm() { awk '/^VmHWM/ {printf "%.0f", $2/1024}' /proc/$node_pid/status; }

for c in $cases; do
	run=$c
	files=padded
	[ "$c" = many ] && files=many
	[ "$c" = rows ] && files=rows
	rm -rf "$tmp/n1"
	GRIDCRM_ADMIN_PASSWORD=$pw "$tmp/gridcrm" node --node-id n1 --region 320722 --data-dir "$tmp/n1" \
		--api-listen 127.0.0.1:$port --internal-listen 127.0.0.1:$((port + 1)) --bootstrap --peers n1=127.0.0.1:$((port + 1)) \
		--log-level warn >"$tmp/node.log" 2>&1 &
	node_pid=$!
	i=0
	until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt 300 ] && { echo "node did not start"; cat "$tmp/node.log"; exit 1; }; sleep 0.2
	done
	sleep 2 # the bootstrap admin and token key are written
	tok=$(curl -sf -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$pw\"}" \
		"http://127.0.0.1:$port/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
	before=$(rss)
	peak_sampled=$before
	pids=
	for k in 0 1 2 3 4 5; do
		(
			while :; do
				out=$(curl -s -o "$tmp/ans-$k" -D "$tmp/hdr-$k" -w '%{http_code}' -H "Authorization: Bearer $tok" \
					-H 'Content-Type: application/json' --data-binary "@$tmp/$files-$k.json" "http://127.0.0.1:$port/api/v1/customers/import")
				if [ "$out" = 429 ] && [ "$run" = retry ]; then
					sleep "$(awk 'tolower($1)=="retry-after:" {print $2+0}' "$tmp/hdr-$k")"
					continue
				fi
				echo "$out" >"$tmp/code-$k"
				break
			done
		) &
		pids="$pids $!"
	done
	running() { for p in $pids; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
	while running; do
		r=$(rss); [ "$r" -gt "$peak_sampled" ] && peak_sampled=$r
		sleep 0.1
	done
	codes=$(cat "$tmp"/code-* | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
	echo "$run: RSS before ${before} MB, peak ${peak_sampled} MB sampled every 0.1 s, VmHWM $(hwm) MB; answers: $codes"
	for k in 0 1 2 3 4 5; do
		case $(cat "$tmp/code-$k") in 201 | 429) ;; *) echo "  client $k: $(head -c 300 "$tmp/ans-$k")" ;; esac
	done
	kill $node_pid; wait $node_pid 2>/dev/null || true
	rm -f "$tmp"/code-* "$tmp"/ans-* "$tmp"/hdr-*
done

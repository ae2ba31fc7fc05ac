# gridcrm — see README.md. Quick start: `make demo`, `make test`.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DEMO_DIR ?= $(CURDIR)/.demo
# Go's test binaries for packages that start raft clusters are heavy; two at
# a time fits the 2-core machines this runs on.
TEST_P ?= 2

.PHONY: all build test vet fmt-check race demo bench bench-scale bench-scale-province bench-peers bench-store bench-api deps clean test-deps monitor soak chaos fuzz console-assets

all: build

deps:
	$(GO) mod download

build: deps
	@mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/gridcrm ./cmd/gridcrm

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet: deps
	$(GO) vet ./...

# The web console's vendored assets (console/static/vendor: Apache ECharts at a
# pinned version, with its licence) are committed; this re-fetches them with
# npm's client and checks their checksums (CHECK=1: only check, no network).
console-assets:
	@scripts/console-assets.sh $(if $(CHECK),--check)

# Debian packages whose tools the tests use when present (see the script);
# fast when installed, non-fatal where apt is unavailable.
test-deps:
	@scripts/test-deps.sh

# All tests with the race detector. Slow soak/load runs are behind `make bench` and `make soak`.
# The three longest packages, replication (~3 minutes), api and console (~1.5 and ~1 since their
# tests hash passwords at bcrypt's cheapest cost, testcluster.Main), run one after the other in a
# slot of their own, started at once, while the other packages run one after another in the
# second (each slot ~6 minutes; a clean clone with CI=true took 7 min 10 s on 2026-12-07, 7 min 36 s
# with console in the second slot): `go test ./...` would start the long ones wherever they fall
# and could leave a core idle while the last of them runs.
# The timeout is a hang guard per package, not a speed target.
SLOW_PKGS ?= ./replication/ ./api/ ./console/
test: deps test-deps fmt-check vet
	@$(GO) test -race -p 1 -timeout 30m $(SLOW_PKGS) > .test-slow.log 2>&1 & slow=$$!; \
	$(GO) test -race -p $$(( $(TEST_P) > 1 ? $(TEST_P) - 1 : 1 )) -timeout 30m $$($(GO) list ./... | grep -v -x -F "$$($(GO) list $(SLOW_PKGS))"); rc=$$?; \
	wait $$slow; rs=$$?; cat .test-slow.log; rm -f .test-slow.log; \
	[ $$rc -eq 0 ] && [ $$rs -eq 0 ]

# Starts the demo hierarchy (province, 2 cities, 4 counties; nine nodes linked by netstack
# WireGuard) with sample data, printing where to look; Ctrl-C stops it.
demo: build
	@rm -rf "$(DEMO_DIR)"
	bin/gridcrm demo --dir "$(DEMO_DIR)"

# Prometheus scraping every node of a running `make demo` (start it first,
# in another terminal), with the alert rules in ops/alerts.yml loaded.
# UI and API on http://$(MONITOR_LISTEN); Ctrl-C stops it. Grafana: import
# ops/grafana-dashboard.json with this Prometheus as its data source.
MONITOR_LISTEN ?= 127.0.0.1:9090
monitor: build test-deps
	@mkdir -p "$(DEMO_DIR)/prometheus"
	bin/gridcrm monitor-config --demo-dir "$(DEMO_DIR)" --out "$(DEMO_DIR)/prometheus/prometheus.yml" --rules ops/alerts.yml
	prometheus --config.file="$(DEMO_DIR)/prometheus/prometheus.yml" --storage.tsdb.path="$(DEMO_DIR)/prometheus/data" \
	  --web.listen-address="$(MONITOR_LISTEN)" --log.level=warn

# Benchmarks (not part of `make test`): figures go to bench/out/.
#  - BenchmarkStore: hashicorp/raft's store benchmarks, Pebble log store vs raft-boltdb
#  - BenchmarkAPI: a 3-node region through the HTTP API (sequential, 32 clients, bulk import)
#  - BenchmarkPropose: the same region below HTTP (raft + group commit + FSMs)
#  - BenchmarkRollupLag, BenchmarkCatchUp, BenchmarkSummary: the tiers
#  - BenchmarkSupervise, BenchmarkProjectAction: supervision lists, KPIs and stage actions (process/)
bench: deps
	@mkdir -p bench/out
	$(GO) install golang.org/x/perf/cmd/benchstat@latest
	$(GO) test -run '^$$' -bench 'BenchmarkStore' -benchmem -count 5 ./store/ | tee bench/out/store.txt
	$(GO) test -run '^$$' -bench 'BenchmarkAPI' -benchtime 1x -count 1 -timeout 30m ./api/ | tee bench/out/api.txt
	$(GO) test -run '^$$' -bench 'BenchmarkPropose' -benchtime 20000x -count 1 -timeout 30m ./node/ | tee bench/out/propose.txt
	$(GO) test -run '^$$' -bench 'BenchmarkRollupLag|BenchmarkCatchUp' -benchtime 1x -count 1 -timeout 30m ./replication/ | tee bench/out/tiers.txt
	$(GO) test -run '^$$' -bench 'BenchmarkSummary' -benchtime 20x -count 1 -timeout 30m ./replication/ | tee -a bench/out/tiers.txt
	$(GO) test -run '^$$' -bench 'BenchmarkMTLS' -benchtime 1x -count 3 -timeout 60m ./replication/ | tee bench/out/mtls.txt
	$(GO) test -run '^$$' -bench 'BenchmarkReplication_Tunnels' -benchtime 1x -count 1 -timeout 30m ./internal/netnstest/ | tee bench/out/tunnels.txt
	$(GO) test -run '^$$' -bench 'BenchmarkSupervise|BenchmarkProjectAction|BenchmarkKPIs_Year' -benchtime 20x -count 1 -timeout 30m ./process/ | tee bench/out/process.txt
	$(GO) test -run '^$$' -bench 'BenchmarkScanCards' -benchmem -count 3 ./crm/ | tee bench/out/cards.txt
	$(GO) test -run '^$$' -bench 'BenchmarkDomainCollector' -benchtime 3x -benchmem -count 3 ./ops/ | tee bench/out/scrape.txt
	$(GO) test -run '^$$' -bench 'BenchmarkLossyTransfer' -benchtime 30x -count 1 -timeout 60m ./tunnel/internal/netstack/ | tee bench/out/lossy.txt
	@echo; echo "== Pebble log store vs raft-boltdb (hashicorp/raft/bench) =="
	$$($(GO) env GOPATH)/bin/benchstat -col /store bench/out/store.txt
	@echo; echo "== node-to-node mutual TLS vs plaintext (same run, interleaved) =="
	$$($(GO) env GOPATH)/bin/benchstat -col /transport bench/out/mtls.txt


# The province-scale benchmark (not part of `make test`; see internal/scalebench):
# a county of SCALE_CUSTOMERS customers with 12 months of bills loaded through
# the import API, rolled up to its city and the province; load, catch-up, disk,
# memory and the p50/p99 of every upper-tier read at the province. Data under
# SCALE_TMP (deleted after). The report goes to bench/out/scale.txt.
SCALE_CUSTOMERS ?= 100000
SCALE_TMP ?= /tmp/gridcrm-scale
bench-scale: deps
	@mkdir -p bench/out "$(SCALE_TMP)"
	TMPDIR="$(SCALE_TMP)" GRIDCRM_SCALE_CUSTOMERS=$(SCALE_CUSTOMERS) GRIDCRM_SCALE_OUT=$(CURDIR)/bench/out/scale.txt \
	  nice -n 10 $(GO) test -run '^$$' -bench 'BenchmarkScale' -benchtime 1x -count 1 -timeout 6h ./internal/scalebench/
	@rm -rf "$(SCALE_TMP)"

# The same reads at a province filled directly (BenchmarkProvince, not part
# of `make test`): SCALE_CUSTOMERS customers over 14 counties of 5 cities,
# made by crm.Apply as each county makes them and posted to the province
# node's own uplink endpoint as the cities send them; then the reads, and
# the first reads after one more rolled-up change. SCALE_KEEP=/path keeps the
# province's data there and reuses it on the next run (reads only, seconds).
# The report goes to bench/out/scale-province.txt. SCALE_NICE=0 runs it at
# the priority of everything else (a 1,000,000-customer fill on a busy
# machine otherwise starves).
SCALE_KEEP ?=
SCALE_NICE ?= 10
bench-scale-province: deps
	@mkdir -p bench/out "$(SCALE_TMP)"
	TMPDIR="$(SCALE_TMP)" GRIDCRM_SCALE_CUSTOMERS=$(SCALE_CUSTOMERS) GRIDCRM_SCALE_KEEP=$(SCALE_KEEP) GRIDCRM_SCALE_OUT=$(CURDIR)/bench/out/scale-province.txt \
	  nice -n $(SCALE_NICE) $(GO) test -run '^$$' -bench 'BenchmarkProvince' -benchtime 1x -count 1 -timeout 6h ./internal/scalebench/
	@rm -rf "$(SCALE_TMP)"

# gridcrm and its peers side by side (not part of `make test`; see bench/peers,
# a Go module of its own so etcd's dependencies stay out of gridcrm's go.mod):
# etcd's server and client at the version bench/peers/go.mod pins and rqlite's
# server at the version bench/peers/rqlited/go.mod pins (cgo: SQLite), built
# from the Go module proxy, and a gridcrm region, each 3 nodes of separate processes
# on loopback with fsync on (their defaults), run the same writes (1 client, 32
# clients, bulk 100 rows × 8 clients, bulk through a follower) in PEERS_ROUNDS
# interleaved rounds; medians, ratios and server CPU per row go to
# bench/out/peers.txt and peers.json. PEERS_ARGS: more flags of bin/peerbench
# (-scale 0.1 to check the tool quickly, -only c32,bulk, -keep; -h lists them).
PEERS_ROUNDS ?= 3
PEERS_ARGS ?=
bench-peers: build
	cd bench/peers && $(GO) build -o ../../bin/peerbench . && $(GO) build -o ../../bin/peerbench-etcd ./cmd/etcd
	@command -v cc >/dev/null || (apt-get update -q && apt-get install -y -q --no-install-recommends gcc libc6-dev)
	cd bench/peers/rqlited && CGO_ENABLED=1 $(GO) build -o ../../../bin/peerbench-rqlited github.com/rqlite/rqlite/v8/cmd/rqlited
	@mkdir -p bench/out
	bin/peerbench -gridcrm bin/gridcrm -gridcrm-version "$(VERSION)" -etcd bin/peerbench-etcd -rqlite bin/peerbench-rqlited -rqlite-version v8.43.4 -rounds $(PEERS_ROUNDS) -out bench/out $(PEERS_ARGS)

# Long randomized runs (not part of `make test`): the management checker
# with a long schedule, and the random link cuts, several times over; and a
# node joining by snapshot a region of SOAK_JOIN_RECORDS customers (make
# test: 6,000).
SOAK_STEPS ?= 200
SOAK_JOIN_RECORDS ?= 100000
soak: deps
	set -o pipefail; GRIDCRM_CHECK_STEPS=$(SOAK_STEPS) $(GO) test -race -run 'TestManagement_RandomSchedules' -count 3 -timeout 60m -v ./replication/ | grep -E '^(=== RUN|--- |\s+management_check_test)|seed|ok|FAIL'
	$(GO) test -race -run 'TestTiers_RandomCutsAndHeals' -count 5 -timeout 30m ./replication/
	set -o pipefail; GRIDCRM_JOIN_RECORDS=$(SOAK_JOIN_RECORDS) $(GO) test -race -run 'TestRegion_JoinCatchesUpBySnapshot' -count 1 -timeout 60m -v ./replication/ | grep -E '^(--- |\s+region_test)|ok|FAIL'

# Black-box fault harness (not part of `make test`, see internal/chaos): real
# node processes (province, city, a 3-node and a 1-node county) under a seeded
# schedule of kill -9, SIGSTOP, SIGTERM, tier outages, county restarts and
# (as root, in network namespaces) partitions, with writers and readers; then
# replicas, histories (porcupine) and summaries are checked. Exits non-zero on
# any anomaly. CHAOS_SEED=0 draws a seed (printed); the same seed replays the
# schedule. CHAOS_KINDS: comma-separated kinds (`bin/chaos -h` lists them).
CHAOS_SEED ?= 0
CHAOS_FAULTS ?= 40
CHAOS_DURATION ?= 0
CHAOS_KINDS ?= all
CHAOS_DIR ?= $(CURDIR)/.chaos
CHAOS_ARGS ?=
chaos: build
	$(GO) build -o bin/chaos ./cmd/chaos
	@echo "chaos: the report goes to $(CHAOS_DIR)/<time>-seed<seed>/ (report.md, report.json, chaos.log, logs/ of every node)"
	bin/chaos -bin bin/gridcrm -dir "$(CHAOS_DIR)" -seed $(CHAOS_SEED) -faults $(CHAOS_FAULTS) -duration $(CHAOS_DURATION) -kinds $(CHAOS_KINDS) $(CHAOS_ARGS)

# Fuzzing (not part of `make test`, which runs the seed corpora): each target
# for FUZZTIME; prints its executions and crashes. A crashing input is written
# to <package>/testdata/fuzz/<target>/ and from then on fails `make test`.
# The targets are every func Fuzz* in a _test.go file (FUZZ_TARGETS picks
# some: FUZZ_TARGETS="./crm/:FuzzApply ./api/:FuzzImportNDJSON").
FUZZTIME ?= 30s
FUZZ_TARGETS ?= $(shell grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | sed -E 's|^\./(.*)/[^/]*_test\.go:func (Fuzz.*)|./\1/:\2|' | sort)
fuzz: deps
	@status=0; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
	  out=$$($(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); rc=$$?; \
	  execs=$$(echo "$$out" | grep -o 'execs: [0-9]*' | tail -1 | grep -o '[0-9]*'); crashes=0; \
	  if [ $$rc -ne 0 ]; then status=1; echo "$$out" | tail -20; echo "$$out" | grep -q 'Failing input' && crashes=1; fi; \
	  note=""; [ $$rc -ne 0 ] && [ $$crashes -eq 0 ] && note=" (it did not run: see above)"; \
	  echo "fuzz $$pkg $$name: $${execs:-0} executions, $$crashes crashes$$note"; \
	done; exit $$status

clean:
	rm -rf bin .demo bench/out .chaos

# gridcrm — see README.md. Quick start: `make demo`, `make test`.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DEMO_DIR ?= $(CURDIR)/.demo
# Go's test binaries for packages that start raft clusters are heavy; two at
# a time fits the 2-core machines this runs on.
TEST_P ?= 2

.PHONY: all build test vet fmt-check race demo bench bench-store bench-api deps test-deps clean

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

# Tools the tests use when present (they skip with a message otherwise):
# pdftotext reads the bulletin PDFs back; a CJK TrueType font sets them in
# Chinese. Fast when installed; non-fatal where apt is unavailable.
test-deps:
	@command -v pdftotext >/dev/null && [ -e /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || \
	{ command -v apt-get >/dev/null && (apt-get update -qq && apt-get install -y -qq --no-install-recommends poppler-utils fonts-droid-fallback) \
	  || echo "test-deps: could not install poppler-utils/fonts-droid-fallback; PDF tests will skip"; }

# All tests with the race detector. Slow soak/load runs are behind `make bench`.
test: deps test-deps fmt-check vet
	$(GO) test -race -p $(TEST_P) -timeout 20m ./...

# Starts county 320722 as a 3-node region with sample data; Ctrl-C stops it.
demo: build
	@rm -rf "$(DEMO_DIR)"
	bin/gridcrm demo --dir "$(DEMO_DIR)"

# Benchmarks (not part of `make test`): figures go to bench/out/.
#  - BenchmarkStore: hashicorp/raft's store benchmarks, Pebble log store vs raft-boltdb
#  - BenchmarkAPI: a 3-node region through the HTTP API (sequential, 32 clients, bulk import)
#  - BenchmarkPropose: the same region below HTTP (raft + group commit + FSMs)
#  - BenchmarkRollupLag, BenchmarkCatchUp, BenchmarkSummary: the tiers
bench: deps
	@mkdir -p bench/out
	$(GO) install golang.org/x/perf/cmd/benchstat@latest
	$(GO) test -run '^$$' -bench 'BenchmarkStore' -benchmem -count 5 ./store/ | tee bench/out/store.txt
	$(GO) test -run '^$$' -bench 'BenchmarkAPI' -benchtime 1x -count 1 -timeout 30m ./api/ | tee bench/out/api.txt
	$(GO) test -run '^$$' -bench 'BenchmarkPropose' -benchtime 20000x -count 1 -timeout 30m ./node/ | tee bench/out/propose.txt
	$(GO) test -run '^$$' -bench 'BenchmarkRollupLag|BenchmarkCatchUp' -benchtime 1x -count 1 -timeout 30m ./replication/ | tee bench/out/tiers.txt
	$(GO) test -run '^$$' -bench 'BenchmarkSummary' -benchtime 20x -count 1 -timeout 30m ./replication/ | tee -a bench/out/tiers.txt
	@echo; echo "== Pebble log store vs raft-boltdb (hashicorp/raft/bench) =="
	$$($(GO) env GOPATH)/bin/benchstat -col /store bench/out/store.txt

clean:
	rm -rf bin .demo bench/out

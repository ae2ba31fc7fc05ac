// Package load drives gridcrm's HTTP API with concurrent clients and
// measures throughput and latency. The Go benchmarks (api/bench_test.go)
// and `gridcrm load` both use it, so figures from either are comparable.
// It only sends traffic to the URLs it is given.
package load

// Package ops is what operators see of a node: the Prometheus registry and
// its /metrics handler, the raft and store collectors, and the health
// checks behind /healthz and /readyz. Packages own their collectors (see
// each package's metrics.go); ops registers them and serves the result. It
// holds no business logic and decides nothing about readiness itself: the
// node tells it what "ready" means.
package ops

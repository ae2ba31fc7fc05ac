// Package ops is what operators see of a node: the Prometheus registry and
// its /metrics handler, the raft, store, filesystem and domain collectors,
// the health checks behind /healthz and /readyz, the process's log level,
// and the Prometheus scrape config generator. It ships, as files beside
// the code, the alert rules (alerts.yml, unit-tested in alerts_test.yml)
// and the Grafana dashboard (grafana-dashboard.json); tests check both
// against promtool and a real scrape. Packages own their collectors (see
// each package's metrics.go); ops registers them and serves the result. It
// holds no business logic and decides nothing about readiness itself: the
// node tells it what "ready" means. Backups are made by the node (a Pebble
// snapshot in the replication state format) and served by the API; a
// backup file is checked (VerifyBackup) and restored into a new data
// directory (RestoreBackup, restore.go) here, `gridcrm backup` and
// `gridcrm restore` being their flags.
package ops

package node

import (
	"fmt"
	"log/slog"
	"time"

	"gridcrm/crm"
	"gridcrm/process"
	"gridcrm/replication"
	"gridcrm/store"
)

// migrateProcess brings what package process keeps beside its records
// (the open items by deadline, the KPIs' tallies) to the layout this
// version writes (process.Migrate): a store, snapshot or backup written by
// an earlier version has them built again from its projects, work orders
// and outages. It runs where migrateSearch runs: before raft applies
// anything, and after a snapshot replaced the state.
func migrateProcess(st *store.Store, log *slog.Logger) error {
	start := time.Now()
	n, err := process.Migrate(replication.StateReaderOf(st), func() (crm.Txn, func() error) {
		tx, commit := replication.NewBatchTxn(st)
		return tx, commit
	})
	if err != nil {
		return fmt.Errorf("node: the process layout: %w", err)
	}
	if n > 0 && log != nil {
		log.Info("node: process indexes and tallies rebuilt in their current layout", "layout", process.Layout, "records", n, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

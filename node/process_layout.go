package node

import (
	"gridcrm/crm"
	"gridcrm/process"
	"gridcrm/store"
)

// migrateProcess brings what package process keeps beside its records
// (the open items by deadline, the KPIs' tallies) to the layout this
// version writes (process.Migrate): a store, snapshot or backup written by
// an earlier version has them built again from its projects, work orders
// and outages. It runs where migrateSearch runs: before raft applies
// anything, and after a snapshot replaced the state.
func migrateProcess(st *store.Store, log logger) error {
	return migrateLayout(st, log, "process indexes and tallies", process.Layout, "records",
		func(r crm.Reader, batch func() (crm.Txn, func() error)) (int, error) {
			return process.Migrate(r, batch)
		})
}

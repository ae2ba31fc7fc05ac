package node

import (
	"gridcrm/crm"
	"gridcrm/store"
)

// migrateCommands builds the index of the forwarded commands still waiting
// for their outcome (crm.MigratePendingCommands) in a store, snapshot or
// backup written before it existed. It runs where migrateSearch runs:
// before raft applies anything, and after a snapshot replaced the state.
func migrateCommands(st *store.Store, log logger) error {
	return migrateLayout(st, log, "pending-command index", crm.CommandsLayout, "commands", crm.MigratePendingCommands)
}

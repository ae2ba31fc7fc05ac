package node

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/store"
)

// migrateSearch brings the store's customer search index to the layout
// this version writes (crm.MigrateSearch): a store, snapshot or backup
// written by an earlier version has every customer indexed again from its
// record, in batches, the old layout's entries dropped by range deletions.
// It runs before raft applies anything (at start) and after a snapshot
// replaced the state (applier.Restored), so every replica indexes the
// records it holds the same way before it applies the next entry.
func migrateSearch(st *store.Store, log logger) error {
	db := st.DB()
	drop := func(lo, hi []byte) error {
		b := db.NewBatch()
		defer b.Close()
		s := store.StatePrefix
		if err := b.DeleteRange(append(s[:len(s):len(s)], lo...), append(s[:len(s):len(s)], hi...), nil); err != nil {
			return err
		}
		return b.Commit(pebble.NoSync)
	}
	return migrateLayout(st, log, "customer search index", crm.SearchLayout, "customers",
		func(r crm.Reader, batch func() (crm.Txn, func() error)) (int, error) {
			return crm.MigrateSearch(r, batch, drop)
		})
}

// logger is the node's log, nil for none.
type logger = *slog.Logger

// migrateLayout runs migrate, one of the state's layout migrations, over
// st's state in batches, and logs what it rebuilt (what: its name; unit:
// what it counts).
func migrateLayout(st *store.Store, log logger, what string, layout int, unit string, migrate func(crm.Reader, func() (crm.Txn, func() error)) (int, error)) error {
	start := time.Now()
	n, err := migrate(replication.StateReaderOf(st), func() (crm.Txn, func() error) {
		tx, commit := replication.NewBatchTxn(st)
		return tx, commit
	})
	if err != nil {
		return fmt.Errorf("node: the %s: %w", what, err)
	}
	if n > 0 && log != nil {
		log.Info("node: "+what+" rebuilt in its current layout", "layout", layout, unit, n, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// Restored implements replication.Restorer: a snapshot from a replica of
// an older version holds its search index, and process's indexes and
// tallies, in the old layout, and may have no pending-command index.
func (a *applier) Restored(st *store.Store) error {
	if err := migrateSearch(st, nil); err != nil {
		return err
	}
	if err := migrateProcess(st, nil); err != nil {
		return err
	}
	return migrateCommands(st, nil)
}

package process

import (
	"bytes"
	"strconv"
	"strings"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// Layout is the version of what this package keeps beside its records
// (keyspace.ProcessLayoutKey): the open items by deadline (DueIndex), the
// outages not compliant (NonCompliantIndex) and the KPIs' tallies
// (kpi_tally.go). Layout 1 added them and dropped the open and month
// indexes (_open, _month) the supervision and KPIs read before.
const Layout = 1

// migrateBatch is the records Migrate reads a batch (a variable for the
// tests, which run it over several batches).
var migrateBatch = 1_000

// Migrate builds what Layout keeps for every project, work order and
// outage the state holds (those rolled up from below too) when the state
// is of an earlier layout (a store, snapshot or backup written by an
// earlier version): it drops every entry of the indexes and tallies of
// every layout, writes each record's again from the record, in batches,
// and records the layout last, so that a run cut short runs again from the
// start. It answers the records it read (0 when the layout was current).
// It must run before the state is written or read, as crm.MigrateSearch
// (node: at start, before raft applies, and after a snapshot replaced
// the state); every replica then holds the same keys for the same
// records. batch opens a Txn and its commit.
//
// Tallies are counted from the records as they are: a project energised
// by an earlier version has no cycle_working_days, so it is left out of
// the working-day cycle mean (cycle_working_days_mean) until its next
// change.
func Migrate(r crm.Reader, batch func() (crm.Txn, func() error)) (int, error) {
	v, err := r.Get([]byte(keyspace.ProcessLayoutKey))
	if err != nil {
		return 0, err
	}
	if string(v) == strconv.Itoa(Layout) {
		return 0, nil
	}
	for _, coll := range []string{"projects", "work_orders", "outages"} {
		for _, f := range []string{DueIndex, NonCompliantIndex, "_open", "_month"} {
			p := keyspace.IndexField(coll, f)
			if err := deleteKeys(r, batch, []byte(p), []byte(keyspace.End(p)), nil); err != nil {
				return 0, err
			}
		}
	}
	isKPI := func(k []byte) bool {
		_, name, _ := strings.Cut(string(k[len(keyspace.TallyPrefix):]), "/")
		return strings.HasPrefix(name, "kpi.")
	}
	if err := deleteKeys(r, batch, []byte(keyspace.TallyPrefix), []byte(keyspace.End(keyspace.TallyPrefix)), isKPI); err != nil {
		return 0, err
	}
	n := 0
	for _, coll := range []string{"projects", "work_orders", "outages"} {
		kind := crm.Kinds[coll]
		prefix := []byte(keyspace.Collection(coll))
		lower, upper := prefix, []byte(keyspace.End(string(prefix)))
		for {
			type rec struct {
				id  string
				raw []byte
			}
			var recs []rec
			if err := r.Iterate(lower, upper, func(k, v []byte) bool {
				recs = append(recs, rec{string(k[len(prefix):]), bytes.Clone(v)})
				return len(recs) < migrateBatch
			}); err != nil {
				return n, err
			}
			if len(recs) == 0 {
				break
			}
			lower = append(append(prefix[:len(prefix):len(prefix)], recs[len(recs)-1].id...), 0)
			tx, commit := batch()
			for _, x := range recs {
				n++
				rec := kind.New()
				if crm.Unmarshal(x.raw, rec) != nil {
					continue // neither indexed nor counted when written
				}
				for _, ix := range rec.Indexes() {
					if ix.Field == DueIndex || ix.Field == NonCompliantIndex {
						if err := tx.Set([]byte(keyspace.Index(coll, ix.Field, ix.Value, x.id)), nil); err != nil {
							return n, err
						}
					}
				}
				var tallies []crm.Delta
				for _, d := range crm.AggregateDeltas(keyspace.Record(coll, x.id), nil, x.raw) {
					if strings.HasPrefix(d.Metric, crm.TallyMark) {
						tallies = append(tallies, d)
					}
				}
				if err := crm.ApplyDeltas(tx, tallies); err != nil {
					return n, err
				}
			}
			if err := commit(); err != nil {
				return n, err
			}
		}
	}
	tx, commit := batch()
	if err := tx.Set([]byte(keyspace.ProcessLayoutKey), []byte(strconv.Itoa(Layout))); err != nil {
		return n, err
	}
	return n, commit()
}

// deleteKeys deletes the keys in [lo, hi) that drop answers true for (nil:
// every key), in batches.
func deleteKeys(r crm.Reader, batch func() (crm.Txn, func() error), lo, hi []byte, drop func(k []byte) bool) error {
	for {
		var keys [][]byte
		last := []byte(nil)
		if err := r.Iterate(lo, hi, func(k, _ []byte) bool {
			last = bytes.Clone(k)
			if drop == nil || drop(k) {
				keys = append(keys, last)
			}
			return len(keys) < 10*migrateBatch
		}); err != nil {
			return err
		}
		if len(keys) > 0 {
			tx, commit := batch()
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			if err := commit(); err != nil {
				return err
			}
		}
		if len(keys) < 10*migrateBatch {
			return nil
		}
		lo = append(last, 0)
	}
}

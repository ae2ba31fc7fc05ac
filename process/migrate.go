package process

import (
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
			if err := crm.DeleteKeys(r, batch, []byte(p), []byte(keyspace.End(p)), nil); err != nil {
				return 0, err
			}
		}
	}
	isKPI := func(k []byte) bool {
		_, name, _ := strings.Cut(string(k[len(keyspace.TallyPrefix):]), "/")
		return strings.HasPrefix(name, "kpi.")
	}
	if err := crm.DeleteKeys(r, batch, []byte(keyspace.TallyPrefix), []byte(keyspace.End(keyspace.TallyPrefix)), isKPI); err != nil {
		return 0, err
	}
	n := 0
	for _, coll := range []string{"projects", "work_orders", "outages"} {
		kind := crm.Kinds[coll]
		if err := crm.RecordBatches(r, coll, migrateBatch, func(ids []string, raws [][]byte) error {
			tx, commit := batch()
			for i, raw := range raws {
				n++
				rec := kind.New()
				if crm.Unmarshal(raw, rec) != nil {
					continue // neither indexed nor counted when written
				}
				for _, ix := range rec.Indexes() {
					if ix.Field == DueIndex || ix.Field == NonCompliantIndex {
						if err := tx.Set([]byte(keyspace.Index(coll, ix.Field, ix.Value, ids[i])), nil); err != nil {
							return err
						}
					}
				}
				var tallies []crm.Delta
				for _, d := range crm.AggregateDeltas(keyspace.Record(coll, ids[i]), nil, raw) {
					if strings.HasPrefix(d.Metric, crm.TallyMark) {
						tallies = append(tallies, d)
					}
				}
				if err := crm.ApplyDeltas(tx, tallies); err != nil {
					return err
				}
			}
			return commit()
		}); err != nil {
			return n, err
		}
	}
	tx, commit := batch()
	if err := tx.Set([]byte(keyspace.ProcessLayoutKey), []byte(strconv.Itoa(Layout))); err != nil {
		return n, err
	}
	return n, commit()
}

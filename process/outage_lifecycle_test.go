package process_test

import (
	"slices"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/process"
)

// TestOutage_StatusTransitions tries every status change from every status:
// scheduled → in_progress → done, cancelled from scheduled or in_progress;
// done and cancelled are final. Illegal moves are refused naming status.
func TestOutage_StatusTransitions(t *testing.T) {
	legal := map[string][]string{"scheduled": {"in_progress", "cancelled"}, "in_progress": {"done", "cancelled"}}
	reach := map[string][]string{"scheduled": nil, "in_progress": {"in_progress"}, "done": {"in_progress", "done"}, "cancelled": {"cancelled"}}
	start := cst(2026, 3, 20, 8, 0)
	for _, from := range process.OutageStatuses {
		for _, to := range process.OutageStatuses {
			if to == from {
				continue
			}
			t.Run(from+"→"+to, func(t *testing.T) {
				w := newWorld(t, "320722")
				id := w.Create(crmtest.T0, "outages", "otg", crmtest.Obj{"type": "planned", "feeder": "F1", "start": start, "end": start.Add(time.Hour)})
				ver := uint64(1)
				for _, st := range reach[from] {
					if res := w.At(crmtest.T0, crm.OpUpdate, "outages", id, ver, crmtest.Obj{"status": st}); res.Err != nil {
						t.Fatalf("reaching %s via %s: %v", from, st, res.Err)
					}
					ver++
				}
				res := w.At(crmtest.T0, crm.OpUpdate, "outages", id, ver, crmtest.Obj{"status": to})
				if slices.Contains(legal[from], to) {
					if res.Err != nil {
						t.Fatalf("legal move refused: %v", res.Err)
					}
					return
				}
				crmtest.WantErr(t, res.Err, crm.CodeTransition, "status")
			})
		}
	}
}

package process_test

import (
	"strings"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
	"gridcrm/process"
)

// TestCalendar_ArrivalRestartsClocks: a project and a complaint whose
// deadlines run into 2027 have their clocks stopped (clock_error) until a
// 2027 calendar arrives; then they are counted at once, without a stage
// action or transition: when the province's directive is pushed down
// (DirectiveArrived, as the link calls it) and when the region writes one
// itself. The recount is the system's update at the directive's time; a
// copy of another region's project is left to its writer.
func TestCalendar_ArrivalRestartsClocks(t *testing.T) {
	cal2027 := crmtest.Obj{"years": crmtest.Obj{"2027": crmtest.Obj{"holidays": crmtest.Obj{"元旦": []string{"2027-01-01"}}, "workdays": []string{}}}}
	for _, how := range []string{"pushed down", "written here"} {
		t.Run(how, func(t *testing.T) {
			w := newWorld(t, "320722")
			cus := w.Customer("industrial", 10)
			p := w.project(cst(2026, 12, 14, 9, 0), cus, 10, "single")
			if p.ClockError == "" || !strings.Contains(p.ClockError, "2027") {
				t.Fatalf("a limit running into 2027 with no 2027 data: clock_error %q; want it flagged", p.ClockError)
			}
			o := w.order(cst(2026, 12, 29, 9, 0), crmtest.Obj{"channel": "web", "kind": "complaint", "subject": "电费异常", "customer_id": cus})
			if o.ClockError == "" || o.AnswerDue != nil {
				t.Fatalf("a complaint answered in 2027 working days: clock_error %q answer_due %v; want it flagged", o.ClockError, o.AnswerDue)
			}
			at := cst(2026, 12, 30, 10, 0)
			switch how {
			case "pushed down":
				prov := newWorld(t, "32")
				id := prov.IDs.Next("dir")
				res := prov.At(at, crm.OpCreate, "directives", id, 0, crmtest.Obj{"kind": "calendar", "title": "2027年节假日", "scope": "32", "body": cal2027})
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				if err := crm.ApplyReplica(w.Tx, "r/directives/"+id, res.Record); err != nil {
					t.Fatal(err)
				}
				if err := crm.DirectiveArrived(w.Tx, "320722", "r/directives/"+id, res.Record); err != nil {
					t.Fatal(err)
				}
			case "written here":
				w.Create(at, "directives", "dir", crmtest.Obj{"kind": "calendar", "title": "2027年节假日", "body": cal2027})
			}
			np := w.getProject(p.ID)
			if np.ClockError != "" || deadlineOf(np, "supply_plan") != "2027-01-15 00:00" {
				t.Errorf("after the 2027 calendar arrived: clock_error %q deadline %q; want 2027-01-15 00:00", np.ClockError, deadlineOf(np, "supply_plan"))
			}
			if np.Version != p.Version+1 || np.UpdatedBy != crm.SystemActor || !np.UpdatedAt.Equal(at.UTC()) {
				t.Errorf("recount stamped version %d by %q at %v; want %d by %s at %v", np.Version, np.UpdatedBy, np.UpdatedAt, p.Version+1, crm.SystemActor, at.UTC())
			}
			raw, _ := crm.Get(w.Tx, "work_orders", o.ID)
			no := crmtest.Decode[process.WorkOrder](t, raw)
			if no.ClockError != "" || no.AnswerDue == nil {
				t.Errorf("the complaint after the 2027 calendar: clock_error %q answer_due %v; want a deadline", no.ClockError, no.AnswerDue)
			}
		})
	}
}

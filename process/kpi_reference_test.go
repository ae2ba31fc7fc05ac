package process

// The KPIs and supervision lists computed from every record, as they were
// before the tallies and the due index (kpi_tally.go, kpi_due.go): the
// reference the tests hold the read paths to.

import (
	"encoding/json"
	"math"
	"time"

	"gridcrm/crm"
)

// superviseRecords is Supervise as it was before the due index: it reads
// every project and work order of region (subtree: and below) and judges
// each as Supervise does.
func superviseRecords(r crm.Reader, region string, subtree bool, now time.Time) (Lists, error) {
	s := newSupervisor(r)
	out := Lists{Overdue: []Item{}, Warnings: []Item{}}
	err := EachRecord(r, "projects", region, subtree, func(raw []byte) error { return s.project(raw, now, &out) })
	if err != nil {
		return out, err
	}
	err = EachRecord(r, "work_orders", region, subtree, func(raw []byte) error { return s.workOrder(raw, now, &out) })
	sortItems(out.Overdue)
	sortItems(out.Warnings)
	return out, err
}

// projectKPIsRecords is ProjectKPIsOf from every record: the
// connection-project KPIs of region (subtree: and below) for a period at
// time now.
func projectKPIsRecords(r crm.Reader, region string, subtree bool, per Period, now time.Time) (ProjectKPIs, error) {
	out := ProjectKPIs{Total: &ProjectKPI{}, ByRegion: map[string]*ProjectKPI{}, ByManager: map[string]*ProjectKPI{}}
	cycles, wcycles := map[*ProjectKPI][]float64{}, map[*ProjectKPI][]float64{}
	err := EachRecord(r, "projects", region, subtree, func(raw []byte) error {
		var p Project
		if json.Unmarshal(raw, &p) != nil {
			return nil
		}
		groups := []*ProjectKPI{out.Total, group(out.ByRegion, p.Owner)}
		if p.ManagerID != "" {
			groups = append(groups, group(out.ByManager, p.ManagerID))
		}
		late, lateIn := false, 0
		for _, st := range p.Stages {
			if st.Late {
				late = true
				if per.holds(*st.DoneAt) {
					lateIn++
				}
			}
		}
		overdue := false
		if i := p.Current(); p.Status == ProjectOpen && i >= 0 {
			st := p.Stages[i]
			paused := len(st.Pauses) > 0 && st.Pauses[len(st.Pauses)-1].To == nil
			overdue = !paused && st.Deadline != nil && !now.Before(*st.Deadline)
		}
		for _, g := range groups {
			if per.holds(p.AcceptedAt) {
				g.Accepted++
			}
			g.LateStages += lateIn
			if p.Status == ProjectOpen {
				g.Open++
				if overdue {
					g.OverdueNow++
				}
			}
			if p.Status == ProjectEnergised && p.EnergisedAt != nil && per.holds(*p.EnergisedAt) {
				g.Energised++
				if !late {
					g.OnTime++
				}
				cycles[g] = append(cycles[g], p.EnergisedAt.Sub(p.AcceptedAt).Hours()/24)
				if p.CycleWorkingDays != nil {
					wcycles[g] = append(wcycles[g], float64(*p.CycleWorkingDays))
				}
			}
		}
		return nil
	})
	for _, g := range append(append([]*ProjectKPI{out.Total}, values(out.ByRegion)...), values(out.ByManager)...) {
		g.OnTimeRate = ratio(g.OnTime, g.Energised)
		if len(cycles[g]) > 0 {
			m, p := Mean(cycles[g]), Quantile(cycles[g], 0.9)
			m, p = math.Round(m*10)/10, math.Round(p*10)/10
			g.CycleDaysMean, g.CycleDaysP90 = &m, &p
		}
		if len(wcycles[g]) > 0 {
			m := math.Round(Mean(wcycles[g])*10) / 10
			g.CycleWorkDaysAvg = &m
		}
	}
	return out, err
}

// workOrderKPIsRecords is WorkOrderKPIsOf from every record: the
// work-order KPIs of orders received in the period in region (subtree: and
// below) at time now.
func workOrderKPIsRecords(r crm.Reader, region string, subtree bool, per Period, now time.Time) (WorkOrderKPIs, error) {
	out := WorkOrderKPIs{Total: newWOKPI(), ByRegion: map[string]*WorkOrderKPI{}, ByAssignee: map[string]*WorkOrderKPI{}}
	err := EachRecord(r, "work_orders", region, subtree, func(raw []byte) error {
		w, err := woLiteJSON(raw)
		if err != nil || !per.holds(w.ReceivedAt) {
			return nil
		}
		groups := []*WorkOrderKPI{out.Total, woGroup(out.ByRegion, w.Owner)}
		if w.AssigneeID != "" {
			groups = append(groups, woGroup(out.ByAssignee, w.AssigneeID))
		}
		met := func(due, at *time.Time) (counted, ok bool) {
			if due == nil {
				return false, false
			}
			if at != nil {
				return true, !at.After(*due)
			}
			return !now.Before(*due), false
		}
		ac, aok := met(w.AnswerDue, w.DoneAt)
		cc, cok := met(w.ContactDue, w.AcceptedAt)
		rc, rok := met(w.ArrivalDue, w.ArrivedAt)
		overdue := w.Open() && ((ac && !aok && w.DoneAt == nil) || (cc && !cok && w.AcceptedAt == nil) || (rc && !rok && w.ArrivedAt == nil))
		for _, g := range groups {
			g.Received++
			g.ByKind[w.Kind]++
			g.ByChannel[w.Channel]++
			if w.Open() {
				g.Open++
			} else {
				g.Archived++
			}
			if overdue {
				g.OverdueNow++
			}
			g.AnswerDue, g.AnswerOnTime = g.AnswerDue+b2i(ac), g.AnswerOnTime+b2i(aok)
			g.ContactDue, g.ContactOnTime = g.ContactDue+b2i(cc), g.ContactOnTime+b2i(cok)
			g.ArrivalDue, g.ArrivalOnTime = g.ArrivalDue+b2i(rc), g.ArrivalOnTime+b2i(rok)
			if w.Satisfaction != "" {
				g.Revisited++
				if w.Satisfaction != "dissatisfied" {
					g.Satisfied++
				}
			}
			g.SendBacks += w.SendBacks
		}
		return nil
	})
	for _, g := range append(append([]*WorkOrderKPI{out.Total}, values(out.ByRegion)...), values(out.ByAssignee)...) {
		g.AnswerOnTimeRate = ratio(g.AnswerOnTime, g.AnswerDue)
		g.SatisfactionRate = ratio(g.Satisfied, g.Revisited)
	}
	return out, err
}

// outageKPIsRecords is OutageKPIsOf from every record: the notice
// compliance of outages starting in the period in region (subtree: and
// below).
func outageKPIsRecords(r crm.Reader, region string, subtree bool, per Period) (OutageKPIs, error) {
	newK := func() *OutageKPI { return &OutageKPI{ByType: map[string]int{}, NonCompliant: []string{}} }
	out := OutageKPIs{Total: newK(), ByRegion: map[string]*OutageKPI{}}
	err := EachRecord(r, "outages", region, subtree, func(raw []byte) error {
		var o Outage
		if json.Unmarshal(raw, &o) != nil || !per.holds(o.Start) || o.Status == "cancelled" {
			return nil
		}
		g := out.ByRegion[o.Owner]
		if g == nil {
			g = newK()
			out.ByRegion[o.Owner] = g
		}
		for _, g := range []*OutageKPI{out.Total, g} {
			g.Outages++
			g.ByType[o.Type]++
			if o.NoticeCompliant != nil {
				g.NoticeRequired++
				if *o.NoticeCompliant {
					g.NoticeOnTime++
				} else {
					g.NonCompliant = append(g.NonCompliant, o.ID)
				}
			}
		}
		return nil
	})
	for _, g := range append([]*OutageKPI{out.Total}, values(out.ByRegion)...) {
		g.ComplianceRate = ratio(g.NoticeOnTime, g.NoticeRequired)
	}
	return out, err
}

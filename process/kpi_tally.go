package process

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// The KPIs' tallies. A period's KPIs add up counts kept on apply, in the
// same batch as every write of a project, work order or outage (crm
// tallies: k/<owner>/<name>, changed by the deltas of the kinds' Counters
// hooks like the aggregates, but neither exported as series nor summed
// into subtree totals), by the CST day and month of the event they count,
// for the owner region and for each person. A read of a period adds the
// months it covers whole and the days at its ends: at most 12 months and
// 60 days a region for a year, whatever the number of records.
//
//	kpi.p.<m|d>.<period>.<field>[@<manager>]    projects
//	    accepted                        accepted (AcceptedAt)
//	    energised, on_time              energised (EnergisedAt), with no late stage
//	    cycs                            sum of the energised' cycles in whole seconds (integers: the
//	                                    same sum in any order, on every replica)
//	    cyc.<tenths>                    energised with a cycle of <tenths>/10 days (rounded): the p90
//	    wcyc, wcyc_n                    sum and number of the cycles in working days (CycleWorkingDays)
//	    late                            stages done late (by the stage's DoneAt)
//	kpi.p.open[@<manager>]                      open projects
//	kpi.wo.<m|d>.<period>.<field>[@<assignee>]  work orders, by ReceivedAt
//	    received, open, archived, kind.<kind>, channel.<channel>
//	    <a|c|r>_done, <a|c|r>_ok        answer, contact, arrival with a limit: met, met on time
//	    revisited, satisfied, send_backs
//	kpi.otg.<m|d>.<period>.<field>              outages not cancelled, by Start
//	    outages, type.<type>, notice_required, notice_on_time
//
// What depends on the clock is read from the open items by deadline
// (DueIndex): a limit not met is due (counted against the on-time rate)
// and overdue once its deadline has passed.
const (
	tallyProjects   = "kpi.p."
	tallyWorkOrders = "kpi.wo."
	tallyOutages    = "kpi.otg."
)

// tally adds v to the tally name of the month and of the day of t, for
// the region (person "") or for person.
func tally(m map[string]float64, base string, t time.Time, field, person string, v float64) {
	tallyAt(m, base, t).add(field, person, v)
}

// tallies adds to the tallies of one day (the CST day of a time): its
// month's and its day's names' beginnings made once.
type tallies struct {
	m          map[string]float64
	month, day string // ~<base>m.<YYYY-MM>. and ~<base>d.<YYYY-MM-DD>.
}

// tallyAt answers the tallies of t's day under base (none for a zero t).
func tallyAt(m map[string]float64, base string, t time.Time) tallies {
	if t.IsZero() {
		return tallies{}
	}
	d := string(dayOf(t))
	return tallies{m: m, month: crm.TallyMark + base + "m." + d[:7] + ".", day: crm.TallyMark + base + "d." + d + "."}
}

// add adds v to field of the region (person "") or of person.
func (t tallies) add(field, person string, v float64) {
	if t.m == nil || v == 0 {
		return
	}
	if person != "" {
		field += "@" + person
	}
	t.m[t.month+field] += v
	t.m[t.day+field] += v
}

// groupsOf answers the persons a record counts for: the region's ("") and
// the person's when it names one.
func groupsOf(person string) []string {
	if person == "" {
		return []string{""}
	}
	return []string{"", person}
}

func projectTallies(p *Project, m map[string]float64) {
	for _, g := range groupsOf(p.ManagerID) {
		tally(m, tallyProjects, p.AcceptedAt, "accepted", g, 1)
		late := false
		for _, st := range p.Stages {
			if st.Late && st.DoneAt != nil {
				late = true
				tally(m, tallyProjects, *st.DoneAt, "late", g, 1)
			}
		}
		if p.Status == ProjectOpen {
			name := crm.TallyMark + tallyProjects + "open"
			if g != "" {
				name += "@" + g
			}
			m[name]++
		}
		if p.Status != ProjectEnergised || p.EnergisedAt == nil {
			continue
		}
		at := *p.EnergisedAt
		tally(m, tallyProjects, at, "energised", g, 1)
		if !late {
			tally(m, tallyProjects, at, "on_time", g, 1)
		}
		d := at.Sub(p.AcceptedAt)
		cyc := d.Hours() / 24
		tally(m, tallyProjects, at, "cycs", g, float64(d/time.Second))
		tally(m, tallyProjects, at, "cyc."+strconv.FormatInt(int64(math.Round(cyc*10)), 10), g, 1)
		if p.CycleWorkingDays != nil {
			tally(m, tallyProjects, at, "wcyc", g, float64(*p.CycleWorkingDays))
			tally(m, tallyProjects, at, "wcyc_n", g, 1)
		}
	}
}

func workOrderTallies(w *WorkOrder, m map[string]float64) {
	day := tallyAt(m, tallyWorkOrders, w.ReceivedAt)
	for _, g := range groupsOf(w.AssigneeID) {
		t := func(field string, v float64) { day.add(field, g, v) }
		t("received", 1)
		t("kind."+w.Kind, 1)
		t("channel."+w.Channel, 1)
		if w.Open() {
			t("open", 1)
		} else {
			t("archived", 1)
		}
		for _, s := range []struct {
			f       string
			due, at *time.Time
		}{{"a", w.AnswerDue, w.DoneAt}, {"c", w.ContactDue, w.AcceptedAt}, {"r", w.ArrivalDue, w.ArrivedAt}} {
			if s.due != nil && s.at != nil {
				t(s.f+"_done", 1)
				if !s.at.After(*s.due) {
					t(s.f+"_ok", 1)
				}
			}
		}
		if w.Satisfaction != "" {
			t("revisited", 1)
			if w.Satisfaction != "dissatisfied" {
				t("satisfied", 1)
			}
		}
		t("send_backs", float64(w.SendBacks))
	}
}

func outageTallies(o *Outage, m map[string]float64) {
	if o.Status == "cancelled" {
		return
	}
	day := tallyAt(m, tallyOutages, o.Start)
	t := func(field string) { day.add(field, "", 1) }
	t("outages")
	t("type." + o.Type)
	if o.NoticeCompliant != nil {
		t("notice_required")
		if *o.NoticeCompliant {
			t("notice_on_time")
		}
	}
}

// periodRanges answers the ranges [lo, hi) of tally names under base that
// a period's counts are read from: its whole months, then the days at its
// ends (hi "" for no end).
func periodRanges(base string, per Period) [][2]string {
	m, d := base+"m.", base+"d."
	f, t := string(per.From), string(per.To)
	if f != "" && t != "" && f >= t {
		return nil
	}
	if f == "" && t == "" {
		return [][2]string{{m, keyspace.End(m)}}
	}
	full := "" // the first month whole in the period
	if f != "" {
		full = f[:7]
		if f[8:] != "01" {
			full = nextMonth(full)
		}
	}
	end := "" // the month of t: whole months end before it
	if t != "" {
		end = t[:7]
	}
	if f != "" && t != "" && full >= end {
		return [][2]string{{d + f, d + t}}
	}
	out := [][2]string{{m + full, m + end}}
	if t == "" {
		out[0][1] = keyspace.End(m)
	}
	if f != "" && f[8:] != "01" {
		out = append(out, [2]string{d + f, d + full + "-01"})
	}
	if t != "" && t[8:] != "01" {
		out = append(out, [2]string{d + end + "-01", d + t})
	}
	return out
}

// nextMonth answers the month after m (YYYY-MM).
func nextMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.AddDate(0, 1, 0).Format("2006-01")
}

// eachTallyRegion calls fn with region, or (subtree) with every region at
// or below it that holds a tally, in code order: one seek a region.
func eachTallyRegion(r crm.Reader, region string, subtree bool, fn func(reg string) error) error {
	if !subtree {
		return fn(region)
	}
	return crm.EachOwner(r, keyspace.TallyPrefix, region, fn)
}

// readTallies calls fn with each tally of reg in the period under base:
// its field, person ("" for the region's) and value.
func readTallies(r crm.Reader, reg, base string, per Period, fn func(field, person string, v float64)) error {
	p := keyspace.TalliesOf(reg)
	for _, rg := range periodRanges(base, per) {
		if err := crm.IterateCounters(r, []byte(p+rg[0]), []byte(p+rg[1]), func(k, v []byte) bool {
			if len(v) != 8 {
				return true
			}
			name := string(k[len(p)+len(base)+2:]) // past "m." or "d."
			_, rest, ok := strings.Cut(name, ".")  // past the period
			if !ok {
				return true
			}
			field, person, _ := strings.Cut(rest, "@")
			fn(field, person, math.Float64frombits(binary.BigEndian.Uint64(v)))
			return true
		}); err != nil {
			return err
		}
	}
	return nil
}

// readTally answers the tally name of reg (0 when it has none), and calls
// fn with those of its persons (name@<person>).
func readTally(r crm.Reader, reg, name string, fn func(person string, v float64)) (float64, error) {
	p := keyspace.TalliesOf(reg) + name
	total := 0.0
	err := crm.IterateCounters(r, []byte(p), []byte(p+"A"), func(k, v []byte) bool { // '@' sorts before 'A'
		if len(v) != 8 {
			return true
		}
		x := math.Float64frombits(binary.BigEndian.Uint64(v))
		switch rest := string(k[len(p):]); {
		case rest == "":
			total = x
		case rest[0] == '@':
			fn(rest[1:], x)
		}
		return true
	})
	return total, err
}

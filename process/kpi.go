package process

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"time"

	"gridcrm/crm"

	"gridcrm/crm/workday"
	"gridcrm/store/keyspace"
	"gridcrm/tiers"
)

// Process counters kept in the aggregates (a/<region>/<metric>), changed in
// the same batch as every write of a project, work order or outage, so ops
// can export them without scanning. They count what is decided by the
// records alone; what depends on the clock is read with the clock: which
// stages are overdue now is listed by Supervise at read time, and how many
// are overdue now is added up from counters keyed by the day each falls
// due (projects.stages_due.<day>, ClockFiguresOf in overview.go).
//
//	projects.status.<open|energised|cancelled>   projects by status
//	projects.stages_late                          stages completed after their deadline
//	projects.energised_on_time                    energised projects with no late stage
//	work_orders.kind.<kind>                       work orders received, by kind
//	work_orders.open.kind.<kind>                  work orders not archived, by kind
//	work_orders.open.state.<state>                work orders not archived, by state
//	work_orders.open.state_kind.<state>.<kind>    work orders not archived, by state and kind jointly
//	work_orders.send_backs                        send-backs (回退) so far
//	work_orders.dissatisfied                      revisits that found the customer dissatisfied
//	projects.stages_due.<YYYY-MM-DD>              open projects' current stages on the clock, by the
//	                                              CST day from which they are overdue (StageDueDay)
//	projects.stages_no_deadline                   current stages whose clock stopped (clock_error)
//	outages.type.<planned|temporary|fault>        outages by type
//	outages.started.type.<type>.<YYYY-MM>         outages not cancelled, by type and CST month of start
//	outages.notice.<compliant|noncompliant>       planned and temporary outages by notice compliance
func processCounters(coll string) func(raw []byte) (string, map[string]float64) {
	return func(raw []byte) (string, map[string]float64) { return processMetrics(coll, raw) }
}

func processMetrics(coll string, raw []byte) (string, map[string]float64) {
	m := map[string]float64{}
	switch coll {
	case "projects":
		var p Project
		if json.Unmarshal(raw, &p) != nil {
			return "", nil
		}
		m["projects.status."+p.Status] = 1
		late := 0
		for _, s := range p.Stages {
			if s.Late {
				late++
			}
		}
		if late > 0 {
			m["projects.stages_late"] = float64(late)
		}
		if p.Status == ProjectEnergised && late == 0 {
			m["projects.energised_on_time"] = 1
		}
		if p.Status == ProjectOpen { // the current stage, on the clock: overdue from its due day (overview.go)
			if i := p.Current(); i >= 0 {
				st := p.Stages[i]
				switch n := len(st.Pauses); {
				case n > 0 && st.Pauses[n-1].To == nil: // off the clock
				case st.Deadline != nil:
					m["projects.stages_due."+StageDueDay(*st.Deadline)] = 1
				case p.ClockError != "":
					m["projects.stages_no_deadline"] = 1
				}
			}
		}
		projectMarketMetrics(&p, m) // the capacity energised, by month, which crm/market.go reads
		return p.Owner, m
	case "work_orders":
		w, err := woJSON(raw)
		if err != nil {
			return "", nil
		}
		m["work_orders.kind."+w.Kind] = 1
		if w.Open() {
			m["work_orders.open.kind."+w.Kind] = 1
			m["work_orders.open.state."+w.State] = 1
			m["work_orders.open.state_kind."+w.State+"."+w.Kind] = 1
		}
		if w.SendBacks > 0 {
			m["work_orders.send_backs"] = float64(w.SendBacks)
		}
		if w.Satisfaction == "dissatisfied" {
			m["work_orders.dissatisfied"] = 1
		}
		return w.Owner, m
	default:
		var o Outage
		if json.Unmarshal(raw, &o) != nil {
			return "", nil
		}
		m["outages.type."+o.Type] = 1
		if o.Status != "cancelled" && !o.Start.IsZero() { // by the month it starts in (overview.go)
			m["outages.started.type."+o.Type+"."+o.Start.In(workday.CST).Format("2006-01")] = 1
		}
		if o.NoticeCompliant != nil {
			if *o.NoticeCompliant {
				m["outages.notice.compliant"] = 1
			} else {
				m["outages.notice.noncompliant"] = 1
			}
		}
		return o.Owner, m
	}
}

// ProcessCounters sums the process counters of region (subtree: and every
// region below it) by metric name.
func ProcessCounters(r crm.Reader, region string, subtree bool) (map[string]float64, error) {
	out := map[string]float64{}
	prefix := keyspace.AggregatesOf(region)
	if subtree {
		prefix = keyspace.AggregatePrefix + region
	}
	err := crm.IterateCounters(r, []byte(prefix), []byte(keyspace.End(prefix)), func(k, v []byte) bool {
		reg, metric, ok := strings.Cut(string(k[2:]), "/")
		if !ok || len(v) != 8 || !subtree && reg != region {
			return true
		}
		if strings.HasPrefix(metric, "projects.") || strings.HasPrefix(metric, "work_orders.") || strings.HasPrefix(metric, "outages.") {
			out[metric] += math.Float64frombits(binary.BigEndian.Uint64(v))
		}
		return true
	})
	return out, err
}

// projectMarketMetrics adds an energised project's capacity counters to m
// (mkt.cap.*: crm/market.go reads them with the other market counters).
func projectMarketMetrics(p *Project, m map[string]float64) {
	if p.Status != ProjectEnergised || p.EnergisedAt == nil || p.CapacityKVA <= 0 {
		return
	}
	class := p.Class
	if class == "" {
		class = "unknown"
	}
	k := "." + p.Kind + "." + class + "." + p.EnergisedAt.In(workday.CST).Format("2006-01")
	m["mkt.cap.kva"+k] = p.CapacityKVA
	m["mkt.cap.projects"+k] = 1
}

// OpenIndex indexes the open projects and work orders by owner
// (x/<coll>/_open/<owner>\x00<id>, kept by Apply and ApplyReplica with the
// other indexes), so Supervise reads what is open, a number bounded by the
// work in hand, not every project and work order a subtree ever had.
const OpenIndex = "_open"

// eachOpenRecord calls fn with every open record of coll (projects or
// work_orders) owned by region (subtree: or below), through OpenIndex. A
// store written before the index existed holds fewer entries than its
// counters count open (projects.status.open, work_orders.open.kind.*):
// then it reads every record as before (EachRecord), and fn skips what is
// closed.
func eachOpenRecord(r crm.Reader, coll, region string, subtree bool, counters map[string]float64, fn func(raw []byte) error) error {
	var ids []string
	if err := indexedIDs(r, keyspace.IndexField(coll, OpenIndex)+region, subtree, nil, &ids); err != nil {
		return err
	}
	open := 0.0
	for m, v := range counters {
		if coll == "projects" && m == "projects.status."+ProjectOpen || coll == "work_orders" && strings.HasPrefix(m, "work_orders.open.kind.") {
			open += v
		}
	}
	if float64(len(ids)) < math.Round(open) {
		return EachRecord(r, coll, region, subtree, fn)
	}
	sort.Strings(ids) // one pass over the records (Supervise orders what it lists itself)
	return eachID(r, coll, ids, fn)
}

// indexedIDs appends to ids the record ids of the index entries under
// prefix (subtree: every owner the prefix's region begins; else that region
// alone), skipping and adding to seen when it is not nil.
func indexedIDs(r crm.Reader, prefix string, subtree bool, seen map[string]bool, ids *[]string) error {
	if !subtree {
		prefix += "\x00"
	}
	return r.Iterate([]byte(prefix), []byte(keyspace.End(prefix)), func(k, _ []byte) bool {
		if _, id, ok := strings.Cut(string(k), "\x00"); ok && (seen == nil || !seen[id]) {
			if seen != nil {
				seen[id] = true
			}
			*ids = append(*ids, id)
		}
		return true
	})
}

// sortedGetter is a Reader that reads many keys in ascending order in one
// pass (replication.StateReader).
type sortedGetter interface {
	GetSorted(keys [][]byte, fn func(i int, v []byte) error) error
}

// eachID calls fn with the record of coll of each id that exists, in the
// order of ids (ascending ids: in one pass when r can).
func eachID(r crm.Reader, coll string, ids []string, fn func(raw []byte) error) error {
	if sg, ok := r.(sortedGetter); ok && len(ids) > 1 && sort.StringsAreSorted(ids) {
		keys := make([][]byte, len(ids))
		for i, id := range ids {
			keys[i] = recordKey(coll, id)
		}
		return sg.GetSorted(keys, func(_ int, raw []byte) error {
			if raw == nil {
				return nil
			}
			return fn(raw)
		})
	}
	for _, id := range ids {
		raw, err := r.Get(recordKey(coll, id))
		if err != nil {
			return err
		}
		if raw != nil {
			if err := fn(raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// PeriodIndex indexes projects, work orders and outages by the CST months
// in which a period's KPIs count them (x/<coll>/_month/<YYYY-MM>/<owner>\x00<id>:
// a project's acceptance, energisation and late stages, an order's
// receipt, an outage's start), so the KPIs of a period read the records of
// its months, not every record a subtree ever had.
const PeriodIndex = "_month"

// appendMonthIndexes adds owner's PeriodIndex entries of the months of ts.
func appendMonthIndexes(idx []crm.Index, owner string, ts ...time.Time) []crm.Index {
	seen := make(map[string]bool, len(ts))
	for _, t := range ts {
		if t.IsZero() {
			continue
		}
		if m := crm.MonthOf(t); !seen[m] {
			seen[m] = true
			idx = append(idx, crm.Index{Field: PeriodIndex, Value: m + "/" + owner})
		}
	}
	return idx
}

// kpiByIndex: the KPIs read through PeriodIndex (tests compare with a read
// of every record).
var kpiByIndex = true

// periodHorizon is how far past now an open-ended period's months are read
// (an outage may be planned ahead).
const periodHorizon = 24

// eachPeriodRecord calls fn with every record of coll owned by region
// (subtree: or below) that PeriodIndex files under a month of per (once
// each), and, with open, every open one (OpenIndex). A period with no
// start reads every record (EachRecord).
func eachPeriodRecord(r crm.Reader, coll, region string, subtree bool, per Period, now time.Time, open bool, fn func(raw []byte) error) error {
	if per.From == "" || !kpiByIndex {
		return EachRecord(r, coll, region, subtree, fn)
	}
	from, _ := time.ParseInLocation(time.DateOnly, string(per.From), workday.CST)
	to := now.In(workday.CST).AddDate(0, periodHorizon, 0)
	if per.To != "" {
		t, _ := time.ParseInLocation(time.DateOnly, string(per.To), workday.CST)
		to = t.Add(-time.Nanosecond)
	}
	seen := map[string]bool{}
	var ids []string
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, workday.CST); !m.After(to); m = m.AddDate(0, 1, 0) {
		if err := indexedIDs(r, keyspace.IndexField(coll, PeriodIndex)+m.Format("2006-01")+"/"+region, subtree, seen, &ids); err != nil {
			return err
		}
	}
	if open {
		if err := indexedIDs(r, keyspace.IndexField(coll, OpenIndex)+region, subtree, seen, &ids); err != nil {
			return err
		}
	}
	sort.Strings(ids)
	return eachID(r, coll, ids, fn)
}

// EachRecord calls fn with every record of coll owned by region (subtree:
// or below it), in owner then id order.
func EachRecord(r crm.Reader, coll, region string, subtree bool, fn func(raw []byte) error) error {
	var ids []string
	if err := indexedIDs(r, keyspace.IndexField(coll, crm.OwnerIndex)+region, subtree, nil, &ids); err != nil {
		return err
	}
	return eachID(r, coll, ids, fn)
}

// tierRank orders the tiers for escalation: county, city, province;
// anything else ranks with the county ("all" on OnList: every level).
var tierRank = map[tiers.Tier]int{tiers.County: 0, tiers.City: 1, tiers.Province: 2}

// Escalate answers the highest tier whose supervision list holds an item
// owned by region that is overdue by the given working days: the owner's
// own tier at once, the city's from CityAfter, the province's from
// ProvinceAfter (never below the owner's tier).
func Escalate(e Escalation, owner string, overdueWD int) tiers.Tier {
	level := tiers.County
	switch {
	case overdueWD >= e.ProvinceAfter:
		level = tiers.Province
	case overdueWD >= e.CityAfter:
		level = tiers.City
	}
	if own := tiers.RegionCode(owner).Tier(); tierRank[own] > tierRank[level] {
		level = own
	}
	return level
}

// Item is one entry of a supervision list or a warning list.
type Item struct {
	Type        string     `json:"type"` // project_stage or work_order
	ID          string     `json:"id"`
	Region      string     `json:"region"`
	CustomerID  string     `json:"customer_id,omitempty"`
	Step        string     `json:"step"` // the stage, or the SLA: contact, arrival, restore, answer
	Kind        string     `json:"kind,omitempty"`
	Deadline    time.Time  `json:"deadline,omitzero"` // absent when it cannot be counted (see Note)
	WorkingDays int        `json:"working_days"`      // overdue by (supervision) or left (warnings)
	Level       tiers.Tier `json:"level,omitempty"`
	ManagerID   string     `json:"manager_id,omitempty"`
	Responsible string     `json:"responsible,omitempty"`
	RuleSet     string     `json:"rule_set"`
	Note        string     `json:"note,omitempty"`
}

// supervisor caches rule sets, calendars and working-day counts over one
// read.
type supervisor struct {
	r      crm.Reader
	rs     map[string]*RuleSet
	cals   map[string]*workday.Calendar
	counts map[*workday.Calendar]*dayCounts
}

func newSupervisor(r crm.Reader) *supervisor {
	return &supervisor{r: r, rs: map[string]*RuleSet{}, cals: map[string]*workday.Calendar{}, counts: map[*workday.Calendar]*dayCounts{}}
}

// dayCounts counts the working days of one calendar between now's day and
// the days around it, once per read: back[k] is the working days among the
// k days that end with now's day, fwd[k] among the k days after it. An
// item's working days overdue or left are then one lookup instead of a
// walk over the days between its deadline and now (a year overdue: 365
// calendar lookups per item).
type dayCounts struct {
	cal       *workday.Calendar
	now       time.Time // midnight CST of now's day
	back, fwd []int
}

// maxCountedDays bounds the days counted ahead or back (beyond: the
// calendar walks them).
const maxCountedDays = 20000

func (s *supervisor) dayCounts(cal *workday.Calendar, now time.Time) *dayCounts {
	d := s.counts[cal]
	if d == nil {
		d = &dayCounts{cal: cal, now: cstDay(now), back: []int{0}, fwd: []int{0}}
		s.counts[cal] = d
	}
	return d
}

// between answers cal.WorkingDaysBetween(a, b) when one of a and b is in
// now's day: the working days after a's day up to b's day included.
func (d *dayCounts) between(a, b time.Time) (int, error) {
	da, db := cstDay(a), cstDay(b)
	if !da.Before(db) {
		return 0, nil
	}
	k := int(db.Sub(da).Hours()/24 + 0.5) // CST keeps no summer time: days of 24 hours
	counts, step := &d.fwd, 1
	switch {
	case da.Equal(d.now):
	case db.Equal(d.now):
		counts, step = &d.back, -1
	default:
		return d.cal.WorkingDaysBetween(a, b)
	}
	if k > maxCountedDays {
		return d.cal.WorkingDaysBetween(a, b)
	}
	for len(*counts) <= k {
		n := len(*counts) // the day counted: now's day + n (fwd) or - (n-1) (back)
		day := d.now.AddDate(0, 0, n)
		if step < 0 {
			day = d.now.AddDate(0, 0, -(n - 1))
		}
		ok, err := d.cal.IsWorkingDay(day)
		if err != nil { // the calendar's own walk, for its own error
			return d.cal.WorkingDaysBetween(a, b)
		}
		c := (*counts)[n-1]
		if ok {
			c++
		}
		*counts = append(*counts, c)
	}
	return (*counts)[k], nil
}

// overdueBy is overdueBy with the read's counts of cal (cstDay,
// overview.go: midnight CST, as the calendar counts days).
func (s *supervisor) overdueBy(cal *workday.Calendar, deadline, now time.Time) (int, string) {
	n, err := s.dayCounts(cal, now).between(deadline.Add(-time.Nanosecond), now)
	if err != nil {
		return 0, err.Error()
	}
	return n, ""
}

func (s *supervisor) ruleSet(id string) *RuleSet {
	if rs, ok := s.rs[id]; ok {
		return rs
	}
	rs, e := RuleSetByID(s.r, id)
	if e != nil {
		rs = &BuiltinRuleSets[len(BuiltinRuleSets)-1]
	}
	s.rs[id] = rs
	return rs
}

func (s *supervisor) calendar(region string) *workday.Calendar {
	if c, ok := s.cals[region]; ok {
		return c
	}
	c, err := CalendarFor(s.r, region)
	if err != nil {
		c = workday.Default()
	}
	s.cals[region] = c
	return c
}

// overdueBy counts the working days that began after the deadline's
// last moment, up to now's day: a limit that ended at midnight is 1 working
// day overdue the next working morning; one that ended at 15:00 is 0 days
// overdue (but overdue) until the next working day.
func overdueBy(cal *workday.Calendar, deadline, now time.Time) (int, string) {
	n, err := cal.WorkingDaysBetween(deadline.Add(-time.Nanosecond), now)
	if err != nil {
		return 0, err.Error()
	}
	return n, ""
}

// Lists is the answer of Supervise.
type Lists struct {
	Overdue  []Item `json:"overdue"`
	Warnings []Item `json:"warnings"`
}

// Supervise lists, at time now, what is overdue in region (subtree: and
// below) — project stages past their deadline (not paused) and work-order
// SLAs breached — each with the tier it has escalated to, and the project
// stages about to fall due (within the rule set's warn_working_days) for
// their account managers.
func Supervise(r crm.Reader, region string, subtree bool, now time.Time) (Lists, error) {
	s := newSupervisor(r)
	out := Lists{Overdue: []Item{}, Warnings: []Item{}}
	counters, err := ProcessCounters(r, region, subtree)
	if err != nil {
		return out, err
	}
	err = eachOpenRecord(r, "projects", region, subtree, counters, func(raw []byte) error {
		p, err := projectLites.decode(raw)
		if err != nil || p.Status != ProjectOpen {
			return nil
		}
		i := p.current()
		if i < 0 {
			return nil
		}
		st := p.Stages[i]
		if n := len(st.Pauses); n > 0 && st.Pauses[n-1].To == nil {
			return nil // off the clock
		}
		rs, cal := s.ruleSet(p.RuleSet), s.calendar(p.Owner)
		it := Item{Type: "project_stage", ID: p.ID, Region: p.Owner, CustomerID: p.CustomerID, Step: st.Name, Kind: p.Class,
			ManagerID: p.ManagerID, Responsible: st.Responsible, RuleSet: p.RuleSet}
		if st.Deadline == nil {
			if p.ClockError != "" {
				it.Note = p.ClockError
				it.Level = tiers.RegionCode(p.Owner).Tier()
				out.Overdue = append(out.Overdue, it) // flagged: its deadline cannot be counted
			}
			return nil
		}
		it.Deadline = *st.Deadline
		if now.Before(*st.Deadline) {
			left, err := s.dayCounts(cal, now).between(now, st.Deadline.Add(-time.Nanosecond))
			if err == nil && left <= rs.WarnWorkingDays {
				it.WorkingDays = left
				out.Warnings = append(out.Warnings, it)
			}
			return nil
		}
		it.WorkingDays, it.Note = s.overdueBy(cal, *st.Deadline, now)
		it.Level = Escalate(rs.Escalation, p.Owner, it.WorkingDays)
		out.Overdue = append(out.Overdue, it)
		return nil
	})
	if err != nil {
		return out, err
	}
	err = eachOpenRecord(r, "work_orders", region, subtree, counters, func(raw []byte) error {
		w, err := woLiteJSON(raw)
		if err != nil || !w.Open() {
			return nil
		}
		rs, cal := s.ruleSet(w.RuleSet), s.calendar(w.Owner)
		for _, c := range []struct {
			step string
			due  *time.Time
			met  bool
		}{
			{"contact", w.ContactDue, w.AcceptedAt != nil},
			{"arrival", w.ArrivalDue, w.ArrivedAt != nil},
			{"restore", w.RestoreDue, w.DoneAt != nil},
			{"answer", w.AnswerDue, w.DoneAt != nil},
		} {
			if c.due == nil || c.met || now.Before(*c.due) {
				continue
			}
			it := Item{Type: "work_order", ID: w.ID, Region: w.Owner, CustomerID: w.CustomerID, Step: c.step, Kind: w.Kind,
				Deadline: *c.due, Responsible: w.AssigneeID, RuleSet: w.RuleSet}
			it.WorkingDays, it.Note = s.overdueBy(cal, *c.due, now)
			it.Level = Escalate(rs.Escalation, w.Owner, it.WorkingDays)
			out.Overdue = append(out.Overdue, it)
		}
		return nil
	})
	sortItems(out.Overdue)
	sortItems(out.Warnings)
	return out, err
}

// superProject is the part of a Project that Supervise reads: decoding
// it skips the fields it does not need (kpi_lite_test.go checks that it
// decodes as Project does).
type superProject struct {
	ID         string `json:"id"`
	Owner      string `json:"owner"`
	CustomerID string `json:"customer_id"`
	ManagerID  string `json:"manager_id"`
	Class      string `json:"class"`
	RuleSet    string `json:"rule_set"`
	Status     string `json:"status"`
	ClockError string `json:"clock_error"`
	Stages     []struct {
		Name        string     `json:"name"`
		Responsible string     `json:"responsible"`
		Deadline    *time.Time `json:"deadline"`
		DoneAt      *time.Time `json:"done_at"`
		Pauses      []struct {
			To *time.Time `json:"to"`
		} `json:"pauses"`
	} `json:"stages"`
}

// current is Project.Current.
func (p *superProject) current() int {
	for i, s := range p.Stages {
		if s.DoneAt == nil {
			return i
		}
	}
	return -1
}

// woLite is the part of a WorkOrder that Supervise and WorkOrderKPIsOf
// read (not its history, subject or description).
type woLite struct {
	ID           string     `json:"id"`
	Owner        string     `json:"owner"`
	Channel      string     `json:"channel"`
	Kind         string     `json:"kind"`
	CustomerID   string     `json:"customer_id"`
	ReceivedAt   time.Time  `json:"received_at"`
	AssigneeID   string     `json:"assignee_id"`
	State        string     `json:"state"`
	RuleSet      string     `json:"rule_set"`
	ContactDue   *time.Time `json:"contact_due"`
	ArrivalDue   *time.Time `json:"arrival_due"`
	RestoreDue   *time.Time `json:"restore_due"`
	AnswerDue    *time.Time `json:"answer_due"`
	AcceptedAt   *time.Time `json:"accepted_at"`
	ArrivedAt    *time.Time `json:"arrived_at"`
	DoneAt       *time.Time `json:"done_at"`
	Satisfaction string     `json:"satisfaction"`
	SendBacks    int        `json:"send_backs"`
}

// Open is WorkOrder.Open.
func (w *woLite) Open() bool { return w.State != WOArchived }

// woLiteJSON decodes raw into a woLite, through woLites (kpi_decode.go):
// callers must not change it.
func woLiteJSON(raw []byte) (*woLite, error) { return woLites.decode(raw) }

func sortItems(items []Item) {
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].Deadline.Equal(items[j].Deadline) {
			return items[i].Deadline.Before(items[j].Deadline)
		}
		return items[i].ID+items[i].Step < items[j].ID+items[j].Step
	})
}

// OnList filters overdue items to those on the supervision list of a tier:
// escalated to it or above.
func OnList(items []Item, tier tiers.Tier) []Item {
	out := []Item{}
	for _, it := range items {
		if tierRank[it.Level] >= tierRank[tier] {
			out = append(out, it)
		}
	}
	return out
}

// Period is a half-open range of days [From, To); empty ends are open.
type Period struct{ From, To crm.Date }

func (p Period) holds(t time.Time) bool {
	d := dayOf(t)
	return (p.From == "" || d >= p.From) && (p.To == "" || d < p.To)
}

// ProjectKPI is the connection-project KPI of one group (a region, a
// manager, or all).
type ProjectKPI struct {
	Accepted         int      `json:"accepted"`  // accepted in the period
	Energised        int      `json:"energised"` // energised in the period
	OnTime           int      `json:"on_time"`   // of those, every stage within its limit (达标)
	OnTimeRate       *float64 `json:"on_time_rate"`
	CycleDaysMean    *float64 `json:"cycle_days_mean"` // calendar days, acceptance to energisation
	CycleDaysP90     *float64 `json:"cycle_days_p90"`
	CycleWorkDaysAvg *float64 `json:"cycle_working_days_mean"`
	Open             int      `json:"open"`
	OverdueNow       int      `json:"overdue_now"` // open projects whose current stage is past its deadline
	LateStages       int      `json:"late_stages"` // stages done late in the period
	cycles, wcycles  []float64
}

// ProjectKPIs is the answer of ProjectKPIsOf.
type ProjectKPIs struct {
	Total     *ProjectKPI            `json:"total"`
	ByRegion  map[string]*ProjectKPI `json:"by_region"`
	ByManager map[string]*ProjectKPI `json:"by_manager"`
}

// ProjectKPIsOf computes the connection-project KPIs of region (subtree:
// and below) for a period at time now.
func ProjectKPIsOf(r crm.Reader, region string, subtree bool, per Period, now time.Time) (ProjectKPIs, error) {
	s := newSupervisor(r)
	out := ProjectKPIs{Total: &ProjectKPI{}, ByRegion: map[string]*ProjectKPI{}, ByManager: map[string]*ProjectKPI{}}
	err := eachPeriodRecord(r, "projects", region, subtree, per, now, true, func(raw []byte) error {
		var p Project
		if json.Unmarshal(raw, &p) != nil {
			return nil
		}
		groups := []*ProjectKPI{out.Total, group(out.ByRegion, p.Owner)}
		if p.ManagerID != "" {
			groups = append(groups, group(out.ByManager, p.ManagerID))
		}
		cal := s.calendar(p.Owner)
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
				g.cycles = append(g.cycles, p.EnergisedAt.Sub(p.AcceptedAt).Hours()/24)
				if n, err := cal.WorkingDaysBetween(p.AcceptedAt, *p.EnergisedAt); err == nil {
					g.wcycles = append(g.wcycles, float64(n))
				}
			}
		}
		return nil
	})
	for _, g := range append(append([]*ProjectKPI{out.Total}, values(out.ByRegion)...), values(out.ByManager)...) {
		g.finish()
	}
	return out, err
}

func group[T any](m map[string]*T, k string) *T {
	if g, ok := m[k]; ok {
		return g
	}
	g := new(T)
	m[k] = g
	return g
}

func values[T any](m map[string]*T) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func ratio(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	v := math.Round(float64(a)/float64(b)*10000) / 10000
	return &v
}

func (g *ProjectKPI) finish() {
	g.OnTimeRate = ratio(g.OnTime, g.Energised)
	if len(g.cycles) > 0 {
		m, p := Mean(g.cycles), Quantile(g.cycles, 0.9)
		m, p = math.Round(m*10)/10, math.Round(p*10)/10
		g.CycleDaysMean, g.CycleDaysP90 = &m, &p
	}
	if len(g.wcycles) > 0 {
		m := math.Round(Mean(g.wcycles)*10) / 10
		g.CycleWorkDaysAvg = &m
	}
}

// Mean is the arithmetic mean of xs (0 for none).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Quantile is the q-quantile of xs by the nearest-rank method.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// WorkOrderKPI is the work-order KPI of one group.
type WorkOrderKPI struct {
	Received         int            `json:"received"` // received in the period
	ByKind           map[string]int `json:"by_kind"`
	ByChannel        map[string]int `json:"by_channel"`
	Open             int            `json:"open"`
	Archived         int            `json:"archived"`
	OverdueNow       int            `json:"overdue_now"` // open orders with a breached SLA now
	AnswerOnTime     int            `json:"answer_on_time"`
	AnswerDue        int            `json:"answer_due"` // orders whose answer limit has passed or that are done
	AnswerOnTimeRate *float64       `json:"answer_on_time_rate"`
	ContactOnTime    int            `json:"contact_on_time"`
	ContactDue       int            `json:"contact_due"`
	ArrivalOnTime    int            `json:"arrival_on_time"`
	ArrivalDue       int            `json:"arrival_due"`
	Revisited        int            `json:"revisited"`
	Satisfied        int            `json:"satisfied"` // satisfied or basically satisfied
	SatisfactionRate *float64       `json:"satisfaction_rate"`
	SendBacks        int            `json:"send_backs"`
}

// WorkOrderKPIs is the answer of WorkOrderKPIsOf.
type WorkOrderKPIs struct {
	Total      *WorkOrderKPI            `json:"total"`
	ByRegion   map[string]*WorkOrderKPI `json:"by_region"`
	ByAssignee map[string]*WorkOrderKPI `json:"by_assignee"`
}

// WorkOrderKPIsOf computes the work-order KPIs of orders received in the
// period in region (subtree: and below) at time now.
func WorkOrderKPIsOf(r crm.Reader, region string, subtree bool, per Period, now time.Time) (WorkOrderKPIs, error) {
	out := WorkOrderKPIs{Total: newWOKPI(), ByRegion: map[string]*WorkOrderKPI{}, ByAssignee: map[string]*WorkOrderKPI{}}
	err := eachPeriodRecord(r, "work_orders", region, subtree, per, now, false, func(raw []byte) error {
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

func newWOKPI() *WorkOrderKPI {
	return &WorkOrderKPI{ByKind: map[string]int{}, ByChannel: map[string]int{}}
}

func woGroup(m map[string]*WorkOrderKPI, k string) *WorkOrderKPI {
	if g, ok := m[k]; ok {
		return g
	}
	g := newWOKPI()
	m[k] = g
	return g
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// OutageKPI is the outage KPI of one region.
type OutageKPI struct {
	Outages        int            `json:"outages"` // starting in the period
	ByType         map[string]int `json:"by_type"`
	NoticeRequired int            `json:"notice_required"` // planned and temporary
	NoticeOnTime   int            `json:"notice_on_time"`
	ComplianceRate *float64       `json:"compliance_rate"`
	NonCompliant   []string       `json:"non_compliant"` // ids
}

// OutageKPIs is the answer of OutageKPIsOf.
type OutageKPIs struct {
	Total    *OutageKPI            `json:"total"`
	ByRegion map[string]*OutageKPI `json:"by_region"`
}

// OutageKPIsOf reports the notice compliance of outages starting in the
// period in region (subtree: and below).
func OutageKPIsOf(r crm.Reader, region string, subtree bool, per Period) (OutageKPIs, error) {
	newK := func() *OutageKPI { return &OutageKPI{ByType: map[string]int{}, NonCompliant: []string{}} }
	out := OutageKPIs{Total: newK(), ByRegion: map[string]*OutageKPI{}}
	err := eachPeriodRecord(r, "outages", region, subtree, per, time.Now(), false, func(raw []byte) error {
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

// AffectedCustomers lists the customers of region (subtree: and below) an
// outage reaches: on its feeder and, when it names one, in its transformer
// area.
func AffectedCustomers(r crm.Reader, o *Outage) ([]crm.Customer, error) {
	all, e := crm.ByIndex[crm.Customer](r, "customers", "feeder", o.Feeder)
	if e != nil {
		return nil, e
	}
	out := []crm.Customer{}
	for _, c := range all {
		if crm.InRegion(c.Region, o.Region) && (o.TransformerArea == "" || c.TransformerArea == o.TransformerArea) {
			out = append(out, c)
		}
	}
	return out, nil
}

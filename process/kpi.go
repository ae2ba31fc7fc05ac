package process

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
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
		projectTallies(&p, m)       // kpi_tally.go
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
		workOrderTallies(w, m)
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
		outageTallies(&o, m)
		return o.Owner, m
	}
}

// ProcessCounters sums the process counters of region (subtree: and every
// region below it) by metric name.
func ProcessCounters(r crm.Reader, region string, subtree bool) (map[string]float64, error) {
	out := map[string]float64{}
	for _, prefix := range []string{"projects.", "work_orders.", "outages."} { // from the subtree totals where kept
		if _, err := crm.SumCounters(r, region, subtree, prefix, func(_, rest string, v float64) bool {
			out[prefix+rest] += v
			return true
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
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

// NonCompliantIndex indexes the outages whose notice was not compliant
// (x/outages/_noncompliant/<owner>/<start day>\x00<id>, not cancelled),
// so a period's KPIs list them from the entries of its days.
const NonCompliantIndex = "_noncompliant"

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
	warn   int // maxWarn, once read (-1 before)
}

func newSupervisor(r crm.Reader) *supervisor {
	return &supervisor{r: r, rs: map[string]*RuleSet{}, cals: map[string]*workday.Calendar{}, counts: map[*workday.Calendar]*dayCounts{}, warn: -1}
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
// their account managers. It reads the open items by deadline (DueIndex):
// those due by now, and the projects' due within the most working days any
// rule set warns ahead (maxWarn).
func Supervise(r crm.Reader, region string, subtree bool, now time.Time) (Lists, error) {
	s := newSupervisor(r)
	out := Lists{Overdue: []Item{}, Warnings: []Item{}}
	var ids []string
	upto := func(owner string) string { // the last deadline a warning may have ("": every one, when the calendar cannot count ahead)
		if d, err := s.calendar(owner).Deadline(now, s.maxWarn()+1); err == nil {
			return dueKey(d)
		}
		return ""
	}
	err := eachDue(r, "projects", region, subtree, upto, func(e dueEntry) error {
		ids = append(ids, e.id)
		return nil
	})
	if err != nil {
		return out, err
	}
	sort.Strings(ids)
	err = eachID(r, "projects", ids, func(raw []byte) error { return s.project(raw, now, &out) })
	if err != nil {
		return out, err
	}
	ids, seen := ids[:0], map[string]bool{}
	if err := eachDue(r, "work_orders", region, subtree, until(dueKey(now)), func(e dueEntry) error {
		if e.rest[1] == "o" && !seen[e.id] { // open
			seen[e.id] = true
			ids = append(ids, e.id)
		}
		return nil
	}); err != nil {
		return out, err
	}
	sort.Strings(ids)
	err = eachID(r, "work_orders", ids, func(raw []byte) error { return s.workOrder(raw, now, &out) })
	sortItems(out.Overdue)
	sortItems(out.Warnings)
	return out, err
}

// project adds to out what the project in raw puts on the lists at now:
// its current stage if overdue (or its clock stopped), or due within its
// rule set's warn_working_days.
func (s *supervisor) project(raw []byte, now time.Time, out *Lists) error {
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
}

// workOrder adds to out the limits of the open work order in raw that are
// breached at now.
func (s *supervisor) workOrder(raw []byte, now time.Time, out *Lists) error {
	w, err := woLiteJSON(raw)
	if err != nil || !w.Open() {
		return nil
	}
	rs, cal := s.ruleSet(w.RuleSet), s.calendar(w.Owner)
	for _, c := range woSteps(w.ContactDue, w.ArrivalDue, w.RestoreDue, w.AnswerDue, w.AcceptedAt, w.ArrivedAt, w.DoneAt) {
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
}

// maxWarn answers the most warn_working_days of the shipped rule sets and
// of the rule_set directives the reader holds (30, the most one may have,
// when they cannot be read): Supervise reads the projects due within it.
func (s *supervisor) maxWarn() int {
	if s.warn >= 0 {
		return s.warn
	}
	s.warn = 0
	for _, rs := range BuiltinRuleSets {
		s.warn = max(s.warn, rs.WarnWorkingDays)
	}
	ds, e := crm.ByIndex[crm.Directive](s.r, "directives", "kind", "rule_set")
	if e != nil {
		s.warn = maxWarnWorkingDays
		return s.warn
	}
	for _, d := range ds {
		if rs, e := decodeRuleSet(d.Body, d.EffectiveFrom); e == nil {
			s.warn = max(s.warn, rs.WarnWorkingDays)
		}
	}
	return s.warn
}

// maxWarnWorkingDays is the most warn_working_days a rule set may have
// (rules.go).
const maxWarnWorkingDays = 30

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
	cycleSum         float64  // seconds
	wcycleSum        float64  // working days
	wcycleN          int
}

// ProjectKPIs is the answer of ProjectKPIsOf.
type ProjectKPIs struct {
	Total     *ProjectKPI            `json:"total"`
	ByRegion  map[string]*ProjectKPI `json:"by_region"`
	ByManager map[string]*ProjectKPI `json:"by_manager"`
}

// ProjectKPIsOf computes the connection-project KPIs of region (subtree:
// and below) for a period at time now: the period's from the tallies
// (kpi_tally.go), what is open from the tallies of the open projects, and
// what is overdue now from the open items by deadline (DueIndex).
func ProjectKPIsOf(r crm.Reader, region string, subtree bool, per Period, now time.Time) (ProjectKPIs, error) {
	out := ProjectKPIs{Total: &ProjectKPI{}, ByRegion: map[string]*ProjectKPI{}, ByManager: map[string]*ProjectKPI{}}
	hist := map[*ProjectKPI]map[int64]int{} // cycle tenths of a day → projects
	add := func(g *ProjectKPI, field string, v float64) {
		n := int(math.Round(v))
		switch {
		case field == "accepted":
			g.Accepted += n
		case field == "energised":
			g.Energised += n
		case field == "on_time":
			g.OnTime += n
		case field == "late":
			g.LateStages += n
		case field == "cycs":
			g.cycleSum += v
		case field == "wcyc":
			g.wcycleSum += v
		case field == "wcyc_n":
			g.wcycleN += n
		case strings.HasPrefix(field, "cyc."):
			if t, err := strconv.ParseInt(field[4:], 10, 64); err == nil && n > 0 {
				if hist[g] == nil {
					hist[g] = map[int64]int{}
				}
				hist[g][t] += n
			}
		}
	}
	err := eachTallyRegion(r, region, subtree, func(reg string) error {
		if err := readTallies(r, reg, tallyProjects, per, func(field, mgr string, v float64) {
			if mgr == "" {
				add(out.Total, field, v)
				add(group(out.ByRegion, reg), field, v)
			} else {
				add(group(out.ByManager, mgr), field, v)
			}
		}); err != nil {
			return err
		}
		open, err := readTally(r, reg, tallyProjects+"open", func(mgr string, v float64) {
			group(out.ByManager, mgr).Open += int(math.Round(v))
		})
		if open != 0 {
			out.Total.Open += int(math.Round(open))
			group(out.ByRegion, reg).Open += int(math.Round(open))
		}
		return err
	})
	if err != nil {
		return out, err
	}
	err = eachDue(r, "projects", region, subtree, until(dueKey(now)), func(e dueEntry) error {
		if e.due == "" { // its clock stopped: no deadline to be past
			return nil
		}
		out.Total.OverdueNow++
		group(out.ByRegion, e.owner).OverdueNow++
		if mgr := e.rest[0]; mgr != "" {
			group(out.ByManager, mgr).OverdueNow++
		}
		return nil
	})
	for _, g := range append(append([]*ProjectKPI{out.Total}, values(out.ByRegion)...), values(out.ByManager)...) {
		g.finish(hist[g])
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

// finish computes g's rates, means and p90 (hist: energised projects by
// cycle in tenths of a day).
func (g *ProjectKPI) finish(hist map[int64]int) {
	g.OnTimeRate = ratio(g.OnTime, g.Energised)
	n := 0
	for _, c := range hist {
		n += c
	}
	if n > 0 {
		m := math.Round(g.cycleSum/86400/float64(n)*10) / 10
		p := float64(histQuantile(hist, n, 0.9)) / 10
		g.CycleDaysMean, g.CycleDaysP90 = &m, &p
	}
	if g.wcycleN > 0 {
		m := math.Round(g.wcycleSum/float64(g.wcycleN)*10) / 10
		g.CycleWorkDaysAvg = &m
	}
}

// histQuantile is the q-quantile by the nearest-rank method of the n
// values counted in hist (value → count), as Quantile of the values.
func histQuantile(hist map[int64]int, n int, q float64) int64 {
	keys := make([]int64, 0, len(hist))
	for k := range hist {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	rank := max(1, min(int(math.Ceil(q*float64(n))), n))
	for _, k := range keys {
		if rank -= hist[k]; rank <= 0 {
			return k
		}
	}
	return keys[len(keys)-1]
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
// period in region (subtree: and below) at time now: what the records
// settle from the tallies (kpi_tally.go), the limits not met whose
// deadline has passed from the open items by deadline (DueIndex).
func WorkOrderKPIsOf(r crm.Reader, region string, subtree bool, per Period, now time.Time) (WorkOrderKPIs, error) {
	out := WorkOrderKPIs{Total: newWOKPI(), ByRegion: map[string]*WorkOrderKPI{}, ByAssignee: map[string]*WorkOrderKPI{}}
	add := func(g *WorkOrderKPI, field string, v float64) {
		n := int(math.Round(v))
		switch field {
		case "received":
			g.Received += n
		case "open":
			g.Open += n
		case "archived":
			g.Archived += n
		case "a_done":
			g.AnswerDue += n
		case "a_ok":
			g.AnswerOnTime += n
		case "c_done":
			g.ContactDue += n
		case "c_ok":
			g.ContactOnTime += n
		case "r_done":
			g.ArrivalDue += n
		case "r_ok":
			g.ArrivalOnTime += n
		case "revisited":
			g.Revisited += n
		case "satisfied":
			g.Satisfied += n
		case "send_backs":
			g.SendBacks += n
		default:
			if k, ok := strings.CutPrefix(field, "kind."); ok && n != 0 {
				g.ByKind[k] += n
			} else if ch, ok := strings.CutPrefix(field, "channel."); ok && n != 0 {
				g.ByChannel[ch] += n
			}
		}
	}
	err := eachTallyRegion(r, region, subtree, func(reg string) error {
		return readTallies(r, reg, tallyWorkOrders, per, func(field, who string, v float64) {
			if who == "" {
				add(out.Total, field, v)
				add(woGroup(out.ByRegion, reg), field, v)
			} else {
				add(woGroup(out.ByAssignee, who), field, v)
			}
		})
	})
	if err != nil {
		return out, err
	}
	overdue := map[string]bool{}
	err = eachDue(r, "work_orders", region, subtree, until(dueKey(now)), func(e dueEntry) error {
		step, open, day, who := e.rest[0], e.rest[1] == "o", crm.Date(e.rest[2]), e.rest[3]
		if step == "restore" || (per.From != "" && day < per.From) || (per.To != "" && day >= per.To) {
			return nil
		}
		groups := []*WorkOrderKPI{out.Total, woGroup(out.ByRegion, e.owner)}
		if who != "" {
			groups = append(groups, woGroup(out.ByAssignee, who))
		}
		late := open && !overdue[e.id]
		overdue[e.id] = true
		for _, g := range groups {
			switch step {
			case "answer":
				g.AnswerDue++
			case "contact":
				g.ContactDue++
			case "arrival":
				g.ArrivalDue++
			}
			if late {
				g.OverdueNow++
			}
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
// period in region (subtree: and below): the counts from the tallies
// (kpi_tally.go), the outages not compliant from their index
// (NonCompliantIndex).
func OutageKPIsOf(r crm.Reader, region string, subtree bool, per Period) (OutageKPIs, error) {
	newK := func() *OutageKPI { return &OutageKPI{ByType: map[string]int{}, NonCompliant: []string{}} }
	out := OutageKPIs{Total: newK(), ByRegion: map[string]*OutageKPI{}}
	err := eachTallyRegion(r, region, subtree, func(reg string) error {
		return readTallies(r, reg, tallyOutages, per, func(field, _ string, v float64) {
			n := int(math.Round(v))
			if n == 0 {
				return
			}
			g := out.ByRegion[reg]
			if g == nil {
				g = newK()
				out.ByRegion[reg] = g
			}
			for _, g := range []*OutageKPI{out.Total, g} {
				switch field {
				case "outages":
					g.Outages += n
				case "notice_required":
					g.NoticeRequired += n
				case "notice_on_time":
					g.NoticeOnTime += n
				default:
					if t, ok := strings.CutPrefix(field, "type."); ok {
						g.ByType[t] += n
					}
				}
			}
		})
	})
	if err != nil {
		return out, err
	}
	var late [][2]string // owner, id
	days := func(string) (string, string) { return string(per.From), string(per.To) }
	err = eachOwnerEntry(r, keyspace.IndexField("outages", NonCompliantIndex), region, subtree, days, func(owner, _, id string) error {
		late = append(late, [2]string{owner, id})
		return nil
	})
	sort.Slice(late, func(i, j int) bool { // by owner, then id
		return late[i][0] < late[j][0] || late[i][0] == late[j][0] && late[i][1] < late[j][1]
	})
	for _, x := range late {
		if g := out.ByRegion[x[0]]; g != nil {
			g.NonCompliant = append(g.NonCompliant, x[1])
		}
		out.Total.NonCompliant = append(out.Total.NonCompliant, x[1])
	}
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

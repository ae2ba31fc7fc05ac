package bigcustomer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"gridcrm/crm"
)

// Customer classification (客户分类) is computed when it is read, from the
// customer, its bills and the class_thresholds directives in force on the
// day asked about. It is not stored: a stored class would go stale at
// midnight when a rule's effective_from arrives, with no write to trigger a
// recomputation, and a rule pushed down to a county would have to rewrite
// every customer below it inside the replica apply path. Computed on read,
// the same records and the same day give the same class on every replica
// and at every tier, a rule change is seen by the next read, and the lists
// are filtered by class and grade in the same scan.

// GradeRule lists the thresholds of one grade; a customer meets the rule
// when it reaches any threshold that is set (zero means unused) or carries
// any of the tags.
type GradeRule struct {
	AnnualKWh   float64  `json:"annual_kwh,omitempty"`
	MonthlyBill float64  `json:"monthly_bill,omitempty"` // yuan, average over the months billed in the window
	VoltageKV   float64  `json:"voltage_kv,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// ClassRules is the body of a class_thresholds directive: the top-level
// thresholds make a customer "big" (大客户); grades.core and grades.key
// grade every customer core / key / general (核心/重点/一般), and a core or
// key customer is big. A body without grades keeps the built-in grades.
type ClassRules struct {
	GradeRule
	Grades struct {
		Core GradeRule `json:"core"`
		Key  GradeRule `json:"key"`
	} `json:"grades"`
}

// DefaultClassRules apply where no class_thresholds directive is in force.
func DefaultClassRules() ClassRules {
	var r ClassRules
	tags := []string{"政府重点工程", "保供民生", "government_key_project", "emergency_livelihood"}
	r.GradeRule = GradeRule{AnnualKWh: 1_000_000, MonthlyBill: 100_000, VoltageKV: 35, Tags: tags}
	r.Grades.Core = GradeRule{AnnualKWh: 10_000_000, MonthlyBill: 1_000_000, VoltageKV: 110}
	r.Grades.Key = GradeRule{AnnualKWh: 1_000_000, MonthlyBill: 100_000, VoltageKV: 35, Tags: tags}
	return r
}

func init() {
	crm.RegisterDirectiveBody("class_thresholds", func(d *crm.Directive) *crm.Error {
		_, e := ParseClassRules(d.Body)
		return e
	})
}

// ParseClassRules decodes and checks a class_thresholds body. Field names
// in errors are prefixed with "body.".
func ParseClassRules(body json.RawMessage) (ClassRules, *crm.Error) {
	var r ClassRules
	if len(bytes.TrimSpace(body)) == 0 {
		return r, crm.Invalid("body", "a class_thresholds directive needs a body: {\"annual_kwh\", \"monthly_bill\", \"voltage_kv\", \"tags\", \"grades\": {\"core\": {...}, \"key\": {...}}}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		e := crm.JSONError(err)
		e.Field = strings.TrimSuffix("body."+e.Field, ".")
		return r, e
	}
	for _, g := range []struct {
		name string
		r    *GradeRule
	}{{"body.", &r.GradeRule}, {"body.grades.core.", &r.Grades.Core}, {"body.grades.key.", &r.Grades.Key}} {
		if e := crm.FirstErr(crm.NonNegative(g.name+"annual_kwh", g.r.AnnualKWh, 1e12), crm.NonNegative(g.name+"monthly_bill", g.r.MonthlyBill, 1e11),
			crm.NonNegative(g.name+"voltage_kv", g.r.VoltageKV, 1000), textList(g.name+"tags", g.r.Tags, 20, 32)); e != nil {
			return r, e
		}
	}
	if r.AnnualKWh == 0 && r.MonthlyBill == 0 && r.VoltageKV == 0 && len(r.Tags) == 0 {
		return r, crm.Invalid("body", "sets no threshold: give at least one of annual_kwh, monthly_bill, voltage_kv, tags")
	}
	if r.Grades.Core.empty() && r.Grades.Key.empty() {
		r.Grades = DefaultClassRules().Grades // a rule set without grades keeps the built-in grades
	}
	return r, nil
}

func (g *GradeRule) empty() bool {
	return g.AnnualKWh == 0 && g.MonthlyBill == 0 && g.VoltageKV == 0 && len(g.Tags) == 0
}

// meets reports whether the figures reach any threshold of g, and why.
func (g *GradeRule) meets(f *crm.Figures, tags []string) (bool, []string) {
	var why []string
	if g.AnnualKWh > 0 && f.AnnualKWh >= g.AnnualKWh {
		why = append(why, fmt.Sprintf("annual kWh %.0f >= %.0f", f.AnnualKWh, g.AnnualKWh))
	}
	if g.MonthlyBill > 0 && f.MonthlyBill >= g.MonthlyBill {
		why = append(why, fmt.Sprintf("monthly bill %.2f >= %.2f yuan", f.MonthlyBill, g.MonthlyBill))
	}
	if g.VoltageKV > 0 && f.VoltageKV >= g.VoltageKV {
		why = append(why, fmt.Sprintf("supply voltage %v kV >= %v kV", f.VoltageKV, g.VoltageKV))
	}
	for _, t := range g.Tags {
		if slices.Contains(tags, t) {
			why = append(why, "tag "+t)
		}
	}
	return len(why) > 0, why
}

// RuleSource says which rules were applied.
type RuleSource struct {
	DirectiveID   string   `json:"directive_id,omitempty"` // "" for the built-in defaults
	Scope         string   `json:"scope,omitempty"`
	EffectiveFrom crm.Date `json:"effective_from,omitempty"`
	Title         string   `json:"title,omitempty"`
}

// ClassRuleSet is the classification rules in force for one region on one day.
type ClassRuleSet struct {
	Rules  ClassRules `json:"rules"`
	Source RuleSource `json:"source"`
}

// RuleBook holds every class_thresholds directive a reader holds, and
// answers the rules in force for a region on a day.
type RuleBook struct {
	dirs  []crm.Directive
	cache map[string]ClassRuleSet
	day   crm.Date
}

// LoadRuleBook reads the class_thresholds directives.
func LoadRuleBook(r crm.Reader, today crm.Date) (*RuleBook, *crm.Error) {
	if e := crm.ValidDate("today", today, false); e != nil {
		return nil, e
	}
	b := &RuleBook{cache: map[string]ClassRuleSet{}, day: today}
	dirs, e := crm.ByIndex[crm.Directive](r, "directives", "kind", "class_thresholds")
	if e != nil {
		return nil, e
	}
	b.dirs = dirs
	return b, nil
}

// For answers the rules in force for region: among the directives whose
// scope holds the region and whose effective_from is on or before the day,
// the most specific scope wins (county over city over province), then the
// latest effective_from, then the latest written (ids sort by time).
// Directives whose body does not parse are skipped.
func (b *RuleBook) For(region string) ClassRuleSet {
	if rs, ok := b.cache[region]; ok {
		return rs
	}
	var best *crm.Directive
	var bestRules ClassRules
	for i := range b.dirs {
		d := &b.dirs[i]
		if !crm.InRegion(region, d.Scope) || (d.EffectiveFrom != "" && d.EffectiveFrom > b.day) {
			continue
		}
		rules, e := ParseClassRules(d.Body)
		if e != nil {
			continue
		}
		if best == nil || len(d.Scope) > len(best.Scope) ||
			len(d.Scope) == len(best.Scope) && (d.EffectiveFrom > best.EffectiveFrom || d.EffectiveFrom == best.EffectiveFrom && d.ID > best.ID) {
			best, bestRules = d, rules
		}
	}
	rs := ClassRuleSet{Rules: DefaultClassRules()}
	if best != nil {
		rs = ClassRuleSet{Rules: bestRules, Source: RuleSource{DirectiveID: best.ID, Scope: best.Scope, EffectiveFrom: best.EffectiveFrom, Title: best.Title}}
	}
	b.cache[region] = rs
	return rs
}

// Classification is one customer's class and grade.
type Classification struct {
	CustomerID string      `json:"customer_id"`
	AccountNo  string      `json:"account_no"`
	Name       string      `json:"name"`
	Region     string      `json:"region"`
	Category   string      `json:"category"`
	Class      string      `json:"class"` // big, ordinary
	Grade      string      `json:"grade"` // core, key, general
	Reasons    []string    `json:"reasons,omitempty"`
	Figures    crm.Figures `json:"figures"`
	Rules      RuleSource  `json:"rules"`
}

// Classify applies rules to a customer and its figures.
func Classify(c *crm.Customer, f crm.Figures, rs ClassRuleSet) Classification {
	f.VoltageKV = c.VoltageKV
	out := Classification{CustomerID: c.ID, AccountNo: c.AccountNo, Name: c.Name, Region: c.Region, Category: c.Category,
		Class: "ordinary", Grade: "general", Figures: f, Rules: rs.Source}
	if ok, why := rs.Rules.GradeRule.meets(&f, c.Tags); ok {
		out.Class, out.Reasons = "big", why
	}
	if ok, why := rs.Rules.Grades.Core.meets(&f, c.Tags); ok {
		out.Grade = "core"
		out.Reasons = appendNew(out.Reasons, why)
	} else if ok, why := rs.Rules.Grades.Key.meets(&f, c.Tags); ok {
		out.Grade = "key"
		out.Reasons = appendNew(out.Reasons, why)
	}
	if out.Grade != "general" && out.Class == "ordinary" {
		out.Class = "big" // a core or key customer is a big customer, whatever the class thresholds say
		out.Reasons = append(out.Reasons, "grade "+out.Grade)
	}
	return out
}

func appendNew(xs, ys []string) []string {
	for _, y := range ys {
		if !slices.Contains(xs, y) {
			xs = append(xs, y)
		}
	}
	return xs
}

// regionCustomers reads the customers owned by region (or its subtree),
// and their figures for the window of day.
func regionCustomers(r crm.Reader, region string, subtree bool, day crm.Date) ([]crm.Customer, map[string]*crm.Figures, *crm.Error) {
	from, to := crm.Window(day)
	var custs []crm.Customer
	figs := map[string]*crm.Figures{}
	if err := crm.ScanOwned(r, "customers", region, subtree, func(raw []byte) error {
		var c crm.Customer
		if err := crm.Unmarshal(raw, &c); err != nil {
			return err
		}
		custs = append(custs, c)
		figs[c.ID] = &crm.Figures{}
		return nil
	}); err != nil {
		return nil, nil, crm.AsError(err)
	}
	if err := crm.ScanOwned(r, "bills", region, subtree, func(raw []byte) error {
		var b crm.Bill
		if err := crm.Unmarshal(raw, &b); err != nil {
			return err
		}
		f := figs[b.CustomerID]
		if f == nil || b.Period < from || b.Period > to {
			return nil
		}
		f.AnnualKWh += b.KWh
		f.AnnualBilled += b.Billed
		f.Months++
		return nil
	}); err != nil {
		return nil, nil, crm.AsError(err)
	}
	for _, f := range figs {
		f.AnnualKWh, f.AnnualBilled = round2(f.AnnualKWh), round2(f.AnnualBilled)
		if f.Months > 0 {
			f.MonthlyBill = round2(f.AnnualBilled / float64(f.Months))
		}
	}
	return custs, figs, nil
}

// ClassQuery selects classified customers.
type ClassQuery struct {
	Region  string
	Subtree bool
	Day     crm.Date // the rules and the window are those of this day
	Class   string   // "", big, ordinary
	Grade   string   // "", core, key, general
	Limit   int      // keep the first Limit items only (0: all); Matched counts them all
}

// ClassReport is the answer of ClassifyRegion.
type ClassReport struct {
	Region  string                    `json:"region"`
	Day     crm.Date                  `json:"day"`
	Window  [2]string                 `json:"window"`
	Counts  map[string]map[string]int `json:"counts"` // class → grade → customers (all customers, before the filter)
	Rules   map[string]ClassRuleSet   `json:"rules"`  // per customer region
	Items   []Classification          `json:"items"`
	Matched int                       `json:"matched"`
}

// regionFigures answers the customers of a region (or subtree), in (owner,
// id) order, with their figures for the window of day: from the customer
// cards (card.go) when they cover every customer, else (or when cards is
// false) from the records, the customers and every bill of them.
func regionFigures(r crm.Reader, region string, subtree bool, day crm.Date, cards bool) ([][]crm.CardCustomer, *crm.Error) {
	if cards {
		out, ok, err := cardCustomers(r, region, subtree, day)
		if err != nil {
			return nil, crm.AsError(err)
		}
		if ok {
			return out, nil
		}
	}
	custs, figs, e := regionCustomers(r, region, subtree, day)
	if e != nil {
		return nil, e
	}
	out := make([]crm.CardCustomer, len(custs))
	for i := range custs {
		out[i] = cardCustomerOf(&custs[i], *figs[custs[i].ID])
	}
	return [][]crm.CardCustomer{out}, nil
}

// ClassifyRegion classifies every customer of a region (or subtree) on a
// day; Items holds those matching the class and grade filters, biggest
// annual kWh first.
func ClassifyRegion(r crm.Reader, q ClassQuery) (*ClassReport, *crm.Error) {
	return classifyRegion(r, q, true)
}

// byKWh orders classifications biggest annual kWh first, then by id.
func byKWh(a, b *Classification) bool {
	if a.Figures.AnnualKWh != b.Figures.AnnualKWh {
		return a.Figures.AnnualKWh > b.Figures.AnnualKWh
	}
	return a.CustomerID < b.CustomerID
}

func classifyRegion(r crm.Reader, q ClassQuery, cards bool) (*ClassReport, *crm.Error) {
	if q.Class != "" {
		if e := crm.OneOf("class", q.Class, "big", "ordinary"); e != nil {
			return nil, e
		}
	}
	if q.Grade != "" {
		if e := crm.OneOf("grade", q.Grade, "core", "key", "general"); e != nil {
			return nil, e
		}
	}
	book, e := LoadRuleBook(r, q.Day)
	if e != nil {
		return nil, e
	}
	from, to := crm.Window(q.Day)
	newReport := func() *ClassReport {
		return &ClassReport{Region: q.Region, Day: q.Day, Window: [2]string{from, to}, Counts: map[string]map[string]int{
			"big": {"core": 0, "key": 0, "general": 0}, "ordinary": {"core": 0, "key": 0, "general": 0}}, Rules: map[string]ClassRuleSet{}, Items: []Classification{}}
	}
	if cards { // cardclass.go: the memo of classified cards
		rep := newReport()
		ok, e := classifyFromCards(r, q, book, rep)
		if e != nil {
			return nil, e
		}
		if ok {
			return rep, nil
		}
	}
	custs, e := regionFigures(r, q.Region, q.Subtree, q.Day, false)
	if e != nil {
		return nil, e
	}
	rep := newReport()
	for _, list := range custs {
		for i := range list {
			c := list[i].Customer()
			rs := book.For(c.Region)
			rep.Rules[c.Region] = rs
			cl := Classify(&c, list[i].Figures, rs)
			rep.Counts[cl.Class][cl.Grade]++
			if (q.Class == "" || cl.Class == q.Class) && (q.Grade == "" || cl.Grade == q.Grade) {
				rep.Matched++
				rep.Items = keepTop(rep.Items, cl, q.Limit)
			}
		}
	}
	if q.Limit <= 0 {
		sort.SliceStable(rep.Items, func(i, j int) bool { return byKWh(&rep.Items[i], &rep.Items[j]) })
	}
	return rep, nil
}

// keepTop adds cl to items: all of them when limit is 0, else only the
// limit first by byKWh, kept in that order.
func keepTop(items []Classification, cl Classification, limit int) []Classification {
	if limit <= 0 {
		return append(items, cl)
	}
	if len(items) == limit && !byKWh(&cl, &items[limit-1]) {
		return items
	}
	i := sort.Search(len(items), func(i int) bool { return byKWh(&cl, &items[i]) })
	if len(items) < limit {
		items = append(items, Classification{})
	}
	copy(items[i+1:], items[i:])
	items[i] = cl
	return items
}

// ClassifyCustomer classifies one customer on a day.
func ClassifyCustomer(r crm.Reader, id string, day crm.Date) (*Classification, *crm.Error) {
	cl, _, e := classifyCustomer(r, id, day)
	return cl, e
}

// classifyCustomer also answers the customer's bills, oldest first, which
// it reads anyway (the consumption report needs them too).
func classifyCustomer(r crm.Reader, id string, day crm.Date) (*Classification, []crm.Bill, *crm.Error) {
	raw, e := crm.Get(r, "customers", id)
	if e != nil {
		return nil, nil, e
	}
	var c crm.Customer
	if err := crm.Unmarshal(raw, &c); err != nil {
		return nil, nil, crm.AsError(err)
	}
	book, e := LoadRuleBook(r, day)
	if e != nil {
		return nil, nil, e
	}
	bills, e := crm.CustomerBills(r, id)
	if e != nil {
		return nil, nil, e
	}
	from, to := crm.Window(day)
	var f crm.Figures
	for _, b := range bills {
		if b.Period >= from && b.Period <= to {
			f.AnnualKWh += b.KWh
			f.AnnualBilled += b.Billed
			f.Months++
		}
	}
	f.AnnualKWh, f.AnnualBilled = round2(f.AnnualKWh), round2(f.AnnualBilled)
	if f.Months > 0 {
		f.MonthlyBill = round2(f.AnnualBilled / float64(f.Months))
	}
	cl := Classify(&c, f, book.For(c.Region))
	return &cl, bills, nil
}

// ParetoShare is one measure's 20/80 figure.
type ParetoShare struct {
	Total          float64  `json:"total"`
	Customers      int      `json:"customers_for_80_percent"` // fewest customers that make 80% of the total
	CustomerShare  float64  `json:"customer_share"`           // Customers / all customers
	TopFifthShare  float64  `json:"top_20_percent_share"`     // the share of the total the top 20% of customers make
	TopCustomerIDs []string `json:"top_customer_ids,omitempty"`
}

// ParetoReport answers the 二八法则 for a region: the share of customers that
// makes 80% of kWh and of revenue over the window of day.
type ParetoReport struct {
	Region    string      `json:"region"`
	Day       crm.Date    `json:"day"`
	Window    [2]string   `json:"window"`
	Customers int         `json:"customers"`
	KWh       ParetoShare `json:"kwh"`
	Revenue   ParetoShare `json:"revenue"` // billed yuan
}

// Pareto computes the report; top lists at most topN customer ids.
func Pareto(r crm.Reader, region string, subtree bool, day crm.Date, topN int) (*ParetoReport, *crm.Error) {
	return pareto(r, region, subtree, day, topN, true)
}

func pareto(r crm.Reader, region string, subtree bool, day crm.Date, topN int, cards bool) (*ParetoReport, *crm.Error) {
	if e := crm.ValidDate("day", day, false); e != nil {
		return nil, e
	}
	memo := ""
	if cards { // cardclass.go: a report of unchanged cards is not computed again
		var err error
		if memo, err = paretoKey(r, region, subtree, day, topN); err != nil {
			return nil, crm.AsError(err)
		}
		if rep := paretoMemoGet(memo); memo != "" && rep != nil {
			return clonePareto(rep), nil
		}
	}
	if memo != "" { // cardclass.go: from the class memo's ordered lists
		rep, ok, err := paretoFromCards(r, region, subtree, day, topN)
		if err != nil {
			return nil, crm.AsError(err)
		}
		if ok {
			paretoMemoPut(memo, clonePareto(rep))
			return rep, nil
		}
	}
	custs, e := regionFigures(r, region, subtree, day, false)
	if e != nil {
		return nil, e
	}
	from, to := crm.Window(day)
	rep := &ParetoReport{Region: region, Day: day, Window: [2]string{from, to}}
	for _, list := range custs {
		rep.Customers += len(list)
	}
	vs := make([]idValue, 0, rep.Customers)
	for _, list := range custs {
		for i := range list {
			vs = append(vs, idValue{list[i].ID, list[i].Figures.AnnualKWh})
		}
	}
	rep.KWh = paretoOf(vs, topN)
	vs = vs[:0]
	for _, list := range custs {
		for i := range list {
			vs = append(vs, idValue{list[i].ID, list[i].Figures.AnnualBilled})
		}
	}
	rep.Revenue = paretoOf(vs, topN)
	return rep, nil
}

// clonePareto copies a report, its id lists too.
func clonePareto(r *ParetoReport) *ParetoReport {
	c := *r
	c.KWh.TopCustomerIDs = slices.Clone(r.KWh.TopCustomerIDs)
	c.Revenue.TopCustomerIDs = slices.Clone(r.Revenue.TopCustomerIDs)
	return &c
}

type idValue struct {
	id string
	v  float64
}

// paretoOf computes one measure's share; it sorts s.
func paretoOf(s []idValue, topN int) ParetoShare {
	slices.SortFunc(s, func(a, b idValue) int {
		switch {
		case a.v > b.v:
			return -1
		case a.v < b.v:
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	var out ParetoShare
	for _, x := range s {
		out.Total += x.v
	}
	if len(s) == 0 || out.Total == 0 {
		return out
	}
	cum := 0.0
	for i, x := range s {
		cum += x.v
		if cum >= 0.8*out.Total-1e-9 {
			out.Customers = i + 1
			break
		}
	}
	fifth := int(math.Ceil(float64(len(s)) * 0.2))
	top := 0.0
	for _, x := range s[:fifth] {
		top += x.v
	}
	out.Total = round2(out.Total)
	out.CustomerShare = math.Round(float64(out.Customers)/float64(len(s))*1e4) / 1e4
	out.TopFifthShare = math.Round(top/out.Total*1e4) / 1e4
	for _, x := range s[:min(topN, out.Customers)] {
		out.TopCustomerIDs = append(out.TopCustomerIDs, x.id)
	}
	return out
}

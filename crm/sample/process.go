package sample

import (
	"fmt"
	"math/rand/v2"
	"time"

	"gridcrm/crm"
	"gridcrm/crm/workday"
	"gridcrm/process"
)

// Process demo data (issue 7): feeders on customers, connection projects
// with their stage history, work orders through their states, outages with
// notices. Everything is relative to ProcessOptions.Now, which the caller
// passes (the demo passes its clock); the same options give the same plan.

// streamProcess selects the process stream of a seed.
const streamProcess = 0x7072_6f63_6573_7300

// AssignFeeders puts every customer on one of a region's 10 kV feeders and,
// for low-voltage customers, one of its transformer areas (台区), so that
// outages can find whom they affect. Deterministic in region and order.
func AssignFeeders(cs []crm.Customer, region string) {
	rng := rand.New(rand.NewPCG(uint64(fnvHash(region)), streamProcess))
	names := []string{"城东线", "城西线", "开发区线", "工业园线", "新港线", "农排线"}
	for i := range cs {
		f := rng.IntN(len(names))
		cs[i].Feeder = fmt.Sprintf("10kV %s%d", names[f], 1+f%2)
		if cs[i].VoltageKV < 1 {
			cs[i].TransformerArea = fmt.Sprintf("%s-%02d台区", names[f], 1+rng.IntN(12))
		} else {
			cs[i].TransformerArea = ""
		}
	}
}

// ProcessOptions shape a region's process data.
type ProcessOptions struct {
	Region    string
	Customers []crm.Customer // with IDs set (ID, Category, VoltageKV, Feeder are read)
	StaffIDs  []string       // account managers and agents
	Now       time.Time      // every time in the plan is at least a minute before it
	Projects  int            // default 12
	Orders    int            // default 24
	Seed      int64
}

// ProjectStep is one action on a project (the body of POST /projects/{id}/stage, without version).
type ProjectStep struct {
	Action string    `json:"action"`
	Stage  string    `json:"stage"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// ProjectPlan is a project to create and the actions to apply in order.
type ProjectPlan struct {
	Project process.Project
	Steps   []ProjectStep
}

// OrderStep is one transition (the body of POST /work_orders/{id}/transition, without version).
type OrderStep struct {
	To           string    `json:"to"`
	At           time.Time `json:"at"`
	Note         string    `json:"note,omitempty"`
	AssigneeID   string    `json:"assignee_id,omitempty"`
	Satisfaction string    `json:"satisfaction,omitempty"`
}

// OrderPlan is a work order to create and its transitions.
type OrderPlan struct {
	Order process.WorkOrder
	Steps []OrderStep
}

// Processes is a region's process plan.
type Processes struct {
	Projects []ProjectPlan
	Orders   []OrderPlan
	Outages  []process.Outage
}

// GenerateProcesses plans projects (some energised on time, some late, some
// open and overdue, some paused waiting on the customer), work orders of
// every kind from every channel (some archived after a revisit, one sent
// back after a dissatisfied revisit, some stuck past their SLA, some taken
// at the province for this county) and outages of every type (one planned
// outage noticed too late).
func GenerateProcesses(o ProcessOptions) Processes {
	rng := rand.New(rand.NewPCG(uint64(o.Seed), streamProcess^uint64(fnvHash(o.Region))))
	if o.Projects == 0 {
		o.Projects = 12
	}
	if o.Orders == 0 {
		o.Orders = 24
	}
	var out Processes
	if len(o.Customers) == 0 {
		return out
	}
	staff := func(i int) string {
		if len(o.StaffIDs) == 0 {
			return ""
		}
		return o.StaffIDs[i%len(o.StaffIDs)]
	}
	limit := o.Now.Add(-time.Minute)
	cal := workday.Default()
	var business []crm.Customer // projects that run longer paths
	for _, c := range o.Customers {
		if c.Category != crm.CategoryResidential {
			business = append(business, c)
		}
	}
	if len(business) == 0 {
		business = o.Customers
	}
	for i := 0; i < o.Projects; i++ {
		c := o.Customers[rng.IntN(len(o.Customers))]
		if i%5 != 2 {
			c = business[rng.IntN(len(business))]
		}
		supply := "single"
		if c.VoltageKV >= 35 && i%3 == 0 {
			supply = "dual"
		}
		scenario := i % 5 // 0 on time, 1 late, 2 due soon (warnings), 3 overdue, 4 paused
		ageDays := map[int]int{0: 60 + rng.IntN(30), 1: 70 + rng.IntN(30), 2: 5 + rng.IntN(3), 3: 35 + rng.IntN(10), 4: 20 + rng.IntN(5)}[scenario]
		acc := workMorning(cal, o.Now.AddDate(0, 0, -ageDays))
		kind := "new_connection"
		if i%4 == 3 {
			kind = "capacity_increase"
		}
		p := process.Project{Kind: kind, CustomerID: c.ID, Region: o.Region, VoltageKV: c.VoltageKV, Supply: supply,
			CapacityKVA: max(c.CapacityKVA, 8), ManagerID: staff(i), AcceptedAt: acc, KeyProject: c.VoltageKV >= 35,
			Title: fmt.Sprintf("%s %s", c.Name, map[string]string{"new_connection": "新装", "capacity_increase": "增容"}[kind])}
		path := process.BuiltinRuleSets[1].Paths[process.SupplyClass(c.VoltageKV, c.Category, supply)]
		var steps []ProjectStep
		t := acc
		next := func(days int) time.Time {
			t = workMorning(cal, t.AddDate(0, 0, days)).Add(time.Duration(rng.IntN(5)) * time.Hour)
			return t
		}
		for j, st := range path[1:] {
			var at time.Time
			switch scenario {
			case 0:
				at = next(1)
			case 1:
				at = next(8 + 8*j)
			case 2:
				at = time.Time{} // nothing done yet
			case 3:
				if j > 0 {
					at = time.Time{}
				} else {
					at = next(1)
				}
			case 4:
				if j == 0 {
					steps = append(steps, ProjectStep{Action: "pause", Stage: st, At: next(1), Reason: "等待客户提供用电负荷清单"})
				}
				at = time.Time{}
			}
			if at.IsZero() || at.After(limit) {
				break
			}
			steps = append(steps, ProjectStep{Action: "complete", Stage: st, At: at})
		}
		out.Projects = append(out.Projects, ProjectPlan{Project: p, Steps: steps})
	}
	channels := process.WorkOrderChannels[:8]
	for i := 0; i < o.Orders; i++ {
		kind := process.WorkOrderKinds[i%len(process.WorkOrderKinds)]
		c := o.Customers[rng.IntN(len(o.Customers))]
		recv := o.Now.Add(-time.Duration(2+rng.IntN(20*24)) * time.Hour)
		w := process.WorkOrder{Channel: channels[(i/len(process.WorkOrderKinds)+i)%len(channels)], Kind: kind, CustomerID: c.ID, Region: o.Region,
			Urgency: process.Urgencies[rng.IntN(len(process.Urgencies))], ReceivedAt: recv, Subject: orderSubject[kind]}
		// taking_region is left to the server: the region of the node the
		// order is posted to (the loader posts to the county's).
		switch kind {
		case "fault_repair":
			w.SiteClass = process.SiteClasses[rng.IntN(len(process.SiteClasses))]
		case "service_application":
			w.Subtype = process.ServiceSubtypes[rng.IntN(len(process.ServiceSubtypes))]
		}
		// How far it got: archived, done, dispatched (possibly stuck past
		// its SLA), or just received.
		var steps []OrderStep
		t := recv
		step := func(to string, after time.Duration) bool {
			t = t.Add(after)
			if t.After(limit) {
				return false
			}
			s := OrderStep{To: to, At: t}
			switch to {
			case process.WODispatched:
				s.AssigneeID = staff(i + 1)
			case process.WORevisited:
				s.Satisfaction = "satisfied"
				if i%8 == 1 && !hasSendBack(steps) {
					s.Satisfaction = "dissatisfied"
				}
			}
			steps = append(steps, s)
			return true
		}
		var plan []string
		switch i % 4 {
		case 0, 1:
			plan = []string{process.WODispatched, process.WOAccepted, process.WODone, process.WORevisited, process.WOArchived}
			if kind == "fault_repair" {
				plan = []string{process.WODispatched, process.WOAccepted, process.WOOnSite, process.WODone, process.WORevisited, process.WOArchived}
			}
		case 2:
			plan = []string{process.WODispatched}
		}
		for _, to := range plan {
			gap := time.Duration(20+rng.IntN(60)) * time.Minute
			if to == process.WODone && kind != "fault_repair" {
				gap = time.Duration(4+rng.IntN(40)) * time.Hour
			}
			if !step(to, gap) {
				break
			}
			if to == process.WORevisited && steps[len(steps)-1].Satisfaction == "dissatisfied" {
				// Sent back, handled again, revisited: the loop closes
				// (as far as it got before limit).
				if t.Add(time.Hour).After(limit) {
					break
				}
				steps = append(steps, OrderStep{To: process.WODispatched, At: t.Add(time.Hour), Note: "客户不满意，重新派单"})
				t = t.Add(time.Hour)
				for _, again := range []string{process.WOAccepted, process.WODone} {
					if !step(again, 2*time.Hour) {
						break
					}
				}
				if len(steps) > 0 && steps[len(steps)-1].To == process.WODone {
					_ = step(process.WORevisited, time.Hour)
				}
				break
			}
		}
		out.Orders = append(out.Orders, OrderPlan{Order: w, Steps: steps})
	}
	feeder := o.Customers[0].Feeder
	if feeder == "" {
		feeder = "10kV 城东线1"
	}
	soon, later := workMorning(cal, o.Now.AddDate(0, 0, 5)), workMorning(cal, o.Now.AddDate(0, 0, 12))
	out.Outages = []process.Outage{
		{Region: o.Region, Type: "planned", Feeder: feeder, Start: soon, End: soon.Add(8 * time.Hour), Reason: "线路检修、更换老旧导线",
			Notices: []process.Notice{{Channel: "sms", At: limit, Audience: "all", Recipients: 120}}}, // 5 days ahead: too late
		{Region: o.Region, Type: "planned", Feeder: feeder, Start: later, End: later.Add(6 * time.Hour), Reason: "配变增容改造",
			Notices: []process.Notice{{Channel: "notice_board", At: limit, Audience: "all"}}}, // 12 days ahead: compliant
		{Region: o.Region, Type: "temporary", Feeder: feeder, Start: o.Now.Add(30 * time.Hour), End: o.Now.Add(34 * time.Hour), Reason: "消缺处理",
			Notices: []process.Notice{{Channel: "phone", At: limit, Audience: "important", Recipients: 3}}},
		{Region: o.Region, Type: "fault", Feeder: feeder, Start: o.Now.Add(-26 * time.Hour), End: o.Now.Add(-23 * time.Hour), Reason: "雷击跳闸", Status: "done"},
	}
	return out
}

func hasSendBack(steps []OrderStep) bool {
	for _, s := range steps {
		if s.Note != "" {
			return true
		}
	}
	return false
}

var orderSubject = map[string]string{
	"fault_repair":        "家中停电，邻居有电",
	"consultation":        "咨询分时电价执行时段",
	"complaint":           "对抄表电量有异议",
	"report":              "举报疑似窃电行为",
	"suggestion":          "建议营业厅延长周末营业时间",
	"opinion":             "对停电通知时间不满",
	"praise":              "表扬抢修人员及时到场",
	"service_application": "申请校验电能表",
}

// workMorning answers 09:00 CST on the first working day at or after t's
// day (t's day itself when it is one); a day the calendar does not hold is
// taken as is.
func workMorning(cal *workday.Calendar, t time.Time) time.Time {
	d := t.In(workday.CST)
	d = time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, workday.CST)
	for range 15 {
		ok, err := cal.IsWorkingDay(d)
		if err != nil || ok {
			return d
		}
		d = d.AddDate(0, 0, 1)
	}
	return d
}

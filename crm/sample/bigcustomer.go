package sample

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"gridcrm/bigcustomer"
	"gridcrm/crm"
)

// Big-customer management demo data. The functions take records that
// already have ids (read back from a loaded region) and answer new records
// without ids, deterministically for the same input and seed.

// PoolCandidate is a customer considered for the managed pool.
type PoolCandidate struct {
	ID        string
	Name      string
	Category  string
	VoltageKV float64
	Tags      []string
	AnnualKWh float64
	ContactID string // "" when the customer has no contact
}

// BigStaff are a region's people by role, with ids.
type BigStaff struct {
	Supervisor string
	Managers   []string // account managers
	Gold       []string // gold managers
	BackOffice []string
}

// BackofficeTeams answers the region's three back-office teams (1+N), with
// the back-office staff shared among them.
func BackofficeTeams(region string, st BigStaff) []bigcustomer.BackofficeTeam {
	names := map[string]string{"strategy": "策略支撑组", "technical": "技术支撑组", "service": "服务支撑组"}
	var out []bigcustomer.BackofficeTeam
	for i, team := range bigcustomer.TeamNames {
		t := bigcustomer.BackofficeTeam{Region: region, Team: team, Name: names[team], Departments: bigcustomer.BackofficeTeams[team]}
		for j, id := range st.BackOffice {
			if j%len(bigcustomer.TeamNames) == i {
				t.MemberIDs = append(t.MemberIDs, id)
			}
		}
		out = append(out, t)
	}
	return out
}

// PoolEntries admits the biggest non-residential customers with a contact
// (up to max) and every tagged key customer, each after an assessment, with
// a front manager; a few more stay candidates.
func PoolEntries(seed int64, cands []PoolCandidate, st BigStaff, day time.Time, max int) []bigcustomer.PoolEntry {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x706f6f6c))
	var eligible []PoolCandidate
	for _, c := range cands {
		if c.Category != crm.CategoryResidential && c.ContactID != "" {
			eligible = append(eligible, c)
		}
	}
	sort.SliceStable(eligible, func(i, j int) bool { return eligible[i].AnnualKWh > eligible[j].AnnualKWh })
	var out []bigcustomer.PoolEntry
	for i, c := range eligible {
		if i >= max+max/10 || len(st.Managers) == 0 {
			break
		}
		credit := []string{"A", "A", "A", "B", "B", "C"}[rng.IntN(6)]
		e := bigcustomer.PoolEntry{CustomerID: c.ID, Status: "admitted", FrontManagerID: st.Managers[i%len(st.Managers)], ContactID: c.ContactID,
			Assessment: &bigcustomer.Assessment{Score: float64(60 + rng.IntN(40)), AnnualKWh: c.AnnualKWh, Credit: credit,
				Reason: reasonFor(c), AssessedBy: st.Supervisor, AssessedOn: crm.Date(day.AddDate(0, 0, -rng.IntN(60)).Format("2006-01-02"))}}
		if i >= max {
			e.Status, e.FrontManagerID, e.ContactID = "candidate", "", ""
			e.Assessment = nil
		}
		out = append(out, e)
	}
	return out
}

func reasonFor(c PoolCandidate) string {
	switch {
	case c.VoltageKV >= 35:
		return fmt.Sprintf("%v kV 高压供电用户", c.VoltageKV)
	case keyTag(c.Tags) != "":
		return "重点客户（" + keyTag(c.Tags) + "）"
	}
	return fmt.Sprintf("年用电量 %.0f 万千瓦时", c.AnnualKWh/1e4)
}

// KeyProjects answers n key projects of the region's biggest customers,
// their stages placed around day so that some are late in the previous
// month (the bulletin's month).
func KeyProjects(seed int64, region string, cands []PoolCandidate, day time.Time, n int) []bigcustomer.KeyProject {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6b70726a))
	sorted := append([]PoolCandidate(nil), cands...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].AnnualKWh > sorted[j].AnnualKWh })
	kinds := []string{"government_key", "high_voltage", "industrial_park", "livelihood"}
	what := []string{"新装", "增容", "双电源改造", "配套工程"}
	diffs := []string{"线路通道协调困难", "土建进度滞后", "客户设备到货延迟", "征地拆迁未完成", "图纸多次修改"}
	infos := []string{"开通业扩绿色通道", "每周现场协调会", "提供用电方案咨询", "安排专人驻点服务", "提前开展设备验收指导"}
	first := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -2, 0)
	var out []bigcustomer.KeyProject
	for i := 0; i < n && i < len(sorted); i++ {
		c := sorted[i]
		kva := []float64{2000, 5000, 10000, 31500, 50000}[rng.IntN(5)]
		p := bigcustomer.KeyProject{Region: region, CustomerID: c.ID, Kind: kinds[i%len(kinds)], CapacityKVA: kva,
			Name:         fmt.Sprintf("%s %.0fkVA %s", c.Name, kva, what[rng.IntN(len(what))]),
			Difficulties: []string{diffs[rng.IntN(len(diffs))]}, ServiceInfo: []string{infos[rng.IntN(len(infos))]}}
		// Stages every ~10 days from two months back; done ones mostly on
		// time, a few late; the one in progress may be past its due date.
		at := first.AddDate(0, 0, rng.IntN(10))
		done := 2 + rng.IntN(4)
		for k, name := range crm.Stages {
			due := at.AddDate(0, 0, 8+rng.IntN(8))
			s := bigcustomer.ProjectStage{Name: name, Due: crm.Date(due.Format("2006-01-02"))}
			if k < done {
				finished := due.AddDate(0, 0, -rng.IntN(3))
				if rng.IntN(4) == 0 {
					finished = due.AddDate(0, 0, 1+rng.IntN(7)) // late
				}
				if finished.After(day) {
					finished = day
				}
				s.DoneOn = crm.Date(finished.Format("2006-01-02"))
			}
			p.Stages = append(p.Stages, s)
			at = due
		}
		p.Progress = 100 * done / len(crm.Stages)
		out = append(out, p)
	}
	return out
}

// GoldAssignments puts a gold manager on each key project (round-robin
// over the gold managers), and a past, ended one on the first to show the
// history.
func GoldAssignments(projectIDs []string, customerIDs []string, st BigStaff, day time.Time) []bigcustomer.GoldAssignment {
	if len(st.Gold) == 0 {
		return nil
	}
	var out []bigcustomer.GoldAssignment
	for i, pid := range projectIDs {
		from := day.AddDate(0, -2, 0)
		if i == 0 && len(st.Gold) > 1 {
			out = append(out, bigcustomer.GoldAssignment{Subject: bigcustomer.Subject{CustomerID: customerIDs[i], ProjectID: pid}, StaffID: st.Gold[1],
				From: crm.Date(from.AddDate(0, -3, 0).Format("2006-01-02")), To: crm.Date(from.AddDate(0, 0, -1).Format("2006-01-02")), Status: "ended", Note: "岗位调整"})
		}
		out = append(out, bigcustomer.GoldAssignment{Subject: bigcustomer.Subject{CustomerID: customerIDs[i], ProjectID: pid}, StaffID: st.Gold[i%len(st.Gold)],
			From: crm.Date(from.Format("2006-01-02"))})
	}
	return out
}

// ServicePlan answers the four-part service plan of a key project.
func ServicePlan(customerID, projectID string, st BigStaff, day time.Time) bigcustomer.ServicePlan {
	d := func(days int) crm.Date { return crm.Date(day.AddDate(0, 0, days).Format("2006-01-02")) }
	owner := func(i int) string {
		all := append(append([]string{}, st.Gold...), st.Managers...)
		return all[i%len(all)]
	}
	return bigcustomer.ServicePlan{Subject: bigcustomer.Subject{CustomerID: customerID, ProjectID: projectID}, Title: "重点项目“四个一”服务方案",
		Implementation: []bigcustomer.PlanItem{{Title: "答复供电方案并明确接入系统", OwnerID: owner(0), Due: d(-20), Status: "done", DoneOn: d(-22)},
			{Title: "组织设计图纸审查", OwnerID: owner(1), Due: d(10)}},
		InternalTracking: []bigcustomer.PlanItem{{Title: "每周例会跟踪各环节进度", OwnerID: owner(0), Due: d(7)},
			{Title: "逾期环节督办与通报", OwnerID: st.Supervisor, Due: d(14)}},
		Revisit:          []bigcustomer.PlanItem{{Title: "送电后一个月内回访", OwnerID: owner(2), Due: d(60)}},
		PostEnergisation: []bigcustomer.PlanItem{{Title: "开展安全用电检查", OwnerID: owner(3), Due: d(75)}, {Title: "提交用电及电费分析报告", OwnerID: owner(0), Due: d(90)}, {Title: "制定能效提升方案", OwnerID: owner(1), Due: d(120)}},
	}
}

// ServiceMemo answers a service memo with all four sections.
func ServiceMemo(customerID, projectID string, kva, kv float64, day time.Time) bigcustomer.ServiceMemo {
	d := func(days int) crm.Date { return crm.Date(day.AddDate(0, 0, days).Format("2006-01-02")) }
	return bigcustomer.ServiceMemo{Subject: bigcustomer.Subject{CustomerID: customerID, ProjectID: projectID},
		Demand: []bigcustomer.DemandNote{{Date: d(-40), CapacityKVA: kva, VoltageKV: kv, Reliability: "双电源，一级负荷", OperatingMode: "一主一备",
			PowerQuality: "谐波治理满足国标", Answers: "执行两部制电价；高供高计；按月结算电费"}},
		Communication: []bigcustomer.CommunicationNote{{Date: d(-30), Participants: "客户经理、客户设备部", Summary: "沟通施工计划与停电窗口"}},
		Meetings: []bigcustomer.MeetingNote{{Date: d(-15), Attendees: "县发改委、供电公司、客户", Issues: "线路通道受阻",
			Decisions: []string{"县政府牵头协调通道", "供电公司同步开展设备采购"}, Instructions: "确保按期送电"}},
		GeneralAffairs: []bigcustomer.AffairNote{{Date: d(-5), Subject: "客户来访接待", Note: "介绍业扩绿色通道"}},
	}
}

// ServiceRequests answers one request per customer from its front manager,
// needs drawn so that every team gets work.
func ServiceRequests(seed int64, customerIDs, managerIDs []string) []bigcustomer.ServiceRequest {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x73727100))
	needs := []string{"capacity_planning", "maintenance", "tariff_advice", "data_access", "load_monitoring", "metering", "billing", "connection", "outage"}
	titles := map[string]string{"capacity_planning": "增容规划咨询", "maintenance": "设备检修配合", "tariff_advice": "电价政策咨询", "data_access": "用电数据接口",
		"load_monitoring": "负荷监测异常", "metering": "计量装置校验", "billing": "电费清单核对", "connection": "新装业务办理", "outage": "停电计划协调"}
	var out []bigcustomer.ServiceRequest
	for i, id := range customerIDs {
		if len(managerIDs) == 0 {
			break
		}
		a := needs[rng.IntN(len(needs))]
		r := bigcustomer.ServiceRequest{CustomerID: id, FrontManagerID: managerIDs[i%len(managerIDs)], Title: titles[a], Needs: []string{a}}
		if b := needs[rng.IntN(len(needs))]; b != a && rng.IntN(2) == 0 {
			r.Needs = append(r.Needs, b)
			r.Title += "、" + titles[b]
		}
		out = append(out, r)
	}
	return out
}

// VIPServices answers a year of value-added services for VIP customers:
// a subscription, a periodic inspection, and one of the others.
func VIPServices(seed int64, customerIDs []string, staffIDs []string, day time.Time) []bigcustomer.VIPService {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x76697000))
	var out []bigcustomer.VIPService
	d := func(days int) crm.Date { return crm.Date(day.AddDate(0, 0, days).Format("2006-01-02")) }
	staff := func(i int) string {
		if len(staffIDs) == 0 {
			return ""
		}
		return staffIDs[i%len(staffIDs)]
	}
	for i, id := range customerIDs {
		out = append(out,
			bigcustomer.VIPService{CustomerID: id, Service: "information_subscription", Title: "停电及电费信息订阅", ScheduledOn: d(-60), EveryMonths: 1, Status: "in_progress"},
			bigcustomer.VIPService{CustomerID: id, Service: "safety_inspection", Title: "定期安全检查", StaffID: staff(i), ScheduledOn: d(-20 - rng.IntN(10)), EveryMonths: 6, Status: "done", DoneOn: d(-15), Outcome: "未发现重大隐患"},
		)
		switch i % 3 {
		case 0:
			start := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, time.FixedZone("CST", 8*3600)).AddDate(0, 0, 10+rng.IntN(20))
			out = append(out, bigcustomer.VIPService{CustomerID: id, Service: "scheduled_outage", Title: "预约停电检修", StaffID: staff(i), ScheduledOn: crm.Date(start.Format("2006-01-02")),
				WindowStart: start.Format(time.RFC3339), WindowEnd: start.Add(6 * time.Hour).Format(time.RFC3339), Status: "confirmed"})
		case 1:
			out = append(out, bigcustomer.VIPService{CustomerID: id, Service: "energy_saving", Title: "能效诊断与节能改造建议", StaffID: staff(i), ScheduledOn: d(15), Status: "planned"})
		default:
			out = append(out, bigcustomer.VIPService{CustomerID: id, Service: "electrician_training", Title: "进网电工安全培训", ScheduledOn: d(30), Status: "planned"})
		}
	}
	return out
}

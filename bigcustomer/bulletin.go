package bigcustomer

import (
	"fmt"
	"sort"
	"time"

	"gridcrm/crm"
)

// OverdueStage is a stage of a key project that is late in the period.
type OverdueStage struct {
	Stage     string   `json:"stage"`
	StageName string   `json:"stage_name"`
	Due       crm.Date `json:"due"`
	DoneOn    crm.Date `json:"done_on,omitempty"` // "" while still open
	DaysLate  int      `json:"days_late"`         // at done_on, or at the period's end when open
}

// ProjectLine is one key project in a bulletin.
type ProjectLine struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Region       string         `json:"region"`
	Kind         string         `json:"kind"`
	Status       string         `json:"status"`
	Progress     int            `json:"progress"`
	NextStage    string         `json:"next_stage,omitempty"` // the first stage not done
	Overdue      []OverdueStage `json:"overdue,omitempty"`
	Difficulties []string       `json:"difficulties,omitempty"`
	ServiceInfo  []string       `json:"service_info,omitempty"`
}

// ServiceLine is a VIP service scheduled or done in the period.
type ServiceLine struct {
	Customer string   `json:"customer"`
	Service  string   `json:"service"`
	Title    string   `json:"title"`
	On       crm.Date `json:"on"`
	Status   string   `json:"status"`
}

// BulletinData is the content of a monthly work bulletin; package report
// renders it (HTML and PDF).
type BulletinData struct {
	Region   string        `json:"region"`
	Period   string        `json:"period"`
	Title    string        `json:"title"`
	Projects []ProjectLine `json:"projects"`
	Services []ServiceLine `json:"services"`
	Overdue  int           `json:"overdue_stages"`
}

// VIPServiceNames are the services' Chinese names.
var VIPServiceNames = map[string]string{
	"information_subscription": "信息订阅", "safety_inspection": "定期安全检查", "scheduled_outage": "预约停电",
	"energy_saving": "节能服务", "electrician_training": "电工培训",
}

// periodBounds answers the first and last day of a YYYY-MM period.
func periodBounds(period string) (crm.Date, crm.Date, *crm.Error) {
	if !crm.ValidPeriod(period) {
		return "", "", crm.Invalid("period", "%q is not a month of the form YYYY-MM", period)
	}
	t, _ := time.Parse("2006-01", period)
	return crm.Date(t.Format("2006-01-02")), crm.Date(t.AddDate(0, 1, -1).Format("2006-01-02")), nil
}

// overdueIn answers the stages of p late at cut, the day the bulletin of
// the period starting on from is judged at (the period's last day, or the
// generation day for the current month): due before cut and not done by
// the due date, and either still open at cut or done inside [from, cut].
// A stage done after cut was still open at cut, and is shown so.
func overdueIn(p *KeyProject, from, cut crm.Date) []OverdueStage {
	var out []OverdueStage
	for _, s := range p.Stages {
		done := s.DoneOn
		if done > cut {
			done = "" // done after the cut-off: open on the day judged
		}
		if s.Due >= cut || (done != "" && done <= s.Due) || (done != "" && done < from) {
			continue
		}
		end := cut
		if done != "" {
			end = done
		}
		late := int(dateOf(end).Sub(dateOf(s.Due)).Hours() / 24)
		out = append(out, OverdueStage{Stage: s.Name, StageName: crm.StageName(s.Name), Due: s.Due, DoneOn: done, DaysLate: late})
	}
	return out
}

// BuildBulletin gathers the bulletin of region (and its subtree) for a
// month: the key projects active in it, their late stages, difficulties
// and service information, and the VIP services of the month.
//
// now is the generation time (the caller's clock, so that the result is a
// function of its inputs): the bulletin is judged at the earlier of the
// period's last day and now's day in CST, and a future period is refused.
func BuildBulletin(r crm.Reader, region, regionName, period string, now time.Time) (*BulletinData, *crm.Error) {
	from, to, e := periodBounds(period)
	if e != nil {
		return nil, e
	}
	today := dayOf(now)
	if from > today {
		return nil, crm.Invalid("period", "%s is a future month (today is %s): a bulletin reports a month that has begun", period, today)
	}
	cut := min(to, today)
	if regionName == "" {
		regionName = region
	}
	d := &BulletinData{Region: region, Period: period, Projects: []ProjectLine{}, Services: []ServiceLine{},
		Title: fmt.Sprintf("%s 重点项目供电服务工作简报（%s）", regionName, period)}
	err := crm.ScanOwned(r, "key_projects", region, true, func(raw []byte) error {
		var p KeyProject
		if err := crm.Unmarshal(raw, &p); err != nil {
			return err
		}
		energised := ""
		for _, s := range p.Stages {
			if s.Name == crm.StageEnergise {
				energised = string(s.DoneOn)
			}
		}
		if p.Status == "energised" && energised != "" && crm.Date(energised) < from {
			return nil // finished before the month
		}
		line := ProjectLine{ID: p.ID, Name: p.Name, Region: p.Region, Kind: p.Kind, Status: p.Status, Progress: p.Progress,
			Overdue: overdueIn(&p, from, cut), Difficulties: p.Difficulties, ServiceInfo: p.ServiceInfo}
		for _, s := range p.Stages {
			if s.DoneOn == "" {
				line.NextStage = crm.StageName(s.Name)
				break
			}
		}
		d.Overdue += len(line.Overdue)
		d.Projects = append(d.Projects, line)
		return nil
	})
	if err != nil {
		return nil, crm.AsError(err)
	}
	sort.SliceStable(d.Projects, func(i, j int) bool {
		if len(d.Projects[i].Overdue) != len(d.Projects[j].Overdue) {
			return len(d.Projects[i].Overdue) > len(d.Projects[j].Overdue)
		}
		return d.Projects[i].ID < d.Projects[j].ID
	})
	names := map[string]string{}
	err = crm.ScanOwned(r, "vip_services", region, true, func(raw []byte) error {
		var v VIPService
		if err := crm.Unmarshal(raw, &v); err != nil {
			return err
		}
		on := v.ScheduledOn
		if v.DoneOn != "" {
			on = v.DoneOn
		}
		if on < from || on > to || v.Status == "cancelled" {
			return nil
		}
		if _, ok := names[v.CustomerID]; !ok {
			var c crm.Customer
			if _, e := crm.LoadRecord(r, "customers", v.CustomerID, &c); e != nil {
				return e
			}
			names[v.CustomerID] = c.Name
		}
		d.Services = append(d.Services, ServiceLine{Customer: names[v.CustomerID], Service: v.Service, Title: v.Title, On: on, Status: v.Status})
		return nil
	})
	if err != nil {
		return nil, crm.AsError(err)
	}
	sort.SliceStable(d.Services, func(i, j int) bool { return d.Services[i].On < d.Services[j].On })
	return d, nil
}

// Highlights answers one line per late stage and difficulty.
func (d *BulletinData) Highlights() []string {
	var out []string
	for _, p := range d.Projects {
		for _, o := range p.Overdue {
			state := "未完成"
			if o.DoneOn != "" {
				state = "已于 " + string(o.DoneOn) + " 完成"
			}
			out = append(out, fmt.Sprintf("%s：%s 逾期 %d 天（期限 %s，%s）", p.Name, o.StageName, o.DaysLate, o.Due, state))
		}
		for _, x := range p.Difficulties {
			out = append(out, fmt.Sprintf("%s：困难 %s", p.Name, x))
		}
	}
	return out
}

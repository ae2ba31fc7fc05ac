package sample

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"gridcrm/crm"
)

// Options for a generated region.
type Options struct {
	Region     string    // GB/T 2260 code, e.g. "320722"; default "320723"
	RegionName string    // e.g. "灌云县"; used in addresses; default from the built-in table
	Customers  int       // number of customers
	Months     int       // months of bills per customer, ending at End (0 = no bills)
	End        time.Time // last billed month (its month is used); zero means 2025-12, never the clock
	Seed       int64
	// AnomalyRate is the share of a household's months whose reading is
	// replaced by a zero, a 30-50% drop or a 40-80% rise (business
	// customers: three times as many); 0 means DefaultAnomalyRate, < 0 none.
	AnomalyRate float64
}

// Data is a generated region. Meta is left zero everywhere: ids are assigned
// by the caller, who then fills the CustomerID of bills and contacts.
type Data struct {
	Customers []crm.Customer
	Bills     [][]crm.Bill // Bills[i] are the bills of Customers[i], oldest first; CustomerID empty
	Staff     []crm.Staff
	Contacts  [][]crm.Contact // Contacts[i] of Customers[i] (none for residential); CustomerID empty
	// Traits[i] are the hidden traits behind Customers[i] and its bills
	// (credit, churn, injected anomalies): never imported, for evaluations.
	Traits []Traits
	// CapacityChanges[i] are the capacity_changes records of Customers[i]
	// (a leaving customer's 减容, hidden.go); CustomerID empty.
	CapacityChanges [][]crm.CapacityChange
}

// Stream selectors, so that customers, bills and staff draw from independent
// sequences: the customers of a seed do not change with Months.
const (
	streamCustomers = 0x6375_7374_6f6d_6572
	streamBills     = 0x6269_6c6c_7300_0000
	streamPeople    = 0x7065_6f70_6c65_0000
	streamContracts = 0x636f_6e74_7261_6374
)

// Generate builds a region deterministically from o: the same Options give
// the same Data.
func Generate(o Options) Data {
	region := o.Region
	if region == "" {
		region = "320723"
	}
	end := o.End
	if end.IsZero() {
		end = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	}
	n := max(o.Customers, 0)
	p := lookupPlace(region, o.RegionName)
	seed := uint64(o.Seed)
	rng := rand.New(rand.NewPCG(seed, streamCustomers))

	profiles := make([]profile, n)
	used := make(map[string]bool)
	for i := range profiles {
		pr := newProfile(rng, p, i+1)
		if pr.tpls != nil { // a business: avoid two of the same name
			for try := 0; used[pr.c.Name] && try < 8; try++ {
				pr.c.Name = expand(rng, pick(rng, pr.tpls), pr.loc, pr.town, pick(rng, villages))
			}
			used[pr.c.Name] = true
		}
		profiles[i] = pr
	}
	balanceGrids(profiles, p.grids)

	rate := o.AnomalyRate
	if rate == 0 {
		rate = DefaultAnomalyRate
	}
	rate = max(rate, 0)
	d := Data{Customers: make([]crm.Customer, n), Bills: make([][]crm.Bill, n), Contacts: make([][]crm.Contact, n), Traits: make([]Traits, n),
		CapacityChanges: make([][]crm.CapacityChange, n)}
	src, csrc := rand.NewPCG(0, 0), rand.NewPCG(0, 0)
	brng, crng := rand.New(src), rand.New(csrc)
	for i := range profiles {
		d.Customers[i] = profiles[i].c
		if d.Customers[i].Category != crm.CategoryResidential { // a stream of its own: the other draws stay as they were
			csrc.Seed(seed^streamContracts, uint64(i))
			d.Customers[i].ContractEnd = contractEnd(crng, end)
		}
		src.Seed(seed^streamBills, uint64(i))
		d.Bills[i] = profiles[i].bills(brng, end, o.Months, rate)
		d.Traits[i] = profiles[i].t
		d.CapacityChanges[i] = profiles[i].capacityChanges(end)
	}
	prng := rand.New(rand.NewPCG(seed, streamPeople))
	for i := range profiles {
		if profiles[i].tpls != nil {
			d.Contacts[i] = contacts(prng, profiles[i].c.Category)
		}
	}
	d.Staff = staff(prng, region, p.grids, profiles)
	return d
}

// balanceGrids divides customers into grid cells (网格划分) so that each cell
// has about the same consumption and about the same number of customers:
// businesses, largest first, go to the cell with the least kWh; households
// then fill the cells with the fewest customers.
func balanceGrids(ps []profile, grids int) {
	kwh := make([]float64, grids)
	count := make([]int, grids)
	var big, small []int
	for i := range ps {
		if ps[i].c.Category == crm.CategoryResidential {
			small = append(small, i)
		} else {
			big = append(big, i)
		}
	}
	slices.SortStableFunc(big, func(a, b int) int {
		switch {
		case ps[a].annual > ps[b].annual:
			return -1
		case ps[a].annual < ps[b].annual:
			return 1
		}
		return 0
	})
	put := func(i, g int) {
		ps[i].c.Grid = gridName(g)
		kwh[g] += ps[i].annual
		count[g]++
	}
	for _, i := range big {
		g := 0
		for j := 1; j < grids; j++ {
			if kwh[j] < kwh[g] || (kwh[j] == kwh[g] && count[j] < count[g]) {
				g = j
			}
		}
		put(i, g)
	}
	for _, i := range small {
		g := 0
		for j := 1; j < grids; j++ {
			if count[j] < count[g] || (count[j] == count[g] && kwh[j] < kwh[g]) {
				g = j
			}
		}
		put(i, g)
	}
}

// contacts are the 1-2 people at a business or institution.
func contacts(rng *rand.Rand, cat string) []crm.Contact {
	titles := map[string][]string{
		crm.CategoryIndustrial:   {"电气负责人", "厂长", "设备科长", "总经理", "财务主管"},
		crm.CategoryCommercial:   {"店长", "负责人", "经理", "财务"},
		crm.CategoryAgricultural: {"理事长", "负责人", "场长"},
		crm.CategoryPublic:       {"办公室主任", "后勤主任", "总务科长", "电工"},
	}[cat]
	out := make([]crm.Contact, 1+rng.IntN(2))
	for i := range out {
		out[i] = crm.Contact{Name: personName(rng), Title: pick(rng, titles), Phone: mobile(rng), Primary: i == 0}
	}
	return out
}

// staff are the region's people: a supervisor, one front account manager
// per grid cell, gold managers for the key customers (about one per eight),
// back-office teams and service-desk agents.
func staff(rng *rand.Rand, region string, grids int, ps []profile) []crm.Staff {
	key := 0
	for i := range ps {
		if keyTag(ps[i].c.Tags) != "" && ps[i].c.Category != crm.CategoryResidential {
			key++
		}
	}
	var out []crm.Staff
	add := func(role, team string) {
		out = append(out, crm.Staff{StaffNo: fmt.Sprintf("YG%s%04d", region, len(out)+1), Name: personName(rng),
			Role: role, Region: region, Team: team, Phone: mobile(rng)})
	}
	add("supervisor", "营销部")
	for g := range grids {
		add("account_manager", gridName(g))
	}
	for range max(1, (key+7)/8) {
		add("gold_manager", "大客户经理室")
	}
	for _, team := range []string{"运维检修", "计量中心", "电费管理中心", "业扩报装"} {
		for range 1 + rng.IntN(2) {
			add("back_office", team)
		}
	}
	for i := range 2 + len(ps)/2500 {
		add("service_agent", []string{"营业厅", "95598服务组"}[i%2])
	}
	return out
}

// keyTag is the first tag that makes a key customer (VIP, 政府重点工程,
// 保供民生), "" if none: direct debit and 减容 are not such tags.
func keyTag(tags []string) string {
	for _, t := range tags {
		switch t {
		case "VIP", "政府重点工程", "保供民生":
			return t
		}
	}
	return ""
}

package sample

import (
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
)

var end = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)

func gen(t testing.TB, region string, customers, months int, seed int64) Data {
	t.Helper()
	return Generate(Options{Region: region, Customers: customers, Months: months, End: end, Seed: seed})
}

func TestGenerate_Deterministic(t *testing.T) {
	a := gen(t, "320723", 500, 6, 42)
	b := gen(t, "320723", 500, 6, 42)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same Options gave different data")
	}
	c := gen(t, "320723", 500, 6, 43)
	if reflect.DeepEqual(a.Customers, c.Customers) || reflect.DeepEqual(a.Bills, c.Bills) || reflect.DeepEqual(a.Staff, c.Staff) {
		t.Fatal("seeds 42 and 43 gave the same data")
	}
	// Customers do not depend on how many months are billed.
	d := gen(t, "320723", 500, 0, 42)
	if !reflect.DeepEqual(a.Customers, d.Customers) {
		t.Fatal("the customers of a seed changed with Months")
	}
}

func TestGenerate_EveryRecordValidates(t *testing.T) {
	for _, region := range []string{"320723", "320722", "320803", "3207", "32", "320999", "440305", "44"} {
		t.Run(region, func(t *testing.T) {
			d := gen(t, region, 2000, 12, 1)
			cid := crm.NewID("cus", time.Now())
			for i := range d.Customers {
				c := d.Customers[i]
				c.Normalize()
				if e := c.Validate(); e != nil {
					t.Fatalf("customer %d %+v: %v", i, c, e)
				}
				if c.Region != region {
					t.Fatalf("customer %d region %q", i, c.Region)
				}
				if len(d.Bills[i]) != 12 {
					t.Fatalf("customer %d has %d bills, want 12", i, len(d.Bills[i]))
				}
				for j, b := range d.Bills[i] {
					want := end.AddDate(0, j-11, 0).Format("2006-01")
					if b.Period != want {
						t.Fatalf("customer %d bill %d period %s, want %s", i, j, b.Period, want)
					}
					if b.KWhPeak+b.KWhFlat+b.KWhValley != b.KWh {
						t.Fatalf("customer %d bill %+v: split does not add up exactly", i, b)
					}
					b.CustomerID = cid
					b.Normalize()
					if e := b.Validate(); e != nil {
						t.Fatalf("customer %d bill %+v: %v", i, b, e)
					}
				}
				if (len(d.Contacts[i]) == 0) != (c.Category == crm.CategoryResidential) || len(d.Contacts[i]) > 2 {
					t.Fatalf("customer %d (%s) has %d contacts", i, c.Category, len(d.Contacts[i]))
				}
				for _, ct := range d.Contacts[i] {
					ct.CustomerID = cid
					ct.Normalize()
					if e := ct.Validate(); e != nil {
						t.Fatalf("contact %+v: %v", ct, e)
					}
				}
			}
			for _, s := range d.Staff {
				s.Normalize()
				if e := s.Validate(); e != nil {
					t.Fatalf("staff %+v: %v", s, e)
				}
			}
		})
	}
}

func TestGenerate_CategoryVoltageCapacity(t *testing.T) {
	d := gen(t, "320723", 5000, 0, 2)
	n := map[string]int{}
	for _, c := range d.Customers {
		n[c.Category]++
		for _, tag := range c.Tags {
			n["tag "+tag]++
			if c.Category == crm.CategoryResidential && tag != DirectDebitTag {
				t.Errorf("household %s tagged %q", c.Name, tag)
			}
		}
		if c.Category == crm.CategoryIndustrial {
			n[fmt.Sprint("kV ", c.VoltageKV)]++
		}
		kv, kva := c.VoltageKV, c.CapacityKVA
		ok := true
		switch c.Category {
		case crm.CategoryResidential:
			ok = (kv == 0.22 || kv == 0.38) && kva >= 4 && kva <= 20
		case crm.CategoryIndustrial:
			ok = (kv == 10 || kv == 35 || kv == 110) && kva >= 315 && kva <= 50000
		default:
			ok = (kv == 0.4 && kva < 250) || (kv == 10 && kva >= 250)
		}
		if !ok {
			t.Errorf("%s %s: %v kV, %v kVA", c.Category, c.Name, kv, kva)
		}
		if strings.ContainsAny(c.Name, "{}") || strings.ContainsAny(c.Address, "{}") {
			t.Errorf("template left in %q, %q", c.Name, c.Address)
		}
	}
	for _, x := range []string{"tag VIP", "tag 政府重点工程", "tag 保供民生", "kV 35"} {
		if n[x] == 0 {
			t.Errorf("no customer with %s: %v", x, n)
		}
	}
	want := map[string]float64{crm.CategoryResidential: 0.80, crm.CategoryCommercial: 0.10,
		crm.CategoryIndustrial: 0.05, crm.CategoryAgricultural: 0.03, crm.CategoryPublic: 0.02}
	for cat, w := range want {
		if got := float64(n[cat]) / 5000; math.Abs(got-w) > 0.015 {
			t.Errorf("%s share %.3f, want about %.2f", cat, got, w)
		}
	}
}

// annualKWh sums each customer's bills.
func annualKWh(d Data) []float64 {
	out := make([]float64, len(d.Bills))
	for i, bs := range d.Bills {
		for _, b := range bs {
			out[i] += b.KWh
		}
	}
	return out
}

func TestGenerate_Pareto(t *testing.T) {
	kwh := annualKWh(gen(t, "320723", 5000, 12, 1))
	slices.Sort(kwh)
	slices.Reverse(kwh)
	total, top := 0.0, 0.0
	for i, v := range kwh {
		total += v
		if i < len(kwh)/5 {
			top += v
		}
	}
	share := top / total
	t.Logf("top 20%% of 5000 customers use %.1f%% of %.0f kWh", 100*share, total)
	if share < 0.70 || share > 0.90 {
		t.Fatalf("top 20%% share is %.3f, want 0.70-0.90", share)
	}
}

func TestGenerate_Seasonality(t *testing.T) {
	d := gen(t, "320723", 3000, 12, 3)
	month := map[string]*[12]float64{}
	for _, c := range crm.Categories {
		month[c] = new([12]float64)
	}
	for i, bs := range d.Bills {
		for _, b := range bs {
			m, _ := time.Parse("2006-01", b.Period)
			month[d.Customers[i].Category][m.Month()-1] += b.KWh
		}
	}
	res := month[crm.CategoryResidential]
	if res[6]+res[7] <= res[3]+res[9] {
		t.Errorf("residential Jul+Aug %.0f <= Apr+Oct %.0f", res[6]+res[7], res[3]+res[9])
	}
	if res[0]+res[11] <= res[3]+res[9] {
		t.Errorf("residential Jan+Dec %.0f <= Apr+Oct %.0f", res[0]+res[11], res[3]+res[9])
	}
	agri := month[crm.CategoryAgricultural]
	irr := agri[4] + agri[5] + agri[6] + agri[7]
	if rest := sum(agri[:]) - irr; irr/4 <= 1.5*rest/8 {
		t.Errorf("agricultural May-Aug average %.0f not well above the rest %.0f", irr/4, rest/8)
	}
	if cv(month[crm.CategoryIndustrial][:]) >= cv(res[:]) {
		t.Errorf("industrial is not flatter than residential")
	}
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// cv is the coefficient of variation.
func cv(xs []float64) float64 {
	m := sum(xs) / float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return math.Sqrt(v/float64(len(xs))) / m
}

func TestGenerate_Payments(t *testing.T) {
	d := gen(t, "320723", 5000, 12, 4)
	var bills, arrears, late int
	var byAge [12]int
	for i, bs := range d.Bills {
		for j, b := range bs {
			bills++
			if b.Arrears > 0 {
				arrears++
				byAge[j]++
			}
			if b.Paid == b.Billed && b.Billed > 0 {
				p, _ := time.Parse("2006-01", b.Period)
				pd, err := time.Parse("2006-01-02", string(b.PayDate))
				if err != nil || pd.Before(p.AddDate(0, 1, 0)) || pd.After(dueDay(end)) {
					t.Fatalf("bill %+v paid on %q, before the following month or after %s's bills fell due", b, b.PayDate, end.Format("2006-01"))
				}
				if pd.After(dueDay(p)) {
					late++
					if d.Traits[i].Credit == CreditGood && pd.After(dueDay(p).AddDate(0, 0, 90)) && !inRun(d.Traits[i], bs, j) {
						t.Errorf("a good payer's bill %s paid on %s", b.Period, b.PayDate)
					}
				}
			}
		}
	}
	share := float64(arrears) / float64(bills)
	t.Logf("%.1f%% of bills in arrears, %.1f%% paid late; in arrears by month: %v", 100*share, 100*float64(late)/float64(bills), byAge)
	if share < 0.005 || share > 0.05 {
		t.Errorf("%.3f of bills in arrears, want 0.005-0.05", share)
	}
	if byAge[11] <= 2*byAge[0] {
		t.Errorf("latest month has %d bills in arrears, oldest %d: want more recent arrears", byAge[11], byAge[0])
	}
	if l := float64(late) / float64(bills); l < 0.02 || l > 0.10 {
		t.Errorf("%.3f of bills paid late, want 0.02-0.10", l)
	}
}

// inRun reports whether bill j was paid off after a run in arrears (its
// payment came with a later bill's).
func inRun(_ Traits, bs []crm.Bill, j int) bool {
	return j+1 < len(bs) && bs[j+1].PayDate != "" && bs[j].PayDate >= bs[j+1].PayDate
}

func TestGenerate_UniqueNumbersAndGrids(t *testing.T) {
	d := gen(t, "320723", 5000, 12, 5)
	seen := map[string]bool{}
	for _, c := range d.Customers {
		if seen[c.AccountNo] {
			t.Fatalf("account_no %s twice", c.AccountNo)
		}
		seen[c.AccountNo] = true
	}
	if got := d.Customers[122].AccountNo; got != "3207230000123" {
		t.Errorf("customer 123 has account_no %s", got)
	}
	staffNo := map[string]bool{}
	roles := map[string]int{}
	for _, s := range d.Staff {
		if staffNo[s.StaffNo] {
			t.Fatalf("staff_no %s twice", s.StaffNo)
		}
		staffNo[s.StaffNo] = true
		roles[s.Role]++
	}
	for _, r := range []string{"account_manager", "gold_manager", "service_agent"} {
		if roles[r] == 0 {
			t.Errorf("no %s among %v", r, roles)
		}
	}
	count := map[string]int{}
	kwh := map[string]float64{}
	annual := annualKWh(d)
	for i, c := range d.Customers {
		count[c.Grid]++
		kwh[c.Grid] += annual[i]
	}
	if len(count) < 8 || len(count) > 12 {
		t.Fatalf("%d grid cells, want 8-12", len(count))
	}
	mean := 5000 / float64(len(count))
	meanKWh := sum(annual) / float64(len(count))
	for g := range count {
		if math.Abs(float64(count[g])-mean) > 0.02*mean {
			t.Errorf("grid %s has %d customers, mean %.0f", g, count[g], mean)
		}
		if math.Abs(kwh[g]-meanKWh) > 0.25*meanKWh {
			t.Errorf("grid %s uses %.0f kWh, mean %.0f", g, kwh[g], meanKWh)
		}
	}
}

func TestCustomer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for n := range 2000 {
		c := Customer(rng, "320722", n)
		c.Normalize()
		if e := c.Validate(); e != nil {
			t.Fatalf("customer %d %+v: %v", n, c, e)
		}
		if seen[c.AccountNo] {
			t.Fatalf("account_no %s twice", c.AccountNo)
		}
		seen[c.AccountNo] = true
		if c.Category == crm.CategoryResidential && !strings.Contains(c.Address, "东海县") {
			t.Fatalf("address %q is not in 东海县", c.Address)
		}
	}
}

// TestApply_ImportsRegion feeds a generated region through crm.Apply, as the
// demo does: ids from crm.NewID, CustomerIDs filled, OpImport in batches.
func TestApply_ImportsRegion(t *testing.T) {
	const region = "320723"
	d := gen(t, region, 1500, 12, 6)
	tx := crm.NewMemTxn()
	now := time.Now()
	importAll := func(coll, prefix string, rows []any) []string {
		ids := make([]string, len(rows))
		for i := range ids {
			ids[i] = crm.NewID(prefix, now)
		}
		for lo := 0; lo < len(rows); lo += crm.MaxImportRows {
			hi := min(lo+crm.MaxImportRows, len(rows))
			cmd := &crm.Command{Op: crm.OpImport, Collection: coll, IDs: ids[lo:hi], Region: region, Actor: "demo", Time: now}
			for _, r := range rows[lo:hi] {
				raw, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				cmd.Rows = append(cmd.Rows, raw)
			}
			if res := crm.Apply(tx, cmd); res.Err != nil {
				t.Fatalf("import %s: %v (%+v)", coll, res.Err, res.Err.Rows)
			}
		}
		return ids
	}
	var rows []any
	for i := range d.Customers {
		rows = append(rows, &d.Customers[i])
	}
	cids := importAll("customers", "cus", rows)
	rows = nil
	var contacts []any
	for i := range d.Bills {
		for j := range d.Bills[i] {
			d.Bills[i][j].CustomerID = cids[i]
			rows = append(rows, &d.Bills[i][j])
		}
		for j := range d.Contacts[i] {
			d.Contacts[i][j].CustomerID = cids[i]
			contacts = append(contacts, &d.Contacts[i][j])
		}
	}
	bids := importAll("bills", "bil", rows)
	importAll("contacts", "con", contacts)
	rows = nil
	for i := range d.Staff {
		rows = append(rows, &d.Staff[i])
	}
	importAll("staff", "stf", rows)

	raw, e := crm.Get(tx, "bills", bids[len(bids)-1])
	if e != nil {
		t.Fatal(e)
	}
	var b crm.Bill
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	if b.CustomerID != cids[len(cids)-1] || b.Period != "2025-12" || b.Owner != region {
		t.Fatalf("stored bill %+v", b)
	}
	// A second import of the same customers is refused: account_no is unique.
	rows = nil
	for i := range d.Customers[:1] {
		rows = append(rows, &d.Customers[i])
	}
	cmd := &crm.Command{Op: crm.OpImport, Collection: "customers", IDs: []string{crm.NewID("cus", now)}, Region: region, Actor: "demo", Time: now}
	raw, _ = json.Marshal(rows[0])
	cmd.Rows = append(cmd.Rows, raw)
	if res := crm.Apply(tx, cmd); res.Err == nil || res.Err.Rows[0].Code != crm.CodeDuplicate {
		t.Fatalf("re-import of account %s: %+v", d.Customers[0].AccountNo, res.Err)
	}
}

// TestDoc_OnePackageComment keeps the package comment in doc.go alone.
func TestDoc_OnePackageComment(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if (af.Doc != nil) != (f == "doc.go") {
			t.Errorf("%s: package comment present = %v; only doc.go has one", f, af.Doc != nil)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d := Generate(Options{Region: "320723", Customers: 10_000, Months: 12, End: end, Seed: int64(i)})
		if len(d.Bills) != 10_000 {
			b.Fatal(len(d.Bills))
		}
	}
}

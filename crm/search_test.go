package crm_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/sample"
	"gridcrm/store/keyspace"
)

// searchIDs answers the ids SearchCustomers finds for text in region's
// subtree, following cursors to the end.
func searchIDs(t testing.TB, r crm.Reader, text, region string, limit int) []string {
	t.Helper()
	var ids []string
	q := crm.SearchQuery{Text: text, Region: region, Subtree: true, Limit: limit}
	for range 10_000 {
		page, e := crm.SearchCustomers(r, q)
		if e != nil {
			t.Fatalf("search %q: %v", text, e)
		}
		for _, raw := range page.Items {
			var m crm.Meta
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		if page.Next == "" {
			return ids
		}
		q.After = page.Next
	}
	t.Fatalf("search %q: no end of pages", text)
	return nil
}

func searchCustomer(t *testing.T, tx crm.Txn, ids *idGen, region string, fields obj) string {
	t.Helper()
	body := obj{"account_no": fmt.Sprintf("A%d", ids.n+1), "name": "客户", "category": "residential", "voltage_kv": 0.22, "region": region}
	for k, v := range fields {
		body[k] = v
	}
	id := ids.next("cus")
	if res := crm.Apply(tx, newCmd(t, crm.OpCreate, "customers", id, region, 0, body)); res.Err != nil {
		t.Fatalf("create %v: %v", fields, res.Err)
	}
	return id
}

func TestSearch_Matches(t *testing.T) {
	tx := crm.NewMemTxn()
	var ids idGen
	a := searchCustomer(t, tx, &ids, "320722", obj{"name": "淮安市恒通机械有限公司", "account_no": "3207220001234", "address": "淮阴区长江东路 88 号",
		"phone": "0517-86543210", "feeder": "10kV 王营线", "transformer_area": "王营3号台区", "tags": []string{"VIP", "政府重点工程"}, "category": "industrial", "voltage_kv": 10})
	b := searchCustomer(t, tx, &ids, "320722", obj{"name": "张伟", "account_no": "3207220005678", "phone": "13912345678", "address": "王营镇张庄村"})
	c := searchCustomer(t, tx, &ids, "320723", obj{"name": "ＡＢＣ Trading 公司", "account_no": "3207230000001", "phone": "13800001111"})
	cases := []struct {
		q    string
		want []string
	}{
		{"恒通机械", []string{a}},
		{"通机", []string{a}}, // a 2-character substring
		{"张", []string{b}},  // one Chinese character: names
		{"张伟", []string{b}},
		{"长江东路88号", []string{a}}, // spaces folded away
		{"长江东路 88 号", []string{a}},
		{"8654 3210", []string{a}}, // phone digits, separators folded
		{"86543210", []string{a}},
		{"5678", []string{b}},          // a phone's (and 户号's) last digits
		{"0517", []string{a}},          // area code
		{"320722", []string{a, b}},     // 户号 prefix
		{"3207220001", []string{a}},    // longer 户号 prefix
		{"32072200012", []string{a}},   // odd length: the 10-prefix, verified
		{"3207230000001", []string{c}}, // whole 户号
		{"vip", []string{a}},           // tag, lower case
		{"ＶＩＰ", []string{a}},           // full width
		{"重点工程", []string{a}},
		{"王营线", []string{a}},         // feeder
		{"王营", []string{a, b}},       // feeder/area of one, address of the other
		{"abc", []string{c}},         // full-width name, folded
		{"ABC TRADING", []string{c}}, // case and space
		{"trading公司", []string{c}},
		{"恒通重工", nil}, // grams present apart, not together
		{"机械有限公司淮安", nil},
		{"1234", []string{b}}, // 13912345678 holds 1234; a's 3207220001234 is a 户号, matched by prefix only
	}
	for _, tc := range cases {
		got := searchIDs(t, tx, tc.q, "32", 10)
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("search %q found %v; want %v", tc.q, got, want)
		}
	}
	// Scope: a region's own search sees none of its sibling's.
	if got := searchIDs(t, tx, "公司", "320722", 10); !slices.Equal(got, []string{a}) {
		t.Errorf("公司 in 320722: %v; want [%s]", got, a)
	}
	if got := searchIDs(t, tx, "公司", "320723", 10); !slices.Equal(got, []string{c}) {
		t.Errorf("公司 in 320723: %v; want [%s]", got, c)
	}
	page, e := crm.SearchCustomers(tx, crm.SearchQuery{Text: "公司", Region: "3207", Subtree: false})
	if e != nil || len(page.Items) != 0 {
		t.Errorf("公司 in 3207 alone: %d items, %v; want none (they are below it)", len(page.Items), e)
	}
	// Filters.
	page, e = crm.SearchCustomers(tx, crm.SearchQuery{Text: "王营", Region: "32", Subtree: true, Category: "industrial"})
	if e != nil || len(page.Items) != 1 {
		t.Errorf("王营 industrial: %d items, %v; want 1", len(page.Items), e)
	}
	// Bad queries name their field.
	for _, tc := range []struct {
		q     crm.SearchQuery
		field string
	}{
		{crm.SearchQuery{Text: "", Region: "32"}, "q"},
		{crm.SearchQuery{Text: " ,。 ", Region: "32"}, "q"},
		{crm.SearchQuery{Text: "ab", Region: "32"}, "q"},
		{crm.SearchQuery{Text: "123", Region: "32"}, "q"},
		{crm.SearchQuery{Text: strings.Repeat("张", 101), Region: "32"}, "q"},
		{crm.SearchQuery{Text: "张伟", Region: "32", Limit: 5000}, "limit"},
		{crm.SearchQuery{Text: "张伟", Region: "3x"}, "region"},
		{crm.SearchQuery{Text: "张伟", Region: "32", Category: "nope"}, "category"},
		{crm.SearchQuery{Text: "张伟", Region: "32", Status: "nope"}, "status"},
		{crm.SearchQuery{Text: "张伟", Region: "32", After: "garbage"}, "cursor"},
	} {
		if _, e := crm.SearchCustomers(tx, tc.q); e == nil || e.Field != tc.field {
			t.Errorf("search %+v: %v; want an error naming %s", tc.q, e, tc.field)
		}
	}
}

// TestSearch_UpdateAndDeleteLeaveNoStaleHits renames, renumbers and
// deletes customers, here and on a replica (ApplyReplica), and checks
// searches and the index keys left.
func TestSearch_UpdateAndDeleteLeaveNoStaleHits(t *testing.T) {
	tx := crm.NewMemTxn()
	replica := crm.NewMemTxn()
	var ids idGen
	id := searchCustomer(t, tx, &ids, "320722", obj{"name": "恒通机械厂", "account_no": "1111222233", "phone": "13912345678", "tags": []string{"VIP"}})
	copyTo := func() {
		raw, err := tx.Get([]byte(keyspace.Record("customers", id)))
		if err != nil {
			t.Fatal(err)
		}
		if err := crm.ApplyReplica(replica, keyspace.Record("customers", id), raw); err != nil {
			t.Fatal(err)
		}
	}
	copyTo()
	for _, r := range []crm.Reader{tx, replica} {
		if got := searchIDs(t, r, "恒通", "32", 10); !slices.Equal(got, []string{id}) {
			t.Fatalf("before rename: %v", got)
		}
	}
	res := crm.Apply(tx, newCmd(t, crm.OpUpdate, "customers", id, "320722", 1, obj{"name": "华兴纺织公司", "account_no": "9999888877", "phone": "13700001111", "tags": []string{"保供民生"}}))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	copyTo()
	for i, r := range []crm.Reader{tx, replica} {
		for _, q := range []string{"恒通", "机械", "1111222233", "12345678", "vip"} {
			if got := searchIDs(t, r, q, "32", 10); len(got) != 0 {
				t.Errorf("store %d: old %q still finds %v after the rename", i, q, got)
			}
		}
		for _, q := range []string{"华兴", "纺织", "99998888", "00001111", "保供"} {
			if got := searchIDs(t, r, q, "32", 10); !slices.Equal(got, []string{id}) {
				t.Errorf("store %d: new %q finds %v; want [%s]", i, q, got, id)
			}
		}
	}
	if res := crm.Apply(tx, newCmd(t, crm.OpDelete, "customers", id, "320722", 0, nil)); res.Err != nil {
		t.Fatal(res.Err)
	}
	if err := crm.ApplyReplica(replica, keyspace.Record("customers", id), nil); err != nil {
		t.Fatal(err)
	}
	for i, r := range []crm.Reader{tx, replica} {
		if got := searchIDs(t, r, "华兴", "32", 10); len(got) != 0 {
			t.Errorf("store %d: a deleted customer is found: %v", i, got)
		}
		for _, f := range []string{"_q", "_qa"} {
			n := 0
			p := keyspace.IndexField("customers", f)
			_ = r.Iterate([]byte(p), []byte(keyspace.End(p)), func(k, _ []byte) bool { n++; return true })
			if n != 0 {
				t.Errorf("store %d: %d %s entries left after the delete", i, n, f)
			}
		}
	}
}

// TestSearch_AgainstScan generates a region of sample customers and checks,
// for substrings of their own fields picked at random, that a search
// (followed page by page, 7 at a time) finds exactly the customers a scan
// of every record finds.
func TestSearch_AgainstScan(t *testing.T) {
	tx := crm.NewMemTxn()
	var all []crm.Customer
	for _, region := range []string{"320722", "320723"} {
		d := sample.Generate(sample.Options{Region: region, Customers: 600, Seed: 7})
		var ids idGen
		ids.n = len(all)
		for lo := 0; lo < len(d.Customers); lo += 200 {
			cmd := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: region, Actor: actor, Time: t0}
			for i := lo; i < lo+200; i++ {
				cmd.Rows = append(cmd.Rows, clientBody(t, &d.Customers[i]))
				id := ids.next("cus")
				cmd.IDs = append(cmd.IDs, id)
				c := d.Customers[i]
				c.ID = id
				all = append(all, c)
			}
			if res := crm.Apply(tx, cmd); res.Err != nil {
				t.Fatalf("import: %v %+v", res.Err, res.Err.Rows)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	scan := func(fq, region string) []string {
		var out []string
		for _, c := range all {
			if !strings.HasPrefix(c.Region, region) {
				continue
			}
			hit := strings.HasPrefix(crm.Fold(c.AccountNo), fq)
			for _, s := range append([]string{c.Name, c.Address, c.Phone, c.Feeder, c.TransformerArea, c.Grid}, c.Tags...) {
				hit = hit || (s != "" && strings.Contains(crm.Fold(s), fq))
			}
			if hit {
				out = append(out, c.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	checked := 0
	for range 300 {
		c := all[rng.IntN(len(all))]
		fields := append([]string{c.Name, c.Address, c.Phone, c.AccountNo}, c.Tags...)
		s := []rune(fields[rng.IntN(len(fields))])
		if len(s) < 2 {
			continue
		}
		lo := rng.IntN(len(s) - 1)
		hi := lo + 2 + rng.IntN(min(6, len(s)-lo-1))
		text := string(s[lo:min(hi, len(s))])
		if fields[3] == string(s) {
			text = string(s[:4+rng.IntN(len(s)-3)]) // 户号: a prefix
		}
		region := []string{"32", "320722", "320723"}[rng.IntN(3)]
		if _, e := crm.SearchCustomers(tx, crm.SearchQuery{Text: text, Region: region, Subtree: true}); e != nil {
			if e.Field != "q" {
				t.Fatalf("search %q: %v", text, e)
			}
			continue // too short to search (two ASCII characters)
		}
		got := searchIDs(t, tx, text, region, 7)
		slices.Sort(got)
		if want := scan(crm.Fold(text), region); !slices.Equal(got, want) {
			t.Errorf("search %q in %s: %d found, the scan finds %d\n got %v\nwant %v", text, region, len(got), len(want), got, want)
		}
		checked++
	}
	if checked < 200 {
		t.Fatalf("only %d queries checked", checked)
	}

	// With a budget of a few hundred entries, calls answer partial pages;
	// followed to the end they find the same customers.
	defer crm.SetSearchBudget(crm.SetSearchBudget(300))
	partial := 0
	for _, text := range []string{"网格", "江苏", "有限公司", "庄村", "0518"} {
		var got []string
		q := crm.SearchQuery{Text: text, Region: "32", Subtree: true, Limit: 1000}
		for range 1000 {
			page, e := crm.SearchCustomers(tx, q)
			if e != nil {
				t.Fatal(e)
			}
			if page.Partial {
				partial++
			}
			for _, raw := range page.Items {
				var m crm.Meta
				_ = json.Unmarshal(raw, &m)
				got = append(got, m.ID)
			}
			if q.After = page.Next; q.After == "" {
				break
			}
		}
		slices.Sort(got)
		if want := scan(crm.Fold(text), "32"); !slices.Equal(got, want) {
			t.Errorf("search %q on a budget: %d found, the scan finds %d", text, len(got), len(want))
		}
	}
	if partial == 0 {
		t.Error("no call ran out of budget: the partial path was not tested")
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"ＡＢＣ１２３":          "abc123",
		"Hello, World!":   "helloworld",
		"淮安市 (清江浦区)":      "淮安市清江浦区",
		"0517-8654\t3210": "051786543210",
		"ｶﾀｶﾅ":            "カタカナ",
		"长江东路８８号":         "长江东路88号",
	} {
		if got := crm.Fold(in); got != want {
			t.Errorf("Fold(%q) = %q; want %q", in, got, want)
		}
	}
}

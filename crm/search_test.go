package crm_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gridcrm/crm"
	"gridcrm/crm/crmtest"
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

func searchCustomer(t *testing.T, tx crm.Txn, ids *crmtest.IDGen, region string, fields crmtest.Obj) string {
	t.Helper()
	body := crmtest.Obj{"account_no": fmt.Sprintf("A%d", ids.N+1), "name": "客户", "category": "residential", "voltage_kv": 0.22, "region": region}
	for k, v := range fields {
		body[k] = v
	}
	id := ids.Next("cus")
	if res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpCreate, "customers", id, region, 0, body)); res.Err != nil {
		t.Fatalf("create %v: %v", fields, res.Err)
	}
	return id
}

func TestSearch_Matches(t *testing.T) {
	tx := crm.NewMemTxn()
	var ids crmtest.IDGen
	a := searchCustomer(t, tx, &ids, "320722", crmtest.Obj{"name": "淮安市恒通机械有限公司", "account_no": "3207220001234", "address": "淮阴区长江东路 88 号",
		"phone": "0517-86543210", "feeder": "10kV 王营线", "transformer_area": "王营3号台区", "tags": []string{"VIP", "政府重点工程"}, "category": "industrial", "voltage_kv": 10})
	b := searchCustomer(t, tx, &ids, "320722", crmtest.Obj{"name": "张伟", "account_no": "3207220005678", "phone": "13912345678", "address": "王营镇张庄村"})
	c := searchCustomer(t, tx, &ids, "320723", crmtest.Obj{"name": "ＡＢＣ Trading 公司", "account_no": "3207230000001", "phone": "13800001111"})
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
	var ids crmtest.IDGen
	id := searchCustomer(t, tx, &ids, "320722", crmtest.Obj{"name": "恒通机械厂", "account_no": "1111222233", "phone": "13912345678", "tags": []string{"VIP"}})
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
	res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpUpdate, "customers", id, "320722", 1, crmtest.Obj{"name": "华兴纺织公司", "account_no": "9999888877", "phone": "13700001111", "tags": []string{"保供民生"}}))
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
	if res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpDelete, "customers", id, "320722", 0, nil)); res.Err != nil {
		t.Fatal(res.Err)
	}
	if err := crm.ApplyReplica(replica, keyspace.Record("customers", id), nil); err != nil {
		t.Fatal(err)
	}
	for i, r := range []crm.Reader{tx, replica} {
		if got := searchIDs(t, r, "华兴", "32", 10); len(got) != 0 {
			t.Errorf("store %d: a deleted customer is found: %v", i, got)
		}
		for _, p := range []string{keyspace.SearchPrefix, keyspace.SearchAccountPrefix, keyspace.IndexField("customers", "_q"), keyspace.IndexField("customers", "_qa")} {
			n := 0
			_ = r.Iterate([]byte(p), []byte(keyspace.End(p)), func(k, _ []byte) bool { n++; return true })
			if n != 0 {
				t.Errorf("store %d: %d %q entries left after the delete", i, n, p)
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
		var ids crmtest.IDGen
		ids.N = len(all)
		for lo := 0; lo < len(d.Customers); lo += 200 {
			cmd := &crm.Command{Op: crm.OpImport, Collection: "customers", Region: region, Actor: crmtest.Actor, Time: crmtest.T0}
			for i := lo; i < lo+200; i++ {
				cmd.Rows = append(cmd.Rows, crmtest.ClientBody(t, &d.Customers[i]))
				id := ids.Next("cus")
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

	// One Chinese character finds the names that hold it (wherever it is
	// in the name), from the postings of the grams that begin with it.
	nameScan := func(fq, region string) []string {
		var out []string
		for _, c := range all {
			if strings.HasPrefix(c.Region, region) && strings.Contains(crm.Fold(c.Name), fq) {
				out = append(out, c.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	for i := range 100 {
		c := all[rng.IntN(len(all))]
		name := []rune(crm.Fold(c.Name))
		ch := string(name[len(name)-1]) // the last character: its own gram
		if i%2 == 0 {
			ch = string(name[rng.IntN(len(name))]) // any: the grams it begins
		}
		if ch[0] < 0x80 {
			continue
		}
		region := []string{"32", "320722", "320723"}[rng.IntN(3)]
		got := searchIDs(t, tx, ch, region, 7)
		if !slices.IsSorted(got) {
			t.Errorf("search %q in %s: not in position order: %v", ch, region, got)
		}
		slices.Sort(got)
		if want := nameScan(ch, region); !slices.Equal(got, want) {
			t.Errorf("search %q in %s: %d found, the names holding it %d", ch, region, len(got), len(want))
		}
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

// TestSearch_Positions: a position holds the region and id it was made of,
// a region's subtree is a prefix of its positions, and positions sort as
// region then id do as text.
func TestSearch_Positions(t *testing.T) {
	var ids crmtest.IDGen
	regions := []string{"32", "3207", "320722", "320723", "3208", "320812", "33", "11", "990101"}
	type rp struct{ region, id, pos string }
	var all []rp
	for _, region := range regions {
		for range 3 {
			id := ids.Next("cus")
			all = append(all, rp{region, id, crm.SearchPos(region, id)})
		}
	}
	all = append(all, rp{"3207", "cus_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", crm.SearchPos("3207", "cus_ZZZZZZZZZZZZZZZZZZZZZZZZZZ")}, // beyond 128 bits
		rp{"3207", "cus_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", crm.SearchPos("3207", "cus_7ZZZZZZZZZZZZZZZZZZZZZZZZZ")}, // the largest of 128
		rp{"3207", "cus_00000000000000000000000000", crm.SearchPos("3207", "cus_00000000000000000000000000")})
	for _, a := range all {
		region, id, ok := crm.DecodeSearchPos(a.pos)
		if !ok || region != a.region || id != a.id {
			t.Errorf("position of %s@%s reads %s@%s (%v)", a.id, a.region, id, region, ok)
		}
		for _, b := range all {
			textOrder := strings.Compare(a.region+"\x00"+a.id, b.region+"\x00"+b.id)
			if got := strings.Compare(a.pos, b.pos); got != textOrder {
				t.Errorf("%s@%s against %s@%s: positions compare %d, text %d", a.id, a.region, b.id, b.region, got, textOrder)
			}
			inSubtree := strings.HasPrefix(b.region, a.region)
			prefix := crm.SearchPos(a.region, a.id)[:len(a.region)/2]
			if strings.HasPrefix(b.pos, prefix) != inSubtree {
				t.Errorf("%s in the subtree of %s: %v; its position says %v", b.region, a.region, inSubtree, !inSubtree)
			}
		}
	}
}

// countingTxn counts the writes made through it.
type countingTxn struct {
	*crm.MemTxn
	sets, deletes []string
}

func (c *countingTxn) Set(k, v []byte) error {
	c.sets = append(c.sets, string(k))
	return c.MemTxn.Set(k, v)
}

func (c *countingTxn) Delete(k []byte) error {
	c.deletes = append(c.deletes, string(k))
	return c.MemTxn.Delete(k)
}

func searchWrites(keys []string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasPrefix(k, keyspace.SearchPrefix) || strings.HasPrefix(k, keyspace.SearchAccountPrefix) {
			out = append(out, k)
		}
	}
	return out
}

// TestSearch_UpdateWritesWhatChanged: an update writes the search entries
// it adds and deletes those it drops, no others, here and on a replica.
func TestSearch_UpdateWritesWhatChanged(t *testing.T) {
	tx := &countingTxn{MemTxn: crm.NewMemTxn()}
	replica := &countingTxn{MemTxn: crm.NewMemTxn()}
	var ids crmtest.IDGen
	id := searchCustomer(t, tx, &ids, "320722", crmtest.Obj{"name": "恒通机械厂", "account_no": "1111222233", "address": "王营镇张庄村", "phone": "13912345678"})
	record := func() (json.RawMessage, *crm.Customer) {
		raw, _ := tx.Get([]byte(keyspace.Record("customers", id)))
		var c crm.Customer
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		return raw, &c
	}
	raw, before := record()
	if err := crm.ApplyReplica(replica, keyspace.Record("customers", id), raw); err != nil {
		t.Fatal(err)
	}
	for i, store := range []*countingTxn{tx, replica} {
		if got, want := len(searchWrites(store.sets)), len(crm.SearchKeys(before)); got != want {
			t.Errorf("store %d: the create wrote %d search entries; want %d", i, got, want)
		}
	}
	for _, tc := range []struct {
		body crmtest.Obj
		what string
	}{
		{crmtest.Obj{"status": "suspended"}, "a status"},
		{crmtest.Obj{"name": "恒通机械公司"}, "a name"},
		{crmtest.Obj{"phone": "13700001111", "tags": []string{"VIP"}}, "a phone and a tag"},
	} {
		tx.sets, tx.deletes, replica.sets, replica.deletes = nil, nil, nil, nil
		_, old := record()
		if res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpUpdate, "customers", id, "320722", old.Version, tc.body)); res.Err != nil {
			t.Fatal(res.Err)
		}
		raw, now := record()
		if err := crm.ApplyReplica(replica, keyspace.Record("customers", id), raw); err != nil {
			t.Fatal(err)
		}
		oldK, newK := crm.SearchKeys(old), crm.SearchKeys(now)
		var added, dropped []string
		for _, k := range newK {
			if !slices.Contains(oldK, k) {
				added = append(added, k)
			}
		}
		for _, k := range oldK {
			if !slices.Contains(newK, k) {
				dropped = append(dropped, k)
			}
		}
		if tc.what == "a status" && len(added)+len(dropped) != 0 {
			t.Fatalf("a status changes search entries: %q %q", added, dropped)
		}
		if tc.what != "a status" && (len(added) == 0 || len(dropped) == 0) {
			t.Fatalf("%s changes no search entry", tc.what)
		}
		slices.Sort(added)
		slices.Sort(dropped)
		for i, store := range []*countingTxn{tx, replica} {
			sets, dels := searchWrites(store.sets), searchWrites(store.deletes)
			slices.Sort(sets)
			slices.Sort(dels)
			if !slices.Equal(sets, added) || !slices.Equal(dels, dropped) {
				t.Errorf("store %d, %s changed: set %d and deleted %d search entries; want %d and %d", i, tc.what, len(sets), len(dels), len(added), len(dropped))
			}
		}
	}
}

// searchResults answers, for each query, the ids found in each region
// searched (every page followed), in the order found.
func searchResults(t *testing.T, r crm.Reader, queries []string) map[string][]string {
	out := map[string][]string{}
	for _, q := range queries {
		for _, region := range []string{"32", "320722", "320723"} {
			if _, e := crm.SearchCustomers(r, crm.SearchQuery{Text: q, Region: region, Subtree: true}); e != nil {
				continue // too short
			}
			out[q+"@"+region] = searchIDs(t, r, q, region, 25)
		}
	}
	return out
}

// TestSearch_MigrateOldLayout: a store whose search index is of the first
// layout (written here by OldSearchKeys, as that version wrote it; copies
// of another region's customers among them, as a city holds) is indexed
// again by MigrateSearch, answers every query as a store written with the
// current layout does, and keeps no entry of the old one.
func TestSearch_MigrateOldLayout(t *testing.T) {
	tx := crm.NewMemTxn()
	var cs []crm.Customer
	for i, region := range []string{"320722", "320723"} {
		d := sample.Generate(sample.Options{Region: region, Customers: 300, Seed: int64(11 + i)})
		var ids crmtest.IDGen
		ids.N = 1000 * i
		for j := range d.Customers {
			id := ids.Next("cus")
			if region == "320722" {
				if res := crm.Apply(tx, crmtest.NewCmd(t, crm.OpCreate, "customers", id, region, 0, crmtest.ClientBody(t, &d.Customers[j]))); res.Err != nil {
					t.Fatal(res.Err)
				}
				continue
			}
			// 320723's customers arrive as copies (ApplyReplica), as at the city.
			c := d.Customers[j]
			c.ID, c.Owner, c.Region, c.Version = id, region, region, 1
			raw, err := json.Marshal(&c)
			if err != nil {
				t.Fatal(err)
			}
			if err := crm.ApplyReplica(tx, keyspace.Record("customers", id), raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = tx.Iterate([]byte(keyspace.Collection("customers")), []byte(keyspace.End(keyspace.Collection("customers"))), func(_, v []byte) bool {
		var c crm.Customer
		if err := json.Unmarshal(v, &c); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
		return true
	})
	if len(cs) != 600 {
		t.Fatalf("%d customers stored; want 600", len(cs))
	}
	// The queries: substrings of the customers' fields, one character of a
	// name, 户号 prefixes.
	rng := rand.New(rand.NewPCG(3, 4))
	var queries []string
	for range 60 {
		c := cs[rng.IntN(len(cs))]
		name := []rune(c.Name)
		addr := []rune(c.Address)
		lo := rng.IntN(max(1, len(addr)-3))
		queries = append(queries, string(name[rng.IntN(len(name))]), string(name[:min(len(name), 2+rng.IntN(3))]),
			string(addr[lo:min(len(addr), lo+2+rng.IntN(4))]), c.AccountNo[:4+rng.IntN(len(c.AccountNo)-3)], c.Phone[max(0, len(c.Phone)-4):])
	}
	want := searchResults(t, tx, queries)
	found := 0
	for _, ids := range want {
		found += len(ids)
	}
	if found < 500 {
		t.Fatalf("the queries find %d customers: too few to compare", found)
	}
	current := map[string]bool{}
	for _, p := range []string{keyspace.SearchPrefix, keyspace.SearchAccountPrefix} {
		_ = tx.Iterate([]byte(p), []byte(keyspace.End(p)), func(k, _ []byte) bool { current[string(k)] = true; return true })
	}

	// Back to the old layout: its entries, no current ones, no version.
	for k := range current {
		_ = tx.Delete([]byte(k))
	}
	_ = tx.Delete([]byte(keyspace.SearchLayoutKey))
	for i := range cs {
		for _, k := range crm.OldSearchKeys(&cs[i]) {
			_ = tx.Set([]byte(k), nil)
		}
	}
	if got := searchResults(t, tx, queries[:5]); equalResults(got, want) {
		t.Fatal("the old layout answers as the current one: the test cannot tell them apart")
	}

	batches := 0
	batch := func() (crm.Txn, func() error) { batches++; return tx, func() error { return nil } }
	defer crm.SetSearchMigrateBatch(crm.SetSearchMigrateBatch(97)) // several batches, the last one short
	n, err := crm.MigrateSearch(tx, batch, nil)
	if err != nil || n != len(cs) {
		t.Fatalf("MigrateSearch: %d customers, %v; want %d", n, err, len(cs))
	}
	if got := searchResults(t, tx, queries); !equalResults(got, want) {
		for k, ids := range want {
			if !slices.Equal(got[k], ids) {
				t.Errorf("after the migration %s finds %v; before %v", k, got[k], ids)
			}
		}
	}
	after := map[string]bool{}
	for _, p := range []string{keyspace.SearchPrefix, keyspace.SearchAccountPrefix, keyspace.IndexField("customers", "_q"), keyspace.IndexField("customers", "_qa")} {
		_ = tx.Iterate([]byte(p), []byte(keyspace.End(p)), func(k, _ []byte) bool { after[string(k)] = true; return true })
	}
	if len(after) != len(current) {
		t.Errorf("after the migration %d search entries; a store written with the current layout has %d", len(after), len(current))
	}
	for k := range current {
		if !after[k] {
			t.Errorf("entry %q missing after the migration", k)
			break
		}
	}
	if v, _ := tx.Get([]byte(keyspace.SearchLayoutKey)); string(v) != strconv.Itoa(crm.SearchLayout) {
		t.Errorf("layout after the migration: %q; want %d", v, crm.SearchLayout)
	}
	// Once migrated, nothing more to do.
	if n, err := crm.MigrateSearch(tx, batch, nil); n != 0 || err != nil {
		t.Errorf("a second MigrateSearch indexed %d customers (%v); want none", n, err)
	}
}

func equalResults(a, b map[string][]string) bool {
	for k, ids := range a {
		if !slices.Equal(ids, b[k]) {
			return false
		}
	}
	return len(a) > 0
}

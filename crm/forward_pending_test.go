package crm_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// forwardAt makes region forward a work order's creation to child (a
// standing write: no management needed) and answers the command's id and
// its stored bytes.
func forwardAt(t *testing.T, tx crm.Txn, region, child string, at time.Time) (string, []byte) {
	t.Helper()
	id := "cmd_" + crm.NewID("wko", at)[4:]
	body := `{"region":"` + child + `","op":"create","coll":"work_orders","record_id":"` + crm.NewID("wko", at) +
		`","body":{"kind":"complaint","channel":"95598_hotline","subject":"停电","received_at":"2026-03-02T09:00:00Z"}}`
	res := crm.Apply(tx, &crm.Command{Op: crm.OpForward, ID: id, Region: region, Actor: "ann", Time: at, Body: json.RawMessage(body)})
	if res.Err != nil {
		t.Fatalf("forward to %s: %v", child, res.Err)
	}
	return id, res.Record
}

// scanPending is what the pending count was before the index: every
// command read, its outcome looked up.
func scanPending(t *testing.T, r crm.Reader, region string) []string {
	t.Helper()
	var ids []string
	p := []byte(keyspace.CommandPrefix)
	if err := r.Iterate(p, []byte(keyspace.End(keyspace.CommandPrefix)), func(k, raw []byte) bool {
		id := strings.TrimPrefix(string(k), keyspace.CommandPrefix)
		if res, _ := r.Get([]byte(crm.ResultKey(id))); res == nil && strings.HasPrefix(crm.ForwardedRegion(raw), region) {
			ids = append(ids, id)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// checkPending compares the index's answers with the scan's for regions.
func checkPending(t *testing.T, step string, r crm.Reader, regions ...string) {
	t.Helper()
	for _, region := range regions {
		want := scanPending(t, r, region)
		n, err := crm.PendingCommands(r, region)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := crm.ForwardedCommands(r, region, crm.CommandPending)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vs {
			got = append(got, v.ID)
		}
		if n != len(want) || !slices.Equal(got, want) {
			t.Errorf("%s: pending under %q: count %d, listed %v; the commands say %v", step, region, n, got, want)
		}
	}
}

// TestPendingCommands_IndexFollowsCommandsAndOutcomes: the pending-command
// index answers what a scan of every command and its outcome answers, as
// commands are forwarded, executed below, rolled up in either order with
// their outcomes, and outcomes deleted (a resync); a store without it
// (written before it existed) has it built by MigratePendingCommands.
func TestPendingCommands_IndexFollowsCommandsAndOutcomes(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	regions := []string{"", "32", "3207", "320722", "320723", "3208"}

	// The city forwards three commands to two counties.
	city := crm.NewMemTxn()
	a, rawA := forwardAt(t, city, "3207", "320722", t0)
	b, rawB := forwardAt(t, city, "3207", "320723", t0.Add(time.Minute))
	c, rawC := forwardAt(t, city, "3207", "320722", t0.Add(2*time.Minute))
	if n, _ := crm.PendingCommands(city, "3207"); n != 3 {
		t.Fatalf("after forwarding three: %d pending, want 3", n)
	}
	checkPending(t, "forwarded", city, regions...)

	// County 320722 receives a and c (the downlink's copy) and executes them.
	county := crm.NewMemTxn()
	var results [][]byte
	for _, raw := range [][]byte{rawA, rawC} {
		var fc crm.ForwardedCommand
		_ = json.Unmarshal(raw, &fc)
		if err := crm.ApplyReplica(county, crm.CommandKey(fc.ID), raw); err != nil {
			t.Fatal(err)
		}
		checkPending(t, "received at the county", county, regions...)
		if err := crm.ExecuteForwarded(county, "320722", raw); err != nil {
			t.Fatal(err)
		}
		res, _ := county.Get([]byte(crm.ResultKey(fc.ID)))
		results = append(results, res)
	}
	if n, _ := crm.PendingCommands(county, ""); n != 0 {
		t.Fatalf("executed at the county: %d still pending", n)
	}
	checkPending(t, "executed at the county", county, regions...)

	// a's outcome rolls up to the city: b and c wait.
	if err := crm.ApplyReplica(city, crm.ResultKey(a), results[0]); err != nil {
		t.Fatal(err)
	}
	checkPending(t, "a's outcome at the city", city, regions...)
	if n, _ := crm.PendingCommands(city, "320722"); n != 1 {
		t.Fatalf("320722: %d pending, want 1 (c)", n)
	}

	// The province gets the outcome of c before c itself (a resync sends
	// keys in order, not as written), then a and its outcome, then b.
	prov := crm.NewMemTxn()
	steps := []struct {
		key string
		raw []byte
	}{{crm.ResultKey(c), results[1]}, {crm.CommandKey(c), rawC}, {crm.CommandKey(a), rawA}, {crm.ResultKey(a), results[0]}, {crm.CommandKey(b), rawB}}
	for _, s := range steps {
		if err := crm.ApplyReplica(prov, s.key, s.raw); err != nil {
			t.Fatal(err)
		}
		checkPending(t, "province after "+s.key, prov, regions...)
	}
	if n, _ := crm.PendingCommands(prov, "32"); n != 1 {
		t.Fatalf("province: %d pending, want 1 (b)", n)
	}

	// A resync drops a's outcome at the city: a waits again; then the
	// command itself goes.
	if err := crm.ApplyReplica(city, crm.ResultKey(a), nil); err != nil {
		t.Fatal(err)
	}
	checkPending(t, "a's outcome deleted", city, regions...)
	if err := crm.ApplyReplica(city, crm.CommandKey(a), nil); err != nil {
		t.Fatal(err)
	}
	checkPending(t, "a deleted", city, regions...)

	// A store written before the index: none of its entries and no
	// layout; the migration builds them, and a second run reads nothing.
	for _, p := range []string{keyspace.PendingCommandPrefix, keyspace.CommandsLayoutKey} {
		_ = city.Iterate([]byte(p), []byte(keyspace.End(p)), func(k, _ []byte) bool { _ = city.Delete(k); return true })
		_ = city.Delete([]byte(p))
	}
	if n, _ := crm.PendingCommands(city, ""); n != 0 {
		t.Fatalf("the index is still there: %d", n)
	}
	batch := func() (crm.Txn, func() error) { return city, func() error { return nil } }
	if n, err := crm.MigratePendingCommands(city, batch); err != nil || n != 2 {
		t.Fatalf("migration: %d commands read, %v; want 2", n, err)
	}
	checkPending(t, "migrated", city, regions...)
	if n, err := crm.MigratePendingCommands(city, batch); err != nil || n != 0 {
		t.Fatalf("second migration: %d commands read, %v; want 0", n, err)
	}
}

// TestForwardedCommandsPage_PagesAddUpToTheList: paging through the
// commands of a scope, for each status, with pages smaller than the list
// and scans shorter than a page's worth of other regions' commands, gives
// the list ForwardedCommands answers, in order; a page never reads more
// than CommandScan commands.
func TestForwardedCommandsPage_PagesAddUpToTheList(t *testing.T) {
	defer func(n int) { crm.CommandScan = n }(crm.CommandScan)
	crm.CommandScan = 4
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	city := crm.NewMemTxn()
	for i := range 23 {
		child := "320722"
		if i%4 != 0 {
			child = "320723" // most are another county's: 320722's pages skip them
		}
		_, raw := forwardAt(t, city, "3207", child, t0.Add(time.Duration(i)*time.Minute))
		if i%3 == 0 { // its outcome rolled up
			if err := crm.ExecuteForwarded(city, child, raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The first four commands hold one of 320722's: its first page stops
	// there, short, and says where to go on.
	if page, err := crm.ForwardedCommandsPage(city, "320722", "", "", 3); err != nil || len(page.Items) != 1 || page.Next == "" {
		t.Fatalf("320722's first page: %d commands, next %q (%v); want 1 and a next after reading 4", len(page.Items), page.Next, err)
	}
	// A cursor that is no page's next (a command done, asked for the
	// pending ones): the page starts after it all the same.
	done, _ := crm.ForwardedCommands(city, "3207", "done")
	pending, _ := crm.ForwardedCommands(city, "3207", crm.CommandPending)
	mid := done[len(done)/2].ID
	page, err := crm.ForwardedCommandsPage(city, "3207", crm.CommandPending, mid, 1000)
	var want []string
	for _, v := range pending {
		if v.ID > mid {
			want = append(want, v.ID)
		}
	}
	var got []string
	for _, v := range page.Items {
		got = append(got, v.ID)
	}
	if err != nil || !slices.Equal(got, want) || page.Next != "" {
		t.Fatalf("pending after a done command: %v next %q (%v); want %v", got, page.Next, err, want)
	}
	for _, region := range []string{"3207", "320722", "320723", "3208"} {
		for _, status := range []string{"", crm.CommandPending, "done"} {
			want, err := crm.ForwardedCommands(city, region, status)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			after, pages := "", 0
			for {
				page, err := crm.ForwardedCommandsPage(city, region, status, after, 3)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) > 3 {
					t.Fatalf("%s %q: a page of %d, limit 3", region, status, len(page.Items))
				}
				for _, v := range page.Items {
					got = append(got, v.ID)
				}
				if pages++; page.Next == "" || pages > 50 {
					break
				}
				after = page.Next
			}
			var ids []string
			for _, v := range want {
				ids = append(ids, v.ID)
			}
			if !slices.Equal(got, ids) {
				t.Errorf("%s %q: pages gave %v; the list %v", region, status, got, ids)
			}
		}
	}
}

// TestForward_RefusesARegionThatIsNoCode: a forwarded command's region
// names its pending-command index entry, so one that is no region code (a
// NUL in it would split the entry's key elsewhere) is refused naming the
// field, and nothing is written.
func TestForward_RefusesARegionThatIsNoCode(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, region := range []string{"320722\x00cmd_x", "3207xx", "32072"} {
		tx := crm.NewMemTxn()
		body, _ := json.Marshal(map[string]any{"region": region, "op": "create", "coll": "work_orders", "record_id": crm.NewID("wko", t0),
			"body": map[string]any{"kind": "complaint", "channel": "95598_hotline", "subject": "停电"}})
		res := crm.Apply(tx, &crm.Command{Op: crm.OpForward, ID: "cmd_" + crm.NewID("wko", t0)[4:], Region: "3207", Actor: crm.SystemActor, Time: t0, Body: body})
		if res.Err == nil || res.Err.Field != "region" {
			t.Fatalf("forward to %q: %v; want refused naming region", region, res.Err)
		}
		if n, _ := crm.PendingCommands(tx, ""); n != 0 {
			t.Fatalf("forward to %q refused, yet %d pending", region, n)
		}
	}
}

package console_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridcrm/internal/testcluster"
)

// TestBrowser_ManagementConflict drives the 管理 page on a city and its
// county: the city takes the cut-off county over by force while the county
// changes two customers the city renamed too; after the heal the city's
// admin sees each conflict side by side (both versions, who and when, the
// differing fields marked), reads what a forced takeover means in the
// confirmation dialog (and cancels), keeps the parent's version of one and
// merges the other field by field (the parent's name, the child's address)
// from the page, and hands the county back through the dialog. The API then
// holds both conflicts resolved as chosen and the chosen versions at both
// tiers. The county's admin sees no 管理 link and is refused the page by URL.
func TestBrowser_ManagementConflict(t *testing.T) {
	if chromium() == "" {
		t.Skip("console: no chromium on PATH (make test-deps installs Debian's chromium and fonts-wqy-microhei); the browser test is skipped")
	}
	start := time.Now()
	h := testcluster.NewHierarchy(t, testcluster.HierarchyOpts{Regions: []testcluster.RegionSpec{{Code: "3207"}, {Code: "320722"}}})
	county, city := h.Region("320722").Client(0), h.Region("3207").Client(0)
	var ids []string
	for i, name := range []string{"东海县金属制品厂", "东海县粮食加工厂"} {
		st, body := county.Do("POST", "/api/v1/customers", map[string]any{"account_no": fmt.Sprintf("M-%d", i+1), "name": name, "category": "industrial",
			"voltage_kv": 10, "capacity_kva": 630, "region": "320722", "address": fmt.Sprintf("牛山镇工业路%d号", 10*i+1)})
		if st != 201 {
			t.Fatalf("create a county customer: %d %s", st, body)
		}
		var cus struct{ ID string }
		json.Unmarshal(body, &cus)
		ids = append(ids, cus.ID)
	}
	h.WaitReplicated("320722", "3207", 20*time.Second)
	get := func(cl *testcluster.Client, id string) (name, address string, version uint64) {
		t.Helper()
		st, body := cl.Do("GET", "/api/v1/customers/"+id+"?region=320722", nil)
		var c struct {
			Name, Address string
			Version       uint64
		}
		if st != 200 || json.Unmarshal(body, &c) != nil {
			t.Fatalf("read the customer: %d %s", st, body)
		}
		return c.Name, c.Address, c.Version
	}
	patch := func(cl *testcluster.Client, id string, fields map[string]any) {
		t.Helper()
		_, _, v := get(cl, id)
		fields["version"] = v
		if st, body := cl.Do("PATCH", "/api/v1/customers/"+id, fields); st != 200 {
			t.Fatalf("patch the customer: %d %s", st, body)
		}
	}

	// The forced takeover and the county's write under the old epoch.
	h.Faults.Cut("320722")
	if st, body := city.Do("PUT", "/api/v1/regions/320722/management", map[string]any{"mode": "full", "force": true}); st != 200 {
		t.Fatalf("forced takeover: %d %s", st, body)
	}
	patch(city, ids[0], map[string]any{"name": "市里改的名称"})
	patch(county, ids[0], map[string]any{"name": "县里改的名称", "address": "牛山镇工业路2号"})
	patch(city, ids[1], map[string]any{"name": "市里改的粮食厂"})
	patch(county, ids[1], map[string]any{"address": "县里改的地址"})
	h.Faults.Heal("320722")
	testcluster.WaitFor(t, 30*time.Second, "the county's writes kept as conflicts at the city", func() bool {
		st, body := city.Do("GET", "/api/v1/regions/320722", nil)
		var r struct {
			OpenConflicts int `json:"open_conflicts"`
		}
		return st == 200 && json.Unmarshal(body, &r) == nil && r.OpenConflicts == 2
	})
	t.Logf("hierarchy up, conflict made in %v", time.Since(start).Round(time.Millisecond))

	base := h.Region("3207").Node(0).APIURL()
	b := newBrowser(t, base)
	do, wantIn, waitTitle, hash, shot := b.Do, b.WantIn, b.WaitTitle, b.Hash, b.Shot
	do("open the city's console", chromedp.Navigate(base+"/console/"))
	b.Login("admin", testcluster.AdminPassword)
	waitTitle("连云港市")
	if hidden := Eval[bool](b, `document.querySelector('[data-nav="management"]').hidden`); hidden {
		t.Errorf("the city's admin does not see the 管理 link")
	}
	do("open the management page", chromedp.Click(chromedp.CSS(`[data-nav="management"]`)))
	waitTitle("管理")
	do("wait for the conflict", chromedp.WaitVisible(chromedp.CSS(`#conflicts section.conflict`)))
	wantIn(`#children tr[data-region="320722"]`, "东海县", "集中管理（强制）")
	if open := Eval[string](b, `document.querySelector('#children tr[data-region="320722"]').cells[7].textContent`); open != "2" {
		t.Errorf("the county's open conflicts read %q, want 2", open)
	}
	if n := Eval[int](b, `document.querySelectorAll('#conflicts section.conflict').length`); n != 2 {
		t.Errorf("%d conflicts side by side, want 2", n)
	}
	first, second := `#conflicts section[data-key="r/customers/`+ids[0]+`"] `, `#conflicts section[data-key="r/customers/`+ids[1]+`"] `
	wantIn(first+`h3`, "r/customers/"+ids[0])
	wantIn(first, "下级版本", "上级版本", "admin")
	// Side by side: the name and address differ and are marked; the category is the same.
	wantIn(first+`tr.diff[data-field="name"] td.child`, "县里改的名称")
	wantIn(first+`tr.diff[data-field="name"] td.parent`, "市里改的名称")
	wantIn(first+`tr.diff[data-field="address"] td.child`, "牛山镇工业路2号")
	wantIn(first+`tr.diff[data-field="address"] td.parent`, "牛山镇工业路1号")
	if n := Eval[int](b, `document.querySelectorAll(`+jsString(first+`tr.diff`)+`).length`); n != 2 {
		t.Errorf("%d fields marked as differing, want 2 (name, address)", n)
	}
	if same := Eval[string](b, `(document.querySelector(`+jsString(first+`tr[data-field="category"]`)+`)||{}).className`); same != "" {
		t.Errorf("the unchanged category is marked %q", same)
	}
	noStray(t, b)
	do("settle", chromedp.Sleep(200*time.Millisecond))
	shot("m1-management-conflict")

	// The confirmation says what a forced takeover means; cancelled, nothing changes.
	row := `#children tr[data-region="320722"] `
	do("choose a forced takeover", chromedp.SetValue(chromedp.CSS(row+`select[name="mode"]`), "full"),
		chromedp.Click(chromedp.CSS(row+`input[name="force"]`)), chromedp.Click(chromedp.CSS(row+`button.set-mode`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-dialog`)))
	wantIn(`#confirm-dialog`, "强制接管", "不等待", "冲突", "保留下级", "保留上级")
	shot("m2-management-confirm")
	do("cancel", chromedp.Click(chromedp.CSS(`#confirm-cancel`)))
	b.WaitJS(`document.getElementById('manage-msg').textContent`, func(s string) bool { return strings.Contains(s, "已取消") }, "the cancellation")
	if n := Eval[int](b, `document.querySelectorAll('dialog').length`); n != 0 {
		t.Errorf("%d dialogs left after cancelling", n)
	}

	// Keep the parent's version from the page.
	do("keep the parent's version", chromedp.Click(chromedp.CSS(first+`button.keep-parent`)))
	b.WaitJS(`document.getElementById('manage-msg').textContent`, func(s string) bool { return strings.Contains(s, "已处理：保留上级版本") }, "the resolution")
	b.WaitJS(`String(document.querySelectorAll('#conflicts section.conflict').length)`, func(s string) bool { return s == "1" }, "the conflict to leave the list")
	// Merge the other field by field: the parent's name, the child's address.
	do("merge the second", chromedp.Click(chromedp.CSS(second+`tr[data-field="address"] input[value="child"]`)),
		chromedp.Click(chromedp.CSS(second+`button.merge`)))
	b.WaitJS(`document.getElementById('manage-msg').textContent`, func(s string) bool { return strings.Contains(s, "已处理：合并") }, "the merge")
	b.WaitJS(`String(document.querySelectorAll('#conflicts section.conflict').length)`, func(s string) bool { return s == "0" }, "no conflict left")
	wantIn(`#conflicts`, "没有未决冲突")
	st, body := city.Do("GET", "/api/v1/conflicts?region=320722&status=all", nil)
	var list struct {
		Conflicts []struct {
			Key, Status, Resolution string
			ResolvedBy              string `json:"resolved_by"`
		}
	}
	if st != 200 || json.Unmarshal(body, &list) != nil || len(list.Conflicts) != 2 {
		t.Fatalf("conflicts after the page resolved them: %d %s", st, body)
	}
	for _, c := range list.Conflicts {
		want := map[string]string{"r/customers/" + ids[0]: "parent", "r/customers/" + ids[1]: "merged"}[c.Key]
		if c.Status != "resolved" || c.Resolution != want || c.ResolvedBy != "admin" {
			t.Errorf("conflict on %s: %+v; want resolved %s by admin", c.Key, c, want)
		}
	}
	if name, addr, _ := get(city, ids[0]); name != "市里改的名称" || addr != "牛山镇工业路1号" {
		t.Errorf("the first record at the city holds %q, %q; want the parent's version", name, addr)
	}
	if name, addr, _ := get(city, ids[1]); name != "市里改的粮食厂" || addr != "县里改的地址" {
		t.Errorf("the merged record at the city holds %q, %q; want the parent's name and the child's address", name, addr)
	}

	// Hand the county back, confirmed in the dialog.
	do("choose autonomous", chromedp.SetValue(chromedp.CSS(row+`select[name="mode"]`), "autonomous"),
		chromedp.Click(chromedp.CSS(row+`button.set-mode`)), chromedp.WaitVisible(chromedp.CSS(`#confirm-dialog`)))
	wantIn(`#confirm-dialog`, "交还自治")
	do("confirm", chromedp.Click(chromedp.CSS(`#confirm-ok`)))
	b.WaitJS(`document.getElementById('manage-msg').textContent`, func(s string) bool { return strings.Contains(s, "已设为自治") }, "the release")
	testcluster.WaitFor(t, 20*time.Second, "the county to write its records again", func() bool {
		st, body := county.Do("GET", "/api/v1/regions/320722", nil)
		return st == 200 && strings.Contains(string(body), `"writer":"320722"`)
	})
	testcluster.WaitFor(t, 20*time.Second, "the parent's version pushed down to the county", func() bool {
		name, _, _ := get(county, ids[0])
		_, addr, _ := get(county, ids[1])
		return name == "市里改的名称" && addr == "县里改的地址"
	})
	shot("m3-management-resolved")

	// The county's admin: no link, and the page refused by URL.
	do("log out", chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	countyURL := h.Region("320722").Node(0).APIURL()
	b.SetNode(countyURL)
	b.ExpectRefusals(true)
	do("open the county's console", chromedp.Navigate(countyURL+"/console/"))
	b.Login("admin", testcluster.AdminPassword)
	waitTitle("东海县")
	if hidden := Eval[bool](b, `document.querySelector('[data-nav="management"]').hidden`); !hidden {
		t.Errorf("a county's admin sees the 管理 link")
	}
	hash("#/management")
	waitTitle("无法显示")
	wantIn(`#page-error`, "无权查看")
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}

package crm_test

import (
	"testing"
	"time"

	"gridcrm/crm"
)

// TestOwnerCards_UnusedMemosGo: each memo holds a whole owner region's
// customers for one window; one nobody asks for (last month's window, a
// version a full read replaced) goes when a memo is stored more than
// MemoIdle after it was last used, and one in use stays, as does the
// current window's newest (the dashboards' default, read after a quiet
// night without reading every card again). Before, the memo
// only emptied at 1,024 keys of owner and window: a county kept a full
// copy of its customers for every month it had been up.
func TestOwnerCards_UnusedMemosGo(t *testing.T) {
	saved := crm.MemoIdle
	crm.MemoIdle = 300 * time.Millisecond
	t.Cleanup(func() { crm.MemoIdle = saved })
	r := crm.NewMemTxn()
	const owner = "320799"
	get := func(from, to string) {
		t.Helper()
		if _, err := crm.OwnerCards(r, owner, "v1", from, to); err != nil {
			t.Fatal(err)
		}
	}
	curFrom, curTo := crm.CurrentWindow()
	get(curFrom, curTo)       // the current window: not asked for again here, kept all the same
	get("2025-01", "2025-12") // last month's window: not asked for again
	// Another owner's two windows, neither asked for again: the newer one
	// stays (its newest: the window to the last billed month, which the
	// dashboards read, is the current one only once that month is billed).
	const other = "320798"
	if _, err := crm.OwnerCards(r, other, "v1", "2024-06", "2025-05"); err != nil {
		t.Fatal(err)
	}
	if _, err := crm.OwnerCards(r, other, "v1", "2024-07", "2025-06"); err != nil {
		t.Fatal(err)
	}
	get("2025-02", "2026-01") // this month's: asked for all along
	for range 4 {
		time.Sleep(100 * time.Millisecond)
		get("2025-02", "2026-01")
	}
	get("2025-03", "2026-02") // a store sweeps
	if crm.CardMemoHolds(owner, "2025-01", "2025-12") {
		t.Fatal("a window unused for longer than MemoIdle is still held")
	}
	if !crm.CardMemoHolds(owner, "2025-02", "2026-01") || !crm.CardMemoHolds(owner, "2025-03", "2026-02") {
		t.Fatal("a window in use went")
	}
	if !crm.CardMemoHolds(owner, curFrom, curTo) {
		t.Fatal("the current window's memo went")
	}
	if crm.CardMemoHolds(other, "2024-06", "2025-05") || !crm.CardMemoHolds(other, "2024-07", "2025-06") {
		t.Fatal("want the other owner's older window gone and its newest kept")
	}
}

package chaos

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func customer(id, acct string) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"owner":"320722","account_no":%q,"region":"320722","name":"n","category":"residential","status":"active","version":1}`, id, acct))
}

// TestRunChecks_FindsPlantedAnomalies plants one of each kind of wrong
// state and checks that each is named.
func TestRunChecks_FindsPlantedAnomalies(t *testing.T) {
	l := NewLayout(t.TempDir(), 1, func(i int) (string, int, int, string) { return "127.0.0.1", 1000 + i, 2000 + i, "" })
	ops := []Op{
		{ID: 0, Kind: OpCreate, Client: 1, Node: "dh1", Account: "W01-000001", Outcome: Applied, RecordID: "cus_A", Start: at(10), End: at(20)},
		{ID: 1, Kind: OpCreate, Client: 1, Node: "dh1", Account: "W01-000002", Outcome: NotApplied, Status: 503, Code: "unavailable", Start: at(30), End: at(40)},
		{ID: 2, Kind: OpCreate, Client: 1, Node: "dh2", Account: "W01-000003", Outcome: Unknown, Error: "timeout", Start: at(50), End: at(60)},
		{ID: 3, Kind: OpCreate, Client: 1, Node: "dh1", Account: "W01-000004", Outcome: NotApplied, Status: 503, Code: "unavailable", Start: at(70), End: at(80)},
		{ID: 4, Kind: OpCreate, Client: 1, Node: "dh2", Account: "W01-000004", Attempt: 1, Outcome: Refused, Status: 409, Code: "duplicate", Start: at(90), End: at(95)},
	}
	creates := []Create{
		{Account: "W01-000001", Region: County, Writer: 1, Outcome: Applied, ID: "cus_A", Attempts: []int{0}, End: at(20)},
		{Account: "W01-000002", Region: County, Writer: 1, Outcome: NotApplied, Attempts: []int{1}, End: at(40)},
		{Account: "W01-000003", Region: County, Writer: 1, Outcome: Unknown, Attempts: []int{2}, End: at(60)},
		{Account: "W01-000004", Region: County, Writer: 1, Outcome: Applied, ViaDuplicate: true, Attempts: []int{3, 4}, End: at(95)},
	}
	full := map[string][]byte{
		"r/customers/cus_A": customer("cus_A", "W01-000001"),
		"r/customers/cus_B": customer("cus_B", "W01-000002"), // answered not applied, yet here
		"r/customers/cus_C": customer("cus_C", "W01-000003"), // unknown outcome: allowed
		"r/customers/cus_D": customer("cus_D", "W01-000004"),
		"r/customers/cus_X": customer("cus_X", "NOBODY-1"), // nobody wrote it
	}
	without := func(key string) map[string][]byte {
		m := map[string][]byte{}
		for k, v := range full {
			if k != key {
				m[k] = v
			}
		}
		return m
	}
	dumps := map[string]Dump{
		"dh1":   {Node: "dh1", Region: County, Keys: full},
		"dh2":   {Node: "dh2", Region: County, Keys: without("r/customers/cus_A")}, // lost an acknowledged create
		"dh3":   {Node: "dh3", Region: County, Keys: full},
		"c3207": {Node: "c3207", Region: City, Keys: full},
		"p32":   {Node: "p32", Region: Province, Keys: full},
	}
	summaries := map[string]map[string]Summary{"dh1": {County: {Customers: 4, ByCategory: map[string]int64{"residential": 4}, ByStatus: map[string]int64{"active": 4}}}}
	a := &Anomalies{}
	RunChecks(Evidence{Layout: l, Creates: creates, Ops: ops, Dumps: dumps, Summaries: summaries, T0: t0, StoppedAt: at(1000)}, a, "", 5*time.Second)
	var all []string
	for _, an := range a.List() {
		all = append(all, an.Check+" "+an.Node+" "+an.Message)
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		CheckLostWrite + " dh2 acknowledged create cus_A",
		CheckPhantom + " dh1 customer cus_B (account W01-000002) is present although every attempt was answered not-applied",
		CheckPhantom + "  create W01-000004: every earlier attempt was answered not-applied",
		CheckPhantom + " dh1 customer cus_X (account \"NOBODY-1\"",
		CheckDivergence + " dh2 320722: r/customers/cus_A missing",
		CheckSummary + " dh1 summary of 320722 says 4 customers",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no anomaly %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "W01-000003") {
		t.Errorf("a create of unknown outcome that went in is not an anomaly:\n%s", text)
	}
}

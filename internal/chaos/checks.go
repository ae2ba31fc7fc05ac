package chaos

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gridcrm/store/keyspace"
)

// Evidence is everything the checks look at after the run.
type Evidence struct {
	Layout    Layout
	Creates   []Create
	Ops       []Op
	Dumps     map[string]Dump               // by node id; stopped replicas
	Summaries map[string]map[string]Summary // node id → region → summary read before the stop
	T0        time.Time                     // the history's time origin
	StoppedAt time.Time                     // when the nodes were stopped for the dumps
	// Progress, when set, is told how long each check took.
	Progress func(format string, args ...any)

	customers map[string][]customerRec // node → its customers, parsed once by RunChecks
}

// CheckResults sums up what the after-run checks found.
type CheckResults struct {
	Divergences     int                   `json:"divergences"`
	Linearizability LinearizabilityResult `json:"linearizability"`
	RecordsPerNode  map[string]int        `json:"customers_per_node"`
	Warnings        []string              `json:"warnings,omitempty"` // checks that could not conclude
}

// customerRec is the part of a customer record the checks read.
type customerRec struct {
	Key       string
	ID        string `json:"id"`
	AccountNo string `json:"account_no"`
	Region    string `json:"region"`
	Owner     string `json:"owner"`
	Name      string `json:"name"`
	Category  string `json:"category"`
	Status    string `json:"status"`
	Version   uint64 `json:"version"`
}

// customersOf answers the customer records of a dump, in key order.
func customersOf(d Dump) []customerRec {
	var out []customerRec
	for _, k := range sortedKeys(d.Keys) {
		if !strings.HasPrefix(k, keyspace.Collection("customers")) {
			continue
		}
		var c customerRec
		_ = json.Unmarshal(d.Keys[k], &c)
		c.Key = k
		out = append(out, c)
	}
	return out
}

// capped adds anomalies of one check and node, at most max of them, then
// one line saying how many more there were.
type capped struct {
	a     *Anomalies
	max   int
	count map[string]int
}

func newCapped(a *Anomalies, max int) *capped {
	return &capped{a: a, max: max, count: map[string]int{}}
}

func (c *capped) add(check string, at time.Time, node, format string, args ...any) {
	k := check + "\x00" + node
	c.count[k]++
	if c.count[k] <= c.max {
		c.a.Add(check, at, node, format, args...)
	}
}

// flush adds the "and N more" lines.
func (c *capped) flush(at time.Time) {
	for _, k := range slices.Sorted(mapKeys(c.count)) {
		if n := c.count[k]; n > c.max {
			check, node, _ := strings.Cut(k, "\x00")
			c.a.Add(check, at, node, "… and %d more like the above (%d in all)", n-c.max, n)
		}
	}
}

func mapKeys[M ~map[K]V, K comparable, V any](m M) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// RunChecks runs the after-run checks (1)–(6) on the evidence and adds
// what they find to a. dir receives porcupine's visualisation when the
// linearizability check fails.
func RunChecks(e Evidence, a *Anomalies, dir string, linTimeout time.Duration) CheckResults {
	res := CheckResults{RecordsPerNode: map[string]int{}}
	c := newCapped(a, 20)
	opByID := map[int]Op{}
	for _, op := range e.Ops {
		opByID[op.ID] = op
	}
	byAcct := map[string]Create{}
	for _, cr := range e.Creates {
		byAcct[cr.Account] = cr
	}
	e.customers = map[string][]customerRec{}
	for _, d := range e.Dumps {
		e.customers[d.Node] = customersOf(d)
		res.RecordsPerNode[d.Node] = len(e.customers[d.Node])
	}
	timed := func(name string, check func()) {
		start := time.Now()
		check()
		if e.Progress != nil {
			e.Progress("check %s: %v", name, time.Since(start).Round(time.Millisecond))
		}
	}
	e.Ops = append(e.Ops, finalReads(e)...)
	timed("acknowledged creates", func() { checkAcknowledged(e, c) })
	timed("phantoms", func() { checkPhantoms(e, c, byAcct, opByID) })
	timed("duplicates", func() { checkDuplicates(e, c) })
	timed("divergence", func() { res.Divergences = checkDivergence(e, c) })
	timed("summaries", func() { checkSummaries(e, c) })
	timed("register reads", func() { checkRegisterReads(e, c) })
	timed("porcupine", func() {
		res.Linearizability = CheckRegisterHistories(RegisterOps(e.Ops, e.T0), linTimeout, dir)
	})
	switch res.Linearizability.Result {
	case "Illegal":
		a.Add(CheckLinearizable, e.StoppedAt, "", "porcupine: the register histories are not linearizable (keys %v); see %s",
			res.Linearizability.Keys, res.Linearizability.Visual)
	case "Unknown": // not an anomaly: nothing was found wrong, the check could not finish
		res.Warnings = append(res.Warnings, fmt.Sprintf("porcupine timed out after %v on %d operations: linearizability inconclusive (raise -lin-timeout)",
			linTimeout, res.Linearizability.Ops))
	}
	c.flush(e.StoppedAt)
	return res
}

// finalReads turns each register's state in its region's stopped stores
// into one more read at the stop, so that an acknowledged update that no
// client read afterwards still counts: it must be in the final state.
func finalReads(e Evidence) []Op {
	var out []Op
	for _, op := range e.Ops {
		if op.Kind != OpCreate || op.Key == "" || op.Outcome != Applied {
			continue
		}
		for _, n := range e.Layout.Region(op.Region) {
			for _, r := range e.customers[n.ID] {
				if r.ID == op.Key {
					out = append(out, Op{ID: -1, Client: -2, Kind: OpRead, Node: n.ID + " (final state)", Region: op.Region, Key: op.Key,
						Version: r.Version, Value: r.Name, Outcome: Applied, Start: e.StoppedAt, End: e.StoppedAt})
				}
			}
		}
	}
	return out
}

// holders answers the nodes that must hold region's records: its own
// replicas, the city's and the province's.
func holders(l Layout, region string) []NodeSpec {
	return append(append(l.Region(region), l.Region(City)...), l.Region(Province)...)
}

// checkAcknowledged: (1) every acknowledged create is on every replica of
// its region and at the city and the province, under its id and with its
// account number.
func checkAcknowledged(e Evidence, c *capped) {
	for _, cr := range e.Creates {
		if cr.Outcome != Applied {
			continue
		}
		for _, n := range holders(e.Layout, cr.Region) {
			d, ok := e.Dumps[n.ID]
			if !ok {
				continue
			}
			if cr.ID == "" { // acknowledged through a duplicate: find it by account number
				if !hasAccount(e.customers[n.ID], cr.Account) {
					c.add(CheckLostWrite, cr.End, n.ID, "create of %s (applied: a retry at %s was refused as a duplicate) is not at %s",
						cr.Account, cr.End.Format("15:04:05.000"), n.ID)
				}
				continue
			}
			raw, ok := d.Keys[keyspace.Record("customers", cr.ID)]
			if !ok {
				c.add(CheckLostWrite, cr.End, n.ID, "acknowledged create %s (%s, answered %s) is missing at %s",
					cr.ID, cr.Account, cr.End.Format("15:04:05.000"), n.ID)
				continue
			}
			var rec customerRec
			_ = json.Unmarshal(raw, &rec)
			if rec.AccountNo != cr.Account {
				c.add(CheckLostWrite, cr.End, n.ID, "acknowledged create %s holds account %q at %s, want %q", cr.ID, rec.AccountNo, n.ID, cr.Account)
			}
		}
	}
}

func hasAccount(recs []customerRec, acct string) bool {
	for _, r := range recs {
		if r.AccountNo == acct {
			return true
		}
	}
	return false
}

// checkPhantoms: (2) every customer on a replica was written by a client
// whose create was acknowledged or had an unknown outcome; none whose
// every attempt was answered "not applied" or refused; and a create
// acknowledged through a duplicate had an attempt with an unknown outcome.
func checkPhantoms(e Evidence, c *capped, byAcct map[string]Create, opByID map[int]Op) {
	for _, cr := range e.Creates {
		if !cr.ViaDuplicate {
			continue
		}
		var earlier []string
		unknown := false
		for _, id := range cr.Attempts[:len(cr.Attempts)-1] {
			op := opByID[id]
			earlier = append(earlier, describeAttempt(op))
			unknown = unknown || op.Outcome == Unknown
		}
		if !unknown {
			c.add(CheckPhantom, cr.End, "", "create %s: every earlier attempt was answered not-applied [%s], yet the retry at %s found the account number taken: one of them was applied",
				cr.Account, strings.Join(earlier, "; "), cr.End.Format("15:04:05.000"))
		}
	}
	for _, node := range sortedDumpNodes(e.Dumps) {
		for _, r := range e.customers[node] {
			cr, ok := byAcct[r.AccountNo]
			switch {
			case !ok:
				c.add(CheckPhantom, e.StoppedAt, node, "customer %s (account %q, owner %s) was written by no client", r.ID, r.AccountNo, r.Owner)
			case cr.Outcome.Definite():
				var atts []string
				for _, id := range cr.Attempts {
					atts = append(atts, describeAttempt(opByID[id]))
				}
				c.add(CheckPhantom, cr.End, node, "customer %s (account %s) is present although every attempt was answered %s: %s",
					r.ID, r.AccountNo, cr.Outcome, strings.Join(atts, "; "))
			case cr.Outcome == Applied && cr.ID != "" && cr.ID != r.ID:
				c.add(CheckDuplicate, cr.End, node, "account %s was acknowledged as %s but the replica holds it as %s", r.AccountNo, cr.ID, r.ID)
			}
		}
	}
}

func describeAttempt(op Op) string {
	ans := op.Error
	if op.Status != 0 {
		ans = fmt.Sprintf("%d %s", op.Status, op.Code)
	}
	return fmt.Sprintf("#%d at %s on %s → %s (%s)", op.Attempt, op.Start.Format("15:04:05.000"), op.Node, ans, op.Outcome)
}

func sortedDumpNodes(m map[string]Dump) []string {
	return slices.Sorted(mapKeys(m))
}

// checkDuplicates: (6) no account number held under two ids by a replica.
func checkDuplicates(e Evidence, c *capped) {
	for _, node := range sortedDumpNodes(e.Dumps) {
		seen := map[string][]string{}
		for _, r := range e.customers[node] {
			k := r.Region + "/" + r.AccountNo
			seen[k] = append(seen[k], r.ID)
		}
		for _, k := range slices.Sorted(mapKeys(seen)) {
			if ids := seen[k]; len(ids) > 1 {
				c.add(CheckDuplicate, e.StoppedAt, node, "account %s is held under %d ids: %v", k, len(ids), ids)
			}
		}
	}
}

// checkDivergence: (3) the replicas of each county are equal key for key
// (node-local keys aside), and the city's and the province's copies of its
// records equal the owner's.
func checkDivergence(e Evidence, c *capped) int {
	total := 0
	report := func(divs []Divergence, region string) {
		for _, d := range divs {
			total++
			c.add(CheckDivergence, e.StoppedAt, d.Node, "%s: %s %s at %s (reference %s): %s | %s", region, d.Key, d.What, d.Node, d.Ref, d.RefV, d.NodV)
		}
	}
	for _, region := range e.Layout.CountyRegions() {
		var dumps []Dump
		for _, n := range e.Layout.Region(region) {
			if d, ok := e.Dumps[n.ID]; ok {
				dumps = append(dumps, d)
			}
		}
		if len(dumps) == 0 {
			continue
		}
		report(CompareReplicas(dumps, Replicated), region)
		for _, anc := range append(e.Layout.Region(City), e.Layout.Region(Province)...) {
			if d, ok := e.Dumps[anc.ID]; ok {
				report(CompareRollup(dumps[0], d, region), region)
			}
		}
	}
	return total
}

// checkSummaries: (5) each node's summary of a county (read through the
// API just before the stop) equals the customers of that county in the
// node's own store.
func checkSummaries(e Evidence, c *capped) {
	for _, node := range slices.Sorted(mapKeys(e.Summaries)) {
		recs, ok := e.customers[node]
		if !ok {
			continue
		}
		for _, region := range slices.Sorted(mapKeys(e.Summaries[node])) {
			s := e.Summaries[node][region]
			want := Summary{ByCategory: map[string]int64{}, ByStatus: map[string]int64{}}
			for _, r := range recs {
				if r.Region == region {
					want.Customers++
					want.ByCategory[r.Category]++
					want.ByStatus[r.Status]++
				}
			}
			if s.Customers != want.Customers || !sameCounts(s.ByCategory, want.ByCategory) || !sameCounts(s.ByStatus, want.ByStatus) {
				c.add(CheckSummary, e.StoppedAt, node, "summary of %s says %d customers %v %v; the store holds %d %v %v",
					region, s.Customers, s.ByCategory, s.ByStatus, want.Customers, want.ByCategory, want.ByStatus)
			}
		}
	}
}

func sameCounts(a, b map[string]int64) bool {
	for k, v := range a {
		if v != b[k] {
			return false
		}
	}
	for k, v := range b {
		if v != a[k] {
			return false
		}
	}
	return true
}

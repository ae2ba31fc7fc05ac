package chaos

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// The checks an anomaly can come from. The numbers are the checks'
// numbers in the package doc.
const (
	CheckLostWrite    = "1-lost-write"        // an acknowledged create missing or different somewhere
	CheckPhantom      = "2-phantom-write"     // a record nobody was acknowledged for, or one answered "not applied"
	CheckDivergence   = "3-divergence"        // replicas of a region (or an ancestor's copy) differ
	CheckLinearizable = "4-linearizability"   // the registers' histories are not linearizable
	CheckSummary      = "5-summary"           // a region summary disagrees with the records
	CheckDuplicate    = "6-duplicate-account" // one account number under two ids
	CheckStall        = "7-shutdown-stall"    // a node took too long to exit on SIGTERM
	CheckCrash        = "crash"               // a node exited without being asked to
	CheckNotReady     = "not-ready"           // a node not ready long after a fault healed
	CheckConvergence  = "no-convergence"      // replicas did not settle after the run
)

// Anomaly is one thing a check found wrong.
type Anomaly struct {
	Check   string    `json:"check"`
	At      time.Time `json:"at"` // when the evidence happened (an answer, a read, an exit)
	Node    string    `json:"node,omitempty"`
	Message string    `json:"message"`
}

// Anomalies collects anomalies; safe for concurrent use.
type Anomalies struct {
	mu   sync.Mutex // guards list
	list []Anomaly
}

// Add records one anomaly.
func (a *Anomalies) Add(check string, at time.Time, node, format string, args ...any) {
	a.mu.Lock()
	a.list = append(a.list, Anomaly{Check: check, At: at, Node: node, Message: fmt.Sprintf(format, args...)})
	a.mu.Unlock()
}

// List answers the anomalies ordered by time.
func (a *Anomalies) List() []Anomaly {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := slices.Clone(a.list)
	slices.SortStableFunc(out, func(x, y Anomaly) int { return x.At.Compare(y.At) })
	return out
}

// Len answers how many anomalies there are.
func (a *Anomalies) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.list)
}

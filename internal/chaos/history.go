package chaos

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// OpKind is what a client operation did.
type OpKind string

// Operation kinds.
const (
	OpCreate OpKind = "create" // POST /api/v1/customers
	OpUpdate OpKind = "update" // PATCH /api/v1/customers/{id} of a register
	OpRead   OpKind = "read"   // GET /api/v1/customers/{id} of a register (linearizable)
)

// Op is one request a client sent and what came back.
type Op struct {
	ID      int       `json:"id"`
	Client  int       `json:"client"` // writers 0..W-1, readers W..W+R-1
	Kind    OpKind    `json:"kind"`
	Node    string    `json:"node"`
	Region  string    `json:"region"`
	Key     string    `json:"key,omitempty"`     // update, read: the register's record id
	Account string    `json:"account,omitempty"` // create: the account number (户号)
	Attempt int       `json:"attempt,omitempty"` // create: 0 for the first try
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Status  int       `json:"status,omitempty"` // HTTP status; 0 without an answer
	Code    string    `json:"code,omitempty"`   // the error body's code
	Error   string    `json:"error,omitempty"`  // transport error or error message
	Outcome Outcome   `json:"outcome"`
	Why     string    `json:"why,omitempty"`
	// RecordID is the id a create was answered with.
	RecordID string `json:"record_id,omitempty"`
	// Version: update, the version sent; read, the version read.
	Version uint64 `json:"version,omitempty"`
	// NewVersion: update, the version answered.
	NewVersion uint64 `json:"new_version,omitempty"`
	// Value: update, the name written; read, the name read.
	Value string `json:"value,omitempty"`
	// Fault is the fault kind active when the op started.
	Fault Kind `json:"fault"`
}

// Create is one customer a writer tried to create, over all its attempts.
type Create struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Writer  int    `json:"writer"`
	// Outcome over all attempts: Applied (acknowledged, or a retry found
	// the account number taken after an unknown attempt), Unknown (some
	// attempt's outcome is unknown and none was acknowledged), NotApplied
	// (every attempt certainly not applied), Refused.
	Outcome Outcome `json:"outcome"`
	// ViaDuplicate: Applied because a retry was refused as a duplicate
	// after an attempt whose outcome was unknown; the id is not known.
	ViaDuplicate bool      `json:"via_duplicate,omitempty"`
	ID           string    `json:"id,omitempty"` // the acknowledged id
	Attempts     []int     `json:"attempts"`     // Op ids
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
}

// FaultEvent is a fault as it ran.
type FaultEvent struct {
	Fault
	Targets []string  `json:"targets"`
	Start   time.Time `json:"start"`
	Healed  time.Time `json:"healed"` // restarted and ready, resumed, or cut healed
	Skipped string    `json:"skipped,omitempty"`
	Notes   []string  `json:"notes,omitempty"`
	// ExitTimes: how long each SIGTERMed node took to exit.
	ExitTimes map[string]time.Duration `json:"exit_times,omitempty"`
}

// History records everything the clients and the fault injector did. Its
// methods are safe for concurrent use.
type History struct {
	mu      sync.Mutex // guards the fields below
	ops     []Op
	creates []Create
	faults  []FaultEvent
	active  Kind // the fault kind active now
}

// NewHistory returns an empty history.
func NewHistory() *History { return &History{active: startup} }

// SetActive records which fault kind is active from now on.
func (h *History) SetActive(k Kind) {
	h.mu.Lock()
	h.active = k
	h.mu.Unlock()
}

// Active answers the fault kind active now.
func (h *History) Active() Kind {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.active
}

// AddOp stores op, gives it an id and answers the id.
func (h *History) AddOp(op Op) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	op.ID = len(h.ops)
	h.ops = append(h.ops, op)
	return op.ID
}

// AddCreate stores a finished create.
func (h *History) AddCreate(c Create) {
	h.mu.Lock()
	h.creates = append(h.creates, c)
	h.mu.Unlock()
}

// AddFault stores a fault as it ran.
func (h *History) AddFault(f FaultEvent) {
	h.mu.Lock()
	h.faults = append(h.faults, f)
	h.mu.Unlock()
}

// Ops answers a copy of the operations in the order they were added.
func (h *History) Ops() []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ops)
}

// Creates answers a copy of the finished creates.
func (h *History) Creates() []Create {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.creates)
}

// Faults answers a copy of the faults as they ran.
func (h *History) Faults() []FaultEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.faults)
}

// writeHistory writes every operation and create as JSON lines into dir
// (ops.jsonl, creates.jsonl), for digging after a run.
func writeHistory(dir string, ops []Op, creates []Create) error {
	write := func(name string, n int, item func(i int) any) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		enc := json.NewEncoder(w)
		for i := 0; i < n; i++ {
			if err := enc.Encode(item(i)); err != nil {
				f.Close()
				return err
			}
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := write("ops.jsonl", len(ops), func(i int) any { return ops[i] }); err != nil {
		return err
	}
	return write("creates.jsonl", len(creates), func(i int) any { return creates[i] })
}

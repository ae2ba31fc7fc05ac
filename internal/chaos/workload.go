package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// WorkloadConfig says how hard the clients push.
type WorkloadConfig struct {
	Writers     int           // concurrent writers; default 8
	Readers     int           // concurrent readers of the registers; default 4, negative for none
	Registers   int           // register customers per county region; default 3
	Timeout     time.Duration // per request; default 3s
	Think       time.Duration // pause between one client's operations; default 20ms
	UpdateShare float64       // share of a writer's operations that update a register; default 0.3
	MaxAttempts int           // attempts per create (each on the next node); default 6
	Seed        int64         // seeds the clients' choices
}

func (c *WorkloadConfig) fill() {
	if c.Writers <= 0 {
		c.Writers = 8
	}
	if c.Readers == 0 {
		c.Readers = 4
	}
	if c.Registers <= 0 {
		c.Registers = 3
	}
	if c.Timeout <= 0 {
		c.Timeout = 3 * time.Second
	}
	if c.Think <= 0 {
		c.Think = 20 * time.Millisecond
	}
	if c.UpdateShare <= 0 {
		c.UpdateShare = 0.3
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 6
	}
}

// Workload runs the writers and readers against the counties and records
// every request in the history.
type Workload struct {
	cfg    WorkloadConfig
	api    *API
	layout Layout
	hist   *History

	registers []register   // set by Setup, read-only afterwards
	rr        atomic.Int64 // round robin over the county nodes
	wg        sync.WaitGroup
}

// register is a customer the writers update with compare-and-set and the
// readers read: a per-key history for the linearizability check.
type register struct {
	ID     string
	Region string
}

// NewWorkload prepares the clients.
func NewWorkload(cfg WorkloadConfig, api *API, l Layout, h *History) *Workload {
	cfg.fill()
	return &Workload{cfg: cfg, api: api, layout: l, hist: h}
}

// customerBody is a valid customer of region with account number acct.
func customerBody(region, acct, name string, n int) map[string]any {
	cats := []struct {
		cat string
		kv  float64
	}{{"residential", 0.22}, {"commercial", 0.38}, {"industrial", 10}, {"agricultural", 0.38}, {"public", 0.4}}
	c := cats[n%len(cats)]
	return map[string]any{"account_no": acct, "name": name, "category": c.cat, "voltage_kv": c.kv,
		"capacity_kva": 8 + n%100, "region": region}
}

// Setup creates the register customers (before any fault; it retries
// until each is acknowledged or ctx ends).
func (w *Workload) Setup(ctx context.Context) error {
	for _, region := range w.layout.CountyRegions() {
		nodes := w.layout.Region(region)
		for i := 0; i < w.cfg.Registers; i++ {
			acct := fmt.Sprintf("REG-%s-%d", region, i)
			for attempt := 0; ; attempt++ {
				n := nodes[attempt%len(nodes)]
				op := Op{Client: -1, Kind: OpCreate, Node: n.ID, Region: region, Account: acct, Attempt: attempt,
					Value: "init", Start: time.Now(), Fault: w.hist.Active()}
				ans := w.api.Do(ctx, n, http.MethodPost, "/api/v1/customers", customerBody(region, acct, "init", i), 10*time.Second)
				op.End = time.Now()
				fillAnswer(&op, ans)
				if ans.OK() {
					op.Key = op.RecordID
				}
				id := w.hist.AddOp(op)
				if ans.OK() {
					w.registers = append(w.registers, register{ID: op.RecordID, Region: region})
					w.hist.AddCreate(Create{Account: acct, Region: region, Writer: -1, Outcome: Applied, ID: op.RecordID,
						Attempts: []int{id}, Start: op.Start, End: op.End})
					break
				}
				if ctx.Err() != nil || attempt > 50 {
					return fmt.Errorf("chaos: cannot create register %s at %s: %s", acct, n.ID, ans)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	return nil
}

// fillAnswer copies an answer into op and classifies it.
func fillAnswer(op *Op, ans Answer) {
	op.Status, op.Code = ans.Status, ans.Code
	if ans.Err != nil {
		op.Error = shortErr(ans.Err)
	} else if ans.Message != "" {
		op.Error = ans.Message
	}
	op.Outcome, op.Why = ans.Classify()
	if ans.OK() {
		var rec struct {
			ID      string `json:"id"`
			Version uint64 `json:"version"`
			Name    string `json:"name"`
		}
		if json.Unmarshal(ans.Body, &rec) == nil {
			op.RecordID = rec.ID
			switch op.Kind {
			case OpUpdate:
				op.NewVersion = rec.Version
			case OpRead:
				op.Version, op.Value = rec.Version, rec.Name
			}
		}
	}
}

// Start runs the writers and readers until ctx ends. A create in progress
// when ctx ends finishes its current attempt and retries no more.
func (w *Workload) Start(ctx context.Context) {
	for i := 0; i < w.cfg.Writers; i++ {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); w.writer(ctx, i) }()
	}
	for i := 0; i < max(w.cfg.Readers, 0); i++ {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); w.reader(ctx, w.cfg.Writers+i) }()
	}
}

// Wait waits for every client to stop.
func (w *Workload) Wait() { w.wg.Wait() }

func (w *Workload) pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(w.cfg.Think):
	}
}

func (w *Workload) writer(ctx context.Context, id int) {
	rng := rand.New(rand.NewSource(w.cfg.Seed*1000 + int64(id)))
	for seq := 0; ctx.Err() == nil; w.pause(ctx) {
		if len(w.registers) > 0 && rng.Float64() < w.cfg.UpdateShare {
			w.update(ctx, id, seq, rng)
		} else {
			w.create(ctx, id, seq)
		}
		seq++
	}
}

// create sends one new customer to the next county node round robin and
// retries it on the region's other nodes after an answer that is not an
// acknowledgement, as a client would.
func (w *Workload) create(ctx context.Context, writer, seq int) {
	county := w.layout.CountyNodes()
	first := county[int(w.rr.Add(1))%len(county)]
	nodes := rotateTo(w.layout.Region(first.Region), first.ID)
	acct := fmt.Sprintf("W%02d-%06d", writer, seq)
	body := customerBody(first.Region, acct, fmt.Sprintf("客户 %s", acct), seq)
	c := Create{Account: acct, Region: first.Region, Writer: writer, Start: time.Now(), Outcome: NotApplied}
	unknown := false
	for attempt := 0; attempt < w.cfg.MaxAttempts; attempt++ {
		if attempt > 0 {
			if ctx.Err() != nil {
				break
			}
			time.Sleep(min(50*time.Millisecond<<attempt, time.Second))
		}
		n := nodes[attempt%len(nodes)]
		op := Op{Client: writer, Kind: OpCreate, Node: n.ID, Region: first.Region, Account: acct, Attempt: attempt,
			Start: time.Now(), Fault: w.hist.Active()}
		ans := w.api.Do(context.Background(), n, http.MethodPost, "/api/v1/customers", body, w.cfg.Timeout)
		op.End = time.Now()
		fillAnswer(&op, ans)
		c.Attempts = append(c.Attempts, w.hist.AddOp(op))
		c.End = op.End
		switch op.Outcome {
		case Applied:
			c.Outcome, c.ID = Applied, op.RecordID
			w.hist.AddCreate(c)
			return
		case Refused:
			if op.Code == "duplicate" && attempt > 0 { // an earlier attempt went in
				c.Outcome, c.ViaDuplicate = Applied, true
			} else {
				c.Outcome = Refused
			}
			w.hist.AddCreate(c)
			return
		case Unknown:
			unknown = true
		}
	}
	if unknown {
		c.Outcome = Unknown
	}
	w.hist.AddCreate(c)
}

// rotateTo answers nodes starting with the one with id first.
func rotateTo(nodes []NodeSpec, first string) []NodeSpec {
	for i, n := range nodes {
		if n.ID == first {
			return append(append([]NodeSpec(nil), nodes[i:]...), nodes[:i]...)
		}
	}
	return nodes
}

// update reads a register on a random node of its region and writes a new
// name with the version read (compare-and-set) on another random node.
func (w *Workload) update(ctx context.Context, writer, seq int, rng *rand.Rand) {
	reg := w.registers[rng.Intn(len(w.registers))]
	nodes := w.layout.Region(reg.Region)
	read := w.read(writer, reg, nodes[rng.Intn(len(nodes))])
	if read.Outcome != Applied || ctx.Err() != nil {
		return
	}
	n := nodes[rng.Intn(len(nodes))]
	op := Op{Client: writer, Kind: OpUpdate, Node: n.ID, Region: reg.Region, Key: reg.ID, Version: read.Version,
		Value: fmt.Sprintf("w%d-%d", writer, seq), Start: time.Now(), Fault: w.hist.Active()}
	ans := w.api.Do(context.Background(), n, http.MethodPatch, "/api/v1/customers/"+reg.ID,
		map[string]any{"version": read.Version, "name": op.Value}, w.cfg.Timeout)
	op.End = time.Now()
	fillAnswer(&op, ans)
	w.hist.AddOp(op)
}

// read reads a register (linearizable, the default) at node n.
func (w *Workload) read(client int, reg register, n NodeSpec) Op {
	op := Op{Client: client, Kind: OpRead, Node: n.ID, Region: reg.Region, Key: reg.ID, Start: time.Now(), Fault: w.hist.Active()}
	ans := w.api.Do(context.Background(), n, http.MethodGet, "/api/v1/customers/"+reg.ID, nil, w.cfg.Timeout)
	op.End = time.Now()
	fillAnswer(&op, ans)
	if op.Outcome != Applied {
		op.Outcome = Unknown // a failed read tells nothing
	}
	w.hist.AddOp(op)
	return op
}

func (w *Workload) reader(ctx context.Context, id int) {
	rng := rand.New(rand.NewSource(w.cfg.Seed*1000 + int64(id)))
	for ; ctx.Err() == nil; w.pause(ctx) {
		if len(w.registers) == 0 {
			continue
		}
		reg := w.registers[rng.Intn(len(w.registers))]
		nodes := w.layout.Region(reg.Region)
		w.read(id, reg, nodes[rng.Intn(len(nodes))])
	}
}

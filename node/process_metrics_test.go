package node

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gridcrm/crm"
)

// countingReader counts the scans of the process collector.
type countingReader struct {
	crm.Reader
	scans *int
}

func (r countingReader) Iterate(lower, upper []byte, fn func(k, v []byte) bool) error {
	*r.scans++
	return r.Reader.Iterate(lower, upper, fn)
}

func TestProcessCollector_Caches(t *testing.T) {
	scans := 0
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := newProcessCollector("32", "n1", func() crm.Reader { return countingReader{crm.NewMemTxn(), &scans} }, func() time.Time { return clock })
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	gather := func() {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	gather()
	if scans == 0 {
		t.Fatal("the first scrape did not compute")
	}
	first := scans
	clock = clock.Add(processRefresh - time.Second)
	gather()
	if scans != first {
		t.Errorf("a scrape within %v scanned again (%d scans, want %d)", processRefresh, scans, first)
	}
	clock = clock.Add(2 * time.Second)
	gather()
	if scans != 2*first {
		t.Errorf("a scrape after %v did not recompute (%d scans, want %d)", processRefresh, scans, 2*first)
	}
}

func TestStageOverdue(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	done := now.Add(-48 * time.Hour)
	for name, tc := range map[string]struct {
		stages []crm.Stage
		want   bool
	}{
		"current stage past its deadline":   {[]crm.Stage{{DoneAt: &done}, {Deadline: &past}}, true},
		"deadline exactly now":              {[]crm.Stage{{Deadline: &now}}, true},
		"current stage before its deadline": {[]crm.Stage{{DoneAt: &done, Deadline: &past}, {Deadline: &future}}, false},
		"paused":                            {[]crm.Stage{{Deadline: &past, Pauses: []crm.Pause{{From: past}}}}, false},
		"pause ended":                       {[]crm.Stage{{Deadline: &past, Pauses: []crm.Pause{{From: past, To: &past}}}}, true},
		"no deadline (clock error)":         {[]crm.Stage{{}}, false},
		"every stage done":                  {[]crm.Stage{{DoneAt: &done, Deadline: &past}}, false},
	} {
		p := &crm.Project{}
		p.Stages = tc.stages
		if got := stageOverdue(p, now); got != tc.want {
			t.Errorf("%s: overdue %v, want %v", name, got, tc.want)
		}
	}
}

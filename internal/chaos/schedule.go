package chaos

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"time"
)

// Kind names one kind of fault.
type Kind string

// The fault kinds. "County" is the 3-node county (320722) unless a kind
// says otherwise; restarts come 1–5 s after the process went down.
const (
	KillNode        Kind = "kill-node"        // kill -9 a county node (any county), restart
	KillLeader      Kind = "kill-leader"      // kill -9 the county's leader, restart
	PauseLeader     Kind = "pause-leader"     // SIGSTOP the county's leader 2–10 s, SIGCONT
	PauseFollower   Kind = "pause-follower"   // SIGSTOP a follower 2–10 s, SIGCONT
	TermNode        Kind = "term-node"        // SIGTERM a county node, time its exit, restart
	KillCity        Kind = "kill-city"        // kill -9 the city (tier outage), restart
	KillProvince    Kind = "kill-province"    // kill -9 the province (tier outage), restart
	RestartCounty   Kind = "restart-county"   // SIGTERM every county node at once, restart them
	CrashCounty     Kind = "crash-county"     // kill -9 every county node at once, restart them
	PartitionNode   Kind = "partition-node"   // cut one county node off from the other two, 2–10 s
	PartitionCounty Kind = "partition-county" // cut the county off from the city, 2–10 s
	PartitionLeader Kind = "partition-leader" // cut the county's leader off from the other two, 2–10 s
	none            Kind = "none"             // no fault active (availability between faults)
	settle          Kind = "settle"           // the heal and settle period at the end
	startup         Kind = "startup"          // before the first fault
)

// AllKinds lists every fault kind in a fixed order (the schedule draws
// from it, so the order is part of what a seed replays).
var AllKinds = []Kind{KillNode, KillLeader, PauseLeader, PauseFollower, TermNode, KillCity, KillProvince,
	RestartCounty, CrashCounty, PartitionNode, PartitionCounty, PartitionLeader}

// IsPartition reports whether k cuts network links (and so needs netns).
func (k Kind) IsPartition() bool {
	return k == PartitionNode || k == PartitionCounty || k == PartitionLeader
}

// ParseKinds reads a comma-separated list of kinds; "" or "all" is every kind.
func ParseKinds(s string) ([]Kind, error) {
	if s == "" || s == "all" {
		return slices.Clone(AllKinds), nil
	}
	var out []Kind
	for _, f := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(f))
		if !slices.Contains(AllKinds, k) {
			return nil, fmt.Errorf("chaos: unknown fault kind %q (kinds: %v)", k, AllKinds)
		}
		out = append(out, k)
	}
	return out, nil
}

// Fault is one step of the schedule. Everything in it comes from the seed;
// which node "the leader" is gets decided when the fault runs.
type Fault struct {
	Seq  int           `json:"seq"`
	Kind Kind          `json:"kind"`
	Pick int           `json:"pick"` // chooses the target among the candidates (Pick mod len)
	Hold time.Duration `json:"hold"` // how long the fault holds: down time, pause or cut
	Gap  time.Duration `json:"gap"`  // quiet time before the fault starts
}

func (f Fault) String() string {
	return fmt.Sprintf("#%d %s pick=%d hold=%v gap=%v", f.Seq, f.Kind, f.Pick, f.Hold.Round(time.Millisecond), f.Gap.Round(time.Millisecond))
}

// ScheduleConfig says what the schedule draws from.
type ScheduleConfig struct {
	Seed   int64
	Faults int           // how many faults
	Kinds  []Kind        // drawn uniformly; default AllKinds
	MinGap time.Duration // quiet time between faults, drawn from [MinGap, MaxGap]
	MaxGap time.Duration
}

// holdRange is how long each kind holds: restarts after 1–5 s, pauses and
// cuts 2–10 s.
func holdRange(k Kind) (time.Duration, time.Duration) {
	switch k {
	case PauseLeader, PauseFollower, PartitionNode, PartitionCounty, PartitionLeader:
		return 2 * time.Second, 10 * time.Second
	}
	return time.Second, 5 * time.Second
}

// NewSchedule draws the faults from math/rand seeded with c.Seed: the same
// config gives the same kinds, picks, holds and gaps.
func NewSchedule(c ScheduleConfig) []Fault {
	kinds := c.Kinds
	if len(kinds) == 0 {
		kinds = AllKinds
	}
	rng := rand.New(rand.NewSource(c.Seed))
	between := func(lo, hi time.Duration) time.Duration {
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(rng.Int63n(int64(hi-lo)+1))
	}
	out := make([]Fault, 0, c.Faults)
	for i := 0; i < c.Faults; i++ {
		k := kinds[rng.Intn(len(kinds))]
		lo, hi := holdRange(k)
		f := Fault{Seq: i + 1, Kind: k, Pick: rng.Intn(1 << 20)}
		f.Hold = between(lo, hi).Round(time.Millisecond)
		f.Gap = between(c.MinGap, c.MaxGap).Round(time.Millisecond)
		out = append(out, f)
	}
	return out
}

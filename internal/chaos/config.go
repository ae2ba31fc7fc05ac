package chaos

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Config configures a run. Zero fields take the defaults DefaultConfig
// shows.
type Config struct {
	Binary       string        // the gridcrm binary; default bin/gridcrm
	Dir          string        // where run directories go; default .chaos (the run's is Dir/<time>-seed<seed>)
	Seed         int64         // seeds the schedule and the clients; 0 = from the clock
	Faults       int           // faults in the schedule; default 40
	Duration     time.Duration // stop injecting after this long even if faults remain; 0 = no limit
	MinGap       time.Duration // quiet time between faults, at least; default 500ms
	MaxGap       time.Duration // and at most; default 5s
	Kinds        []Kind        // fault kinds to draw from; default AllKinds
	Network      string        // "auto" (default: namespaces where possible), "netns" or "loopback"
	County2Nodes int           // nodes of the second county 320723; default 1
	Warmup       time.Duration // workload before the first fault; default 5s
	Settle       time.Duration // workload after the last fault, everything healed; default 15s
	Converge     time.Duration // how long replicas may take to agree after the run; default 120s
	Stall        time.Duration // a SIGTERM exit longer than this is an anomaly; default 15s
	ReadyWait    time.Duration // a node not ready this long after a fault healed is an anomaly; default 45s
	LinTimeout   time.Duration // porcupine's time limit; default 2m
	LogLevel     string        // the nodes' log level; default info
	Password     string        // the admin password of every region; default chaos-root-pw-7
	KeepData     bool          // keep the nodes' data directories after a run without anomalies (kept anyway otherwise)
	Workload     WorkloadConfig
	Out          io.Writer // progress; default os.Stdout
}

// DefaultConfig answers the defaults.
func DefaultConfig() Config {
	c := Config{}
	c.fill()
	return c
}

func (c *Config) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Binary == "" {
		c.Binary = "bin/gridcrm"
	}
	if c.Dir == "" {
		c.Dir = ".chaos"
	}
	if c.Faults <= 0 {
		c.Faults = 40
	}
	def(&c.MinGap, 500*time.Millisecond)
	def(&c.MaxGap, 5*time.Second)
	if len(c.Kinds) == 0 {
		c.Kinds = slices.Clone(AllKinds)
	}
	if c.Network == "" {
		c.Network = "auto"
	}
	if c.County2Nodes <= 0 {
		c.County2Nodes = 1
	}
	def(&c.Warmup, 5*time.Second)
	def(&c.Settle, 15*time.Second)
	def(&c.Converge, 120*time.Second)
	def(&c.Stall, 15*time.Second)
	def(&c.ReadyWait, 45*time.Second)
	def(&c.LinTimeout, 2*time.Minute)
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Password == "" {
		c.Password = "chaos-root-pw-7" // crm.CheckPassword: not containing the username
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	c.Workload.fill()
	if c.Seed == 0 {
		c.Seed = time.Now().UnixNano() % 1_000_000_000
	}
	if c.Workload.Seed == 0 {
		c.Workload.Seed = c.Seed
	}
}

// Validate fills the defaults and checks the config.
func (c *Config) Validate() error {
	c.fill()
	switch {
	case c.MaxGap < c.MinGap:
		return fmt.Errorf("chaos: max gap %v is below min gap %v", c.MaxGap, c.MinGap)
	case c.Network != "auto" && c.Network != "netns" && c.Network != "loopback":
		return fmt.Errorf("chaos: network %q: want auto, netns or loopback", c.Network)
	case c.County2Nodes != 1 && c.County2Nodes != 3:
		return fmt.Errorf("chaos: the second county has 1 or 3 nodes, not %d", c.County2Nodes)
	}
	if _, err := os.Stat(c.Binary); err != nil {
		return fmt.Errorf("chaos: gridcrm binary: %w (run `make build` first)", err)
	}
	if c.Password == "" {
		return errors.New("chaos: admin password is empty")
	}
	return nil
}

// Replay answers the command that runs the same schedule again.
func (c Config) Replay() string {
	d := DefaultConfig()
	var b strings.Builder
	fmt.Fprintf(&b, "make chaos CHAOS_SEED=%d CHAOS_FAULTS=%d", c.Seed, c.Faults)
	if c.Duration > 0 {
		fmt.Fprintf(&b, " CHAOS_DURATION=%v", c.Duration)
	}
	if !slices.Equal(c.Kinds, AllKinds) {
		var ks []string
		for _, k := range c.Kinds {
			ks = append(ks, string(k))
		}
		fmt.Fprintf(&b, " CHAOS_KINDS=%s", strings.Join(ks, ","))
	}
	if c.MinGap != d.MinGap || c.MaxGap != d.MaxGap {
		fmt.Fprintf(&b, " CHAOS_ARGS='-min-gap %v -max-gap %v'", c.MinGap, c.MaxGap)
	}
	return b.String()
}

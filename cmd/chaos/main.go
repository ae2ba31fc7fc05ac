// Command chaos runs the black-box fault harness (internal/chaos) against
// real `gridcrm node` processes: `make chaos`, or
//
//	go run ./cmd/chaos -seed 123 -faults 40
//
// It only turns flags into chaos.Config and prints the report. It exits 1
// when the run found anomalies, 2 when the run itself failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"gridcrm/internal/chaos"
)

func main() {
	cfg := chaos.DefaultConfig()
	cfg.Seed = 0 // 0: from the clock, printed
	var kinds string
	flag.StringVar(&cfg.Binary, "bin", cfg.Binary, "the gridcrm binary")
	flag.StringVar(&cfg.Dir, "dir", cfg.Dir, "directory for run directories (each run gets <time>-seed<seed> in it)")
	flag.Int64Var(&cfg.Seed, "seed", 0, "seed of the fault schedule and the clients (0: from the clock)")
	flag.IntVar(&cfg.Faults, "faults", cfg.Faults, "faults in the schedule")
	flag.DurationVar(&cfg.Duration, "duration", 0, "stop injecting after this long even if faults remain (0: no limit)")
	flag.DurationVar(&cfg.MinGap, "min-gap", cfg.MinGap, "quiet time between faults, at least")
	flag.DurationVar(&cfg.MaxGap, "max-gap", cfg.MaxGap, "quiet time between faults, at most")
	flag.StringVar(&kinds, "kinds", "all", fmt.Sprintf("comma-separated fault kinds: %v", chaos.AllKinds))
	flag.StringVar(&cfg.Network, "network", cfg.Network, "auto (namespaces where possible), netns or loopback (no partitions)")
	flag.IntVar(&cfg.County2Nodes, "county2-nodes", cfg.County2Nodes, "nodes of the second county 320723 (1 or 3)")
	flag.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "workload before the first fault")
	flag.DurationVar(&cfg.Settle, "settle", cfg.Settle, "workload after the last fault, everything healed")
	flag.DurationVar(&cfg.Converge, "converge", cfg.Converge, "how long replicas may take to agree after the run")
	flag.DurationVar(&cfg.Stall, "stall", cfg.Stall, "a SIGTERM exit longer than this is an anomaly")
	flag.DurationVar(&cfg.LinTimeout, "lin-timeout", cfg.LinTimeout, "time limit of the linearizability check")
	flag.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "the nodes' log level")
	flag.BoolVar(&cfg.KeepData, "keep-data", false, "keep the nodes' data directories after a run without anomalies")
	flag.IntVar(&cfg.Workload.Writers, "writers", cfg.Workload.Writers, "concurrent writers")
	flag.IntVar(&cfg.Workload.Readers, "readers", cfg.Workload.Readers, "concurrent readers of the registers (negative: none)")
	flag.IntVar(&cfg.Workload.Registers, "registers", cfg.Workload.Registers, "register customers per county")
	flag.DurationVar(&cfg.Workload.Timeout, "timeout", cfg.Workload.Timeout, "client timeout per request")
	flag.DurationVar(&cfg.Workload.Think, "think", cfg.Workload.Think, "pause between one client's operations")
	flag.Parse()
	var err error
	if cfg.Kinds, err = chaos.ParseKinds(kinds); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg.Workload.Seed = 0 // follows the seed

	// The first Ctrl-C ends the fault phase early (the run still settles
	// and checks); a second one exits at once (the nodes die with the
	// harness; namespaces may be left behind).
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "chaos: interrupted: no more faults; settling and checking (interrupt again to abort)")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "chaos: aborted")
		os.Exit(130)
	}()

	rep, err := chaos.Run(ctx, cfg)
	if rep != nil {
		rep.Summary(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	if len(rep.Anomalies) > 0 {
		os.Exit(1)
	}
}

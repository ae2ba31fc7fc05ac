package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"gridcrm/internal/demo"
	"gridcrm/ops"
)

func monitorConfigCmd() *cobra.Command {
	var demoDir, out string
	var rules []string
	var interval time.Duration
	c := &cobra.Command{
		Use:   "monitor-config",
		Short: "Write a Prometheus config that scrapes every node of a running demo",
		Long: `Read DIR/demo.json (written by gridcrm demo) and write a prometheus.yml whose
one job scrapes every demo node's token-free metrics listener, with the given
alert rule files loaded. make monitor runs it, then Debian's prometheus.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := os.ReadFile(filepath.Join(demoDir, "demo.json"))
			if err != nil {
				return fmt.Errorf("monitor-config: %w (is make demo running?)", err)
			}
			var d demo.File
			if err := json.Unmarshal(raw, &d); err != nil {
				return fmt.Errorf("monitor-config: %s/demo.json: %w", demoDir, err)
			}
			var ts []ops.ScrapeTarget
			for _, n := range d.Nodes {
				if n.Metrics == "" {
					return errors.New("monitor-config: demo.json has no metrics addresses; restart the demo with this version")
				}
				ts = append(ts, ops.ScrapeTarget{Addr: n.Metrics, Region: n.Region, Node: n.Name, Tier: n.Tier})
			}
			for i, r := range rules {
				if rules[i], err = filepath.Abs(r); err != nil {
					return err
				}
			}
			cfg, err := ops.PrometheusConfig(ts, rules, interval)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, cfg, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "monitor-config: %s scrapes %d nodes\n", out, len(ts))
			return nil
		},
	}
	c.Flags().StringVar(&demoDir, "demo-dir", ".demo", "the demo's directory (holds demo.json)")
	c.Flags().StringVar(&out, "out", "prometheus.yml", "config file to write")
	c.Flags().StringSliceVar(&rules, "rules", []string{"ops/alerts.yml"}, "alert rule files to load")
	c.Flags().DurationVar(&interval, "interval", 5*time.Second, "scrape and rule evaluation interval")
	return c
}

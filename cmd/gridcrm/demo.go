package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"gridcrm/internal/demo"
)

func demoCmd() *cobra.Command {
	var o demo.Options
	var plain bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Start a demo hierarchy (province, 2 cities, 4 counties) with sample data on this machine",
		Long: `Start, in this one process, province 32 (江苏省), cities 3207 (连云港市) and
3208 (淮安市), and counties 320722 (东海县, a raft group of three nodes),
320723, 320803 and 320804 (one node each), linked child to parent on
loopback through netstack WireGuard tunnels (one device per node, peers
derived from DIR/topology.yaml; --no-tunnels links them over plain TCP).
Load generated sample data at the counties (customers, 27 months
of bills, staff, contacts, visits) through the HTTP API, write directives at
the province and a city, keep a light trickle of new customers going, write
DIR/demo.json with every node's API URL and the admin's credentials, and run
until SIGINT or SIGTERM. The loader sends a request again after a transient
failure (reading a write of unknown outcome back first) and gives up, with
an error, after --load-timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Dir == "" {
				return fmt.Errorf("--dir is required")
			}
			out := cmd.OutOrStdout()
			o.Tunnels, o.Log, o.Logger = !plain, out, newLogger("warn", false, os.Stderr)
			d, stop, err := demo.Start(o)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\ngridcrm demo is up. Log in as %s / %s on any node:\n", d.Admin.Username, d.Admin.Password)
			fmt.Fprintln(out, "  (the province and cities read their counties: ?region=320722 or ?region=32&scope=subtree)")
			for _, n := range d.Nodes {
				fmt.Fprintf(out, "  %-10s %-8s %-7s %s\n", n.Name, n.Region, n.Tier, n.API)
			}
			if d.Nodes[0].Device != "" {
				fmt.Fprintf(out, "Tiers are linked through WireGuard (netstack): wg show %s (or: wg show all)\n", d.Nodes[0].Device)
			}
			fmt.Fprintln(out, "Web console (中文), one per region; log in with the same user:")
			seen := map[string]bool{}
			for _, n := range d.Nodes {
				if !seen[n.Region] {
					seen[n.Region] = true
					fmt.Fprintf(out, "  %-8s %-7s %s/console/\n", n.Region, n.Tier, n.API)
				}
			}
			fmt.Fprintf(out, "Try: curl -s -X POST %s/api/v1/auth/login -d '{\"username\":\"admin\",\"password\":\"%s\"}'\n", d.Nodes[0].API, d.Admin.Password)
			fmt.Fprintf(out, "Written: %s. Stop with Ctrl-C.\n", filepath.Join(o.Dir, "demo.json"))
			waitForSignal()
			fmt.Fprintln(out, "gridcrm demo: stopping")
			return stop()
		},
	}
	c.Flags().StringVar(&o.Dir, "dir", "", "directory for the nodes' data and demo.json (required)")
	c.Flags().IntVar(&o.Customers, "customers", 4000, "customers to generate across the four counties")
	c.Flags().IntVar(&o.Months, "months", 27, "months of bills per customer (25 or more give the warning run its seasonal model: 24 months before the judged one)")
	c.Flags().BoolVar(&plain, "no-tunnels", false, "link the tiers over plain TCP instead of WireGuard tunnels")
	c.Flags().DurationVar(&o.LoadTimeout, "load-timeout", demo.DefaultLoadTimeout, "give up (with an error) when loading the sample data takes longer, retries included")
	return c
}

// Command gridcrm is the one binary of gridcrm: every tier (province, city,
// county) runs it. It only turns flags and config files into node.Config
// and starts things; everything else lives in the packages.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := &cobra.Command{
		Use:           "gridcrm",
		Short:         "Hierarchical CRM for a power-supply company (province, city, county)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(nodeCmd(), demoCmd(), keygenCmd(), certCmd(), versionCmd())
	root.AddCommand(statusCmd(), backupCmd(), restoreCmd(), monitorConfigCmd()) // ops.go, status.go, monitor.go
	root.AddCommand(forecastCmd(), creditCmd())
	root.AddCommand(authCmd())  // auth.go: token signing keys
	root.AddCommand(auditCmd()) // audit.go: verify the audit chains
	// export.go: a collection as Parquet or CSV for a data warehouse
	root.AddCommand(exportCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "gridcrm:", err)
		os.Exit(1)
	}
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "gridcrm", version) },
	}
}

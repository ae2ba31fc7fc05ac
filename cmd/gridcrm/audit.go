package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"gridcrm/crm"
	"gridcrm/replication"
	"gridcrm/store"
)

// errAuditBroken is what audit verify answers when a chain does not verify.
var errAuditBroken = errors.New("audit: a chain does not verify")

func auditCmd() *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "The audit trail: verify its hash chains"}
	c.AddCommand(auditVerifyCmd())
	return c
}

func auditVerifyCmd() *cobra.Command {
	var cr credentials
	var dataDir, region string
	c := &cobra.Command{
		Use:   "verify",
		Short: "Verify the audit hash chains held by a node (over its API, or in a stopped node's data directory)",
		Long: `Check every audit chain a node holds — its own region's and the copies rolled
up from the regions below — entry by entry: each entry matches its SHA-256
hash, follows the one before (seq without gaps, prev = the hash before) and
the last is the head the node recorded. An entry altered, or removed from
the middle or the end of a chain, is reported with its seq.

With --url (default), ask a running node (GET /api/v1/audit/verify, as an
admin). With --data-dir, read a stopped node's store directly (Pebble
allows one process at a time). Exits non-zero when a chain does not verify.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var reports []crm.AuditReport
			var err error
			if dataDir != "" {
				reports, err = verifyDataDir(dataDir, region)
			} else {
				reports, err = verifyOverAPI(&cr, region)
			}
			if err != nil {
				return err
			}
			return renderAudit(cmd.OutOrStdout(), reports)
		},
	}
	cr.flags(c)
	c.Flags().StringVar(&dataDir, "data-dir", "", "a stopped node's data directory (its pebble/ store is read, never written)")
	c.Flags().StringVar(&region, "region", "", "only the chains of this region and the regions below it (default: every chain held)")
	return c
}

func verifyOverAPI(cr *credentials, region string) ([]crm.AuditReport, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cl, err := cr.login(ctx)
	if err != nil {
		return nil, err
	}
	cl.http.Timeout = 0 // a long chain takes a while; ctx bounds it
	path := "/api/v1/audit/verify"
	if region != "" {
		path += "?region=" + url.QueryEscape(region)
	}
	var out struct {
		Chains []crm.AuditReport `json:"chains"`
	}
	if err := cl.do(ctx, "GET", path, nil, &out); err != nil {
		return nil, err
	}
	return out.Chains, nil
}

// verifyDataDir verifies the chains in dir's store (dir/pebble).
func verifyDataDir(dir, region string) ([]crm.AuditReport, error) {
	sc := store.DefaultConfig()
	sc.Dir = filepath.Join(dir, "pebble")
	if entries, err := os.ReadDir(sc.Dir); err != nil || len(entries) == 0 {
		return nil, fmt.Errorf("audit: %s holds no node's store (no %s): give the data directory of a node", dir, sc.Dir)
	}
	st, err := store.Open(sc)
	if err != nil {
		return nil, fmt.Errorf("audit: %w (a running node holds its store: stop it, or verify over its API with --url)", err)
	}
	defer st.Close()
	return crm.VerifyAudit(replication.StateReaderOf(st), region)
}

// renderAudit prints one line per chain and its problems; the error says
// whether every chain verified.
func renderAudit(w io.Writer, reports []crm.AuditReport) error {
	broken := 0
	if len(reports) == 0 {
		fmt.Fprintln(w, "no audit entries held")
	}
	for _, r := range reports {
		state := "ok"
		if !r.OK {
			state = "BROKEN"
			broken++
		}
		fmt.Fprintf(w, "%-8s %-6s %d entries, head %d\n", r.Region, state, r.Entries, r.Head)
		for _, p := range r.Problems {
			fmt.Fprintf(w, "         seq %d: %s\n", p.Seq, p.What)
		}
	}
	if broken > 0 {
		return fmt.Errorf("%w: %d of %d chains broken", errAuditBroken, broken, len(reports))
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// authCmd groups the token key verbs: list and rotate the region's token
// signing keys (POST /api/v1/auth/keys/rotate, GET /api/v1/auth/keys).
func authCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "auth",
		Short: "The region's token signing keys: list, rotate",
	}
	c.AddCommand(authKeysCmd(), authRotateKeyCmd())
	return c
}

// tokenKeys is the answer of GET /api/v1/auth/keys and of a rotation.
type tokenKeys struct {
	Region  string `json:"region"`
	Current string `json:"current"`
	Grace   string `json:"grace"`
	Keys    []struct {
		ID        string     `json:"id"`
		Current   bool       `json:"current"`
		CreatedAt *time.Time `json:"created_at"`
		CreatedBy string     `json:"created_by"`
		RetireAt  *time.Time `json:"retire_at"`
		Retired   bool       `json:"retired"`
	} `json:"keys"`
}

func (k tokenKeys) render(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tBY\tRETIRE AT")
	stamp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, key := range k.Keys {
		state := "previous"
		switch {
		case key.Current:
			state = "current"
		case key.Retired:
			state = "retired"
		}
		by := key.CreatedBy
		if by == "" {
			by = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", key.ID, state, stamp(key.CreatedAt), by, stamp(key.RetireAt))
	}
	_ = tw.Flush()
}

func authKeysCmd() *cobra.Command {
	var cr credentials
	c := &cobra.Command{
		Use:          "keys",
		Short:        "List the region's token signing keys (ids and times, never the keys)",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cl, err := cr.login(ctx)
			if err != nil {
				return err
			}
			var k tokenKeys
			if err := cl.do(ctx, "GET", "/api/v1/auth/keys", nil, &k); err != nil {
				return err
			}
			k.render(cmd.OutOrStdout())
			return nil
		},
	}
	cr.flags(c)
	return c
}

func authRotateKeyCmd() *cobra.Command {
	var (
		cr    credentials
		grace string
	)
	c := &cobra.Command{
		Use:   "rotate-key",
		Short: "Make a new token signing key; tokens of the old ones hold for --grace",
		Long: `Rotate the region's token signing key (as an admin of the region). New
tokens are signed with the new key; tokens signed with the keys it replaces
are accepted until --grace has passed (default, and at most, the server's
maximum token lifetime), then refused: their users log in again. --grace 0s
refuses them at once, for a key that may have leaked. Keys past their grace
are dropped from the region at the next rotation.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cl, err := cr.login(ctx)
			if err != nil {
				return err
			}
			body := map[string]string{}
			if grace != "" {
				body["grace"] = grace
			}
			var k tokenKeys
			if err := cl.do(ctx, "POST", "/api/v1/auth/keys/rotate", body, &k); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "region %s: new token key %s; tokens of the previous keys are accepted for %s\n", k.Region, k.Current, k.Grace)
			k.render(cmd.OutOrStdout())
			return nil
		},
	}
	cr.flags(c)
	c.Flags().StringVar(&grace, "grace", "", `how long tokens of the old keys stay valid, e.g. "1h" (default: the maximum token lifetime)`)
	return c
}

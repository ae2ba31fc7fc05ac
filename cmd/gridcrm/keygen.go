package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"gridcrm/tunnel"
)

func keygenCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "keygen",
		Short: "Write a WireGuard private key file (mode 0600) and print its public key",
		Long: `Write a new WireGuard private key to --out (mode 0600; an existing file is
never overwritten) and print the public key, which the other nodes' configs
name as this node's peer key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required: where to write the private key")
			}
			pub, err := tunnel.GenerateKey(out)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), pub)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "private key file to write (required)")
	return c
}

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"gridcrm/pki"
	"gridcrm/tiers"
)

func certCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "cert",
		Short: "Node certificates: the province root CA, issue, renew, revoke, show",
		Long: `Manage node certificates for mutual TLS between nodes (package pki).

A CA directory (--dir) holds the province root (root.crt, root.key, root.crl),
optional per-region intermediates (ca/), node certificates and keys
(nodes/<region>/<node>.crt|.key) and an index of everything issued
(issued.json). Every file is written 0600 and every directory 0700.
A node needs its own .crt and .key, and the trust files: root.crt,
root.crl and ca/*.crt, ca/*.crl (never the CA keys).`,
	}
	c.AddCommand(certInitRootCmd(), certInitCACmd(), certIssueCmd(), certRenewCmd(), certRevokeCmd(), certCRLCmd(), certShowCmd())
	return c
}

// openAuthority opens --dir, with an error naming the flag when it is missing.
func openAuthority(dir string) (*pki.Authority, error) {
	if dir == "" {
		return nil, errors.New("--dir is required: the CA directory made by `gridcrm cert init-root`")
	}
	return pki.OpenAuthority(dir)
}

// regionFlag parses --<name> as a region code of the wanted tiers.
func regionFlag(name, value string) (tiers.RegionCode, error) {
	if value == "" {
		return "", fmt.Errorf("--%s is required", name)
	}
	r, err := tiers.ParseRegion(value)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", name, err)
	}
	return r, nil
}

// identityFlags parses --region and --node as an identity.
func identityFlags(region, node string) (pki.Identity, error) {
	r, err := regionFlag("region", region)
	if err != nil {
		return pki.Identity{}, err
	}
	if node == "" {
		return pki.Identity{}, errors.New("--node is required: the node id, as in the node's node_id (e.g. dh1)")
	}
	if !pki.ValidNodeID(node) {
		_, err := pki.NewIdentity(string(r), node)
		return pki.Identity{}, fmt.Errorf("--node: %w", err)
	}
	return pki.Identity{Region: r, Node: node}, nil
}

// ipFlags parses each --ip value.
func ipFlags(values []string) ([]net.IP, error) {
	var out []net.IP
	for _, v := range values {
		ip := net.ParseIP(strings.TrimSpace(v))
		if ip == nil {
			return nil, fmt.Errorf("--ip %q is not an IP address", v)
		}
		out = append(out, ip)
	}
	return out, nil
}

func certInitRootCmd() *cobra.Command {
	var dir, province string
	var days int
	c := &cobra.Command{
		Use:   "init-root --dir D --province 32",
		Short: "Create a CA directory with a new province root CA and its first revocation list",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required: the directory to create the CA in")
			}
			p, err := regionFlag("province", province)
			if err != nil {
				return err
			}
			if p.Tier() != tiers.Province {
				return fmt.Errorf("--province %s is a %s code; want the 2-digit province (%s)", p, p.Tier(), p[:2])
			}
			a, err := pki.InitRoot(dir, p, pki.RootOptions{Days: days})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "root CA for province %s in %s\n", a.Province(), a.Dir())
			fmt.Fprintf(out, "  %s  (secret: keep it offline)\n", filepath.Join(dir, "root.key"))
			fmt.Fprintf(out, "  %s  %s  (give both to every node)\n", filepath.Join(dir, "root.crt"), filepath.Join(dir, "root.crl"))
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "CA directory to create (required; made 0700)")
	c.Flags().StringVar(&province, "province", "", "province region code, e.g. 32 (required)")
	c.Flags().IntVar(&days, "days", 0, fmt.Sprintf("validity in days (default %d, at most %d)", pki.DefaultRootDays, pki.MaxRootDays))
	return c
}

func certInitCACmd() *cobra.Command {
	var dir, region string
	var days int
	c := &cobra.Command{
		Use:   "init-ca --dir D --region 3207",
		Short: "Create a per-region intermediate CA; later certificates in its subtree are issued by it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openAuthority(dir)
			if err != nil {
				return err
			}
			r, err := regionFlag("region", region)
			if err != nil {
				return err
			}
			ca, err := a.InitCA(r, pki.CAOptions{Days: days})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "intermediate CA for region %s (serial %s) in %s\n  give ca/%s.crt and ca/%s.crl to every node before it meets a certificate the CA issued\n",
				r, pki.FormatSerial(ca.Cert.SerialNumber), filepath.Join(dir, "ca"), r, r)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "CA directory (required)")
	c.Flags().StringVar(&region, "region", "", "city or county region code, e.g. 3207 (required)")
	c.Flags().IntVar(&days, "days", 0, fmt.Sprintf("validity in days (default %d, at most %d)", pki.DefaultCADays, pki.MaxCADays))
	return c
}

func certIssueCmd() *cobra.Command {
	var dir, region, node string
	var ips, dns []string
	var days int
	c := &cobra.Command{
		Use:   "issue --dir D --region 320722 --node dh1 [--ip A] [--dns N] [--days N]",
		Short: "Issue a node certificate and key (gridcrm://<province>/<city>/<county>/<node>)",
		Long: `Issue a node certificate and a new key, written to
D/nodes/<region>/<node>.crt and .key (0600). The certificate names the node
in a URI SAN (e.g. gridcrm://32/3207/320722/dh1), is valid for server and
client auth, and optionally carries --ip and --dns names. Nodes verify each
other by the identity in the URI SAN (the region decides what a peer may
do), not by the address dialled, so the names are only for tools that
dial a node by name with ordinary TLS.
It is signed by the nearest intermediate above the region (init-ca), or the root.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openAuthority(dir)
			if err != nil {
				return err
			}
			id, err := identityFlags(region, node)
			if err != nil {
				return err
			}
			ipList, err := ipFlags(ips)
			if err != nil {
				return err
			}
			is, err := a.Issue(pki.NodeRequest{Identity: id, IPs: ipList, DNS: dns, Days: days})
			if err != nil {
				return err
			}
			printIssued(cmd.OutOrStdout(), a, id, is)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "CA directory (required)")
	c.Flags().StringVar(&region, "region", "", "the node's region code, e.g. 320722 (required)")
	c.Flags().StringVar(&node, "node", "", "the node id, e.g. dh1 (required)")
	c.Flags().StringSliceVar(&ips, "ip", nil, "IP SAN: an address tools may dial the node at (optional; repeat or comma-separate)")
	c.Flags().StringSliceVar(&dns, "dns", nil, "DNS SAN: a name tools may dial the node at (optional; repeat or comma-separate)")
	c.Flags().IntVar(&days, "days", 0, fmt.Sprintf("validity in days (default %d, at most %d)", pki.DefaultNodeDays, pki.MaxNodeDays))
	return c
}

func printIssued(out io.Writer, a *pki.Authority, id pki.Identity, is *pki.Issued) {
	certFile, keyFile := a.NodeFiles(id)
	fmt.Fprintf(out, "%s  serial %s  until %s  issued by %q\n", id, pki.FormatSerial(is.Cert.SerialNumber), is.Cert.NotAfter.UTC().Format("2006-01-02"), is.Cert.Issuer.CommonName)
	fmt.Fprintf(out, "  %s\n  %s\n", certFile, keyFile)
}

func certRenewCmd() *cobra.Command {
	var dir, region, node string
	var ips, dns []string
	var days int
	var sameKey bool
	c := &cobra.Command{
		Use:   "renew --dir D --region 320722 --node dh1 [--same-key] [--days N]",
		Short: "Reissue a node certificate with the same identity and SANs; a new key unless --same-key",
		Long: `Reissue the certificate in D/nodes/<region>/<node>.crt: same identity, same
IP and DNS SANs (unless --ip or --dns replace them), a new serial and validity,
and a new key unless --same-key. The files are replaced; the old certificate
stays valid until it expires: revoke it (its serial is printed) if its key
may be compromised.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openAuthority(dir)
			if err != nil {
				return err
			}
			id, err := identityFlags(region, node)
			if err != nil {
				return err
			}
			req := pki.RenewRequest{Days: days}
			if cmd.Flags().Changed("ip") {
				if req.IPs, err = ipFlags(ips); err != nil {
					return err
				}
				if req.IPs == nil {
					req.IPs = []net.IP{}
				}
			}
			if cmd.Flags().Changed("dns") {
				req.DNS = append([]string{}, dns...)
			}
			is, old, err := a.Renew(id, sameKey, req)
			if err != nil {
				return err
			}
			printIssued(cmd.OutOrStdout(), a, id, is)
			fmt.Fprintf(cmd.OutOrStdout(), "  replaced serial %s (valid until %s; `gridcrm cert revoke --dir %s --serial %s` to end it now)\n",
				pki.FormatSerial(old.SerialNumber), old.NotAfter.UTC().Format("2006-01-02"), dir, pki.FormatSerial(old.SerialNumber))
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "CA directory (required)")
	c.Flags().StringVar(&region, "region", "", "the node's region code (required)")
	c.Flags().StringVar(&node, "node", "", "the node id (required)")
	c.Flags().StringSliceVar(&ips, "ip", nil, "replace the IP SANs (default: keep the old certificate's)")
	c.Flags().StringSliceVar(&dns, "dns", nil, "replace the DNS SANs (default: keep the old certificate's)")
	c.Flags().IntVar(&days, "days", 0, fmt.Sprintf("validity in days (default %d, at most %d)", pki.DefaultNodeDays, pki.MaxNodeDays))
	c.Flags().BoolVar(&sameKey, "same-key", false, "keep the node's key (default: a new key)")
	return c
}

func certRevokeCmd() *cobra.Command {
	var dir, serial, certFile string
	c := &cobra.Command{
		Use:   "revoke --dir D (--serial S | --cert FILE)",
		Short: "Revoke a certificate: add it to its issuer's revocation list (next number)",
		Long: `Add a certificate to the revocation list of the CA that issued it and sign
the list with the next number. Copy the list (root.crl or ca/<region>.crl) to
every node; a node refuses the certificate once it has loaded the list, and
never goes back to a list with a lower number.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openAuthority(dir)
			if err != nil {
				return err
			}
			var rec pki.Record
			var crlFile string
			switch {
			case serial != "" && certFile != "":
				return errors.New("give --serial or --cert, not both")
			case serial != "":
				n, err := pki.ParseSerial(serial)
				if err != nil {
					return fmt.Errorf("--serial: %w", err)
				}
				if rec, crlFile, err = a.Revoke(n); err != nil {
					return err
				}
			case certFile != "":
				certs, err := pki.LoadCertificates(certFile)
				if err != nil {
					return fmt.Errorf("--cert: %w", err)
				}
				if rec, crlFile, err = a.RevokeCert(certs[0]); err != nil {
					return err
				}
			default:
				return errors.New("--serial or --cert is required: which certificate to revoke (`gridcrm cert show FILE` prints a serial)")
			}
			rl, err := pki.LoadCRL(crlFile)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s (%s)\n  %s is now list number %s (%d revoked): copy it to every node\n",
				rec.Serial, rec.Subject, crlFile, rl.Number, len(rl.RevokedCertificateEntries))
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "CA directory (required)")
	c.Flags().StringVar(&serial, "serial", "", "serial of the certificate to revoke, in hex as `cert show` prints it")
	c.Flags().StringVar(&certFile, "cert", "", "certificate file to revoke")
	return c
}

func certCRLCmd() *cobra.Command {
	var dir string
	var days int
	c := &cobra.Command{
		Use:   "crl --dir D [--days N]",
		Short: "Re-sign every CA's revocation list (same entries, next number) before it expires",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openAuthority(dir)
			if err != nil {
				return err
			}
			files, err := a.RefreshCRLs(pki.CRLOptions{Days: days})
			if err != nil {
				return err
			}
			for _, f := range files {
				rl, err := pki.LoadCRL(f)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s  number %s  next update %s\n", f, rl.Number, rl.NextUpdate.UTC().Format("2006-01-02"))
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "CA directory (required)")
	c.Flags().IntVar(&days, "days", 0, fmt.Sprintf("days until the next update (default %d, at most %d)", pki.DefaultCRLDays, pki.MaxCRLDays))
	return c
}

func certShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show FILE",
		Short: "Print a certificate's identity, serial, validity and SANs, or a revocation list",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("show: %w", err)
			}
			s, err := pki.Describe(b)
			if err != nil {
				return fmt.Errorf("show %s: %w", args[0], err)
			}
			fmt.Fprint(cmd.OutOrStdout(), s)
			return nil
		},
	}
}

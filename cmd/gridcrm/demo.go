package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"gridcrm/crm"
	"gridcrm/crm/sample"
	"gridcrm/node"
	"gridcrm/replication"
)

// demoFile is DIR/demo.json, read by scripts such as shared/tools/smoke.
type demoFile struct {
	Nodes []demoNode `json:"nodes"`
	Admin struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"admin"`
}

type demoNode struct {
	Name   string `json:"name"`
	Region string `json:"region"`
	Tier   string `json:"tier"`
	API    string `json:"api"`
}

func demoCmd() *cobra.Command {
	var dir string
	var customers, months int
	c := &cobra.Command{
		Use:   "demo",
		Short: "Start a demo region of 3 nodes with sample data on this machine",
		Long: `Start, in this one process, county 320722 (东海县) as a raft group of three
nodes on loopback, load generated sample data (customers, 24 months of
bills, staff, contacts, visits) through the HTTP API, write DIR/demo.json
with the nodes' API URLs and the admin's credentials, and run until
SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return fmt.Errorf("--dir is required")
			}
			out := cmd.OutOrStdout()
			d, stop, err := startDemo(dir, customers, months, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\ngridcrm demo is up. Log in as %s / %s on any node:\n", d.Admin.Username, d.Admin.Password)
			for _, n := range d.Nodes {
				fmt.Fprintf(out, "  %-10s %-8s %-7s %s\n", n.Name, n.Region, n.Tier, n.API)
			}
			fmt.Fprintf(out, "Try: curl -s -X POST %s/api/v1/auth/login -d '{\"username\":\"admin\",\"password\":\"%s\"}'\n", d.Nodes[0].API, d.Admin.Password)
			fmt.Fprintf(out, "Written: %s. Stop with Ctrl-C.\n", filepath.Join(dir, "demo.json"))
			waitForSignal()
			fmt.Fprintln(out, "gridcrm demo: stopping")
			return stop()
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory for the nodes' data and demo.json (required)")
	c.Flags().IntVar(&customers, "customers", 2000, "customers to generate")
	c.Flags().IntVar(&months, "months", 24, "months of bills per customer")
	return c
}

// startDemo starts the region, loads it and writes demo.json.
func startDemo(dir string, customers, months int, log io.Writer) (*demoFile, func() error, error) {
	const region = "320722"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	pw := make([]byte, 8)
	_, _ = rand.Read(pw)
	password := "demo-" + hex.EncodeToString(pw)

	var peers []replication.Peer
	var apiAddrs []string
	for i := 0; i < 3; i++ {
		peers = append(peers, replication.Peer{ID: fmt.Sprintf("dh%d", i+1), Addr: pickAddr(8501 + i)})
		apiAddrs = append(apiAddrs, pickAddr(8401+i))
	}
	var nodes []*node.Node
	stop := func() error {
		var first error
		for _, n := range nodes {
			if err := n.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	logger := newLogger("warn", false, os.Stderr)
	for i, p := range peers {
		cfg := node.DefaultConfig()
		cfg.NodeID, cfg.Region, cfg.DataDir = p.ID, region, filepath.Join(dir, p.ID)
		cfg.APIListen, cfg.InternalListen = apiAddrs[i], p.Addr
		cfg.Bootstrap, cfg.Peers, cfg.AdminPassword = true, peers, password
		cfg.Logger = logger
		n, err := node.Start(cfg)
		if err != nil {
			stop()
			return nil, nil, err
		}
		nodes = append(nodes, n)
	}
	d := &demoFile{}
	d.Admin.Username, d.Admin.Password = "admin", password
	for _, n := range nodes {
		d.Nodes = append(d.Nodes, demoNode{Name: n.Config().NodeID, Region: region, Tier: n.Config().Tier, API: n.APIURL()})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := login(ctx, d.Nodes[0].API, "admin", password)
	if err != nil {
		stop()
		return nil, nil, err
	}
	start := time.Now()
	counts, err := loadSample(ctx, cl, region, customers, months)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("demo: loading sample data: %w", err)
	}
	fmt.Fprintf(log, "loaded %s in %.1fs\n", counts, time.Since(start).Seconds())
	raw, _ := json.MarshalIndent(d, "", "  ")
	tmp := filepath.Join(dir, "demo.json.tmp")
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		stop()
		return nil, nil, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "demo.json")); err != nil {
		stop()
		return nil, nil, err
	}
	return d, stop, nil
}

// pickAddr answers 127.0.0.1:port when that port is free, else a free port.
func pickAddr(port int) string {
	for _, a := range []string{fmt.Sprintf("127.0.0.1:%d", port), "127.0.0.1:0"} {
		ln, err := net.Listen("tcp", a)
		if err == nil {
			addr := ln.Addr().String()
			ln.Close()
			return addr
		}
	}
	return "127.0.0.1:0"
}

// loadSample generates a region's data and imports it through the API.
func loadSample(ctx context.Context, cl *apiClient, region string, customers, months int) (string, error) {
	end := time.Now().UTC().AddDate(0, -1, 0)
	data := sample.Generate(sample.Options{Region: region, RegionName: "东海县", Customers: customers, Months: months, End: end, Seed: 20261125})
	ids, err := cl.importAll(ctx, "customers", toAny(data.Customers))
	if err != nil {
		return "", err
	}
	var bills, contacts []any
	for i, id := range ids {
		for _, b := range data.Bills[i] {
			b.CustomerID = id
			bills = append(bills, b)
		}
		for _, c := range data.Contacts[i] {
			c.CustomerID = id
			contacts = append(contacts, c)
		}
	}
	if _, err := cl.importAll(ctx, "bills", bills); err != nil {
		return "", err
	}
	if _, err := cl.importAll(ctx, "contacts", contacts); err != nil {
		return "", err
	}
	staffIDs, err := cl.importAll(ctx, "staff", toAny(data.Staff))
	if err != nil {
		return "", err
	}
	// A visit or call for every non-residential customer, by an account manager.
	var visits []any
	kinds := []string{"visit", "call", "meeting"}
	for i, c := range data.Customers {
		if c.Category == crm.CategoryResidential || len(staffIDs) == 0 {
			continue
		}
		visits = append(visits, crm.Interaction{CustomerID: ids[i], StaffID: staffIDs[i%len(staffIDs)], Kind: kinds[i%3],
			At: end.AddDate(0, 0, -(i % 60)), Summary: "走访了解用电需求与电费缴纳情况", Outcome: "客户用电正常，无新增诉求"})
	}
	if _, err := cl.importAll(ctx, "interactions", visits); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d customers, %d bills, %d contacts, %d staff, %d interactions", len(ids), len(bills), len(contacts), len(staffIDs), len(visits)), nil
}

func toAny[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

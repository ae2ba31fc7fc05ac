package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"gridcrm/crm"
	"gridcrm/internal/load"
	"gridcrm/internal/testcluster"
)

// BenchmarkPropose measures the region below the HTTP layer: commands
// proposed straight to the leader's node (raft, group commit, three FSMs),
// so that the API benchmark's figures can be split into "raft + domain"
// and "HTTP + auth + JSON".
func BenchmarkPropose(b *testing.B) {
	c := testcluster.New(b, testcluster.Opts{Nodes: 3})
	c.Client(0) // the bootstrap admin, the commands' actor, exists once a login works
	n := c.Node(c.Leader())
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			tag := fmt.Sprintf("P%d", time.Now().UnixNano()%1e9)
			var wg sync.WaitGroup
			per := b.N/clients + 1
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < clients; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						body := load.Customer("320722", fmt.Sprintf("%s-%d-", tag, w), i)
						res, err := n.Propose(context.Background(), &crm.Command{Op: crm.OpCreate, Collection: "customers",
							ID: crm.NewID("cus", time.Now()), Body: body, Region: "320722", Actor: "admin", Time: time.Now()})
						if err != nil || res.Err != nil {
							b.Error(err, res.Err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			b.ReportMetric(float64(per*clients)/time.Since(start).Seconds(), "writes/s")
		})
	}
	b.Run("import-100rows", func(b *testing.B) {
		tag := fmt.Sprintf("I%d", time.Now().UnixNano()%1e9)
		start := time.Now()
		for i := 0; i < b.N; i++ {
			var rows []json.RawMessage
			_ = json.Unmarshal(load.Customers("320722", tag, i, 100), &rows)
			ids := make([]string, len(rows))
			for j := range ids {
				ids[j] = crm.NewID("cus", time.Now())
			}
			res, err := n.Propose(context.Background(), &crm.Command{Op: crm.OpImport, Collection: "customers", Rows: rows, IDs: ids, Region: "320722", Actor: "admin", Time: time.Now()})
			if err != nil || res.Err != nil {
				b.Fatal(err, res.Err)
			}
		}
		b.ReportMetric(float64(100*b.N)/time.Since(start).Seconds(), "rows/s")
	})
}

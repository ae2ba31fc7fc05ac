package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Target is one node's API and a token for it.
type Target struct {
	URL   string
	Token string
}

// Spec describes one run.
type Spec struct {
	Targets []Target // requests go round-robin over these
	Path    string   // e.g. /api/v1/customers
	Clients int      // concurrent clients
	Total   int      // requests in all
	Rows    int      // rows per request (1 = single record; >1 sends an array to Path)
	// Body returns request i's body (a record, or an array for imports).
	Body func(i int) []byte
	// Want is the status a request must answer (201).
	Want int
}

// Result is what a run measured.
type Result struct {
	Requests  int
	Rows      int
	Errors    int
	FirstErr  string
	Elapsed   time.Duration
	latencies []time.Duration
}

// PerSec is successful requests per second.
func (r Result) PerSec() float64 { return float64(r.Requests-r.Errors) / r.Elapsed.Seconds() }

// RowsPerSec is successful rows per second.
func (r Result) RowsPerSec() float64 { return float64(r.Rows) / r.Elapsed.Seconds() }

// Quantile is the latency quantile q (0..1) of successful requests.
func (r Result) Quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func (r Result) String() string {
	return fmt.Sprintf("%d requests (%d rows) in %.2fs: %.0f req/s, %.0f rows/s, p50 %v, p99 %v, %d errors",
		r.Requests, r.Rows, r.Elapsed.Seconds(), r.PerSec(), r.RowsPerSec(), r.Quantile(0.5), r.Quantile(0.99), r.Errors)
}

// Run sends Total requests from Clients goroutines and measures them.
func Run(ctx context.Context, s Spec) Result {
	if s.Rows == 0 {
		s.Rows = 1
	}
	tr := &http.Transport{MaxIdleConnsPerHost: s.Clients + 4, MaxIdleConns: 4 * (s.Clients + 4)}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	var next atomic.Int64
	var mu sync.Mutex
	res := Result{}
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < s.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs, rows := 0, 0
			first := ""
			for {
				i := int(next.Add(1)) - 1
				if i >= s.Total || ctx.Err() != nil {
					break
				}
				t := s.Targets[i%len(s.Targets)]
				body := s.Body(i)
				t0 := time.Now()
				st, msg := post(ctx, client, t, s.Path, body)
				d := time.Since(t0)
				if st != s.Want {
					errs++
					if first == "" {
						first = fmt.Sprintf("%d %.200s", st, msg)
					}
					continue
				}
				lat = append(lat, d)
				rows += s.Rows
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.Errors += errs
			res.Rows += rows
			if res.FirstErr == "" {
				res.FirstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = min(s.Total, int(next.Load()))
	return res
}

func post(ctx context.Context, c *http.Client, t Target, path string, body []byte) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+t.Token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// Customer returns a ~300-byte customer record with a unique account number.
func Customer(region string, run string, i int) []byte {
	return fmt.Appendf(nil, `{"account_no":"%s%08d","name":"连云港市东海县恒通纺织机械有限公司%d号厂区","category":"industrial","voltage_kv":10,"capacity_kva":630,"industry":"纺织","address":"江苏省连云港市东海县牛山街道和平东路%d号","region":"%s","grid":"网格%02d","tags":["VIP"]}`,
		run, i, i%97, i%500, region, i%12)
}

// Customers returns a JSON array of n customers starting at i*n.
func Customers(region, run string, i, n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for j := 0; j < n; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		b.Write(Customer(region, run, i*n+j))
	}
	b.WriteByte(']')
	return b.Bytes()
}

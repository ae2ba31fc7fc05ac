package netstack

import (
	"context"
	"io"
	"math/rand/v2"
	"net/netip"
	"sort"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// TestCreateNetTUN_RACKOff: the stack's TCP loss recovery is SACK without
// RACK (tun.go says why; BenchmarkLossyTransfer measures it).
func TestCreateNetTUN_RACKOff(t *testing.T) {
	dev, tnet, err := CreateNetTUN([]netip.Addr{netip.MustParseAddr("fd00::1")}, nil, 1420)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	var rec tcpip.TCPRecovery
	if e := tnet.stack.TransportProtocolOption(tcp.ProtocolNumber, &rec); e != nil {
		t.Fatal(e)
	}
	var sack tcpip.TCPSACKEnabled
	if e := tnet.stack.TransportProtocolOption(tcp.ProtocolNumber, &sack); e != nil {
		t.Fatal(e)
	}
	if rec != 0 || !sack {
		t.Fatalf("TCP recovery %d, SACK %v; want 0 (no RACK) and SACK on", rec, sack)
	}
}

// lossyLink carries the packets one device sends to the other, dropping 1%
// of them; one loss in twenty starts a blackout of up to 300 ms in which
// every packet is lost (a receiver starved of CPU, its socket buffer
// overflowing).
func lossyLink(from, to *netTun, seed uint64, stop <-chan struct{}) {
	bufs, sizes := [][]byte{make([]byte, 65536)}, []int{0}
	r := rand.New(rand.NewPCG(seed, 1))
	var until time.Time
	for {
		select {
		case <-stop:
			return
		default:
		}
		if n, err := from.Read(bufs, sizes, 0); err != nil || n == 0 {
			return
		}
		if time.Now().Before(until) {
			continue
		}
		if r.Float64() < 0.01 {
			if r.IntN(20) == 0 {
				until = time.Now().Add(time.Duration(r.IntN(300)) * time.Millisecond)
			}
			continue
		}
		_, _ = to.Write([][]byte{append([]byte(nil), bufs[0][:sizes[0]]...)}, 0)
	}
}

// BenchmarkLossyTransfer sends b.N bodies of 4 MB (a full link batch), one
// connection each, between two stacks joined by a lossyLink, with gVisor's
// RACK loss detection on (its default) and off (what CreateNetTUN sets).
// It reports the mean and the worst transfer time and the transfers that
// did not finish within 30 s (a link batch's deadline). Measured on this
// 2-core machine, 100 transfers each: RACK on, one stall past 60 s within
// 33 transfers (a run of 200 before: 792 s, worst 36 s); off, 124 s in
// all, worst 11 s.
func BenchmarkLossyTransfer(b *testing.B) {
	for _, rack := range []bool{true, false} {
		name := "rack=off"
		if rack {
			name = "rack=on"
		}
		b.Run(name, func(b *testing.B) {
			a, b1 := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
			da, na, err := CreateNetTUN([]netip.Addr{a}, nil, 1420)
			if err != nil {
				b.Fatal(err)
			}
			db, nb, err := CreateNetTUN([]netip.Addr{b1}, nil, 1420)
			if err != nil {
				b.Fatal(err)
			}
			if rack {
				on := tcpip.TCPRACKLossDetection
				na.stack.SetTransportProtocolOption(tcp.ProtocolNumber, &on)
				nb.stack.SetTransportProtocolOption(tcp.ProtocolNumber, &on)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); lossyLink(da.(*netTun), db.(*netTun), 1, stop) }()
			go func() { defer wg.Done(); lossyLink(db.(*netTun), da.(*netTun), 2, stop) }()
			defer func() { close(stop); da.Close(); db.Close(); wg.Wait() }()
			ln, err := nb.ListenTCPAddrPort(netip.AddrPortFrom(b1, 80))
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() { _, _ = io.Copy(io.Discard, c); _, _ = c.Write([]byte("ok")); c.Close() }()
				}
			}()
			body := make([]byte, 4<<20)
			var took []time.Duration
			stalls := 0
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				c, err := na.DialContextTCPAddrPort(ctx, netip.AddrPortFrom(b1, 80))
				cancel()
				if err != nil {
					stalls++
					continue
				}
				_ = c.SetDeadline(start.Add(30 * time.Second))
				_, err = c.Write(body)
				if err == nil {
					_ = c.CloseWrite()
					_, err = io.ReadAll(c)
				}
				c.Close()
				if err != nil {
					stalls++
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			var sum time.Duration
			for _, d := range took {
				sum += d
			}
			if len(took) > 0 {
				b.ReportMetric((sum / time.Duration(len(took))).Seconds(), "mean_s")
				b.ReportMetric(took[len(took)-1].Seconds(), "worst_s")
			}
			b.ReportMetric(float64(stalls), "stalls_30s")
		})
	}
}

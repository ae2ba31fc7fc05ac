// Package netstack is wireguard-go's tun/netstack (golang.zx2c4.com/wireguard,
// the version go.mod pins; MIT, copyright WireGuard LLC, its notice kept in
// tun.go) with one change: Close no longer closes the packet channel under
// a WriteNotify blocked sending on it, which panicked with "send on closed
// channel" when a node closed its tunnel while gVisor still had a packet
// to hand over (seen once in make test, in node's
// TestRegion_IntraRegionThroughTunnel; upstream pull requests 85 and 134
// are open). WriteNotify sends under a read lock and gives up when Close
// has begun; Close takes the write lock before it closes the channels.
//
// Two more changes: TCP keep-alive on every connection (keepalive.go), and
// TCP RACK loss detection off (CreateNetTUN): gVisor's RACK stalled
// transfers for tens of seconds after a burst of lost packets
// (BenchmarkLossyTransfer).
//
// What it is not: anything more than that copy and those settings. Drop it
// for upstream's package once upstream fixes the race, and set the
// options on its stack.
package netstack

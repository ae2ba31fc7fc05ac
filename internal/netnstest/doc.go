// Package netnstest runs gridcrm across Linux network namespaces joined by
// veth pairs, the closest a single machine gets to nodes on separate hosts.
// Its tests run the real binary (`gridcrm node`) in each namespace with
// tun-mode WireGuard between a county and its city and check that records
// replicate through the TUN devices; its benchmark compares replication
// throughput through netstack, TUN and no tunnel.
//
// Everything here needs root, the `ip` command and /dev/net/tun; without
// them [Require] skips with the reason. Namespaces, links and processes are
// removed in t.Cleanup, also when a test fails; a test killed hard (SIGKILL)
// can leave a namespace named gcns… behind (`ip netns del` it). It is test
// support, not part of a node.
package netnstest

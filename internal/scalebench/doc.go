// Package scalebench is the province-scale benchmark (`make bench-scale`,
// not part of `make test`): BenchmarkScale starts a province → city →
// county hierarchy in one process (internal/testcluster), generates a
// county of GRIDCRM_SCALE_CUSTOMERS customers with GRIDCRM_SCALE_MONTHS
// months of bills (crm/sample), loads it through the public import API,
// lets it roll up to the city and the province, and reports load time and
// rows/s, catch-up at each tier, disk per customer and per bill at each
// tier, the process's RSS and each node's Pebble memory (memtables and
// block cache; the Go heap is shared), and the p50/p99 time (on loopback) of every
// upper-tier read a dashboard or a supervisor uses, at the province. Then
// a resync of the county from scratch: the city's only node is lost with
// its disk and comes back empty, and the county (its feed pruned to 1,000
// entries beyond the city's acknowledgement) sends it a snapshot of every
// record it owns; the time, records/s, CPU a record and the city's disk
// after it.
//
// Settings (environment):
//
//	GRIDCRM_SCALE_CUSTOMERS  customers in the county (default 100000; the target is 1000000)
//	GRIDCRM_SCALE_MONTHS     months of bills per customer (default 12)
//	GRIDCRM_SCALE_PROJECTS   connection projects (default customers/500)
//	GRIDCRM_SCALE_ORDERS     work orders (default customers/100)
//	GRIDCRM_SCALE_REQUESTS   requests per read (default 100)
//	GRIDCRM_SCALE_BUDGET     time allowed per read before it stops short (default 60s; at least 5 requests)
//	GRIDCRM_SCALE_ONLY       run only the reads whose name contains this
//	GRIDCRM_SCALE_OUT        also write the report to this file
//	GRIDCRM_SCALE_GRADES     1: run the credit grades and then the warnings of the county (the churn
//	                         warnings read the grades; the analysis lists rank the warning run's trends)
//	GRIDCRM_SCALE_RESYNC     0: skip the resync from scratch at the end
//	GRIDCRM_SCALE_SETTLE     wait this long (e.g. 10s) after the catch-up before the reads, to tell
//	                         a read's own cost from the nodes' work right after a catch-up
//
// BenchmarkProvince (`make bench-scale-province`) is the second loading
// mode, for a province of 1,000,000 customers, which the import API would
// take hours to roll up: it starts the province's node alone and fills it
// through the node's own uplink endpoint (POST /internal/v1/uplink, then
// raft, then the link applier: crm.ApplyReplica, the aggregates, the cards,
// indexes and memos a rolled-up change maintains), posing as the province's
// cities. The records are made by crm.Apply as each county makes them (the
// commands the API proposes: imports of customers, bills, contacts and
// staff; projects, work orders and outages with their actions), on a
// scratch batch never committed, and sent up in the counties' feed order:
// GRIDCRM_SCALE_CUSTOMERS customers over 14 real counties of 5 cities
// (fillCounties). Then the same reads as BenchmarkScale, and the reads one
// rolled-up change invalidates, each first read right after one more
// customer update and bill. What it does not measure: the counties' and
// cities' work, the links' transport and catch-up (that is BenchmarkScale).
// Settings as above, and:
//
//	GRIDCRM_SCALE_KEEP       keep the province's data in this directory; a later run reuses it
//	                         (reads only, seconds) or grows it to GRIDCRM_SCALE_CUSTOMERS
//	GRIDCRM_SCALE_FILL_MAX   stop starting chunks after this long (default 6h); the reads run on what was filled
package scalebench

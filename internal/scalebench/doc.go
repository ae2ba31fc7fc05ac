// Package scalebench is the province-scale benchmark (`make bench-scale`,
// not part of `make test`): BenchmarkScale starts a province → city →
// county hierarchy in one process (internal/testcluster), generates a
// county of GRIDCRM_SCALE_CUSTOMERS customers with GRIDCRM_SCALE_MONTHS
// months of bills (crm/sample), loads it through the public import API,
// lets it roll up to the city and the province, and reports load time and
// rows/s, catch-up at each tier, disk per customer and per bill at each
// tier, the process's RSS, and the p50/p99 time (on loopback) of every
// upper-tier read a dashboard or a supervisor uses, at the province.
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
//	GRIDCRM_SCALE_GRADES     1: run the credit grades of the county (the churn warnings read them)
package scalebench

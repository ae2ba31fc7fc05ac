// Package market computes the fee, tariff and market figures of issue 15
// (电价电费波动分析, 市场的拓展与预测) from monthly totals: average price per
// kWh by slice (a customer category, a voltage class) and month with its
// month-on-month and year-on-year change; consumption and customers billed
// by slice, year on year, with each slice's share; the peak, flat and
// valley shares of the time-of-use kWh. It is pure: totals in, figures
// out; no store, no HTTP. The totals are the materialised market counters
// every tier keeps on apply (crm/market.go), so a province's figures read
// a few thousand counters whatever the number of customers.
//
// What it is not: no per-customer list (the fastest-growing customers, the
// bills that changed much more than their consumption, the peak-shifting
// candidates need per-customer figures that a monthly run would write as
// records; not built yet), and no before/after of a tariff directive.
package market

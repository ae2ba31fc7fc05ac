// Package sample generates realistic, deterministic sample data for one
// region of a power-supply company's CRM: customers with their 户号, monthly
// bills, staff and contacts. The demo (gridcrm demo) and the benchmarks use
// it; it is pure Go and imports only the standard library, crm and
// crm/workday.
//
// What is modelled: a northern-Jiangsu county. Customers are about 80%
// households, 10% shops and services, 5% factories (大工业, 315 kVA and up),
// 3% farms and pumping stations and 2% public bodies, with Chinese personal
// and company names, addresses built from real counties and towns (a small
// table; unknown codes fall back to generic towns), supply voltage and
// capacity that follow from consumption, and tags (VIP, 政府重点工程,
// 保供民生). Government key projects are plants ramping up after
// energisation: large contracted capacity (up to 110 kV), fast growth. Annual consumption is heavy-tailed (lognormal households,
// Pareto businesses) so that about 20% of customers use about 80% of the
// energy. Bills follow real seasonal shapes (shape.go): households,
// shops and factories the monthly shape of the four PJM zones of the shared
// hourly load data (../shared/data/load; weekend days, working-day office
// hours and working-day nights respectively), committed as a derived table
// (shapes_table.go, recomputed by go generate ./crm/sample with
// scripts/loadshapes); factories swing half as much and run at 35% on the
// days the working-day calendar (crm/workday) has off, so the month of the
// Spring Festival dips; farms (irrigation), public bodies and vacant homes
// keep hand-made shapes. Bills are split into peak/flat/valley kWh that add
// up exactly (the peak share moves with the month as the shared load's),
// priced with Jiangsu-like tariffs (residential tiers).
//
// Hidden processes (hidden.go, Traits; never imported): a credit health
// (good, fair, poor) drives late payments (pay date after the due day, the
// last day of the month after the bill), runs of months in arrears paid off
// late or written off, and direct debit (the tag 代扣); business customers
// may be leaving (consumption ramping down 30-70% over the last 6-12
// months, paying later); and readings are replaced by a zero, a 30-50% drop
// or a 40-80% rise in 1% of a household's months (3% of a business's).
// Grid cells are balanced by count and consumption.
//
// One compromise: with 5% factories, 20/80 holds only if small factories
// use little (a 315 kVA plant often bills a few MWh a month), so their load
// factors are lower than real ones.
//
// Process data (process.go): AssignFeeders puts customers on feeders and
// transformer areas; GenerateProcesses plans connection projects with their
// stage history, work orders of every kind and channel through their
// states, and outages with notices, relative to a Now the caller passes, so
// that some items are overdue, some due soon and some late when loaded.
//
// What it is not: a statistical model of any real region, or a source of
// ids. Records come back with zero Meta and empty CustomerID; the caller
// assigns ids (crm.NewID) and fills the references before importing. Output
// depends only on Options (and, for Customer, on the caller's *rand.Rand
// from math/rand/v2), never on the clock.
package sample

// Package sample generates realistic, deterministic sample data for one
// region of a power-supply company's CRM: customers with their 户号, monthly
// bills, staff and contacts. The demo (gridcrm demo) and the benchmarks use
// it; it is pure Go and imports only the standard library and crm.
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
// energy. Bills follow the season of each category (summer and winter peaks
// for households, a flat year with a Spring Festival dip for industry, an
// irrigation peak for farms), split into peak/flat/valley kWh that add up
// exactly, priced with Jiangsu-like tariffs (residential tiers), and mostly
// paid in full; about 5% are left in arrears, more of them in the latest
// months. Grid cells are balanced by count and consumption.
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

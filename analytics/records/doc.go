// Package records holds the records of the analytics programme of the
// business: what the monthly analyses decided and what people answered,
// stored and replicated like every record so that an upper tier lists and
// rolls them up from indexes and counters instead of recomputing them.
//
//	credit_grades        one customer's credit grade as of a month
//	                     (CreditGrade), counted per region, month and
//	                     grade in the aggregates (credit.<YYYY-MM>.<grade>,
//	                     read by CreditDistribution)
//	warning_acks         an account manager's answer to a warning
//	                     (abnormal consumption or churn) of one customer
//	                     and month: acknowledged or dismissed, with a note
//	consumption_warnings abnormal consumption and churn warnings of a
//	                     customer and month (ConsumptionWarning), listed by
//	                     region or subtree (WarningsOf) and by account
//	                     manager (ManagerWarnings) from composite indexes
//	analytics_runs       a monthly run done (the grades or the warnings of
//	                     a region and month), so that the scheduler runs a
//	                     month once (RunDone)
//	customer_trends      a business customer's last 12 months against the
//	                     12 before, ranked for the market lists
//	                     (TrendsRanked) and counted by industry
//	                     (mkt.ind.<what>.<YYYY-MM>.<industry>)
//
// The grades, warnings, runs and trends are written where the customer
// (or the region, for a run) is owned, by the grade and warning runs and
// the leader's monthly schedule of package api (never by a client: the
// API refuses them on its generic routes), and the answers by account
// managers; all replicate up to every tier above like any record.
//
// Its records are crm kinds: the package registers them with crm
// (crm.Register, Programme "analytics") with the Counters hooks of the
// grades and the trends. crm never imports it: whatever serves or writes
// those records (api, and through it node and cmd; tests) imports it.
// crm keeps what is derived from bills alone: the market counters and
// lists (crm/market.go, market_cards.go, of which the industry counters
// are the trends' here) and a customer's bills (crm.CustomerBills).
//
// What it is not: it computes nothing. The grades, warnings and trends
// are computed by the pure packages analytics/credit, analytics/warning
// and analytics/market, and served by package api (analytics.go,
// warnings.go, market.go, scheduler.go).
//
//	records.go   the kinds' registration order (Collections), key helpers
//	grades.go    credit grades, warning answers; GradeDone, CreditDistribution
//	warnings.go  consumption and churn warnings; WarningsOf, ManagerWarnings, GoldManagerOf
//	runs.go      analytics runs; RunDone
//	trends.go    customer trends and their ranks; TrendDone, TrendsRanked
package records

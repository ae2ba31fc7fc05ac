// Package process is the process programme of the business: the versioned
// process rule set (time limits, paths, SLAs and outage notice, shipped
// and from rule_set directives) and the working-day calendar directives it
// counts on; connection projects (业扩报装) with their stages and stage
// deadlines; 95598 work orders with their states, SLAs and unified
// acceptance; outage notices; and their supervision (the overdue lists by
// tier), KPIs and process counters.
//
// Its records are crm kinds: the package registers them with crm
// (crm.Register) with their hooks (OnCreate, Guard, Act, OnUpdate,
// Counters, Standing), the directive bodies it reads
// (crm.RegisterDirectiveBody) and a directive hook that restarts stopped
// clocks when a calendar arrives (crm.OnDirective). crm never imports it:
// whatever serves or writes those records (node, api, cmd, the demo and
// sample loaders, tests) imports it, or a blank import of it.
//
//	rules.go        the rule sets, supply classes, calendars (CalendarFor, RuleSetFor)
//	project.go      connection projects: stages, deadlines, actions
//	workorder.go    work orders: states, transitions, routing (RouteWorkOrder)
//	outage.go       outage notices
//	action.go       what the actions share (actionTime)
//	clocks.go       RecountClocks when a calendar directive arrives
//	kpi.go          the process counters, supervision lists (Supervise), KPIs
//	kpi_tally.go    the KPIs' tallies by day, month and person, kept on apply
//	kpi_due.go      the open items by deadline (DueIndex), what is overdue now
//	kpi_decode.go   the small decoded records Supervise reuses
//	migrate.go      Migrate: tallies and indexes of a store of an earlier layout
//	overview.go     the clock-dependent figures read from the counters
package process

// The kinds, registered in this order, which is their order in
// crm.Collections (and so in exports and the OpenAPI document).
func init() {
	registerProjects()
	registerWorkOrders()
	registerOutages()
}

// Package bigcustomer is the big-customer programme of the business (大客户
// 管理): customer classification (class and grade from class_thresholds
// directives, computed on read, and the Pareto report); the records of the
// "four ones" (四个一: key projects, gold manager assignments, service
// plans and memos, the monthly work bulletins); the "1+N" service model
// (back-office teams, service requests and their tasks, the managed pool);
// the pool's grid cells (optimiser in bigcustomer/grid) and VIP
// value-added services; and a customer's consumption analysis. Its records
// are owned by the region of the customer they concern and roll up like
// every other record.
//
// Its records are crm kinds: the package registers them with crm
// (crm.Register, Programme "bigcustomer") with their Check hooks, and the
// class_thresholds directive body it reads (crm.RegisterDirectiveBody).
// crm never imports it: whatever serves or writes those records (node,
// api, cmd, the demo and sample loaders, tests) imports it. Key projects
// name their stages from crm.Stages, the one list of connection stages,
// which package process's projects share.
//
// Classification reads the customer cards, which stay in crm (card.go):
// crm keeps a card per customer in the batch of every customer and bill
// write, in Apply and in ApplyReplica alike, and a Kind hook cannot do
// that (the hooks run in Apply only; ApplyReplica stores what comes up
// without them, and customers and bills are crm's own kinds); crm's market
// lists read the same cards. This package reads them through crm's card
// API (crm.ScanCards, CardOf, CardChanges, CardOwners, CardsVersion) and
// keeps its class memo over them (cardclass.go).
//
// What it is not: it renders nothing (the bulletin's HTML and PDF are
// package report's), serves no HTTP (api/bigcustomer.go) and stores no
// class: a stored class would go stale when a rule's effective_from
// arrives with no write to trigger a recomputation.
//
//	bigcustomer.go  the kinds' registration order, shared helpers
//	classify.go     class and grade from class_thresholds directives, Pareto report
//	cardclass.go    the class memo over the customer cards (per owner region and window)
//	cardpareto.go   the Pareto report's figures from the memo's runs, by a search on the value
//	fourones.go     key projects, gold manager assignments, service plans and memos, bulletins
//	onen.go         back-office teams, service requests and their tasks, pool entries
//	gridplan.go     grid-cell divisions of a region's pool; VIP value-added services
//	bulletin.go     the monthly work bulletin's content (BuildBulletin)
//	consumption.go  consumption analysis report of one customer
package bigcustomer

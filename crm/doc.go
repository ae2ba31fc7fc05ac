// Package crm is the domain engine of gridcrm: the deterministic Apply
// that turns one replicated Command into writes on a transaction, the
// record engine under it (kinds, indexes, uniques, references, aggregate
// counters, replicas, search), and the records every programme builds on:
// the core records of a power-supply company's customer relationship
// management (customers and their 户号, monthly consumption and bills,
// staff, contacts, interactions, violations, capacity changes, directives,
// users), the tier records (management and conflicts, audit, sessions),
// and the market counters and lists kept from bills and read from the
// customer cards (market.go, market_cards.go).
//
// The programmes of the business are packages of their own that register
// their kinds here and that crm never imports: package process (connection
// projects, work orders and outages on working-day clocks, rule sets,
// supervision and KPIs), package bigcustomer (classification, the four
// ones, 1+N, the pool and its grid cells, VIP services, bulletins,
// consumption analysis) and package analytics/records (the analytics'
// records: credit grades, consumption and churn warnings and their
// answers, analytics runs, customer trends). crm keeps what the engine
// and the programmes share: the connection stages (stages.go, the one
// list process and bigcustomer name their stages from), the action op (action.go), the directive hooks
// (directive_scope.go), the field checks and reads a programme's records
// are made of (programme.go, hooks.go, lifecycle.go, lookup.go), and the
// customer cards (card.go): kept in the batch of every customer and bill
// write, in Apply and ApplyReplica alike, which no Kind hook can express
// (hooks run in Apply only), and read by bigcustomer's classification and
// crm's market lists through ScanCards, CardOf, CardChanges, CardOwners,
// OwnerCards and CardsVersion. The calendar is package crm/workday.
//
// Every collection is a Kind registered with Register: its record type's
// methods (Record) say what one record must be, and its hooks (OnCreate,
// Guard, Act, Check, OnUpdate, OnDelete, Counters, Standing: record.go,
// hooks.go) are the one way a kind adds rules that read or write other
// records, aggregate counters or forwarding to Apply; a directive kind's
// body check is registered with RegisterDirectiveBody. The one exception
// is a directive's arrival (OnDirective, directive_scope.go): a directive
// reaches a region either as a write there (Apply, where the directives
// Kind's hooks run) or pushed down from above (DirectiveArrived, the
// downlink's apply, which runs no Kind hook), and what it triggers (a
// calendar restarting stopped clocks) must run in both; a Kind hook would
// miss the second. A package outside
// crm registers its kinds the same way, naming its programme
// (Kind.Programme); Collections lists the programmes' kinds by programme
// (process, bigcustomer, then analytics), each in the order it registered
// them, whatever order Go initialises the packages in.
//
// crm is pure Go. It imports neither gin, raft, Pebble nor wgctrl: it sees
// storage only through the small Txn and Reader interfaces declared in
// txn.go, which the replication package implements on a Pebble batch. That
// keeps the rules testable without a cluster and keeps the FSM thin.
//
// What crm is not: it does not authenticate, authorise by role, hash
// passwords, assign ids or read clocks. It does hold the password rule the
// API applies before hashing (password.go), and the sessions and failed
// logins the API records through OpSession (session.go). Everything non-deterministic is done
// by the caller before a Command is proposed (ids, timestamps, password
// hashes), so every replica that applies the same Command reaches the same
// state.
package crm

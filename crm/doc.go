// Package crm is the domain of gridcrm: the records of a power-supply
// company's customer relationship management (customers and their 户号,
// monthly consumption and bills, staff, contacts, interactions, users),
// their field-level validation, and the deterministic Apply that turns one
// replicated Command into writes on a transaction. The process programme —
// connection projects, work orders and outages on working-day clocks, with
// versioned rule sets, supervision lists and KPIs — is package process,
// which registers its kinds here; crm keeps what the engine and the
// programmes share: the connection stages (stages.go), the action op
// (action.go), the directive hooks (directive_scope.go) and the field
// checks a programme's records are made of (programme.go). The calendar is
// package crm/workday.
//
// Every collection is a Kind registered with Register: its record type's
// methods (Record) say what one record must be, and its hooks (OnCreate,
// Guard, Act, Check, OnUpdate, OnDelete, Counters, Standing: record.go,
// hooks.go) are the one way a kind adds rules that read or write other
// records, aggregate counters or forwarding to Apply; a directive kind's
// body check is registered with RegisterDirectiveBody. A package outside
// crm registers its kinds the same way; crm never imports it, and
// Collections lists its kinds in the order it registered them.
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

// Package api is gridcrm's public HTTP interface: gin routes under
// /api/v1, the same on every tier; login and bearer tokens; the role table
// that says who may do what; the one table that turns every error into a
// status code and a JSON body naming the field or the owner region; and the
// OpenAPI description of all of it.
//
// api holds no state of its own but each node's login throttle (failures
// per source address, one login per username at a time: users_login.go);
// sessions and failed logins per user are replicated. It reads the local
// replica and proposes
// commands through the Backend it declares (server.go), which the node
// implements on the region's raft group. It is not where business rules
// live: those are in crm, and api only checks requests early so that bad
// input fails before it reaches the raft log.
package api

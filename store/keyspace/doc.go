// Package keyspace is the one map of the state machine keyspace: every key
// prefix a region's replicated state uses, as named constants and
// constructors, so no other package spells one by hand.
//
// The state keyspace is what store keeps under its 's' prefix (store adds
// that byte; the keys here do not carry it). Every key below is in the raft
// log's state machine and so on every replica of a region; "crosses a link"
// says whether the key also travels to other regions (a record rolls up to
// the parent or is pushed down to a child, by the rules in tiers).
//
//	prefix / key                     layout                                    written by                      crosses a link
//	r/                               r/<collection>/<id> → record JSON         crm (Apply), the link applier   records roll up; some come down (tiers.Link.Admit)
//	  r/users/                       r/users/<id>                              crm                             never: credentials stay in their region
//	  r/_                            r/_<collection>/<id>: internal records    (each below)                    (each below)
//	  r/_mgmt/                       r/_mgmt/<child region> → Management       crm (OpManage), at the parent   down to that child; up as the parent's record
//	  r/_mack/                       r/_mack/<region> → ManagementAck          crm, the child applying _mgmt   up
//	  r/_canary/                     r/_canary/<region> → Canary               node (heartbeat)                up
//	  r/_cmd/                        r/_cmd/<command id> → ForwardedCommand    crm (OpForward)                 down to the target's branch; up
//	  r/_cres/                       r/_cres/<command id> → CommandResult      crm, the target executing it    up
//	  r/_conflict/                   r/_conflict/<region>/<seq> → Conflict     the link applier (crm)          up
//	  r/_audit/                      r/_audit/<region>/<seq> → AuditEntry      crm (Apply, OpAudit): append    up (never down); never deleted
//	u/                               u/<coll>/<name>/<scope>\x00<value> → id   crm: unique constraints         never (the owner's business)
//	x/                               x/<coll>/<field>/<value>\x00<id>          crm: secondary indexes          never (each replica derives them)
//	  x/_q/, x/_qa/                  x/_q/<gram>\x01<pos>, x/_qa/<户号>\x01<pos>   crm: customer search            never (each replica derives them)
//	a/                               a/<region>/<metric> → counter             crm: aggregates                 never (each replica derives them)
//	t/                               subtree totals of the aggregates          crm (ApplyDeltasAt), upper tiers never (each replica derives them)
//	k/                               k/<region>/<name> → tally                 crm: tallies (process: KPIs)    never (each replica derives them)
//	f/                               f/<8-byte big-endian seq> → Change        replication: the change feed    it is what a link ships
//	m/                               metadata of this region's replicas        (below)                         never
//	  m/sys/                         m/sys/<name> → system value, token keys   crm (OpInitSys, token keys)     never
//	  m/sess/                        m/sess/<user id>/<session id>             crm (OpSession)                 never
//	  m/login/                       m/login/<user id> → failed logins         crm (OpSession)                 never
//	  m/audit/                       m/audit/<region> → chain's seq and hash   crm (Apply, ApplyReplica)       never (each replica keeps its own)
//	  m/applied                      last raft index applied                   replication (FSM)               never
//	  m/restoring                    a state being replaced by a snapshot      replication (restore)           never; not in snapshots
//	  m/search                       the search index's layout version         crm (MigrateSearch)             never
//	  m/process                      process's indexes' and tallies' layout    process (Migrate)               never
//	  m/feed/head, m/feed/first      the feed's last and first sequence        replication (feed)              never
//	  m/feed/epoch                   which feed this is (FeedEpoch)            replication (feed), ops restore never
//	  m/linkepoch/                   m/linkepoch/<dir>/<peer> → the epoch of   the link protocol               never
//	                                 the peer's feed the cursor counts in
//	  m/link/                        m/link/<dir>/<peer> cursor,               the link protocol               never
//	                                 m/link/<dir>head/<peer> peer's head,
//	                                 m/link/downacked/<child> child's cursor
//	  m/fresh/                       m/fresh/<region> → freshness              the link protocol               never
//	  m/resync/                      m/resync/<dir>/<link> → resync progress   the link protocol               never
//	  m/rsmark/                      m/rsmark/<dir>/<link>/<key> → marks       the link protocol               never
//	  m/resyncs/                     m/resyncs/<dir>/<peer> → resync count     the link protocol               never
//
// Ids and region codes never contain '/' or NUL, and index values are
// cleaned of NUL by their writer, so the layout is unambiguous. The bytes
// are stored data: a key here never changes spelling (TestKeys pins them).
//
// keyspace imports only the standard library (crm, which must not import
// Pebble, uses it; so do replication and the link protocol, which must not
// import crm). It knows layouts, not values: what a record holds is crm's.
package keyspace

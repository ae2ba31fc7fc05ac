package keyspace

import "encoding/binary"

// Top-level prefixes. Each begins a disjoint part of the keyspace.
const (
	RecordPrefix    = "r/" // records, domain and internal
	UniquePrefix    = "u/" // unique constraints
	IndexPrefix     = "x/" // secondary indexes
	AggregatePrefix = "a/" // aggregate counters per region
	TotalsPrefix    = "t/" // the aggregates summed over subtrees, kept on apply at upper tiers
	TallyPrefix     = "k/" // tallies: counters per region a programme reads by key range (per period, per person)
	FeedPrefix      = "f/" // the change feed
	MetaPrefix      = "m/" // metadata of this region's replicas
)

// Subtree totals, nested in TotalsPrefix (crm/aggregate_subtree.go).
const (
	TotalsMarkKey       = TotalsPrefix + "m"  // present once the totals are built
	TotalsSumsPrefix    = TotalsPrefix + "s/" // sums below each region, by region then metric
	TotalsRollupsPrefix = TotalsPrefix + "r/" // per-region rollups the drill-downs list
	TotalsCountsPrefix  = TotalsPrefix + "n/" // counters per region and family
)

// Record prefixes of the internal collections and of users, nested in
// RecordPrefix. The internal collections' names start with '_', so their
// records are all under InternalPrefix.
const (
	UsersPrefix    = RecordPrefix + "users/"      // never crosses a link
	InternalPrefix = RecordPrefix + "_"           // every internal collection's records (_mgmt, _mack, …)
	MgmtPrefix     = InternalPrefix + "mgmt/"     // management settings, by child region
	AckPrefix      = InternalPrefix + "mack/"     // acknowledgements of settings, by region
	CanaryPrefix   = InternalPrefix + "canary/"   // heartbeats, by region
	CommandPrefix  = InternalPrefix + "cmd/"      // forwarded commands, by id
	ResultPrefix   = InternalPrefix + "cres/"     // outcomes of forwarded commands, by id
	ConflictPrefix = InternalPrefix + "conflict/" // conflicts, by region/seq
	AuditPrefix    = InternalPrefix + "audit/"    // audit entries, by region/seq: never deleted
)

// Metadata prefixes and keys, nested in MetaPrefix.
const (
	SysPrefix         = MetaPrefix + "sys/"       // system values
	ProcessLayoutKey  = MetaPrefix + "process"    // the version of what package process keeps beside its records
	SessionPrefix     = MetaPrefix + "sess/"      // sessions, by user then session
	LoginPrefix       = MetaPrefix + "login/"     // failed logins, by user
	AuditHeadPrefix   = MetaPrefix + "audit/"     // each audit chain's last entry held here, by region
	AppliedKey        = MetaPrefix + "applied"    // the FSM's last applied raft index
	RestoringKey      = MetaPrefix + "restoring"  // present while a snapshot replaces the state
	FeedHeadKey       = MetaPrefix + "feed/head"  // the feed's last sequence
	FeedFirstKey      = MetaPrefix + "feed/first" // the feed's first sequence kept
	FeedEpochKey      = MetaPrefix + "feed/epoch" // which feed this is: set with its first entry, renewed by a restore
	LinkEpochPrefix   = MetaPrefix + "linkepoch/" // the epoch of each peer's feed a link cursor counts, by direction and peer
	LinkPrefix        = MetaPrefix + "link/"      // link cursors and heads
	DownAckedPrefix   = LinkPrefix + "downacked/" // children's downlink cursors, by child
	FreshPrefix       = MetaPrefix + "fresh/"     // freshness, by region
	ResyncPrefix      = MetaPrefix + "resync/"    // resync progress, by direction and link
	ResyncMarkPrefix  = MetaPrefix + "rsmark/"    // keys a resync carried, by direction and link
	ResyncCountPrefix = MetaPrefix + "resyncs/"   // resyncs counted, by direction and peer
)

// Record is the key of record id of collection coll: r/<coll>/<id>.
func Record(coll, id string) string { return RecordPrefix + coll + "/" + id }

// Collection is the prefix of every record of coll: r/<coll>/.
func Collection(coll string) string { return RecordPrefix + coll + "/" }

// Mgmt is the key of region's management setting: r/_mgmt/<region>.
func Mgmt(region string) string { return MgmtPrefix + region }

// Ack is the key of region's acknowledgement of its setting: r/_mack/<region>.
func Ack(region string) string { return AckPrefix + region }

// Canary is the key of region's heartbeat: r/_canary/<region>.
func Canary(region string) string { return CanaryPrefix + region }

// Command is the key of forwarded command id: r/_cmd/<id>.
func Command(id string) string { return CommandPrefix + id }

// Result is the key of the outcome of forwarded command id: r/_cres/<id>.
func Result(id string) string { return ResultPrefix + id }

// Conflict is the key of conflict id (<region>/<seq>): r/_conflict/<id>.
func Conflict(id string) string { return ConflictPrefix + id }

// ConflictsOf is the prefix of region's conflicts: r/_conflict/<region>/.
func ConflictsOf(region string) string { return ConflictPrefix + region + "/" }

// Audit is the key of audit entry id (<region>/<seq>, seq as 16 decimal
// digits so keys sort by it): r/_audit/<id>.
func Audit(id string) string { return AuditPrefix + id }

// AuditOf is the prefix of region's audit chain: r/_audit/<region>/.
func AuditOf(region string) string { return AuditPrefix + region + "/" }

// AuditHead is the key of the last entry of region's audit chain held on
// this replica (its seq and hash): m/audit/<region>.
func AuditHead(region string) string { return AuditHeadPrefix + region }

// Unique is the key of a unique constraint: u/<coll>/<name>/<scope>\x00<value>.
func Unique(coll, name, scope, value string) string {
	return UniquePrefix + coll + "/" + name + "/" + scope + "\x00" + value
}

// Index is the key of a secondary index entry:
// x/<coll>/<field>/<value>\x00<id>. value must be free of NUL.
func Index(coll, field, value, id string) string {
	return IndexValue(coll, field, value) + id
}

// IndexValue is the prefix of the entries of one indexed value:
// x/<coll>/<field>/<value>\x00.
func IndexValue(coll, field, value string) string {
	return IndexField(coll, field) + value + "\x00"
}

// IndexField is the prefix of every entry of one index: x/<coll>/<field>/.
func IndexField(coll, field string) string { return IndexPrefix + coll + "/" + field + "/" }

// ScopedValue is the index value of value scoped to region in a
// region-scoped index: <value>\x01<region>, so that one value's entries of
// a region's subtree share a key prefix (codes nest: 32 ⊃ 3207 ⊃ 320722):
// x/<coll>/<field>/<value>\x01<region>\x00<id>. value must be free of NUL
// and \x01.
func ScopedValue(value, region string) string { return value + "\x01" + region }

// IndexScoped is the prefix of the entries of value in a region-scoped
// index whose region begins with region (region's subtree; "" for every
// region): x/<coll>/<field>/<value>\x01<region>.
func IndexScoped(coll, field, value, region string) string {
	return IndexField(coll, field) + ScopedValue(value, region)
}

// Aggregate is the key of a counter: a/<region>/<metric>.
func Aggregate(region, metric string) string { return AggregatePrefix + region + "/" + metric }

// Tally is the key of region's tally (k/<region>/<name>).
func Tally(region, name string) string { return TallyPrefix + region + "/" + name }

// TalliesOf is the prefix of region's tallies: k/<region>/.
func TalliesOf(region string) string { return TallyPrefix + region + "/" }

// AggregatesOf is the prefix of region's counters: a/<region>/.
func AggregatesOf(region string) string { return AggregatePrefix + region + "/" }

// Feed is the key of feed entry seq: f/ and seq as 8 bytes big-endian.
func Feed(seq uint64) []byte {
	k := make([]byte, len(FeedPrefix)+8)
	copy(k, FeedPrefix)
	binary.BigEndian.PutUint64(k[len(FeedPrefix):], seq)
	return k
}

// Sys is the key of system value name: m/sys/<name>.
func Sys(name string) string { return SysPrefix + name }

// Session is the key of session sid of user uid: m/sess/<uid>/<sid>.
func Session(uid, sid string) string { return SessionsOf(uid) + sid }

// SessionsOf is the prefix of user uid's sessions: m/sess/<uid>/.
func SessionsOf(uid string) string { return SessionPrefix + uid + "/" }

// Login is the key of user uid's failed logins: m/login/<uid>.
func Login(uid string) string { return LoginPrefix + uid }

// LinkCursor is the receiver's cursor on peer's feed in direction dir
// ("up" or "down"): m/link/<dir>/<peer>.
func LinkCursor(dir, peer string) string { return LinkCursorsOf(dir) + peer }

// LinkCursorsOf is the prefix of the cursors of direction dir: m/link/<dir>/.
func LinkCursorsOf(dir string) string { return LinkPrefix + dir + "/" }

// LinkHead is peer's feed head as it last reported it: m/link/<dir>head/<peer>.
func LinkHead(dir, peer string) string { return LinkPrefix + dir + "head/" + peer }

// LinkEpoch is the epoch of peer's feed that the cursor of direction dir
// counts in: m/linkepoch/<dir>/<peer>.
func LinkEpoch(dir, peer string) string { return LinkEpochPrefix + dir + "/" + peer }

// DownAcked is child's downlink cursor on this region's feed, as the child
// last reported it: m/link/downacked/<child>.
func DownAcked(child string) string { return DownAckedPrefix + child }

// Fresh is the key of region's freshness: m/fresh/<region>.
func Fresh(region string) string { return FreshPrefix + region }

// Resync is the key of a resync's progress: m/resync/<dir>/<link>.
func Resync(dir, link string) string { return ResyncPrefix + dir + "/" + link }

// ResyncMarks is the prefix of the keys a resync carried:
// m/rsmark/<dir>/<link>/.
func ResyncMarks(dir, link string) string { return ResyncMarkPrefix + dir + "/" + link + "/" }

// ResyncCount is the key of the number of resyncs: m/resyncs/<dir>/<peer>.
func ResyncCount(dir, peer string) string { return ResyncCountPrefix + dir + "/" + peer }

// End is the smallest key greater than every key that starts with prefix
// (the exclusive upper bound of an iteration over prefix): the last byte
// below 0xff raised by one, what follows it dropped; "" when there is none.
// End("r/") is "r0".
func End(prefix string) string {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] < 0xff {
			return prefix[:i] + string([]byte{prefix[i] + 1})
		}
	}
	return ""
}

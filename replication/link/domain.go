package link

// Reader is the read side of the state as this package and its Domain see
// it. Keys are relative to the state keyspace. Get returns (nil, nil) for a
// missing key and a slice the caller owns; Iterate calls fn for every key in
// [lower, upper) in order, with slices valid only during the call. One
// goroutine at a time. replication.StateReader and *replication.Txn satisfy
// it, as does every crm.Reader.
type Reader interface {
	Get(key []byte) ([]byte, error)
	Iterate(lower, upper []byte, fn func(key, value []byte) bool) error
}

// Txn is a Reader that also writes; writes are visible to later Gets of the
// same Txn (Iterate may not see them: read with Get what you wrote).
type Txn interface {
	Reader
	Set(key, value []byte) error
	Delete(key []byte) error
}

// Delta is a change to one of the domain's per-region aggregates.
type Delta struct {
	Region, Metric string
	Value          float64
}

// Domain is what the link protocol needs to know of the records it moves:
// the replica semantics of the domain. crm implements it (node wires the
// adapter); the link's rules of who may send what (rules.go) and its
// mechanism (cursors, gaps, duplicates, resyncs, retention) are this
// package's own.
//
// Contract for every method: deterministic given its arguments and the
// state it reads (no clock, no randomness, no I/O besides the Reader or
// Txn it is given), because the apply path runs it on every replica of a
// region. The methods that take a Txn are called on the FSM goroutine;
// the others from any goroutine. Byte slices passed in belong to the
// caller and must not be kept. Content never makes a method panic: a value
// it cannot use is an error (or false, or ""), never a crash.
type Domain interface {
	// RecordOwner answers the owner region a stored record value names,
	// "" if it names none (or is not a record).
	RecordOwner(value []byte) string
	// StoredOwner is RecordOwner for the record stored at key: for records
	// whose key names their region (heartbeats) the key says.
	StoredOwner(key string, value []byte) string
	// Validate checks a record copy that arrived over a link, for every
	// collection the domain knows (internal ones included), and answers its
	// owner region; an error for anything else.
	Validate(key string, value []byte) (owner string, err error)
	// IsKind reports whether coll is a collection of domain records, which
	// a parent writes for a child under full management.
	IsKind(coll string) bool
	// ManagedCollections lists the collections a parent writes under full
	// management, for a downlink snapshot.
	ManagedCollections() []string
	// DirectiveScope answers the region (and subtree) a directive value
	// is addressed to, "" if it names none.
	DirectiveScope(value []byte) string
	// ForwardedRegion answers the region a forwarded command value is for.
	ForwardedRegion(value []byte) string
	// FullManagement reports whether a stored management setting (nil: none)
	// says that the parent writes the region's records.
	FullManagement(setting []byte) bool

	// WriterOf answers which region may write the records owned by owner
	// in the state r ("" while a handover is under way).
	WriterOf(r Reader, owner string) (string, error)
	// OpenTakeover answers, when region took owner's records over by force
	// and owner has not acknowledged that epoch yet, the epoch (open true):
	// a change owner made meanwhile is kept as a conflict, not applied.
	OpenTakeover(r Reader, region, owner string) (epoch uint64, open bool, err error)
	// RecordConflict keeps a change of owner that arrived under an old
	// epoch (oseq: its sequence at the origin; at: its commit time, Unix ms)
	// as a conflict of region's, beside the record.
	RecordConflict(tx Txn, region, owner string, epoch, oseq uint64, key string, value []byte, at int64) error
	// ApplyReplica writes the copy of a record (value nil: deletes it) with
	// the indexes the replica derives from it. It does not check authority:
	// the link has.
	ApplyReplica(tx Txn, key string, value []byte) error
	// DirectiveArrived is told of a record pushed down to region once
	// ApplyReplica stored it: region brings its own records that depend on
	// it up to date, as its own writes (a calendar directive: the deadlines
	// a missing year had stopped are counted).
	DirectiveArrived(tx Txn, region, key string, value []byte) error
	// AckManagement acknowledges region's own management setting (setting:
	// its stored value) as region's write.
	AckManagement(tx Txn, region string, setting []byte) error
	// ExecuteForwarded executes a command a parent forwarded, in region,
	// as region's own write (a command for a region below passes through).
	ExecuteForwarded(tx Txn, region string, command []byte) error
	// PendingForwarded answers the commands forwarded to child's branch
	// whose outcome has not arrived, as changes of their keys (for a
	// downlink snapshot).
	PendingForwarded(r Reader, child string) ([]Change, error)

	// Deltas answers what a record change (old → new, nil for none) does
	// to the aggregates; ApplyDeltas folds summed deltas into the state.
	Deltas(key string, old, new []byte) []Delta
	ApplyDeltas(tx Txn, ds []Delta) error
}

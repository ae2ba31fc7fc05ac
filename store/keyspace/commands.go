package keyspace

// Forwarded commands still without an outcome (crm/forward.go), one entry
// with an empty value each, by the region the command is addressed to:
//
//	x/_cmdp/<region>\x00<id>
//
// A region's subtree is a prefix of its entries (codes nest), so counting
// or listing what waits below a region reads only what waits, never the
// commands that have an outcome. CommandsLayoutKey holds the version of
// this index, so that a store (or a snapshot or backup) written before it
// existed is indexed at start (crm.MigratePendingCommands).
const (
	PendingCommandPrefix = IndexPrefix + "_cmdp/"
	CommandsLayoutKey    = MetaPrefix + "cmds"
)

// PendingCommand is the entry of command id, addressed to region and
// still pending: x/_cmdp/<region>\x00<id>.
func PendingCommand(region, id string) string { return PendingCommandPrefix + region + "\x00" + id }

// PendingCommandsUnder is the prefix of the entries of the commands
// addressed to region's subtree: x/_cmdp/<region>.
func PendingCommandsUnder(region string) string { return PendingCommandPrefix + region }

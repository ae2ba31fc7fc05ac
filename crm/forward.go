package crm

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridcrm/store/keyspace"
	"gridcrm/tiers"
)

// Partial management: a parent writes a granted collection of its child by
// forwarding the command down. OpForward stores it at the parent (through
// the parent's raft log, so it is durable and ordered); the downlink carries
// it to the child, which executes it as its own write in the order the
// parent committed it, and records the outcome; the outcome rolls up.

// Forward outcomes.
const (
	CommandPending = "pending"
	CommandApplied = "applied"
	CommandRefused = "refused"
)

// ForwardRequest is the body of OpForward: a write of a child's record.
type ForwardRequest struct {
	Region     string          `json:"region"` // the child that owns the record
	Op         Op              `json:"op"`     // create, update, replace or delete
	Collection string          `json:"coll"`
	RecordID   string          `json:"record_id"`
	Version    uint64          `json:"ver,omitempty"`
	Body       json.RawMessage `json:"body,omitempty"`
}

// ForwardedCommand is a command the parent (Owner) forwards to Region,
// stored at CommandKey(ID) and pushed down.
type ForwardedCommand struct {
	Owner string    `json:"owner"`
	ID    string    `json:"id"`
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
	ForwardRequest
}

// CommandResult is the child's outcome of a forwarded command, stored at
// ResultKey(ID) and rolled up.
type CommandResult struct {
	Owner  string          `json:"owner"` // the child
	ID     string          `json:"id"`
	Region string          `json:"region"`
	Status string          `json:"status"` // applied or refused
	Error  *Error          `json:"error,omitempty"`
	Record json.RawMessage `json:"record,omitempty"`
}

// CommandKey and ResultKey are where a forwarded command and its outcome live.
func CommandKey(id string) string { return keyspace.Command(id) }
func ResultKey(id string) string  { return keyspace.Result(id) }

// forward applies OpForward at the parent: the child must be under partial
// management with the collection granted; the command is stored, pending.
func forward(tx *overlay, cmd *Command) Result {
	var req ForwardRequest
	if err := DecodeStrict(cmd.Body, &req); err != nil {
		return Result{Err: err}
	}
	if !strings.HasPrefix(cmd.ID, "cmd_") || len(cmd.ID) != 30 {
		return Result{Err: invalid("id", "%q is not a command id", cmd.ID)}
	}
	if !ValidRegion(req.Region) { // it names the pending-command index's entry (keyspace.PendingCommand)
		return Result{Err: invalid("region", "%q is not a region code", req.Region)}
	}
	if !InRegion(req.Region, cmd.Region) || req.Region == cmd.Region {
		return Result{Err: &Error{Code: CodeWrongOwner, Field: "region", Owner: req.Region,
			Message: fmt.Sprintf("region %s forwards writes only to the regions below it, not to %s", cmd.Region, req.Region)}}
	}
	switch req.Op {
	case OpCreate, OpUpdate, OpReplace, OpDelete, OpAction:
	case OpList:
		if req.Collection != "users" {
			return Result{Err: invalid("op", "only users are listed through a forwarded command (the others roll up)")}
		}
	default:
		return Result{Err: invalid("op", "%q cannot be forwarded (create, update, replace, delete, action, or list of users)", req.Op)}
	}
	kind := Kinds[req.Collection]
	if kind == nil {
		return Result{Err: invalid("coll", "no collection %q", req.Collection)}
	}
	if req.Op == OpList {
		if req.RecordID != "" {
			return Result{Err: invalid("record_id", "a list names no record")}
		}
	} else if !kind.ValidID(req.RecordID) {
		return Result{Err: invalid("id", "%q is not a valid %s id", req.RecordID, Singular(kind.Name))}
	}
	tm, m, err := managementRules(tx, req.Region)
	if err != nil {
		return Result{Err: AsError(err)}
	}
	// Unified acceptance: any tier takes a work order (and acts on the
	// orders it supervises) for the region that handles it, whatever the
	// management mode (Standing). Anything else needs partial management of
	// a child with the collection granted (tiers.MayForward).
	if !tiers.MayForward(ForwardWrite(cmd.Region, req.Region, req.Collection, req.Op), tm) {
		return Result{Err: notGranted(req.Region, cmd.Region, req.Collection, m)}
	}
	if cur, err := tx.Get([]byte(CommandKey(cmd.ID))); err != nil {
		return Result{Err: AsError(err)}
	} else if cur != nil {
		return Result{Record: cur} // the same command proposed again
	}
	raw, _ := json.Marshal(ForwardedCommand{Owner: cmd.Region, ID: cmd.ID, Actor: cmd.Actor, At: cmd.Time, ForwardRequest: req})
	if err := tx.Set([]byte(CommandKey(cmd.ID)), raw); err != nil {
		return Result{Err: AsError(err)}
	}
	if err := tx.Set([]byte(keyspace.PendingCommand(req.Region, cmd.ID)), nil); err != nil {
		return Result{Err: AsError(err)}
	}
	return Result{Record: raw}
}

// OpList is the op of a forwarded command that reads rather than writes:
// the owner answers its users (public fields) as the command's record.
// Users never cross a link, so an upper tier's admin sees them this way.
const OpList Op = "list"

// Standing reports whether a write of op to coll may be forwarded to the
// region that handles it from any region above, whatever the management
// mode: a work order's creation and its actions (unified acceptance), and
// the central administration of users (create, update — disable, reset a
// password, change a role — and list), which their region still applies.
// The kind says which (Kind.Standing).
func Standing(coll string, op Op) bool {
	k := Kinds[coll]
	return k != nil && slices.Contains(k.Standing, op)
}

// ForwardWrite describes, for the tier rules, a write of op to a record of
// coll owned by owner, made at here (tiers.MayForward, tiers.RouteWrite).
func ForwardWrite(here, owner, coll string, op Op) tiers.Write {
	return tiers.Write{Here: tiers.RegionCode(here), Owner: tiers.RegionCode(owner), Collection: coll, Managed: Managed(coll), Standing: Standing(coll, op)}
}

// RouteOf answers where a write of op by here to a record of coll owned by
// owner goes (tiers.RouteWrite), reading owner's management from r.
func RouteOf(r Reader, here, owner, coll string, op Op) (tiers.Route, error) {
	tm, _, err := managementRules(r, owner)
	if err != nil {
		return tiers.Refuse, err
	}
	return tiers.RouteWrite(ForwardWrite(here, owner, coll, op), tm), nil
}

func notGranted(child, here, coll string, m *Management) *Error {
	if m == nil || m.Mode == ModeAutonomous {
		return &Error{Code: CodeWrongOwner, Field: "id", Owner: child, Message: fmt.Sprintf("region %s is autonomous: its %s are written at %s", child, coll, child)}
	}
	if m.Mode == ModeFull {
		return &Error{Code: CodeWrongOwner, Field: "id", Owner: here, Message: fmt.Sprintf("region %s is under full management by %s: write directly, nothing is forwarded", child, here)}
	}
	return &Error{Code: CodeWrongOwner, Field: "id", Owner: child, Message: fmt.Sprintf("%s of region %s are not granted to %s's partial management (granted: %s): write at %s", coll, child, here, strings.Join(m.Collections, ", "), child)}
}

// ExecuteForwarded runs a forwarded command at the child it is addressed
// to, as the child's own write, once: the outcome (the record, or the
// reason it was refused) is stored at ResultKey in the same batch. raw is
// the stored ForwardedCommand. Deterministic: it uses the command's time.
func ExecuteForwarded(tx Txn, region string, raw []byte) error {
	var fc ForwardedCommand
	if err := json.Unmarshal(raw, &fc); err != nil {
		return fmt.Errorf("crm: forwarded command: %w", err)
	}
	if fc.Region != region {
		return nil // passing through, to a region below
	}
	if done, err := tx.Get([]byte(ResultKey(fc.ID))); err != nil || done != nil {
		return err
	}
	var res Result
	if fc.Op == OpList {
		res = listForwarded(tx, region, fc.Collection)
	} else {
		res = Apply(tx, &Command{Op: fc.Op, Collection: fc.Collection, ID: fc.RecordID, Version: fc.Version, Body: fc.Body,
			Region: region, Actor: fc.Actor + "@" + fc.Owner, Time: fc.At})
	}
	out := CommandResult{Owner: region, ID: fc.ID, Region: region, Status: CommandApplied, Record: res.Record}
	if kind := Kinds[fc.Collection]; kind != nil && res.Record != nil && fc.Op != OpList {
		out.Record = kind.Public(res.Record) // the outcome rolls up: no password hash with it
	}
	if res.Err != nil {
		out.Status, out.Error, out.Record = CommandRefused, res.Err, nil
	}
	b, _ := json.Marshal(out)
	if err := tx.Delete([]byte(keyspace.PendingCommand(fc.Region, fc.ID))); err != nil {
		return err
	}
	return tx.Set([]byte(ResultKey(fc.ID)), b)
}

// listForwarded answers region's own records of coll (users), public
// fields only, as {"users": [...]}: the outcome of a forwarded list.
func listForwarded(r Reader, region, coll string) Result {
	kind := Kinds[coll]
	items := []json.RawMessage{}
	if err := scanOwned(r, coll, region, false, func(raw []byte) error {
		items = append(items, kind.Public(raw))
		return nil
	}); err != nil {
		return Result{Err: AsError(err)}
	}
	raw, _ := json.Marshal(map[string]any{coll: items, "region": region})
	return Result{Record: raw}
}

// CommandView is a forwarded command with its outcome, as listed.
type CommandView struct {
	ForwardedCommand
	Status string          `json:"status"`
	Error  *Error          `json:"error,omitempty"`
	Record json.RawMessage `json:"record,omitempty"`
}

// CommandOf reads forwarded command id with its outcome; nil if unknown.
func CommandOf(r Reader, id string) (*CommandView, error) {
	raw, err := r.Get([]byte(CommandKey(id)))
	if err != nil || raw == nil {
		return nil, err
	}
	v := &CommandView{}
	if err := json.Unmarshal(raw, &v.ForwardedCommand); err != nil {
		return nil, err
	}
	return v, withOutcome(r, v)
}

// Public answers the view as a user may see it: without the private fields
// of its collection in the body and the record (a user's password_hash, a
// bulletin's rendered files), as every read of the records answers them.
// The link delivers the command itself, unredacted.
func (v CommandView) Public() CommandView {
	if k, ok := Kinds[v.Collection]; ok {
		if len(v.Body) > 0 {
			v.Body = k.Public(v.Body)
		}
		if len(v.Record) > 0 {
			v.Record = k.Public(v.Record)
		}
	}
	return v
}

// withOutcome sets v's status (pending until a result exists), error and record.
func withOutcome(r Reader, v *CommandView) error {
	v.Status = CommandPending
	res, err := r.Get([]byte(ResultKey(v.ID)))
	if err != nil || res == nil {
		return err
	}
	var cr CommandResult
	if err := json.Unmarshal(res, &cr); err != nil {
		return err
	}
	v.Status, v.Error, v.Record = cr.Status, cr.Error, cr.Record
	return nil
}

// ForwardedCommands lists the commands forwarded to region's subtree ("" for
// all) in the order they were made, with status "pending", "done" (applied
// or refused) or "" for all.
func ForwardedCommands(r Reader, region, status string) ([]CommandView, error) {
	if status == CommandPending {
		return pendingCommands(r, region)
	}
	var out []CommandView
	var ferr error
	p := []byte(keyspace.CommandPrefix)
	err := r.Iterate(p, prefixEnd(p), func(_, raw []byte) bool {
		var v CommandView
		if ferr = json.Unmarshal(raw, &v.ForwardedCommand); ferr != nil {
			return false
		}
		if !strings.HasPrefix(v.Region, region) {
			return true
		}
		if ferr = withOutcome(r, &v); ferr != nil {
			return false
		}
		if (status == CommandPending && v.Status != CommandPending) || (status == "done" && v.Status == CommandPending) {
			return true
		}
		out = append(out, v)
		return true
	})
	if err == nil {
		err = ferr
	}
	return out, err
}

// CommandPage is a page of ForwardedCommandsPage.
type CommandPage struct {
	Items []CommandView
	Next  string // the cursor (after=) of the next page; "" at the end
}

// CommandScan is the most commands a page of ForwardedCommandsPage reads
// (its limit aside): a page of commands for one county at a province
// that holds every county's goes on from where it stopped, not through
// every command forwarded since the province started.
var CommandScan = 10_000

// ForwardedCommandsPage is ForwardedCommands a page at a time: the commands
// forwarded to region's subtree with status (pending, "done" or "" for
// all) made after the command after ("" from the first), at most limit
// (0: DefaultLimit; at most MaxLimit), in the order they were made. A page
// reads at most CommandScan commands (the pending ones from the index of
// those waiting), so it may hold fewer than limit and still have a Next.
func ForwardedCommandsPage(r Reader, region, status, after string, limit int) (CommandPage, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var page CommandPage
	if status == CommandPending {
		ids, err := pendingIDs(r, region)
		if err != nil {
			return page, err
		}
		i, _ := slices.BinarySearch(ids, after)
		for i < len(ids) && ids[i] <= after {
			i++
		}
		ids = ids[i:]
		if len(ids) > limit {
			ids = ids[:limit]
			page.Next = ids[limit-1]
		}
		page.Items, err = commandViews(r, ids) // only the page's commands are read
		return page, err
	}
	p := []byte(keyspace.CommandPrefix)
	lower := p
	if after != "" {
		lower = append([]byte(CommandKey(after)), 0)
	}
	scanned, last := 0, ""
	var ferr error
	err := r.Iterate(lower, prefixEnd(p), func(k, raw []byte) bool {
		if len(page.Items) == limit || scanned == CommandScan {
			page.Next = last // more to read: go on after the last one read
			return false
		}
		scanned++
		last = string(k[len(p):])
		var v CommandView
		if ferr = json.Unmarshal(raw, &v.ForwardedCommand); ferr != nil {
			return false
		}
		if !strings.HasPrefix(v.Region, region) {
			return true
		}
		if ferr = withOutcome(r, &v); ferr != nil {
			return false
		}
		if status == "done" && v.Status == CommandPending {
			return true
		}
		page.Items = append(page.Items, v)
		return true
	})
	if err == nil {
		err = ferr
	}
	return page, err
}

// pendingCommands is ForwardedCommands of the pending commands, from the
// pending-command index, in the order they were made (ids sort by time).
func pendingCommands(r Reader, region string) ([]CommandView, error) {
	ids, err := pendingIDs(r, region)
	if err != nil {
		return nil, err
	}
	return commandViews(r, ids)
}

// pendingIDs answers the ids of the pending commands addressed to region's
// subtree, from the index alone, sorted (in the order they were made).
func pendingIDs(r Reader, region string) ([]string, error) {
	var ids []string
	err := eachPending(r, region, func(_, id string) bool {
		ids = append(ids, id)
		return true
	})
	slices.Sort(ids)
	return ids, err
}

// commandViews reads the commands ids with their outcomes, those still
// pending only (an index entry whose outcome is there is left out).
func commandViews(r Reader, ids []string) ([]CommandView, error) {
	out := make([]CommandView, 0, len(ids))
	for _, id := range ids {
		v, err := CommandOf(r, id)
		if err != nil {
			return nil, err
		}
		if v != nil && v.Status == CommandPending {
			out = append(out, *v)
		}
	}
	return out, nil
}

// PendingCommands counts the commands forwarded to region's subtree still
// without an outcome, from the pending-command index: it reads what waits,
// not every command ever forwarded.
func PendingCommands(r Reader, region string) (int, error) {
	n := 0
	err := eachPending(r, region, func(_, _ string) bool {
		n++
		return true
	})
	return n, err
}

// PendingCommandsByRegion counts the commands addressed to region's
// subtree ("" for all) still without an outcome, by the region each was
// forwarded to, in one pass over the pending-command index: a node's
// metrics ask for every region it manages at once (SumPending).
func PendingCommandsByRegion(r Reader, region string) (map[string]int, error) {
	by := map[string]int{}
	err := eachPending(r, region, func(reg, _ string) bool {
		by[reg]++
		return true
	})
	return by, err
}

// eachPending calls fn with the region and id of each pending command
// addressed to region's subtree, in region then id order, until fn
// answers false.
func eachPending(r Reader, region string, fn func(region, id string) bool) error {
	p := []byte(keyspace.PendingCommandsUnder(region))
	return r.Iterate(p, prefixEnd(p), func(k, _ []byte) bool {
		reg, id, ok := strings.Cut(string(k[len(keyspace.PendingCommandPrefix):]), "\x00")
		return !ok || fn(reg, id)
	})
}

// pendingChange keeps the pending-command index as a copy of a command or
// of an outcome is stored (ApplyReplica; value nil: deleted): a command
// waits until its outcome is there, whichever of the two arrives first (a
// resync sends a region's records in key order, not in the order they
// were written). old is what the key held.
func pendingChange(tx Txn, coll, id string, old, value []byte) error {
	switch coll {
	case "_cmd":
		if region := ForwardedRegion(old); region != "" {
			if err := tx.Delete([]byte(keyspace.PendingCommand(region, id))); err != nil {
				return err
			}
		}
		region := ForwardedRegion(value)
		if value == nil || region == "" {
			return nil
		}
		if res, err := tx.Get([]byte(ResultKey(id))); err != nil || res != nil {
			return err
		}
		return tx.Set([]byte(keyspace.PendingCommand(region, id)), nil)
	case "_cres":
		cmd, err := tx.Get([]byte(CommandKey(id)))
		region := ForwardedRegion(cmd)
		if err != nil || region == "" {
			return err
		}
		if value == nil {
			return tx.Set([]byte(keyspace.PendingCommand(region, id)), nil) // the outcome went: waiting again
		}
		return tx.Delete([]byte(keyspace.PendingCommand(region, id)))
	}
	return nil
}

// CommandsLayout is the version of the pending-command index this code
// keeps (keyspace.CommandsLayoutKey).
const CommandsLayout = 1

// MigratePendingCommands builds the pending-command index when the state
// has none of CommandsLayout (a store, snapshot or backup written before
// it existed): every command without an outcome gets its entry, in
// batches, and the layout is recorded last, so a run cut short runs again.
// It answers the commands read (0 when the index was current). Like
// MigrateSearch it runs before raft applies anything and after a snapshot
// replaced the state.
func MigratePendingCommands(r Reader, batch func() (Txn, func() error)) (int, error) {
	v, err := r.Get([]byte(keyspace.CommandsLayoutKey))
	if err != nil {
		return 0, err
	}
	if string(v) == strconv.Itoa(CommandsLayout) {
		return 0, nil
	}
	p := []byte(keyspace.PendingCommandPrefix)
	if err := DeleteKeys(r, batch, p, prefixEnd(p), nil); err != nil {
		return 0, err
	}
	n := 0
	err = RecordBatches(r, "_cmd", 1_000, func(ids []string, raws [][]byte) error {
		tx, commit := batch()
		for i, raw := range raws {
			n++
			if err := pendingChange(tx, "_cmd", ids[i], nil, raw); err != nil {
				return err
			}
		}
		return commit()
	})
	if err != nil {
		return n, err
	}
	tx, commit := batch()
	if err := tx.Set([]byte(keyspace.CommandsLayoutKey), []byte(strconv.Itoa(CommandsLayout))); err != nil {
		return n, err
	}
	return n, commit()
}

// SumPending adds up the counts of PendingCommandsByRegion of region's
// subtree.
func SumPending(by map[string]int, region string) int {
	n := 0
	for reg, k := range by {
		if strings.HasPrefix(reg, region) {
			n += k
		}
	}
	return n
}

// forwardedRegion answers the region a stored forwarded command is for.
func ForwardedRegion(raw []byte) string {
	var c struct {
		Region string `json:"region"`
	}
	_ = json.Unmarshal(raw, &c)
	return c.Region
}

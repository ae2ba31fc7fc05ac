package crm

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gridcrm/store/keyspace"
	"gridcrm/tiers"
)

// Management modes a parent sets for a child region.
// They are tiers' modes, spelled as the strings Management stores.
const (
	ModeAutonomous = string(tiers.Autonomous) // the child writes its records; the parent reads the roll-up
	ModePartial    = string(tiers.Partial)    // the parent may also write granted collections, through the child
	ModeFull       = string(tiers.Full)       // the parent is the writer of the child's records; the child is read-only
)

// ManagedCollections are the collections a management setting can grant
// (partial) or take over (full). Users stay in their region; directives
// belong to the tier that writes them.
func ManagedCollections() []string {
	var out []string
	for _, c := range Collections() {
		if c != "users" && c != "directives" {
			out = append(out, c)
		}
	}
	return out
}

// Management is a child region's management setting, written by its parent
// (Owner) through OpManage and pushed down to the child; every write raises
// Epoch. It is stored at MgmtKey(Region) and travels like a record.
type Management struct {
	Owner       string    `json:"owner"`  // the parent region, which sets it
	Region      string    `json:"region"` // the child region it governs
	Mode        string    `json:"mode"`
	Collections []string  `json:"collections,omitempty"` // granted (partial) collections
	Epoch       uint64    `json:"epoch"`
	Forced      bool      `json:"forced,omitempty"` // full mode taken without the child's acknowledgement
	SetBy       string    `json:"set_by"`
	SetAt       time.Time `json:"set_at"`
}

// ManagementAck is a child's acknowledgement of the setting it applied,
// written by the child in the same batch (so after every write it made
// before) and rolled up: the parent takes over a full-mode child only when
// it holds the ack of that epoch.
type ManagementAck struct {
	Owner  string    `json:"owner"` // the child
	Region string    `json:"region"`
	Epoch  uint64    `json:"epoch"`
	Mode   string    `json:"mode"`
	At     time.Time `json:"at"`
}

// MgmtKey and AckKey are where a region's setting and its ack are stored.
func MgmtKey(region string) string { return keyspace.Mgmt(region) }
func AckKey(region string) string  { return keyspace.Ack(region) }

// ManageRequest is the body of OpManage.
type ManageRequest struct {
	Region      string   `json:"region"`
	Mode        string   `json:"mode"`
	Collections []string `json:"collections,omitempty"`
	Force       bool     `json:"force,omitempty"` // full only: take over without the child's acknowledgement (the child is unreachable)
}

// ManagementOf reads region's setting; nil when none was ever set
// (autonomous, epoch 0).
func ManagementOf(r Reader, region string) (*Management, error) {
	raw, err := r.Get([]byte(MgmtKey(region)))
	if err != nil || raw == nil {
		return nil, err
	}
	var m Management
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("crm: management of %s: %w", region, err)
	}
	return &m, nil
}

// AckOf reads region's acknowledgement; nil when none.
func AckOf(r Reader, region string) (*ManagementAck, error) {
	raw, err := r.Get([]byte(AckKey(region)))
	if err != nil || raw == nil {
		return nil, err
	}
	var a ManagementAck
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("crm: management ack of %s: %w", region, err)
	}
	return &a, nil
}

// WriterOf answers which region may write the records owned by owner, as
// this replica sees it (tiers.Writer): owner itself, unless a full-mode
// setting holds and (at the parent) the child acknowledged its epoch or it
// was forced, in which case the parent; "" while a handover is under way
// (nobody writes). The same state gives the same answer on every replica;
// the epoch fences the rest (invariant 4).
func WriterOf(r Reader, owner string) (writer string, m *Management, err error) {
	tm, m, err := managementRules(r, owner)
	if err != nil {
		return "", m, err
	}
	return string(tiers.Writer(tiers.RegionCode(owner), tm)), m, nil
}

// Fenced answers whether a change to owner's records that region here
// receives up its link must be kept as a conflict rather than applied
// (tiers.Fenced: here took owner over by force and does not hold owner's
// acknowledgement of that epoch yet), and if so the epoch of the setting.
func Fenced(r Reader, here, owner string) (epoch uint64, fenced bool, err error) {
	tm, m, err := managementRules(r, owner)
	if err != nil || m == nil || !tiers.Fenced(tiers.RegionCode(here), tiers.RegionCode(owner), tm) {
		return 0, false, err
	}
	return m.Epoch, true, nil
}

// managementRules reads owner's setting (nil when never set) and, under
// full mode only, owner's acknowledgement, as the tier rules take them. The
// acknowledgement matters to no other mode, so the write path reads it only
// then.
func managementRules(r Reader, owner string) (tiers.Management, *Management, error) {
	m, err := ManagementOf(r, owner)
	if err != nil || m == nil {
		return tiers.Management{}, m, err
	}
	tm := m.rules()
	if m.Mode == ModeFull {
		a, err := AckOf(r, owner)
		if err != nil {
			return tm, m, err
		}
		if a != nil {
			tm.Acked = a.Epoch
		}
	}
	return tm, m, nil
}

// rules is m as the tier rules take it, without the acknowledgement.
func (m *Management) rules() tiers.Management {
	return tiers.Management{Manager: tiers.RegionCode(m.Owner), Mode: tiers.Mode(m.Mode), Epoch: m.Epoch, Forced: m.Forced, Granted: m.Collections}
}

// Managed reports whether management moves the writer of coll's records:
// not users (credentials of one region) nor directives (the tier that
// writes them owns them).
func Managed(coll string) bool { return coll != "users" && coll != "directives" }

// mayWrite refuses a write by region here to a record of collection coll
// owned by owner unless here is the record's writer (tiers.MayWrite), with
// an error that says where to write.
func mayWrite(r Reader, coll, id, owner, here string) *Error {
	w := tiers.Write{Here: tiers.RegionCode(here), Owner: tiers.RegionCode(owner), Collection: coll, Managed: Managed(coll)}
	var tm tiers.Management
	var m *Management
	if w.Managed {
		var err error
		if tm, m, err = managementRules(r, owner); err != nil {
			return AsError(err)
		}
	}
	writer := string(tiers.Writer(w.Owner, tm))
	switch tiers.MayWrite(w, tm) {
	case tiers.Allowed:
		return nil
	case tiers.NotOwner:
		return wrongOwner(Kinds[coll], id, owner, here)
	case tiers.InHandover:
		return &Error{Code: CodeWrongOwner, Field: "id", Owner: m.Owner, Message: fmt.Sprintf("region %s is being taken into full management by region %s (epoch %d): write at %s", owner, m.Owner, m.Epoch, m.Owner)}
	case tiers.AwaitingAck:
		return &Error{Code: CodeWrongOwner, Field: "id", Owner: owner, Message: fmt.Sprintf("region %s has not yet acknowledged full management by %s (epoch %d); writes are held until it does, or take it over with force", owner, m.Owner, m.Epoch)}
	case tiers.ReadOnly:
		return &Error{Code: CodeWrongOwner, Field: "id", Owner: writer, Message: fmt.Sprintf("region %s is under full management by region %s (epoch %d) and read-only here: write at %s", owner, writer, m.Epoch, writer)}
	case tiers.NotGranted:
		return &Error{Code: CodeWrongOwner, Field: "id", Owner: owner, Message: fmt.Sprintf("%s of region %s are not granted to %s's partial management (granted: %s): write at %s", coll, owner, here, strings.Join(m.Collections, ", "), owner)}
	}
	return &Error{Code: CodeWrongOwner, Field: "id", Owner: writer, Message: fmt.Sprintf("records of region %s are written by region %s, not %s: write there", owner, writer, here)}
}

// manage applies OpManage: the parent (cmd.Region) sets a child's mode.
// The epoch rises by one on every setting. Leaving full mode is refused
// while the child has open conflicts.
func manage(tx *overlay, cmd *Command) Result {
	var req ManageRequest
	if err := DecodeStrict(cmd.Body, &req); err != nil {
		return Result{Err: err}
	}
	req.Mode = strings.ToLower(strings.TrimSpace(req.Mode))
	if e := validManage(&req, cmd.Region); e != nil {
		return Result{Err: e}
	}
	old, err := ManagementOf(tx, req.Region)
	if err != nil {
		return Result{Err: AsError(err)}
	}
	m := Management{Owner: cmd.Region, Region: req.Region, Mode: req.Mode, Collections: req.Collections, Epoch: 1, Forced: req.Force, SetBy: cmd.Actor, SetAt: cmd.Time}
	if old != nil {
		m.Epoch = old.Epoch + 1
		if old.Mode == ModeFull && m.Mode != ModeFull {
			if n, err := OpenConflicts(tx, req.Region); err != nil {
				return Result{Err: AsError(err)}
			} else if n > 0 {
				return Result{Err: &Error{Code: CodeConflict, Field: "mode", Message: fmt.Sprintf("region %s has %d open conflicts; resolve them (GET /api/v1/conflicts?region=%s) before handing it back", req.Region, n, req.Region)}}
			}
		}
	}
	raw, _ := json.Marshal(m)
	if err := tx.Set([]byte(MgmtKey(req.Region)), raw); err != nil {
		return Result{Err: AsError(err)}
	}
	return Result{Record: raw}
}

func validManage(req *ManageRequest, here string) *Error {
	if !ValidRegion(req.Region) {
		return invalid("region", "%q is not a GB/T 2260 region code", req.Region)
	}
	if !tiers.RegionCode(req.Region).ChildOf(tiers.RegionCode(here)) {
		return &Error{Code: CodeWrongOwner, Field: "region", Owner: parentOf(req.Region),
			Message: fmt.Sprintf("region %s can set the management of its child regions only; %s's parent is %s", here, req.Region, parentOf(req.Region))}
	}
	if e := oneOf("mode", req.Mode, ModeAutonomous, ModePartial, ModeFull); e != nil {
		return e
	}
	seen := map[string]bool{}
	for i, c := range req.Collections {
		if !slices.Contains(ManagedCollections(), c) {
			return invalid(fmt.Sprintf("collections[%d]", i), "%q cannot be granted; one of %s", c, strings.Join(ManagedCollections(), ", "))
		}
		if seen[c] {
			return invalid(fmt.Sprintf("collections[%d]", i), "%q is listed twice", c)
		}
		seen[c] = true
	}
	switch req.Mode {
	case ModePartial:
		if len(req.Collections) == 0 {
			return invalid("collections", "partial management grants at least one collection")
		}
	default:
		if len(req.Collections) > 0 {
			return invalid("collections", "only partial management grants collections (%s takes none)", req.Mode)
		}
	}
	if req.Force && req.Mode != ModeFull {
		return invalid("force", "only a full takeover can be forced")
	}
	return nil
}

func parentOf(region string) string {
	if len(region) <= 2 {
		return ""
	}
	return region[:len(region)-2]
}

// AckManagement is called by a child when it applies its own setting from
// the downlink: it records the acknowledgement in the same batch. raw is the
// setting as stored.
func AckManagement(tx Txn, region string, raw []byte) error {
	var m Management
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("crm: management of %s: %w", region, err)
	}
	a, _ := json.Marshal(ManagementAck{Owner: region, Region: region, Epoch: m.Epoch, Mode: m.Mode, At: m.SetAt})
	return tx.Set([]byte(AckKey(region)), a)
}

// OpenConflicts counts region's unresolved conflicts.
func OpenConflicts(r Reader, region string) (int, error) {
	n := 0
	p := []byte(keyspace.ConflictsOf(region))
	err := r.Iterate(p, prefixEnd(p), func(_, v []byte) bool {
		var c Conflict
		if json.Unmarshal(v, &c) == nil && c.Status == ConflictOpen {
			n++
		}
		return true
	})
	return n, err
}

// RegionState is what holds for a region's management as one replica sees
// it: the setting, who writes its records, and what is open.
type RegionState struct {
	Region          string    `json:"region"`
	Mode            string    `json:"mode"`                  // autonomous when never set
	Epoch           uint64    `json:"epoch"`                 // 0 when never set
	Collections     []string  `json:"collections,omitempty"` // granted (partial)
	Forced          bool      `json:"forced,omitempty"`
	ManagedBy       string    `json:"managed_by,omitempty"` // the parent that set it
	SetBy           string    `json:"set_by,omitempty"`
	SetAt           time.Time `json:"set_at,omitzero"`
	AckedEpoch      uint64    `json:"acked_epoch"`      // the epoch the region acknowledged (as this replica knows)
	Writer          string    `json:"writer"`           // the region writing its records now; "" during a handover
	OpenConflicts   int       `json:"open_conflicts"`   // its old-epoch writes kept unresolved here
	PendingCommands int       `json:"pending_commands"` // writes forwarded to it still waiting for their outcome
}

// RegionStateOf reads code's RegionState from r.
func RegionStateOf(r Reader, code string) (RegionState, error) {
	st := RegionState{Region: code, Mode: ModeAutonomous}
	w, m, err := WriterOf(r, code)
	if err != nil {
		return st, err
	}
	st.Writer = w
	if m != nil {
		st.Mode, st.Epoch, st.Collections, st.Forced = m.Mode, m.Epoch, m.Collections, m.Forced
		st.ManagedBy, st.SetBy, st.SetAt = m.Owner, m.SetBy, m.SetAt
	}
	if a, err := AckOf(r, code); err != nil {
		return st, err
	} else if a != nil {
		st.AckedEpoch = a.Epoch
	}
	if st.OpenConflicts, err = OpenConflicts(r, code); err != nil {
		return st, err
	}
	st.PendingCommands, err = PendingCommands(r, code)
	return st, err
}

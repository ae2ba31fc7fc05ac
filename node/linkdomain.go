package node

import (
	"encoding/json"
	"errors"

	"gridcrm/crm"
	"gridcrm/replication/link"
)

// linkDomain is crm as the link protocol sees it (link.Domain): the replica
// semantics of the records that cross links. Every method is a thin call
// into crm; refusals come back as *link.Error carrying crm's message.
// region is the node's: the aggregates' subtree totals are kept for it
// (crm.ApplyDeltasAt).
type linkDomain struct{ region string }

var _ link.Domain = linkDomain{}

// asLinkError keeps a domain refusal's code, field and message for the
// link's rejection log; nil stays nil.
func asLinkError(err error) error {
	if err == nil {
		return nil
	}
	var e *crm.Error
	if errors.As(err, &e) {
		return &link.Error{Code: e.Code, Message: e.Message, Field: e.Field}
	}
	return err
}

func (linkDomain) RecordOwner(v []byte) string             { return crm.RecordOwner(v) }
func (linkDomain) StoredOwner(key string, v []byte) string { return crm.StoredOwner(key, v) }
func (linkDomain) IsKind(coll string) bool                 { return crm.Kinds[coll] != nil }
func (linkDomain) ManagedCollections() []string            { return crm.ManagedCollections() }
func (linkDomain) ForwardedRegion(v []byte) string         { return crm.ForwardedRegion(v) }

// DirectiveScope reads a directive's scope as crm.DirectiveFor does.
func (linkDomain) DirectiveScope(v []byte) string {
	var d struct {
		Scope string `json:"scope"`
	}
	if json.Unmarshal(v, &d) != nil {
		return ""
	}
	return d.Scope
}

func (linkDomain) Validate(key string, v []byte) (string, error) { return crm.ValidRecord(key, v) }

func (linkDomain) FullManagement(setting []byte) bool {
	var m crm.Management
	return setting != nil && json.Unmarshal(setting, &m) == nil && m.Mode == crm.ModeFull
}

func (linkDomain) WriterOf(r link.Reader, owner string) (string, error) {
	w, _, err := crm.WriterOf(r, owner)
	return w, err
}

// OpenTakeover: region took owner over by force (it writes owner's records
// under a forced full setting) and owner's acknowledgement of that epoch
// has not arrived (tiers.Fenced, through crm.Fenced).
func (linkDomain) OpenTakeover(r link.Reader, region, owner string) (uint64, bool, error) {
	epoch, open, err := crm.Fenced(r, region, owner)
	return epoch, open, asLinkError(err)
}

func (linkDomain) RecordConflict(tx link.Txn, region, owner string, epoch, oseq uint64, key string, v []byte, at int64) error {
	return asLinkError(crm.RecordConflict(tx, region, owner, epoch, oseq, key, v, at))
}

func (linkDomain) ApplyReplica(tx link.Txn, key string, v []byte) error {
	return asLinkError(crm.ApplyReplica(tx, key, v))
}

func (linkDomain) AckManagement(tx link.Txn, region string, setting []byte) error {
	return asLinkError(crm.AckManagement(tx, region, setting))
}

func (linkDomain) DirectiveArrived(tx link.Txn, region, key string, v []byte) error {
	return asLinkError(crm.DirectiveArrived(tx, region, key, v))
}

func (linkDomain) ExecuteForwarded(tx link.Txn, region string, cmd []byte) error {
	return asLinkError(crm.ExecuteForwarded(tx, region, cmd))
}

func (linkDomain) PendingForwarded(r link.Reader, child string) ([]link.Change, error) {
	pending, err := crm.ForwardedCommands(r, child, crm.CommandPending)
	if err != nil {
		return nil, err
	}
	out := make([]link.Change, 0, len(pending))
	for _, c := range pending {
		raw, _ := json.Marshal(c.ForwardedCommand)
		out = append(out, link.Change{Origin: c.Owner, Owner: c.Owner, Key: crm.CommandKey(c.ID), Value: raw})
	}
	return out, nil
}

func (linkDomain) Deltas(key string, old, new []byte) []link.Delta {
	ds := crm.AggregateDeltas(key, old, new)
	out := make([]link.Delta, len(ds))
	for i, d := range ds {
		out[i] = link.Delta{Region: d.Region, Metric: d.Metric, Value: d.Value}
	}
	return out
}

func (l linkDomain) ApplyDeltas(tx link.Txn, ds []link.Delta) error {
	cds := make([]crm.Delta, len(ds))
	for i, d := range ds {
		cds[i] = crm.Delta{Region: d.Region, Metric: d.Metric, Value: d.Value}
	}
	return crm.ApplyDeltasAt(tx, l.region, cds)
}

package chaos

import (
	"encoding/json"
	"slices"
	"strings"

	"gridcrm/store/keyspace"
)

// Dump is one replica's state keyspace as read from its stopped store:
// state keys (without store.StatePrefix) to values.
type Dump struct {
	Node   string
	Region string
	Keys   map[string][]byte
}

// Divergence is one key on which two replicas differ.
type Divergence struct {
	Key  string `json:"key"`
	Ref  string `json:"ref"`  // the reference replica (node)
	Node string `json:"node"` // the replica compared with it
	What string `json:"what"` // "missing" (at Node), "extra" (at Node) or "differs"
	RefV string `json:"ref_value,omitempty"`
	NodV string `json:"node_value,omitempty"`
}

// nodeLocal lists key prefixes that legitimately differ between replicas
// of one region, so the comparer skips them:
//   - m/ (but m/sys/, the replicated system values such as the token
//     key): metadata each node keeps for itself (applied index, link
//     cursors, feed bounds, freshness of other regions);
//   - f/: the change feed, trimmed by each node when its parent acknowledges;
//   - r/_canary/: the heartbeat record the leader rewrites every second;
//     the last one need not have reached every replica before the stop.
var nodeLocal = []string{keyspace.MetaPrefix, keyspace.FeedPrefix, keyspace.CanaryPrefix}

// Replicated reports whether key is part of the state every replica of a
// region must hold identically (records, unique keys, indexes, aggregates).
func Replicated(key string) bool {
	if strings.HasPrefix(key, keyspace.SysPrefix) {
		return true
	}
	for _, p := range nodeLocal {
		if strings.HasPrefix(key, p) {
			return false
		}
	}
	return true
}

// IsRecord reports whether key is a record key r/<collection>/<id>
// (heartbeats excluded).
func IsRecord(key string) bool {
	return strings.HasPrefix(key, keyspace.RecordPrefix) && !strings.HasPrefix(key, keyspace.CanaryPrefix)
}

// CompareReplicas compares every replica with the first one, key by key
// and byte for byte, over the keys keep accepts. It answers every
// difference, in key order per replica.
func CompareReplicas(dumps []Dump, keep func(string) bool) []Divergence {
	if len(dumps) < 2 {
		return nil
	}
	ref := dumps[0]
	var out []Divergence
	for _, d := range dumps[1:] {
		out = append(out, diff(ref.Node, ref.Keys, d.Node, d.Keys, keep)...)
	}
	return out
}

// CompareRollup compares the records owned by region at the owner's
// replica with the copies an ancestor (city, province) holds: the same
// record keys, the same bytes. Users do not roll up (each region has its
// own); other keys (indexes, aggregates) are laid out per tier and are not
// compared.
func CompareRollup(owner, ancestor Dump, region string) []Divergence {
	keep := func(k string) bool { return IsRecord(k) && !strings.HasPrefix(k, keyspace.UsersPrefix) }
	a := ownedBy(owner.Keys, region)
	b := ownedBy(ancestor.Keys, region)
	return diff(owner.Node, a, ancestor.Node, b, keep)
}

// ownedBy selects the records whose "owner" is region.
func ownedBy(keys map[string][]byte, region string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range keys {
		if IsRecord(k) && RecordOwner(v) == region {
			out[k] = v
		}
	}
	return out
}

// RecordOwner reads a record's "owner" field ("" if it has none).
func RecordOwner(v []byte) string {
	var m struct {
		Owner string `json:"owner"`
	}
	_ = json.Unmarshal(v, &m)
	return m.Owner
}

func diff(refNode string, ref map[string][]byte, node string, other map[string][]byte, keep func(string) bool) []Divergence {
	var out []Divergence
	for _, k := range sortedKeys(ref) {
		if !keep(k) {
			continue
		}
		v, ok := other[k]
		switch {
		case !ok:
			out = append(out, Divergence{Key: k, Ref: refNode, Node: node, What: "missing", RefV: clip(ref[k])})
		case string(v) != string(ref[k]):
			out = append(out, Divergence{Key: k, Ref: refNode, Node: node, What: "differs", RefV: clip(ref[k]), NodV: clip(v)})
		}
	}
	for _, k := range sortedKeys(other) {
		if _, ok := ref[k]; !ok && keep(k) {
			out = append(out, Divergence{Key: k, Ref: refNode, Node: node, What: "extra", NodV: clip(other[k])})
		}
	}
	return out
}

func sortedKeys(m map[string][]byte) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// clip shortens a value for a report, keeping it printable.
func clip(v []byte) string {
	s := strings.ToValidUTF8(string(v), "?")
	s = strings.ReplaceAll(s, "\x00", `\0`)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

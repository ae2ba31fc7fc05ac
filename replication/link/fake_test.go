package link

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gridcrm/tiers"
)

// fakeDomain is a small domain for the link's own tests: records are JSON
// objects naming their "owner"; one domain collection (customers, whose
// aggregate counts them per owner), directives with a "scope", and the
// internal collections the link rules name (_mgmt, _mack, _canary, _cmd,
// _cres, _conflict). It validates as strictly as the link needs a domain
// to (a value that is not an object of its collection is refused), so the
// rules and the mechanism can be tested without crm.
type fakeDomain struct{}

type fakeRecord struct {
	ID     string `json:"id"`
	Owner  string `json:"owner"`
	Scope  string `json:"scope,omitempty"`  // directives
	Region string `json:"region,omitempty"` // _mgmt, _mack, _canary, _cmd
	Mode   string `json:"mode,omitempty"`   // _mgmt
	Epoch  uint64 `json:"epoch,omitempty"`  // _mgmt, _mack
	Forced bool   `json:"forced,omitempty"` // _mgmt
	At     int64  `json:"at,omitempty"`     // _canary
	Key    string `json:"key,omitempty"`    // _cmd: the record it writes
	Value  any    `json:"value,omitempty"`  // _cmd: its value
}

func decodeFake(v []byte) (fakeRecord, error) {
	var r fakeRecord
	if len(v) == 0 || v[0] != '{' {
		return r, &Error{Code: CodeInvalid, Message: "not a JSON object"}
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return r, &Error{Code: CodeInvalid, Message: err.Error()}
	}
	return r, nil
}

func validCode(c string) bool { return tiers.RegionCode(c).Valid() }

func (fakeDomain) RecordOwner(v []byte) string {
	r, _ := decodeFake(v)
	return r.Owner
}

func (d fakeDomain) StoredOwner(key string, v []byte) string {
	if region, ok := strings.CutPrefix(key, "r/_canary/"); ok {
		return region
	}
	return d.RecordOwner(v)
}

func (fakeDomain) Validate(key string, v []byte) (string, error) {
	coll, id, ok := splitKey(key)
	if !ok {
		return "", errors.New("fake: not a record key")
	}
	r, err := decodeFake(v)
	if err != nil {
		return "", err
	}
	bad := func(f string, args ...any) (string, error) { return "", fmt.Errorf("fake: "+f, args...) }
	switch coll {
	case "customers", "directives", "_conflict":
		if r.ID != id || !validCode(r.Owner) {
			return bad("%s: id %q, owner %q", key, r.ID, r.Owner)
		}
		if coll == "directives" && !validCode(r.Scope) {
			return bad("%s: scope %q", key, r.Scope)
		}
		return r.Owner, nil
	case "_mgmt":
		if r.Region != id || r.Owner != string(tiers.RegionCode(id).Parent()) || r.Owner == "" || (r.Mode != "autonomous" && r.Mode != "partial" && r.Mode != "full") {
			return bad("%s: not a management setting by %s's parent", key, id)
		}
		return r.Owner, nil
	case "_mack", "_canary":
		if r.Region != id {
			return bad("%s: region %q", key, r.Region)
		}
		return id, nil
	case "_cmd", "_cres":
		if !validCode(r.Owner) || !validCode(r.Region) {
			return bad("%s: owner %q, region %q", key, r.Owner, r.Region)
		}
		return r.Owner, nil
	}
	return bad("%s: unknown collection %q", key, coll)
}

func (fakeDomain) IsKind(coll string) bool      { return coll == "customers" }
func (fakeDomain) ManagedCollections() []string { return []string{"customers"} }
func (fakeDomain) DirectiveScope(v []byte) string {
	r, _ := decodeFake(v)
	return r.Scope
}

func (fakeDomain) ForwardedRegion(v []byte) string {
	r, _ := decodeFake(v)
	return r.Region
}

func (fakeDomain) FullManagement(setting []byte) bool {
	r, err := decodeFake(setting)
	return setting != nil && err == nil && r.Mode == "full"
}

func (d fakeDomain) setting(r Reader, owner string) (m, ack *fakeRecord, err error) {
	for i, k := range []string{"r/_mgmt/", "r/_mack/"} {
		raw, err := r.Get([]byte(k + owner))
		if err != nil || raw == nil {
			if err != nil {
				return nil, nil, err
			}
			continue
		}
		rec, err := decodeFake(raw)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			m = &rec
		} else {
			ack = &rec
		}
	}
	return m, ack, nil
}

func (d fakeDomain) WriterOf(r Reader, owner string) (string, error) {
	m, ack, err := d.setting(r, owner)
	if err != nil || m == nil || m.Mode != "full" {
		return owner, err
	}
	if m.Forced || (ack != nil && ack.Epoch >= m.Epoch) {
		return m.Owner, nil
	}
	return "", nil
}

func (d fakeDomain) OpenTakeover(r Reader, region, owner string) (uint64, bool, error) {
	m, ack, err := d.setting(r, owner)
	if err != nil || m == nil || m.Mode != "full" || !m.Forced || m.Owner != region {
		return 0, false, err
	}
	return m.Epoch, ack == nil || ack.Epoch < m.Epoch, nil
}

func (fakeDomain) RecordConflict(tx Txn, region, owner string, epoch, oseq uint64, key string, v []byte, at int64) error {
	id := owner + "-" + strconv.FormatUint(oseq, 10)
	raw, _ := json.Marshal(map[string]any{"id": id, "owner": region, "key": key, "epoch": epoch, "child": json.RawMessage(v), "at": at})
	return tx.Set([]byte("r/_conflict/"+id), raw)
}

func (fakeDomain) ApplyReplica(tx Txn, key string, v []byte) error {
	if v == nil {
		return tx.Delete([]byte(key))
	}
	return tx.Set([]byte(key), v)
}

func (fakeDomain) AckManagement(tx Txn, region string, setting []byte) error {
	m, err := decodeFake(setting)
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(fakeRecord{Owner: region, Region: region, Mode: m.Mode, Epoch: m.Epoch})
	return tx.Set([]byte("r/_mack/"+region), raw)
}

func (fakeDomain) DirectiveArrived(Txn, string, string, []byte) error { return nil }

func (fakeDomain) ExecuteForwarded(tx Txn, region string, cmd []byte) error {
	c, err := decodeFake(cmd)
	if err != nil {
		return err
	}
	if c.Region != region {
		return nil
	}
	if c.Key == "" {
		return &Error{Code: CodeInvalid, Field: "key", Message: "a forwarded command names the record it writes"}
	}
	v, _ := json.Marshal(c.Value)
	if err := tx.Set([]byte(c.Key), v); err != nil {
		return err
	}
	res, _ := json.Marshal(fakeRecord{ID: c.ID, Owner: region, Region: region})
	return tx.Set([]byte("r/_cres/"+c.ID), res)
}

func (fakeDomain) PendingForwarded(r Reader, child string) ([]Change, error) {
	var out []Change
	var cmds [][2][]byte
	if err := r.Iterate([]byte("r/_cmd/"), []byte("r/_cmd0"), func(k, v []byte) bool {
		cmds = append(cmds, [2][]byte{append([]byte(nil), k...), append([]byte(nil), v...)})
		return true
	}); err != nil {
		return nil, err
	}
	for _, kv := range cmds {
		c, err := decodeFake(kv[1])
		if err != nil || !inRegion(c.Region, child) {
			continue
		}
		if done, err := r.Get([]byte("r/_cres/" + c.ID)); err != nil || done != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, Change{Origin: c.Owner, Owner: c.Owner, Key: string(kv[0]), Value: kv[1]})
	}
	return out, nil
}

func (fakeDomain) Deltas(key string, old, new []byte) []Delta {
	if !strings.HasPrefix(key, "r/customers/") {
		return nil
	}
	var out []Delta
	if old != nil {
		out = append(out, Delta{Region: fakeDomain{}.RecordOwner(old), Metric: "customers", Value: -1})
	}
	if new != nil {
		out = append(out, Delta{Region: fakeDomain{}.RecordOwner(new), Metric: "customers", Value: 1})
	}
	return out
}

func (fakeDomain) ApplyDeltas(tx Txn, ds []Delta) error {
	for _, d := range ds {
		k := []byte("agg/" + d.Region + "/" + d.Metric)
		cur, err := tx.Get(k)
		if err != nil {
			return err
		}
		v, _ := strconv.ParseFloat(string(cur), 64)
		if v += d.Value; v == 0 {
			err = tx.Delete(k)
		} else {
			err = tx.Set(k, []byte(strconv.FormatFloat(v, 'f', -1, 64)))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

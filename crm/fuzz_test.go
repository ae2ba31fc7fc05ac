package crm

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

// Fuzz targets for the decoders of crm: a Command as a raft entry carries
// it (FuzzApply) and the merge patch of an update (FuzzMergePatch). `go
// test` runs the seeds; `make fuzz` runs each target for FUZZTIME.

// checkMergePatch checks mergePatch(stored, patch) against RFC 7386 at one
// level: a stored object and a patch object always merge, into a JSON
// object holding the stored fields the patch does not name, the patch's
// non-null fields and none of the metadata; anything else is refused with
// an error; and applying the patch again changes nothing.
func checkMergePatch(t *testing.T, stored, patch []byte) {
	out, e := mergePatch(stored, patch)
	var cur, p map[string]json.RawMessage
	objects := json.Unmarshal(stored, &cur) == nil && cur != nil && json.Unmarshal(patch, &p) == nil && p != nil
	if !objects {
		if e == nil {
			t.Fatalf("merged %q into %q, not both objects: %s", patch, stored, out)
		}
		if e.Code == "" || e.Message == "" {
			t.Fatalf("an error without a code or a message: %+v", e)
		}
		return
	}
	if e != nil {
		t.Fatalf("merging %q into %q: %v", patch, stored, e)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil || got == nil {
		t.Fatalf("merged %q into %q: %q is not a JSON object (%v)", patch, stored, out, err)
	}
	want := map[string]json.RawMessage{}
	for k, v := range cur {
		want[k] = v
	}
	for k, v := range p {
		if string(v) == "null" {
			delete(want, k)
		} else {
			want[k] = v
		}
	}
	for _, k := range append(slices.Clone(MetaFields), "version") {
		delete(want, k)
	}
	if len(got) != len(want) {
		t.Fatalf("merged %q into %q: %s; want the fields %q", patch, stored, out, slices.Sorted(maps.Keys(want)))
	}
	for k, v := range want {
		if !jsonEqual(got[k], v) {
			t.Fatalf("merged %q into %q: field %q is %s, want %s", patch, stored, k, got[k], v)
		}
	}
	again, e := mergePatch(out, patch)
	if e != nil || !bytes.Equal(again, out) {
		t.Fatalf("the patch %q again: %s, %v; want %s", patch, again, e, out)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// FuzzMergePatch: any stored bytes, any patch.
func FuzzMergePatch(f *testing.F) {
	stored := `{"id":"cus_1","owner":"3207","version":3,"created_at":"2026-01-01T00:00:00Z","name":"a","tags":["x"],"grid":"G1","n":{"a":1}}`
	for _, s := range [][2]string{
		{stored, `{"name":"b"}`},
		{stored, `{"grid":null}`},
		{stored, `{"n":{"a":null,"b":2}}`},
		{stored, `{"tags":[]}`},
		{stored, `{}`},
		{stored, `{"new":1,"name":null,"x":"\u00e9"}`},
		{stored, `{"owner":"32","version":9,"id":"cus_2"}`},
		{stored, `{"name":"a","name":null}`},
		{stored, `{"name":  null }`},
		{`{}`, `{"a":1}`},
		// refused
		{stored, `null`},
		{stored, `[{"name":"b"}]`},
		{stored, `"x"`},
		{stored, `{"name":}`},
		{stored, `{"name":"b"} x`},
		{stored, ``},
		{`[]`, `{"a":1}`},
		{`{"a":`, `{"a":1}`},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, stored, patch []byte) {
		checkMergePatch(t, stored, patch)
	})
}

package chaos

import (
	"reflect"
	"testing"
)

func rec(owner, name string) []byte {
	return []byte(`{"id":"x","owner":"` + owner + `","name":"` + name + `"}`)
}

func TestCompareReplicas_FindsEveryDifference(t *testing.T) {
	a := Dump{Node: "dh1", Keys: map[string][]byte{
		"r/customers/1": rec("320722", "a"), "r/customers/2": rec("320722", "b"), "x/customers/region/320722\x001": {},
		"m/applied": {1}, "r/_canary/320722": []byte("t1"), "f/\x00\x01": []byte("feed"), "m/sys/token_key": []byte("k"),
	}}
	b := Dump{Node: "dh2", Keys: map[string][]byte{
		"r/customers/1": rec("320722", "a"), "r/customers/2": rec("320722", "B"), "r/customers/3": rec("320722", "c"),
		"m/applied": {2}, "r/_canary/320722": []byte("t2"), "m/sys/token_key": []byte("k"),
	}}
	got := CompareReplicas([]Dump{a, b}, Replicated)
	want := []struct{ key, what string }{
		{"r/customers/2", "differs"},
		{"x/customers/region/320722\x001", "missing"},
		{"r/customers/3", "extra"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d divergences %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].Key != w.key || got[i].What != w.what || got[i].Ref != "dh1" || got[i].Node != "dh2" {
			t.Errorf("divergence %d: %+v, want %s %s", i, got[i], w.key, w.what)
		}
	}
	if d := CompareReplicas([]Dump{a, a}, Replicated); len(d) != 0 {
		t.Errorf("a replica differs from itself: %+v", d)
	}
}

func TestCompareReplicas_SystemValuesCount(t *testing.T) {
	a := Dump{Node: "dh1", Keys: map[string][]byte{"m/sys/token_key": []byte("k1")}}
	b := Dump{Node: "dh2", Keys: map[string][]byte{"m/sys/token_key": []byte("k2")}}
	if d := CompareReplicas([]Dump{a, b}, Replicated); len(d) != 1 || d[0].What != "differs" {
		t.Fatalf("replicated system values must be compared: %+v", d)
	}
}

func TestCompareRollup_OwnedRecordsOnly(t *testing.T) {
	owner := Dump{Node: "dh1", Keys: map[string][]byte{
		"r/customers/1": rec("320722", "a"), "r/customers/2": rec("320722", "b"),
		"x/customers/region/320722\x001": {}, // indexes are laid out per tier: not compared
	}}
	city := Dump{Node: "c3207", Keys: map[string][]byte{
		"r/customers/1": rec("320722", "a"),
		"r/customers/9": rec("320723", "other county"), // another region's: ignored
		"r/customers/7": rec("3207", "the city's own"),
		"r/customers/8": rec("320722", "never written at the county"),
	}}
	got := CompareRollup(owner, city, "320722")
	var what []string
	for _, d := range got {
		what = append(what, d.Key+" "+d.What)
	}
	want := []string{"r/customers/2 missing", "r/customers/8 extra"}
	if !reflect.DeepEqual(what, want) {
		t.Fatalf("got %v, want %v", what, want)
	}
}

package replication

import (
	"encoding/json"
	"testing"
)

// TestAppendChange: the hand-written encoding equals json.Marshal's.
func TestAppendChange(t *testing.T) {
	for _, c := range []Change{
		{Seq: 1, Origin: "320722", OSeq: 7, Key: "r/customers/cus_01", Value: json.RawMessage(`{"a":1,"b":"东海"}`), Time: 1764000000000, Appended: 1764000000001},
		{Seq: 2, Origin: "32", Key: "r/_canary/32", Time: 5},
		{Seq: 4, Origin: "3207", OSeq: 4, Key: "r/customers/cus_02", Owner: "320722", Value: json.RawMessage(`{"id":"cus_02"}`), Time: 9},
		{Seq: 3, Origin: "3207", Key: "r/x/\"<odd>&\n", Value: json.RawMessage(`null`)},
		{Seq: 5, Origin: "320722", OSeq: 5, Key: "r/_audit/320722/0000000000000001", Owner: "320722", Ref: true, Time: 9, Appended: 9},
	} {
		want, _ := json.Marshal(c)
		if got := appendChange(nil, &c); string(got) != string(want) {
			t.Errorf("appendChange = %s; json.Marshal = %s", got, want)
		}
		var back Change
		if err := json.Unmarshal(appendChange(nil, &c), &back); err != nil || back.Key != c.Key || back.Seq != c.Seq {
			t.Errorf("round trip of %+v: %+v %v", c, back, err)
		}
	}
}

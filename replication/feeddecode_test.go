package replication

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"testing"
)

// TestDecodeChange_SameAsEncodingJSON: every entry appendChange writes
// decodes to what encoding/json makes of it, by the fast path when its
// strings need no escapes and by encoding/json otherwise; values whose
// own text looks like the entry's tail do not confuse it.
func TestDecodeChange_SameAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	strs := []string{"", "32", "320722", "r/customers/cus_01", "r/audit/0000001", `a"b`, `back\slash`, "客户", "x<y>&z", "tab\t"}
	values := []string{"", `{}`, `{"name":"张三","t":1}`, `{"a":",\"t\":5}"}`, `{"x":",\"a\":7,\"r\":true"}`, `{"v":{"v":[1,2,{"t":-3}]}}`, `null`}
	fast := 0
	for i := 0; i < 20000; i++ {
		c := Change{
			Seq: r.Uint64() >> uint(r.Intn(64)), Origin: strs[r.Intn(len(strs))], OSeq: r.Uint64() >> uint(r.Intn(64)),
			Key: strs[r.Intn(len(strs))], Owner: strs[r.Intn(len(strs))], Time: r.Int63() >> uint(r.Intn(63)),
		}
		if r.Intn(4) == 0 {
			c.Time = -c.Time
		}
		if r.Intn(2) == 0 {
			c.Appended = r.Int63()>>uint(r.Intn(63)) - 1<<20
		}
		if v := values[r.Intn(len(values))]; v != "" {
			c.Value = json.RawMessage(v)
		}
		if r.Intn(5) == 0 {
			c.Value, c.Ref = nil, true
		}
		b := appendChange(nil, &c)
		var want Change
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		var got Change
		if decodeChange(b, &got) {
			fast++
			got.own()
		} else if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s\n got %+v\nwant %+v", b, got, want)
		}
	}
	if fast < 3000 {
		t.Fatalf("only %d of 20,000 entries took the fast path", fast)
	}
	for _, bad := range []string{``, `{}`, `{"s":1}`, `{"s":1,"o":"a","os":2,"k":"k","t":}`, `{"s":1,"o":"a","os":2,"k":"k","v":,"t":3}`,
		`{"s":1,"o":"a","os":2,"k":"k","t":3`, `{"s":1,"o":"a","os":2,"k":"k","w":"","t":3}`, `{"s":1,"o":"a","os":2,"k":"k","t":3,"a":0}`,
		`{"s":1,"o":"a","os":2,"k":"k"x,"t":3}`, `{"s":-1,"o":"a","os":2,"k":"k","t":3}`, `{"s":1,"o":"a,"os":2,"k":"k","t":3}`} {
		var c Change
		if decodeChange([]byte(bad), &c) {
			t.Errorf("decodeChange(%s) took it: %+v", bad, c)
		}
	}
}

// BenchmarkReadFeedDecode: a feed entry of a ~300-byte customer, decoded
// by the fast path and by encoding/json.
func BenchmarkReadFeedDecode(b *testing.B) {
	v := json.RawMessage(fmt.Sprintf(`{"id":"cus_01JABCDEF","owner":"320722","version":1,"account_no":"3207220000123","name":"连云港市灌云县某某有限公司","category":"general_commercial","voltage_kv":10,"capacity_kva":315,"status":"active","address":"江苏省连云港市灌云县伊山镇人民路%d号","created_at":"2026-12-07T01:00:00Z"}`, 12))
	e := appendChange(nil, &Change{Seq: 123456, Origin: "320722", OSeq: 123000, Key: "r/customers/cus_01JABCDEF", Owner: "320722", Value: v, Time: 1796000000000, Appended: 1796000000100})
	b.Run("fast", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var c Change
			if !decodeChange(e, &c) {
				b.Fatal("slow path")
			}
			c.own()
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var c Change
			if err := json.Unmarshal(e, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

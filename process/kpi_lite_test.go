package process

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"gridcrm/crm"
)

// liteSame checks that every field of lite, decoded from raw, equals the
// field of full (decoded from the same raw) whose JSON name it carries.
func liteSame(t *testing.T, lite, full reflect.Value, path string) {
	t.Helper()
	byName := map[string]reflect.Value{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.Anonymous {
				walk(v.Field(i))
				continue
			}
			byName[strings.Split(f.Tag.Get("json"), ",")[0]] = v.Field(i)
		}
	}
	walk(full)
	for i := 0; i < lite.NumField(); i++ {
		f := lite.Type().Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		fv, ok := byName[name]
		if !ok {
			t.Fatalf("%s.%s: no field %q in %s", path, f.Name, name, full.Type())
		}
		lv := lite.Field(i)
		if lv.Kind() == reflect.Slice && lv.Type().Elem().Kind() == reflect.Struct {
			if lv.Len() != fv.Len() {
				t.Fatalf("%s.%s: %d entries, want %d", path, name, lv.Len(), fv.Len())
			}
			for j := 0; j < lv.Len(); j++ {
				liteSame(t, lv.Index(j), fv.Index(j), path+"."+name)
			}
			continue
		}
		if lv.IsZero() {
			t.Fatalf("%s.%s: zero in the test record (set it)", path, name)
		}
		if !reflect.DeepEqual(lv.Interface(), fv.Interface()) {
			t.Fatalf("%s.%s = %v, want %v", path, name, lv.Interface(), fv.Interface())
		}
	}
}

// TestSuperviseLiteRecords: the small structs Supervise and
// WorkOrderKPIsOf decode read what Project and WorkOrder read.
func TestSuperviseLiteRecords(t *testing.T) {
	tp := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
	p := Project{Meta: crm.Meta{ID: "prj1", Owner: "320102", Version: 3}, Kind: "new_connection", CustomerID: "cus1", ManagerID: "stf1",
		Title: "t", Class: "hv_single", RuleSet: "rs1", Status: ProjectOpen, ClockError: "no calendar",
		Stages: []Stage{
			{Name: "a", Responsible: "r1", Deadline: tp("2026-01-02T03:04:05Z"), DoneAt: tp("2026-01-01T00:00:00Z"), Pauses: []Pause{{To: tp("2025-12-30T00:00:00Z")}}},
			{Name: "b", Responsible: "r2", Deadline: tp("2026-02-02T03:04:05Z"), DoneAt: tp("2026-02-01T00:00:00Z"), Pauses: []Pause{{To: tp("2026-01-30T00:00:00Z")}}},
		}}
	raw, _ := json.Marshal(p)
	var full Project
	var lite superProject
	if json.Unmarshal(raw, &full) != nil || json.Unmarshal(raw, &lite) != nil {
		t.Fatal("decode")
	}
	liteSame(t, reflect.ValueOf(lite), reflect.ValueOf(full), "project")
	if lite.current() != full.Current() {
		t.Fatalf("current %d, want %d", lite.current(), full.Current())
	}
	lite.Stages[1].DoneAt, full.Stages[1].DoneAt = nil, nil
	if lite.current() != full.Current() || lite.current() != 1 {
		t.Fatalf("current %d, want %d", lite.current(), full.Current())
	}

	w := WorkOrder{Meta: crm.Meta{ID: "wko1", Owner: "320102"}, Channel: "95598", Kind: "fault_repair", CustomerID: "cus1",
		ReceivedAt: *tp("2026-01-01T00:00:00Z"), AssigneeID: "stf2", State: "done", RuleSet: "rs1",
		ContactDue: tp("2026-01-01T01:00:00Z"), ArrivalDue: tp("2026-01-01T02:00:00Z"), RestoreDue: tp("2026-01-01T03:00:00Z"),
		AnswerDue: tp("2026-01-01T04:00:00Z"), AcceptedAt: tp("2026-01-01T00:30:00Z"), ArrivedAt: tp("2026-01-01T01:30:00Z"),
		DoneAt: tp("2026-01-01T02:30:00Z"), Satisfaction: "satisfied", SendBacks: 2,
		History: []Transition{{From: "a", To: "b", At: *tp("2026-01-01T00:30:00Z")}}}
	raw, _ = json.Marshal(w)
	full2, err := woJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	lite2, err := woLiteJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	liteSame(t, reflect.ValueOf(*lite2), reflect.ValueOf(*full2), "work order")
	for _, st := range []string{"done", WOArchived} {
		l := *lite2 // the cache's value is not to be changed
		l.State, full2.State = st, st
		if l.Open() != full2.Open() {
			t.Fatalf("open %v, want %v in %s", l.Open(), full2.Open(), st)
		}
	}

	// The same bytes answer the remembered value; changed bytes, their own.
	again, _ := woLiteJSON(raw)
	if again != lite2 {
		t.Fatal("the same bytes were decoded again")
	}
	w.State, w.SendBacks = WOArchived, 3
	raw, _ = json.Marshal(w)
	changed, err := woLiteJSON(raw)
	if err != nil || changed == lite2 || changed.State != WOArchived || changed.SendBacks != 3 || lite2.State != "done" {
		t.Fatalf("changed record decoded as %+v (%v)", changed, err)
	}
	if _, err := woLiteJSON([]byte(`{"state":`)); err == nil {
		t.Fatal("bad bytes decoded")
	}
}

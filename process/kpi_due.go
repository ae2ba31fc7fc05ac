package process

import (
	"strings"
	"time"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// DueIndex indexes the open items by deadline (x/<coll>/_due/<owner>/<due>/…\x00<id>,
// kept by Apply and ApplyReplica with the other indexes), so that what
// is overdue now, or falls due soon, is read from the entries up to a
// time, not from every open record:
//
//	projects     <owner>/<due>/<manager>
//	             an open project's current stage, on the clock (not
//	             paused); <due> empty when its clock stopped (clock_error)
//	work_orders  <owner>/<due>/<step>/<o|c>/<received day>/<assignee>
//	             each limit not met (contact, arrival, restore, answer),
//	             of an open (o) or archived (c) order
//
// <due> is the deadline in UTC with nanoseconds (dueKey): the entries of
// an owner sort by deadline.
const DueIndex = "_due"

// dueKey is t as DueIndex sorts it: fixed width, UTC.
func dueKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// projectDue answers p's DueIndex entry, if any.
func projectDue(p *Project) []crm.Index {
	if p.Status != ProjectOpen {
		return nil
	}
	i := p.Current()
	if i < 0 {
		return nil
	}
	st := p.Stages[i]
	if n := len(st.Pauses); n > 0 && st.Pauses[n-1].To == nil {
		return nil // off the clock
	}
	due := ""
	switch {
	case st.Deadline != nil:
		due = dueKey(*st.Deadline)
	case p.ClockError == "":
		return nil
	}
	return []crm.Index{{Field: DueIndex, Value: p.Owner + "/" + due + "/" + p.ManagerID}}
}

// workOrderDues answers w's DueIndex entries.
func workOrderDues(w *WorkOrder) []crm.Index {
	var out []crm.Index
	open := "c"
	if w.Open() {
		open = "o"
	}
	for _, s := range woSteps(w.ContactDue, w.ArrivalDue, w.RestoreDue, w.AnswerDue, w.AcceptedAt, w.ArrivedAt, w.DoneAt) {
		if s.due != nil && !s.met {
			out = append(out, crm.Index{Field: DueIndex, Value: w.Owner + "/" + dueKey(*s.due) + "/" + s.step + "/" + open + "/" + string(dayOf(w.ReceivedAt)) + "/" + w.AssigneeID})
		}
	}
	return out
}

type woStep struct {
	step string
	due  *time.Time
	met  bool
}

// woSteps are an order's limits: contact, arrival, restore, answer.
func woSteps(contact, arrival, restore, answer, accepted, arrived, done *time.Time) [4]woStep {
	return [4]woStep{
		{"contact", contact, accepted != nil},
		{"arrival", arrival, arrived != nil},
		{"restore", restore, done != nil},
		{"answer", answer, done != nil},
	}
}

// dueEntry is one DueIndex entry as read.
type dueEntry struct {
	owner, due, id string
	rest           []string // the fields after <due>
}

// eachDue calls fn with the DueIndex entries of coll owned by region
// (subtree: or below) whose deadline is not after upto(owner) (dueKey;
// "" for every entry of that owner), owner by owner, each owner's by
// deadline.
func eachDue(r crm.Reader, coll, region string, subtree bool, upto func(owner string) string, fn func(e dueEntry) error) error {
	fields := 2 // <due>/<manager>
	if coll == "work_orders" {
		fields = 5 // <due>/<step>/<o|c>/<day>/<assignee>
	}
	bounds := func(owner string) (string, string) {
		if u := upto(owner); u != "" {
			return "", u + "0" // an entry due at u is <u>/…; '/' sorts before '0'
		}
		return "", ""
	}
	return eachOwnerEntry(r, keyspace.IndexField(coll, DueIndex), region, subtree, bounds, func(owner, value, id string) error {
		parts := strings.SplitN(value, "/", fields)
		if len(parts) < fields {
			return nil
		}
		return fn(dueEntry{owner: owner, due: parts[0], id: id, rest: parts[1:]})
	})
}

// until is an upto of eachDue: key for every owner.
func until(key string) func(string) string { return func(string) string { return key } }

// eachOwnerEntry calls fn with the entries of an index whose values are
// <owner>/<rest> (prefix: the index's IndexField), of region (subtree: and
// of every owner below it, crm.EachOwner), whose rest is in the owner's
// [lo, hi) of bounds (hi "": no end), each owner's by rest.
func eachOwnerEntry(r crm.Reader, prefix, region string, subtree bool, bounds func(owner string) (lo, hi string), fn func(owner, rest, id string) error) error {
	owner := func(owner string) error {
		own := prefix + owner + "/"
		lo, hi := bounds(owner)
		upper := keyspace.End(own)
		if hi != "" {
			upper = own + hi
		}
		var ferr error
		if err := r.Iterate([]byte(own+lo), []byte(upper), func(k, _ []byte) bool {
			if value, id, ok := strings.Cut(string(k[len(own):]), "\x00"); ok {
				ferr = fn(owner, value, id)
			}
			return ferr == nil
		}); err != nil {
			return err
		}
		return ferr
	}
	if !subtree {
		return owner(region)
	}
	return crm.EachOwner(r, prefix, region, owner)
}

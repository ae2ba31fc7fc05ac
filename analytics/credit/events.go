package credit

import (
	"fmt"
	"math"
)

// ChurnEvents are what a business customer's records say about its
// leaving beyond the bills the churn model reads: complaints (95598 work
// orders of kind complaint), a capacity reduction (减容) or a suspension
// (暂停) of supply (capacity_changes records), and a supply contract about
// to end (the customer's contract_end).
type ChurnEvents struct {
	Complaints         int  // complaint work orders received in the rule set's ComplaintMonths to the as-of month
	CapacityReduced    bool // a capacity reduction (减容) in force or begun within EventMonths
	Suspended          bool // supply suspended (暂停), in part or whole, in force or begun within EventMonths
	ContractMonthsLeft int  // months from the as-of month to the contract's end; < 0: unknown or ended
}

// NoEvents is a customer with nothing recorded beyond its bills.
var NoEvents = ChurnEvents{ContractMonthsLeft: -1}

// ChurnEventRules are the odds multipliers of the events, applied on the
// churn model's risk: part of the versioned rule set (churn_events in
// rules_v2026-12.2.json), not fitted. Why not fitted: the shared credit
// file holds bills and payments only, so no labelled outcome says how much
// a complaint moves the odds of closing; and the demo generator
// (crm/sample) cannot stand in for one: whatever rates of complaints,
// suspensions or contract ends it gave its leaving customers would be set
// by hand as much as these multipliers, so a fit on its data would only
// give them back (its one event of its own, a capacity reduction, happens
// to leaving customers only: a fitted multiplier would be infinite). They
// are set in the business's order of concern — a suspension or a capacity
// reduction is a customer already leaving in part; an ending contract is
// the moment it can leave; a complaint is dissatisfaction — and kept
// moderate, so that an event ranks a customer above otherwise equal ones
// without swamping the model. Every multiplier is ≥ 1 (Validate refuses
// less), so each event, one more complaint or a contract nearer its end
// never lowers a risk (TestChurnEventRules_Monotone). On the shared data
// no customer has an event: the model's churn AUC there is unchanged.
type ChurnEventRules struct {
	About                  string  `json:"about"`
	ComplaintMonths        int     `json:"complaint_months"` // the window complaints are counted in
	ComplaintOdds          float64 `json:"complaint_odds"`   // per complaint,
	MaxComplaints          int     `json:"max_complaints"`   // up to this many
	EventMonths            int     `json:"event_months"`     // a reduction or suspension begun this many months to as-of counts, or still in force
	CapacityReducedOdds    float64 `json:"capacity_reduced_odds"`
	SuspendedOdds          float64 `json:"suspended_odds"`
	ContractExpiringOdds   float64 `json:"contract_expiring_odds"`   // the contract ends within ContractExpiringMonths
	ContractExpiringMonths int     `json:"contract_expiring_months"` // of the as-of month (0: it ends that month)
}

// DefaultChurnEventRules are the multipliers of rules v2026-12.2 (the
// table of churn-events/v1, unchanged, now in the rule set).
func DefaultChurnEventRules() ChurnEventRules {
	return ChurnEventRules{
		About:           "Odds multipliers of the churn risk for what a business customer's records say beyond its bills; set by hand in the business's order of concern, not fitted (no labelled outcome holds these events).",
		ComplaintMonths: 6, ComplaintOdds: 1.5, MaxComplaints: 3, EventMonths: 12,
		CapacityReducedOdds: 2.5, SuspendedOdds: 3.0, ContractExpiringOdds: 2.0, ContractExpiringMonths: 6,
	}
}

func (e ChurnEventRules) validate() error {
	for _, o := range []struct {
		name string
		v    float64
	}{{"complaint_odds", e.ComplaintOdds}, {"capacity_reduced_odds", e.CapacityReducedOdds}, {"suspended_odds", e.SuspendedOdds}, {"contract_expiring_odds", e.ContractExpiringOdds}} {
		if !(o.v >= 1) || math.IsInf(o.v, 0) {
			return fmt.Errorf("churn_events.%s = %v: an event's odds multiplier must be ≥ 1 (an event never lowers the risk)", o.name, o.v)
		}
	}
	if e.ComplaintMonths < 1 || e.EventMonths < 1 || e.MaxComplaints < 0 || e.ContractExpiringMonths < 0 {
		return fmt.Errorf("churn_events %+v: complaint_months and event_months ≥ 1, max_complaints and contract_expiring_months ≥ 0", e)
	}
	return nil
}

// Adjust answers the churn risk with the events' odds multipliers applied,
// and a reason per event that moved it (in the order: suspension,
// capacity reduction, contract, complaints). A risk that is NaN (no churn
// model: residential) stays NaN.
func (e ChurnEventRules) Adjust(risk float64, ev ChurnEvents) (float64, []string) {
	if math.IsNaN(risk) {
		return risk, nil
	}
	odds := 1.0
	var reasons []string
	if ev.Suspended {
		odds *= e.SuspendedOdds
		reasons = append(reasons, "churn:suspended")
	}
	if ev.CapacityReduced {
		odds *= e.CapacityReducedOdds
		reasons = append(reasons, "churn:capacity_reduced")
	}
	if ev.ContractMonthsLeft >= 0 && ev.ContractMonthsLeft <= e.ContractExpiringMonths {
		odds *= e.ContractExpiringOdds
		reasons = append(reasons, fmt.Sprintf("churn:contract_ends_in_%dm", ev.ContractMonthsLeft))
	}
	if n := min(ev.Complaints, e.MaxComplaints); n > 0 {
		odds *= math.Pow(e.ComplaintOdds, float64(n))
		reasons = append(reasons, fmt.Sprintf("churn:complaints_%dm=%d", e.ComplaintMonths, ev.Complaints))
	}
	if odds == 1 {
		return risk, nil
	}
	risk = math.Min(math.Max(risk, 1e-9), 1-1e-9)
	o := risk / (1 - risk) * odds
	return o / (1 + o), reasons
}

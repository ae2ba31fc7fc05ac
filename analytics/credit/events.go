package credit

import (
	"fmt"
	"math"
)

// ChurnEvents are what a business customer's records say about its
// leaving beyond the bills the churn model reads: complaints (95598 work
// orders of kind complaint), a capacity reduction (减容) or a suspension
// (暂停) of supply, and a supply contract about to expire.
type ChurnEvents struct {
	Complaints         int  // complaint work orders received in the ComplaintMonths months to the as-of month
	CapacityReduced    bool // a capacity reduction (减容) in force or applied for
	Suspended          bool // supply suspended (暂停), in part or whole
	ContractMonthsLeft int  // months from the as-of month to the contract's end; < 0: unknown
}

// NoEvents is a customer with nothing recorded beyond its bills.
var NoEvents = ChurnEvents{ContractMonthsLeft: -1}

// ChurnEventsVersion names the table below in what the risk is stored
// with.
const ChurnEventsVersion = "churn-events/v1"

// The odds multipliers of the events, applied on the model's churn risk.
// They are not fitted: the shared credit data (its README) holds bills
// and payments only, so no labelled outcome says how much a complaint
// moves the odds of closing. They are set from the business's own order
// of concern (a suspension or a capacity reduction is a customer already
// leaving in part; an expiring contract is the moment it can leave; a
// complaint is dissatisfaction) and kept moderate, so that an event ranks
// a customer above otherwise equal ones without swamping the model. On
// the shared data no customer has an event, so the model's churn AUC there
// is unchanged (TestAdjustChurn_NoEventsIsIdentity).
const (
	ComplaintMonths        = 6   // the window complaints are counted in
	ComplaintOdds          = 1.5 // per complaint,
	MaxComplaints          = 3   // up to this many
	CapacityReducedOdds    = 2.5
	SuspendedOdds          = 3.0
	ContractExpiringOdds   = 2.0 // the contract ends within ContractExpiringMonths
	ContractExpiringMonths = 6
)

// AdjustChurn answers the churn risk with the events' odds multipliers
// applied, and a reason per event that moved it (the risk's reasons, in
// the order: suspension, capacity reduction, contract, complaints). A
// risk that is NaN (no churn model: residential) stays NaN.
func AdjustChurn(risk float64, ev ChurnEvents) (float64, []string) {
	if math.IsNaN(risk) {
		return risk, nil
	}
	odds := 1.0
	var reasons []string
	if ev.Suspended {
		odds *= SuspendedOdds
		reasons = append(reasons, "churn:suspended")
	}
	if ev.CapacityReduced {
		odds *= CapacityReducedOdds
		reasons = append(reasons, "churn:capacity_reduced")
	}
	if ev.ContractMonthsLeft >= 0 && ev.ContractMonthsLeft <= ContractExpiringMonths {
		odds *= ContractExpiringOdds
		reasons = append(reasons, fmt.Sprintf("churn:contract_ends_in_%dm", ev.ContractMonthsLeft))
	}
	if n := min(ev.Complaints, MaxComplaints); n > 0 {
		odds *= math.Pow(ComplaintOdds, float64(n))
		reasons = append(reasons, fmt.Sprintf("churn:complaints_%dm=%d", ComplaintMonths, ev.Complaints))
	}
	if odds == 1 {
		return risk, nil
	}
	risk = math.Min(math.Max(risk, 1e-9), 1-1e-9)
	o := risk / (1 - risk) * odds
	return o / (1 + o), reasons
}

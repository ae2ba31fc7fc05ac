package credit

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func shippedEvents(t *testing.T) ChurnEventRules {
	t.Helper()
	rs, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	return rs.ChurnEvents
}

// TestAdjustChurn_NoEventsIsIdentity: without events the risk, and so the
// churn AUC of the shared data (which records none), is the model's.
func TestAdjustChurn_NoEventsIsIdentity(t *testing.T) {
	ce := shippedEvents(t)
	rng := rand.New(rand.NewPCG(1, 2))
	risk, closed := make([]float64, 500), make([]bool, 500)
	adj := make([]float64, 500)
	for i := range risk {
		risk[i] = rng.Float64()
		closed[i] = rng.Float64() < risk[i]
		var r []string
		adj[i], r = ce.Adjust(risk[i], NoEvents)
		if adj[i] != risk[i] || r != nil {
			t.Fatalf("no events moved %v to %v (%v)", risk[i], adj[i], r)
		}
	}
	if AUC(risk, closed) != AUC(adj, closed) {
		t.Error("AUC moved")
	}
	if v, r := ce.Adjust(math.NaN(), ChurnEvents{Suspended: true}); !math.IsNaN(v) || r != nil {
		t.Errorf("residential (NaN) became %v %v", v, r)
	}
}

// TestAdjustChurn_EventsRaiseRisk: every event raises the risk by its odds
// multiplier of the shipped rule set, complaints up to MaxComplaints, and
// each one gives its reason.
func TestAdjustChurn_EventsRaiseRisk(t *testing.T) {
	ce := shippedEvents(t)
	if ce != DefaultChurnEventRules() {
		t.Fatalf("shipped churn_events %+v differ from DefaultChurnEventRules %+v", ce, DefaultChurnEventRules())
	}
	odds := func(p float64) float64 { return p / (1 - p) }
	c := ce.ComplaintOdds
	for _, tc := range []struct {
		ev      ChurnEvents
		mult    float64
		reasons []string
	}{
		{ChurnEvents{Suspended: true, ContractMonthsLeft: -1}, ce.SuspendedOdds, []string{"churn:suspended"}},
		{ChurnEvents{CapacityReduced: true, ContractMonthsLeft: -1}, ce.CapacityReducedOdds, []string{"churn:capacity_reduced"}},
		{ChurnEvents{ContractMonthsLeft: 2}, ce.ContractExpiringOdds, []string{"churn:contract_ends_in_2m"}},
		{ChurnEvents{ContractMonthsLeft: 0}, ce.ContractExpiringOdds, []string{"churn:contract_ends_in_0m"}},
		{ChurnEvents{ContractMonthsLeft: ce.ContractExpiringMonths + 1}, 1, nil},
		{ChurnEvents{Complaints: 1, ContractMonthsLeft: -1}, c, []string{"churn:complaints_6m=1"}},
		{ChurnEvents{Complaints: 5, ContractMonthsLeft: -1}, c * c * c, []string{"churn:complaints_6m=5"}},
		{ChurnEvents{Suspended: true, CapacityReduced: true, Complaints: 2, ContractMonthsLeft: 6}, ce.SuspendedOdds * ce.CapacityReducedOdds * ce.ContractExpiringOdds * c * c,
			[]string{"churn:suspended", "churn:capacity_reduced", "churn:contract_ends_in_6m", "churn:complaints_6m=2"}},
	} {
		for _, p := range []float64{0.01, 0.1, 0.5, 0.9} {
			got, r := ce.Adjust(p, tc.ev)
			if math.Abs(odds(got)/odds(p)-tc.mult) > 1e-9 || !slices.Equal(r, tc.reasons) || got < p {
				t.Errorf("%+v on %v: %v (odds ×%.3f, want ×%.3f) %v", tc.ev, p, got, odds(got)/odds(p), tc.mult, r)
			}
		}
	}
	if got, _ := ce.Adjust(1, ChurnEvents{Suspended: true, ContractMonthsLeft: -1}); !(got <= 1) || math.IsNaN(got) {
		t.Errorf("risk 1 suspended: %v", got)
	}
}

// TestChurnEventRules_Monotone is the property test of the shipped
// multipliers: on seeded random risks and events, adding any one input —
// a suspension, a capacity reduction, one more complaint, a contract end
// that becomes known or comes nearer — never lowers the churn risk. And a
// rule set whose multiplier would lower it is refused, naming the field.
func TestChurnEventRules_Monotone(t *testing.T) {
	ce := shippedEvents(t)
	rng := rand.New(rand.NewPCG(15, 3))
	checked := 0
	for range 20000 {
		p := rng.Float64()
		ev := ChurnEvents{Complaints: rng.IntN(6), CapacityReduced: rng.IntN(3) == 0, Suspended: rng.IntN(3) == 0, ContractMonthsLeft: rng.IntN(30) - 3}
		base, _ := ce.Adjust(p, ev)
		more := ev
		switch k := rng.IntN(4); k {
		case 0:
			more.Suspended = true
		case 1:
			more.CapacityReduced = true
		case 2:
			more.Complaints++
		case 3: // the contract's end known, or nearer by 1..12 months
			if more.ContractMonthsLeft < 0 {
				more.ContractMonthsLeft = rng.IntN(24)
			} else {
				more.ContractMonthsLeft = max(0, more.ContractMonthsLeft-1-rng.IntN(12))
			}
		}
		got, _ := ce.Adjust(p, more)
		if got < base {
			t.Fatalf("risk %v: %+v → %v, %+v → %v (lower)", p, ev, base, more, got)
		}
		checked++
	}
	rs, _ := Shipped()
	for _, field := range []string{"complaint_odds", "capacity_reduced_odds", "suspended_odds", "contract_expiring_odds"} {
		bad := *rs
		switch field {
		case "complaint_odds":
			bad.ChurnEvents.ComplaintOdds = 0.8
		case "capacity_reduced_odds":
			bad.ChurnEvents.CapacityReducedOdds = 0.5
		case "suspended_odds":
			bad.ChurnEvents.SuspendedOdds = math.NaN()
		case "contract_expiring_odds":
			bad.ChurnEvents.ContractExpiringOdds = 0.99
		}
		if err := bad.Validate(); !errors.Is(err, ErrRuleSet) || !strings.Contains(err.Error(), "churn_events."+field) {
			t.Errorf("%s below 1: %v", field, err)
		}
	}
	bad := *rs
	bad.ChurnEvents.EventMonths = 0
	if err := bad.Validate(); !errors.Is(err, ErrRuleSet) || !strings.Contains(err.Error(), "event_months") {
		t.Errorf("event_months 0: %v", err)
	}
	t.Logf("%d cases", checked)
}

package credit

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAdjustChurn_NoEventsIsIdentity: without events the risk, and so the
// churn AUC of the shared data (which records none), is the model's.
func TestAdjustChurn_NoEventsIsIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	risk, closed := make([]float64, 500), make([]bool, 500)
	adj := make([]float64, 500)
	for i := range risk {
		risk[i] = rng.Float64()
		closed[i] = rng.Float64() < risk[i]
		var r []string
		adj[i], r = AdjustChurn(risk[i], NoEvents)
		if adj[i] != risk[i] || r != nil {
			t.Fatalf("no events moved %v to %v (%v)", risk[i], adj[i], r)
		}
	}
	if AUC(risk, closed) != AUC(adj, closed) {
		t.Error("AUC moved")
	}
	if v, r := AdjustChurn(math.NaN(), ChurnEvents{Suspended: true}); !math.IsNaN(v) || r != nil {
		t.Errorf("residential (NaN) became %v %v", v, r)
	}
}

// TestAdjustChurn_EventsRaiseRisk: every event raises the risk by its odds
// multiplier, complaints up to MaxComplaints, an event never lowers a
// risk, and each one gives its reason.
func TestAdjustChurn_EventsRaiseRisk(t *testing.T) {
	odds := func(p float64) float64 { return p / (1 - p) }
	for _, tc := range []struct {
		ev      ChurnEvents
		mult    float64
		reasons []string
	}{
		{ChurnEvents{Suspended: true, ContractMonthsLeft: -1}, SuspendedOdds, []string{"churn:suspended"}},
		{ChurnEvents{CapacityReduced: true, ContractMonthsLeft: -1}, CapacityReducedOdds, []string{"churn:capacity_reduced"}},
		{ChurnEvents{ContractMonthsLeft: 2}, ContractExpiringOdds, []string{"churn:contract_ends_in_2m"}},
		{ChurnEvents{ContractMonthsLeft: 0}, ContractExpiringOdds, []string{"churn:contract_ends_in_0m"}},
		{ChurnEvents{ContractMonthsLeft: 7}, 1, nil},
		{ChurnEvents{Complaints: 1, ContractMonthsLeft: -1}, 1.5, []string{"churn:complaints_6m=1"}},
		{ChurnEvents{Complaints: 5, ContractMonthsLeft: -1}, 1.5 * 1.5 * 1.5, []string{"churn:complaints_6m=5"}},
		{ChurnEvents{Suspended: true, CapacityReduced: true, Complaints: 2, ContractMonthsLeft: 6}, SuspendedOdds * CapacityReducedOdds * ContractExpiringOdds * 2.25,
			[]string{"churn:suspended", "churn:capacity_reduced", "churn:contract_ends_in_6m", "churn:complaints_6m=2"}},
	} {
		for _, p := range []float64{0.01, 0.1, 0.5, 0.9} {
			got, r := AdjustChurn(p, tc.ev)
			if math.Abs(odds(got)/odds(p)-tc.mult) > 1e-9 || !slices.Equal(r, tc.reasons) || got < p {
				t.Errorf("%+v on %v: %v (odds ×%.3f, want ×%.3f) %v", tc.ev, p, got, odds(got)/odds(p), tc.mult, r)
			}
		}
	}
	prev := 0.0
	for n := 0; n <= 5; n++ {
		got, _ := AdjustChurn(0.2, ChurnEvents{Complaints: n, ContractMonthsLeft: -1})
		if got < prev {
			t.Errorf("%d complaints: %v < %v", n, got, prev)
		}
		prev = got
	}
	if got, _ := AdjustChurn(1, ChurnEvents{Suspended: true, ContractMonthsLeft: -1}); !(got <= 1) || math.IsNaN(got) {
		t.Errorf("risk 1 suspended: %v", got)
	}
}

package crm

import "testing"

// TestCardPeriods_DecodedAsWritten: a card's months decode to the periods
// written, from the table or not (outside 2000–2099, a month 00 or 13, not
// a period at all), and those from the table allocate nothing.
func TestCardPeriods_DecodedAsWritten(t *testing.T) {
	periods := []string{"2000-01", "2026-11", "2099-12", "1999-12", "2100-01", "2026-00", "2026-13", "2026-1a", "26-11", "2026/11", ""}
	c := card{HasCustomer: true, AccountNo: "1", Name: "n", Region: "320722", Category: "commercial"}
	for _, p := range periods {
		c.Months = append(c.Months, cardMonth{Period: p, KWh: 1, Bills: 1})
	}
	var got card
	if err := decodeCard(c.encode(), &got); err != nil {
		t.Fatal(err)
	}
	for i, p := range periods {
		if got.Months[i].Period != p {
			t.Errorf("month %d: %q decoded as %q", i, p, got.Months[i].Period)
		}
	}
	b := []byte("2026-11")
	if n := testing.AllocsPerRun(100, func() { _, _ = internedPeriod(b) }); n != 0 {
		t.Errorf("a period in the table allocated %v times", n)
	}
}

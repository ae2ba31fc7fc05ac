package crm

import (
	"math"
	"time"

	"gridcrm/crm/workday"
)

// The console's overview cards that depend on the clock — arrears by age,
// project stages overdue now, outages this month — are read from counters
// kept on apply (aggregate.go; the projects' and outages' in package
// process, which reads them: ClockFiguresOf) and the time of the read,
// never from the records:
//
//	arrears.<YYYY-MM>, arrears_bills.<YYYY-MM>   outstanding amount and bills in arrears by billed month
//	projects.stages_due.<YYYY-MM-DD>             current stages on the clock by the day they become overdue
//	outages.started.type.<type>.<YYYY-MM>        outages (not cancelled) by type and month of start
//
// A bill falls due on the first day of the month after the month it bills
// (BillDue), so every bill of a month has the same age and the buckets are
// exact. Days and months are counted in CST.

// AgeBuckets name the arrears ageing buckets, in days since the bill fell
// due: 0–30 (and bills not yet due), 31–60, 61–90, 91 and more.
var AgeBuckets = []string{"0-30", "31-60", "61-90", "91+"}

// AgeBucket is the arrears of one ageing bucket.
type AgeBucket struct {
	Bucket string  `json:"bucket"` // one of AgeBuckets
	Amount float64 `json:"amount"` // yuan outstanding
	Bills  int64   `json:"bills"`  // bills with an amount outstanding
}

// BillDue answers the day a bill of period (YYYY-MM) falls due: the first
// day of the following month, midnight CST.
func BillDue(period string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01", period, workday.CST)
	if err != nil {
		return time.Time{}, false
	}
	return t.AddDate(0, 1, 0), true
}

// AgeBucketOf answers the bucket of a bill of period outstanding at now.
func AgeBucketOf(period string, now time.Time) int {
	due, ok := BillDue(period)
	if !ok {
		return 0
	}
	today := cstDay(now)
	days := int(math.Round(today.Sub(due).Hours() / 24)) // whole CST days: both are midnights
	switch {
	case days <= 30:
		return 0
	case days <= 60:
		return 1
	case days <= 90:
		return 2
	}
	return 3
}

// AgeArrears buckets the outstanding amounts and bills by billed month
// (Summary.ArrearsByPeriod, ArrearsBillsByPeriod) by their age at now.
func AgeArrears(amount map[string]float64, bills map[string]int64, now time.Time) []AgeBucket {
	out := make([]AgeBucket, len(AgeBuckets))
	for i, b := range AgeBuckets {
		out[i].Bucket = b
	}
	for p, v := range amount {
		out[AgeBucketOf(p, now)].Amount += v
	}
	for p, n := range bills {
		out[AgeBucketOf(p, now)].Bills += n
	}
	for i := range out {
		out[i].Amount = round2(out[i].Amount)
	}
	return out
}

func cstDay(t time.Time) time.Time {
	t = t.In(workday.CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, workday.CST)
}

// MonthOf answers the CST month (YYYY-MM) of t.
func MonthOf(t time.Time) string { return t.In(workday.CST).Format("2006-01") }

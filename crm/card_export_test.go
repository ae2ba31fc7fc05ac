package crm

// Test hooks of card.go: the record-reading computations the cards replace,
// and whether the cards cover a region.

// ClassifyRegionFromRecords is ClassifyRegion from the customers and bills.
func ClassifyRegionFromRecords(r Reader, q ClassQuery) (*ClassReport, *Error) {
	return classifyRegion(r, q, false)
}

// ParetoFromRecords is Pareto from the customers and bills.
func ParetoFromRecords(r Reader, region string, subtree bool, day Date, topN int) (*ParetoReport, *Error) {
	return pareto(r, region, subtree, day, topN, false)
}

// CardsCover reports whether the cards hold every customer of the region
// (or subtree) the aggregates count, so that the reads use them.
func CardsCover(r Reader, region string, subtree bool) bool {
	_, ok, err := cardCustomers(r, region, subtree, "2026-01-15")
	return ok && err == nil
}

// DecodeCard decodes a stored card (fuzzing and malformed input).
func DecodeCard(raw []byte) error {
	var c card
	return decodeCard(raw, &c)
}

// ConsumptionFromRecords is Consumption with the class comparison from a
// classification of the records.
func ConsumptionFromRecords(r Reader, id string, day Date) (*ConsumptionReport, *Error) {
	return consumption(r, id, day, false)
}

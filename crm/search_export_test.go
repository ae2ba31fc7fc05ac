package crm

// SetSearchBudget sets the index entries one search may examine, for tests
// of the partial answers, and answers the previous budget.
func SetSearchBudget(n int) int { old := searchBudget; searchBudget = n; return old }

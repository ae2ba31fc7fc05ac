package crm

import (
	"strings"
	"unicode/utf8"

	"gridcrm/store/keyspace"
)

// SetSearchBudget sets the index entries one search may examine, for tests
// of the partial answers, and answers the previous budget.
func SetSearchBudget(n int) int { old := searchBudget; searchBudget = n; return old }

// SetSearchMigrateBatch sets the customers MigrateSearch indexes a batch
// and answers the previous size.
func SetSearchMigrateBatch(n int) int { old := searchMigrateBatch; searchMigrateBatch = n; return old }

// SearchKeys are the keys of c's search entries.
func SearchKeys(c *Customer) []string { return c.searchKeys() }

// SearchPos is the search position of customer id in region, and
// DecodeSearchPos its reading.
func SearchPos(region, id string) string { return string(appendPos(nil, region, id)) }

func DecodeSearchPos(p string) (region, id string, ok bool) { return decodePos(p) }

// OldSearchKeys are the keys c's search entries had in the first layout
// (SearchLayout 1: x/customers/_q/<gram>\x01<region>\x00<id> and _qa/,
// every Chinese character of a name alone), as that version wrote them:
// a writer of the old layout for the migration's tests.
func OldSearchKeys(c *Customer) []string {
	suffix := "\x01" + c.Region + "\x00" + c.ID
	seen := map[string]bool{}
	var out []string
	emit := func(g []rune) {
		k := keyspace.IndexField("customers", "_q") + string(g) + suffix
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	name := []rune(Fold(c.Name))
	for i, r := range name {
		if r >= utf8.RuneSelf {
			emit(name[i : i+1])
		}
	}
	textGrams(name, false, emit)
	for _, s := range []string{c.Address, c.Phone, c.Feeder, c.TransformerArea, c.Grid} {
		if s != "" {
			textGrams([]rune(Fold(s)), false, emit)
		}
	}
	for _, t := range c.Tags {
		textGrams([]rune(Fold(t)), false, emit)
	}
	acct := Fold(c.AccountNo)
	for n := 4; n <= min(len(acct), maxAcctPrefix); n += 2 {
		out = append(out, keyspace.IndexField("customers", "_qa")+strings.Clone(acct[:n])+suffix)
	}
	return out
}

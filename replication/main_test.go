package replication_test

import (
	"os"
	"testing"

	"gridcrm/crm"
)

// TestMain runs this package's tests without the customer search index:
// they test raft, the links and the management modes, which move and check
// index entries alike whatever they hold, and the ~40 search entries of
// every customer write cost these race-detector runs about a fifth of
// their time (two of the heaviest tests: 128 s with the index, 103 s
// without). The index itself, on the owner and on replicas, is tested in
// crm (search_test.go) and through a city's replicas in the console's
// browser tests.
func TestMain(m *testing.M) {
	crm.SetSearchIndexing(false)
	os.Exit(m.Run())
}

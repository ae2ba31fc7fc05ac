package replication_test

import (
	"testing"

	"gridcrm/internal/testcluster"
)

// TestMain: passwords hashed at bcrypt's cheapest cost (testcluster.Main).
func TestMain(m *testing.M) { testcluster.Main(m) }

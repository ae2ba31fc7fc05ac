package ops_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestAlertRules: the shipped rules load in promtool and pass their unit
// tests (alerts_test.yml: every alert fires on its condition and stays
// quiet on a near miss).
func TestAlertRules(t *testing.T) {
	promtool := need(t, "promtool")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

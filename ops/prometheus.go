package ops

import (
	"fmt"
	"sort"
	"time"

	"gopkg.in/yaml.v3"
)

// ScrapeTarget is one node's token-free metrics listener (metrics_listen).
type ScrapeTarget struct {
	Addr   string // host:port of the metrics listener
	Region string
	Node   string
	Tier   string
}

// PrometheusConfig writes a prometheus.yml that scrapes every target in one
// job (gridcrm) and loads ruleFiles. Every series already carries region and
// node; the target also gets tier, for dashboards that group by tier.
func PrometheusConfig(targets []ScrapeTarget, ruleFiles []string, interval time.Duration) ([]byte, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("ops: no scrape targets (did the nodes start with metrics_listen?)")
	}
	if interval <= 0 {
		interval = 5 * time.Second
	}
	type staticConfig struct {
		Targets []string          `yaml:"targets"`
		Labels  map[string]string `yaml:"labels,omitempty"`
	}
	sorted := append([]ScrapeTarget(nil), targets...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Node < sorted[j].Node })
	var statics []staticConfig
	for _, t := range sorted {
		if t.Addr == "" {
			return nil, fmt.Errorf("ops: node %s of region %s has no metrics address", t.Node, t.Region)
		}
		l := map[string]string{}
		if t.Tier != "" {
			l["tier"] = t.Tier
		}
		statics = append(statics, staticConfig{Targets: []string{t.Addr}, Labels: l})
	}
	cfg := map[string]any{
		"global": map[string]any{
			"scrape_interval":     interval.String(),
			"evaluation_interval": interval.String(),
		},
		"scrape_configs": []map[string]any{{
			"job_name":       "gridcrm",
			"metrics_path":   "/metrics",
			"static_configs": statics,
		}},
	}
	if len(ruleFiles) > 0 {
		cfg["rule_files"] = ruleFiles
	}
	return yaml.Marshal(cfg)
}

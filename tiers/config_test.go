package tiers

import (
	"errors"
	"testing"
)

func TestConfig_Validate(t *testing.T) {
	link := func(region RegionCode, nodes ...string) *ParentLink {
		return &ParentLink{Region: region, Nodes: nodes}
	}
	good := []struct {
		name string
		cfg  Config
	}{
		{"province alone", Config{Region: "32"}},
		{"province with tier", Config{Region: "32", Tier: Province}},
		{"city standalone", Config{Region: "3207"}},
		{"county standalone", Config{Region: "320722", Tier: County}},
		{"city to province", Config{Region: "3207", Tier: City, Parent: link("32", "10.32.0.1:8501", "10.32.0.2:8501", "10.32.0.3:8501")}},
		{"county to city", Config{Region: "320722", Parent: link("3207", "10.32.7.11:8501")}},
		{"dns names and ipv6", Config{Region: "320722", Parent: link("3207", "lyg-1.grid.internal:8501", "[fd00::7]:8501", "lyg-2:8501")}},
		{"same host, other ports", Config{Region: "320722", Parent: link("3207", "10.0.0.1:8501", "10.0.0.1:8502")}},
	}
	for _, tc := range good {
		if err := tc.cfg.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v; want nil", tc.name, err)
		}
	}

	bad := []struct {
		name string
		cfg  Config
		kind error
		msg  string
	}{
		// region and tier
		{"no region", Config{}, ErrInvalidRegion,
			"tiers: region is empty; want a GB/T 2260 code of 2, 4 or 6 digits (e.g. 32, 3207, 320722)"},
		{"bad region", Config{Region: "32072"}, ErrInvalidRegion,
			`tiers: region "32072" has 5 digits; want 2 (province, e.g. 32), 4 (city, e.g. 3207) or 6 (county, e.g. 320722)`},
		{"six-digit city", Config{Region: "320700"}, ErrInvalidRegion,
			`tiers: region "320700" is not a real county code: it is city 3207 written with six digits; write 3207`},
		{"tier mismatch", Config{Region: "3207", Tier: County}, ErrInvalidTier,
			"tiers: region 3207 is a city, not a county"},
		{"tier mismatch province", Config{Region: "320722", Tier: Province}, ErrInvalidTier,
			"tiers: region 320722 is a county, not a province"},
		{"unknown tier", Config{Region: "3207", Tier: "prefecture"}, ErrInvalidTier,
			`tiers: region 3207: tier "prefecture" is not one of province, city, county (it is a city; or leave tier empty)`},

		// parent region
		{"province with parent", Config{Region: "32", Parent: link("33", "10.0.0.1:8501")}, ErrWrongParent,
			"tiers: province 32 has no parent; remove parent"},
		{"province with empty parent", Config{Region: "32", Parent: &ParentLink{}}, ErrWrongParent,
			"tiers: province 32 has no parent; remove parent"},
		{"county under other city", Config{Region: "320722", Parent: link("3208", "10.0.0.1:8501")}, ErrWrongParent,
			"tiers: county 320722's parent must be city 3207, not 3208"},
		{"county under province", Config{Region: "320722", Parent: link("32", "10.0.0.1:8501")}, ErrWrongParent,
			"tiers: county 320722's parent must be city 3207, not province 32"},
		{"county under county", Config{Region: "320722", Parent: link("320723", "10.0.0.1:8501")}, ErrWrongParent,
			"tiers: county 320722's parent must be city 3207, not county 320723"},
		{"county under itself", Config{Region: "320722", Parent: link("320722", "10.0.0.1:8501")}, ErrWrongParent,
			"tiers: county 320722's parent must be city 3207, not county 320722"},
		{"city under other province", Config{Region: "3207", Parent: link("33", "10.0.0.1:8501")}, ErrWrongParent,
			"tiers: city 3207's parent must be province 32, not 33"},
		{"city under county", Config{Region: "3207", Parent: link("320722", "10.0.0.1:8501")}, ErrWrongParent,
			"tiers: city 3207's parent must be province 32, not county 320722"},
		{"parent region empty", Config{Region: "320722", Parent: link("", "10.0.0.1:8501")}, ErrWrongParent,
			"tiers: county 320722's parent must be city 3207; parent.region is empty, set it to 3207"},
		{"parent region invalid", Config{Region: "320722", Parent: link("320700", "10.0.0.1:8501")}, ErrInvalidRegion,
			`tiers: parent.region "320700" is not a real county code: it is city 3207 written with six digits; write 3207 (county 320722's parent is city 3207)`},

		// parent nodes
		{"no nodes", Config{Region: "320722", Parent: link("3207")}, ErrParentNodes,
			"tiers: parent.nodes is empty; list the internal host:port of at least one node of city 3207"},
		{"missing port", Config{Region: "320722", Parent: link("3207", "10.0.0.1:8501", "10.0.0.2")}, ErrParentNodes,
			`tiers: parent.nodes[1] "10.0.0.2" is not host:port: missing port in address (write e.g. 10.32.7.11:8501)`},
		{"empty node", Config{Region: "3207", Parent: link("32", "")}, ErrParentNodes,
			`tiers: parent.nodes[0] "" is not host:port: missing port in address (write e.g. 10.32.7.11:8501)`},
		{"empty host", Config{Region: "3207", Parent: link("32", ":8501")}, ErrParentNodes,
			`tiers: parent.nodes[0] ":8501" is not host:port: the host is empty (write e.g. 10.32.7.11:8501)`},
		{"empty port", Config{Region: "3207", Parent: link("32", "10.0.0.1:")}, ErrParentNodes,
			`tiers: parent.nodes[0] "10.0.0.1:" is not host:port: port "" is not a number from 1 to 65535 (write e.g. 10.32.7.11:8501)`},
		{"named port", Config{Region: "3207", Parent: link("32", "10.0.0.1:http")}, ErrParentNodes,
			`tiers: parent.nodes[0] "10.0.0.1:http" is not host:port: port "http" is not a number from 1 to 65535 (write e.g. 10.32.7.11:8501)`},
		{"port zero", Config{Region: "3207", Parent: link("32", "10.0.0.1:0")}, ErrParentNodes,
			`tiers: parent.nodes[0] "10.0.0.1:0" is not host:port: port "0" is not a number from 1 to 65535 (write e.g. 10.32.7.11:8501)`},
		{"port too big", Config{Region: "3207", Parent: link("32", "10.0.0.1:65536")}, ErrParentNodes,
			`tiers: parent.nodes[0] "10.0.0.1:65536" is not host:port: port "65536" is not a number from 1 to 65535 (write e.g. 10.32.7.11:8501)`},
		{"bad ipv4", Config{Region: "3207", Parent: link("32", "10.0.0.256:8501")}, ErrParentNodes,
			`tiers: parent.nodes[0] "10.0.0.256:8501" is not host:port: host "10.0.0.256" is not a valid IPv4 address (write e.g. 10.32.7.11:8501)`},
		{"bad hostname", Config{Region: "3207", Parent: link("32", "-node:8501")}, ErrParentNodes,
			`tiers: parent.nodes[0] "-node:8501" is not host:port: host "-node" is neither an IP address nor a DNS name (write e.g. 10.32.7.11:8501)`},
		{"url not address", Config{Region: "3207", Parent: link("32", "http://10.0.0.1:8501")}, ErrParentNodes,
			`tiers: parent.nodes[0] "http://10.0.0.1:8501" is not host:port: too many colons in address (write e.g. 10.32.7.11:8501)`},
		{"spaces", Config{Region: "3207", Parent: link("32", " 10.0.0.1:8501")}, ErrParentNodes,
			`tiers: parent.nodes[0] " 10.0.0.1:8501" is not host:port: it contains spaces (write e.g. 10.32.7.11:8501)`},
		{"duplicate", Config{Region: "320722", Parent: link("3207", "10.0.0.1:8501", "10.0.0.2:8501", "10.0.0.1:8501")}, ErrParentNodes,
			`tiers: parent.nodes[2] "10.0.0.1:8501" is the same node as parent.nodes[0] "10.0.0.1:8501"; list each node once`},
		{"duplicate spelled differently", Config{Region: "320722", Parent: link("3207", "LYG-1.grid:8501", "lyg-1.grid.:08501")}, ErrParentNodes,
			`tiers: parent.nodes[1] "lyg-1.grid.:08501" is the same node as parent.nodes[0] "LYG-1.grid:8501"; list each node once`},
		{"duplicate ipv6", Config{Region: "320722", Parent: link("3207", "[fd00::7]:8501", "[fd00:0::0:7]:8501")}, ErrParentNodes,
			`tiers: parent.nodes[1] "[fd00:0::0:7]:8501" is the same node as parent.nodes[0] "[fd00::7]:8501"; list each node once`},
	}
	for _, tc := range bad {
		err := tc.cfg.Validate()
		if err == nil {
			t.Errorf("%s: Validate() = nil; want %q", tc.name, tc.msg)
			continue
		}
		if !errors.Is(err, tc.kind) {
			t.Errorf("%s: %v is not %v", tc.name, err, tc.kind)
		}
		if err.Error() != tc.msg {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, err, tc.msg)
		}
	}
}

package tiers

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ParentLink says how a node reaches its parent region.
type ParentLink struct {
	Region RegionCode `yaml:"region" json:"region"` // required: the parent region, the prefix of the node's own code
	Nodes  []string   `yaml:"nodes" json:"nodes"`   // required, at least one: internal host:port of each of the parent region's nodes, each once
}

// Config is the link configuration of one node: where its region sits in the
// tree and how to reach its parent. There is no DefaultConfig: a node has no
// sensible default region.
type Config struct {
	Region RegionCode  `yaml:"region"` // required: the node's own region, e.g. 320722
	Tier   Tier        `yaml:"tier"`   // optional, default: the tier of Region; when set it must fit Region
	Parent *ParentLink `yaml:"parent"` // default nil: no parent (a province, or a city or county run standalone); never set for a province
}

// Validate checks c and returns the first problem, as an error of one of the
// package's Err kinds whose message names the field or code and says what
// would be right. It does not modify c.
func (c *Config) Validate() error {
	if p := problem("region", string(c.Region)); p != "" {
		return errorf(ErrInvalidRegion, "%s", p)
	}
	if c.Tier != "" && c.Tier != c.Region.Tier() {
		return tierMismatch(c.Region, c.Tier)
	}
	if c.Parent == nil {
		return nil
	}
	if c.Region.Tier() == Province {
		return errorf(ErrWrongParent, "province %s has no parent; remove parent", c.Region)
	}
	want := c.Region.Parent()
	if c.Parent.Region == "" {
		return errorf(ErrWrongParent, "%s's parent must be %s; parent.region is empty, set it to %s", describe(c.Region), describe(want), want)
	}
	if p := problem("parent.region", string(c.Parent.Region)); p != "" {
		return errorf(ErrInvalidRegion, "%s (%s's parent is %s)", p, describe(c.Region), describe(want))
	}
	if c.Parent.Region != want {
		return parentMismatch(c.Region, c.Parent.Region)
	}
	if len(c.Parent.Nodes) == 0 {
		return errorf(ErrParentNodes, "parent.nodes is empty; list the internal host:port of at least one node of %s", describe(want))
	}
	seen := make(map[string]int, len(c.Parent.Nodes))
	for i, n := range c.Parent.Nodes {
		key, why := hostPort(n)
		if why != "" {
			return errorf(ErrParentNodes, "parent.nodes[%d] %q is not host:port: %s (write e.g. 10.32.7.11:8501)", i, n, why)
		}
		if j, ok := seen[key]; ok {
			return errorf(ErrParentNodes, "parent.nodes[%d] %q is the same node as parent.nodes[%d] %q; list each node once", i, n, j, c.Parent.Nodes[j])
		}
		seen[key] = i
	}
	return nil
}

// hostPort checks s as host:port with a numeric port from 1 to 65535 and a
// host that is an IP address or a DNS name. It returns a canonical form for
// spotting duplicates ("[::1]:80" and "[0::1]:080" are the same node), or
// the reason s is not acceptable.
func hostPort(s string) (key, why string) {
	if s != strings.TrimSpace(s) || strings.ContainsAny(s, " \t") {
		return "", "it contains spaces"
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if ae, ok := err.(*net.AddrError); ok {
			return "", ae.Err
		}
		return "", err.Error()
	}
	if host == "" {
		return "", "the host is empty"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strings.HasPrefix(port, "+") {
		return "", fmt.Sprintf("port %q is not a number from 1 to 65535", port)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.Unmap().String()
	} else if strings.Trim(host, "0123456789.") == "" {
		return "", fmt.Sprintf("host %q is not a valid IPv4 address", host)
	} else if !dnsName(host) {
		return "", fmt.Sprintf("host %q is neither an IP address nor a DNS name", host)
	} else {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), ""
}

// dnsName reports whether h is a plausible DNS name: dot-separated labels
// of 1 to 63 letters, digits, '-' or '_', not starting or ending with '-',
// 253 characters at most (a trailing dot allowed).
func dnsName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			b := label[i]
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
				return false
			}
		}
	}
	return true
}

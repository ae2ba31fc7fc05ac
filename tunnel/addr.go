package tunnel

import (
	"fmt"
	"net/netip"
	"strings"

	"gridcrm/tiers"
)

// DefaultPrefix is the overlay prefix unless Config.Prefix says otherwise:
// an IPv6 unique local /48 (RFC 4193) whose global ID spells "Gridc" in
// ASCII (47 72 69 64 63). It is fixed, not random, so that every deployment's
// addresses read the same; a site that must join another ULA network picks
// its own prefix.
var DefaultPrefix = netip.MustParsePrefix("fd47:7269:6463::/48")

// MaxNodeIndex is the largest node index an overlay address can encode.
const MaxNodeIndex = 9999

// OverlayAddr returns the overlay address of node nodeIndex (1..9999) of
// region, inside prefix (IPv6, at most /80). The low 48 bits are three
// 16-bit groups, each written as decimal digits in hex (BCD), so the address
// reads as the code: the region code right-padded with zeros to 6 digits
// gives digits 1–4 (group 6) and 5–6 (group 7), the node index group 8.
// 320722 node 2 → fd47:7269:6463::3207:22:2, 3207 node 1 →
// fd47:7269:6463::3207:0:1, 32 node 3 → fd47:7269:6463::3200:0:3.
// Distinct valid (region, index) pairs give distinct addresses: a valid
// code never ends in 00 before its tier's length, so padding is one to one.
func OverlayAddr(prefix netip.Prefix, region tiers.RegionCode, nodeIndex int) (netip.Addr, error) {
	if !prefix.IsValid() || !prefix.Addr().Is6() || prefix.Addr().Is4In6() {
		return netip.Addr{}, fmt.Errorf("tunnel: overlay prefix %s is not an IPv6 prefix", prefix)
	}
	if prefix.Bits() > 80 {
		return netip.Addr{}, fmt.Errorf("tunnel: overlay prefix %s is longer than /80; the low 48 bits hold region and node index", prefix)
	}
	if !region.Valid() {
		_, err := tiers.ParseRegion(string(region))
		if err == nil { // valid only after trimming spaces
			err = fmt.Errorf("region %q has spaces around it", string(region))
		}
		return netip.Addr{}, fmt.Errorf("tunnel: overlay address: %w", err)
	}
	if nodeIndex < 1 || nodeIndex > MaxNodeIndex {
		return netip.Addr{}, fmt.Errorf("tunnel: node index %d out of range 1..%d", nodeIndex, MaxNodeIndex)
	}
	code := string(region)
	for len(code) < 6 {
		code += "0"
	}
	b := prefix.Masked().Addr().As16()
	put := func(i int, digits string) {
		var v uint16
		for _, d := range digits {
			v = v<<4 | uint16(d-'0')
		}
		b[i], b[i+1] = byte(v>>8), byte(v)
	}
	put(10, code[:4])
	put(12, code[4:])
	put(14, fmt.Sprintf("%04d", nodeIndex))
	return netip.AddrFrom16(b), nil
}

// OverlayRegion is OverlayAddr's inverse: the region and node index whose
// overlay address in prefix a is. It refuses an address outside prefix or
// one that no valid (region, index) pair maps to.
func OverlayRegion(prefix netip.Prefix, a netip.Addr) (tiers.RegionCode, int, error) {
	if !prefix.IsValid() || !prefix.Contains(a) {
		return "", 0, fmt.Errorf("tunnel: %s is not in the overlay prefix %s", a, prefix)
	}
	b := a.As16()
	digits := func(i int) (string, bool) {
		s := fmt.Sprintf("%04x", uint16(b[i])<<8|uint16(b[i+1]))
		for _, c := range s {
			if c < '0' || c > '9' {
				return "", false
			}
		}
		return s, true
	}
	hi, ok1 := digits(10)
	lo, ok2 := digits(12)
	ix, ok3 := digits(14)
	if !ok1 || !ok2 || !ok3 || lo[:2] != "00" {
		return "", 0, fmt.Errorf("tunnel: %s is not an overlay address of any node", a)
	}
	code := hi + lo[2:]
	for _, n := range []int{2, 4, 6} { // the shortest code that pads to the digits
		if c := tiers.RegionCode(code[:n]); c.Valid() && strings.TrimRight(code[n:], "0") == "" {
			idx := 0
			fmt.Sscanf(ix, "%d", &idx)
			if back, err := OverlayAddr(prefix, c, idx); err == nil && back == a {
				return c, idx, nil
			}
			break
		}
	}
	return "", 0, fmt.Errorf("tunnel: %s is not an overlay address of any node", a)
}

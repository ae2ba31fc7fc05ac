package tiers

import (
	"fmt"
	"slices"
	"strings"
)

// Region is one node of the region tree.
type Region struct {
	Code   RegionCode `json:"code" yaml:"code"`                         // GB/T 2260 code, e.g. 320722
	Name   string     `json:"name" yaml:"name"`                         // e.g. 东海县; NewTree fills it from the table when empty
	Tier   Tier       `json:"tier" yaml:"tier"`                         // NewTree fills it from the code when empty
	Parent RegionCode `json:"parent,omitempty" yaml:"parent,omitempty"` // the code's prefix; "" for a province; NewTree fills it when empty
}

// Tree is a validated set of regions. It is immutable after NewTree, so any
// number of goroutines may read it at once; every method returns fresh
// slices that the caller may keep or change.
type Tree struct {
	regions  []Region             // every region, sorted by code; as codes nest by prefix this is pre-order
	index    map[RegionCode]int   // code → position in regions
	children map[RegionCode][]int // code → positions of its children in regions, ascending
	roots    []int                // positions of the regions whose parent is not in the tree, ascending
}

// NewTree validates regions and builds a tree of them. It refuses (naming
// the region and what would be right): an invalid code; a Tier that is not
// the code's tier; a Parent that is the region itself, is set on a province,
// or is not the code's prefix; a code listed twice; and a region whose
// parent is missing from the tree, unless that region can be a root — a tree
// has either a single root of any tier (a city's subtree, say) or several
// roots that are all provinces. Empty Tier, Parent and Name are filled in
// (Name from the built-in table; it stays "" for a code the table does not
// know). A root's Parent is still its code prefix, even though that region
// is not in the tree. regions itself is not modified.
func NewTree(regions []Region) (*Tree, error) {
	t := &Tree{
		regions:  make([]Region, 0, len(regions)),
		index:    make(map[RegionCode]int, len(regions)),
		children: make(map[RegionCode][]int),
	}
	listed := make(map[RegionCode]int, len(regions)) // code → its position in the argument
	for i, r := range regions {
		if p := problem(fmt.Sprintf("regions[%d].code", i), string(r.Code)); p != "" {
			return nil, errorf(ErrInvalidRegion, "%s", p)
		}
		if r.Tier != "" && r.Tier != r.Code.Tier() {
			return nil, tierMismatch(r.Code, r.Tier)
		}
		if r.Parent != "" {
			if err := checkParent(r.Code, r.Parent); err != nil {
				return nil, err
			}
		}
		if j, ok := listed[r.Code]; ok {
			return nil, errorf(ErrDuplicateRegion, "region %s is listed twice (regions[%d] and regions[%d]); list each region once", r.Code, j, i)
		}
		listed[r.Code] = i
		r.Tier, r.Parent = r.Code.Tier(), r.Code.Parent()
		if r.Name == "" {
			r.Name = Name(r.Code)
		}
		t.regions = append(t.regions, r)
	}
	slices.SortFunc(t.regions, func(a, b Region) int { return strings.Compare(string(a.Code), string(b.Code)) })
	for i, r := range t.regions {
		t.index[r.Code] = i
	}
	for i, r := range t.regions {
		if _, ok := t.index[r.Parent]; ok {
			t.children[r.Parent] = append(t.children[r.Parent], i)
		} else {
			t.roots = append(t.roots, i)
		}
	}
	if len(t.roots) > 1 {
		for _, i := range t.roots {
			if r := t.regions[i]; r.Tier != Province {
				return nil, errorf(ErrMissingParent, "%s's parent %s is not in the tree; add it (a tree with several roots may only have provinces as roots)", describe(r.Code), describe(r.Parent))
			}
		}
	}
	return t, nil
}

// checkParent checks an explicitly given parent of the valid code c.
func checkParent(c, parent RegionCode) error {
	switch {
	case parent == c && c.Tier() == Province:
		return errorf(ErrWrongParent, "province %s names itself as its parent; a province has no parent, remove parent", c)
	case parent == c:
		return errorf(ErrWrongParent, "%s names itself as its parent; its parent is %s (or leave parent empty)", describe(c), describe(c.Parent()))
	case c.Tier() == Province:
		return errorf(ErrWrongParent, "province %s has no parent; remove parent", c)
	case !parent.Valid():
		return errorf(ErrWrongParent, "%s's parent must be %s; %s", describe(c), describe(c.Parent()), problem("parent", string(parent)))
	case parent != c.Parent():
		return parentMismatch(c, parent)
	}
	return nil
}

// Get returns the region with code c.
func (t *Tree) Get(c RegionCode) (Region, bool) {
	i, ok := t.index[c]
	if !ok {
		return Region{}, false
	}
	return t.regions[i], true
}

// Children returns the regions directly below c, sorted by code; nil if c
// has none or is not in the tree.
func (t *Tree) Children(c RegionCode) []Region {
	return t.pick(t.children[c])
}

// Subtree returns c and every region below it, sorted by code (so each
// region comes before its children); nil if c is not in the tree.
func (t *Tree) Subtree(c RegionCode) []Region {
	i, ok := t.index[c]
	if !ok {
		return nil
	}
	j := i + 1
	for j < len(t.regions) && strings.HasPrefix(string(t.regions[j].Code), string(c)) {
		j++
	}
	return slices.Clone(t.regions[i:j])
}

// Roots returns the regions whose parent is not in the tree, sorted by code:
// the provinces, or the single top region of a smaller tree.
func (t *Tree) Roots() []Region {
	return t.pick(t.roots)
}

// Len returns the number of regions in the tree.
func (t *Tree) Len() int { return len(t.regions) }

func (t *Tree) pick(positions []int) []Region {
	if len(positions) == 0 {
		return nil
	}
	out := make([]Region, len(positions))
	for k, i := range positions {
		out[k] = t.regions[i]
	}
	return out
}

package keysort

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// entry is one key during the sort: its next 8 bytes from the current
// depth (zero-padded), how many of them it has (8 means 8 or more), and its
// index.
type entry struct {
	chunk uint64
	n     uint32
	i     int32
}

// Order sets order to the indexes 0..len(keys)-1 sorted by their key in
// bytes.Compare order, and answers it (order is grown if it is too short).
func Order(order []int32, keys func(i int32) []byte, n int) []int32 {
	order = slices.Grow(order[:0], n)[:n]
	es := make([]entry, n)
	var tmp []entry // the radix sort's scratch, for runs of radixMin or more
	if n >= radixMin {
		tmp = make([]entry, n)
	}
	for i := range es {
		es[i].i = int32(i)
	}
	sortAt(es, tmp, keys, 0)
	for i, e := range es {
		order[i] = e.i
	}
	return order
}

// sortAt sorts es, whose keys are equal before depth d; tmp is scratch
// space as long as es (nil when es is shorter than radixMin).
func sortAt(es, tmp []entry, keys func(int32) []byte, d int) {
	for len(es) > 1 {
		for j := range es {
			es[j].chunk, es[j].n = load(keys(es[j].i), d)
		}
		if len(es) < radixMin {
			slices.SortFunc(es, func(a, b entry) int {
				if c := cmp.Compare(a.chunk, b.chunk); c != 0 {
					return c
				}
				return cmp.Compare(a.n, b.n)
			})
		} else {
			radix(es, tmp)
		}
		// Runs of keys that have 8 more bytes and tie on them go on 8 bytes
		// further; the longest run is done by the loop, the others by
		// recursion, so the stack stays shallow.
		d += 8
		var longest, longTmp []entry
		for lo := 0; lo < len(es); {
			hi := lo + 1
			for hi < len(es) && es[hi].chunk == es[lo].chunk && es[hi].n == es[lo].n {
				hi++
			}
			if run, runTmp := es[lo:hi], sub(tmp, lo, hi); len(run) > 1 && es[lo].n == 8 {
				if len(run) > len(longest) {
					longest, run, longTmp, runTmp = run, longest, runTmp, longTmp
				}
				if len(run) > 1 {
					sortAt(run, runTmp, keys, d)
				}
			}
			lo = hi
		}
		es, tmp = longest, longTmp
	}
}

// sub is s[lo:hi], or nil for a nil s.
func sub(s []entry, lo, hi int) []entry {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

// radixMin: shorter runs are sorted by comparison.
const radixMin = 256

// radix sorts es by (chunk, n) with a least-significant-digit radix sort:
// a stable pass on n, then one per byte of chunk from the last, skipping a
// byte every entry has the same. The result is in es; tmp is scratch.
func radix(es, tmp []entry) {
	src, dst := es, tmp
	pass := func(digit func(entry) int) {
		var count [256]int
		for _, e := range src {
			count[digit(e)]++
		}
		for _, c := range count {
			if c == len(src) {
				return // one value: the order stands
			}
		}
		sum := 0
		for b, c := range count {
			count[b] = sum
			sum += c
		}
		for _, e := range src {
			b := digit(e)
			dst[count[b]] = e
			count[b]++
		}
		src, dst = dst, src
	}
	pass(func(e entry) int { return int(e.n) })
	for shift := 0; shift < 64; shift += 8 {
		pass(func(e entry) int { return int(e.chunk >> shift & 0xff) })
	}
	if &src[0] != &es[0] {
		copy(es, src)
	}
}

// load answers k's 8 bytes from d, big-endian and zero-padded, and how many
// it has (at most 8).
func load(k []byte, d int) (uint64, uint32) {
	if len(k) >= d+8 {
		return binary.BigEndian.Uint64(k[d:]), 8
	}
	var b [8]byte
	n := 0
	if d < len(k) {
		n = copy(b[:], k[d:])
	}
	return binary.BigEndian.Uint64(b[:]), uint32(n)
}

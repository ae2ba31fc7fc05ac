package keysort

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomKeys makes n distinct keys with long shared prefixes, short keys,
// prefixes of other keys, zero bytes and high bytes: the cases where an
// 8-byte chunk ties or pads.
func randomKeys(r *rand.Rand, n int) [][]byte {
	prefixes := []string{"", "x/_q/", "x/_q/\xe5\x8d\x97", "r/customers/", "r/customers/01J", "\x00", "\xff\xff", "x/_qa/3207"}
	seen := map[string]bool{}
	var keys [][]byte
	for len(keys) < n {
		k := []byte(prefixes[r.IntN(len(prefixes))])
		for range r.IntN(20) {
			switch r.IntN(4) {
			case 0:
				k = append(k, 0)
			case 1:
				k = append(k, 0xff)
			default:
				k = append(k, byte('a'+r.IntN(3)))
			}
		}
		if !seen[string(k)] {
			seen[string(k)] = true
			keys = append(keys, k)
		}
	}
	return keys
}

func TestOrder_MatchesBytesCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 17, 100, 1000, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			keys := randomKeys(r, n)
			got := Order(nil, func(i int32) []byte { return keys[i] }, len(keys))
			want := make([]int32, len(keys))
			for i := range want {
				want[i] = int32(i)
			}
			slices.SortFunc(want, func(a, b int32) int { return bytes.Compare(keys[a], keys[b]) })
			if !slices.Equal(got, want) {
				t.Fatalf("order differs from bytes.Compare's")
			}
		})
	}
}

func TestOrder_ReusesOrder(t *testing.T) {
	keys := [][]byte{[]byte("b"), []byte("a"), []byte("ab"), []byte("a\x00")}
	buf := make([]int32, 1, 16)
	got := Order(buf, func(i int32) []byte { return keys[i] }, len(keys))
	if want := []int32{1, 3, 2, 0}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if &got[0] != &buf[:1][0] {
		t.Fatalf("a buffer with room was not reused")
	}
}

func FuzzOrder(f *testing.F) {
	f.Add([]byte("x/_q/a\x00x/_q/ab\x00x/_q/\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		seen := map[string]bool{}
		var keys [][]byte
		for _, k := range bytes.Split(data, []byte{0}) {
			if !seen[string(k)] {
				seen[string(k)] = true
				keys = append(keys, k)
			}
		}
		got := Order(nil, func(i int32) []byte { return keys[i] }, len(keys))
		for i := 1; i < len(got); i++ {
			if bytes.Compare(keys[got[i-1]], keys[got[i]]) >= 0 {
				t.Fatalf("%q before %q", keys[got[i-1]], keys[got[i]])
			}
		}
	})
}

// BenchmarkOrder sorts the keys of 100 customers' worth of search grams
// and records (~7,500), against slices.SortFunc with bytes.Compare.
func BenchmarkOrder(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var keys [][]byte
	for c := range 10000 {
		id := fmt.Appendf(nil, "\x01\x21\x33%016x", r.Uint64())
		keys = append(keys, append([]byte("r/customers/"), id...))
		for g := range 60 {
			keys = append(keys, append(fmt.Appendf(nil, "x/_q/%c%c", 0x4e00+rune(r.IntN(200)), 0x4e00+rune((c+g)%500)), id...))
		}
	}
	key := func(i int32) []byte { return keys[i] }
	b.Run("keysort", func(b *testing.B) {
		var order []int32
		for b.Loop() {
			order = Order(order, key, len(keys))
		}
	})
	b.Run("comparison", func(b *testing.B) {
		order := make([]int32, len(keys))
		for b.Loop() {
			for i := range order {
				order[i] = int32(i)
			}
			slices.SortFunc(order, func(x, y int32) int { return bytes.Compare(keys[x], keys[y]) })
		}
	})
}

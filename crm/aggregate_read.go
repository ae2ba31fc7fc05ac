package crm

import (
	"encoding/binary"
	"math"
	"sort"
	"strings"

	"gridcrm/store/keyspace"
)

// RewrittenIterator is a Reader that also iterates keys most batches
// rewrite by seeking past their older versions (replication.StateReader:
// Pebble's NextPrefix), where Iterate steps over every version a memtable
// holds. The counter reads use it when the Reader offers it.
type RewrittenIterator interface {
	IterateRewritten(lower, upper []byte, fn func(k, v []byte) bool) error
}

// IterateCounters iterates [lower, upper) of counters or totals (a/…, t/…):
// through IterateRewritten when r offers it, else Iterate (the same keys,
// values and order either way). Every reader of counters uses it.
func IterateCounters(r Reader, lower, upper []byte, fn func(k, v []byte) bool) error {
	if ri, ok := r.(RewrittenIterator); ok {
		return ri.IterateRewritten(lower, upper, fn)
	}
	return r.Iterate(lower, upper, fn)
}

// ForEachAggregate calls fn for every materialised counter held in r
// (a/<region>/<metric>), in key order: the region's own and, at an upper
// tier, the replicated counters of every region below it. Operations
// export them as Prometheus gauges (ops.DomainCollector).
func ForEachAggregate(r Reader, fn func(region, metric string, v float64)) error {
	return IterateCounters(r, []byte(keyspace.AggregatePrefix), []byte(keyspace.End(keyspace.AggregatePrefix)), func(k, v []byte) bool {
		region, metric, ok := strings.Cut(string(k[2:]), "/")
		if ok && len(v) == 8 {
			fn(region, metric, math.Float64frombits(binary.BigEndian.Uint64(v)))
		}
		return true
	})
}

// eachCounter calls fn with every counter of region (subtree: and of every
// region under it) whose metric begins with prefix: the counter's region,
// the metric after prefix, its value. fn answers whether the counter
// counted, and eachCounter answers the regions of those that did, sorted.
func eachCounter(r Reader, region string, subtree bool, prefix string, fn func(reg, rest string, v float64) bool) ([]string, error) {
	p := []byte(keyspace.AggregatesOf(region))
	if subtree {
		p = []byte(keyspace.AggregatePrefix + region)
	}
	seen := map[string]bool{}
	err := IterateCounters(r, p, prefixEnd(p), func(k, v []byte) bool {
		reg, metric, ok := strings.Cut(string(k[len(keyspace.AggregatePrefix):]), "/")
		if !ok || len(v) != 8 || (!subtree && reg != region) {
			return true
		}
		if rest, ok := strings.CutPrefix(metric, prefix); ok && fn(reg, rest, math.Float64frombits(binary.BigEndian.Uint64(v))) {
			seen[reg] = true
		}
		return true
	})
	regions := make([]string, 0, len(seen))
	for reg := range seen {
		regions = append(regions, reg)
	}
	sort.Strings(regions)
	return regions, err
}

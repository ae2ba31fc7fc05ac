package crm

import (
	"encoding/binary"
	"math"
	"strings"

	"gridcrm/store/keyspace"
)

// ForEachAggregate calls fn for every materialised counter held in r
// (a/<region>/<metric>), in key order: the region's own and, at an upper
// tier, the replicated counters of every region below it. Operations
// export them as Prometheus gauges (ops.DomainCollector).
func ForEachAggregate(r Reader, fn func(region, metric string, v float64)) error {
	return r.Iterate([]byte(keyspace.AggregatePrefix), []byte(keyspace.End(keyspace.AggregatePrefix)), func(k, v []byte) bool {
		region, metric, ok := strings.Cut(string(k[2:]), "/")
		if ok && len(v) == 8 {
			fn(region, metric, math.Float64frombits(binary.BigEndian.Uint64(v)))
		}
		return true
	})
}

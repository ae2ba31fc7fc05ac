package ops

import (
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// DiskCollector reports the size and free space of the filesystem holding
// a node's data directory, for the "disk nearly full" alert.
type DiskCollector struct {
	dir         string
	size, avail *prometheus.Desc
}

// NewDiskCollector watches the filesystem of dir; region and node label it.
func NewDiskCollector(region, node, dir string) *DiskCollector {
	l := prometheus.Labels{"region": region, "node": node}
	return &DiskCollector{dir: dir,
		size:  prometheus.NewDesc("gridcrm_store_filesystem_size_bytes", "Size of the filesystem holding the data directory.", nil, l),
		avail: prometheus.NewDesc("gridcrm_store_filesystem_avail_bytes", "Bytes available to the node on the filesystem holding the data directory.", nil, l),
	}
}

// Describe implements prometheus.Collector.
func (c *DiskCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.size; ch <- c.avail }

// Collect implements prometheus.Collector. A failing statfs exports nothing.
func (c *DiskCollector) Collect(ch chan<- prometheus.Metric) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(c.dir, &st); err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(st.Blocks)*float64(st.Bsize))
	ch <- prometheus.MustNewConstMetric(c.avail, prometheus.GaugeValue, float64(st.Bavail)*float64(st.Bsize))
}

// RegisterLabelled registers collectors whose metrics carry no region or
// node label (such as replication.Group) with those two added.
func (r *Registry) RegisterLabelled(region, node string, cs ...prometheus.Collector) {
	w := prometheus.WrapRegistererWith(prometheus.Labels{"region": region, "node": node}, r.Registry)
	w.MustRegister(cs...)
}

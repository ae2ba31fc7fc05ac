package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the API's collectors: requests by route, method and code,
// latency by route, and logins by outcome.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	logins   *prometheus.CounterVec
	imports  prometheus.Gauge // imports being read, checked or committed (records.go)
}

func newHTTPMetrics(region, node string) *httpMetrics {
	l := prometheus.Labels{"region": region, "node": node}
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gridcrm_http_requests_total",
			Help: "HTTP requests served, by route, method and status code.", ConstLabels: l}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gridcrm_http_request_duration_seconds",
			Help: "HTTP request latency by route and method.", ConstLabels: l,
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "method"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gridcrm_logins_total",
			Help: "Login attempts answered by this node, by outcome: success, bad_password, unknown_user, disabled, locked, throttled.", ConstLabels: l}, []string{"outcome"}),
		imports: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gridcrm_http_imports_in_flight",
			Help: "Imports this node is reading, checking or committing; at most api.Config.MaxImports (default 2).", ConstLabels: l}),
	}
	for _, o := range loginOutcomes {
		m.logins.WithLabelValues(o) // every outcome is exported from the start, at 0
	}
	return m
}

func (m *httpMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.latency.Describe(ch)
	m.logins.Describe(ch)
	m.imports.Describe(ch)
}
func (m *httpMetrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.latency.Collect(ch)
	m.logins.Collect(ch)
	m.imports.Collect(ch)
}

// observe records every request's route, code and latency.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	method := methodLabel(c.Request.Method)
	s.metrics.requests.WithLabelValues(route, method, strconv.Itoa(c.Writer.Status())).Inc()
	s.metrics.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
}

// methodLabel is a request's method as a label value: the standard ones
// as they are, anything else "other". net/http accepts any token as a
// method and the middleware sees requests no route matched, so a client
// sending made-up methods would otherwise add a counter and a histogram
// (~14 series) each, for the life of the node.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

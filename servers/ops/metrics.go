package ops

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo"
)

// Namespace prefixes every vidlib metric.
const Namespace = "vidlib"

// NewRegistry returns a new (non-global) registry with the Go runtime and
// process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Metrics are vidlib's Prometheus metrics, registered on one registry.
// Servers feed them through the fields (labels documented on each) or the
// helper methods.
type Metrics struct {
	Registry *prometheus.Registry

	// HTTP RED metrics, fed by Middleware.
	HTTPRequests *prometheus.CounterVec   // vidlib_http_requests_total{server,method,route,code}
	HTTPDuration *prometheus.HistogramVec // vidlib_http_request_duration_seconds{server,method,route}
	HTTPInFlight *prometheus.GaugeVec     // vidlib_http_requests_in_flight{server}

	// The served library snapshot is exported at scrape time from
	// WatchSnapshot's function (or what ObserveSnapshot last recorded):
	// vidlib_snapshot_content_version, vidlib_snapshot_entitlement_version,
	// vidlib_snapshot_loaded_timestamp_seconds and vidlib_snapshot_age_seconds.

	// Sync runs (SyncFinished); vidlib_sync_lag_seconds{kind}, the time since
	// the last successful run of each kind, is computed at scrape time.
	SyncRuns        *prometheus.CounterVec   // vidlib_sync_runs_total{kind,result}; kind reconcile|poll|webhook, result ok|error|stopped
	SyncDuration    *prometheus.HistogramVec // vidlib_sync_run_duration_seconds{kind}
	SyncChanges     *prometheus.CounterVec   // vidlib_sync_changes_total{change}; created|updated|moved|deleted|restored
	SyncLastSuccess *prometheus.GaugeVec     // vidlib_sync_last_success_timestamp_seconds{kind}

	// Events. ConsumerMessages and DeadLetters are fed by ObserveConsumer;
	// vidlib_consumer_lag_messages{group,topic} (WatchConsumerLag) and
	// vidlib_dead_letters_open (WatchDeadLettersOpen) are read at scrape time.
	ConsumerMessages *prometheus.CounterVec // vidlib_consumer_messages_total{group,topic,result}; result ok|retry|dead_letter|duplicate|skipped
	OutboxBacklog    prometheus.Gauge       // vidlib_outbox_backlog: rows not yet relayed (events.RelayOptions.Backlog)
	DeadLetters      *prometheus.CounterVec // vidlib_dead_letters_total{topic}: messages dead-lettered, by the topic they came from
	// FeaturesUnpublished counts ranking features the analytics consumer
	// could not publish (consumers.AnalyticsOptions.FeaturesUnpublished).
	FeaturesUnpublished prometheus.Counter // vidlib_analytics_features_unpublished_total

	// Outbound calls.
	RateLimiterWait *prometheus.HistogramVec // vidlib_rate_limiter_wait_seconds{provider}

	// ScrapeErrors counts failed reads of scrape-time sources (a store or a
	// broker that did not answer); their metrics are left out of that scrape.
	ScrapeErrors *prometheus.CounterVec // vidlib_scrape_errors_total{source}; source consumer_lag|dead_letters_open

	start time.Time
	now   func() time.Time
	log   *zap.Logger

	mu          sync.Mutex
	snap        SnapshotStatus        // as last observed (ObserveSnapshot)
	snapSource  func() SnapshotStatus // WatchSnapshot; nil: snap
	lastSuccess map[string]time.Time
}

// MetricsOptions tune NewMetrics. The zero value is valid.
type MetricsOptions struct {
	// Now is the clock for ages and lags (default time.Now).
	Now func() time.Time
	// DurationBuckets for HTTP request durations, in seconds (default
	// 1 ms … 10 s).
	DurationBuckets []float64
	// Logger receives failures of scrape-time sources (nil: none).
	Logger *zap.Logger
}

// NewMetrics registers vidlib's metrics on reg (nil: a NewRegistry).
func NewMetrics(reg *prometheus.Registry, opts *MetricsOptions) (*Metrics, error) {
	var o MetricsOptions
	if opts != nil {
		o = *opts
	}
	if reg == nil {
		reg = NewRegistry()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.DurationBuckets == nil {
		o.DurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	}
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by server, method, chi route pattern and status code."},
			[]string{"server", "method", "route", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "http_request_duration_seconds",
			Help: "HTTP request durations, by server, method and chi route pattern.", Buckets: o.DurationBuckets},
			[]string{"server", "method", "route"}),
		HTTPInFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "http_requests_in_flight",
			Help: "HTTP requests being served."}, []string{"server"}),
		SyncRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "sync_runs_total",
			Help: "Sync runs, by kind (reconcile, poll, webhook) and result (ok, error, stopped)."}, []string{"kind", "result"}),
		SyncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "sync_run_duration_seconds",
			Help:    "Duration of sync runs, by kind.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}}, []string{"kind"}),
		SyncChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "sync_changes_total",
			Help: "Changes applied to the mirror, by change (created, updated, moved, deleted, restored)."}, []string{"change"}),
		SyncLastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "sync_last_success_timestamp_seconds",
			Help: "Unix time of the last successful sync run, by kind."}, []string{"kind"}),
		ConsumerMessages: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "consumer_messages_total",
			Help: "Messages handled by consumers, by group, topic and result (ok, retry, dead_letter, duplicate)."},
			[]string{"group", "topic", "result"}),
		OutboxBacklog: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "outbox_backlog",
			Help: "Outbox rows not yet relayed to the broker."}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "dead_letters_total",
			Help: "Messages dead-lettered by this process's consumers, by the topic they were consumed from."}, []string{"topic"}),
		FeaturesUnpublished: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "analytics_features_unpublished_total",
			Help: "Ranking features the analytics consumer could not publish; those users are re-ranked at the next full recompute."}),
		RateLimiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "rate_limiter_wait_seconds",
			Help:    "Time outbound calls waited for their provider's rate limiter, by provider.",
			Buckets: []float64{0, .001, .01, .05, .1, .5, 1, 5, 15, 60, 300}}, []string{"provider"}),
		ScrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "scrape_errors_total",
			Help: "Failed reads of a scrape-time source (its metrics are missing from that scrape), by source."}, []string{"source"}),
		start:       o.Now(),
		now:         o.Now,
		log:         o.Logger.Named("metrics"),
		lastSuccess: map[string]time.Time{},
	}
	for _, c := range []prometheus.Collector{
		m.HTTPRequests, m.HTTPDuration, m.HTTPInFlight, (*snapshotCollector)(m),
		m.SyncRuns, m.SyncDuration, m.SyncChanges, m.SyncLastSuccess, (*syncLag)(m),
		m.ConsumerMessages, m.OutboxBacklog, m.DeadLetters, m.FeaturesUnpublished, m.RateLimiterWait, m.ScrapeErrors,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// SnapshotStatus is the served library snapshot as the metrics see it.
type SnapshotStatus struct {
	Loaded             bool // false until the first snapshot is served
	ContentVersion     int64
	EntitlementVersion int64
	LoadedAt           time.Time // when the served snapshot was swapped in
}

// ObserveSnapshot records that s is now served, for a server that swaps
// snapshots itself. WatchSnapshot, once called, takes precedence.
func (m *Metrics) ObserveSnapshot(s SnapshotStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snap = s
}

// WatchSnapshot makes the snapshot metrics read f at each scrape (the api
// server passes library.Service.Status). f must be fast and safe for
// concurrent use. Calling it again replaces f.
func (m *Metrics) WatchSnapshot(f func() SnapshotStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snapSource = f
}

// snapshotCollector exports the snapshot metrics at scrape time.
type snapshotCollector Metrics

var (
	snapContentDesc = prometheus.NewDesc(Namespace+"_snapshot_content_version",
		"Content version of the library snapshot this instance serves (absent until one is loaded).", nil, nil)
	snapEntitlementDesc = prometheus.NewDesc(Namespace+"_snapshot_entitlement_version",
		"Entitlement version of the library snapshot this instance serves (absent until one is loaded).", nil, nil)
	snapLoadedDesc = prometheus.NewDesc(Namespace+"_snapshot_loaded_timestamp_seconds",
		"Unix time the served library snapshot was loaded (absent until one is).", nil, nil)
	snapAgeDesc = prometheus.NewDesc(Namespace+"_snapshot_age_seconds",
		"Seconds since the served library snapshot was loaded (since process start while none is).", nil, nil)
)

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{snapContentDesc, snapEntitlementDesc, snapLoadedDesc, snapAgeDesc} {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	m := (*Metrics)(c)
	m.mu.Lock()
	s, src := m.snap, m.snapSource
	m.mu.Unlock()
	if src != nil {
		s = src()
	}
	since := m.start
	if s.Loaded {
		since = s.LoadedAt
		ch <- prometheus.MustNewConstMetric(snapContentDesc, prometheus.GaugeValue, float64(s.ContentVersion))
		ch <- prometheus.MustNewConstMetric(snapEntitlementDesc, prometheus.GaugeValue, float64(s.EntitlementVersion))
		ch <- prometheus.MustNewConstMetric(snapLoadedDesc, prometheus.GaugeValue, float64(s.LoadedAt.UnixNano())/1e9)
	}
	ch <- prometheus.MustNewConstMetric(snapAgeDesc, prometheus.GaugeValue, max(m.now().Sub(since).Seconds(), 0))
}

// SyncFinished records a sync run of kind ("reconcile", "poll", "webhook")
// with result "ok", "error" or "stopped" (a reconciliation held for an admin).
func (m *Metrics) SyncFinished(kind, result string, started, finished time.Time) {
	m.SyncRuns.WithLabelValues(kind, result).Inc()
	m.SyncDuration.WithLabelValues(kind).Observe(finished.Sub(started).Seconds())
	if result == "ok" {
		m.mu.Lock()
		m.lastSuccess[kind] = finished
		m.mu.Unlock()
		m.SyncLastSuccess.WithLabelValues(kind).Set(float64(finished.UnixNano()) / 1e9)
	}
}

// ObserveRateLimiterWait records that a call to provider waited d.
func (m *Metrics) ObserveRateLimiterWait(provider string, d time.Duration) {
	m.RateLimiterWait.WithLabelValues(provider).Observe(d.Seconds())
}

// GaugeFunc registers a gauge whose value is read from f at scrape time,
// e.g. a queue length. name gets the vidlib_ prefix; labels are constant.
func (m *Metrics) GaugeFunc(name, help string, labels prometheus.Labels, f func() float64) error {
	return m.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: name, Help: help, ConstLabels: labels}, f))
}

// WatchVimeo registers counters and gauges read from a Vimeo client's Stats
// and rate limiter at scrape time, labelled client=name (e.g. "sync"):
// vidlib_vimeo_requests_total, _rate_limited_total (429s), _retries_total,
// _server_errors_total, _transport_errors_total, _circuit_opened_total,
// vidlib_vimeo_circuit_open (1 while open) and
// vidlib_vimeo_ratelimit_remaining.
func (m *Metrics) WatchVimeo(name string, c *vimeo.Client) error {
	return m.Registry.Register(newVimeoCollector(name, c))
}

// Middleware records RED metrics for server ("api", "admin", "sync"): one
// count and one duration per request, labelled with the chi route pattern
// read after the handler ran (so /videos/{id}, never the raw path; requests
// no route matched are "unmatched"), the method and the status code. Put it
// on the root chi router (r.Use) or around it.
func (m *Metrics) Middleware(server string) func(http.Handler) http.Handler {
	return observe(m, server, nil)
}

// httpSeries are the HTTP metrics of one server, method, route and status,
// looked up once: a request then costs a map lookup instead of two label
// lookups in the vectors (each hashing and validating every label).
type httpSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// observe counts one finished request and its duration.
func (s *httpSeries) observe(d time.Duration) {
	s.requests.Inc()
	s.duration.Observe(d.Seconds())
}

type httpSeriesKey struct {
	method, route string
	status        int
}

// httpSeriesCache holds one server's httpSeries. Its keys are bounded as
// the labels are: standard methods, the router's patterns, status codes.
type httpSeriesCache struct{ m sync.Map } // httpSeriesKey → *httpSeries

// of returns the series of a finished request r of server.
func (c *httpSeriesCache) of(m *Metrics, server string, r *http.Request, status int) *httpSeries {
	k := httpSeriesKey{method: normMethod(r.Method), route: routePattern(r), status: status}
	if s, ok := c.m.Load(k); ok {
		return s.(*httpSeries)
	}
	s := &httpSeries{
		requests: m.HTTPRequests.WithLabelValues(server, k.method, k.route, strconv.Itoa(status)),
		duration: m.HTTPDuration.WithLabelValues(server, k.method, k.route),
	}
	got, _ := c.m.LoadOrStore(k, s)
	return got.(*httpSeries)
}

// normMethod bounds the method label to the standard methods.
func normMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// syncLag exports vidlib_sync_lag_seconds{kind}.
type syncLag Metrics

var syncLagDesc = prometheus.NewDesc(Namespace+"_sync_lag_seconds",
	"Seconds since the last successful sync run of each kind (since process start while none succeeded).",
	[]string{"kind"}, nil)

func (s *syncLag) Describe(ch chan<- *prometheus.Desc) { ch <- syncLagDesc }

func (s *syncLag) Collect(ch chan<- prometheus.Metric) {
	m := (*Metrics)(s)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for kind, t := range m.lastSuccess {
		ch <- prometheus.MustNewConstMetric(syncLagDesc, prometheus.GaugeValue, now.Sub(t).Seconds(), kind)
	}
}

// vimeoCollector reads a vimeo.Client at scrape time.
type vimeoCollector struct {
	c                                                                      *vimeo.Client
	requests, limited, retries, server, transport, opened, open, remaining *prometheus.Desc
}

func newVimeoCollector(name string, c *vimeo.Client) *vimeoCollector {
	d := func(n, help string) *prometheus.Desc {
		return prometheus.NewDesc(Namespace+"_vimeo_"+n, help, nil, prometheus.Labels{"client": name})
	}
	return &vimeoCollector{
		c:         c,
		requests:  d("requests_total", "HTTP requests sent to the Vimeo API, retries included."),
		limited:   d("rate_limited_total", "429 answers from the Vimeo API."),
		retries:   d("retries_total", "Vimeo API requests that repeated an earlier one."),
		server:    d("server_errors_total", "5xx answers from the Vimeo API."),
		transport: d("transport_errors_total", "Timeouts and broken connections to the Vimeo API."),
		opened:    d("circuit_opened_total", "Times the Vimeo circuit breaker opened."),
		open:      d("circuit_open", "1 while the Vimeo circuit breaker is open (calls fail fast)."),
		remaining: d("ratelimit_remaining", "Vimeo rate-limit requests remaining in the window, as last reported (-1: unknown)."),
	}
}

func (v *vimeoCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{v.requests, v.limited, v.retries, v.server, v.transport, v.opened, v.open, v.remaining} {
		ch <- d
	}
}

func (v *vimeoCollector) Collect(ch chan<- prometheus.Metric) {
	s := v.c.Stats()
	counter := func(d *prometheus.Desc, n int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n))
	}
	counter(v.requests, s.Requests)
	counter(v.limited, s.RateLimited)
	counter(v.retries, s.Retries)
	counter(v.server, s.ServerErrors)
	counter(v.transport, s.TransportErrors)
	counter(v.opened, int64(s.BreakerOpened))
	open := 0.0
	if s.Breaker == vimeo.BreakerOpen {
		open = 1
	}
	ch <- prometheus.MustNewConstMetric(v.open, prometheus.GaugeValue, open)
	remaining := -1.0
	if rl := v.c.RateLimiter(); rl != nil {
		if st := rl.State(); st.Limit > 0 {
			remaining = float64(st.Remaining)
		}
	}
	ch <- prometheus.MustNewConstMetric(v.remaining, prometheus.GaugeValue, remaining)
}

// ObserveSync records a finished sync run of kind ("reconcile", "poll",
// "webhook"): SyncFinished with result "ok", "error", or "stopped" when its
// context was cancelled, and one vidlib_sync_changes_total count per applied
// change, labelled with the change's last word (created, moved, …). It fits
// syncworker.AnnounceOptions.Observe.
func (m *Metrics) ObserveSync(kind string, start time.Time, rep *tree.Report, err error) {
	result := "ok"
	if err != nil {
		result = "error"
		if errors.Is(err, context.Canceled) {
			result = "stopped"
		}
	}
	m.SyncFinished(kind, result, start, m.now())
	if rep == nil {
		return
	}
	for _, c := range rep.Applied {
		m.SyncChanges.WithLabelValues(changeLabel(c.Kind)).Inc()
	}
}

// changeLabel is the last word of a change kind ("tree.folder.moved" → "moved").
func changeLabel(k tree.ChangeKind) string {
	s := string(k)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

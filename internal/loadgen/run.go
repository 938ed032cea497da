package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Request is one HTTP request of a workload.
type Request struct {
	Endpoint string // the report row it counts under: "home", "folder", …
	Method   string // "" means GET
	Path     string // path and query, appended to the target URL
	Token    string // bearer token; "" sends no Authorization header
	// Expect is the status that counts as a success; 0 means any 2xx. A request
	// aimed at an object the user may not see expects 404.
	Expect int
}

// Defaults of Options.
const (
	DefaultMaxInFlight = 2048
	DefaultTimeout     = 10 * time.Second
)

// Status keys of Stats.Statuses that are not HTTP status codes.
const (
	StatusOverflow = "overflow" // not sent: MaxInFlight requests were already waiting
	StatusTimeout  = "timeout"  // no complete answer within Options.Timeout
	StatusError    = "error"    // a transport error (connection refused, reset, …)
)

// Options configure one Run.
type Options struct {
	// Rate is the arrival rate in requests per second (required).
	Rate float64
	// Duration is how long requests are scheduled and measured (required).
	Duration time.Duration
	// Warmup is scheduled before Duration at the same rate; its requests are
	// sent but not recorded.
	Warmup time.Duration
	// MaxInFlight caps the requests waiting for an answer (default
	// DefaultMaxInFlight). A request scheduled while the cap is reached is not
	// sent and counts as an error (StatusOverflow): the load is never quietly
	// reduced.
	MaxInFlight int
	// Timeout bounds one request, from its send to the end of its body
	// (default DefaultTimeout).
	Timeout time.Duration
	// Client, if set, sends the requests with net/http. By default http://
	// targets get the package's lean HTTP/1.1 client (keep-alive connections,
	// one request in flight on each, see doc.go) and https:// targets a
	// net/http keep-alive client sized for MaxInFlight, without compression.
	Client *http.Client
	// PID, if positive, is the server process whose CPU time and RSS are read
	// from /proc/<pid> over the measured window (os.Getpid() for an in-process
	// server: then the numbers include the load generator).
	PID int
}

// Result is the outcome of one Run.
type Result struct {
	Rate     float64       `json:"target_rate"` // requests per second scheduled
	Duration time.Duration `json:"-"`           // the measured window
	// Endpoints are the per-endpoint statistics, sorted by name.
	Endpoints []*Stats `json:"endpoints"`
	// Total aggregates every endpoint.
	Total *Stats `json:"total"`
	// Lag is how late requests were sent after their intended time: the load
	// generator's own delay, which Latency includes and Service excludes.
	Lag Latency `json:"send_lag"`
	// Server is the server process's usage over the window (nil without PID).
	Server *Usage `json:"server,omitempty"`
}

// Stats are the numbers of one endpoint (or the total).
type Stats struct {
	Endpoint string `json:"endpoint"`
	// Count is how many requests were scheduled in the window, overflow included.
	Count int64 `json:"count"`
	// Errors counts requests whose outcome was not the expected status:
	// unexpected statuses, timeouts, transport errors and overflow.
	Errors int64 `json:"errors"`
	// Statuses counts outcomes: HTTP codes ("200", "404") and StatusOverflow,
	// StatusTimeout, StatusError.
	Statuses map[string]int64 `json:"statuses"`
	// Latency is measured from each request's intended send time (its slot in
	// the schedule) to the end of its answer, so that a stalled server is not
	// hidden by requests that were sent late (no coordinated omission).
	// Every sent request is recorded, whatever its outcome.
	Latency Latency `json:"latency"`
	// Service is measured from the actual send to the end of the answer.
	Service Latency `json:"service"`
	// Throughput is the answered requests per second over the window.
	Throughput float64 `json:"throughput"`
	// Bytes counts the response body bytes read (after chunked decoding) of
	// the requests recorded in Latency.
	Bytes int64 `json:"body_bytes"`

	// Histogram holds Latency's values in microseconds.
	Histogram *hdrhistogram.Histogram `json:"-"`
	service   *hdrhistogram.Histogram
}

// Latency summarises a histogram.
type Latency struct {
	P50, P95, P99, P999, Max, Mean time.Duration
}

// MarshalJSON writes the percentiles in milliseconds.
func (l Latency) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }
	return fmt.Appendf(nil, `{"p50_ms":%s,"p95_ms":%s,"p99_ms":%s,"p999_ms":%s,"max_ms":%s,"mean_ms":%s}`,
		ms(l.P50), ms(l.P95), ms(l.P99), ms(l.P999), ms(l.Max), ms(l.Mean)), nil
}

// Histogram bounds: 1 µs to one minute, three significant digits.
const (
	histLowest  = 1
	histHighest = int64(time.Minute / time.Microsecond)
	histDigits  = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

func record(h *hdrhistogram.Histogram, d time.Duration) {
	us := max(int64(d/time.Microsecond), histLowest)
	_ = h.RecordValue(min(us, histHighest)) // in range by construction
}

func summarise(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Latency{
		P50: us(h.ValueAtQuantile(50)), P95: us(h.ValueAtQuantile(95)), P99: us(h.ValueAtQuantile(99)),
		P999: us(h.ValueAtQuantile(99.9)), Max: us(h.Max()), Mean: time.Duration(h.Mean() * float64(time.Microsecond)),
	}
}

func newStats(endpoint string) *Stats {
	return &Stats{Endpoint: endpoint, Statuses: map[string]int64{}, Histogram: newHistogram(), service: newHistogram()}
}

// collector gathers outcomes; one mutex is plenty at tens of thousands of
// requests per second.
type collector struct {
	mu    sync.Mutex
	stats map[string]*Stats
	lag   *hdrhistogram.Histogram
}

func (c *collector) add(endpoint, status string, ok bool, latency, service, lag time.Duration, sent bool, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats[endpoint]
	if s == nil {
		s = newStats(endpoint)
		c.stats[endpoint] = s
	}
	s.Count++
	s.Statuses[status]++
	if !ok {
		s.Errors++
	}
	if sent {
		s.Bytes += bytes
		record(s.Histogram, latency)
		record(s.service, service)
		record(c.lag, lag)
	}
}

// job is one scheduled request on its way to a sender.
type job struct {
	req      Request
	due      time.Time // its slot in the schedule
	measured bool      // in the Duration window (not warm-up)
}

// outcome is how one sent request ended.
type outcome struct {
	status string // Stats.Statuses key
	ok     bool   // the expected status
	bytes  int64  // body bytes read
}

// runner is the bookkeeping of one Run that both senders share.
type runner struct {
	col      *collector
	inflight atomic.Int64
	wg       sync.WaitGroup
}

// record files a sent request's outcome: sent is when the sender began
// sending it, end when its answer was complete (or failed).
func (r *runner) record(j *job, out outcome, sent, end time.Time) {
	if j.measured {
		r.col.add(j.req.Endpoint, out.status, out.ok, end.Sub(j.due), end.Sub(sent), sent.Sub(j.due), true, out.bytes)
	}
}

// release frees a finished request's MaxInFlight slot.
func (r *runner) release() {
	r.inflight.Add(-1)
	r.wg.Done()
}

// Run sends next(0), next(1), … at opts.Rate for opts.Warmup+opts.Duration
// against target (a base URL such as http://127.0.0.1:8080) and reports
// what it measured in the Duration window.
//
// It is an open model: request i is due at start + i/Rate whatever happened
// to earlier requests, is handed at once to a sender that never waits for a
// connection (the lean client's idle or new connection, or a goroutine of
// its own with Options.Client or https), and its latency counts from that
// due time. next must be safe for concurrent use only in the sense
// that Run calls it from one goroutine; it should be cheap.
//
// Run returns when every sent request has finished. A cancelled ctx stops the
// schedule and ends the requests in flight (counted as StatusError); the
// result so far is returned with ctx's error.
func Run(ctx context.Context, target string, next func(seq uint64) Request, opts *Options) (*Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if next == nil {
		return nil, fmt.Errorf("%w: Run needs a request source", ErrInvalid)
	}
	base := strings.TrimSuffix(target, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("%w: target %q is not an http(s) URL", ErrInvalid, target)
	}
	col := &collector{stats: map[string]*Stats{}, lag: newHistogram()}
	r := &runner{col: col}
	var dispatch func(job)
	var lean *pool
	if o.Client == nil {
		lean = newPool(ctx, base, o.Timeout, r)
	}
	if lean != nil {
		stop := context.AfterFunc(ctx, lean.abort)
		defer stop()
		dispatch = lean.dispatch
	} else {
		client := o.Client
		if client == nil {
			client = defaultClient(o.MaxInFlight)
			defer client.CloseIdleConnections()
		}
		dispatch = func(j job) {
			go func() {
				sent := time.Now()
				out := send(ctx, client, base, j.req, o.Timeout)
				r.record(&j, out, sent, time.Now())
				r.release()
			}()
		}
	}

	interval := float64(time.Second) / o.Rate
	warm := uint64(o.Warmup.Seconds() * o.Rate)
	total := warm + uint64(o.Duration.Seconds()*o.Rate)
	var usage *usageMeter

	start := time.Now().Add(time.Millisecond)
	ctxErr := pace(ctx, start, interval, total, func(seq uint64, due time.Time) {
		if seq == warm && o.PID > 0 {
			usage = startUsage(o.PID)
		}
		req := next(seq)
		measured := seq >= warm
		if r.inflight.Load() >= int64(o.MaxInFlight) {
			if measured {
				col.add(req.Endpoint, StatusOverflow, false, 0, 0, 0, false, 0)
			}
			return
		}
		r.inflight.Add(1)
		r.wg.Add(1)
		dispatch(job{req: req, due: due, measured: measured})
	})
	r.wg.Wait()
	if lean != nil {
		lean.close()
	}
	var server *Usage
	if usage != nil {
		u := usage.stop()
		server = &u
	}

	res := &Result{Rate: o.Rate, Duration: o.Duration, Lag: summarise(col.lag), Server: server}
	res.Total = newStats("total")
	names := make([]string, 0, len(col.stats))
	for name := range col.stats {
		names = append(names, name)
	}
	slices.Sort(names)
	secs := o.Duration.Seconds()
	for _, name := range names {
		s := col.stats[name]
		s.finish(secs)
		res.Endpoints = append(res.Endpoints, s)
		res.Total.Count += s.Count
		res.Total.Errors += s.Errors
		res.Total.Bytes += s.Bytes
		for k, v := range s.Statuses {
			res.Total.Statuses[k] += v
		}
		res.Total.Histogram.Merge(s.Histogram)
		res.Total.service.Merge(s.service)
	}
	res.Total.finish(secs)
	return res, ctxErr
}

func (s *Stats) finish(secs float64) {
	s.Latency = summarise(s.Histogram)
	s.Service = summarise(s.service)
	if secs > 0 {
		s.Throughput = float64(s.Count-s.Statuses[StatusOverflow]-s.Statuses[StatusTimeout]-s.Statuses[StatusError]) / secs
	}
}

// send performs one request with net/http and classifies its outcome.
func send(ctx context.Context, client *http.Client, base string, r Request, timeout time.Duration) outcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, base+r.Path, nil)
	if err != nil {
		return outcome{status: StatusError}
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	resp, err := client.Do(req)
	var n int64
	if err == nil {
		n, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		if isTimeout(err) {
			return outcome{status: StatusTimeout}
		}
		return outcome{status: StatusError}
	}
	return outcome{status: statusKey(resp.StatusCode), ok: expected(r.Expect, resp.StatusCode), bytes: n}
}

func defaultClient(maxInFlight int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        maxInFlight,
		MaxIdleConnsPerHost: maxInFlight,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}}
}

func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Rate <= 0 || out.Duration <= 0 {
		return out, fmt.Errorf("%w: Rate and Duration must be positive (got %v/s for %v)", ErrInvalid, out.Rate, out.Duration)
	}
	if out.Warmup < 0 {
		return out, fmt.Errorf("%w: negative Warmup %v", ErrInvalid, out.Warmup)
	}
	if out.Rate*(out.Warmup+out.Duration).Seconds() < 1 {
		return out, fmt.Errorf("%w: %v/s for %v schedules no request", ErrInvalid, out.Rate, out.Warmup+out.Duration)
	}
	if out.MaxInFlight <= 0 {
		out.MaxInFlight = DefaultMaxInFlight
	}
	if out.Timeout <= 0 {
		out.Timeout = DefaultTimeout
	}
	return out, nil
}

package ops

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// HeaderRequestID is the request id header, accepted and echoed.
const HeaderRequestID = "X-Request-Id"

// requestInfoKey is the context key of a *requestInfo.
type requestInfoKey struct{}

// requestInfo is what RequestID and WithLogger put in a request's context:
// the request id, and either the logger set with WithLogger or the base
// logger that Logger derives the request-scoped one from when asked (most
// requests never log, so none is made up front).
type requestInfo struct {
	id     string
	base   *zap.Logger // derive from this (RequestID)
	logger *zap.Logger // or use this as it is (WithLogger)
}

func requestInfoOf(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

// RequestIDFrom returns the request id put in ctx by RequestID.
func RequestIDFrom(r *http.Request) string {
	if ri := requestInfoOf(r.Context()); ri != nil {
		return ri.id
	}
	return ""
}

// SaneRequestID reports whether a client-supplied request id may be used:
// 1 to 128 characters of letters, digits and -_.:/+=@.
func SaneRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '/', c == '+', c == '=', c == '@':
		default:
			return false
		}
	}
	return true
}

// RequestID is middleware that gives every request an id: the incoming
// X-Request-Id if SaneRequestID, else a new UUIDv7. The id goes into the
// context (RequestIDFrom) and the response header; Logger then returns a
// logger derived from base with request_id, trace_id and span_id fields.
// Put it inside the tracing wrapper so the trace ids are known. A request
// that already has an id (an HTTPServer gave it one) passes through
// unchanged, so a handler that uses RequestID itself, for use without an
// HTTPServer, keeps the server's id and logger.
func RequestID(base *zap.Logger) func(http.Handler) http.Handler {
	if base == nil {
		base = zap.NewNop()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if RequestIDFrom(r) != "" {
				next.ServeHTTP(w, r)
				return
			}
			id := r.Header.Get(HeaderRequestID)
			if !SaneRequestID(id) {
				id = newRequestID()
			}
			w.Header()[HeaderRequestID] = []string{id}
			ctx := context.WithValue(r.Context(), requestInfoKey{}, &requestInfo{id: id, base: base})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// newRequestID returns a new UUIDv7 (RFC 9562): the Unix time in
// milliseconds, then 74 random bits. The bits come from math/rand/v2's
// generator (ChaCha8, seeded by the runtime from the system), which costs
// a fraction of reading the system's random source for each request; a
// request id needs to be unique, not secret.
func newRequestID() string {
	var u uuid.UUID
	hi := uint64(time.Now().UnixMilli())<<16 | 0x7000 | rand.Uint64()&0x0fff
	lo := rand.Uint64()&0x3fff_ffff_ffff_ffff | 0x8000_0000_0000_0000
	binary.BigEndian.PutUint64(u[:8], hi)
	binary.BigEndian.PutUint64(u[8:], lo)
	return u.String()
}

// AccessLogOptions tune AccessLog. The zero value logs every request.
type AccessLogOptions struct {
	// Skip returns true for requests that are not logged (e.g. health
	// probes). Default: none skipped.
	Skip func(r *http.Request) bool
	// SampleFirst and SampleThereafter sample the entries of 1xx–4xx
	// answers: in each second the first SampleFirst are written, then one
	// in SampleThereafter (zap's sampler). 5xx answers are always written.
	// Zero SampleFirst: no sampling.
	SampleFirst, SampleThereafter int
}

// Defaults of an HTTPServer's access log: every request up to 100 a second,
// then one in 100; health probes and scrapes are not logged.
const (
	DefaultAccessLogFirst      = 100
	DefaultAccessLogThereafter = 100
)

// SkipProbes skips /healthz, /readyz and /metrics: the probes and scrapes
// that arrive every few seconds and say nothing about the traffic.
func SkipProbes(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// accessLog writes the access log's entries.
type accessLog struct {
	log     *zap.Logger
	skip    func(*http.Request) bool
	sampler *sampler // of 1xx–4xx entries; nil: every one is written
}

func newAccessLog(logger *zap.Logger, opts *AccessLogOptions) *accessLog {
	if logger == nil {
		logger = zap.NewNop()
	}
	var o AccessLogOptions
	if opts != nil {
		o = *opts
	}
	a := &accessLog{log: logger.Named("access"), skip: o.Skip}
	if o.SampleFirst > 0 {
		a.sampler = &sampler{first: uint64(o.SampleFirst), thereafter: uint64(max(o.SampleThereafter, 1))}
	}
	return a
}

// sampler lets through, in each second, the first entries, then one in
// thereafter: zap's sampler for one message, without the entry it needs to
// be asked, so that an entry left out costs two atomic operations.
type sampler struct {
	first, thereafter uint64
	second            atomic.Int64 // the Unix second being counted
	n                 atomic.Uint64
}

func (s *sampler) allow(now time.Time) bool {
	sec := now.Unix()
	if t := s.second.Load(); sec > t && s.second.CompareAndSwap(t, sec) { // a late request of the last second counts in this one
		s.n.Store(0)
	}
	n := s.n.Add(1)
	return n <= s.first || (n-s.first)%s.thereafter == 0
}

// write logs one request that finished at end, after d.
func (a *accessLog) write(r *http.Request, status, bytes int, end time.Time, d time.Duration) {
	level := zapcore.InfoLevel
	if status >= 500 {
		level = zapcore.ErrorLevel // never sampled
	} else if a.sampler != nil && !a.sampler.allow(end) {
		return
	}
	ce := a.log.Check(level, "request")
	if ce == nil {
		return
	}
	fields := make([]zap.Field, 0, 12)
	fields = append(fields,
		zap.String("method", r.Method),
		zap.String("route", routePattern(r)),
		zap.String("path", r.URL.Path),
		zap.Int("status", status),
		zap.Int("bytes", bytes),
		zap.Duration("duration", d),
		zap.String("remote", r.RemoteAddr),
		zap.String("user_agent", r.UserAgent()),
	)
	if id := RequestIDFrom(r); id != "" {
		fields = append(fields, zap.String("request_id", id))
	}
	fields = append(fields, TraceFields(r.Context())...)
	ce.Write(fields...)
}

// AccessLog is middleware that writes one entry per request after it
// finished: method, route (the chi pattern), path, status, bytes, duration,
// remote address, user agent, request id and trace id. 5xx answers are
// logged at error level, 4xx at info with the rest. Use it after RequestID.
// An HTTPServer already writes this log for every server (with metrics, in
// one wrapper); use AccessLog for a handler served some other way.
func AccessLog(logger *zap.Logger, opts *AccessLogOptions) func(http.Handler) http.Handler {
	return observe(nil, "", newAccessLog(logger, opts))
}

// observe is the one wrapper that records a request's RED metrics (m, when
// set, labelled server) and its access log entry (a, when set), around one
// wrapped ResponseWriter.
func observe(m *Metrics, server string, a *accessLog) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if m == nil && a == nil {
			return next
		}
		var inflight prometheus.Gauge
		var series httpSeriesCache
		if m != nil {
			inflight = m.HTTPInFlight.WithLabelValues(server)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			logged := a != nil && (a.skip == nil || !a.skip(r))
			if m == nil && !logged {
				next.ServeHTTP(w, r)
				return
			}
			r, rc := withRouteContext(r)
			if inflight != nil {
				inflight.Inc()
				defer inflight.Dec()
			}
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			end := time.Now()
			d := end.Sub(start)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			if m != nil {
				series.of(m, server, r, status).observe(d)
			}
			if logged {
				a.write(r, status, ww.BytesWritten(), end, d)
			}
			if rc != nil {
				rc.Reset()
				routeContexts.Put(rc)
			}
		})
	}
}

// routeContexts are the chi route contexts observe lends to requests.
var routeContexts = sync.Pool{New: func() any { return chi.NewRouteContext() }}

// withRouteContext makes sure r carries a chi route context, so that a chi
// router below fills it in (instead of making its own) and the pattern is
// readable after the handler ran, even when this middleware wraps the router
// from outside. A context it lent (rc, nil if r had one) goes back to
// routeContexts when the request is done, as chi does with its own.
func withRouteContext(r *http.Request) (_ *http.Request, rc *chi.Context) {
	if chi.RouteContext(r.Context()) != nil {
		return r, nil
	}
	rc = routeContexts.Get().(*chi.Context)
	return r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rc)), rc
}

// routePattern is the matched chi route, or "unmatched".
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
}

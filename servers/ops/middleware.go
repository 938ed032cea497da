package ops

import (
	"net/http"
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

type requestIDKey struct{}

// RequestIDFrom returns the request id put in ctx by RequestID.
func RequestIDFrom(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
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
// context (RequestIDFrom), the response header, and a request-scoped logger
// derived from base with request_id, trace_id and span_id fields (Logger).
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
			w.Header().Set(HeaderRequestID, id)
			ctx := r.Context()
			fields := append([]zap.Field{zap.String("request_id", id)}, TraceFields(ctx)...)
			// Lazily: most requests never log (the access log is sampled),
			// and With would encode the fields into a new core for each.
			ctx = WithLogger(ctx, base.WithLazy(fields...))
			ctx = contextWithRequestID(ctx, id)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

func newRequestID() string {
	if u, err := uuid.NewV7(); err == nil {
		return u.String()
	}
	return uuid.NewString()
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
	ok, errs *zap.Logger // errs is never sampled
	skip     func(*http.Request) bool
}

func newAccessLog(logger *zap.Logger, opts *AccessLogOptions) *accessLog {
	if logger == nil {
		logger = zap.NewNop()
	}
	logger = logger.Named("access")
	var o AccessLogOptions
	if opts != nil {
		o = *opts
	}
	a := &accessLog{ok: logger, errs: logger, skip: o.Skip}
	if o.SampleFirst > 0 {
		thereafter := max(o.SampleThereafter, 1)
		a.ok = logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
			return zapcore.NewSamplerWithOptions(c, time.Second, o.SampleFirst, thereafter)
		}))
	}
	return a
}

// write logs one finished request.
func (a *accessLog) write(r *http.Request, status, bytes int, d time.Duration) {
	logger, level := a.ok, zapcore.InfoLevel
	if status >= 500 {
		logger, level = a.errs, zapcore.ErrorLevel
	}
	ce := logger.Check(level, "request")
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
		if m != nil {
			inflight = m.HTTPInFlight.WithLabelValues(server)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			logged := a != nil && (a.skip == nil || !a.skip(r))
			if m == nil && !logged {
				next.ServeHTTP(w, r)
				return
			}
			r = withRouteContext(r)
			if inflight != nil {
				inflight.Inc()
				defer inflight.Dec()
			}
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			d := time.Since(start)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			if m != nil {
				m.recordHTTP(server, r, status, d)
			}
			if logged {
				a.write(r, status, ww.BytesWritten(), d)
			}
		})
	}
}

// withRouteContext makes sure r carries a chi route context, so that a chi
// router below fills it in (instead of making its own) and the pattern is
// readable after the handler ran, even when this middleware wraps the router
// from outside.
func withRouteContext(r *http.Request) *http.Request {
	if chi.RouteContext(r.Context()) != nil {
		return r
	}
	return r.WithContext(contextWithRouteContext(r))
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

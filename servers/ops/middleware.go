package ops

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
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
// Put it inside the tracing wrapper so the trace ids are known.
func RequestID(base *zap.Logger) func(http.Handler) http.Handler {
	if base == nil {
		base = zap.NewNop()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(HeaderRequestID)
			if !SaneRequestID(id) {
				id = newRequestID()
			}
			w.Header().Set(HeaderRequestID, id)
			ctx := r.Context()
			fields := append([]zap.Field{zap.String("request_id", id)}, TraceFields(ctx)...)
			ctx = WithLogger(ctx, base.With(fields...))
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
}

// AccessLog is middleware that writes one entry per request after it
// finished: method, route (the chi pattern), path, status, bytes, duration,
// remote address, user agent, request id and trace id. 5xx answers are
// logged at error level, 4xx at info with the rest. Use it after RequestID.
func AccessLog(logger *zap.Logger, opts *AccessLogOptions) func(http.Handler) http.Handler {
	if logger == nil {
		logger = zap.NewNop()
	}
	logger = logger.Named("access")
	var skip func(*http.Request) bool
	if opts != nil {
		skip = opts.Skip
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if skip != nil && skip(r) {
				next.ServeHTTP(w, r)
				return
			}
			r = withRouteContext(r)
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			level := zapcore.InfoLevel
			if status >= 500 {
				level = zapcore.ErrorLevel
			}
			if ce := logger.Check(level, "request"); ce != nil {
				fields := []zap.Field{
					zap.String("method", r.Method),
					zap.String("route", routePattern(r)),
					zap.String("path", r.URL.Path),
					zap.Int("status", status),
					zap.Int("bytes", ww.BytesWritten()),
					zap.Duration("duration", time.Since(start)),
					zap.String("remote", r.RemoteAddr),
					zap.String("user_agent", r.UserAgent()),
				}
				if id := RequestIDFrom(r); id != "" {
					fields = append(fields, zap.String("request_id", id))
				}
				fields = append(fields, TraceFields(r.Context())...)
				ce.Write(fields...)
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

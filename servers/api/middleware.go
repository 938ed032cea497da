package api

import (
	"context"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/ops"
)

// recoverer turns a panic into a logged 500 with the JSON error shape.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", zap.Any("panic", v), zap.String("path", r.URL.Path), zap.String("request_id", ops.RequestIDFrom(r)))
				writeError(w, r, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limits refuses oversized URIs (414) and bodies (413), caps what a handler
// may read of the body, and bounds the request context.
func (s *Server) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.RequestURI) > s.opts.MaxURLBytes {
			writeError(w, r, http.StatusRequestURITooLong, "uri_too_long", "request URI too long")
			return
		}
		maxBody := s.opts.MaxBodyBytes
		if r.URL.Path == "/analytics/events" && s.opts.Analytics.enabled() {
			maxBody = s.opts.Analytics.MaxBodyBytes
		}
		if r.ContentLength > maxBody {
			writeError(w, r, http.StatusRequestEntityTooLarge, "body_too_large", "request body too large")
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.HandlerTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// userLimiter is a token bucket per user, in a bounded table (emptied when
// full: a user then gets a fresh bucket, which errs on the side of serving).
type userLimiter struct {
	mu    sync.Mutex
	max   int
	rate  rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func (l *userLimiter) get(user string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.m[user]
	if lim == nil {
		if len(l.m) >= l.max {
			clear(l.m)
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.m[user] = lim
	}
	return lim
}

// rateLimit answers 429 with Retry-After once a user is over their rate. It
// runs after authentication, keyed by the internal user id.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := viewerFrom(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		key := v.UserID
		if v.Anonymous {
			key = "anon:" + s.clientAddr(r)
		}
		lim := s.limiter.get(key)
		now := time.Now()
		res := lim.ReserveN(now, 1)
		if d := res.DelayFrom(now); !res.OK() || d > 0 {
			res.CancelAt(now)
			secs := max(1, int(math.Ceil(d.Seconds())))
			if !res.OK() || d == rate.InfDuration {
				secs = 1
			}
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, r, http.StatusTooManyRequests, "rate_limited", "too many requests; slow down")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientAddr is the client's address for limiting anonymous visitors: the
// connection's, or with TrustForwardedFor the last X-Forwarded-For entry.
func (s *Server) clientAddr(r *http.Request) string {
	if s.opts.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a := strings.TrimSpace(last); a != "" {
				return a
			}
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// writeBody sends an encoded answer with its ETag; a matching If-None-Match
// gets 304, and a client that accepts gzip gets the gzip encoding when the
// body is large enough for it to pay.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, b *library.Body, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheControl)
	h.Set("Vary", "Accept-Encoding, Authorization")
	h.Set("ETag", b.ETag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, b.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := b.JSON
	if s.opts.GzipMinBytes >= 0 && len(body) >= s.opts.GzipMinBytes && acceptsGzip(r) {
		body = b.Gzip()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagMatch implements If-None-Match's weak comparison over a list.
func etagMatch(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		t := strings.TrimSpace(part)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

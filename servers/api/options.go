package api

import (
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Defaults of Options.
const (
	DefaultAddr            = ":8080"
	DefaultRateLimit       = 20 // requests per second per user
	DefaultRateBurst       = 60
	DefaultMaxLimitedUsers = 100_000
	DefaultHandlerTimeout  = 5 * time.Second
	DefaultMaxBodyBytes    = 64 << 10
	DefaultMaxURLBytes     = 4 << 10
	DefaultGzipMinBytes    = 1 << 10
)

// Options tune a Server. The zero value (and nil) is valid. The
// connection's limits (header and body read timeouts, write timeout, header
// size) belong to the listener, ops.HTTPServer, which every server shares:
// see ops.HTTPServerOptions and the --http-* settings.
type Options struct {
	// Addr is where Module listens (default DefaultAddr; "127.0.0.1:0" picks a port).
	Addr string
	// RateLimit is each user's sustained request rate per second (default
	// DefaultRateLimit; negative: no limit), RateBurst the burst (default
	// DefaultRateBurst). Over it the answer is 429 with Retry-After.
	RateLimit float64
	RateBurst int
	// MaxLimitedUsers bounds the per-user limiter table; when full it is
	// emptied (default DefaultMaxLimitedUsers). Anonymous visitors (public
	// content) are limited like users, each client address on its own.
	MaxLimitedUsers int
	// TrustForwardedFor takes an anonymous client's address from the last
	// X-Forwarded-For entry, the one a single trusted proxy in front (the
	// load balancer) appends; off, from the connection. Set it only behind
	// such a proxy: a client can forge every other entry.
	TrustForwardedFor bool
	// HandlerTimeout bounds each request's context (default DefaultHandlerTimeout).
	HandlerTimeout time.Duration
	// MaxBodyBytes refuses larger request bodies with 413 (default DefaultMaxBodyBytes);
	// MaxURLBytes longer request URIs with 414 (default DefaultMaxURLBytes).
	MaxBodyBytes int64
	MaxURLBytes  int
	// GzipMinBytes is the smallest body sent gzip-encoded to a client that
	// accepts it (default DefaultGzipMinBytes; negative: never).
	GzipMinBytes int
	// Analytics switches on playback sessions and analytics ingest (zero:
	// off).
	Analytics AnalyticsOptions
	Logger    *zap.Logger // nil: no logging
}

func (o *Options) withDefaults() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if r.Addr == "" {
		r.Addr = DefaultAddr
	}
	if r.RateLimit == 0 {
		r.RateLimit = DefaultRateLimit
	}
	if r.RateBurst == 0 {
		r.RateBurst = DefaultRateBurst
	}
	if r.MaxLimitedUsers <= 0 {
		r.MaxLimitedUsers = DefaultMaxLimitedUsers
	}
	def(&r.HandlerTimeout, DefaultHandlerTimeout)
	if r.MaxBodyBytes == 0 {
		r.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if r.MaxURLBytes == 0 {
		r.MaxURLBytes = DefaultMaxURLBytes
	}
	if r.GzipMinBytes == 0 {
		r.GzipMinBytes = DefaultGzipMinBytes
	}
	if r.RateBurst < 0 || r.HandlerTimeout < 0 || r.MaxBodyBytes < 0 || r.MaxURLBytes < 0 {
		return r, fmt.Errorf("%w: negative limit", ErrInvalid)
	}
	if err := r.Analytics.withDefaults(); err != nil {
		return r, err
	}
	if r.Logger == nil {
		r.Logger = zap.NewNop()
	}
	r.Logger = r.Logger.Named("api")
	return r, nil
}

package vimeo

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/vidlib/vidlib/provider"
)

// RateLimiterOptions configures a RateLimiter (provider.RateLimiterOptions).
// The zero value is valid: Vimeo's X-RateLimit-Limit, -Remaining and -Reset
// headers (ISO-8601 or Unix epoch), a 60 s window, a tenth of the limit as
// burst, 1 s of jitter, a 2 s to 90 s backoff after a 429 without headers.
// OnWait is the metrics hook: told how long each Wait waited.
type RateLimiterOptions = provider.RateLimiterOptions

// RateLimiter is the token bucket of one Vimeo credential
// (provider.RateLimiter on golang.org/x/time/rate): seeded and corrected by
// the X-RateLimit-* headers of every answer; after a 429 every caller waits
// until the ban ends. One RateLimiter may be shared by several Clients that use
// the same token (pass it in Options.RateLimiter). It is safe for concurrent
// use.
type RateLimiter = provider.RateLimiter

// RateLimitState is a snapshot of what the limiter knows.
type RateLimitState = provider.RateLimitState

// NewRateLimiter returns a limiter for one credential.
func NewRateLimiter(opts *RateLimiterOptions) *RateLimiter {
	var o RateLimiterOptions
	if opts != nil {
		o = *opts
	}
	if o.ParseReset == nil {
		o.ParseReset = parseReset
	}
	return provider.NewRateLimiter(&o)
}

func newRand(seed uint64) *rand.Rand {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// parseReset reads X-RateLimit-Reset as ISO-8601 (what Vimeo documents) or as a
// Unix epoch (the legacy form).
func parseReset(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	return parseTime(v)
}

// parseRetryAfter reads Retry-After as delta-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	return provider.RetryAfter(v, now)
}

// bucket is an operation's call budget (provider.Budget on the client's
// clock); nil means none.
type bucket struct{ b *provider.Budget }

// newBudget returns a bucket allowing perMinute calls a minute, with a burst of
// a tenth of that (at least one); nil for no budget.
func newBudget(clock Clock, perMinute int) *bucket {
	b := provider.NewBudget(clock, perMinute)
	if b == nil {
		return nil
	}
	return &bucket{b}
}

func (b *bucket) wait(ctx context.Context) error {
	if b == nil {
		return nil
	}
	return b.b.Wait(ctx)
}

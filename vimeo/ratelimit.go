package vimeo

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimiterOptions configures a RateLimiter. The zero value is valid.
type RateLimiterOptions struct {
	// Window is the length of Vimeo's rate-limit window, used to turn
	// X-RateLimit-Limit into a refill rate. Vimeo documents a per-minute limit;
	// default 60 s. The Remaining/Reset headers bound the client whatever the
	// real window is.
	Window time.Duration
	// Burst is the share of the limit that may be sent back to back; the rest is
	// paced evenly over the window. Default 0.1.
	Burst float64
	// Jitter is the largest random delay added to a wait until a reset, so that
	// concurrent callers do not all fire at the same instant. Default 1 s.
	Jitter time.Duration
	// BackoffBase and BackoffMax bound the wait after a 429 that carried neither
	// X-RateLimit-Reset nor Retry-After: BackoffBase doubled per consecutive
	// 429, capped at BackoffMax, with jitter. Defaults 2 s and 90 s.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Clock defaults to the system clock.
	Clock Clock
	// Seed seeds the jitter; 0 picks a random seed.
	Seed uint64
	// OnWait, if set, is called after every successful Wait with the time
	// that call spent waiting for the budget (0 when a request could go out
	// at once), measured on Clock: the metrics hook for rate-limiter waits.
	// It is called without the limiter's lock held, from the goroutine that
	// called Wait; it must be fast and safe for concurrent use. A Wait that
	// ends with its context is not reported.
	OnWait func(waited time.Duration)
}

// RateLimiter is a token bucket for one Vimeo credential. It starts open (the
// limit is unknown), is seeded by the first X-RateLimit-* headers, and is
// corrected by every answer after that: a request is sent only when the bucket
// holds a token and the last known X-RateLimit-Remaining, less the requests still
// in flight, is positive; otherwise the caller waits until the bucket refills or
// the window resets. After a 429 every caller waits until the ban ends.
//
// One RateLimiter may be shared by several Clients that use the same token (pass
// it in Options.RateLimiter). It is safe for concurrent use.
type RateLimiter struct {
	clock       Clock
	window      time.Duration
	burst       float64
	jitter      time.Duration
	backoffBase time.Duration
	backoffMax  time.Duration
	onWait      func(time.Duration)

	mu           sync.Mutex
	rng          *rand.Rand
	limit        int       // 0 while unknown
	remaining    int       // requests left in the current window, as far as we know
	reset        time.Time // end of the current window; zero when unknown
	tokens       float64
	last         time.Time
	blockedUntil time.Time
	inflight     int
	consecutive  int // consecutive 429s without a successful answer
}

// NewRateLimiter returns a limiter for one credential.
func NewRateLimiter(opts *RateLimiterOptions) *RateLimiter {
	var o RateLimiterOptions
	if opts != nil {
		o = *opts
	}
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	if o.Burst <= 0 || o.Burst > 1 {
		o.Burst = 0.1
	}
	if o.Jitter < 0 {
		o.Jitter = 0
	} else if o.Jitter == 0 {
		o.Jitter = time.Second
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 2 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 90 * time.Second
	}
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	return &RateLimiter{
		clock: o.Clock, window: o.Window, burst: o.Burst, jitter: o.Jitter,
		backoffBase: o.BackoffBase, backoffMax: o.BackoffMax, onWait: o.OnWait,
		rng: newRand(o.Seed),
	}
}

func newRand(seed uint64) *rand.Rand {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// RateLimitState is a snapshot of what the limiter knows.
type RateLimitState struct {
	Limit        int       // 0 while unknown
	Remaining    int       // as last reported, less requests sent since
	Reset        time.Time // zero when unknown
	BlockedUntil time.Time // end of the current 429 ban, if any
	InFlight     int
}

// State returns what the limiter currently knows.
func (l *RateLimiter) State() RateLimitState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return RateLimitState{Limit: l.limit, Remaining: l.remaining, Reset: l.reset,
		BlockedUntil: l.blockedUntil, InFlight: l.inflight}
}

func (l *RateLimiter) capacity() float64 {
	return math.Max(1, math.Floor(float64(l.limit)*l.burst))
}

func (l *RateLimiter) refill(now time.Time) {
	if l.limit <= 0 {
		return
	}
	if !l.last.IsZero() && now.After(l.last) {
		rate := float64(l.limit) / l.window.Seconds()
		l.tokens = math.Min(l.capacity(), l.tokens+now.Sub(l.last).Seconds()*rate)
	}
	l.last = now
}

func (l *RateLimiter) jitterLocked() time.Duration {
	if l.jitter <= 0 {
		return 0
	}
	return time.Duration(l.rng.Int64N(int64(l.jitter)))
}

// Wait blocks until one request may be sent and takes it. Every successful Wait
// must be followed by exactly one Observe (an answer arrived) or Cancel (no
// answer). RateLimiterOptions.OnWait is told how long it waited.
func (l *RateLimiter) Wait(ctx context.Context) error {
	var start time.Time
	if l.onWait != nil {
		start = l.clock.Now()
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		now := l.clock.Now()
		var wait time.Duration
		switch {
		case now.Before(l.blockedUntil):
			wait = l.blockedUntil.Sub(now) + l.jitterLocked()
		case l.limit > 0:
			if !l.reset.IsZero() && !now.Before(l.reset) {
				// The window rolled over; until an answer tells us better,
				// assume a full window less what is still in flight.
				l.remaining = l.limit - l.inflight
				l.reset = time.Time{}
			}
			l.refill(now)
			switch {
			case l.remaining <= 0 && !l.reset.IsZero():
				wait = l.reset.Sub(now) + l.jitterLocked()
			case l.remaining <= 0:
				// Exhausted by our own in-flight requests in a window we have
				// no answer for yet: wait one pacing interval and look again.
				wait = time.Duration(float64(l.window) / float64(l.limit))
			case l.tokens < 1:
				rate := float64(l.limit) / l.window.Seconds()
				wait = time.Duration((1 - l.tokens) / rate * float64(time.Second))
				if wait < time.Millisecond {
					wait = time.Millisecond
				}
			}
		}
		if wait <= 0 {
			if l.limit > 0 {
				l.tokens--
				l.remaining--
			}
			l.inflight++
			l.mu.Unlock()
			if l.onWait != nil {
				l.onWait(max(now.Sub(start), 0))
			}
			return nil
		}
		l.mu.Unlock()
		if err := l.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Cancel returns the slot taken by Wait when no answer arrived.
func (l *RateLimiter) Cancel() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight > 0 {
		l.inflight--
	}
}

// Observe feeds an answer's status and headers to the limiter and releases the
// slot taken by Wait. It returns the time until which the caller should not send
// again when the answer was a 429 (zero otherwise).
func (l *RateLimiter) Observe(status int, h http.Header) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight > 0 {
		l.inflight--
	}
	now := l.clock.Now()
	limit, lok := headerInt(h, "X-RateLimit-Limit")
	remaining, rok := headerInt(h, "X-RateLimit-Remaining")
	reset, tok := parseReset(h.Get("X-RateLimit-Reset"))

	if lok && limit > 0 && limit != l.limit {
		first := l.limit == 0
		l.limit = limit
		l.refill(now)
		if first {
			l.tokens = l.capacity()
			l.remaining = limit
		}
		l.tokens = math.Min(l.tokens, l.capacity())
	}
	if rok && l.limit > 0 {
		est := remaining - l.inflight // in-flight requests may not be counted yet
		switch {
		case tok && (l.reset.IsZero() || reset.After(l.reset)):
			l.reset = reset // a newer window
			l.remaining = est
		case tok && reset.Before(l.reset):
			// a late answer from an older window: says nothing about this one
		default:
			l.remaining = min(l.remaining, est)
		}
		l.refill(now)
		l.tokens = math.Min(l.tokens, math.Max(float64(est), 0))
	}

	if status != http.StatusTooManyRequests {
		if status < 500 {
			l.consecutive = 0
		}
		return time.Time{}
	}
	// 429: everybody waits. Retry-After wins, then the reset header, then an
	// exponential backoff.
	l.consecutive++
	l.remaining = 0
	var until time.Time
	if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
		until = now.Add(d)
		l.remaining = 1 // the server said when to try again: one probe may go then
	} else if tok && reset.After(now) {
		until = reset
	} else {
		d := l.backoffBase << min(l.consecutive-1, 16)
		if d <= 0 || d > l.backoffMax {
			d = l.backoffMax
		}
		until = now.Add(d/2 + time.Duration(l.rng.Int64N(int64(d/2)+1)))
	}
	if until.After(l.blockedUntil) {
		l.blockedUntil = until
	}
	return l.blockedUntil
}

func headerInt(h http.Header, k string) (int, bool) {
	v := strings.TrimSpace(h.Get(k))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false
	}
	return n, true
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
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			n = 0
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// bucket is a plain token bucket on an injectable clock, used for call budgets.
type bucket struct {
	clock Clock
	rate  float64 // tokens per second
	cap   float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// newBudget returns a bucket allowing perMinute calls a minute, with a burst of a
// tenth of that (at least one).
func newBudget(clock Clock, perMinute int) *bucket {
	if perMinute <= 0 {
		return nil
	}
	c := math.Max(1, math.Floor(float64(perMinute)/10))
	return &bucket{clock: clock, rate: float64(perMinute) / 60, cap: c, tokens: c}
}

func (b *bucket) wait(ctx context.Context) error {
	if b == nil {
		return nil
	}
	for {
		b.mu.Lock()
		now := b.clock.Now()
		if !b.last.IsZero() && now.After(b.last) {
			b.tokens = math.Min(b.cap, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		}
		b.last = now
		if b.tokens >= 1 {
			b.tokens--
			b.mu.Unlock()
			return nil
		}
		d := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
		b.mu.Unlock()
		if d < time.Millisecond {
			d = time.Millisecond
		}
		if err := b.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

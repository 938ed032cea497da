package provider

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/vidlib/vidlib/internal/clock"
)

// RateHeaders names a provider's rate-limit answer headers.
type RateHeaders struct {
	Limit     string // requests allowed per window (default X-RateLimit-Limit)
	Remaining string // requests left in the current window (default X-RateLimit-Remaining)
	Reset     string // when the window resets (default X-RateLimit-Reset)
}

// RateLimiterOptions configures a RateLimiter. The zero value is valid.
type RateLimiterOptions struct {
	// Headers the limiter reads (defaults above).
	Headers RateHeaders
	// ParseReset reads the Reset header (default: RFC 3339, or Unix seconds).
	ParseReset func(string) (time.Time, bool)
	// Window is the length of the provider's rate-limit window, used to turn
	// the Limit header into a refill rate. Default 60 s. The Remaining and
	// Reset headers bound the client whatever the real window is.
	Window time.Duration
	// Burst is the share of the limit that may be sent back to back; the rest
	// is paced evenly over the window. Default 0.1.
	Burst float64
	// Jitter is the largest random delay added to a wait until a reset, so
	// that concurrent callers do not all fire at the same instant. Default 1 s.
	Jitter time.Duration
	// BackoffBase and BackoffMax bound the wait after a 429 that carried
	// neither Reset nor Retry-After: BackoffBase doubled per consecutive 429,
	// capped at BackoffMax, with jitter. Defaults 2 s and 90 s.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Clock defaults to the system clock.
	Clock Clock
	// Seed seeds the jitter; 0 picks a random seed.
	Seed uint64
	// OnWait, if set, is called after every successful Wait with the time
	// that call spent waiting (0 when a request could go out at once),
	// measured on Clock: the metrics hook for rate-limiter waits. It is
	// called without the limiter's lock held, from the goroutine that called
	// Wait; it must be fast and safe for concurrent use. A Wait that ends
	// with its context is not reported.
	OnWait func(waited time.Duration)
}

// RateLimiter is the rate limiter of one credential: a token bucket
// (golang.org/x/time/rate, driven by the Clock's time) whose rate and
// burst come from the provider's Limit header, bounded by the Remaining and
// Reset headers. It starts open (the limit is unknown), is seeded by the
// first rate-limit headers and corrected by every answer after that: a
// request is sent only when the bucket holds a token and the last known
// Remaining, less the requests still in flight, is positive; otherwise the
// caller waits until the bucket refills or the window resets. After a 429
// every caller waits until the ban ends (Retry-After, else the reset, else
// an exponential backoff). It implements Limiter and is safe for concurrent
// use; one may be shared by every client of one credential.
type RateLimiter struct {
	clock       Clock
	headers     RateHeaders
	parseReset  func(string) (time.Time, bool)
	window      time.Duration
	burst       float64
	jitter      time.Duration
	backoffBase time.Duration
	backoffMax  time.Duration
	onWait      func(time.Duration)

	mu           sync.Mutex
	rng          *rand.Rand
	bucket       *rate.Limiter // nil while the limit is unknown
	limit        int           // 0 while unknown
	remaining    int           // requests left in the current window, as far as we know
	reset        time.Time     // end of the current window; zero when unknown
	blockedUntil time.Time
	inflight     int
	consecutive  int // consecutive 429s without a successful answer
}

var _ Limiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter for one credential.
func NewRateLimiter(opts *RateLimiterOptions) *RateLimiter {
	var o RateLimiterOptions
	if opts != nil {
		o = *opts
	}
	if o.Headers.Limit == "" {
		o.Headers.Limit = "X-RateLimit-Limit"
	}
	if o.Headers.Remaining == "" {
		o.Headers.Remaining = "X-RateLimit-Remaining"
	}
	if o.Headers.Reset == "" {
		o.Headers.Reset = "X-RateLimit-Reset"
	}
	if o.ParseReset == nil {
		o.ParseReset = parseResetDefault
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
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &RateLimiter{
		clock: o.Clock, headers: o.Headers, parseReset: o.ParseReset, window: o.Window, burst: o.Burst, jitter: o.Jitter,
		backoffBase: o.BackoffBase, backoffMax: o.BackoffMax, onWait: o.OnWait,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
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

// capacity is the bucket's burst for the current limit.
func (l *RateLimiter) capacity() int {
	return int(math.Max(1, math.Floor(float64(l.limit)*l.burst)))
}

func (l *RateLimiter) perSecond() rate.Limit {
	return rate.Limit(float64(l.limit) / l.window.Seconds())
}

func (l *RateLimiter) jitterLocked() time.Duration {
	if l.jitter <= 0 {
		return 0
	}
	return time.Duration(l.rng.Int64N(int64(l.jitter)))
}

// Wait blocks until one request may be sent and takes it. Every successful
// Wait must be followed by exactly one Observe (an answer arrived) or Cancel
// (no answer). RateLimiterOptions.OnWait is told how long it waited.
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
			switch tokens := l.bucket.TokensAt(now); {
			case l.remaining <= 0 && !l.reset.IsZero():
				wait = l.reset.Sub(now) + l.jitterLocked()
			case l.remaining <= 0:
				// Exhausted by our own in-flight requests in a window we have
				// no answer for yet: wait one pacing interval and look again.
				wait = time.Duration(float64(l.window) / float64(l.limit))
			case tokens < 1:
				wait = max(time.Duration((1-tokens)/float64(l.perSecond())*float64(time.Second)), time.Millisecond)
			}
		}
		if wait <= 0 {
			if l.limit > 0 {
				l.bucket.AllowN(now, 1)
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

// Observe feeds an answer's status and headers to the limiter and releases
// the slot taken by Wait. It returns the time until which the caller should
// not send again when the answer was a 429 (zero otherwise).
func (l *RateLimiter) Observe(status int, h http.Header) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight > 0 {
		l.inflight--
	}
	now := l.clock.Now()
	limit, lok := headerInt(h, l.headers.Limit)
	remaining, rok := headerInt(h, l.headers.Remaining)
	var reset time.Time
	tok := false
	if v := strings.TrimSpace(h.Get(l.headers.Reset)); v != "" {
		reset, tok = l.parseReset(v)
	}

	if lok && limit > 0 && limit != l.limit {
		first := l.limit == 0
		l.limit = limit
		if first {
			l.bucket = rate.NewLimiter(l.perSecond(), l.capacity()) // starts full
			l.remaining = limit
		} else {
			l.bucket.SetLimitAt(now, l.perSecond())
			l.bucket.SetBurstAt(now, l.capacity())
		}
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
		// The bucket holds no more than the window has left.
		if extra := math.Floor(l.bucket.TokensAt(now) - math.Max(float64(est), 0)); extra >= 1 {
			l.bucket.ReserveN(now, int(extra))
		}
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
	if d, ok := RetryAfter(h.Get("Retry-After"), now); ok {
		until = now.Add(d)
		l.remaining = 1 // the server said when to try again: one probe may go then
	} else if tok && reset.After(now) {
		until = reset
	} else {
		d := Backoff(l.consecutive, l.backoffBase, l.backoffMax)
		until = now.Add(Jitter(d, l.rng.Int64N))
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

// parseResetDefault reads a reset time as RFC 3339 or Unix seconds.
func parseResetDefault(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// Budget is a plain token bucket on the Clock (golang.org/x/time/rate),
// for per-operation call budgets: perMinute calls a minute, with a burst of
// a tenth of that (at least one). A nil *Budget allows everything.
type Budget struct {
	clock  Clock
	bucket *rate.Limiter
}

// NewBudget returns a budget, or nil for perMinute <= 0 (no budget).
func NewBudget(clock Clock, perMinute int) *Budget {
	if perMinute <= 0 {
		return nil
	}
	burst := int(math.Max(1, math.Floor(float64(perMinute)/10)))
	return &Budget{clock: clock, bucket: rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst)}
}

// Wait blocks until one call may be made and takes it.
func (b *Budget) Wait(ctx context.Context) error {
	if b == nil {
		return nil
	}
	for {
		now := b.clock.Now()
		if b.bucket.AllowN(now, 1) {
			return nil
		}
		tokens := b.bucket.TokensAt(now)
		d := max(time.Duration((1-tokens)/float64(b.bucket.Limit())*float64(time.Second)), time.Millisecond)
		if err := b.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// SystemClock returns the wall clock.
func SystemClock() Clock { return clock.Wall{} }

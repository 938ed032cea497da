package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/provider"
)

// Defaults.
const (
	DefaultBaseURL   = "https://api.hubapi.com"
	DefaultUserAgent = "vidlib-hubspot/1.0 (+https://github.com/vidlib/vidlib)"
	// DefaultBurstPer10s is HubSpot's published burst limit of a private app
	// on a Free or Starter account: 100 requests per rolling 10 seconds
	// (Professional and Enterprise: 190; with the API limit increase: 250).
	DefaultBurstPer10s = 100
	// RateInterval is the length of HubSpot's burst window.
	RateInterval = 10 * time.Second
)

// HubSpot's rate-limit answer headers.
const (
	HeaderRateMax       = "X-HubSpot-RateLimit-Max"
	HeaderRateRemaining = "X-HubSpot-RateLimit-Remaining"
	HeaderRateInterval  = "X-HubSpot-RateLimit-Interval-Milliseconds"
	HeaderDaily         = "X-HubSpot-RateLimit-Daily"
	HeaderDailyLeft     = "X-HubSpot-RateLimit-Daily-Remaining"
	HeaderCorrelationID = "X-HubSpot-Correlation-Id"
)

// Clock is the client's source of time; every wait goes through Sleep, so
// tests compress time. hubspottest's clocks satisfy it.
type Clock = provider.Clock

// SystemClock returns the wall clock.
func SystemClock() Clock { return provider.SystemClock() }

// BreakerOptions configures the circuit breaker (provider.Breaker):
// Threshold consecutive upstream failures (5xx, timeouts, broken
// connections, garbled bodies) open it, default 5; it stays open for
// Cooldown, default 30 s, then lets one probe through.
type BreakerOptions = provider.BreakerOptions

// BreakerState is the state of the circuit breaker.
type BreakerState = provider.BreakerState

// Options configures a Client. The zero value (or nil) is valid.
type Options struct {
	// BaseURL defaults to DefaultBaseURL.
	BaseURL string
	// HTTPClient sends each attempt (default: a client on a clone of
	// http.DefaultTransport). Do not pass a client that retries by itself.
	HTTPClient *http.Client
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
	// BurstPer10s sizes the client's token bucket: the account's published
	// burst limit per 10 seconds (default DefaultBurstPer10s). The bucket
	// paces every request below it from the first one; the rate-limit
	// headers of each answer then bound the client further.
	BurstPer10s int
	// MaxAttempts bounds the attempts of one request that meets 5xx
	// answers, timeouts, broken connections or garbled bodies (default 3).
	MaxAttempts int
	// MaxRateLimitWaits bounds the ten-secondly 429 answers one request sits
	// out before it fails with ErrRateLimited (default 3). A daily-limit 429
	// is never retried.
	MaxRateLimitWaits int
	// BaseBackoff and MaxBackoff shape the jittered exponential backoff
	// between attempts after a failure (defaults 200 ms and 5 s).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// AttemptTimeout bounds one attempt in real time (default 10 s). Callers
	// on a user's path bound the whole call with their context instead.
	AttemptTimeout time.Duration
	// Breaker tunes the circuit breaker (Threshold default 5).
	Breaker BreakerOptions
	// Clock defaults to the system clock.
	Clock Clock
	// Seed seeds the jitter; 0 picks a random seed.
	Seed uint64
	// Logger defaults to a no-op logger.
	Logger *zap.Logger
}

// Client talks to the HubSpot API for one credential (a private app token
// or a service key). It is safe for concurrent use; make one per
// credential, since the rate limits are per app.
type Client struct {
	base        *url.URL
	token       string
	ua          string
	pc          *provider.Client
	limiter     *provider.RateLimiter
	bucket      *provider.Budget
	breaker     *provider.Breaker
	clock       Clock
	maxAttempts int
	max429      int
	baseBackoff time.Duration
	maxBackoff  time.Duration
	log         *zap.Logger

	rngMu sync.Mutex
	rng   *rand.Rand

	requests, retries, rateLimited, serverErrors, transportErrors atomic.Int64
}

// New returns a Client that authenticates with token.
func New(token string, opts *Options) (*Client, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, fmt.Errorf("%w: token is required", ErrInvalidArgument)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("%w: base URL %q", ErrInvalidArgument, o.BaseURL)
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.BurstPer10s == 0 {
		o.BurstPer10s = DefaultBurstPer10s
	}
	if o.BurstPer10s < 0 {
		return nil, fmt.Errorf("%w: burst limit %d", ErrInvalidArgument, o.BurstPer10s)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.MaxRateLimitWaits <= 0 {
		o.MaxRateLimitWaits = 3
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 200 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = o.BaseBackoff
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 10 * time.Second
	}
	if o.Breaker.Threshold <= 0 {
		o.Breaker.Threshold = 5
	}
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	clock := o.Clock
	// HubSpot's burst window is rolling and sends no reset time: each answer
	// says how many requests are left in the 10 seconds before it, so the
	// earliest a slot frees is one interval after the answer. The interval
	// header is read as that reset; without headers, a 429 backs off a
	// jittered interval (HubSpot documents no Retry-After, but one is
	// honoured if sent).
	limiter := provider.NewRateLimiter(&provider.RateLimiterOptions{
		Headers: provider.RateHeaders{Limit: HeaderRateMax, Remaining: HeaderRateRemaining, Reset: HeaderRateInterval},
		ParseReset: func(v string) (time.Time, bool) {
			ms, err := strconv.Atoi(v)
			if err != nil || ms <= 0 {
				return time.Time{}, false
			}
			return clock.Now().Add(time.Duration(ms) * time.Millisecond), true
		},
		Window:      RateInterval,
		Burst:       0.5,
		Jitter:      time.Second,
		BackoffBase: RateInterval,
		BackoffMax:  4 * RateInterval,
		Clock:       clock,
		Seed:        seed,
	})
	brk := provider.NewBreaker(o.Breaker)
	pc, err := provider.New(&provider.Options{
		HTTPClient: o.HTTPClient, Clock: clock, Limiter: limiter, Breaker: brk,
		AttemptTimeout: o.AttemptTimeout, MaxResponseBytes: 1 << 20,
	})
	if err != nil {
		return nil, err
	}
	return &Client{
		base: base, token: token, ua: o.UserAgent, pc: pc, limiter: limiter,
		// The bucket alone never sends more than BurstPer10s in any 10 s:
		// its burst (a tenth of the per-minute rate) plus 10 s of refill is
		// 3.75/10 + 3.75/6 ≈ 0.99 of the limit.
		bucket:  provider.NewBudget(clock, o.BurstPer10s*15/4),
		breaker: brk, clock: clock, maxAttempts: o.MaxAttempts, max429: o.MaxRateLimitWaits,
		baseBackoff: o.BaseBackoff, maxBackoff: o.MaxBackoff, log: o.Logger.Named("hubspot"),
		rng: rand.New(rand.NewPCG(seed, seed^0x5bd1e995)),
	}, nil
}

// Stats are counters over the life of a Client.
type Stats struct {
	Requests        int64 // HTTP requests sent, retries included
	Retries         int64 // requests that repeated an earlier one
	RateLimited     int64 // 429 answers
	ServerErrors    int64 // 5xx answers
	TransportErrors int64 // timeouts and broken connections
	Breaker         BreakerState
	BreakerOpened   int
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	st, opened := c.breaker.Snapshot()
	return Stats{
		Requests: c.requests.Load(), Retries: c.retries.Load(), RateLimited: c.rateLimited.Load(),
		ServerErrors: c.serverErrors.Load(), TransportErrors: c.transportErrors.Load(),
		Breaker: st, BreakerOpened: opened,
	}
}

// RateLimit returns what the client's limiter knows of the burst window.
func (c *Client) RateLimit() provider.RateLimitState { return c.limiter.State() }

func (c *Client) jitter(d time.Duration) time.Duration {
	c.rngMu.Lock()
	defer c.rngMu.Unlock()
	return provider.Jitter(d, c.rng.Int64N)
}

// do sends one logical request with a JSON body (nil: none) and decodes a
// 2xx JSON answer into out (nil: ignored).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	u.RawPath = ""
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	// A caller who cannot outwait a 429 ban is told at once.
	if dl, ok := ctx.Deadline(); ok {
		if ban := c.limiter.State().BlockedUntil.Sub(c.clock.Now()); ban > 0 && ban > time.Until(dl) {
			return &RateLimitError{Until: c.limiter.State().BlockedUntil, Method: method, Path: path}
		}
	}
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidArgument, err)
		}
		payload = b
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	p := &policy{c: c, method: method, path: path, out: out}
	p.deadline, _ = ctx.Deadline()
	call := &provider.Call{Policy: p.judge, Budget: c.bucket.Wait, OnAttempt: func(retry bool) {
		c.requests.Add(1)
		if retry {
			c.retries.Add(1)
		}
	}}
	_, err = c.pc.Do(ctx, req, call)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	return err
}

// policy is HubSpot's retry policy for one request: 5xx, transport errors
// and garbled 2xx bodies are retried with a jittered exponential backoff up
// to MaxAttempts; a ten-secondly 429 is sat out (the limiter holds the next
// attempt until its ban ends) up to MaxRateLimitWaits times; a daily 429,
// any other 4xx and an open circuit fail at once.
type policy struct {
	c              *Client
	method, path   string
	out            any
	deadline       time.Time // the caller's, if any (wall clock)
	failures, n429 int
}

func (p *policy) judge(a *provider.Attempt) provider.Verdict {
	c := p.c
	var open *provider.CircuitOpenError
	switch {
	case errors.As(a.Err, &open):
		return provider.Verdict{Err: &CircuitOpenError{Until: open.Until, Method: p.method, Path: p.path}}
	case a.Err != nil:
		c.transportErrors.Add(1)
		return p.retry(&TransportError{Method: p.method, Path: p.path, Err: a.Err})
	case a.Status >= 200 && a.Status < 300:
		if p.out != nil && a.Status != http.StatusNoContent {
			if err := json.Unmarshal(a.Body, p.out); err != nil {
				e := parseError(a.Status, a.Header, a.Body, p.method, p.path)
				e.NonJSON, e.Message = true, "undecodable body: "+err.Error()
				return p.retry(e)
			}
		}
		return provider.Verdict{Health: provider.Healthy}
	}
	e := parseError(a.Status, a.Header, a.Body, p.method, p.path)
	switch {
	case a.Status == http.StatusTooManyRequests:
		c.rateLimited.Add(1)
		p.n429++
		if e.IsDaily() || p.n429 > c.max429 {
			return provider.Verdict{Err: e, Health: provider.Healthy}
		}
		// The limiter bans every request until the window frees: a caller
		// whose deadline comes first is answered now.
		if ban := c.limiter.State().BlockedUntil.Sub(c.clock.Now()); !p.deadline.IsZero() && ban > time.Until(p.deadline) {
			return provider.Verdict{Err: e, Health: provider.Healthy}
		}
		c.log.Debug("rate limited", zap.String("path", p.path), zap.String("policy", e.PolicyName))
		return provider.Verdict{Retry: true, Health: provider.Healthy}
	case a.Status >= 500:
		c.serverErrors.Add(1)
		return p.retry(e)
	}
	return provider.Verdict{Err: e, Health: provider.Healthy}
}

func (p *policy) retry(err error) provider.Verdict {
	p.failures++
	if p.failures >= p.c.maxAttempts {
		return provider.Verdict{Err: err, Health: provider.Unhealthy}
	}
	return provider.Verdict{Retry: true, Wait: p.c.jitter(provider.Backoff(p.failures, p.c.baseBackoff, p.c.maxBackoff)), Health: provider.Unhealthy}
}

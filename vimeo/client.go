package vimeo

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
	DefaultBaseURL   = "https://api.vimeo.com"
	AcceptVersion    = "application/vnd.vimeo.*+json;version=3.4"
	DefaultUserAgent = "vidlib-vimeo/1.0 (+https://github.com/vidlib/vidlib)"
	MaxPerPage       = 100
)

// RetryOptions configures how the client retries one request. The zero value is
// valid.
type RetryOptions struct {
	// MaxAttempts bounds the attempts for one request that meets 5xx answers,
	// timeouts, broken connections or bodies that are not JSON. Default 6.
	MaxAttempts int
	// MaxRateLimitWaits bounds the 429 answers one request sits out before it
	// fails with ErrRateLimited. Default 12.
	MaxRateLimitWaits int
	// BaseBackoff and MaxBackoff shape the jittered exponential backoff between
	// attempts: a random wait in [d/2, d] with d = BaseBackoff·2^(attempt-1),
	// capped at MaxBackoff. Defaults 500 ms and 30 s.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// AttemptTimeout bounds one attempt (connect, headers and body) in real
	// time. Default 30 s.
	AttemptTimeout time.Duration
}

// Options configures a Client. The zero value (or nil) is valid.
type Options struct {
	// BaseURL defaults to https://api.vimeo.com.
	BaseURL string
	// HTTPClient sends each attempt (default: a client on a clone of
	// http.DefaultTransport). Retries are the provider layer's: do not pass
	// a client that retries by itself.
	HTTPClient *http.Client
	// WrapTransport, if set, wraps the HTTP client's transport: every attempt
	// on the wire goes through it (e.g. to trace outbound calls).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// UserAgent defaults to DefaultUserAgent. Vimeo asks for a descriptive one.
	UserAgent string
	// UserID is used where a path needs a user and the caller gave a bare id.
	// Default "me".
	UserID string
	// PageSize is per_page for every collection; default and maximum 100.
	PageSize int
	// Clock defaults to the system clock; tests pass a compressed one.
	Clock Clock
	// RateLimiter is shared by every Client of one credential; default a new
	// limiter on Clock.
	RateLimiter *RateLimiter
	// Retry and Breaker tune retries and the circuit breaker.
	Retry   RetryOptions
	Breaker BreakerOptions
	// MaxResponseBytes bounds a response body; default 64 MiB.
	MaxResponseBytes int64
	// Seed seeds the backoff jitter; 0 picks a random seed.
	Seed uint64
	// Logger defaults to a no-op logger.
	Logger *zap.Logger
}

// Client talks to the Vimeo API for one credential. It is safe for concurrent
// use.
type Client struct {
	base     *url.URL
	token    string
	pc       *provider.Client
	ua       string
	userID   string
	pageSize int
	clock    Clock
	limiter  *RateLimiter
	breaker  *breaker
	retry    RetryOptions
	log      *zap.Logger

	rngMu sync.Mutex
	rng   *rand.Rand

	requests, retries, rateLimited, serverErrors, transportErrors, badBodies atomic.Int64
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
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	log := o.Logger.Named("vimeo")
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.UserID == "" {
		o.UserID = "me"
	}
	if o.PageSize <= 0 || o.PageSize > MaxPerPage {
		if o.PageSize > MaxPerPage {
			return nil, fmt.Errorf("%w: page size %d above %d", ErrInvalidArgument, o.PageSize, MaxPerPage)
		}
		o.PageSize = MaxPerPage
	}
	r := o.Retry
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 6
	}
	if r.MaxRateLimitWaits <= 0 {
		r.MaxRateLimitWaits = 12
	}
	if r.BaseBackoff <= 0 {
		r.BaseBackoff = 500 * time.Millisecond
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = 30 * time.Second
	}
	if r.MaxBackoff < r.BaseBackoff {
		r.MaxBackoff = r.BaseBackoff
	}
	if r.AttemptTimeout <= 0 {
		r.AttemptTimeout = 30 * time.Second
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = 64 << 20
	}
	if o.RateLimiter == nil {
		o.RateLimiter = NewRateLimiter(&RateLimiterOptions{Clock: o.Clock, Seed: o.Seed})
	}
	brk := newBreaker(o.Breaker)
	pc, err := provider.New(&provider.Options{
		HTTPClient: o.HTTPClient, WrapTransport: o.WrapTransport, Clock: o.Clock,
		Limiter: o.RateLimiter, Breaker: brk.b, AttemptTimeout: r.AttemptTimeout, MaxResponseBytes: o.MaxResponseBytes,
	})
	if err != nil {
		return nil, err
	}
	return &Client{
		base: base, token: token, pc: pc, ua: o.UserAgent, userID: o.UserID,
		pageSize: o.PageSize, clock: o.Clock, limiter: o.RateLimiter, breaker: brk,
		retry: r, log: log, rng: newRand(o.Seed),
	}, nil
}

// Stats are counters over the life of a Client.
type Stats struct {
	Requests        int64 // HTTP requests sent, retries included
	Retries         int64 // requests that repeated an earlier one
	RateLimited     int64 // 429 answers
	ServerErrors    int64 // 5xx answers
	TransportErrors int64 // timeouts and broken connections
	BadBodies       int64 // 2xx answers whose body was not the expected JSON
	Breaker         BreakerState
	BreakerOpened   int // times the circuit opened
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	st, opened := c.breaker.snapshot()
	return Stats{
		Requests: c.requests.Load(), Retries: c.retries.Load(), RateLimited: c.rateLimited.Load(),
		ServerErrors: c.serverErrors.Load(), TransportErrors: c.transportErrors.Load(),
		BadBodies: c.badBodies.Load(), Breaker: st, BreakerOpened: opened,
	}
}

// RateLimiter returns the client's limiter (to share it, or to read its state).
func (c *Client) RateLimiter() *RateLimiter { return c.limiter }

// Response is what a successful call returns besides the decoded body.
type Response struct {
	StatusCode  int
	Header      http.Header
	NotModified bool // 304: the body was not decoded
}

// meter counts the requests of one operation (a Walk, a Recent poll).
type meter struct {
	requests, retries, rateLimited atomic.Int64
}

// call carries per-operation settings through do.
type call struct {
	budget      *bucket
	meter       *meter
	header      http.Header
	waitBreaker bool // sit out an open circuit instead of failing fast
}

// circuitOpenError is returned while the breaker refuses requests.
type circuitOpenError struct {
	until time.Time
	last  error
}

func (e *circuitOpenError) Error() string {
	msg := fmt.Sprintf("%v until %s", ErrCircuitOpen, e.until.Format(time.RFC3339))
	if e.last != nil {
		msg += " (last failure: " + e.last.Error() + ")"
	}
	return msg
}

func (e *circuitOpenError) Unwrap() []error {
	if e.last != nil {
		return []error{ErrCircuitOpen, e.last}
	}
	return []error{ErrCircuitOpen}
}

// Get sends GET rel (a path such as "/me/projects", or a paging link) with the
// query merged in, and decodes the JSON body into out (which may be nil). It
// applies the rate limiter, retries and the circuit breaker like every other
// call. Prefer the typed methods; Get is for endpoints they do not cover. Add a
// fields= parameter: Vimeo grants a higher rate limit to requests that use it.
func (c *Client) Get(ctx context.Context, rel string, query url.Values, out any) (*Response, error) {
	target, err := c.withQuery(rel, query)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, target, &call{}, out)
}

// withQuery merges query into rel.
func (c *Client) withQuery(rel string, query url.Values) (string, error) {
	u, err := url.Parse(rel)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidArgument, rel, err)
	}
	if len(query) > 0 {
		q := u.Query()
		for k, vs := range query {
			q.Del(k)
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// resolve turns rel into an absolute URL on the API host. Absolute links are
// accepted only for the configured host: the bearer token never leaves it.
func (c *Client) resolve(rel string) (*url.URL, error) {
	u, err := url.Parse(rel)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrInvalidArgument, rel, err)
	}
	if u.IsAbs() || u.Host != "" {
		if !strings.EqualFold(u.Host, c.base.Host) {
			return nil, fmt.Errorf("%w: link %q points away from %s", ErrBadResponse, rel, c.base.Host)
		}
		u.Scheme = c.base.Scheme
		return u, nil
	}
	out := *c.base
	out.Path = strings.TrimRight(c.base.Path, "/") + "/" + strings.TrimLeft(u.Path, "/")
	out.RawPath = ""
	out.RawQuery = u.RawQuery
	return &out, nil
}

func pageOf(rel string) int {
	u, err := url.Parse(rel)
	if err != nil {
		return 1
	}
	if n, err := strconv.Atoi(u.Query().Get("page")); err == nil && n > 0 {
		return n
	}
	return 1
}

func (c *Client) jitter(d time.Duration) time.Duration {
	c.rngMu.Lock()
	defer c.rngMu.Unlock()
	return provider.Jitter(d, c.rng.Int64N)
}

func (c *Client) backoff(attempt int, h http.Header) time.Duration {
	if h != nil {
		if d, ok := parseRetryAfter(h.Get("Retry-After"), c.clock.Now()); ok {
			return min(d, c.retry.MaxBackoff)
		}
	}
	return c.jitter(provider.Backoff(attempt, c.retry.BaseBackoff, c.retry.MaxBackoff))
}

// do sends one logical GET through the provider layer, which makes every
// attempt (rate limit, breaker, count) and retries as policy says.
func (c *Client) do(ctx context.Context, rel string, cl *call, out any) (*Response, error) {
	target, err := c.resolve(rel)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrInvalidArgument, rel, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", AcceptVersion)
	req.Header.Set("User-Agent", c.ua)
	for k, vs := range cl.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	p := &policy{c: c, cl: cl, out: out, path: target.RequestURI(), page: pageOf(rel)}
	pcall := &provider.Call{Policy: p.judge, OnAttempt: func(retry bool) {
		c.requests.Add(1)
		if cl.meter != nil {
			cl.meter.requests.Add(1)
		}
		if retry {
			c.retries.Add(1)
			if cl.meter != nil {
				cl.meter.retries.Add(1)
			}
		}
	}}
	if cl.budget != nil {
		pcall.Budget = cl.budget.wait
	}
	if _, err := c.pc.Do(ctx, req, pcall); err != nil {
		return nil, err
	}
	return p.resp, nil
}

// policy is Vimeo's retry policy for one logical GET: 5xx, transport
// errors and garbled 2xx bodies are retried with a jittered exponential
// backoff (Retry-After honoured) up to RetryOptions.MaxAttempts; a 429 is
// sat out (the limiter holds the next attempt until the ban ends) up to
// MaxRateLimitWaits times; an open circuit fails fast unless the operation
// waits for it.
type policy struct {
	c              *Client
	cl             *call
	out            any
	path           string
	page           int
	failures, n429 int
	lastErr        error
	resp           *Response
}

func (p *policy) judge(a *provider.Attempt) provider.Verdict {
	c := p.c
	var open *provider.CircuitOpenError
	switch {
	case errors.As(a.Err, &open):
		p.failures++
		cerr := &circuitOpenError{until: open.Until, last: p.lastErr}
		if !p.cl.waitBreaker || p.failures >= c.retry.MaxAttempts {
			return provider.Verdict{Err: fmt.Errorf("vimeo: GET %s: %w", p.path, cerr)}
		}
		c.log.Debug("circuit open, waiting", zap.String("path", p.path), zap.Time("until", open.Until))
		return provider.Verdict{Retry: true, Wait: open.Until.Sub(c.clock.Now()) + c.jitter(time.Second)}
	case a.Err != nil:
		c.transportErrors.Add(1)
		c.log.Debug("transport error", zap.String("path", p.path), zap.Error(a.Err))
		return p.retry(fmt.Errorf("vimeo: GET %s: %w", p.path, a.Err), nil)
	case a.Status == http.StatusNotModified && p.cl.header != nil:
		p.resp = &Response{StatusCode: a.Status, Header: a.Header, NotModified: true}
		return provider.Verdict{Health: provider.Healthy}
	case a.Status >= 200 && a.Status < 300:
		if p.out != nil && a.Status != http.StatusNoContent {
			if derr := decodeJSON(a.Body, p.out); derr != nil {
				// A 2xx that is not our JSON: a CDN page, a cut body. Retry.
				c.badBodies.Add(1)
				aerr := c.apiError(a.Status, a.Header, a.Body, p.path, p.page)
				if !aerr.NonJSON {
					aerr.NonJSON = true
					aerr.Message = "undecodable body: " + derr.Error()
				}
				return p.retry(aerr, nil)
			}
		}
		p.resp = &Response{StatusCode: a.Status, Header: a.Header}
		return provider.Verdict{Health: provider.Healthy}
	}
	aerr := c.apiError(a.Status, a.Header, a.Body, p.path, p.page)
	switch {
	case a.Status == http.StatusTooManyRequests:
		c.rateLimited.Add(1)
		if p.cl.meter != nil {
			p.cl.meter.rateLimited.Add(1)
		}
		p.n429++
		if p.n429 > c.retry.MaxRateLimitWaits {
			return provider.Verdict{Err: aerr, Health: provider.Healthy}
		}
		c.log.Debug("rate limited", zap.String("path", p.path), zap.Time("reset", aerr.RateLimitReset))
		// The upstream answered; the limiter holds the next attempt until the ban ends.
		return provider.Verdict{Retry: true, Health: provider.Healthy}
	case a.Status >= 500:
		c.serverErrors.Add(1)
		return p.retry(aerr, a.Header)
	}
	return provider.Verdict{Err: aerr, Health: provider.Healthy}
}

// retry is the one retry tail: an upstream failure counts toward
// MaxAttempts, then waits the backoff.
func (p *policy) retry(err error, h http.Header) provider.Verdict {
	p.failures++
	p.lastErr = err
	if p.failures >= p.c.retry.MaxAttempts {
		return provider.Verdict{Err: err, Health: provider.Unhealthy}
	}
	return provider.Verdict{Retry: true, Wait: p.c.backoff(p.failures, h), Health: provider.Unhealthy}
}

func (c *Client) apiError(status int, h http.Header, body []byte, path string, page int) *APIError {
	e := &APIError{StatusCode: status, Method: http.MethodGet, Path: path, Page: page}
	for _, k := range []string{"X-Request-Id", "X-Vimeo-Request-Id", "X-Timer"} {
		if v := h.Get(k); v != "" {
			e.RequestID = v
			break
		}
	}
	if d, ok := parseRetryAfter(h.Get("Retry-After"), c.clock.Now()); ok {
		e.RetryAfter = d
	}
	if t, ok := parseReset(h.Get("X-RateLimit-Reset")); ok {
		e.RateLimitReset = t
	}
	e.parseBody(body)
	return e
}

func decodeJSON(body []byte, out any) error {
	body = bytes.TrimSpace(bytes.TrimPrefix(body, utf8BOM))
	if len(body) == 0 {
		return errors.New("empty body")
	}
	if body[0] != '{' && body[0] != '[' {
		return errors.New("not JSON")
	}
	return json.Unmarshal(body, out)
}

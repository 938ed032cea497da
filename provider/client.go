package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Defaults of Options.
const (
	DefaultAttemptTimeout   = 30 * time.Second
	DefaultMaxResponseBytes = 64 << 20
)

// Clock is the client's source of time: every wait goes through Sleep.
type Clock interface {
	Now() time.Time
	// Sleep blocks for d or until ctx is done (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// Limiter paces attempts for one credential: every successful Wait is
// followed by exactly one Observe (an answer arrived) or Cancel (none did).
type Limiter interface {
	Wait(ctx context.Context) error
	Observe(status int, h http.Header) time.Time
	Cancel()
}

// Options configures a Client. Clock is required.
type Options struct {
	// HTTPClient sends each attempt (default: a client with a clone of
	// http.DefaultTransport). Its transport is wrapped, not changed.
	HTTPClient *http.Client
	// WrapTransport, if set, wraps the transport beneath the attempt
	// steps: it sees every attempt on the wire.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	Clock         Clock
	// Limiter and Breaker are optional.
	Limiter Limiter
	Breaker *Breaker
	// AttemptTimeout bounds one attempt, body included (default
	// DefaultAttemptTimeout).
	AttemptTimeout time.Duration
	// MaxResponseBytes bounds a body; a longer one is a transport error
	// (default DefaultMaxResponseBytes).
	MaxResponseBytes int64
}

// Client sends requests with the retry policy each call brings.
type Client struct {
	rc      *retryablehttp.Client
	clock   Clock
	limiter Limiter
	breaker *Breaker
	timeout time.Duration
	maxBody int64
}

// Attempt is one try as a Policy sees it: an answer (Status, Header, Body)
// or an error (a transport failure, a timeout, a *CircuitOpenError).
type Attempt struct {
	N      int // 1 for the first
	Status int
	Header http.Header
	Body   []byte
	Err    error
}

// Health is what an attempt says about the upstream, for the breaker.
type Health int

// Healths.
const (
	HealthUnknown Health = iota // nothing (the breaker refused, or the caller gave up)
	Healthy                     // it answered sensibly (2xx, 4xx, 429)
	Unhealthy                   // 5xx, a broken connection, a garbled body
)

// Verdict is a Policy's answer about one attempt.
type Verdict struct {
	Retry  bool
	Wait   time.Duration // before the next attempt, on the Clock
	Err    error         // when not retrying: the call's error; nil is success
	Health Health
}

// Call is what one logical request brings. Policy is required.
type Call struct {
	Policy func(a *Attempt) Verdict
	// Budget, if set, is waited on before every attempt (a per-operation
	// pace on top of the Limiter).
	Budget func(ctx context.Context) error
	// OnAttempt, if set, is told of every attempt sent (retry: not the first).
	OnAttempt func(retry bool)
}

// CircuitOpenError is an attempt's error while the breaker refuses.
type CircuitOpenError struct{ Until time.Time }

func (e *CircuitOpenError) Error() string {
	return "circuit open until " + e.Until.Format(time.RFC3339)
}

// New returns a Client.
func New(o *Options) (*Client, error) {
	if o == nil || o.Clock == nil {
		return nil, errors.New("provider: a Clock is required")
	}
	c := &Client{clock: o.Clock, limiter: o.Limiter, breaker: o.Breaker, timeout: o.AttemptTimeout, maxBody: o.MaxResponseBytes}
	if c.timeout <= 0 {
		c.timeout = DefaultAttemptTimeout
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	hc := http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if o.HTTPClient != nil {
		hc = *o.HTTPClient
		if hc.Transport == nil {
			hc.Transport = http.DefaultTransport
		}
	}
	if o.WrapTransport != nil {
		hc.Transport = o.WrapTransport(hc.Transport)
	}
	hc.Transport = &attemptTransport{c: c, next: hc.Transport}
	c.rc = &retryablehttp.Client{
		HTTPClient: &hc,
		RetryMax:   math.MaxInt32, // the Policy decides when to stop
		CheckRetry: c.checkRetry,
		// The wait the Policy chose is slept on the Clock by PrepareRetry.
		Backoff:      func(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return 0 },
		PrepareRetry: c.prepareRetry,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return c, nil
}

// state is one logical request's progress, carried in its context.
type state struct {
	call    *Call
	n       int
	breaker *BreakerAttempt // the attempt's pass through the breaker, if any
	wait    time.Duration
	last    *Attempt
	err     error // the Policy's final error
}

type stateKey struct{}

// Do sends req (no body: GET, HEAD, DELETE) with every retry call's Policy
// asks for, and returns the last attempt (nil if none was made) and the
// Policy's final error, or the context's.
func (c *Client) Do(ctx context.Context, req *http.Request, call *Call) (*Attempt, error) {
	if call == nil || call.Policy == nil {
		return nil, errors.New("provider: a Call with a Policy is required")
	}
	st := &state{call: call}
	rreq, err := retryablehttp.FromRequest(req.WithContext(context.WithValue(ctx, stateKey{}, st)))
	if err != nil {
		return nil, err
	}
	resp, err := c.rc.Do(rreq)
	if resp != nil {
		resp.Body.Close() // read whole already: Attempt.Body
	}
	switch {
	case ctx.Err() != nil:
		return st.last, ctx.Err()
	case st.err != nil:
		return st.last, st.err
	}
	return st.last, err
}

func (c *Client) checkRetry(ctx context.Context, _ *http.Response, _ error) (bool, error) {
	st, _ := ctx.Value(stateKey{}).(*state)
	if st == nil || st.last == nil {
		return false, errors.New("provider: request not sent by provider.Client")
	}
	ba := st.breaker
	st.breaker = nil
	if err := ctx.Err(); err != nil {
		ba.Abandon(c.clock.Now())
		return false, err
	}
	v := st.call.Policy(st.last)
	switch v.Health {
	case Healthy:
		ba.Success(c.clock.Now())
	case Unhealthy:
		ba.Failure(c.clock.Now())
	default:
		ba.Abandon(c.clock.Now())
	}
	if !v.Retry {
		// Not an error for go-retryablehttp, which would drop the idle
		// connections on one: Do returns it.
		st.err = v.Err
		return false, nil
	}
	st.wait = v.Wait
	return true, nil
}

func (c *Client) prepareRetry(req *http.Request) error {
	st, _ := req.Context().Value(stateKey{}).(*state)
	if st == nil {
		return nil
	}
	return c.clock.Sleep(req.Context(), st.wait)
}

// attemptTransport carries every attempt through the breaker, the budget,
// the limiter and the count, and reads the body whole within the attempt's
// timeout.
type attemptTransport struct {
	c    *Client
	next http.RoundTripper
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st, _ := ctx.Value(stateKey{}).(*state)
	if st == nil {
		return t.next.RoundTrip(req)
	}
	c := t.c
	st.n++
	a := &Attempt{N: st.n}
	st.last = a
	if c.breaker != nil {
		ba, until, ok := c.breaker.Allow(c.clock.Now())
		if !ok {
			a.Err = &CircuitOpenError{Until: until}
			return nil, a.Err
		}
		st.breaker = ba
	}
	if st.call.Budget != nil {
		if err := st.call.Budget(ctx); err != nil {
			a.Err = err
			return nil, err
		}
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			a.Err = err
			return nil, err
		}
	}
	if st.call.OnAttempt != nil {
		st.call.OnAttempt(st.n > 1)
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := t.next.RoundTrip(req.WithContext(actx))
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
		resp.Body.Close()
		if err != nil {
			err = fmt.Errorf("reading body: %w", err)
		} else if int64(len(body)) > c.maxBody {
			err = fmt.Errorf("body larger than %d bytes", c.maxBody)
		}
	}
	if err != nil {
		if c.limiter != nil {
			c.limiter.Cancel()
		}
		a.Err = err
		return nil, err
	}
	if c.limiter != nil {
		c.limiter.Observe(resp.StatusCode, resp.Header)
	}
	a.Status, a.Header, a.Body = resp.StatusCode, resp.Header, body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// RetryAfter reads a Retry-After header: delta-seconds or an HTTP date.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(n, 0)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Backoff is the exponential backoff before retry number attempt (1 for
// the first retry): base·2^(attempt-1), capped at maxWait.
func Backoff(attempt int, base, maxWait time.Duration) time.Duration {
	d := base << min(max(attempt-1, 0), 20)
	if d <= 0 || d > maxWait {
		d = maxWait
	}
	return d
}

// Jitter returns a random duration in [d/2, d], with r(n) returning a random
// number in [0, n).
func Jitter(d time.Duration, r func(n int64) int64) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + time.Duration(r(int64(d/2)+1))
}

package provider

import (
	"errors"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerOptions configures a Breaker. The zero value is valid.
type BreakerOptions struct {
	// Threshold is the number of consecutive upstream failures that opens
	// the circuit. Default 8.
	Threshold int
	// Cooldown is how long the circuit stays open before one probe request
	// is let through (half-open). Default 30 s.
	Cooldown time.Duration
	// Disabled turns the breaker off.
	Disabled bool
}

// BreakerState is the state of a circuit breaker.
type BreakerState string

// Breaker states.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerOpen     BreakerState = "open"
	BreakerHalfOpen BreakerState = "half-open"
)

// Breaker is a circuit breaker: github.com/sony/gobreaker's two-step breaker
// keeps the state machine (consecutive failures trip it; half-open lets one
// probe through; the probe's outcome closes or re-opens it), and the
// cool-down is measured on the caller's clock (the time every method takes),
// so that a virtual clock drives it in tests: gobreaker itself reads
// time.Now, so its own timeout is a nanosecond and the open circuit is held
// here until the cool-down has passed on the caller's clock.
type Breaker struct {
	disabled bool
	cooldown time.Duration
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]

	mu        sync.Mutex
	state     BreakerState // as of the last transition
	openUntil time.Time    // on the caller's clock
	at        time.Time    // the caller's time of the outcome being recorded
	opened    int          // times the circuit opened
}

// Outcomes of an attempt, for gobreaker: a failure, or an attempt that says
// nothing about the upstream (excluded: it frees the half-open probe slot).
var (
	errUpstream  = errors.New("provider: upstream failure")
	errAbandoned = errors.New("provider: attempt abandoned")
)

// NewBreaker returns a closed breaker.
func NewBreaker(o BreakerOptions) *Breaker {
	if o.Threshold <= 0 {
		o.Threshold = 8
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 30 * time.Second
	}
	b := &Breaker{disabled: o.Disabled, cooldown: o.Cooldown, state: BreakerClosed}
	threshold := uint32(o.Threshold)
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		MaxRequests: 1,
		Timeout:     time.Nanosecond, // the cool-down is Allow's, on the caller's clock
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
		IsExcluded:  func(err error) bool { return errors.Is(err, errAbandoned) },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			// Called with b.mu held, from Allow's or an outcome's call into gobreaker.
			switch to {
			case gobreaker.StateOpen:
				b.state, b.openUntil = BreakerOpen, b.at.Add(b.cooldown)
				b.opened++
			case gobreaker.StateHalfOpen:
				b.state = BreakerHalfOpen
			default:
				b.state = BreakerClosed
			}
		},
	})
	return b
}

// BreakerAttempt is one request the breaker let through; report its
// outcome once. A nil *BreakerAttempt (no breaker) ignores reports.
type BreakerAttempt struct {
	b     *Breaker
	done  func(error)
	Probe bool // the single request let through while half-open
}

// Allow says whether a request may go out at now. When it may not, retryAt
// is when to ask again.
func (b *Breaker) Allow(now time.Time) (a *BreakerAttempt, retryAt time.Time, ok bool) {
	if b.disabled {
		return nil, time.Time{}, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.openUntil) {
		return nil, b.openUntil, false
	}
	b.at = now
	probe := b.cb.State() == gobreaker.StateHalfOpen
	done, err := b.cb.Allow()
	if err != nil { // half-open with its probe out
		return nil, now.Add(b.cooldown / 10), false
	}
	return &BreakerAttempt{b: b, done: done, Probe: probe}, time.Time{}, true
}

func (a *BreakerAttempt) report(now time.Time, err error) {
	if a == nil || a.done == nil {
		return
	}
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	a.b.at = now
	a.done(err)
	a.done = nil
}

// Success records an answer that shows the upstream is healthy.
func (a *BreakerAttempt) Success(now time.Time) { a.report(now, nil) }

// Failure records an upstream failure.
func (a *BreakerAttempt) Failure(now time.Time) { a.report(now, errUpstream) }

// Abandon records an attempt that says nothing about the upstream (the
// caller's context ended): a half-open probe's slot is freed.
func (a *BreakerAttempt) Abandon(now time.Time) { a.report(now, errAbandoned) }

// Snapshot returns the state and how many times the circuit opened.
func (b *Breaker) Snapshot() (BreakerState, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.opened
}

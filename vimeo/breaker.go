package vimeo

import (
	"time"

	"github.com/vidlib/vidlib/provider"
)

// BreakerOptions configures the client's circuit breaker (provider.Breaker,
// on github.com/sony/gobreaker): Threshold consecutive upstream failures
// (5xx, timeouts, connection errors, non-JSON bodies) open it, default 8; it
// stays open for Cooldown on the client's Clock, default 30 s, then lets one
// probe through; Disabled turns it off.
type BreakerOptions = provider.BreakerOptions

// BreakerState is the state of the circuit breaker.
type BreakerState = provider.BreakerState

// Breaker states.
const (
	BreakerClosed   = provider.BreakerClosed
	BreakerOpen     = provider.BreakerOpen
	BreakerHalfOpen = provider.BreakerHalfOpen
)

// breaker is the client's provider.Breaker. Its methods, which report
// outcomes in the order requests were allowed, serve this package's tests
// of the breaker on its own; the client's requests report through
// provider.Client.
type breaker struct {
	b       *provider.Breaker
	pending []*provider.BreakerAttempt // allowed, outcome not yet reported
}

func newBreaker(o BreakerOptions) *breaker { return &breaker{b: provider.NewBreaker(o)} }

func (b *breaker) allow(now time.Time) (ok, probe bool, retryAt time.Time) {
	a, retryAt, ok := b.b.Allow(now)
	if ok && a != nil {
		b.pending = append(b.pending, a)
		probe = a.Probe
	}
	return ok, probe, retryAt
}

// next is the oldest allowed attempt, or a new one when none is pending.
func (b *breaker) next(now time.Time) *provider.BreakerAttempt {
	if len(b.pending) == 0 {
		a, _, _ := b.b.Allow(now)
		return a
	}
	a := b.pending[0]
	b.pending = b.pending[1:]
	return a
}

func (b *breaker) success(bool)                  { b.next(time.Time{}).Success(time.Time{}) }
func (b *breaker) failure(_ bool, now time.Time) { b.next(now).Failure(now) }
func (b *breaker) abandon(bool)                  { b.next(time.Time{}).Abandon(time.Time{}) }
func (b *breaker) snapshot() (BreakerState, int) { return b.b.Snapshot() }

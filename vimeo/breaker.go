package vimeo

import (
	"time"

	"github.com/vidlib/vidlib/provider"
)

// BreakerOptions configures the client's circuit breaker (provider.Breaker):
// Threshold consecutive upstream failures (5xx, timeouts, connection errors,
// non-JSON bodies) open it, default 8; it stays open for Cooldown, default
// 30 s, then lets one probe through; Disabled turns it off.
type BreakerOptions = provider.BreakerOptions

// BreakerState is the state of the circuit breaker.
type BreakerState = provider.BreakerState

// Breaker states.
const (
	BreakerClosed   = provider.BreakerClosed
	BreakerOpen     = provider.BreakerOpen
	BreakerHalfOpen = provider.BreakerHalfOpen
)

// breaker names provider.Breaker's methods as this package always has.
type breaker struct{ b *provider.Breaker }

func newBreaker(o BreakerOptions) *breaker { return &breaker{provider.NewBreaker(o)} }

func (b *breaker) allow(now time.Time) (ok, probe bool, retryAt time.Time) { return b.b.Allow(now) }
func (b *breaker) success(probe bool)                                      { b.b.Success(probe) }
func (b *breaker) failure(probe bool, now time.Time)                       { b.b.Failure(probe, now) }
func (b *breaker) abandon(probe bool)                                      { b.b.Abandon(probe) }
func (b *breaker) snapshot() (BreakerState, int)                           { return b.b.Snapshot() }

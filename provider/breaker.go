package provider

import (
	"sync"
	"time"
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

// Breaker is a circuit breaker on the caller's clock: it takes the time as
// an argument, so that a virtual clock drives its cool-down.
// (github.com/sony/gobreaker reads time.Now and cannot.)
type Breaker struct {
	threshold int
	cooldown  time.Duration
	disabled  bool

	mu        sync.Mutex
	state     BreakerState
	failures  int
	openUntil time.Time
	probing   bool
	opened    int // times the circuit opened
}

// NewBreaker returns a closed breaker.
func NewBreaker(o BreakerOptions) *Breaker {
	if o.Threshold <= 0 {
		o.Threshold = 8
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 30 * time.Second
	}
	return &Breaker{threshold: o.Threshold, cooldown: o.Cooldown, disabled: o.Disabled, state: BreakerClosed}
}

// Allow says whether a request may go out now. When it may not, retryAt is
// when to ask again. probe is true for the single request let through while
// half-open; its outcome must be reported with probe set.
func (b *Breaker) Allow(now time.Time) (ok, probe bool, retryAt time.Time) {
	if b.disabled {
		return true, false, time.Time{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true, false, time.Time{}
	case BreakerOpen:
		if now.Before(b.openUntil) {
			return false, false, b.openUntil
		}
		b.state = BreakerHalfOpen
		b.probing = true
		return true, true, time.Time{}
	default: // half-open
		if !b.probing {
			b.probing = true
			return true, true, time.Time{}
		}
		return false, false, now.Add(b.cooldown / 10)
	}
}

// Success records an answer that shows the upstream is healthy.
func (b *Breaker) Success(probe bool) {
	if b.disabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures = 0
	if probe || b.state == BreakerHalfOpen {
		b.state = BreakerClosed
		b.probing = false
	}
}

// Failure records an upstream failure.
func (b *Breaker) Failure(probe bool, now time.Time) {
	if b.disabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if probe || b.state == BreakerHalfOpen {
		b.trip(now)
		return
	}
	if b.state == BreakerClosed && b.failures >= b.threshold {
		b.trip(now)
	}
}

// Abandon releases a probe slot whose request never got an answer for
// reasons that say nothing about the upstream (the caller's context ended).
func (b *Breaker) Abandon(probe bool) {
	if b.disabled || !probe {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

func (b *Breaker) trip(now time.Time) {
	b.state = BreakerOpen
	b.openUntil = now.Add(b.cooldown)
	b.probing = false
	b.opened++
}

// Snapshot returns the state and how many times the circuit opened.
func (b *Breaker) Snapshot() (BreakerState, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.opened
}

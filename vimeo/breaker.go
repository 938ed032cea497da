package vimeo

import (
	"sync"
	"time"
)

// BreakerOptions configures the client's circuit breaker. The zero value is
// valid.
type BreakerOptions struct {
	// Threshold is the number of consecutive upstream failures (5xx, timeouts,
	// connection errors, non-JSON bodies) that opens the circuit. Default 8.
	Threshold int
	// Cooldown is how long the circuit stays open before one probe request is
	// let through (half-open). Default 30 s.
	Cooldown time.Duration
	// Disabled turns the breaker off.
	Disabled bool
}

// BreakerState is the state of the circuit breaker.
type BreakerState string

// Breaker states.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerOpen     BreakerState = "open"
	BreakerHalfOpen BreakerState = "half-open"
)

type breaker struct {
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

func newBreaker(o BreakerOptions) *breaker {
	if o.Threshold <= 0 {
		o.Threshold = 8
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 30 * time.Second
	}
	return &breaker{threshold: o.Threshold, cooldown: o.Cooldown, disabled: o.Disabled, state: BreakerClosed}
}

// allow says whether a request may go out now. When it may not, retryAt is
// when to ask again. probe is true for the single request let through while
// half-open; its outcome must be reported with probe set.
func (b *breaker) allow(now time.Time) (ok, probe bool, retryAt time.Time) {
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

// success records an answer that shows the upstream is healthy (anything but a
// 5xx, a timeout, a broken connection or a garbled body).
func (b *breaker) success(probe bool) {
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

// failure records an upstream failure.
func (b *breaker) failure(probe bool, now time.Time) {
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

// abandon releases a probe slot whose request never got an answer for reasons
// that say nothing about the upstream (the caller's context ended).
func (b *breaker) abandon(probe bool) {
	if b.disabled || !probe {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

func (b *breaker) trip(now time.Time) {
	b.state = BreakerOpen
	b.openUntil = now.Add(b.cooldown)
	b.probing = false
	b.opened++
}

func (b *breaker) snapshot() (BreakerState, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.opened
}

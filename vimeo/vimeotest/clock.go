package vimeotest

import (
	"context"
	"time"

	"github.com/vidlib/vidlib/internal/clock"
)

// Clock is the fake's source of time: rate-limit windows, bans, latency and
// every modified_time come from it. The method set matches vimeo.Clock, so one
// value drives both the client and the fake.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock returns the wall clock.
func SystemClock() Clock { return clock.Wall{} }

// ScaledClock runs Factor times faster than the wall clock from Start: a
// 60-second rate-limit window lasts 60/Factor real seconds. Real durations such
// as network latency are stretched by the same factor, so wall time measured on
// a ScaledClock is what a real run would take when the rate limit dominates.
type ScaledClock struct {
	start     time.Time
	realStart time.Time
	factor    float64
}

// NewScaledClock returns a clock that reads start now and runs factor times
// faster than real time (factor >= 1).
func NewScaledClock(start time.Time, factor float64) *ScaledClock {
	if factor < 1 {
		factor = 1
	}
	return &ScaledClock{start: start, realStart: time.Now(), factor: factor}
}

// Now returns the scaled time.
func (c *ScaledClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.realStart)) * c.factor))
}

// Sleep sleeps d of scaled time (d/factor of real time).
func (c *ScaledClock) Sleep(ctx context.Context, d time.Duration) error {
	return clock.Sleep(ctx, time.Duration(float64(d)/c.factor))
}

// Factor returns the speed-up.
func (c *ScaledClock) Factor() float64 { return c.factor }

// VirtualClock only moves when someone sleeps or calls Advance. Sleep(d) moves
// the clock forward by d and returns at once, so waits cost no real time. Sleeps
// add up even when they overlap in real time (four goroutines pacing themselves
// move the clock four times), so a VirtualClock shows that waits happen, not how
// long a concurrent run would take; use a ScaledClock to measure rates. It is
// clock.Virtual, the one virtual clock of the fakes.
type VirtualClock = clock.Virtual

// NewVirtualClock returns a virtual clock reading start.
func NewVirtualClock(start time.Time) *VirtualClock { return clock.NewVirtual(start) }

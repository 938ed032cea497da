package hubspottest

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// VirtualClock only moves when someone sleeps or calls Advance: Sleep(d)
// moves it forward by d and returns at once, so rate-limit waits, backoffs
// and token lifetimes cost no real time. It satisfies hubspot.Clock and
// Clock, so one value drives the client and the fake.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewVirtualClock returns a clock reading start.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// Now returns the virtual time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep advances the clock by d and returns (ctx's error if it is done).
func (c *VirtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	runtime.Gosched()
	return ctx.Err()
}

// Advance moves the clock forward by d.
func (c *VirtualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
}

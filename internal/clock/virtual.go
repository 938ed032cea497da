package clock

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Virtual is a clock that only moves when someone sleeps or calls Advance:
// Sleep(d) moves it forward by d and returns at once, so rate-limit waits,
// backoffs and token lifetimes cost no real time. Sleeps add up even when
// they overlap in real time (four goroutines pacing themselves move the
// clock four times), so a Virtual clock shows that waits happen, not how
// long a concurrent run would take. The fake provider APIs (vimeotest,
// hubspottest) offer it as their VirtualClock, so one value drives a client
// and its fake. It is safe for concurrent use.
type Virtual struct {
	mu  sync.Mutex
	now time.Time
}

// NewVirtual returns a virtual clock reading start.
func NewVirtual(start time.Time) *Virtual { return &Virtual{now: start} }

// Now returns the virtual time.
func (c *Virtual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep advances the clock by d and returns: ctx's error if it is done,
// before or after.
func (c *Virtual) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	runtime.Gosched()
	return ctx.Err()
}

// Advance moves the clock forward by d (a d <= 0 leaves it).
func (c *Virtual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
}

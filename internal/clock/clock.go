// Package clock is the one context-aware wait of vidlib's packages: Sleep,
// and Wall, the wall clock whose Sleep it is. The provider client, the Vimeo
// client and its fake, the event buses and consumers and the servers' loops
// all wait through it, so a wait that ends early when its context does is
// written once. Each package keeps its own Clock interface (Now and Sleep),
// declared where it is used; Wall satisfies all of them, and so does
// Virtual, the clock that moves only when slept on, which the fake provider
// APIs and tests use so that waits cost no real time.
package clock

import (
	"context"
	"time"
)

// Sleep blocks for d or until ctx is done, whichever comes first, and
// returns ctx.Err() in the second case. A d <= 0 returns ctx.Err() at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wall is the wall clock: Now is time.Now and Sleep is Sleep.
type Wall struct{}

// Now returns time.Now().
func (Wall) Now() time.Time { return time.Now() }

// Sleep is the package's Sleep.
func (Wall) Sleep(ctx context.Context, d time.Duration) error { return Sleep(ctx, d) }

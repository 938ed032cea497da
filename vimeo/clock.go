package vimeo

import (
	"context"
	"time"

	"github.com/vidlib/vidlib/internal/clock"
)

// Clock is the client's source of time. Every wait the client makes (rate-limit
// pauses, backoff between retries, the circuit breaker's cool-down) goes through
// Sleep, and every decision about time uses Now, so tests can compress time with a
// scaled or virtual clock. The method set matches vimeotest.Clock, so one value can
// drive both the client and the fake.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep blocks for d or until ctx is done, whichever comes first, and returns
	// ctx.Err() in the second case. A d <= 0 returns at once.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock returns the wall clock.
func SystemClock() Clock { return clock.Wall{} }

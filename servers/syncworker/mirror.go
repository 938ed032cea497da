package syncworker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

// Mirror is what the sync worker needs of a *tree.Mirror: reconcile the whole
// tree, apply the recent changes, and re-read one video.
type Mirror interface {
	Reconcile(ctx context.Context, opts tree.ReconcileOptions) (*tree.Report, error)
	Poll(ctx context.Context) (*tree.Report, error)
	RefreshVideo(ctx context.Context, vimeoID, trigger string) (*tree.Report, error)
}

var _ Mirror = (*tree.Mirror)(nil)

// Locker hands out named locks that exclude every other holder sharing the
// same database: pgstore.Store (a PostgreSQL advisory lock on a connection of
// its own) and memstore.Store (in process) implement it. TryLock does not
// wait: ok is false when someone else holds the lock.
type Locker interface {
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// ConsumerStore is what the consumers need of a store: the idempotency ledger
// (processed_events) and the dead letters (dead_letters).
type ConsumerStore interface {
	events.Deduper
	events.DeadLetterStore
}

// Store is everything the fx module needs of one store: pgstore.Store and
// memstore.Store implement it.
type Store interface {
	IntakeStore
	NormalizerStore
	RedriveStore
	events.OutboxStore
	Locker
}

// loopTiming validates and defaults the interval and jitter of a loop (the
// poll loop's, the scheduler's): a negative interval is refused, zero means
// def; zero jitter means DefaultJitter, above 1 is refused. what names the
// loop in the errors ("poll", "reconcile").
func loopTiming(what string, interval, def time.Duration, j float64) (time.Duration, float64, error) {
	if interval < 0 {
		return 0, 0, fmt.Errorf("%w: negative %s interval", ErrInvalid, what)
	}
	if interval == 0 {
		interval = def
	}
	if j == 0 {
		j = DefaultJitter
	}
	if j > 1 {
		return 0, 0, fmt.Errorf("%w: %s jitter %v above 1", ErrInvalid, what, j)
	}
	return interval, j, nil
}

// jitter returns d moved by a random share of up to ±j of itself.
func jitter(d time.Duration, j float64) time.Duration {
	if j <= 0 || d <= 0 {
		return d
	}
	f := 1 + j*(2*rand.Float64()-1) //nolint:gosec // scheduling jitter, not security
	return time.Duration(float64(d) * f)
}

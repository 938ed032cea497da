package syncworker

import (
	"context"
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

// jitter returns d moved by a random share of up to ±j of itself.
func jitter(d time.Duration, j float64) time.Duration {
	if j <= 0 || d <= 0 {
		return d
	}
	f := 1 + j*(2*rand.Float64()-1) //nolint:gosec // scheduling jitter, not security
	return time.Duration(float64(d) * f)
}

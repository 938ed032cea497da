package eventstest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
)

// Sink is where the crash test's consumer writes: a transactional deduper and
// the handler's own write, plus a way to count what was written.
type Sink[Tx any] struct {
	Deduper events.TxDeduper[Tx]
	// Apply writes one row for the event with tx. The table must not be
	// unique on the event id: a duplicate write would show in Count.
	Apply func(ctx context.Context, tx Tx, e events.Event) error
	// Count returns the rows written and the distinct event ids among them.
	Count func(t *testing.T) (rows, distinct int)
	// Processed returns how many keys the deduper recorded for consumer.
	Processed func(t *testing.T, consumer string) int
}

// CrashStats is what RunCrash observed.
type CrashStats struct {
	Events        int
	FirstMember   int           // events the first member applied before it crashed
	Redelivered   int           // deliveries to the second member of events the first had already received
	Duplicates    int           // deliveries skipped because the event was already applied
	PublishTime   time.Duration // to publish every event
	ConsumeTime   time.Duration // from the first subscription to the last event applied
	DeliveriesAll int
}

// RunCrash publishes n events, consumes them with a member that is killed in
// the middle of its work (ErrAbort: nothing more committed, handlers in flight
// cancelled), then with a fresh member on a fresh bus from newBus (a
// restarted process), and asserts, in the sink's database, that every event
// was applied exactly once: rows = distinct ids = processed keys = n. The
// crash comes from inside a handler right after its transaction committed, so
// at least one event is applied but not committed to the broker, and must be
// recognised as a duplicate after the restart.
func RunCrash[Tx any](t *testing.T, n int, newBus func(t *testing.T) Bus, sink Sink[Tx]) CrashStats {
	t.Helper()
	const consumer = "crash-test"
	stats := CrashStats{Events: n}
	first := newBus(t)

	ks := keys("crash-", 512)
	start := time.Now()
	batch := make([]events.Event, 0, 5000)
	ctx := context.Background()
	for i := range n {
		k := ks[i%len(ks)]
		e, err := events.New(ctx, events.Event{Type: "test.crash", Source: "eventstest", Key: k}, payload{Key: k, Seq: i / len(ks)})
		require.NoError(t, err)
		batch = append(batch, e)
		if len(batch) == cap(batch) || i == n-1 {
			pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			require.NoError(t, events.PublishEvents(pctx, first, topic, batch...))
			cancel()
			batch = batch[:0]
		}
	}
	stats.PublishTime = time.Since(start)

	var (
		mu       sync.Mutex
		seen     = map[string]int{} // event id → deliveries that ended in applied or duplicate
		byFirst  = map[string]bool{}
		done     = make(chan struct{})
		doneOnce sync.Once
		applied  atomic.Int64
		dups     atomic.Int64
		crashAt  = int64(n / 3)
		crashed  atomic.Bool
	)
	apply := events.ProcessOnce(sink.Deduper, consumer, nil, func(ctx context.Context, tx Tx, m *events.Message) error {
		e, err := m.Event()
		if err != nil {
			return err
		}
		return sink.Apply(ctx, tx, e)
	})
	handler := func(member string, abort context.CancelCauseFunc) events.Handler {
		observe := events.Observe(func(o events.Observation) {
			if o.Err != nil {
				return
			}
			if o.Outcome == events.OutcomeDuplicate {
				dups.Add(1)
			} else {
				applied.Add(1)
			}
		})
		return events.Chain(apply, func(next events.Handler) events.Handler {
			return func(ctx context.Context, m *events.Message) error {
				id := events.EventIDOf(m)
				if member == "b" {
					mu.Lock()
					if byFirst[id] {
						stats.Redelivered++
					}
					mu.Unlock()
				} else {
					mu.Lock()
					byFirst[id] = true
					mu.Unlock()
				}
				if err := next(ctx, m); err != nil {
					return err
				}
				mu.Lock()
				seen[id]++
				if len(seen) == n {
					doneOnce.Do(func() { close(done) })
				}
				mu.Unlock()
				if abort != nil && applied.Load() >= crashAt && crashed.CompareAndSwap(false, true) {
					abort(events.ErrAbort) // the process dies now
					<-ctx.Done()           // this handler never finishes: its event is applied but not committed
					return ctx.Err()
				}
				return nil
			}
		}, observe)
	}

	sub := events.Subscription{Group: "crash", Topics: []string{topic}, MaxInFlight: 64, RedeliveryDelay: 10 * time.Millisecond}
	consumeStart := time.Now()
	actx, abort := context.WithCancelCause(ctx)
	errA := make(chan error, 1)
	go func() { errA <- first.Subscribe(actx, sub, handler("a", abort)) }()
	select {
	case err := <-errA:
		require.ErrorIs(t, err, events.ErrAbort, "the first member dies by abort")
	case <-time.After(5 * time.Minute):
		t.Fatal("the first member did not reach its crash point")
	}
	stats.FirstMember = int(applied.Load())

	second := newBus(t)
	bctx, stopB := context.WithCancel(ctx)
	errB := make(chan error, 1)
	go func() { errB <- second.Subscribe(bctx, sub, handler("b", nil)) }()
	select {
	case <-done:
	case err := <-errB:
		t.Fatalf("the second member stopped: %v", err)
	case <-time.After(5 * time.Minute):
		mu.Lock()
		got := len(seen)
		mu.Unlock()
		t.Fatalf("only %d of %d events were applied", got, n)
	}
	stats.ConsumeTime = time.Since(consumeStart)
	stopB()
	require.NoError(t, <-errB)

	stats.Duplicates = int(dups.Load())
	mu.Lock()
	for _, c := range seen {
		stats.DeliveriesAll += c
	}
	mu.Unlock()

	rows, distinct := sink.Count(t)
	require.Equal(t, n, rows, "every event written exactly once: no loss, no double apply")
	require.Equal(t, n, distinct)
	require.Equal(t, n, sink.Processed(t, consumer), "one idempotency record per event")
	// In memory, a transaction whose commit raced the crash may have been
	// reported as failed although it committed; the database is the truth.
	require.LessOrEqual(t, applied.Load(), int64(n))
	require.GreaterOrEqual(t, stats.Duplicates, 1, "the event applied just before the crash came back and was recognised")
	require.GreaterOrEqual(t, stats.Redelivered, 1, "uncommitted events were delivered again after the crash")
	t.Logf("crash test: %+v", stats)
	return stats
}

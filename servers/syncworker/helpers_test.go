package syncworker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// store is what the tests need of a store: the module's Store plus the
// tree.Store the mirror writes.
type store interface {
	syncworker.Store
	tree.Store
	events.ProviderEventStore
}

var (
	_ store = (*memstore.Store)(nil)
	_ store = (*pgstore.Store)(nil)
)

type storeCase struct {
	name string
	open func(t testing.TB) store
}

var storeCases = []storeCase{
	{"memstore", func(testing.TB) store { return memstore.New() }},
	{"pgstore", func(t testing.TB) store { return openPG(t, testenv.PostgresURL(t)) }},
}

func openPG(t testing.TB, dsn string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), dsn, nil)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	_, err = s.Migrate(context.Background())
	require.NoError(t, err)
	return s
}

type busCase struct {
	name string
	open func(t testing.TB) bus
}

type bus interface {
	events.Publisher
	events.Subscriber
}

var busCases = []busCase{
	{"membus", func(t testing.TB) bus {
		b, err := membus.New(nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = b.Close() })
		return b
	}},
	{"kafkabus", func(t testing.TB) bus {
		k := testenv.Kafka(t)
		b, err := kafkabus.New(k.Brokers(), &kafkabus.Options{
			TopicPrefix:       k.TopicPrefix(),
			Partitions:        3,
			SessionTimeout:    3 * time.Second,
			HeartbeatInterval: 100 * time.Millisecond,
			RebalanceTimeout:  4 * time.Second,
			JoinGroupBackoff:  100 * time.Millisecond,
			DrainTimeout:      2 * time.Second,
			CommitInterval:    20 * time.Millisecond,
			MaxWait:           20 * time.Millisecond,
			BatchTimeout:      time.Millisecond,
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = b.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, b.Provision(ctx))
		return b
	}},
}

// recorder is a Publisher that records what it is given and forwards it to
// next (if any); fail makes it refuse.
type recorder struct {
	next events.Publisher
	mu   sync.Mutex
	msgs []events.Message
	fail error
}

func (r *recorder) Publish(ctx context.Context, msgs ...events.Message) error {
	r.mu.Lock()
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		return fail
	}
	if r.next != nil {
		if err := r.next.Publish(ctx, msgs...); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		r.msgs = append(r.msgs, *m.Clone())
	}
	return nil
}

func (r *recorder) setFail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

func (r *recorder) on(topic string) []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.Event
	for _, m := range r.msgs {
		if m.Topic == topic {
			e, err := events.Decode(m.Value)
			if err == nil {
				out = append(out, e)
			}
		}
	}
	return out
}

// fakeMirror is a Mirror whose methods tests script.
type fakeMirror struct {
	mu        sync.Mutex
	refreshed []string
	polls     int
	triggers  []string

	refresh   func(ctx context.Context, id string) error
	reconcile func(ctx context.Context, opts tree.ReconcileOptions) error
	poll      func(ctx context.Context) error
}

func (f *fakeMirror) Reconcile(ctx context.Context, opts tree.ReconcileOptions) (*tree.Report, error) {
	f.mu.Lock()
	f.triggers = append(f.triggers, opts.Trigger)
	fn := f.reconcile
	f.mu.Unlock()
	if fn != nil {
		if err := fn(ctx, opts); err != nil {
			return nil, err
		}
	}
	return &tree.Report{Run: tree.SyncRun{Trigger: opts.Trigger, Complete: true}}, nil
}

func (f *fakeMirror) Poll(ctx context.Context) (*tree.Report, error) {
	f.mu.Lock()
	f.polls++
	fn := f.poll
	f.mu.Unlock()
	if fn != nil {
		if err := fn(ctx); err != nil {
			return nil, err
		}
	}
	return &tree.Report{Run: tree.SyncRun{Trigger: tree.TriggerPoll}}, nil
}

func (f *fakeMirror) RefreshVideo(ctx context.Context, id, trigger string) (*tree.Report, error) {
	f.mu.Lock()
	fn := f.refresh
	f.mu.Unlock()
	if fn != nil {
		if err := fn(ctx, id); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	f.refreshed = append(f.refreshed, id)
	f.mu.Unlock()
	return &tree.Report{Run: tree.SyncRun{Trigger: trigger}}, nil
}

func (f *fakeMirror) refreshedIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refreshed...)
}

// outbox drains the store's outbox and returns the events written to topic.
func outbox(t testing.TB, s events.OutboxStore, topic string) []events.Event {
	t.Helper()
	var out []events.Event
	for {
		n, err := s.RelayOutbox(context.Background(), 1000, func(_ context.Context, batch []events.OutboxRecord) []error {
			for _, r := range batch {
				if r.Topic == topic {
					e, err := events.Decode(r.Payload)
					require.NoError(t, err)
					out = append(out, e)
				}
			}
			return nil
		})
		require.NoError(t, err)
		if n == 0 {
			return out
		}
	}
}

// eventually waits (without asserting how long) until cond holds, failing
// after a generous bound so that a broken pipeline does not hang the run.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

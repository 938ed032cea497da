package events_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/pgstore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func pgStore(t testing.TB) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), testenv.PostgresURL(t), &pgstore.Options{MaxConns: 16})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	_, err = s.Migrate(context.Background())
	require.NoError(t, err)
	return s
}

// Two relays on one PostgreSQL outbox, while writers keep adding rows: every
// row reaches the bus once, and each key's rows arrive in the order they were
// written.
func TestTwoRelaysKeepPerKeyOrderOnTheBus(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := pgStore(t)
	bus, err := membus.New(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })

	const keys, perKey = 40, 50
	var mu sync.Mutex
	next := map[string]int{}
	var problems []string
	received := 0
	all := make(chan struct{})
	go func() {
		_ = bus.Subscribe(ctx, events.Subscription{Group: "check", Topics: []string{events.TopicRankingFeatures}, MaxInFlight: 32},
			func(_ context.Context, m *events.Message) error {
				key, seq, _ := strings.Cut(string(m.Value), "/")
				n, _ := strconv.Atoi(seq)
				mu.Lock()
				defer mu.Unlock()
				if n != next[key] {
					problems = append(problems, fmt.Sprintf("key %s: got %d, want %d", key, n, next[key]))
				}
				next[key] = n + 1
				if received++; received == keys*perKey {
					close(all)
				}
				return nil
			})
	}()

	for range 2 {
		r, err := events.NewRelay(store, bus, &events.RelayOptions{BatchSize: 37, PollInterval: time.Millisecond})
		require.NoError(t, err)
		go func() { _ = r.Run(ctx) }()
	}
	// Writers: one per key group, each writing its keys' rows in order.
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for seq := range perKey {
				for k := w; k < keys; k += 4 {
					key := "k" + strconv.Itoa(k)
					if err := store.EnqueueOutbox(ctx, events.TopicRankingFeatures, key, []byte(key+"/"+strconv.Itoa(seq))); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	writers.Wait()
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		t.Fatalf("only %d of %d rows arrived", received, keys*perKey)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, problems)
	for k := range keys {
		require.Equal(t, perKey, next["k"+strconv.Itoa(k)])
	}
	// The relays mark rows sent right after publishing them.
	require.Eventually(t, func() bool {
		n, err := store.OutboxBacklog(ctx)
		return err == nil && n == 0
	}, 30*time.Second, 10*time.Millisecond)
}

// fillOutbox bulk-loads n rows over the given number of keys with COPY.
func fillOutbox(b *testing.B, s *pgstore.Store, n, keys int) {
	b.Helper()
	payload := []byte(`{"v":1,"id":"0190f5e0-0000-7000-8000-000000000000","type":"ranking.feature","source":"bench","time":"2026-01-01T00:00:00Z","data":{"score":0.5}}`)
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{events.TopicRankingFeatures, "user-" + strconv.Itoa(i%keys), payload}
	}
	_, err := s.Pool().CopyFrom(context.Background(), pgx.Identifier{"outbox"}, []string{"topic", "key", "payload"}, pgx.CopyFromRows(rows))
	require.NoError(b, err)
	_, err = s.Pool().Exec(context.Background(), `ANALYZE outbox`)
	require.NoError(b, err)
}

// discard is a publisher that accepts everything: the benchmark measures the
// relay and PostgreSQL, not a broker.
type discard struct{}

func (discard) Publish(context.Context, ...events.Message) error { return nil }

// BenchmarkOutboxRelay measures rows relayed per second from PostgreSQL (claim
// with SKIP LOCKED and the per-key check, publish, mark sent).
func BenchmarkOutboxRelay(b *testing.B) {
	for _, tc := range []struct{ batch, relays, keys int }{{500, 1, 1000}, {1000, 1, 1000}, {1000, 2, 1000}, {1000, 1, 1}} {
		b.Run(fmt.Sprintf("batch=%d/relays=%d/keys=%d", tc.batch, tc.relays, tc.keys), func(b *testing.B) {
			s := pgStore(b)
			n := max(b.N, 1)
			fillOutbox(b, s, n, tc.keys)
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range tc.relays {
				r, err := events.NewRelay(s, discard{}, &events.RelayOptions{BatchSize: tc.batch})
				require.NoError(b, err)
				wg.Go(func() {
					for {
						got, err := r.RelayOnce(ctx)
						if err != nil {
							b.Error(err)
							return
						}
						if got == 0 {
							if left, _ := r.Backlog(ctx); left == 0 {
								return
							}
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

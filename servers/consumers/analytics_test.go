package consumers_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/storetest"
)

func batchMessage(t testing.TB, evs []analytics.Event) events.Message {
	t.Helper()
	m, err := api.BatchMessage(context.Background(), evs[0].UserID, evs)
	require.NoError(t, err)
	return m
}

func playEvents(user, video, session string, at time.Time) []analytics.Event {
	var out []analytics.Event
	for i, typ := range []analytics.Type{analytics.TypePlaybackStarted, analytics.TypeHeartbeat, analytics.TypeHeartbeat, analytics.TypeHeartbeat} {
		out = append(out, analytics.Event{ID: uuid.NewString(), Type: typ, SessionID: session, UserID: user, VideoID: video,
			Position: float64(5 * i), OccurredAt: at.Add(time.Duration(5*i) * time.Second)})
	}
	return out
}

// TestAnalyticsHandler: a batch is applied and publishes features; a
// redelivery is a duplicate; a batch that cannot be stored goes to
// deadletters.analytics and dead_letters; store failures are retried and
// then returned to the bus, never dead-lettered.
func TestAnalyticsHandler(t *testing.T) {
	ctx := context.Background()
	for name, newStore := range map[string]func(t *testing.T) consumers.AnalyticsStore{
		"memstore": func(*testing.T) consumers.AnalyticsStore { return memstore.New() },
		"pgstore":  func(t *testing.T) consumers.AnalyticsStore { return openPG(t, 4) },
	} {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			pub := &recordingPublisher{}
			c, err := consumers.NewAnalytics(s, pub, &consumers.AnalyticsOptions{Retry: events.RetryPolicy{MaxAttempts: 1}})
			require.NoError(t, err)
			h := c.Handler()
			user := uuid.NewString()
			evs := playEvents(user, "v1", "s1", storetest.WatchBase)
			m := batchMessage(t, evs)
			require.NoError(t, h(ctx, &m))
			require.Equal(t, events.Outcome(""), m.Outcome())
			again := batchMessage(t, evs)
			require.NoError(t, h(ctx, &again))
			require.Equal(t, events.OutcomeDuplicate, again.Outcome())

			sent := pub.Messages()
			require.Len(t, sent, 1, "features once: the duplicate changed nothing")
			require.Equal(t, events.TopicRankingFeatures, sent[0].Topic)
			require.Equal(t, "user:"+user, string(sent[0].Key))
			fe, err := sent[0].Event()
			require.NoError(t, err)
			var f analytics.Features
			require.NoError(t, fe.DecodeData(&f))
			require.Equal(t, analytics.Features{UserID: user, VideoID: "v1", LastPosition: 15, LastEventAt: storetest.WatchBase.Add(15 * time.Second), SessionWatched: 15}, f)

			bad := playEvents(user, "v1", "s2", storetest.WatchBase)
			bad[1].Type = "liked"
			bm := batchMessage(t, bad)
			require.NoError(t, h(ctx, &bm))
			require.Equal(t, events.OutcomeDeadLettered, bm.Outcome())
			garbage := events.Message{Topic: events.TopicAnalytics, Value: []byte("not an event")}
			require.NoError(t, h(ctx, &garbage))
			require.Equal(t, events.OutcomeDeadLettered, garbage.Outcome())
			var dead int
			for _, dm := range pub.Messages() {
				if dm.Topic == events.TopicDeadLettersAnalytics {
					dead++
				}
			}
			require.Equal(t, 2, dead)
			letters, err := s.ListDeadLetters(ctx, events.DeadLetterFilter{})
			require.NoError(t, err)
			require.Len(t, letters, 2)
			require.Contains(t, letters[0].Error+letters[1].Error, "liked")
		})
	}
}

type flakyAnalytics struct {
	*memstore.Store
	fails atomic.Int64 // fail this many more calls
	calls atomic.Int64
}

func (f *flakyAnalytics) ApplyWatchEvents(ctx context.Context, evs []analytics.Event, r analytics.Rules) (analytics.Applied, error) {
	f.calls.Add(1)
	if f.fails.Add(-1) >= 0 {
		return analytics.Applied{}, errors.New("connection reset")
	}
	return f.Store.ApplyWatchEvents(ctx, evs, r)
}

func TestAnalyticsTransientFailures(t *testing.T) {
	ctx := context.Background()
	s := &flakyAnalytics{Store: memstore.New()}
	pub := &recordingPublisher{}
	c, err := consumers.NewAnalytics(s, pub, &consumers.AnalyticsOptions{Retry: events.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond}})
	require.NoError(t, err)
	h := c.Handler()

	s.fails.Store(2) // two failures: the third quick attempt succeeds
	m := batchMessage(t, playEvents("u", "v", "s1", storetest.WatchBase))
	require.NoError(t, h(ctx, &m))
	require.Equal(t, int64(3), s.calls.Load())

	s.fails.Store(5) // more than the quick retries: back to the bus, not dead-lettered
	m = batchMessage(t, playEvents("u", "v", "s2", storetest.WatchBase))
	require.Error(t, h(ctx, &m))
	letters, err := s.ListDeadLetters(ctx, events.DeadLetterFilter{})
	require.NoError(t, err)
	require.Empty(t, letters)
	require.NoError(t, h(ctx, &m), "the redelivery succeeds once the store is back")
	_, err = s.WatchSession(ctx, "s2")
	require.NoError(t, err)
}

// TestAnalyticsPropertyKafkaPostgres: random event streams with duplicates,
// reordering and events up to a day late, published to Kafka (kfake) as the
// API publishes them, consumed into PostgreSQL by consumers that are killed
// after committing to PostgreSQL and before committing offsets, then
// finished by two consumers at once: sessions, daily aggregates and resume
// positions equal the oracle computed from the deduplicated stream, and
// every accepted event is stored once.
func TestAnalyticsPropertyKafkaPostgres(t *testing.T) {
	k := testenv.Kafka(t)
	rounds := 2
	if testing.Short() {
		rounds = 1
	}
	for round := range rounds {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) { analyticsPropertyRound(t, k, round) })
	}
}

func analyticsPropertyRound(t *testing.T, k *testenv.KafkaCluster, round int) {
	ctx := context.Background()
	{
		s := openPG(t, 16)
		seed := uint64(time.Now().UnixNano())
		t.Logf("round %d seed %d", round, seed)
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		users := []string{uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()}
		stream := storetest.WatchStream(rng, users, []string{"v1", "v2", "v3"}, 60+rng.IntN(60))
		distinct := len(stream)

		pubBus := newKafkaBus(t, k)
		var msgs []events.Message
		for _, b := range storetest.Deliver(rng, stream, 0.25, 40) {
			byUser := map[string][]analytics.Event{}
			for _, e := range b {
				byUser[e.UserID] = append(byUser[e.UserID], e)
			}
			for _, evs := range byUser {
				msgs = append(msgs, batchMessage(t, evs))
			}
		}
		pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		require.NoError(t, pubBus.Publish(pctx, msgs...))
		cancel()

		stored := func() int {
			var n int
			// this round's users: the topic also holds earlier rounds' events
			require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM watch_events WHERE user_id = ANY($1)`, users).Scan(&n))
			return n
		}
		group := "analytics-prop-" + uuid.NewString()
		member := func(ctx context.Context, killAfter int64) error {
			bus := newKafkaBus(t, k)
			c, err := consumers.NewAnalytics(s, bus, &consumers.AnalyticsOptions{Group: group, DisableFeatures: true})
			require.NoError(t, err)
			ctx, abort := context.WithCancelCause(ctx)
			defer abort(nil)
			var handled atomic.Int64
			var killed atomic.Bool
			h := c.Handler()
			handler := func(hctx context.Context, m *events.Message) error {
				if err := h(hctx, m); err != nil {
					return err
				}
				if killAfter > 0 && handled.Add(1) >= killAfter && killed.CompareAndSwap(false, true) {
					abort(events.ErrAbort)
					<-hctx.Done() // committed in PostgreSQL, never in Kafka
					return hctx.Err()
				}
				return nil
			}
			sub := c.Subscription()
			sub.RedeliveryDelay = 10 * time.Millisecond
			return bus.Subscribe(ctx, sub, handler)
		}
		for i := range 2 {
			err := member(ctx, int64(len(msgs)/4))
			require.ErrorIs(t, err, events.ErrAbort, "member %d dies by abort", i+1)
			t.Logf("member %d killed with %d of %d events stored", i+1, stored(), distinct)
		}
		fctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for range 2 {
			wg.Go(func() { errs <- member(fctx, 0) })
		}
		deadline := time.Now().Add(2 * time.Minute)
		for stored() < distinct && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // late redeliveries must change nothing
		stop()
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, distinct, stored(), "every accepted event stored exactly once")
		storetest.RequireWatchOracle(t, s, storetest.NewWatchOracle(stream, nil, analytics.Rules{}))
	}
}

// bumps records BumpProgress calls, failing the next fails of them.
type bumps struct {
	mu    sync.Mutex
	users [][]string
	fails int
}

func (b *bumps) BumpProgress(_ context.Context, users ...string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fails > 0 {
		b.fails--
		return errors.New("redis: connection refused")
	}
	b.users = append(b.users, users)
	return nil
}

// TestAnalyticsBumpsProgressVersions: every stored batch bumps its users'
// progress versions after the store has the events; a bump that fails
// fails the batch like a store failure (retried, never dead-lettered), and
// the redelivery, a duplicate by then, bumps.
func TestAnalyticsBumpsProgressVersions(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	pv := &bumps{}
	c, err := consumers.NewAnalytics(s, &recordingPublisher{}, &consumers.AnalyticsOptions{
		ProgressVersions: pv, Retry: events.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond}})
	require.NoError(t, err)
	h := c.Handler()
	evs := append(playEvents("u1", "v", "s1", storetest.WatchBase), playEvents("u2", "v", "s2", storetest.WatchBase)...)
	m := batchMessage(t, evs)
	require.NoError(t, h(ctx, &m))
	require.Equal(t, [][]string{{"u1", "u2"}}, pv.users)

	pv.fails = 2 // both quick attempts: back to the bus
	m = batchMessage(t, playEvents("u1", "v", "s3", storetest.WatchBase.Add(time.Hour)))
	require.ErrorContains(t, h(ctx, &m), "progress versions not bumped")
	p, err := s.Progress(ctx, "u1", "v")
	require.NoError(t, err)
	require.Equal(t, storetest.WatchBase.Add(time.Hour+15*time.Second), p["v"].LastEventAt, "the events are stored")
	letters, err := s.ListDeadLetters(ctx, events.DeadLetterFilter{})
	require.NoError(t, err)
	require.Empty(t, letters)
	require.NoError(t, h(ctx, &m), "redelivered")
	require.Equal(t, events.OutcomeDuplicate, m.Outcome())
	require.Equal(t, [][]string{{"u1", "u2"}, {"u1"}}, pv.users, "the duplicate bumps")
}

// slowStore applies slowly, counts transactions and the most at once, and
// refuses as invalid any batch holding the poisoned user's events.
type slowStore struct {
	*memstore.Store
	poison           string
	calls, now, most atomic.Int64
	mu               sync.Mutex
	sizes            []int
}

func (s *slowStore) ApplyWatchEvents(ctx context.Context, evs []analytics.Event, r analytics.Rules) (analytics.Applied, error) {
	s.calls.Add(1)
	n := s.now.Add(1)
	defer s.now.Add(-1)
	for {
		m := s.most.Load()
		if n <= m || s.most.CompareAndSwap(m, n) {
			break
		}
	}
	s.mu.Lock()
	s.sizes = append(s.sizes, len(evs))
	s.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	for _, e := range evs {
		if e.UserID == s.poison {
			return analytics.Applied{}, fmt.Errorf("%w: poisoned", analytics.ErrInvalid)
		}
	}
	return s.Store.ApplyWatchEvents(ctx, evs, r)
}

// TestAnalyticsGroupCommit: batches handled at once share transactions (at
// most Transactions at a time, at most MaxGroupEvents events each); every
// batch is stored and answered; a batch the store refuses spoils nothing
// else of its group and alone goes to the dead letters.
func TestAnalyticsGroupCommit(t *testing.T) {
	ctx := context.Background()
	s := &slowStore{Store: memstore.New(), poison: "u7"}
	pub := &recordingPublisher{}
	c, err := consumers.NewAnalytics(s, pub, &consumers.AnalyticsOptions{Transactions: 2, MaxGroupEvents: 40, Retry: events.RetryPolicy{MaxAttempts: 1}})
	require.NoError(t, err)
	h := c.Handler()
	const n = 60
	msgs, batches := make([]events.Message, n), make([][]analytics.Event, n)
	for i := range msgs {
		batches[i] = playEvents(fmt.Sprint("u", i), "v", fmt.Sprint("s", i), storetest.WatchBase) // 4 events each
		msgs[i] = batchMessage(t, batches[i])
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h(ctx, &msgs[i])
		}()
	}
	wg.Wait()
	for i := range msgs {
		require.NoError(t, errs[i])
		if i == 7 {
			require.Equal(t, events.OutcomeDeadLettered, msgs[i].Outcome())
			_, err := s.WatchSession(ctx, "s7")
			require.Error(t, err, "the refused batch is not stored")
			continue
		}
		require.Equal(t, events.Outcome(""), msgs[i].Outcome(), "batch %d", i)
		got, err := s.WatchSession(ctx, fmt.Sprint("s", i))
		require.NoError(t, err, "batch %d", i)
		require.Equal(t, 4, got.Events)
	}
	require.LessOrEqual(t, s.most.Load(), int64(2), "at most Transactions at once")
	require.Less(t, s.calls.Load(), int64(n/2), "batches share transactions")
	for _, size := range s.sizes {
		require.LessOrEqual(t, size, 40)
	}
	letters, err := s.ListDeadLetters(ctx, events.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, letters, 1)

	// Handled again, at once: each batch is told it was a duplicate.
	again := make([]events.Message, n)
	for i := range again {
		again[i] = batchMessage(t, batches[i])
	}
	for i := range again {
		if i == 7 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h(ctx, &again[i])
		}()
	}
	wg.Wait()
	for i := range again {
		if i != 7 {
			require.NoError(t, errs[i])
			require.Equal(t, events.OutcomeDuplicate, again[i].Outcome(), "batch %d", i)
		}
	}
}

// failingFeatures refuses every ranking.features publish.
type failingFeatures struct{ recordingPublisher }

func (p *failingFeatures) Publish(ctx context.Context, msgs ...events.Message) error {
	for _, m := range msgs {
		if m.Topic == events.TopicRankingFeatures {
			return errors.New("broker unreachable")
		}
	}
	return p.recordingPublisher.Publish(ctx, msgs...)
}

// TestAnalyticsCountsUnpublishedFeatures: features that cannot be published
// are counted, one per changed user and video, and the batch still
// succeeds (the events are stored; ranking reads them at its next full
// recompute).
func TestAnalyticsCountsUnpublishedFeatures(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	var lost atomic.Int64
	c, err := consumers.NewAnalytics(s, &failingFeatures{}, &consumers.AnalyticsOptions{FeaturesUnpublished: func(n int) { lost.Add(int64(n)) }})
	require.NoError(t, err)
	h := c.Handler()
	m := batchMessage(t, append(playEvents("u", "v1", "s1", storetest.WatchBase), playEvents("u", "v2", "s2", storetest.WatchBase)...))
	require.NoError(t, h(ctx, &m))
	require.Equal(t, int64(2), lost.Load())
	_, err = s.WatchSession(ctx, "s2")
	require.NoError(t, err)
}

package consumers_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/store/redisstore"
)

var (
	lagRate    = flag.Int("lag.rate", 5000, "BenchmarkAnalyticsLag: events per second published")
	lagBatch   = flag.Int("lag.batch", 10, "BenchmarkAnalyticsLag: events per ingest request (one message)")
	lagWindow  = flag.Duration("lag.window", 20*time.Second, "BenchmarkAnalyticsLag: how long the rate is held")
	lagUsers   = flag.Int("lag.users", 2000, "BenchmarkAnalyticsLag: viewers the events come from")
	lagTx      = flag.Int("lag.tx", 0, "BenchmarkAnalyticsLag: the consumer's Transactions (0: its default)")
	lagHistory = flag.Int("lag.history", 0, "BenchmarkAnalyticsLag: events already stored in each viewer's session before the window (a session that has run for a while)")
)

// appliedAt is the consumer's store with a clock: it notes when each event's
// transaction committed, which is when the event is folded and visible.
type appliedAt struct {
	*pgstore.Store
	mu  sync.Mutex
	at  map[string]time.Time // event id → commit
	txs int
}

func (s *appliedAt) ApplyWatchEvents(ctx context.Context, evs []analytics.Event, r analytics.Rules) (analytics.Applied, error) {
	out, err := s.Store.ApplyWatchEvents(ctx, evs, r)
	if err != nil {
		return out, err
	}
	now := time.Now()
	s.mu.Lock()
	s.txs++
	for _, e := range evs {
		if _, ok := s.at[e.ID]; !ok {
			s.at[e.ID] = now
		}
	}
	s.mu.Unlock()
	return out, nil
}

// BenchmarkAnalyticsLag holds a steady rate of playback events (default
// 5,000/s, as batches of 10 from 2,000 viewers, for 20 s) published the way
// ingest publishes them (api.BatchMessage, Kafka with acks=all, on kfake),
// while the analytics consumer, composed as `vidlib consume` composes it
// (the bus's and the consumer's default options, PostgreSQL's default
// pool, progress versions in Redis), folds them into PostgreSQL. It reports
// the lag of every event, from the start of its publish to the commit of
// the transaction that folded it: p50, p99 and max, the rate reached, the
// events per transaction, and the worst lag of each second (a lag that
// grows over the window is a consumer that does not keep up). -lag.history
// stores that many events in every session first, since each batch refolds
// its sessions from all their stored events.
//
//	go test -run '^$' -bench AnalyticsLag -benchtime 1x ./servers/consumers/
//	go test -run '^$' -bench AnalyticsLag -benchtime 1x ./servers/consumers/ -args -lag.batch=2 -lag.history=720 -lag.window=30s
func BenchmarkAnalyticsLag(b *testing.B) {
	ctx := context.Background()
	k := testenv.Kafka(b)
	pg, err := pgstore.Open(ctx, testenv.PostgresURL(b), nil)
	require.NoError(b, err)
	b.Cleanup(pg.Close)
	_, err = pg.Migrate(ctx)
	require.NoError(b, err)
	s := &appliedAt{Store: pg, at: map[string]time.Time{}}
	rurl, prefix := testenv.Redis(b)
	ro, err := redis.ParseURL(rurl)
	require.NoError(b, err)
	rdb := redis.NewClient(ro)
	b.Cleanup(func() { _ = rdb.Close() })
	rs, err := redisstore.New(rdb, &redisstore.Options{Prefix: prefix})
	require.NoError(b, err)
	bus, err := kafkabus.New(k.Brokers(), &kafkabus.Options{TopicPrefix: k.TopicPrefix()})
	require.NoError(b, err)
	b.Cleanup(func() { _ = bus.Close() })
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	require.NoError(b, bus.Provision(pctx))
	cancel()
	c, err := consumers.NewAnalytics(s, bus, &consumers.AnalyticsOptions{ProgressVersions: rs, Transactions: *lagTx})
	require.NoError(b, err)

	rate, batch, window := *lagRate, *lagBatch, *lagWindow
	require.Positive(b, rate)
	require.Positive(b, batch)
	// Each viewer watches one video in one session, a heartbeat every 5 s
	// of playback; its events are sent in batches, in order.
	type viewer struct {
		user, video, session string
		pos                  float64
	}
	viewers := make([]*viewer, *lagUsers)
	for i := range viewers {
		viewers[i] = &viewer{user: uuid.NewString(), video: fmt.Sprint(1000 + i%500), session: uuid.NewString()}
	}
	if h := *lagHistory; h > 0 { // stored directly, before the clock starts
		base := time.Now().UTC().Truncate(time.Second).Add(-time.Duration(h) * 5 * time.Second)
		var evs []analytics.Event
		for _, v := range viewers {
			for i := range h {
				typ := analytics.TypeHeartbeat
				if i == 0 {
					typ = analytics.TypePlaybackStarted
				}
				evs = append(evs, analytics.Event{ID: uuid.NewString(), Type: typ, SessionID: v.session, UserID: v.user, VideoID: v.video,
					Position: v.pos, OccurredAt: base.Add(time.Duration(i) * 5 * time.Second)})
				v.pos += 5
			}
			if len(evs) >= 5000 {
				_, err := pg.ApplyWatchEvents(ctx, evs, analytics.Rules{})
				require.NoError(b, err)
				evs = evs[:0]
			}
		}
		if len(evs) > 0 {
			_, err := pg.ApplyWatchEvents(ctx, evs, analytics.Rules{})
			require.NoError(b, err)
		}
		_, err := pg.Pool().Exec(ctx, `ANALYZE`)
		require.NoError(b, err)
	}
	published := map[string]time.Time{} // event id → publish start
	var pubMu sync.Mutex
	var failed atomic.Int64
	msgs := make(chan []analytics.Event, 1024)
	var pubs sync.WaitGroup
	for range 32 { // concurrent ingest requests
		pubs.Add(1)
		go func() {
			defer pubs.Done()
			for evs := range msgs {
				m, err := api.BatchMessage(ctx, evs[0].UserID, evs)
				if err != nil {
					failed.Add(1)
					continue
				}
				t0 := time.Now()
				pubMu.Lock()
				for _, e := range evs {
					published[e.ID] = t0
				}
				pubMu.Unlock()
				if err := bus.Publish(ctx, m); err != nil {
					failed.Add(1)
				}
			}
		}()
	}

	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(rctx, bus) }()
	// Wait for the group to be joined: one message goes through first.
	first := []analytics.Event{{ID: uuid.NewString(), Type: analytics.TypePlaybackStarted, SessionID: uuid.NewString(), UserID: "warmup", VideoID: "1", OccurredAt: time.Now().UTC().Truncate(time.Microsecond)}}
	msgs <- first
	require.Eventually(b, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, ok := s.at[first[0].ID]
		return ok
	}, time.Minute, 10*time.Millisecond, "the consumer joined")

	b.ResetTimer()
	const tick = 10 * time.Millisecond
	next := 0
	total := 0
	start := time.Now()
	t := time.NewTicker(tick)
	for time.Since(start) < window {
		<-t.C
		// Catch up on ticks the ticker dropped, so the rate is the rate.
		owed := float64(rate)*time.Since(start).Seconds() - float64(total)
		for ; owed >= float64(batch); owed -= float64(batch) {
			v := viewers[next%len(viewers)]
			next++
			now := time.Now().UTC().Truncate(time.Microsecond)
			evs := make([]analytics.Event, batch)
			for i := range evs {
				typ := analytics.TypeHeartbeat
				if v.pos == 0 {
					typ = analytics.TypePlaybackStarted
				}
				evs[i] = analytics.Event{ID: uuid.NewString(), Type: typ, SessionID: v.session, UserID: v.user, VideoID: v.video,
					Position: v.pos, OccurredAt: now.Add(time.Duration(i-batch) * time.Millisecond), ReceivedAt: now}
				v.pos += 5
			}
			msgs <- evs
			total += batch
		}
	}
	t.Stop()
	sent := time.Since(start)
	close(msgs)
	pubs.Wait()
	require.Zero(b, failed.Load(), "publishes failed")
	require.Eventually(b, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.at) >= total+1
	}, 2*time.Minute, 20*time.Millisecond, "every event folded")
	b.StopTimer()
	stop()
	require.NoError(b, <-done)

	lags := make([]time.Duration, 0, total)
	worst := make([]time.Duration, int(sent/time.Second)+1) // by second of the window
	s.mu.Lock()
	for id, t0 := range published {
		if id == first[0].ID {
			continue
		}
		at, ok := s.at[id]
		require.True(b, ok)
		lag := at.Sub(t0)
		lags = append(lags, lag)
		if sec := int(t0.Sub(start) / time.Second); sec >= 0 && sec < len(worst) {
			worst[sec] = max(worst[sec], lag)
		}
	}
	s.mu.Unlock()
	b.Logf("worst lag of each second: %v", worst)
	slices.Sort(lags)
	q := func(p int) float64 { return float64(lags[min(len(lags)-1, len(lags)*p/100)].Microseconds()) / 1000 }
	b.ReportMetric(float64(total)/sent.Seconds(), "events/s")
	b.ReportMetric(float64(total)/float64(s.txs), "events/tx")
	b.ReportMetric(q(50), "p50-lag-ms")
	b.ReportMetric(q(99), "p99-lag-ms")
	b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "max-lag-ms")
	b.Logf("%d events in %d messages of %d over %v; lag p50 %.1f ms, p99 %.1f ms, max %.1f ms", total, total/batch, batch, sent.Round(time.Millisecond), q(50), q(99), float64(lags[len(lags)-1].Microseconds())/1000)
}

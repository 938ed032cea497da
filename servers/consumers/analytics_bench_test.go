package consumers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/store/storetest"
)

// BenchmarkAnalyticsConsumerPostgres applies analytics.batch messages of 100
// events (one user, 5 sessions of 20 events each) through the consumer's
// handler into PostgreSQL, with handlers in parallel as the bus runs them;
// the bus itself is left out.
//
//	go test -run '^$' -bench AnalyticsConsumer ./servers/consumers/
func BenchmarkAnalyticsConsumerPostgres(b *testing.B) {
	ctx := context.Background()
	s := openPG(b, 16)
	c, err := consumers.NewAnalytics(s, &recordingPublisher{}, &consumers.AnalyticsOptions{DisableFeatures: true})
	require.NoError(b, err)
	h := c.Handler()
	batch := func() events.Message {
		user := uuid.NewString()
		var evs []analytics.Event
		for k := range 5 {
			sid := uuid.NewString()
			video := []string{"v1", "v2", "v3", "v4", "v5"}[k]
			at := storetest.WatchBase.Add(time.Duration(k) * time.Hour)
			for i := range 20 {
				typ := analytics.TypeHeartbeat
				if i == 0 {
					typ = analytics.TypePlaybackStarted
				}
				evs = append(evs, analytics.Event{ID: uuid.NewString(), Type: typ, SessionID: sid, UserID: user, VideoID: video,
					Position: float64(5 * i), OccurredAt: at.Add(time.Duration(5*i) * time.Second)})
			}
		}
		return batchMessage(b, evs)
	}
	msgs := make(chan events.Message, b.N)
	for range b.N {
		msgs <- batch()
	}
	close(msgs)
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := <-msgs
			if err := h(ctx, &m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkAnalyticsConsumerKafkaPostgres is the whole consumer path:
// b.N batches of 100 events published to Kafka (kfake), then consumed into
// PostgreSQL by one consumer (the bus's default concurrency); the time is
// from the subscription's start until every event is stored.
//
//	go test -run '^$' -bench AnalyticsConsumerKafka ./servers/consumers/
func BenchmarkAnalyticsConsumerKafkaPostgres(b *testing.B) {
	ctx := context.Background()
	k := testenv.Kafka(b)
	s := openPG(b, 16)
	bus := newKafkaBus(b, k)
	var msgs []events.Message
	users := make([]string, 0, b.N)
	for range b.N {
		user := uuid.NewString()
		users = append(users, user)
		var evs []analytics.Event
		for k := range 5 {
			sid := uuid.NewString()
			at := storetest.WatchBase.Add(time.Duration(k) * time.Hour)
			for i := range 20 {
				evs = append(evs, analytics.Event{ID: uuid.NewString(), Type: analytics.TypeHeartbeat, SessionID: sid, UserID: user,
					VideoID: fmt.Sprint("v", k), Position: float64(5 * i), OccurredAt: at.Add(time.Duration(5*i) * time.Second)})
			}
		}
		msgs = append(msgs, batchMessage(b, evs))
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	require.NoError(b, bus.Publish(pctx, msgs...))
	cancel()
	c, err := consumers.NewAnalytics(s, bus, &consumers.AnalyticsOptions{Group: "bench-" + uuid.NewString(), DisableFeatures: true, MaxInFlight: 64})
	require.NoError(b, err)
	b.ResetTimer()
	start := time.Now()
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(rctx, bus) }()
	want := b.N * 100
	for {
		var n int
		require.NoError(b, s.Pool().QueryRow(ctx, `SELECT count(*) FROM watch_events WHERE user_id = ANY($1)`, users).Scan(&n))
		if n >= want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	require.NoError(b, <-done)
	b.ReportMetric(float64(want)/elapsed.Seconds(), "events/s")
}

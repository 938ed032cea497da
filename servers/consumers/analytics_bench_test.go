package consumers_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/events"
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

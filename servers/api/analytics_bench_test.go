package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
)

// latencies collects per-request latencies and reports p50/p99.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	slices.Sort(l.d)
	if len(l.d) == 0 {
		return
	}
	b.ReportMetric(float64(l.d[len(l.d)*50/100].Microseconds()), "p50-µs")
	b.ReportMetric(float64(l.d[min(len(l.d)-1, len(l.d)*99/100)].Microseconds()), "p99-µs")
}

// BenchmarkIngestHTTP posts batches of 100 events over HTTP (loopback,
// real tokens, every check) with parallel clients; the publisher only
// keeps a count (the broker is measured elsewhere).
//
//	go test -run '^$' -bench IngestHTTP ./servers/api/
func BenchmarkIngestHTTP(b *testing.B) {
	var published atomic.Int64
	benchIngest(b, countingPublisher{&published})
	require.Equal(b, int64(b.N), published.Load(), "one batch message per request")
}

// BenchmarkIngestHTTPKafka is BenchmarkIngestHTTP publishing to Kafka
// (kfake in process, acks=all) before each 202, as production does.
//
//	go test -run '^$' -bench IngestHTTPKafka ./servers/api/
func BenchmarkIngestHTTPKafka(b *testing.B) {
	k := testenv.Kafka(b)
	bus, err := kafkabus.New(k.Brokers(), &kafkabus.Options{TopicPrefix: k.TopicPrefix(), Partitions: 4})
	require.NoError(b, err)
	b.Cleanup(func() { _ = bus.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(b, bus.Provision(ctx))
	benchIngest(b, bus)
}

func benchIngest(b *testing.B, pub events.Publisher) {
	e, _, _ := analyticsEnv(b, &api.AnalyticsOptions{EventRate: -1, Now: time.Now, Publisher: pub})
	s := openPlayback(b, e, &uCarol, "1201")
	tok := e.issuer.IDToken(uCarol)
	var lat latencies
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		evs := make([]map[string]any, 100)
		for pb.Next() {
			now := time.Now()
			for i := range evs {
				evs[i] = wireEvent(s, "1201", analytics.TypeHeartbeat, now, float64(i%60))
			}
			body, _ := json.Marshal(map[string]any{"events": evs})
			req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/analytics/events", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			t0 := time.Now()
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			lat.add(time.Since(t0))
			if res.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N*100)/elapsed.Seconds(), "events/s")
	lat.report(b)
}

// countingPublisher counts the messages and keeps nothing.
type countingPublisher struct{ n *atomic.Int64 }

func (p countingPublisher) Publish(_ context.Context, msgs ...events.Message) error {
	p.n.Add(int64(len(msgs)))
	return nil
}

// BenchmarkContinueWatching is the server time of GET /me/continue-watching
// and of the library home (which carries the continue-watching row) for a
// user with 200 videos of progress, through the deployed handler stack
// (ops.ServerHandler's tracing, request id, access log and metrics, the
// API's middleware, token check), filtered against
// the current entitlements. Progress comes from memstore, from PostgreSQL
// alone, and from PostgreSQL behind the Redis-checked cache (production
// with Redis). It reports p50 and p99 per request.
//
//	go test -run '^$' -bench ContinueWatching -benchmem ./servers/api/
func BenchmarkContinueWatching(b *testing.B) {
	b.Run("memstore", func(b *testing.B) { benchContinueWatching(b, memstore.New(), nil) })
	openPG := func(b *testing.B) *pgstore.Store {
		ctx := context.Background()
		pg, err := pgstore.Open(ctx, testenv.PostgresURL(b), nil)
		require.NoError(b, err)
		b.Cleanup(pg.Close)
		_, err = pg.Migrate(ctx)
		require.NoError(b, err)
		return pg
	}
	b.Run("pgstore", func(b *testing.B) { benchContinueWatching(b, openPG(b), nil) })
	b.Run("pgstore+redis", func(b *testing.B) { benchContinueWatching(b, openPG(b), newRedisStore(b)) })
}

func benchContinueWatching(b *testing.B, st analyticsStore, versions api.ProgressVersions) {
	ctx := context.Background()
	e, _, _ := analyticsEnvOn(b, st, &api.AnalyticsOptions{ProgressVersions: versions})
	carol := userID(b, e, &uCarol)
	// 200 videos of progress, the worst case of one answer: the 195 newest
	// are videos no longer in the library (skipped at serve time), the 5
	// oldest Carol's (1201…1205) and answered.
	var evs []analytics.Event
	for i := range 200 {
		v := fmt.Sprint("gone", i)
		if i >= 195 {
			v = fmt.Sprint(1201 + i - 195)
		}
		evs = append(evs, analytics.Event{ID: uuid.NewString(), Type: analytics.TypeHeartbeat, SessionID: uuid.NewString(),
			UserID: carol, VideoID: v, Position: 20, OccurredAt: testNow.Add(-time.Duration(i) * time.Minute)})
	}
	_, err := st.ApplyWatchEvents(ctx, evs, analytics.Rules{})
	require.NoError(b, err)
	h := deployed(b, e.srv.Handler())
	tok := e.issuer.IDToken(uCarol)
	for _, path := range []string{"/me/continue-watching", "/library/home"} {
		b.Run(path[1:], func(b *testing.B) {
			var lat latencies
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodGet, path, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					w := httptest.NewRecorder()
					t0 := time.Now()
					h.ServeHTTP(w, req)
					lat.add(time.Since(t0))
					if w.Code != http.StatusOK {
						b.Errorf("status %d", w.Code)
						return
					}
				}
			})
			lat.report(b)
		})
	}
	var p api.ProgressPage
	require.NoError(b, json.Unmarshal(e.get(b, "/me/continue-watching", &uCarol).body, &p))
	require.Len(b, p.Videos, 5)
}

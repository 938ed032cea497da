package kafkabus_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/internal/testenv"
)

func benchBus(b *testing.B) *kafkabus.Bus {
	b.Helper()
	k := testenv.Kafka(b)
	o := testOptions(k)
	o.Partitions = 8
	bus, err := kafkabus.New(k.Brokers(), o)
	require.NoError(b, err)
	b.Cleanup(func() { _ = bus.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(b, bus.Provision(ctx))
	return bus
}

func benchMessages(b *testing.B, n int) []events.Message {
	b.Helper()
	msgs := make([]events.Message, n)
	for i := range msgs {
		e, err := events.New(context.Background(), events.Event{Type: "analytics.heartbeat", Source: "bench", Key: "user-" + strconv.Itoa(i%1000)},
			map[string]any{"video": i % 97, "position": float64(i%600) / 2})
		require.NoError(b, err)
		m, err := e.Message(events.TopicAnalytics)
		require.NoError(b, err)
		msgs[i] = m
	}
	return msgs
}

// BenchmarkPublish: acks=all, 1,000 events per Publish call, from 1 and 4
// goroutines. The metric is events/s.
func BenchmarkPublish(b *testing.B) {
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("batch=1000/publishers=%d", workers), func(b *testing.B) {
			bus := benchBus(b)
			msgs := benchMessages(b, 1000)
			ctx := context.Background()
			require.NoError(b, bus.Publish(ctx, msgs...)) // warm up: metadata, connections
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := bus.Publish(ctx, msgs...); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*len(msgs))/time.Since(start).Seconds(), "events/s")
		})
	}
	b.Run("single/publishers=1", func(b *testing.B) {
		bus := benchBus(b)
		msgs := benchMessages(b, 1)
		ctx := context.Background()
		require.NoError(b, bus.Publish(ctx, msgs...))
		b.ResetTimer()
		for range b.N {
			if err := bus.Publish(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConsumeCommit: b.N events already on the topic; one member
// consumes them with a no-op handler and commits. The clock stops when the
// clean stop (final commit included) returns.
func BenchmarkConsumeCommit(b *testing.B) {
	bus := benchBus(b)
	ctx := context.Background()
	msgs := benchMessages(b, 1000)
	for sent := 0; sent < b.N; sent += len(msgs) {
		require.NoError(b, bus.Publish(ctx, msgs[:min(len(msgs), b.N-sent)]...))
	}
	var handled atomic.Int64
	all := make(chan struct{})
	sctx, stop := context.WithCancel(ctx)
	b.ResetTimer()
	start := time.Now()
	done := make(chan error)
	go func() {
		done <- bus.Subscribe(sctx, events.Subscription{Group: "bench", Topics: []string{events.TopicAnalytics}, MaxInFlight: 256},
			func(context.Context, *events.Message) error {
				if handled.Add(1) == int64(b.N) {
					close(all)
				}
				return nil
			})
	}()
	<-all
	stop()
	require.NoError(b, <-done)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkEndToEndLatency publishes b.N single events at 1,000 per second
// (each its own Publish call, acks=all) while a member consumes them, and
// reports the latency from just before Publish to the handler: p50, p99, max.
// Use -benchtime 5000x for five seconds of traffic.
func BenchmarkEndToEndLatency(b *testing.B) {
	bus := benchBus(b)
	ctx := context.Background()
	n := b.N
	sent := make([]atomic.Int64, n) // unix nanoseconds; atomic because only the broker orders them
	lat := make([]time.Duration, n)
	var got atomic.Int64
	all := make(chan struct{})
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	ready := make(chan struct{})
	var readyOnce sync.Once
	go func() {
		_ = bus.Subscribe(sctx, events.Subscription{Group: "latency", Topics: []string{events.TopicAnalytics}, MaxInFlight: 256},
			func(_ context.Context, m *events.Message) error {
				if m.Key == "warmup" {
					readyOnce.Do(func() { close(ready) })
					return nil
				}
				i, _ := strconv.Atoi(m.Key)
				lat[i] = time.Duration(time.Now().UnixNano() - sent[i].Load())
				if got.Add(1) == int64(n) {
					close(all)
				}
				return nil
			})
	}()
	// Wait until the member has joined and consumes.
	require.NoError(b, bus.Publish(ctx, events.Message{Topic: events.TopicAnalytics, Key: "warmup", Value: []byte("w")}))
	<-ready

	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
		wg.Go(func() {
			m := events.Message{Topic: events.TopicAnalytics, Key: strconv.Itoa(i), Value: []byte(`{"n":1}`)}
			sent[i].Store(time.Now().UnixNano())
			if err := bus.Publish(ctx, m); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	<-all
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}

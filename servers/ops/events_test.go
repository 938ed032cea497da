package ops_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/store/memstore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// waitFor polls cond until it holds, failing after a generous bound (a
// liveness check, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metricValue is gaugeValue that reports an absent metric as ok=false.
func metricValue(t *testing.T, m *ops.Metrics, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	if !hasMetric(t, m, name) {
		return 0, false
	}
	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, mt := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range mt.GetLabel() {
					found = found || (lp.GetName() == k && lp.GetValue() == v)
				}
				if !found {
					continue next
				}
			}
			if mt.Counter != nil {
				return mt.GetCounter().GetValue(), true
			}
			return mt.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestWatchSnapshotReadsAtScrapeTime(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	status := ops.SnapshotStatus{}
	m := newMetrics(t, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	m.ObserveSnapshot(ops.SnapshotStatus{Loaded: true, ContentVersion: 99, LoadedAt: now})
	m.WatchSnapshot(func() ops.SnapshotStatus { mu.Lock(); defer mu.Unlock(); return status })
	set := func(s ops.SnapshotStatus, advance time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		status = s
		now = now.Add(advance)
	}

	set(ops.SnapshotStatus{}, 20*time.Second)
	require.False(t, hasMetric(t, m, "vidlib_snapshot_content_version"), "the watched source wins, and it has nothing loaded")
	require.False(t, hasMetric(t, m, "vidlib_snapshot_loaded_timestamp_seconds"))
	require.Equal(t, 20.0, gaugeValue(t, m, "vidlib_snapshot_age_seconds", nil), "since process start while none is loaded")

	loaded := now
	set(ops.SnapshotStatus{Loaded: true, ContentVersion: 5, EntitlementVersion: 2, LoadedAt: loaded}, 3*time.Second)
	require.Equal(t, 5.0, gaugeValue(t, m, "vidlib_snapshot_content_version", nil))
	require.Equal(t, 2.0, gaugeValue(t, m, "vidlib_snapshot_entitlement_version", nil))
	require.Equal(t, float64(loaded.Unix()), gaugeValue(t, m, "vidlib_snapshot_loaded_timestamp_seconds", nil))
	require.Equal(t, 3.0, gaugeValue(t, m, "vidlib_snapshot_age_seconds", nil))

	// A new entitlement version swaps in a new snapshot: read at the next scrape.
	set(ops.SnapshotStatus{Loaded: true, ContentVersion: 5, EntitlementVersion: 3, LoadedAt: now}, time.Second)
	require.Equal(t, 3.0, gaugeValue(t, m, "vidlib_snapshot_entitlement_version", nil))
	require.Equal(t, 1.0, gaugeValue(t, m, "vidlib_snapshot_age_seconds", nil))
}

// The consumer metrics over a real consumer chain: a message that keeps
// failing is dead-lettered (counter 1, open gauge 1), the lag drops once it
// is committed past, and once the bug is fixed a replay succeeds and the open
// gauge goes back to 0 (the counter stays: it counts dead-letterings).
func TestConsumerMetricsDeadLetterAndReplay(t *testing.T) {
	ctx := context.Background()
	m := newMetrics(t, nil)
	bus, err := membus.New(&membus.Options{Partitions: 2})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, bus.Close()) })
	store := memstore.New()
	const group, topic = "g", events.TopicVimeoWebhooksRaw
	require.NoError(t, m.WatchConsumerLag(bus, ops.ConsumerGroup{Group: group, Topics: []string{topic}}))
	require.NoError(t, m.WatchDeadLettersOpen(store))
	require.Error(t, m.WatchDeadLettersOpen(store), "registered twice")

	counter := func(name string, labels map[string]string) float64 {
		v, _ := metricValue(t, m, name, labels)
		return v
	}
	lag := func() float64 {
		return gaugeValue(t, m, "vidlib_consumer_lag_messages", map[string]string{"group": group, "topic": topic})
	}
	open := func() float64 { return gaugeValue(t, m, "vidlib_dead_letters_open", nil) }
	require.Zero(t, lag())
	require.Zero(t, open())

	e, err := events.New(ctx, events.Event{Type: "vimeo.webhook.received", Source: "test", Key: "v1"}, map[string]string{"video_id": "1"})
	require.NoError(t, err)
	require.NoError(t, events.PublishEvents(ctx, bus, topic, e))
	require.Equal(t, 1.0, lag(), "published, not consumed yet")

	var broken atomic.Bool
	broken.Store(true)
	var handled atomic.Int32
	dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Publisher: bus, Store: store})
	require.NoError(t, err)
	h := events.Chain(func(context.Context, *events.Message) error {
		if broken.Load() {
			return errors.New("the bug")
		}
		handled.Add(1)
		return nil
	}, events.Observe(m.ObserveConsumer(group)), dlq,
		events.Retry(events.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, Jitter: 1e-9}))
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- bus.Subscribe(sctx, events.Subscription{Group: group, Topics: []string{topic}}, h) }()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
	})

	deadLabels := map[string]string{"topic": topic}
	waitFor(t, "the message dead-lettered", func() bool { return counter("vidlib_dead_letters_total", deadLabels) == 1 })
	require.Equal(t, 1.0, open())
	require.Equal(t, 1.0, counter("vidlib_consumer_messages_total", map[string]string{"group": group, "topic": topic, "result": "dead_letter"}))
	waitFor(t, "the lag back to 0 once committed past the dead letter", func() bool { return lag() == 0 })

	// Fix the bug, replay: handled, the letter is closed.
	broken.Store(false)
	letters, err := store.ListDeadLetters(ctx, events.DeadLetterFilter{Status: events.DeadLetterOpen})
	require.NoError(t, err)
	require.Len(t, letters, 1)
	rp, err := events.NewReplayer(store, bus, nil)
	require.NoError(t, err)
	_, err = rp.Replay(ctx, letters[0].ID, "admin@example.com")
	require.NoError(t, err)
	waitFor(t, "the replay handled", func() bool { return handled.Load() == 1 })
	require.Equal(t, 0.0, open(), "replayed: no open dead letter")
	require.Equal(t, 1.0, counter("vidlib_dead_letters_total", deadLabels), "the counter counts dead-letterings")
	require.Equal(t, 1.0, counter("vidlib_consumer_messages_total", map[string]string{"group": group, "topic": topic, "result": "ok"}))
	waitFor(t, "the lag back to 0", func() bool { return lag() == 0 })
}

func TestObserveConsumerResults(t *testing.T) {
	m := newMetrics(t, nil)
	obs := m.ObserveConsumer("g")
	for _, o := range []events.Outcome{events.OutcomeHandled, events.OutcomeHandled, events.OutcomeFailed, events.OutcomeDuplicate, events.OutcomeDeadLettered,
		events.OutcomeSkipped, events.OutcomeSkipped, events.OutcomeSkipped} {
		obs(events.Observation{Topic: "t", Outcome: o})
	}
	for result, want := range map[string]float64{"ok": 2, "retry": 1, "duplicate": 1, "dead_letter": 1, "skipped": 3} {
		require.Equal(t, want, gaugeValue(t, m, "vidlib_consumer_messages_total", map[string]string{"group": "g", "topic": "t", "result": result}), result)
	}
	require.Equal(t, 1.0, gaugeValue(t, m, "vidlib_dead_letters_total", map[string]string{"topic": "t"}))
}

type failingLag struct{}

func (failingLag) Lag(context.Context, string, ...string) (map[string]map[int]int64, error) {
	return nil, errors.New("broker down")
}

type failingCount struct{}

func (failingCount) CountDeadLetters(context.Context, events.DeadLetterStatus) (int64, error) {
	return 0, errors.New("database down")
}

// A source that fails leaves its metric out of the scrape (the rest is
// served) and is counted.
func TestScrapeTimeSourceFailures(t *testing.T) {
	m := newMetrics(t, nil)
	require.NoError(t, m.WatchConsumerLag(failingLag{}, ops.ConsumerGroup{Group: "g", Topics: []string{"t"}}))
	require.NoError(t, m.WatchDeadLettersOpen(failingCount{}))
	require.False(t, hasMetric(t, m, "vidlib_consumer_lag_messages"))
	require.False(t, hasMetric(t, m, "vidlib_dead_letters_open"))
	require.True(t, hasMetric(t, m, "vidlib_snapshot_age_seconds"), "the rest is served")
	// Three scrapes so far (each hasMetric gathers once), each failed once per source.
	require.Equal(t, 3.0, testutil.ToFloat64(m.ScrapeErrors.WithLabelValues("consumer_lag")))
	require.Equal(t, 3.0, testutil.ToFloat64(m.ScrapeErrors.WithLabelValues("dead_letters_open")))
}

func TestEventTracingOff(t *testing.T) {
	tr, err := ops.NewTracing(context.Background(), nil)
	require.NoError(t, err)
	bus, err := membus.New(nil)
	require.NoError(t, err)
	defer bus.Close()
	require.Same(t, events.Publisher(bus), tr.Publisher(bus, "membus"), "off: the bus itself")
	require.Nil(t, tr.MessageSpan("g", "membus"), "off: no span starter")

	// Off, a caller's traceparent still reaches the events a request makes.
	const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	var got string
	h := tr.HTTPHandler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		e, err := events.New(r.Context(), events.Event{Type: "audit.test", Source: "test"}, nil)
		require.NoError(t, err)
		got = e.Trace
	}), "api")
	get(t, h, "/x", http.Header{"Traceparent": {caller}})
	require.Equal(t, caller, got)
}

// newRecordedTracing returns tracing on, exporting to memory.
func newRecordedTracing(t *testing.T) (*ops.Tracing, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tr, err := ops.NewTracing(context.Background(), &ops.TracingOptions{Exporter: exp, ServiceName: "vidlib-test"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr, exp
}

// spanNamed returns the one span named name.
func spanNamed(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %q among %v", name, names(spans))
	return found[0]
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// TestTraceCrossesKafka follows one request through two Kafka hops (kfake):
// an HTTP request publishes to vimeo.webhooks.raw, a consumer of it publishes
// to vimeo.sync.normalized, a consumer of that finishes. It must be one trace
// in which each consumer span is the child of the publish span of its
// message. That parent is only in the Kafka record's traceparent header (the
// envelope's trace field names the span that created the event), so the test
// fails if the header is not carried.
func TestTraceCrossesKafka(t *testing.T) {
	ctx := context.Background()
	tr, exp := newRecordedTracing(t)
	kc := testenv.Kafka(t)
	bus, err := kafkabus.New(kc.Brokers(), &kafkabus.Options{TopicPrefix: kc.TopicPrefix()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })
	require.NoError(t, bus.Provision(ctx))
	pub := tr.Publisher(bus, "kafka")

	var rawHeader atomic.Value
	finished := make(chan struct{})
	var once sync.Once
	consume := func(group, topic string, h events.Handler) {
		sctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- bus.Subscribe(sctx, events.Subscription{Group: group, Topics: []string{topic}},
				events.Chain(h, events.Trace(tr.MessageSpan(group, "kafka"))))
		}()
		t.Cleanup(func() {
			stop()
			require.NoError(t, <-done)
		})
	}
	consume("normalizer", events.TopicVimeoWebhooksRaw, func(ctx context.Context, m *events.Message) error {
		rawHeader.Store(m.Headers[events.HeaderTraceParent])
		out, err := events.New(ctx, events.Event{Type: "vimeo.video.refetch", Source: "test", Key: m.Key}, nil)
		if err != nil {
			return err
		}
		return events.PublishEvents(ctx, pub, events.TopicVimeoSyncNormalized, out)
	})
	consume("applier", events.TopicVimeoSyncNormalized, func(context.Context, *events.Message) error {
		once.Do(func() { close(finished) })
		return nil
	})

	intake := tr.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := events.New(r.Context(), events.Event{Type: "vimeo.webhook.received", Source: "test", Key: "42"}, nil)
		if err == nil {
			err = events.PublishEvents(r.Context(), pub, events.TopicVimeoWebhooksRaw, e)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}), "sync")
	w := get(t, intake, "/webhooks/vimeo", nil)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		t.Fatal("the message never reached the second consumer")
	}
	// The second consumer may finish before the first one's spans end (the
	// publish span ends when the broker acknowledges): wait for all five.
	waitFor(t, "every span ended", func() bool {
		require.NoError(t, tr.ForceFlush(ctx))
		return len(exp.GetSpans()) >= 5
	})

	spans := exp.GetSpans()
	var server tracetest.SpanStub
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindServer {
			server = s
		}
	}
	require.True(t, server.SpanContext.IsValid(), "the request's server span among %v", names(spans))
	pubRaw := spanNamed(t, spans, "publish "+events.TopicVimeoWebhooksRaw)
	procRaw := spanNamed(t, spans, "process "+events.TopicVimeoWebhooksRaw)
	pubNorm := spanNamed(t, spans, "publish "+events.TopicVimeoSyncNormalized)
	procNorm := spanNamed(t, spans, "process "+events.TopicVimeoSyncNormalized)

	traceID := server.SpanContext.TraceID()
	for _, s := range []tracetest.SpanStub{pubRaw, procRaw, pubNorm, procNorm} {
		require.Equal(t, traceID, s.SpanContext.TraceID(), "%s is in the request's trace", s.Name)
	}
	require.Equal(t, server.SpanContext.SpanID(), pubRaw.Parent.SpanID(), "published under the request")
	require.Equal(t, pubRaw.SpanContext.SpanID(), procRaw.Parent.SpanID(), "the consumer continues the publish span carried in the header")
	require.True(t, procRaw.Parent.IsRemote())
	require.Equal(t, procRaw.SpanContext.SpanID(), pubNorm.Parent.SpanID(), "published while handling")
	require.Equal(t, pubNorm.SpanContext.SpanID(), procNorm.Parent.SpanID(), "second hop")
	require.Equal(t, trace.SpanKindProducer, pubRaw.SpanKind)
	require.Equal(t, trace.SpanKindConsumer, procRaw.SpanKind)
	require.Contains(t, rawHeader.Load(), pubRaw.SpanContext.SpanID().String(), "the Kafka record carried the publish span")
	attrs := map[string]string{}
	for _, kv := range procRaw.Attributes {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	require.Equal(t, "normalizer", attrs["messaging.consumer.group.name"])
	require.Equal(t, events.TopicVimeoWebhooksRaw, attrs["messaging.destination.name"])
	require.Equal(t, "kafka", attrs["messaging.system"])
}

// Without a span in the context (the outbox relay), messages are published
// unchanged and the consumer continues the trace named in the envelope.
func TestTraceFromTheEnvelopeWithoutASpan(t *testing.T) {
	ctx := context.Background()
	tr, exp := newRecordedTracing(t)
	bus, err := membus.New(nil)
	require.NoError(t, err)
	defer bus.Close()
	rec := &recordingPublisher{next: bus}
	pub := tr.Publisher(rec, "membus")

	const writer = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	e, err := events.New(events.ContextWithTraceParent(ctx, writer), events.Event{Type: "audit.test", Source: "test"}, nil)
	require.NoError(t, err)
	msg, err := e.Message(events.TopicAudit)
	require.NoError(t, err)
	delete(msg.Headers, events.HeaderTraceParent) // as the relay publishes an outbox row
	require.NoError(t, pub.Publish(ctx, msg))
	require.Len(t, rec.msgs, 1)
	require.NotContains(t, rec.msgs[0].Headers, events.HeaderTraceParent, "no span: nothing added")

	start := tr.MessageSpan("audit", "membus")
	m := rec.msgs[0]
	require.NoError(t, events.Chain(func(context.Context, *events.Message) error { return nil }, events.Trace(start))(ctx, &m))
	require.NoError(t, tr.ForceFlush(ctx))
	proc := spanNamed(t, exp.GetSpans(), "process "+events.TopicAudit)
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", proc.SpanContext.TraceID().String())
	require.Equal(t, "00f067aa0ba902b7", proc.Parent.SpanID().String())

	// A publish under a span does not change the caller's headers.
	sctx, span := tr.TracerProvider().Tracer("t").Start(ctx, "op")
	in := events.Message{Topic: events.TopicAudit, Value: []byte("x"), Headers: map[string]string{"k": "v"}}
	require.NoError(t, pub.Publish(sctx, in))
	span.End()
	require.Equal(t, map[string]string{"k": "v"}, in.Headers)
	require.Equal(t, "v", rec.msgs[1].Headers["k"])
	require.Contains(t, rec.msgs[1].Headers[events.HeaderTraceParent], span.SpanContext().TraceID().String())

	// A failed publish is an error span.
	rec.fail = errors.New("broker down")
	require.ErrorIs(t, pub.Publish(sctx, in), rec.fail)
	require.NoError(t, tr.ForceFlush(ctx))
	var failed []sdktrace.ReadOnlySpan
	for _, s := range exp.GetSpans().Snapshots() {
		if s.Name() == "publish "+events.TopicAudit && s.Status().Code != 0 {
			failed = append(failed, s)
		}
	}
	require.Len(t, failed, 1)
}

type recordingPublisher struct {
	next events.Publisher
	fail error
	msgs []events.Message
}

func (r *recordingPublisher) Publish(ctx context.Context, msgs ...events.Message) error {
	if r.fail != nil {
		return r.fail
	}
	r.msgs = append(r.msgs, msgs...)
	return r.next.Publish(ctx, msgs...)
}

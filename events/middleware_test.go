package events_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/eventstest"
)

// fakePublisher records what it publishes and fails when err is set.
type fakePublisher struct {
	mu   sync.Mutex
	msgs []events.Message
	err  error
	// failIf fails single messages it matches.
	failIf func(events.Message) bool
	calls  int
}

func (p *fakePublisher) Publish(ctx context.Context, msgs ...events.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.err != nil {
		return p.err
	}
	for _, m := range msgs {
		if p.failIf != nil && p.failIf(m) {
			return errors.New("rejected " + m.Key)
		}
	}
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *fakePublisher) published() []events.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]events.Message(nil), p.msgs...)
}

func msgOf(t *testing.T, e events.Event, topic string) *events.Message {
	t.Helper()
	m, err := e.Message(topic)
	require.NoError(t, err)
	m.Partition, m.Offset, m.Delivery = 2, 41, 1
	m.Time = time.Now().Add(-time.Second)
	return &m
}

func fastRetry(attempts int) events.Middleware {
	return events.Retry(events.RetryPolicy{MaxAttempts: attempts, InitialBackoff: time.Microsecond, MaxBackoff: time.Microsecond})
}

func TestBackoff(t *testing.T) {
	p := events.RetryPolicy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Multiplier: 2, Jitter: 0.5}
	for _, tc := range []struct {
		n    int
		u    float64
		want time.Duration
	}{
		{1, 0, 100 * time.Millisecond},
		{2, 0, 200 * time.Millisecond},
		{3, 0, 400 * time.Millisecond},
		{4, 0, 800 * time.Millisecond},
		{5, 0, time.Second}, // capped
		{50, 0, time.Second},
		{1, 0.999999, 50*time.Millisecond + 50*time.Nanosecond},
		{3, 0.5, 300 * time.Millisecond},
	} {
		require.InDelta(t, float64(tc.want), float64(p.Backoff(tc.n, tc.u)), float64(time.Microsecond), "n=%d u=%v", tc.n, tc.u)
	}
	// Property: within [d(1-J), d] and non-decreasing in n for a fixed u.
	def := events.RetryPolicy{}
	for _, u := range []float64{0, 0.1, 0.5, 0.9, 0.99} {
		prev := time.Duration(0)
		for n := 1; n < 30; n++ {
			d := def.Backoff(n, u)
			full := def.Backoff(n, 0)
			require.GreaterOrEqual(t, d, full/2)
			require.LessOrEqual(t, d, full)
			require.LessOrEqual(t, full, 10*time.Second)
			require.GreaterOrEqual(t, d, prev)
			prev = d
		}
	}
}

func TestRetry(t *testing.T) {
	e := newEvent(t)
	ctx := context.Background()
	t.Run("until success", func(t *testing.T) {
		calls := 0
		h := events.Chain(func(context.Context, *events.Message) error {
			calls++
			if calls < 3 {
				return errors.New("transient")
			}
			return nil
		}, fastRetry(5))
		require.NoError(t, h(ctx, msgOf(t, e, events.TopicAnalytics)))
		require.Equal(t, 3, calls)
	})
	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		calls := 0
		boom := errors.New("down")
		h := events.Chain(func(context.Context, *events.Message) error { calls++; return boom }, fastRetry(4))
		err := h(ctx, msgOf(t, e, events.TopicAnalytics))
		var he *events.HandlerError
		require.ErrorAs(t, err, &he)
		require.ErrorIs(t, err, boom)
		require.Equal(t, 4, he.Attempts)
		require.Equal(t, 4, calls)
		require.False(t, he.FirstFailure.After(he.LastFailure))
	})
	t.Run("permanent errors are not retried", func(t *testing.T) {
		for _, perm := range []error{events.Permanent(errors.New("no")), events.Invalid("x", "f", "bad")} {
			calls := 0
			h := events.Chain(func(context.Context, *events.Message) error { calls++; return perm }, fastRetry(5))
			err := h(ctx, msgOf(t, e, events.TopicAnalytics))
			var he *events.HandlerError
			require.ErrorAs(t, err, &he)
			require.Equal(t, 1, calls)
			require.True(t, events.IsPermanent(err))
		}
		require.Nil(t, events.Permanent(nil))
	})
	t.Run("context end is not a handler failure", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		h := events.Chain(func(context.Context, *events.Message) error { cancel(); return errors.New("interrupted") },
			events.Retry(events.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Hour}))
		err := h(cctx, msgOf(t, e, events.TopicAnalytics))
		require.ErrorIs(t, err, context.Canceled)
		var he *events.HandlerError
		require.False(t, errors.As(err, &he))
	})
}

func TestRecover(t *testing.T) {
	h := events.Chain(func(context.Context, *events.Message) error { panic("kaboom") }, events.Recover())
	err := h(context.Background(), msgOf(t, newEvent(t), events.TopicAnalytics))
	var pe *events.PanicError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "kaboom", pe.Value)
	require.NotEmpty(t, pe.Stack)
}

func TestChainOrder(t *testing.T) {
	var order []string
	mw := func(name string) events.Middleware {
		return func(next events.Handler) events.Handler {
			return func(ctx context.Context, m *events.Message) error {
				order = append(order, name)
				return next(ctx, m)
			}
		}
	}
	h := events.Chain(func(context.Context, *events.Message) error { order = append(order, "h"); return nil }, mw("a"), mw("b"), mw("c"))
	require.NoError(t, h(context.Background(), &events.Message{}))
	require.Equal(t, []string{"a", "b", "c", "h"}, order)
}

func TestDeadLetterQueue(t *testing.T) {
	ctx := context.Background()
	e := newEvent(t)
	boom := errors.New("cannot apply")
	fail := func(context.Context, *events.Message) error { return boom }

	t.Run("records and publishes, then lets the partition move on", func(t *testing.T) {
		store, pub := eventstest.NewDeadLetters(), &fakePublisher{}
		dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Publisher: pub, Store: store})
		require.NoError(t, err)
		m := msgOf(t, e, events.TopicAnalytics)
		var outcome events.Outcome
		h := events.Chain(fail, events.Observe(func(o events.Observation) { outcome = o.Outcome }), dlq, fastRetry(3))
		require.NoError(t, h(ctx, m))
		require.Equal(t, events.OutcomeDeadLettered, outcome)
		require.Equal(t, events.OutcomeDeadLettered, m.Outcome(), "readable after the handler returned")

		ls, err := store.ListDeadLetters(ctx, events.DeadLetterFilter{})
		require.NoError(t, err)
		require.Len(t, ls, 1)
		require.Equal(t, e.ID, ls[0].EventID)
		require.Equal(t, 3, ls[0].Attempts)
		require.Equal(t, events.TopicDeadLettersAnalytics, ls[0].DeadTopic)
		require.Contains(t, ls[0].Error, "cannot apply")
		require.Equal(t, m.Value, ls[0].Payload)

		got := pub.published()
		require.Len(t, got, 1)
		require.Equal(t, events.TopicDeadLettersAnalytics, got[0].Topic)
		require.Equal(t, m.Key, got[0].Key)
		require.Equal(t, m.Value, got[0].Value)
		require.Equal(t, "3", got[0].Headers[events.HeaderDeadAttempts])
		require.Equal(t, events.TopicAnalytics, got[0].Headers[events.HeaderDeadTopic])
		require.Equal(t, "2", got[0].Headers[events.HeaderDeadPartition])
		require.Equal(t, "41", got[0].Headers[events.HeaderDeadOffset])
		require.Equal(t, e.ID, got[0].Headers[events.HeaderDeadEventID])
		require.Equal(t, e.ID, got[0].Headers[events.HeaderEventID], "original headers are kept")
	})
	t.Run("a failure to set aside is returned, so nothing is lost", func(t *testing.T) {
		pub := &fakePublisher{err: errors.New("broker down")}
		store := eventstest.NewDeadLetters()
		dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Publisher: pub, Store: store})
		require.NoError(t, err)
		err = events.Chain(fail, dlq)(ctx, msgOf(t, e, events.TopicAnalytics))
		require.ErrorContains(t, err, "broker down")
		require.ErrorContains(t, err, "cannot apply")
	})
	t.Run("a shutdown is not dead-lettered", func(t *testing.T) {
		store := eventstest.NewDeadLetters()
		dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Store: store})
		require.NoError(t, err)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err = events.Chain(fail, dlq)(cctx, msgOf(t, e, events.TopicAnalytics))
		require.ErrorIs(t, err, boom)
		ls, _ := store.ListDeadLetters(ctx, events.DeadLetterFilter{})
		require.Empty(t, ls)
	})
	t.Run("bad input is keyed by its hash and a dead-letter topic is never re-published", func(t *testing.T) {
		store, pub := eventstest.NewDeadLetters(), &fakePublisher{}
		dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Publisher: pub, Store: store})
		require.NoError(t, err)
		h := events.Chain(events.HandleEvents(func(context.Context, events.Event) error { return nil }), dlq, fastRetry(5))
		m := &events.Message{Topic: events.TopicDeadLettersVimeo, Value: []byte("garbage")}
		require.NoError(t, h(ctx, m))
		require.Empty(t, pub.published(), "a dead-letter topic has no dead-letter topic")
		ls, _ := store.ListDeadLetters(ctx, events.DeadLetterFilter{})
		require.Len(t, ls, 1)
		require.Equal(t, 1, ls[0].Attempts, "bad input is not retried")
		require.Equal(t, events.EventIDOf(m), ls[0].EventID)
		require.Regexp(t, `^sha256:`, ls[0].EventID)
		require.Empty(t, ls[0].DeadTopic)
	})
	t.Run("needs somewhere to put letters", func(t *testing.T) {
		_, err := events.DeadLetterQueue(events.DeadLetterOptions{})
		require.ErrorIs(t, err, events.ErrInvalid)
	})
	t.Run("success passes through", func(t *testing.T) {
		store := eventstest.NewDeadLetters()
		dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Store: store})
		require.NoError(t, err)
		require.NoError(t, events.Chain(func(context.Context, *events.Message) error { return nil }, dlq)(ctx, msgOf(t, e, events.TopicAudit)))
		ls, _ := store.ListDeadLetters(ctx, events.DeadLetterFilter{})
		require.Empty(t, ls)
	})
}

func TestEventIDOf(t *testing.T) {
	e := newEvent(t)
	require.Equal(t, e.ID, events.EventIDOf(msgOf(t, e, "x")))
	// An envelope that fails validation but has a readable id keeps it.
	m := &events.Message{Value: []byte(`{"v":9,"id":"` + e.ID + `"}`)}
	require.Equal(t, e.ID, events.EventIDOf(m))
	// An id that is not a UUID is not trusted.
	m = &events.Message{Value: []byte(`{"v":1,"id":"'; DROP TABLE"}`)}
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, events.EventIDOf(m))
	a := events.EventIDOf(&events.Message{Value: []byte("same")})
	require.Equal(t, a, events.EventIDOf(&events.Message{Value: []byte("same")}), "the same bytes, the same id")
}

func TestDedup(t *testing.T) {
	ctx := context.Background()
	d := eventstest.NewDeduper()
	e := newEvent(t)
	applied := 0
	var outcomes []events.Outcome
	h := events.Chain(func(context.Context, *events.Message) error { applied++; return nil },
		events.Observe(func(o events.Observation) { outcomes = append(outcomes, o.Outcome) }),
		events.Dedup(d, "c", nil))
	require.NoError(t, h(ctx, msgOf(t, e, events.TopicAnalytics)))
	require.NoError(t, h(ctx, msgOf(t, e, events.TopicAnalytics)))
	require.Equal(t, 1, applied)
	require.Equal(t, []events.Outcome{events.OutcomeHandled, events.OutcomeDuplicate}, outcomes)

	// A failed handler is not recorded: the next delivery runs it again.
	e2 := newEvent(t)
	fails := true
	h2 := events.Chain(func(context.Context, *events.Message) error {
		if fails {
			return errors.New("x")
		}
		applied++
		return nil
	}, events.Dedup(d, "c", nil))
	require.Error(t, h2(ctx, msgOf(t, e2, events.TopicAnalytics)))
	fails = false
	require.NoError(t, h2(ctx, msgOf(t, e2, events.TopicAnalytics)))
	require.Equal(t, 2, applied)

	// A derived key: provider events are deduplicated by provider, object,
	// type and source time, whatever their envelope id.
	key := func(m *events.Message) (string, error) {
		ev, err := m.Event()
		if err != nil {
			return "", err
		}
		var p struct {
			Object string    `json:"object"`
			At     time.Time `json:"at"`
		}
		if err := ev.DecodeData(&p); err != nil {
			return "", err
		}
		return events.ProviderEventKey("vimeo", p.Object, ev.Type, p.At), nil
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	count := 0
	h3 := events.Chain(func(context.Context, *events.Message) error { count++; return nil }, events.Dedup(d, "sync", key))
	for range 3 {
		ev, err := events.New(ctx, events.Event{Type: "vimeo.video.updated", Source: "s"}, map[string]any{"object": "9", "at": at})
		require.NoError(t, err)
		require.NoError(t, h3(ctx, msgOf(t, ev, events.TopicVimeoWebhooksRaw)))
	}
	require.Equal(t, 1, count, "three envelopes of one provider event apply once")

	// Undecodable input has no key: a permanent error.
	err := h(ctx, &events.Message{Value: []byte("x")})
	require.True(t, events.IsPermanent(err))
}

func TestProcessOnce(t *testing.T) {
	ctx := context.Background()
	d := eventstest.NewDeduper()
	e := newEvent(t)
	var outcomes []events.Outcome
	applied := 0
	h := events.Chain(events.ProcessOnce[struct{}](d, "c", nil, func(ctx context.Context, _ struct{}, m *events.Message) error {
		applied++
		return nil
	}), events.Observe(func(o events.Observation) { outcomes = append(outcomes, o.Outcome) }))
	require.NoError(t, h(ctx, msgOf(t, e, events.TopicAnalytics)))
	require.NoError(t, h(ctx, msgOf(t, e, events.TopicAnalytics)))
	require.Equal(t, 1, applied)
	require.Equal(t, []events.Outcome{events.OutcomeHandled, events.OutcomeDuplicate}, outcomes)
}

func TestObserve(t *testing.T) {
	e := newEvent(t)
	var got events.Observation
	obs := events.Observe(func(o events.Observation) { got = o })
	m := msgOf(t, e, events.TopicAnalytics)
	require.NoError(t, events.Chain(func(context.Context, *events.Message) error { return nil }, obs)(context.Background(), m))
	require.Equal(t, events.OutcomeHandled, got.Outcome)
	require.Equal(t, "analytics.heartbeat", got.EventType)
	require.Equal(t, events.TopicAnalytics, got.Topic)
	require.Equal(t, 2, got.Partition)
	require.GreaterOrEqual(t, got.Lag, time.Second)

	boom := errors.New("x")
	require.ErrorIs(t, events.Chain(func(context.Context, *events.Message) error { return boom }, obs)(context.Background(), m), boom)
	require.Equal(t, events.OutcomeFailed, got.Outcome)
	require.ErrorIs(t, got.Err, boom)
}

func TestTrace(t *testing.T) {
	e := newEvent(t)
	e.Trace = tp
	var seen string
	var ended error
	started := ""
	h := events.Chain(func(ctx context.Context, _ *events.Message) error {
		seen = events.TraceParent(ctx)
		// An event published while handling continues the trace.
		child, err := events.New(ctx, events.Event{Type: "ranking.updated", Source: "s"}, nil)
		require.NoError(t, err)
		require.Equal(t, tp, child.Trace)
		return errors.New("x")
	}, events.Trace(func(ctx context.Context, m *events.Message, parent string) (context.Context, func(error)) {
		started = parent
		return ctx, func(err error) { ended = err }
	}))
	require.Error(t, h(context.Background(), msgOf(t, e, events.TopicAnalytics)))
	require.Equal(t, tp, seen)
	require.Equal(t, tp, started)
	require.EqualError(t, ended, "x")

	// Without an envelope trace the header is used; an invalid one is ignored.
	m := &events.Message{Value: []byte("x"), Headers: map[string]string{events.HeaderTraceParent: tp}}
	require.NoError(t, events.Chain(func(ctx context.Context, _ *events.Message) error { seen = events.TraceParent(ctx); return nil }, events.Trace(nil))(context.Background(), m))
	require.Equal(t, tp, seen)
	require.Empty(t, events.TraceParent(events.ContextWithTraceParent(context.Background(), "junk")))

	// The header (set on each publish by a tracing publisher) wins over the
	// envelope (set once when the event was made); a broken header does not.
	const publishSpan = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01"
	m = msgOf(t, e, events.TopicAnalytics)
	m.Headers[events.HeaderTraceParent] = publishSpan
	require.NoError(t, events.Chain(func(ctx context.Context, _ *events.Message) error { seen = events.TraceParent(ctx); return nil }, events.Trace(nil))(context.Background(), m))
	require.Equal(t, publishSpan, seen)
	m.Headers[events.HeaderTraceParent] = "00-junk"
	require.NoError(t, events.Chain(func(ctx context.Context, _ *events.Message) error { seen = events.TraceParent(ctx); return nil }, events.Trace(nil))(context.Background(), m))
	require.Equal(t, tp, seen, "an invalid header falls back to the envelope")
}

func TestOnlyTypesPassesOverOtherTypes(t *testing.T) {
	ctx := context.Background()
	var reached []string
	h := events.Chain(func(_ context.Context, m *events.Message) error {
		e, err := m.Event()
		if err != nil {
			reached = append(reached, "undecodable")
			return err
		}
		reached = append(reached, e.Type)
		return nil
	}, events.OnlyTypes("a.wanted", "b.wanted"))
	msg := func(typ string) *events.Message {
		e, err := events.New(ctx, events.Event{Type: typ, Source: "test"}, nil)
		require.NoError(t, err)
		m, err := e.Message("t")
		require.NoError(t, err)
		return &m
	}
	for _, typ := range []string{"a.wanted", "c.other", "b.wanted"} {
		m := msg(typ)
		require.NoError(t, h(ctx, m))
		if typ == "c.other" {
			require.Equal(t, events.OutcomeSkipped, m.Outcome())
		} else {
			require.Empty(t, m.Outcome())
		}
	}
	bad := &events.Message{Topic: "t", Value: []byte("not an envelope")}
	require.ErrorIs(t, h(ctx, bad), events.ErrInvalid, "what does not decode goes on, to be dead-lettered")
	require.Equal(t, []string{"a.wanted", "b.wanted", "undecodable"}, reached)
}

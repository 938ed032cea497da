package syncworker_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree/changeevents"
	"github.com/vidlib/vidlib/vimeo"
)

// observed counts handled messages per event type and outcome.
type observed struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *observed) fn(ob events.Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[ob.EventType+"/"+string(ob.Outcome)]++
}

func (o *observed) get(k string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[k]
}

// pipeline runs the intake, the normaliser and the applier over one bus.
type pipeline struct {
	intake   *syncworker.Intake
	norm     *observed
	apply    *observed
	store    store
	bus      bus
	sent     *recorder // what the intake published
	shutdown func()
}

func startPipeline(t *testing.T, s store, b bus, m syncworker.Mirror, retry events.RetryPolicy) *pipeline {
	t.Helper()
	p := &pipeline{store: s, bus: b, norm: &observed{}, apply: &observed{}}
	p.sent = &recorder{next: b}
	p.intake = newIntake(t, s, p.sent)
	n, err := syncworker.NewNormalizer(b, s, &syncworker.ConsumerOptions{Observe: p.norm.fn, RedeliveryDelay: 10 * time.Millisecond})
	require.NoError(t, err)
	a, err := syncworker.NewApplier(m, b, s, &syncworker.ApplierOptions{ConsumerOptions: syncworker.ConsumerOptions{Observe: p.apply.fn, Retry: retry, RedeliveryDelay: 10 * time.Millisecond}})
	require.NoError(t, err)
	w, err := syncworker.NewWorker(syncworker.WorkerParts{Subscriber: b, Normalizer: n, Applier: a}, nil)
	require.NoError(t, err)
	require.NoError(t, w.Start(context.Background()))
	p.shutdown = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		require.NoError(t, w.Stop(ctx))
	}
	t.Cleanup(p.shutdown)
	return p
}

func (p *pipeline) deliver(t *testing.T, typ, videoID string, at time.Time) {
	t.Helper()
	body := webhookBody(typ, videoID, at)
	w := post(t, p.intake, body, vimeo.Sign(secret, body, vimeo.EncodingHex))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

func TestDuplicateDeliveryIsProcessedOnce(t *testing.T) {
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			m := &fakeMirror{}
			p := startPipeline(t, sc.open(t), busCases[0].open(t), m, events.RetryPolicy{})
			p.deliver(t, "video-updated", "42", now)
			p.deliver(t, "video-updated", "42", now) // Vimeo delivers twice
			p.deliver(t, "video-updated", "43", now)
			// The bus delivers the first raw event again (a redelivery after
			// a rebalance, say).
			raw := p.sent.msgs[0]
			require.NoError(t, p.bus.Publish(ctx, raw))
			published := len(p.sent.on(events.TopicVimeoWebhooksRaw)) + 1 // 3 or 4: the intake republishes a duplicate not yet processed
			eventually(t, "every raw message handled", func() bool {
				return p.norm.get(syncworker.EventWebhookReceived+"/handled")+p.norm.get(syncworker.EventWebhookReceived+"/duplicate") == published
			})
			require.Equal(t, 2, p.norm.get(syncworker.EventWebhookReceived+"/handled"), "normalised once per webhook")
			eventually(t, "two refreshes", func() bool { return p.apply.get(syncworker.EventVideoRefetch+"/handled") == 2 })
			require.ElementsMatch(t, []string{"42", "43"}, m.refreshedIDs())

			pes, err := p.store.ListProviderEvents(ctx, events.ProviderEventFilter{})
			require.NoError(t, err)
			require.Len(t, pes, 2)
			for _, pe := range pes {
				require.Equal(t, events.ProviderEventProcessed, pe.Status)
			}
			// A redelivery after processing is answered 200 and not published.
			p.deliver(t, "video-updated", "42", now)
			p.shutdown()
			require.ElementsMatch(t, []string{"42", "43"}, m.refreshedIDs())
		})
	}
}

func TestApplierIgnoresOtherEventTypes(t *testing.T) {
	ctx := context.Background()
	m := &fakeMirror{}
	p := startPipeline(t, storeCases[0].open(t), busCases[0].open(t), m, events.RetryPolicy{})
	other, err := events.New(ctx, events.Event{Type: "vimeo.video.updated", Source: "vidlib/sync", Key: "5"}, map[string]any{"vimeo_id": "5"})
	require.NoError(t, err)
	require.NoError(t, events.PublishEvents(ctx, p.bus, events.TopicVimeoSyncNormalized, other))
	p.deliver(t, "video-created", "6", now)
	eventually(t, "refetch of 6 handled", func() bool { return p.apply.get(syncworker.EventVideoRefetch+"/handled") == 1 })
	eventually(t, "the change event passed over", func() bool { return p.apply.get("vimeo.video.updated/skipped") == 1 })
	require.Zero(t, p.apply.get("vimeo.video.updated/handled"))
	require.Equal(t, []string{"6"}, m.refreshedIDs())
	done, err := p.store.Processed(ctx, syncworker.GroupApplier, other.ID)
	require.NoError(t, err)
	require.False(t, done, "no dedup record for an event the applier does not handle")
}

// countingDedup counts the dedup ledger's reads and writes.
type countingDedup struct {
	*memstore.Store
	mu    sync.Mutex
	calls int
}

func (c *countingDedup) Processed(ctx context.Context, consumer, key string) (bool, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Store.Processed(ctx, consumer, key)
}

func (c *countingDedup) MarkProcessed(ctx context.Context, consumer, key string) (bool, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Store.MarkProcessed(ctx, consumer, key)
}

func (c *countingDedup) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// Every consumer of vimeo.sync.normalized (and the normaliser) passes over
// the event types it does not handle (the mirror's change events above all)
// before the dedup ledger, the retries and the dead letters: no ledger call,
// no handler call, outcome skipped; its own type still goes the whole way.
func TestConsumersPassOverEventsTheyDoNotHandle(t *testing.T) {
	ctx := context.Background()
	msg := func(typ string, data any) *events.Message {
		e, err := events.New(ctx, events.Event{Type: typ, Source: "test", Key: "5"}, data)
		require.NoError(t, err)
		m, err := e.Message(events.TopicVimeoSyncNormalized)
		require.NoError(t, err)
		return &m
	}
	others := func(own string) []*events.Message {
		var out []*events.Message
		for _, typ := range append(slices.Clone(changeevents.Types), syncworker.EventVideoRefetch, syncworker.EventSyncCommand, syncworker.EventWebhookReceived) {
			if typ != own {
				out = append(out, msg(typ, map[string]string{"vimeo_id": "5"}))
			}
		}
		return out
	}
	type consumer struct {
		own     *events.Message
		handler func(st *countingDedup, obs *observed) events.Handler
		called  func() int
	}
	m := &fakeMirror{}
	cm := &commandMirror{}
	cases := map[string]consumer{
		"applier": {
			own: msg(syncworker.EventVideoRefetch, syncworker.Refetch{VideoID: "5"}),
			handler: func(st *countingDedup, obs *observed) events.Handler {
				a, err := syncworker.NewApplier(m, &recorder{}, st, &syncworker.ApplierOptions{ConsumerOptions: syncworker.ConsumerOptions{Observe: obs.fn}})
				require.NoError(t, err)
				return a.Handler()
			},
			called: func() int { return len(m.refreshedIDs()) },
		},
		"commands": {
			own: msg(syncworker.EventSyncCommand, syncworker.Command{Action: syncworker.CommandRefreshVideo, ID: "5", Actor: "ops"}),
			handler: func(st *countingDedup, obs *observed) events.Handler {
				c, err := syncworker.NewCommands(cm, st, &recorder{}, st, &syncworker.CommandsOptions{ConsumerOptions: syncworker.ConsumerOptions{Observe: obs.fn}})
				require.NoError(t, err)
				return c.Handler()
			},
			called: func() int { return len(cm.got()) },
		},
		"normalizer": {
			own: msg(syncworker.EventWebhookReceived, syncworker.RawWebhook{VideoID: "5", WebhookType: "video-updated", EventKey: "k5"}),
			handler: func(st *countingDedup, obs *observed) events.Handler {
				n, err := syncworker.NewNormalizer(&recorder{}, st, &syncworker.ConsumerOptions{Observe: obs.fn})
				require.NoError(t, err)
				return n.Handler()
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			st := &countingDedup{Store: memstore.New()}
			obs := &observed{}
			h := c.handler(st, obs)
			ownEv, err := c.own.Event()
			require.NoError(t, err)
			before := 0
			if c.called != nil {
				before = c.called()
			}
			for _, o := range others(ownEv.Type) {
				require.NoError(t, h(ctx, o))
				e, err := o.Event()
				require.NoError(t, err)
				require.Equal(t, 1, obs.get(e.Type+"/skipped"), e.Type)
			}
			require.Zero(t, st.count(), "no dedup ledger call for what the consumer does not handle")
			if c.called != nil {
				require.Equal(t, before, c.called(), "nothing carried out")
			}
			require.NoError(t, h(ctx, c.own))
			require.Equal(t, 1, obs.get(ownEv.Type+"/handled"))
			require.Positive(t, st.count(), "its own events are deduplicated")
		})
	}
}

func TestFailingApplierDeadLettersAndReplays(t *testing.T) {
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			var mu sync.Mutex
			broken := true
			attempts := 0
			m := &fakeMirror{refresh: func(_ context.Context, id string) error {
				mu.Lock()
				defer mu.Unlock()
				if broken {
					attempts++
					return errors.New("vimeo is down")
				}
				return nil
			}}
			b := busCases[0].open(t)
			dead := &recorder{}
			// Watch the dead-letter topic.
			dctx, stop := context.WithCancel(ctx)
			defer stop()
			go func() {
				_ = b.Subscribe(dctx, events.Subscription{Group: "watch", Topics: []string{events.TopicDeadLettersVimeo}},
					func(ctx context.Context, m *events.Message) error { return dead.Publish(ctx, *m) })
			}()
			p := startPipeline(t, sc.open(t), b, m, events.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, Jitter: 1e-9})
			p.deliver(t, "video-updated", "99", now)
			eventually(t, "dead-lettered", func() bool { return p.apply.get(syncworker.EventVideoRefetch+"/dead_lettered") == 1 })
			require.Empty(t, m.refreshedIDs())
			mu.Lock()
			require.Equal(t, 3, attempts)
			mu.Unlock()

			letters, err := p.store.ListDeadLetters(ctx, events.DeadLetterFilter{})
			require.NoError(t, err)
			require.Len(t, letters, 1)
			d := letters[0]
			require.Equal(t, events.TopicVimeoSyncNormalized, d.Topic)
			require.Equal(t, events.TopicDeadLettersVimeo, d.DeadTopic)
			require.Equal(t, 3, d.Attempts)
			require.Contains(t, d.Error, "vimeo is down")
			require.Equal(t, "99", d.Key)
			eventually(t, "on deadletters.vimeo", func() bool { return len(dead.on(events.TopicDeadLettersVimeo)) == 1 })

			// Vimeo is back; an admin replays the letter.
			mu.Lock()
			broken = false
			mu.Unlock()
			r, err := events.NewReplayer(p.store, p.bus, &events.ReplayOptions{Audit: func(context.Context, events.AdminAction) error { return nil }})
			require.NoError(t, err)
			got, err := r.Replay(ctx, d.ID, "ops@example.com")
			require.NoError(t, err)
			require.Equal(t, events.DeadLetterReplayed, got.Status)
			eventually(t, "replayed refetch applied", func() bool { return len(m.refreshedIDs()) == 1 })
			require.Equal(t, []string{"99"}, m.refreshedIDs())
		})
	}
}

func TestNewConsumersValidate(t *testing.T) {
	_, err := syncworker.NewNormalizer(nil, nil, nil)
	require.ErrorIs(t, err, syncworker.ErrInvalid)
	_, err = syncworker.NewApplier(nil, nil, nil, nil)
	require.ErrorIs(t, err, syncworker.ErrInvalid)
}

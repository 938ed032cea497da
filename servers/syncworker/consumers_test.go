package syncworker_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/syncworker"
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
	eventually(t, "the change event handled", func() bool { return p.apply.get("vimeo.video.updated/handled") == 1 })
	require.Equal(t, []string{"6"}, m.refreshedIDs())
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

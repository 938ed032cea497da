package syncworker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/tree"
)

// Consumer group names.
const (
	GroupNormalizer = "vidlib.syncworker.normalizer"
	GroupApplier    = "vidlib.syncworker.applier"
)

// ConsumerOptions are the options both consumers share. The zero value is
// valid.
type ConsumerOptions struct {
	// Group overrides the consumer group (0: GroupNormalizer or GroupApplier).
	Group string
	// Retry is the in-handler retry policy before a message is dead-lettered
	// (zero: events' default, 5 attempts with exponential backoff).
	Retry events.RetryPolicy
	// MaxInFlight and RedeliveryDelay tune the subscription (0: the bus's
	// defaults).
	MaxInFlight     int
	RedeliveryDelay time.Duration
	// Source of the events the consumer publishes (0: "vidlib/syncworker").
	Source string
	// Observe, if set, receives every handled message (metrics).
	Observe func(events.Observation)
	// StartSpan, if set, starts a span per message as a child of the
	// producer's (events.Trace); servers/ops Tracing.MessageSpan makes one.
	// Without it the producer's traceparent is still carried on to the
	// events the consumer publishes.
	StartSpan events.SpanStarter
	Logger    *zap.Logger
}

func (o *ConsumerOptions) defaults(group string) ConsumerOptions {
	var c ConsumerOptions
	if o != nil {
		c = *o
	}
	if c.Group == "" {
		c.Group = group
	}
	if c.Source == "" {
		c.Source = "vidlib/syncworker"
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// chain wraps h in the standard reliable-consumer middleware. Only
// messages of the given event types reach the middleware below Observe:
// the topics are shared (vimeo.sync.normalized carries refetches, admin
// commands and the mirror's change events), and a message a consumer does
// not handle must cost it no dedup record, retry, dead letter or span.
func chain(h events.Handler, o ConsumerOptions, dlq events.Middleware, dedup events.Middleware, types ...string) events.Handler {
	mws := []events.Middleware{}
	if o.Observe != nil {
		mws = append(mws, events.Observe(o.Observe))
	}
	mws = append(mws, events.OnlyTypes(types...), events.Trace(o.StartSpan), dlq, events.Retry(o.Retry), events.Recover(), dedup)
	return events.Chain(h, mws...)
}

func subscription(o ConsumerOptions, topic string) events.Subscription {
	return events.Subscription{Group: o.Group, Topics: []string{topic}, MaxInFlight: o.MaxInFlight,
		RedeliveryDelay: o.RedeliveryDelay}
}

// NormalizerStore is what the normaliser needs of a store.
type NormalizerStore interface {
	ConsumerStore
	MarkProviderEventProcessed(ctx context.Context, id int64) error
}

// Normalizer consumes vimeo.webhooks.raw and turns each verified webhook about
// a video into a "re-fetch video X" action (EventVideoRefetch) on
// vimeo.sync.normalized, then marks the provider event processed. Webhooks
// about no video are marked processed with nothing published. It
// deduplicates by the provider event key, so a webhook Vimeo delivered twice
// (or the intake published twice) is normalised once.
type Normalizer struct {
	pub     events.Publisher
	store   NormalizerStore
	opts    ConsumerOptions
	log     *zap.Logger
	handler events.Handler
}

// NewNormalizer returns a normaliser that publishes with pub and keeps its
// ledger and dead letters in store. Dead letters go to deadletters.vimeo and
// the dead_letters table.
func NewNormalizer(pub events.Publisher, store NormalizerStore, opts *ConsumerOptions) (*Normalizer, error) {
	if pub == nil || store == nil {
		return nil, fmt.Errorf("%w: normaliser needs a publisher and a store", ErrInvalid)
	}
	o := opts.defaults(GroupNormalizer)
	n := &Normalizer{pub: pub, store: store, opts: o, log: o.Logger.Named("normalizer")}
	dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Publisher: pub, Store: store, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("syncworker: normaliser: %w", err)
	}
	n.handler = chain(events.HandleEvents(n.handle), o, dlq, events.Dedup(store, o.Group, rawWebhookKey), EventWebhookReceived)
	return n, nil
}

// Handler returns the normaliser's handler with its middleware (dead letter,
// retry, recover, dedup), for a subscription of the caller's own.
func (n *Normalizer) Handler() events.Handler { return n.handler }

// Run consumes vimeo.webhooks.raw with sub until ctx ends.
func (n *Normalizer) Run(ctx context.Context, sub events.Subscriber) error {
	return sub.Subscribe(ctx, subscription(n.opts, events.TopicVimeoWebhooksRaw), n.handler)
}

// rawWebhookKey is the dedup key of a raw webhook: its provider event key.
func rawWebhookKey(m *events.Message) (string, error) {
	e, err := m.Event()
	if err != nil {
		return "", err
	}
	if e.Type != EventWebhookReceived {
		return e.ID, nil
	}
	var raw RawWebhook
	if err := e.DecodeData(&raw); err != nil {
		return "", err
	}
	if raw.EventKey == "" {
		return e.ID, nil
	}
	return raw.EventKey, nil
}

func (n *Normalizer) handle(ctx context.Context, e events.Event) error {
	var raw RawWebhook
	if err := e.DecodeData(&raw); err != nil {
		return err // permanent: ErrInvalid
	}
	if raw.VideoID != "" {
		out, err := events.New(ctx, events.Event{
			Type: EventVideoRefetch, Source: n.opts.Source, Subject: "video:" + raw.VideoID, Key: raw.VideoID,
		}, Refetch{VideoID: raw.VideoID, Reason: raw.WebhookType, ProviderEventKey: raw.EventKey, ProviderEventID: raw.ProviderEventID})
		if err != nil {
			return events.Permanent(err)
		}
		if err := events.PublishEvents(ctx, n.pub, events.TopicVimeoSyncNormalized, out); err != nil {
			return fmt.Errorf("publish refetch of video %s: %w", raw.VideoID, err)
		}
	} else {
		n.log.Debug("webhook about no video", zap.String("webhook_type", raw.WebhookType))
	}
	if raw.ProviderEventID > 0 {
		err := n.store.MarkProviderEventProcessed(ctx, raw.ProviderEventID)
		if err != nil && !errors.Is(err, events.ErrConflict) && !errors.Is(err, events.ErrNotFound) {
			return fmt.Errorf("mark provider event %d processed: %w", raw.ProviderEventID, err)
		}
	}
	return nil
}

// Applier consumes vimeo.sync.normalized and carries out the "re-fetch video
// X" actions: Mirror.RefreshVideo re-reads the video from Vimeo and applies
// what it finds (a video outside the mirrored root changes nothing). Other
// event types on the topic (the mirror's change events, admin commands) are
// passed over before dedup, retry and tracing (events.OnlyTypes). A
// refresh that keeps failing ends, after the retries, in deadletters.vimeo and
// the dead_letters table, from where an admin can replay it.
type Applier struct {
	mirror         Mirror
	needsReconcile func()
	opts           ConsumerOptions
	log            *zap.Logger
	handler        events.Handler
}

// ApplierOptions configure an Applier. The zero value is valid.
type ApplierOptions struct {
	ConsumerOptions
	// NeedsReconcile, if set, is called when a refresh could not be applied
	// because the mirror needs a reconciliation first (an empty mirror, or a
	// report asking for one): the module wires it to Scheduler.Request. Such
	// a refetch is then done: the reconciliation reads every video.
	NeedsReconcile func()
}

// NewApplier returns an applier of refetch actions to mirror. pub publishes
// dead letters; store keeps the ledger and the dead letters.
func NewApplier(mirror Mirror, pub events.Publisher, store ConsumerStore, opts *ApplierOptions) (*Applier, error) {
	if mirror == nil || pub == nil || store == nil {
		return nil, fmt.Errorf("%w: applier needs a mirror, a publisher and a store", ErrInvalid)
	}
	var ao ApplierOptions
	if opts != nil {
		ao = *opts
	}
	o := ao.defaults(GroupApplier)
	a := &Applier{mirror: mirror, opts: o, log: o.Logger.Named("applier"), needsReconcile: ao.NeedsReconcile}
	dlq, err := events.DeadLetterQueue(events.DeadLetterOptions{Publisher: pub, Store: store, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("syncworker: applier: %w", err)
	}
	a.handler = chain(events.HandleEvents(a.handle), o, dlq, events.Dedup(store, o.Group, refetchKey), EventVideoRefetch)
	return a, nil
}

// Handler returns the applier's handler with its middleware.
func (a *Applier) Handler() events.Handler { return a.handler }

// Run consumes vimeo.sync.normalized with sub until ctx ends.
func (a *Applier) Run(ctx context.Context, sub events.Subscriber) error {
	return sub.Subscribe(ctx, subscription(a.opts, events.TopicVimeoSyncNormalized), a.handler)
}

// refetchKey deduplicates refetches by the webhook they came from (two
// normalisations of one webhook refresh once), other events by their id.
func refetchKey(m *events.Message) (string, error) {
	e, err := m.Event()
	if err != nil {
		return "", err
	}
	if e.Type == EventVideoRefetch {
		var r Refetch
		if err := e.DecodeData(&r); err == nil && r.ProviderEventKey != "" {
			return r.ProviderEventKey, nil
		}
	}
	return e.ID, nil
}

func (a *Applier) handle(ctx context.Context, e events.Event) error {
	var r Refetch
	if err := e.DecodeData(&r); err != nil {
		return err
	}
	if r.VideoID == "" {
		return events.Permanent(fmt.Errorf("%w: refetch without video_id", events.ErrInvalid))
	}
	rep, err := a.mirror.RefreshVideo(ctx, r.VideoID, tree.TriggerWebhook)
	if rep != nil && rep.NeedsReconcile && a.needsReconcile != nil {
		a.needsReconcile()
	}
	if errors.Is(err, tree.ErrNoRoot) {
		// Nothing mirrored yet: the (requested) reconciliation reads this
		// video with all the others.
		a.log.Info("refetch before the first reconciliation; left to it", zap.String("video_id", r.VideoID))
		if a.needsReconcile != nil && (rep == nil || !rep.NeedsReconcile) {
			a.needsReconcile()
		}
		return nil
	}
	if err != nil {
		if errors.Is(err, tree.ErrInvalid) {
			err = events.Permanent(err)
		}
		return fmt.Errorf("refresh video %s: %w", r.VideoID, err)
	}
	if rep != nil {
		a.log.Debug("refreshed video", zap.String("video_id", r.VideoID), zap.Int("applied", len(rep.Applied)))
	}
	return nil
}

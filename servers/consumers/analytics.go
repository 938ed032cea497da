package consumers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/events"
)

// GroupAnalytics is the consumer group of the analytics consumer.
const GroupAnalytics = "vidlib.consumers.analytics"

// AnalyticsStore is what the analytics consumer needs of a store
// (store/pgstore, store/memstore).
type AnalyticsStore interface {
	ApplyWatchEvents(ctx context.Context, evs []analytics.Event, r analytics.Rules) (analytics.Applied, error)
	events.DeadLetterStore
}

// ProgressVersions is told whose resume state changed once it is stored
// (store/redisstore): API instances keep users' progress by version and
// read it again when the version moves.
type ProgressVersions interface {
	BumpProgress(ctx context.Context, userIDs ...string) error
}

// AnalyticsOptions configure the analytics consumer. The zero value is valid.
type AnalyticsOptions struct {
	// Group overrides the consumer group (0: GroupAnalytics).
	Group string
	// Rules are the analytics definitions (zero: the documented defaults).
	Rules analytics.Rules
	// MaxInFlight bounds the batches handled at once (0: 256): how many
	// can wait to share the next transactions.
	// RedeliveryDelay is the first pause before a failed batch is handled
	// again; the bus doubles it up to 30 s (0: the bus's default).
	MaxInFlight     int
	RedeliveryDelay time.Duration
	// Retry is the in-handler retry of a failed store write (zero: 3 quick
	// attempts, 50 ms apart and doubling); after it the batch goes back to
	// the bus (requeue with backoff). A batch that cannot be stored ever
	// (it does not decode or validate) goes to deadletters.analytics.
	Retry events.RetryPolicy
	// ApplyTimeout bounds one store transaction (0: 30 s).
	ApplyTimeout time.Duration
	// Transactions bounds the store transactions at once (0: 2); the
	// batches of messages that arrive while they run are merged into the
	// next ones, up to MaxGroupEvents events each (0: 2000). Under light
	// load each batch is stored alone at once; under heavy load the cost of
	// a transaction is shared by many batches, which is what keeps the lag
	// low when ingest sends many small batches.
	Transactions   int
	MaxGroupEvents int
	// DisableFeatures stops publishing ranking.features.
	DisableFeatures bool
	// FeaturesUnpublished, if set, is told how many features a failed
	// publish lost (they are also logged). Features only wake the ranking
	// pipeline: it reads the users' history from the store, so a lost
	// feature delays that user's re-rank until the next full recompute
	// (RankingOptions.FullInterval) and loses no data.
	FeaturesUnpublished func(n int)
	// ProgressVersions, if set, has the version of every user of a batch
	// bumped after the batch is stored (also when it was a duplicate: a
	// retry after a failed bump must bump). A failed bump fails the batch,
	// which is retried like a failed store write, so an API instance never
	// keeps serving progress older than what is stored.
	ProgressVersions ProgressVersions
	// Retention, if positive, drops watch_events older than it, checked
	// every RetentionInterval (0: 1 h), when the store can
	// (WatchEventRetention). Sessions, aggregates and progress are kept.
	Retention         time.Duration
	RetentionInterval time.Duration
	Observe           func(events.Observation)
	StartSpan         events.SpanStarter
	Logger            *zap.Logger
}

// Analytics consumes analytics.events into watch_events, watch_sessions,
// the per-day aggregates and resume state, and publishes ranking.features.
type Analytics struct {
	store   AnalyticsStore
	pub     events.Publisher
	opts    AnalyticsOptions
	log     *zap.Logger
	handler events.Handler
	group   groupCommit[[]analytics.Event]
}

// NewAnalytics returns the analytics consumer over store; pub publishes dead
// letters and features.
func NewAnalytics(store AnalyticsStore, pub events.Publisher, opts *AnalyticsOptions) (*Analytics, error) {
	if store == nil || pub == nil {
		return nil, fmt.Errorf("%w: the analytics consumer needs a store and a publisher", ErrInvalid)
	}
	var o AnalyticsOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxInFlight < 0 || o.ApplyTimeout < 0 || o.RedeliveryDelay < 0 || o.Transactions < 0 || o.MaxGroupEvents < 0 {
		return nil, fmt.Errorf("%w: AnalyticsOptions must not be negative", ErrInvalid)
	}
	if o.Group == "" {
		o.Group = GroupAnalytics
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 256
	}
	if o.ApplyTimeout == 0 {
		o.ApplyTimeout = 30 * time.Second
	}
	if o.Transactions == 0 {
		o.Transactions = 2
	}
	if o.MaxGroupEvents == 0 {
		o.MaxGroupEvents = 2000
	}
	if o.Retry.MaxAttempts == 0 {
		o.Retry.MaxAttempts = 3
	}
	if o.Retry.InitialBackoff == 0 {
		o.Retry.InitialBackoff = 50 * time.Millisecond
	}
	o.Rules = o.Rules.WithDefaults()
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = time.Hour
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	a := &Analytics{store: store, pub: pub, opts: o, log: o.Logger.Named("analytics_consumer"),
		group: groupCommit[[]analytics.Event]{max: o.Transactions, maxSize: o.MaxGroupEvents, size: eventCount}}
	h, err := chain(a.handle, events.DeadLetterOptions{Publisher: pub, Store: store, Logger: o.Logger}, o.Observe, o.StartSpan, o.Retry)
	if err != nil {
		return nil, fmt.Errorf("consumers: analytics: %w", err)
	}
	a.handler = h
	return a, nil
}

// Handler returns the consumer's handler with its middleware.
func (a *Analytics) Handler() events.Handler { return a.handler }

// Subscription is what Run subscribes with.
func (a *Analytics) Subscription() events.Subscription {
	return events.Subscription{Group: a.opts.Group, Topics: []string{events.TopicAnalytics},
		MaxInFlight: a.opts.MaxInFlight, RedeliveryDelay: a.opts.RedeliveryDelay}
}

// Run consumes analytics.events until ctx ends.
func (a *Analytics) Run(ctx context.Context, sub events.Subscriber) error {
	return sub.Subscribe(ctx, a.Subscription(), a.handler)
}

// DecodeBatch decodes an analytics.batch envelope and validates every
// event; a failure is permanent.
func DecodeBatch(m *events.Message) ([]analytics.Event, error) {
	e, err := m.Event()
	if err != nil {
		return nil, err // permanent (events.ErrInvalid)
	}
	if e.Type != analytics.EventTypeBatch {
		return nil, events.Permanent(fmt.Errorf("%w: unexpected event type %q on %s", analytics.ErrInvalid, e.Type, events.TopicAnalytics))
	}
	var b analytics.Batch
	if err := e.DecodeData(&b); err != nil {
		return nil, events.Permanent(err)
	}
	for i := range b.Events {
		if err := b.Events[i].Validate(); err != nil {
			return nil, events.Permanent(fmt.Errorf("event %d: %w", i, err))
		}
		if b.Events[i].UserID == "" {
			return nil, events.Permanent(fmt.Errorf("%w: event %d has no user", analytics.ErrInvalid, i))
		}
	}
	return b.Events, nil
}

func (a *Analytics) handle(ctx context.Context, m *events.Message) error {
	evs, err := DecodeBatch(m)
	if err != nil {
		return err
	}
	req := newCommitReq(evs)
	if err := a.group.apply(ctx, req, a.applyGroup); err != nil {
		return err
	}
	if req.dup {
		m.SetOutcome(events.OutcomeDuplicate)
	}
	return nil
}

// applyGroup stores the batches of reqs in one transaction, bumps their
// users' progress versions and publishes the features, then answers each
// request. A batch the store refuses as invalid is found by applying each
// alone, so that only it goes to the dead letters.
func (a *Analytics) applyGroup(ctx context.Context, reqs []*commitReq[[]analytics.Event]) {
	var evs []analytics.Event
	for _, r := range reqs {
		evs = append(evs, r.item...)
	}
	actx, cancel := context.WithTimeout(ctx, a.opts.ApplyTimeout)
	defer cancel()
	out, err := a.store.ApplyWatchEvents(actx, evs, a.opts.Rules)
	if errors.Is(err, analytics.ErrInvalid) && len(reqs) > 1 {
		for _, r := range reqs {
			a.applyGroup(ctx, []*commitReq[[]analytics.Event]{r})
		}
		return
	}
	switch {
	case errors.Is(err, analytics.ErrInvalid):
		err = events.Permanent(err)
	case err != nil:
		err = fmt.Errorf("apply %d watch events: %w", len(evs), err)
	default:
		if pv := a.opts.ProgressVersions; pv != nil {
			if berr := pv.BumpProgress(actx, batchUsers(evs)...); berr != nil {
				err = fmt.Errorf("watch events stored, progress versions not bumped: %w", berr)
			}
		}
	}
	if err == nil && out.Inserted > 0 && !a.opts.DisableFeatures {
		a.publishFeatures(ctx, out)
	}
	// A batch was a duplicate when none of its users and videos changed
	// (one user's batches are never in one group: the bus hands them over
	// one at a time).
	changed := make(map[[2]string]bool, len(out.Progress))
	for _, p := range out.Progress {
		changed[[2]string{p.UserID, p.VideoID}] = true
	}
	for _, r := range reqs {
		dup := true
		for _, e := range r.item {
			if changed[[2]string{e.UserID, e.VideoID}] {
				dup = false
				break
			}
		}
		r.answer(err, dup)
	}
}

// eventCount is the size of a batch in a group commit.
func eventCount(evs []analytics.Event) int { return len(evs) }

// batchUsers are the distinct users of a batch (one, from the API).
func batchUsers(evs []analytics.Event) []string {
	var out []string
	for _, e := range evs {
		if !slices.Contains(out, e.UserID) {
			out = append(out, e.UserID)
		}
	}
	return out
}

// publishFeatures publishes one Features per changed user and video. The
// features are derived state, recomputed on the pair's next event, and the
// ranking pipeline reads the history itself at its next full recompute: a
// failure is logged and counted (FeaturesUnpublished), not retried (a retry
// would find the events stored and publish nothing).
func (a *Analytics) publishFeatures(ctx context.Context, out analytics.Applied) {
	watched := map[[2]string]analytics.Session{}
	for _, s := range out.Sessions {
		k := [2]string{s.UserID, s.VideoID}
		if cur, ok := watched[k]; !ok || s.End.After(cur.End) {
			watched[k] = s
		}
	}
	msgs := make([]events.Message, 0, len(out.Progress))
	lost := 0
	for _, p := range out.Progress {
		f := analytics.Features{UserID: p.UserID, VideoID: p.VideoID, LastPosition: p.Position, CompletionRatio: p.Ratio,
			Completed: p.Completed, LastEventAt: p.LastEventAt, SessionWatched: watched[[2]string{p.UserID, p.VideoID}].WatchedSeconds}
		e, err := events.New(ctx, events.Event{Type: analytics.EventTypeFeatures, Source: "vidlib/consumers",
			Subject: "video:" + p.VideoID, Key: "user:" + p.UserID}, f)
		var m events.Message
		if err == nil {
			m, err = e.Message(events.TopicRankingFeatures)
		}
		if err != nil {
			a.log.Warn("features not encoded", zap.String("user_id", p.UserID), zap.String("video_id", p.VideoID), zap.Error(err))
			lost++
			continue
		}
		msgs = append(msgs, m)
	}
	if err := a.pub.Publish(ctx, msgs...); err != nil {
		a.log.Warn("ranking features not published; those users wait for the next full recompute", zap.Int("features", len(msgs)), zap.Error(err))
		lost += len(msgs)
	}
	if lost > 0 && a.opts.FeaturesUnpublished != nil {
		a.opts.FeaturesUnpublished(lost)
	}
}

// WatchEventRetention is a store that drops old watch events
// (store/pgstore drops day partitions).
type WatchEventRetention interface {
	DropWatchEventsBefore(ctx context.Context, cutoff time.Time) (int, error)
}

// RunRetention drops events older than AnalyticsOptions.Retention now and
// every RetentionInterval until ctx ends. It returns at once when retention
// is off or the store cannot drop events.
func (a *Analytics) RunRetention(ctx context.Context, _ events.Subscriber) error {
	r, ok := a.store.(WatchEventRetention)
	if !ok || a.opts.Retention <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(a.opts.RetentionInterval)
	defer t.Stop()
	for {
		n, err := r.DropWatchEventsBefore(ctx, time.Now().Add(-a.opts.Retention))
		if err != nil && ctx.Err() == nil {
			a.log.Warn("watch event retention failed", zap.Error(err))
		} else if n > 0 {
			a.log.Info("watch events dropped by retention", zap.Int("partitions", n), zap.Duration("retention", a.opts.Retention))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

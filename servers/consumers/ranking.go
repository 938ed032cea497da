package consumers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/tree"

	"github.com/vidlib/vidlib/internal/clock"
)

// GroupRanking is the consumer group of the ranking pipeline.
const GroupRanking = "vidlib.consumers.ranking"

// EventTypeRankingUpdated is the type of the events on ranking.updated: one
// per recomputed user, data RankingUpdated.
const EventTypeRankingUpdated = "ranking.feed_updated"

// RankingUpdated is the data of a ranking.updated event.
type RankingUpdated struct {
	UserID             string    `json:"user_id"`
	ContentVersion     int64     `json:"content_version"`
	EntitlementVersion int64     `json:"entitlement_version"`
	Videos             int       `json:"videos"`
	ComputedAt         time.Time `json:"computed_at"`
}

// RankingStore is what the ranking pipeline needs of a store
// (store/pgstore, store/memstore): the library and rules, users, their
// roles and watch history, and where feeds are kept.
type RankingStore interface {
	LoadSnapshot(ctx context.Context, opts tree.LoadOptions) (*tree.Snapshot, error)
	ContentVersion(ctx context.Context) (int64, error)
	ListRules(ctx context.Context) ([]entitle.Rule, int64, error)
	EntitlementVersion(ctx context.Context) (int64, error)
	ListUsers(ctx context.Context, after string, limit int) ([]auth.User, error)
	User(ctx context.Context, userID string) (auth.User, error)
	UserRoles(ctx context.Context, userID string) ([]string, error)
	// UserAudience is the audience the user last signed in with, recorded
	// by auth when it resolves a principal (roles from groups and segments
	// from claims live only in tokens).
	UserAudience(ctx context.Context, userID string) ([]string, map[string]string, error)
	History(ctx context.Context, userID string, before time.Time, beforeVideo string, limit int) ([]analytics.Progress, error)
	SetRankedFeed(ctx context.Context, f *rank.Feed) error
}

// FeedCache is the ranked-feed cache (store/redisstore): ranked:{user}:{version}.
type FeedCache interface {
	SetRankedFeed(ctx context.Context, f *rank.Feed, ttl time.Duration) error
}

// IndexSource gives a loaded library generation's compiled entitlement
// index, with its tree (Index.Snapshot): library.Service, when the ranking
// pipeline runs in the process that serves the library.
type IndexSource interface {
	WaitReady(ctx context.Context) error
	Index() (*entitle.Index, error)
}

// RankingOptions configure the ranking pipeline. The zero value is valid.
type RankingOptions struct {
	Group string // 0: GroupRanking
	// Index, if set, is the library the process serves: the model is built
	// over its loaded index, the one every request is filtered with, instead
	// of a snapshot loaded from the store and an index compiled for the
	// pipeline, and the version poll watches that index's versions instead of
	// reading the store's. A split deployment leaves it nil.
	Index IndexSource
	// Rank tunes the ranking (nil: rank's defaults; Size 200).
	Rank *rank.Options
	// IndexOptions tune the entitlement index users are ranked within when
	// the pipeline compiles its own (nil: entitle's defaults); they must
	// match the read API's, so that a feed holds only what the API serves.
	IndexOptions *entitle.Options
	// Cache, if set, receives every feed (ranked:{user}:{version}) for
	// CacheTTL (0: the cache's default).
	Cache    FeedCache
	CacheTTL time.Duration
	// Debounce gathers feature events before the affected users are
	// recomputed (0: 1 s). VersionPoll is how often the content and
	// entitlement versions are read (0: 5 s); a change rebuilds the model and
	// recomputes everyone. FullInterval recomputes everyone on a schedule,
	// refreshing popularity (0: 1 h).
	Debounce     time.Duration
	VersionPoll  time.Duration
	FullInterval time.Duration
	// HistoryLimit bounds the watch history read per user (0: 500).
	HistoryLimit int
	// Workers rank users in parallel in a full recompute (0: 4).
	Workers int
	Logger  *zap.Logger
}

// Ranking is the ranking pipeline: it consumes ranking.features, watches the
// content and entitlement versions, recomputes affected users incrementally
// and everyone on a schedule, writes the top N per user to the store
// (user_video_rankings) and the cache (ranked:{user}:{version}), and
// publishes ranking.updated.
type Ranking struct {
	store RankingStore
	pub   events.Publisher
	opts  RankingOptions
	log   *zap.Logger

	mu       sync.Mutex
	model    *rank.Model
	versions [2]int64
	dirty    map[string]struct{}
	kick     chan struct{}
}

// NewRanking returns the ranking pipeline over store; pub publishes
// ranking.updated.
func NewRanking(store RankingStore, pub events.Publisher, opts *RankingOptions) (*Ranking, error) {
	if store == nil || pub == nil {
		return nil, fmt.Errorf("%w: the ranking pipeline needs a store and a publisher", ErrInvalid)
	}
	var o RankingOptions
	if opts != nil {
		o = *opts
	}
	if o.Debounce < 0 || o.VersionPoll < 0 || o.FullInterval < 0 || o.HistoryLimit < 0 || o.Workers < 0 || o.CacheTTL < 0 {
		return nil, fmt.Errorf("%w: RankingOptions must not be negative", ErrInvalid)
	}
	if o.Group == "" {
		o.Group = GroupRanking
	}
	if o.Debounce == 0 {
		o.Debounce = time.Second
	}
	if o.VersionPoll == 0 {
		o.VersionPoll = 5 * time.Second
	}
	if o.FullInterval == 0 {
		o.FullInterval = time.Hour
	}
	if o.HistoryLimit == 0 {
		o.HistoryLimit = 500
	}
	if o.Workers == 0 {
		o.Workers = 4
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	empty, err := tree.New(0, nil, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("consumers: ranking: %w", err)
	}
	idx, err := entitle.New(empty, nil, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("consumers: ranking: %w", err)
	}
	if _, err := rank.New(idx, nil, o.Rank); err != nil { // the rank options are valid
		return nil, fmt.Errorf("consumers: ranking: %w", err)
	}
	return &Ranking{store: store, pub: pub, opts: o, log: o.Logger.Named("ranking"), dirty: map[string]struct{}{},
		kick: make(chan struct{}, 1)}, nil
}

// Subscription is what Run subscribes with.
func (k *Ranking) Subscription() events.Subscription {
	return events.Subscription{Group: k.opts.Group, Topics: []string{events.TopicRankingFeatures}, MaxInFlight: 16}
}

// Handle takes one ranking.features message: its user is recomputed at the
// next debounce. A message that does not decode is dropped with a warning
// (features are derived state: the user's next event brings them again).
func (k *Ranking) Handle(_ context.Context, m *events.Message) error {
	e, err := m.Event()
	if err == nil && e.Type != analytics.EventTypeFeatures {
		err = fmt.Errorf("unexpected event type %q", e.Type)
	}
	var f analytics.Features
	if err == nil {
		err = e.DecodeData(&f)
	}
	if err != nil || f.UserID == "" {
		k.log.Warn("ranking features dropped", zap.Error(err))
		return nil
	}
	k.mu.Lock()
	k.dirty[f.UserID] = struct{}{}
	k.mu.Unlock()
	select {
	case k.kick <- struct{}{}:
	default:
	}
	return nil
}

// Run rebuilds the model and recomputes everyone, then consumes
// ranking.features and recomputes until ctx ends.
func (k *Ranking) Run(ctx context.Context, sub events.Subscriber) error {
	if err := k.Full(ctx); err != nil && ctx.Err() == nil {
		k.log.Warn("first full recompute failed", zap.Error(err))
	}
	errc := make(chan error, 1)
	go func() { errc <- sub.Subscribe(ctx, k.Subscription(), k.Handle) }()
	poll := time.NewTicker(k.opts.VersionPoll)
	defer poll.Stop()
	full := time.NewTicker(k.opts.FullInterval)
	defer full.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := <-errc; err != nil { // the subscription ends with the context
				k.log.Debug("ranking subscription ended", zap.Error(err))
			}
			return nil
		case err := <-errc:
			return err
		case <-k.kick:
			if clock.Sleep(ctx, k.opts.Debounce) != nil {
				continue
			}
			if err := k.Dirty(ctx); err != nil && ctx.Err() == nil {
				k.log.Warn("incremental recompute failed", zap.Error(err))
			}
		case <-poll.C:
			changed, err := k.versionsChanged(ctx)
			if err == nil && changed {
				err = k.Full(ctx)
			}
			if err != nil && ctx.Err() == nil {
				k.log.Warn("recompute after a version change failed", zap.Error(err))
			}
		case <-full.C:
			if err := k.Full(ctx); err != nil && ctx.Err() == nil {
				k.log.Warn("scheduled recompute failed", zap.Error(err))
			}
		}
	}
}

func (k *Ranking) versionsChanged(ctx context.Context) (bool, error) {
	c, e, err := k.currentVersions(ctx)
	if err != nil {
		return false, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.model == nil || k.versions != [2]int64{c, e}, nil
}

// currentVersions are the content and entitlement versions the next Full
// would rank with: the store's, or those of Options.Index's loaded index.
func (k *Ranking) currentVersions(ctx context.Context) (content, ent int64, err error) {
	if src := k.opts.Index; src != nil {
		idx, err := src.Index()
		if err != nil {
			return 0, 0, err
		}
		return idx.Snapshot().Version(), idx.Version(), nil
	}
	if content, err = k.store.ContentVersion(ctx); err != nil {
		return 0, 0, err
	}
	ent, err = k.store.EntitlementVersion(ctx)
	return content, ent, err
}

// index is the compiled entitlement index to rank over: Options.Index's
// loaded one (waiting for the first load), or one compiled from the store's
// tree and rules.
func (k *Ranking) index(ctx context.Context) (*entitle.Index, error) {
	if src := k.opts.Index; src != nil {
		if err := src.WaitReady(ctx); err != nil {
			return nil, fmt.Errorf("consumers: ranking: library: %w", err)
		}
		idx, err := src.Index()
		if err != nil {
			return nil, fmt.Errorf("consumers: ranking: library: %w", err)
		}
		return idx, nil
	}
	snap, err := k.store.LoadSnapshot(ctx, tree.LoadOptions{})
	if err != nil {
		return nil, fmt.Errorf("consumers: ranking: snapshot: %w", err)
	}
	rules, rv, err := k.store.ListRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("consumers: ranking: rules: %w", err)
	}
	idx, err := entitle.New(snap, rules, rv, k.opts.IndexOptions)
	if err != nil {
		return nil, fmt.Errorf("consumers: ranking: index: %w", err)
	}
	return idx, nil
}

// Full rebuilds the model from the current library, rules and every user's
// history, and recomputes every user's feed.
func (k *Ranking) Full(ctx context.Context) error {
	start := time.Now()
	idx, err := k.index(ctx)
	if err != nil {
		return err
	}
	var users []rank.User
	for after := ""; ; {
		page, err := k.store.ListUsers(ctx, after, 500)
		if err != nil {
			return fmt.Errorf("consumers: ranking: users: %w", err)
		}
		for _, u := range page {
			if !u.DisabledAt.IsZero() {
				continue
			}
			ru, err := k.loadUser(ctx, u)
			if err != nil {
				return err
			}
			users = append(users, ru)
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	m, err := rank.New(idx, users, k.opts.Rank)
	if err != nil {
		return fmt.Errorf("consumers: ranking: %w", err)
	}
	k.mu.Lock()
	k.model, k.versions = m, [2]int64{idx.Snapshot().Version(), idx.Version()}
	k.mu.Unlock()
	if err := k.rankAll(ctx, m, users); err != nil {
		return err
	}
	k.log.Info("full recompute", zap.Int("users", len(users)), zap.Duration("took", time.Since(start)))
	return nil
}

func (k *Ranking) rankAll(ctx context.Context, m *rank.Model, users []rank.User) error {
	work := make(chan int)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range k.opts.Workers {
		wg.Go(func() {
			for i := range work {
				if err := k.write(ctx, m.Rank(&users[i])); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range users {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return cmpErr(firstErr, ctx.Err())
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// Dirty recomputes the users whose features changed since the last call,
// with the current model (built by Full).
func (k *Ranking) Dirty(ctx context.Context) error {
	k.mu.Lock()
	m := k.model
	users := k.dirty
	k.dirty = map[string]struct{}{}
	k.mu.Unlock()
	if m == nil {
		return k.Full(ctx)
	}
	for id := range users {
		if err := k.Recompute(ctx, m, id); err != nil {
			k.mu.Lock()
			k.dirty[id] = struct{}{} // again next time
			k.mu.Unlock()
			return err
		}
	}
	return nil
}

// Recompute ranks one user with m and writes the feed.
func (k *Ranking) Recompute(ctx context.Context, m *rank.Model, userID string) error {
	u, err := k.store.User(ctx, userID)
	if errors.Is(err, auth.ErrNotFound) {
		return nil // not a known user: nothing to rank
	}
	if err != nil {
		return fmt.Errorf("consumers: ranking: user %s: %w", userID, err)
	}
	ru, err := k.loadUser(ctx, u)
	if err != nil {
		return err
	}
	return k.write(ctx, m.Rank(&ru))
}

func (k *Ranking) loadUser(ctx context.Context, u auth.User) (rank.User, error) {
	roles, err := k.store.UserRoles(ctx, u.ID)
	if err != nil {
		return rank.User{}, fmt.Errorf("consumers: ranking: roles of %s: %w", u.ID, err)
	}
	ps, err := k.store.History(ctx, u.ID, time.Time{}, "", k.opts.HistoryLimit)
	if err != nil {
		return rank.User{}, fmt.Errorf("consumers: ranking: history of %s: %w", u.ID, err)
	}
	seenRoles, seenSegments, err := k.store.UserAudience(ctx, u.ID)
	if err != nil {
		return rank.User{}, fmt.Errorf("consumers: ranking: audience of %s: %w", u.ID, err)
	}
	// The audience the user last signed in with, and what is stored now:
	// granted roles, and the profile (which overrides claims, as in auth).
	segments := maps.Clone(seenSegments)
	if segments == nil {
		segments = map[string]string{}
	}
	maps.Copy(segments, u.Profile)
	ru := rank.User{ID: u.ID, Roles: append(roles, seenRoles...), Segments: segments, History: make([]rank.Watch, len(ps))}
	for i, p := range ps {
		ru.History[i] = rank.Watch{VideoID: p.VideoID, WatchedSeconds: p.Position, Ratio: p.Ratio, Completed: p.Completed, LastAt: p.LastEventAt}
	}
	return ru, nil
}

// write stores the feed, caches it and announces it.
func (k *Ranking) write(ctx context.Context, f *rank.Feed) error {
	if err := k.store.SetRankedFeed(ctx, f); err != nil {
		return fmt.Errorf("consumers: ranking: store feed of %s: %w", f.UserID, err)
	}
	if k.opts.Cache != nil {
		if err := k.opts.Cache.SetRankedFeed(ctx, f, k.opts.CacheTTL); err != nil {
			k.log.Warn("ranked feed not cached", zap.String("user_id", f.UserID), zap.Error(err)) // PostgreSQL serves it
		}
	}
	e, err := events.New(ctx, events.Event{Type: EventTypeRankingUpdated, Source: "vidlib/consumers", Subject: "user:" + f.UserID,
		Key: "user:" + f.UserID}, RankingUpdated{UserID: f.UserID, ContentVersion: f.ContentVersion,
		EntitlementVersion: f.EntitlementVersion, Videos: len(f.Items), ComputedAt: f.ComputedAt})
	if err != nil {
		return fmt.Errorf("consumers: ranking: %w", err)
	}
	msg, err := e.Message(events.TopicRankingUpdated)
	if err != nil {
		return fmt.Errorf("consumers: ranking: %w", err)
	}
	if err := k.pub.Publish(ctx, msg); err != nil {
		k.log.Warn("ranking.updated not published", zap.String("user_id", f.UserID), zap.Error(err)) // the feed is stored
	}
	return nil
}

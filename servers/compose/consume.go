package compose

// The consume server: the sync worker's consumers (syncWorkerOptions) and
// the audit, analytics and ranking consumers.

import (
	"context"
	"crypto/ed25519"
	"time"

	"go.uber.org/fx"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
)

func consumeOptions() fx.Option {
	return fx.Options(
		fx.Provide(
			func(b Backend) consumers.AuditStore { return b },
			func(b Backend) consumers.AnalyticsStore { return b },
			func(b Backend) consumers.RankingStore { return b },
			provideFeedCache,
			provideProgressVersions,
			provideConsumersConfig,
		),
		consumers.Module,
		fx.Invoke(watchConsumerLag),
	)
}

// provideFeedCache gives the ranking pipeline the Redis feed cache, when
// Redis is configured; without Redis, the in-process announcer, so that a
// library served by the same process reads a user's new feed at once.
func provideFeedCache(r optionalRedis, lf localFeeds) consumers.FeedCache {
	if r.RS == nil {
		return feedAnnouncer(lf)
	}
	return r.RS
}

// feedAnnouncer is the ranking pipeline's FeedCache without Redis: it keeps
// nothing (the store has the feed) and announces the user in process.
type feedAnnouncer struct{ *library.LocalFeedChanges }

func (a feedAnnouncer) SetRankedFeed(_ context.Context, f *rank.Feed, _ time.Duration) error {
	a.Announce(f.UserID)
	return nil
}

// provideProgressVersions has the analytics consumer bump the users' progress
// versions in Redis (the API's progress caches follow them), when Redis is
// configured.
func provideProgressVersions(r optionalRedis) consumers.ProgressVersions {
	if r.RS == nil {
		return nil
	}
	return r.RS
}

// provideConsumersConfig gives the audit consumer its metrics, tracing and
// checkpoint signing key, the analytics consumer its rules and retention, and
// the ranking pipeline its feed size, diversity and recompute interval.
func provideConsumersConfig(cfg *config.Config, m *ops.Metrics, tr *ops.Tracing) (consumers.Config, error) {
	var c consumers.Config
	c.Analytics.Rules, c.Analytics.Retention = cfg.Analytics.Rules(), cfg.Analytics.Retention
	c.Analytics.Observe = m.ObserveConsumer(consumers.GroupAnalytics)
	c.Analytics.StartSpan = tr.MessageSpan(consumers.GroupAnalytics, busSystem(cfg))
	c.Analytics.FeaturesUnpublished = func(n int) { m.FeaturesUnpublished.Add(float64(n)) }
	c.Ranking.Rank = &rank.Options{Size: cfg.Ranking.Size, MaxPerFolder: cfg.Ranking.MaxPerFolder}
	c.Ranking.FullInterval = cfg.Ranking.FullInterval
	c.Ranking.IndexOptions = &entitle.Options{AllowPasswordVideos: cfg.Vimeo.AllowPasswordVideos}
	c.Audit.Observe = m.ObserveConsumer(consumers.GroupAudit)
	c.Audit.StartSpan = tr.MessageSpan(consumers.GroupAudit, busSystem(cfg))
	if cfg.Audit.CheckpointKey.IsSet() {
		k, err := audit.ParseSigningKey(cfg.Audit.CheckpointKey.Value())
		if err != nil {
			return c, err
		}
		c.Audit.SigningKey, c.Audit.KeyID = k, audit.KeyID(k.Public().(ed25519.PublicKey))
	}
	return c, nil
}

// watchConsumerLag exports vidlib_consumer_lag_messages for the consumer
// groups this process runs, read from the bus at scrape time (Kafka's
// committed offsets, or the in-process bus's).
func watchConsumerLag(m *ops.Metrics, lag ops.LagReader, c syncworker.Config) error {
	if c.DisableConsumers {
		return nil
	}
	return m.WatchConsumerLag(lag, ConsumerGroups(c)...)
}

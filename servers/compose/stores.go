package compose

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/store/redisstore"
)

// storeOptions provide the Backend (PostgreSQL, or memory without a URL)
// and the Redis store when one is configured.
func storeOptions(cfg *config.Config) fx.Option {
	var opts []fx.Option
	if cfg.Postgres.URL != "" {
		opts = append(opts, fx.Provide(providePostgres))
	} else {
		opts = append(opts, fx.Provide(func() Backend { return memstore.New() }))
	}
	if cfg.Redis.URL != "" {
		opts = append(opts, fx.Provide(provideRedis))
	}
	return fx.Options(opts...)
}

// providePostgres opens the pool (traced when tracing is on), applies the
// migrations (serialised by an advisory lock, so instances may start
// together) and checks readiness with a ping.
func providePostgres(cfg *config.Config, lc fx.Lifecycle, log *zap.Logger, tr *ops.Tracing, h *ops.Health) (Backend, *pgstore.Store, error) {
	pc, err := pgxpool.ParseConfig(cfg.Postgres.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres-url: %w", err)
	}
	if tr.Enabled() {
		pc.ConnConfig.Tracer = tr.PgxTracer()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	st := pgstore.New(pool, &pgstore.Options{Logger: log.Named("pgstore")})
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if _, err := st.Migrate(ctx); err != nil {
				return fmt.Errorf("postgres: migrate: %w", err)
			}
			return nil
		},
		OnStop: func(context.Context) error { pool.Close(); return nil },
	})
	h.AddCheck("postgres", pool.Ping)
	return st, st, nil
}

// provideRedis connects to Redis (traced when tracing is on).
func provideRedis(cfg *config.Config, lc fx.Lifecycle, log *zap.Logger, tr *ops.Tracing, h *ops.Health) (*redisstore.Store, error) {
	o, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		return nil, fmt.Errorf("redis-url: %w", err)
	}
	rdb := redis.NewClient(o)
	if tr.Enabled() {
		if err := tr.InstrumentRedis(rdb); err != nil {
			return nil, err
		}
	}
	rs, err := redisstore.New(rdb, &redisstore.Options{Logger: log.Named("redis")})
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(rdb.Close))
	h.AddCheck("redis", func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
	return rs, nil
}

// optionalRedis is the Redis store when one is configured.
type optionalRedis struct {
	fx.In
	RS *redisstore.Store `optional:"true"`
}

// localFeeds is the in-process announcer of new ranked feeds, used where
// Redis is not configured (its LocalFeedChanges is nil otherwise): the
// ranking pipeline announces, the library of the same process listens.
type localFeeds struct{ *library.LocalFeedChanges }

func provideLocalFeeds(r optionalRedis) localFeeds {
	if r.RS != nil {
		return localFeeds{}
	}
	return localFeeds{library.NewLocalFeedChanges()}
}

type busOut struct {
	fx.Out
	Publisher  events.Publisher
	Subscriber events.Subscriber
	Lag        ops.LagReader
}

// inProcessBus, when provided, lets a process that does not run every
// server use the in-process bus (InProcessBus).
type inProcessBus struct{}

// InProcessBus lets a process without Kafka brokers that does not run
// every server use the in-process bus: a benchmark of the API alone, where
// nothing it publishes has a consumer that matters. Never in production: a
// split deployment's servers need one bus between them.
func InProcessBus() fx.Option { return fx.Supply(&inProcessBus{}) }

type busParams struct {
	fx.In
	Cfg       *config.Config
	Parts     Parts
	LC        fx.Lifecycle
	Log       *zap.Logger
	Tracing   *ops.Tracing
	Health    *ops.Health
	InProcess *inProcessBus `optional:"true"`
}

// provideBus is Kafka when brokers are configured, else the in-process bus
// (one process only: `vidlib all` or the demo). With tracing on, what is
// published under a span carries it in the traceparent header.
func provideBus(p busParams) (busOut, error) {
	cfg, lc, log, tr := p.Cfg, p.LC, p.Log, p.Tracing
	if len(cfg.Kafka.Brokers) == 0 {
		if !p.Parts.busInProcess() && p.InProcess == nil {
			return busOut{}, errors.New("kafka-brokers is required unless every server runs in this process (vidlib all)")
		}
		b, err := membus.New(&membus.Options{Logger: log.Named("membus")})
		if err != nil {
			return busOut{}, err
		}
		lc.Append(fx.StopHook(b.Close))
		return busOut{Publisher: tr.Publisher(b, busSystem(cfg)), Subscriber: b, Lag: b}, nil
	}
	b, err := kafkabus.New(cfg.Kafka.Brokers, &kafkabus.Options{TopicPrefix: cfg.Kafka.TopicPrefix, Logger: log.Named("kafka")})
	if err != nil {
		return busOut{}, err
	}
	p.Health.AddCheck("kafka", b.Ping)
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			// Create the topics where the deployment lets us; MSK setups that
			// provision topics elsewhere only get a warning.
			if err := b.Provision(ctx); err != nil {
				log.Warn("kafka: could not provision topics", zap.Error(err))
			}
			return nil
		},
		OnStop: func(context.Context) error { return b.Close() },
	})
	return busOut{Publisher: tr.Publisher(b, busSystem(cfg)), Subscriber: b, Lag: b}, nil
}

// busSystem names the bus in the spans' messaging.system attribute.
func busSystem(cfg *config.Config) string {
	if len(cfg.Kafka.Brokers) == 0 {
		return "membus"
	}
	return "kafka"
}

// Versions carries content and entitlement version bumps from writers (the
// mirror, the admin) to readers (library.Service): Redis pub/sub across
// processes, or library.LocalVersions when there is no Redis.
type Versions interface {
	library.Versions
	syncworker.Announcer
}

func provideVersions(r optionalRedis) Versions {
	if rs := r.RS; rs != nil {
		return redisVersions{rs: rs, Versions: api.RedisVersions(rs)}
	}
	return library.NewLocalVersions()
}

type redisVersions struct {
	library.Versions
	rs *redisstore.Store
}

func (r redisVersions) Publish(ctx context.Context, name string, v int64) error {
	return r.rs.PublishVersion(ctx, name, v)
}

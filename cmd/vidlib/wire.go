package main

// The composition of the reference servers: which packages make up each
// subcommand, wired with fx. Every piece here is a thin adapter; the work
// happens in the packages (servers/api, servers/syncworker, servers/ops,
// library, tree, auth, events, store/*).

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/events/membus"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/servers/admin/console"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/store/redisstore"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/tree/changeevents"
	"github.com/vidlib/vidlib/tree/vimeosource"
	"github.com/vidlib/vidlib/vimeo"
)

// backend is what one store implementation gives every server: pgstore in
// production, memstore in the demo.
type backend interface {
	library.Store
	tree.Store
	auth.UserStore
	entitle.RuleStore
	syncworker.Store
	events.OutboxWriter
	events.DeadLetterCounter
	consumers.AuditStore
	audit.Searcher
	admin.Store
	consumers.AnalyticsStore
	consumers.WatchEventRetention
	consumers.RankingStore
	library.FeedSource
	library.AudienceRecorder
	api.ProgressStore
}

var (
	_ backend = (*pgstore.Store)(nil)
	_ backend = (*memstore.Store)(nil)
)

// parts selects the servers one process runs.
type parts struct {
	api, sync, consume, admin bool
}

func (p parts) String() string {
	var s []string
	for _, x := range []struct {
		on   bool
		name string
	}{{p.api, "api"}, {p.sync, "sync"}, {p.consume, "consume"}, {p.admin, "admin"}} {
		if x.on {
			s = append(s, x.name)
		}
	}
	return strings.Join(s, "+")
}

// appOptions builds the fx options of a process running the given parts on
// cfg. extra options come last (the demo uses them to swap in its fakes).
func appOptions(cfg *config.Config, p parts, extra ...fx.Option) fx.Option {
	opts := []fx.Option{
		fx.Supply(cfg, p),
		ops.Module,
		ops.FxLogger,
		fx.StopTimeout(cfg.ShutdownTimeout + 5*time.Second),
		fx.Provide(provideBus, provideAuditor, provideVersions),
		fx.Provide(
			func(b backend) library.Store { return b },
			func(b backend) tree.Store { return b },
			func(b backend) auth.UserStore { return b },
			func(b backend) syncworker.Store { return b },
		),
	}
	if cfg.Postgres.URL != "" {
		opts = append(opts, fx.Provide(providePostgres))
	} else {
		opts = append(opts, fx.Provide(func() backend { return memstore.New() }))
	}
	if cfg.Redis.URL != "" {
		opts = append(opts, fx.Provide(provideRedis))
	}
	// The sync worker comes first: fx stops in reverse order, so its outbox
	// relay stops last and publishes what the other servers wrote while
	// they drained.
	if p.sync || p.consume {
		opts = append(opts,
			fx.Provide(provideVimeo, provideMirror, provideWebhookVerifier, provideSyncConfig),
			syncworker.Module,
		)
	}
	if p.api || p.admin {
		// The admin service explains decisions over the same loaded library.
		opts = append(opts,
			fx.Provide(provideIssuers, provideAuth, provideLibraryOptions, provideCacheBus),
			api.LibraryModule,
		)
	}
	if p.api {
		opts = append(opts,
			fx.Provide(provideAPIServer),
			fx.Invoke(func(*apiServer) {}),
			// Every API instance applies the admin's cache invalidations and
			// reports its cache state.
			fx.Provide(func(l *library.Service) admin.InstanceLibrary { return l }),
			admin.AgentModule,
		)
	}
	if p.sync {
		opts = append(opts, fx.Provide(provideSyncServer), fx.Invoke(func(*syncServer) {}))
	}
	if p.admin {
		opts = append(opts,
			fx.Provide(provideAdminOptions, func(b backend) admin.Store { return b },
				func(a *auth.Service) admin.Authenticator { return a }),
			admin.Module,
			// The web console at / of the admin server, when it is on.
			fx.Provide(func(cfg *config.Config, is issuers, log *zap.Logger) (*console.Options, error) {
				return console.FromConfig(cfg, is, log)
			}),
			console.Module,
			fx.Provide(provideAdminServer), fx.Invoke(func(*adminServer) {}),
		)
	}
	if p.consume || p.admin {
		// Where dead letters are made (the consumers) and handled (admin).
		opts = append(opts, fx.Invoke(watchDeadLetters))
	}
	if p.consume {
		opts = append(opts,
			fx.Provide(
				func(b backend) consumers.AuditStore { return b },
				func(b backend) consumers.AnalyticsStore { return b },
				func(b backend) consumers.RankingStore { return b },
				provideFeedCache,
				provideProgressVersions,
				provideConsumersConfig,
			),
			consumers.Module,
			fx.Invoke(watchConsumerLag),
		)
	}
	opts = append(opts, fx.Invoke(logStart))
	return fx.Options(append(opts, extra...)...)
}

func logStart(cfg *config.Config, p parts, log *zap.Logger) {
	log.Info("vidlib starting", zap.String("parts", p.String()), zap.String("version", versionString()), zap.Object("config", cfg))
}

// providePostgres opens the pool (traced when tracing is on), applies the
// migrations (serialised by an advisory lock, so instances may start
// together) and checks readiness with a ping.
func providePostgres(cfg *config.Config, lc fx.Lifecycle, log *zap.Logger, tr *ops.Tracing, h *ops.Health) (backend, *pgstore.Store, error) {
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

type busOut struct {
	fx.Out
	Publisher  events.Publisher
	Subscriber events.Subscriber
	Lag        ops.LagReader
}

// provideBus is Kafka when brokers are configured, else the in-process bus
// (one process only: `vidlib all` or the demo). With tracing on, what is
// published under a span carries it in the traceparent header.
func provideBus(cfg *config.Config, p parts, lc fx.Lifecycle, log *zap.Logger, tr *ops.Tracing, h *ops.Health) (busOut, error) {
	if len(cfg.Kafka.Brokers) == 0 {
		if !p.api || !p.sync || !p.consume {
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
	h.AddCheck("kafka", b.Ping)
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

// watchDeadLetters exports vidlib_dead_letters_open, counted in the store at
// scrape time.
func watchDeadLetters(m *ops.Metrics, b backend) error {
	return m.WatchDeadLettersOpen(b)
}

// watchConsumerLag exports vidlib_consumer_lag_messages for the consumer
// groups this process runs, read from the bus at scrape time (Kafka's
// committed offsets, or the in-process bus's).
func watchConsumerLag(m *ops.Metrics, lag ops.LagReader, c syncworker.Config) error {
	if c.DisableConsumers {
		return nil
	}
	return m.WatchConsumerLag(lag, consumerGroups(c)...)
}

// consumerGroups are the consumer groups of the sync worker's consumers and
// of the audit consumer, and the topics they read.
func consumerGroups(c syncworker.Config) []ops.ConsumerGroup {
	norm, apply := c.Normalizer.Group, c.Applier.Group
	if norm == "" {
		norm = syncworker.GroupNormalizer
	}
	if apply == "" {
		apply = syncworker.GroupApplier
	}
	return []ops.ConsumerGroup{
		{Group: norm, Topics: []string{events.TopicVimeoWebhooksRaw}},
		{Group: apply, Topics: []string{events.TopicVimeoSyncNormalized}},
		{Group: syncworker.GroupCommands, Topics: []string{events.TopicVimeoSyncNormalized}},
		{Group: consumers.GroupAudit, Topics: []string{events.TopicAudit}},
		{Group: consumers.GroupAnalytics, Topics: []string{events.TopicAnalytics}},
		{Group: consumers.GroupRanking, Topics: []string{events.TopicRankingFeatures}},
	}
}

// versions carries content and entitlement version bumps from writers (the
// mirror) to readers (library.Service): Redis pub/sub across processes, or
// in-process when there is no Redis.
type versions interface {
	library.Versions
	Publish(ctx context.Context, name string, v int64) error
}

// optionalRedis is the Redis store when one is configured.
type optionalRedis struct {
	fx.In
	RS *redisstore.Store `optional:"true"`
}

func provideVersions(r optionalRedis) versions {
	if rs := r.RS; rs != nil {
		return redisVersions{rs: rs, Versions: api.RedisVersions(rs)}
	}
	return newLocalVersions()
}

type redisVersions struct {
	library.Versions
	rs *redisstore.Store
}

func (r redisVersions) Publish(ctx context.Context, name string, v int64) error {
	return r.rs.PublishVersion(ctx, name, v)
}

// localVersions is the in-process notifier: every subscriber gets the newest
// version of each name (coalesced, never blocking the publisher).
type localVersions struct {
	mu   sync.Mutex
	subs map[chan library.VersionChange]struct{}
}

func newLocalVersions() *localVersions {
	return &localVersions{subs: map[chan library.VersionChange]struct{}{}}
}

func (l *localVersions) Publish(_ context.Context, name string, v int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.subs {
		select {
		case ch <- library.VersionChange{Name: name, Version: v}:
		default: // a slow reader still polls the store
		}
	}
	return nil
}

func (l *localVersions) Subscribe(ctx context.Context) (<-chan library.VersionChange, func()) {
	in := make(chan library.VersionChange, 16)
	out := make(chan library.VersionChange)
	l.mu.Lock()
	l.subs[in] = struct{}{}
	l.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(out)
		defer func() {
			l.mu.Lock()
			delete(l.subs, in)
			l.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case c := <-in:
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, cancel
}

// provideAuditor is the process's audit.Recorder: records go through the
// store's outbox to audit.events.
func provideAuditor(b backend) (*audit.Recorder, error) {
	return audit.NewRecorder(&audit.RecorderOptions{Source: "vidlib", Outbox: b})
}

// issuers are the token issuers the API trusts; the demo replaces them with
// its local issuer.
type issuers []auth.Issuer

func provideIssuers(cfg *config.Config) issuers { return cfg.Auth.Issuers() }

func provideAuth(cfg *config.Config, is issuers, users auth.UserStore, a *audit.Recorder, lc fx.Lifecycle, log *zap.Logger) (*auth.Service, error) {
	if len(is) == 0 {
		return nil, errors.New("no token issuer configured: set --cognito-user-pool-id (and --cognito-client-ids), --google-client-ids or --apple-audiences")
	}
	v, err := auth.NewVerifier(is, nil)
	if err != nil {
		return nil, err
	}
	o := cfg.Auth.Options()
	o.Logger = log.Named("auth")
	svc, err := auth.New(v, users, a.Logins(), &o)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartHook(func(ctx context.Context) {
		if err := v.Warm(ctx); err != nil {
			log.Warn("auth: could not load the issuers' keys yet; the first requests will retry", zap.Error(err))
		}
	}))
	return svc, nil
}

func provideLibraryOptions(cfg *config.Config, v versions, r optionalRedis, a *audit.Recorder, b backend) (*library.Options, error) {
	// Playback decisions are not audited by default: the spec makes
	// access-decision audits configurable (--audit-access-sample).
	// Ranked feeds come from Redis with the store behind it.
	o := &library.Options{Versions: v, Feeds: library.FeedChain(b), Audiences: b}
	if r.RS != nil {
		o.Feeds = library.FeedChain(r.RS, b)
	}
	if rate := cfg.Audit.AccessSampleRate; rate > 0 {
		aa, err := a.Access(&audit.AccessOptions{SampleRate: rate})
		if err != nil {
			return nil, err
		}
		o.Auditor = aa
	}
	if r.RS != nil && cfg.Redis.PageCache {
		o.Cache = api.RedisCache(r.RS, 0)
	}
	return o, nil
}

// provideFeedCache gives the ranking pipeline the Redis feed cache, when
// Redis is configured.
func provideFeedCache(r optionalRedis) consumers.FeedCache {
	if r.RS == nil {
		return nil
	}
	return r.RS
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

// apiAnalytics is the API's analytics: on when session secrets are set.
func apiAnalytics(cfg *config.Config, pub events.Publisher, progress api.ProgressStore) (api.AnalyticsOptions, error) {
	a := cfg.Analytics
	secrets := a.SessionSecrets.Values()
	if len(secrets) == 0 {
		return api.AnalyticsOptions{}, nil
	}
	keys := make([][]byte, len(secrets))
	for i, v := range secrets {
		keys[i] = []byte(v)
	}
	tk, err := analytics.NewTokens(keys[0], keys[1:]...)
	if err != nil {
		return api.AnalyticsOptions{}, fmt.Errorf("analytics-session-secrets: %w", err)
	}
	return api.AnalyticsOptions{
		Publisher: pub, Tokens: tk, Progress: progress, Rules: a.Rules(),
		SessionTTL: a.SessionTTL, ClockSkew: a.ClockSkew, MaxAge: a.MaxEventAge,
		EventRate: a.EventRate, EventBurst: a.EventBurst,
	}, nil
}

type apiServer struct{ *ops.HTTPServer }

type apiParams struct {
	fx.In
	Cfg     *config.Config
	LC      fx.Lifecycle
	SD      fx.Shutdowner
	Log     *zap.Logger
	Lib     *library.Service
	Auth    *auth.Service
	Bus     events.Publisher
	Store   backend
	Metrics *ops.Metrics
	Tracing *ops.Tracing
	Health  *ops.Health
	RS      *redisstore.Store `optional:"true"`
}

// provideAPIServer serves the read API on cfg.Listen.API with metrics and
// tracing around the router; readiness waits for the first snapshot.
func provideAPIServer(p apiParams) (*apiServer, error) {
	an, err := apiAnalytics(p.Cfg, p.Bus, p.Store)
	if err != nil {
		return nil, err
	}
	if p.RS != nil { // progress served from a per-instance copy checked against Redis
		an.ProgressVersions = p.RS
	}
	srv, err := api.New(p.Lib, p.Auth, &api.Options{Addr: p.Cfg.Listen.API, Logger: p.Log.Named("api"), Analytics: an})
	if err != nil {
		return nil, err
	}
	h := p.Metrics.Middleware("api")(srv.Handler())
	h = p.Tracing.HTTPHandler(h, "api")
	hs := ops.NewHTTPServer("api", p.Cfg.Listen.API, h, ops.WithLimits(p.Cfg.HTTP, &ops.HTTPServerOptions{
		Logger: p.Log, Health: p.Health, OnError: ops.ShutdownOnError(p.SD, p.Log),
	}))
	ops.RegisterHTTPServer(p.LC, hs)
	p.Health.AddCheck("library", func(context.Context) error {
		if !p.Lib.Ready() {
			return errors.New("the first snapshot is not loaded yet")
		}
		return nil
	})
	p.Metrics.WatchSnapshot(func() ops.SnapshotStatus { return snapshotStatus(p.Lib.Status()) })
	return &apiServer{hs}, nil
}

// snapshotStatus is what the snapshot metrics export of the library's status.
func snapshotStatus(st library.Status) ops.SnapshotStatus {
	return ops.SnapshotStatus{
		Loaded: st.Ready, ContentVersion: st.ContentVersion, EntitlementVersion: st.EntitlementVersion, LoadedAt: st.LoadedAt,
	}
}

// provideVimeo is the one Vimeo client of the process; its rate limiter
// reports every wait to vidlib_rate_limiter_wait_seconds{provider="vimeo"},
// and with tracing on every call to Vimeo is a client span.
func provideVimeo(cfg *config.Config, m *ops.Metrics, tr *ops.Tracing, log *zap.Logger) (*vimeo.Client, error) {
	if !cfg.Vimeo.Token.IsSet() || cfg.Vimeo.RootFolderID == "" {
		return nil, errors.New("VIDLIB_VIMEO_TOKEN (or VIDLIB_VIMEO_TOKEN_FILE) and --vimeo-root-folder-id are required to mirror Vimeo")
	}
	limiter := vimeo.NewRateLimiter(&vimeo.RateLimiterOptions{
		OnWait: func(d time.Duration) { m.ObserveRateLimiterWait("vimeo", d) },
	})
	opts := &vimeo.Options{BaseURL: cfg.Vimeo.BaseURL, UserID: cfg.Vimeo.UserID, RateLimiter: limiter, Logger: log.Named("vimeo")}
	if tr.Enabled() {
		opts.WrapTransport = tr.HTTPTransport // a client span per call to Vimeo
	}
	c, err := vimeo.New(cfg.Vimeo.Token.Value(), opts)
	if err != nil {
		return nil, err
	}
	if err := m.WatchVimeo("vimeo", c); err != nil {
		return nil, err
	}
	return c, nil
}

type mirrorOut struct {
	fx.Out
	Mirror syncworker.Mirror
	Tree   *tree.Mirror
}

// provideMirror builds the tree mirror over Vimeo; every report that moved
// the content version is announced to the readers.
func provideMirror(cfg *config.Config, c *vimeo.Client, st tree.Store, v versions, m *ops.Metrics, log *zap.Logger) (mirrorOut, error) {
	src, err := vimeosource.New(c, cfg.Vimeo.RootFolderID, &vimeosource.Options{UserID: cfg.Vimeo.UserID,
		Walk: &vimeo.WalkOptions{CallsPerMinute: cfg.Sync.ReconcileCallsPerMinute}})
	if err != nil {
		return mirrorOut{}, err
	}
	tm, err := tree.NewMirror(st, src, &tree.MirrorOptions{
		MaxDeleteShare: cfg.Sync.MaxDeleteShare,
		Record:         changeevents.Record(),
		RecordHeld:     changeevents.RecordHeld(),
		RecordFailed:   changeevents.RecordFailed(),
		Logger:         log.Named("mirror"),
	})
	if err != nil {
		return mirrorOut{}, err
	}
	return mirrorOut{Mirror: &announcingMirror{m: tm, v: v, metrics: m, log: log}, Tree: tm}, nil
}

// announcingMirror publishes the content version after every run that
// changed the mirror, and records sync metrics.
type announcingMirror struct {
	m       *tree.Mirror
	v       versions
	metrics *ops.Metrics
	log     *zap.Logger
	mu      sync.Mutex
	last    int64
}

func (a *announcingMirror) after(kind string, start time.Time, rep *tree.Report, err error) {
	result := "ok"
	if err != nil {
		result = "error"
		if errors.Is(err, context.Canceled) {
			result = "stopped"
		}
	}
	a.metrics.SyncFinished(kind, result, start, time.Now())
	if rep == nil {
		return
	}
	for _, c := range rep.Applied {
		a.metrics.SyncChanges.WithLabelValues(changeLabel(c.Kind)).Inc()
	}
	a.mu.Lock()
	bump := rep.Version > a.last
	if bump {
		a.last = rep.Version
	}
	a.mu.Unlock()
	if bump && len(rep.Applied) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if perr := a.v.Publish(ctx, library.VersionContent, rep.Version); perr != nil {
			a.log.Warn("could not announce the content version; readers will poll", zap.Int64("version", rep.Version), zap.Error(perr))
		}
	}
}

func changeLabel(k tree.ChangeKind) string {
	s := string(k)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func (a *announcingMirror) Reconcile(ctx context.Context, opts tree.ReconcileOptions) (*tree.Report, error) {
	start := time.Now()
	rep, err := a.m.Reconcile(ctx, opts)
	a.after("reconcile", start, rep, err)
	return rep, err
}

func (a *announcingMirror) Poll(ctx context.Context) (*tree.Report, error) {
	start := time.Now()
	rep, err := a.m.Poll(ctx)
	a.after("poll", start, rep, err)
	return rep, err
}

func (a *announcingMirror) RefreshVideo(ctx context.Context, id, trigger string) (*tree.Report, error) {
	start := time.Now()
	rep, err := a.m.RefreshVideo(ctx, id, trigger)
	a.after("webhook", start, rep, err)
	return rep, err
}

// ReconcileFolder, ApproveHeld and RejectHeld make the mirror a
// syncworker.CommandMirror: the sync worker carries out the admin's commands.
func (a *announcingMirror) ReconcileFolder(ctx context.Context, id string, opts tree.ReconcileOptions) (*tree.Report, error) {
	start := time.Now()
	rep, err := a.m.ReconcileFolder(ctx, id, opts)
	a.after("reconcile", start, rep, err)
	return rep, err
}

func (a *announcingMirror) ApproveHeld(ctx context.Context, runID int64, actor string) (*tree.Report, error) {
	start := time.Now()
	rep, err := a.m.ApproveHeld(ctx, runID, actor)
	a.after("reconcile", start, rep, err)
	return rep, err
}

func (a *announcingMirror) RejectHeld(ctx context.Context, runID int64, actor string) error {
	return a.m.RejectHeld(ctx, runID, actor)
}

var _ syncworker.CommandMirror = (*announcingMirror)(nil)

// webhookState says whether a webhook secret is configured; without one
// the intake is not mounted.
type webhookState struct{ enabled bool }

type verifierOut struct {
	fx.Out
	Verifier *vimeo.WebhookVerifier
	State    webhookState
}

func provideWebhookVerifier(cfg *config.Config, log *zap.Logger) (verifierOut, error) {
	secrets := cfg.Vimeo.WebhookSecrets.Values()
	enabled := len(secrets) > 0
	if !enabled {
		// The worker needs a verifier; one with a random secret refuses every
		// delivery, and the route is not mounted anyway.
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		secrets = []string{hex.EncodeToString(b)}
		log.Warn("webhook intake off: VIDLIB_VIMEO_WEBHOOK_SECRETS is not set; changes arrive by polling and reconciliation")
	}
	scheme := cfg.Vimeo.WebhookOptions()
	v, err := vimeo.NewWebhookVerifier(secrets[0], &scheme, secrets[1:]...)
	if err != nil {
		return verifierOut{}, err
	}
	return verifierOut{Verifier: v, State: webhookState{enabled: enabled}}, nil
}

// provideSyncConfig chooses which loops of the sync worker run here: `sync`
// runs the intake, the poll, the scheduler and the relay; `consume` the
// consumers; `all` everything. The consumers count their messages and dead
// letters and, with tracing on, start a span per message.
func provideSyncConfig(cfg *config.Config, p parts, m *ops.Metrics, tr *ops.Tracing) syncworker.Config {
	var c syncworker.Config
	c.Relay.Backlog = func(n int64) { m.OutboxBacklog.Set(float64(n)) }
	c.Normalizer.Observe = m.ObserveConsumer(syncworker.GroupNormalizer)
	c.Normalizer.StartSpan = tr.MessageSpan(syncworker.GroupNormalizer, busSystem(cfg))
	c.Applier.Observe = m.ObserveConsumer(syncworker.GroupApplier)
	c.Applier.StartSpan = tr.MessageSpan(syncworker.GroupApplier, busSystem(cfg))
	c.Poll.Interval = cfg.Sync.PollInterval
	c.Scheduler.Interval = cfg.Sync.ReconcileInterval
	c.DisableConsumers = !p.consume
	c.DisablePoll = !p.sync
	c.DisableScheduler = !p.sync
	c.DisableRelay = !p.sync
	c.DisableRedrive = !p.sync
	return c
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

type syncServer struct{ *ops.HTTPServer }

// provideSyncServer serves the webhook intake (and health) on cfg.Listen.Sync.
func provideSyncServer(cfg *config.Config, lc fx.Lifecycle, sd fx.Shutdowner, log *zap.Logger, in *syncworker.Intake, ws webhookState, m *ops.Metrics, tr *ops.Tracing, h *ops.Health) *syncServer {
	mux := http.NewServeMux()
	if ws.enabled {
		mux.Handle("POST "+syncworker.WebhookPath, in)
	}
	mux.Handle("GET /healthz", h.LiveHandler())
	mux.Handle("GET /readyz", h.ReadyHandler())
	hs := ops.NewHTTPServer("sync", cfg.Listen.Sync, tr.HTTPHandler(m.Middleware("sync")(mux), "sync"), ops.WithLimits(cfg.HTTP, &ops.HTTPServerOptions{
		Logger: log, Health: h, OnError: ops.ShutdownOnError(sd, log),
	}))
	ops.RegisterHTTPServer(lc, hs)
	return &syncServer{hs}
}

type adminServer struct{ *ops.HTTPServer }

// provideCacheBus carries the admin's cache invalidations to the API
// instances: Redis pub/sub when Redis is configured, else in process.
func provideCacheBus(r optionalRedis) admin.CacheBus {
	if r.RS != nil {
		return admin.RedisCache(r.RS)
	}
	return admin.NewLocalCache()
}

type adminParams struct {
	fx.In
	Cfg    *config.Config
	B      backend
	Lib    *library.Service
	Pub    events.Publisher
	Lag    ops.LagReader
	Cache  admin.CacheBus
	V      versions
	Mirror *tree.Mirror `optional:"true"` // only where the sync worker runs (all, demo)
	Audit  *audit.Recorder
	// For the admin's own Vimeo source (dry runs) where no mirror runs.
	Metrics *ops.Metrics
	Tracing *ops.Tracing
	Log     *zap.Logger
}

// provideAdminOptions hands the admin service what this process has; its
// actions are audited through the process's audit.Recorder.
func provideAdminOptions(p adminParams) (*admin.Options, error) {
	o := &admin.Options{
		Library: p.Lib, Publisher: p.Pub, Cache: p.Cache, Lag: p.Lag, Auditor: p.Audit, Announcer: p.V,
		Addr: p.Cfg.Listen.Admin,
	}
	for _, g := range consumerGroups(syncworker.Config{}) {
		o.Groups = append(o.Groups, admin.ConsumerGroup{Group: g.Group, Topics: g.Topics})
	}
	if p.Mirror != nil {
		o.Mirror = p.Mirror
	} else if p.Cfg.Has(config.SectionVimeo) && p.Cfg.VimeoSet() {
		// A split admin with the Vimeo settings dry runs itself; its
		// reconciliations and held decisions go to the sync worker as commands.
		c, err := provideVimeo(p.Cfg, p.Metrics, p.Tracing, p.Log)
		if err != nil {
			return nil, err
		}
		if o.Source, err = vimeosource.New(c, p.Cfg.Vimeo.RootFolderID, &vimeosource.Options{UserID: p.Cfg.Vimeo.UserID}); err != nil {
			return nil, err
		}
	}
	o.Audit = p.B
	return o, nil
}

type adminServerParams struct {
	fx.In
	Cfg     *config.Config
	LC      fx.Lifecycle
	SD      fx.Shutdowner
	Log     *zap.Logger
	API     *admin.API
	Metrics *ops.Metrics
	Tracing *ops.Tracing
	Health  *ops.Health
	// Console is the web console (console.Module), mounted at / next to
	// the JSON API's /admin/; nil when it is off. It is mounted here, not
	// through admin.Options, because it is built over the admin Service.
	Console http.Handler `name:"admin_console" optional:"true"`
}

// provideAdminServer serves the admin API (and the console, when one is
// provided) on cfg.Listen.Admin with metrics, tracing and health.
func provideAdminServer(p adminServerParams) *adminServer {
	cfg, lc, sd, log, a, m, tr, h := p.Cfg, p.LC, p.SD, p.Log, p.API, p.Metrics, p.Tracing, p.Health
	if p.Console != nil {
		a.Router().Handle("/*", p.Console)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", h.LiveHandler())
	mux.Handle("GET /readyz", h.ReadyHandler())
	mux.Handle("/", a.Handler())
	hs := ops.NewHTTPServer("admin", cfg.Listen.Admin, tr.HTTPHandler(m.Middleware("admin")(mux), "admin"), ops.WithLimits(cfg.HTTP, &ops.HTTPServerOptions{
		Logger: log, Health: h, OnError: ops.ShutdownOnError(sd, log),
	}))
	ops.RegisterHTTPServer(lc, hs)
	return &adminServer{hs}
}

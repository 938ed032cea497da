package compose

// The sync server: the Vimeo client, the mirror, the webhook intake and the
// sync worker's loops (its consumers run in the consume server).

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/consumers"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/tree/changeevents"
	"github.com/vidlib/vidlib/tree/vimeosource"
	"github.com/vidlib/vidlib/vimeo"
)

// syncWorkerOptions provide the Vimeo client, the mirror, the webhook
// verifier and the sync worker (syncworker.Module), whose loops run in the
// sync server and whose consumers run in the consume server.
func syncWorkerOptions() fx.Option {
	return fx.Options(
		fx.Provide(provideVimeo, provideMirror, provideWebhookVerifier, provideSyncConfig),
		syncworker.Module,
	)
}

// syncServerOptions serve the webhook intake on cfg.Listen.Sync.
func syncServerOptions() fx.Option {
	return fx.Options(fx.Provide(provideSyncServer), fx.Invoke(func(*SyncServer) {}))
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

// provideMirror builds the tree mirror over Vimeo; every run is counted in
// the sync metrics and every run that moved the content version is
// announced to the readers (syncworker.Announce).
func provideMirror(cfg *config.Config, c *vimeo.Client, st tree.Store, v Versions, m *ops.Metrics, log *zap.Logger) (mirrorOut, error) {
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
	am, err := syncworker.Announce(tm, &syncworker.AnnounceOptions{Announcer: v, Observe: m.ObserveSync, Logger: log})
	if err != nil {
		return mirrorOut{}, err
	}
	return mirrorOut{Mirror: am, Tree: tm}, nil
}

// provideWebhookVerifier is the webhook verifier, or nil without a secret:
// then the intake is not mounted and changes arrive by polling and
// reconciliation.
func provideWebhookVerifier(cfg *config.Config, log *zap.Logger) (*vimeo.WebhookVerifier, error) {
	secrets := cfg.Vimeo.WebhookSecrets.Values()
	if len(secrets) == 0 {
		log.Warn("webhook intake off: VIDLIB_VIMEO_WEBHOOK_SECRETS is not set; changes arrive by polling and reconciliation")
		return nil, nil
	}
	scheme := cfg.Vimeo.WebhookOptions()
	return vimeo.NewWebhookVerifier(secrets[0], &scheme, secrets[1:]...)
}

// provideSyncConfig chooses which loops of the sync worker run here: `sync`
// runs the intake, the poll, the scheduler and the relay; `consume` the
// consumers; `all` everything. The consumers count their messages and dead
// letters and, with tracing on, start a span per message.
func provideSyncConfig(cfg *config.Config, p Parts, m *ops.Metrics, tr *ops.Tracing) syncworker.Config {
	var c syncworker.Config
	c.Relay.Backlog = func(n int64) { m.OutboxBacklog.Set(float64(n)) }
	c.Normalizer.Observe = m.ObserveConsumer(syncworker.GroupNormalizer)
	c.Normalizer.StartSpan = tr.MessageSpan(syncworker.GroupNormalizer, busSystem(cfg))
	c.Applier.Observe = m.ObserveConsumer(syncworker.GroupApplier)
	c.Applier.StartSpan = tr.MessageSpan(syncworker.GroupApplier, busSystem(cfg))
	c.Poll.Interval = cfg.Sync.PollInterval
	c.Scheduler.Interval = cfg.Sync.ReconcileInterval
	c.DisableConsumers = !p.Consume
	c.DisablePoll = !p.Sync
	c.DisableScheduler = !p.Sync
	c.DisableRelay = !p.Sync
	c.DisableRedrive = !p.Sync
	return c
}

// SyncServer is the sync worker's listener: the webhook intake (when a
// secret is set) and health.
type SyncServer struct{ *ops.HTTPServer }

type syncServerParams struct {
	fx.In
	Cfg      *config.Config
	LC       fx.Lifecycle
	SD       fx.Shutdowner
	Log      *zap.Logger
	Intake   *syncworker.Intake
	Verifier *vimeo.WebhookVerifier `optional:"true"`
	Metrics  *ops.Metrics
	Tracing  *ops.Tracing
	Health   *ops.Health
}

// provideSyncServer serves the webhook intake (and health) on cfg.Listen.Sync.
func provideSyncServer(p syncServerParams) *SyncServer {
	mux := http.NewServeMux()
	if p.Verifier != nil {
		mux.Handle("POST "+syncworker.WebhookPath, p.Intake)
	}
	mux.Handle("GET /healthz", p.Health.LiveHandler())
	mux.Handle("GET /readyz", p.Health.ReadyHandler())
	return &SyncServer{serveHTTP(httpServer{Name: "sync", Addr: p.Cfg.Listen.Sync, Handler: mux,
		Cfg: p.Cfg, LC: p.LC, SD: p.SD, Log: p.Log, Metrics: p.Metrics, Tracing: p.Tracing, Health: p.Health})}
}

// ConsumerGroups are the consumer groups of the sync worker's consumers and
// of the audit, analytics and ranking consumers, and the topics they read
// (c names the sync worker's groups where it renames them).
func ConsumerGroups(c syncworker.Config) []ops.ConsumerGroup {
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

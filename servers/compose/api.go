package compose

// The API server: authentication, the library and the read API.

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
)

// libraryOptions provide the token issuers, auth.Service, the library's
// options, the admin's cache bus and the library.Service (kept current
// between start and stop): what the API and the admin read through.
func libraryOptions() fx.Option {
	return fx.Options(
		fx.Provide(provideIssuers, provideAuth, provideLibraryOptions, provideCacheBus, provideChat),
		api.LibraryModule,
	)
}

// apiOptions run the read API on cfg.Listen.API, and the admin agent that
// applies the admin's cache invalidations on every API instance.
func apiOptions() fx.Option {
	return fx.Options(
		fx.Provide(provideAPIServer),
		fx.Invoke(func(*APIServer) {}),
		fx.Provide(func(l *library.Service) admin.InstanceLibrary { return l }),
		admin.AgentModule,
	)
}

// Issuers are the token issuers the API and the admin trust: cfg.Auth's,
// unless replaced (the demo trusts its local issuer: fx.Replace(Issuers{…})).
type Issuers []auth.Issuer

func provideIssuers(cfg *config.Config) Issuers { return cfg.Auth.Issuers() }

func provideAuth(cfg *config.Config, is Issuers, users auth.UserStore, b Backend, a *audit.Recorder, lc fx.Lifecycle, log *zap.Logger) (*auth.Service, error) {
	if len(is) == 0 {
		return nil, errors.New("no token issuer configured: set --cognito-user-pool-id (and --cognito-client-ids), --google-client-ids or --apple-audiences")
	}
	v, err := auth.NewVerifier(is, nil)
	if err != nil {
		return nil, err
	}
	o := cfg.Auth.Options()
	o.Logger = log.Named("auth")
	o.Audiences = b // user_audiences: the ranking pipeline ranks users with them
	svc, err := auth.New(v, users, a.Logins(), &o)
	if err != nil {
		return nil, err
	}
	// Appended after the user store's hooks (it needs the store) and before
	// the servers' (they need it): fx stops in reverse, so the servers drain
	// first, then Close waits for the principal refreshes and audience
	// writes still running, and only then does the store's pool close.
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := v.Warm(ctx); err != nil {
				log.Warn("auth: could not load the issuers' keys yet; the first requests will retry", zap.Error(err))
			}
			return nil
		},
		OnStop: svc.Close,
	})
	return svc, nil
}

// provideLibraryOptions: the library's version notifier, ranked feeds (Redis
// with the store behind it, kept in process while the ranking pipeline's
// announcements say they are current), the entitlement index's options, the
// search index warmed after each content rebuild, access-decision audits
// (--audit-access-sample; off by default, as the spec makes them
// configurable), the opt-in Redis page cache and the HubSpot chat context.
func provideLibraryOptions(cfg *config.Config, v Versions, r optionalRedis, lf localFeeds, a *audit.Recorder, b Backend, chat *api.Chat) (*library.Options, error) {
	o := &library.Options{Versions: v, Feeds: library.FeedChain(b), WarmSearch: true,
		Index: &entitle.Options{AllowPasswordVideos: cfg.Vimeo.AllowPasswordVideos, MaxCachedViewBytes: cfg.ViewCacheBytes}}
	if r.RS != nil {
		o.Feeds = library.FeedChain(r.RS, b)
		o.FeedChanges = api.RedisFeedChanges(r.RS) // the ranking pipeline announces new feeds
	} else {
		// The ranking pipeline of this process announces new feeds; in a
		// process without one, kept feeds are read again after FeedMaxAge
		// rather than on every home page.
		o.FeedChanges = lf.LocalFeedChanges
	}
	if chat != nil {
		o.Chat = chat.Options
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

// APIServer is the read API's listener.
type APIServer struct{ *ops.HTTPServer }

// apiParams are the API server's inputs. Options, when supplied
// (fx.Supply(&api.Options{…})), are the base of the API's options: the
// composition fills in the logger and analytics (a benchmark sets the
// per-user rate limit there).
type apiParams struct {
	fx.In
	Cfg     *config.Config
	LC      fx.Lifecycle
	SD      fx.Shutdowner
	Log     *zap.Logger
	Lib     *library.Service
	Auth    *auth.Service
	Bus     events.Publisher
	Store   Backend
	Metrics *ops.Metrics
	Tracing *ops.Tracing
	Health  *ops.Health
	Options *api.Options `optional:"true"`
	Redis   optionalRedis
}

// provideAPIServer serves the read API on cfg.Listen.API; readiness waits
// for the first snapshot.
func provideAPIServer(p apiParams) (*APIServer, error) {
	an, err := apiAnalytics(p.Cfg, p.Bus, p.Store)
	if err != nil {
		return nil, err
	}
	var o api.Options
	if p.Options != nil {
		o = *p.Options
	}
	if p.Redis.RS != nil { // progress served from a per-instance copy checked against Redis
		an.ProgressVersions = p.Redis.RS
	}
	o.Logger, o.Analytics = p.Log, an
	o.TrustForwardedFor = p.Cfg.HTTP.TrustForwardedFor
	srv, err := api.New(p.Lib, p.Auth, &o)
	if err != nil {
		return nil, err
	}
	hs := serveHTTP(httpServer{Name: "api", Addr: p.Cfg.Listen.API, Handler: srv.Handler(),
		Cfg: p.Cfg, LC: p.LC, SD: p.SD, Log: p.Log, Metrics: p.Metrics, Tracing: p.Tracing, Health: p.Health})
	p.Health.AddCheck("library", func(context.Context) error {
		if !p.Lib.Ready() {
			return errors.New("the first snapshot is not loaded yet")
		}
		return nil
	})
	p.Metrics.WatchSnapshot(func() ops.SnapshotStatus { return snapshotStatus(p.Lib.Status()) })
	return &APIServer{hs}, nil
}

// snapshotStatus is what the snapshot metrics export of the library's status.
func snapshotStatus(st library.Status) ops.SnapshotStatus {
	return ops.SnapshotStatus{
		Loaded: st.Ready, ContentVersion: st.ContentVersion, EntitlementVersion: st.EntitlementVersion, LoadedAt: st.LoadedAt,
	}
}

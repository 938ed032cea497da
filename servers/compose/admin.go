package compose

// The admin server: the admin API and its web console.

import (
	"net/http"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/servers/admin/console"
	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/tree/vimeosource"
)

// adminOptions run the admin API and, when it is on, the console at / of
// the admin server.
func adminOptions() fx.Option {
	return fx.Options(
		fx.Provide(provideAdminOptions, func(b Backend) admin.Store { return b },
			func(a *auth.Service) admin.Authenticator { return a }),
		admin.Module,
		fx.Provide(func(cfg *config.Config, is Issuers, log *zap.Logger) (*console.Options, error) {
			return console.FromConfig(cfg, is, log)
		}),
		console.Module,
		fx.Provide(provideAdminServer), fx.Invoke(func(*AdminServer) {}),
	)
}

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
	B      Backend
	Lib    *library.Service
	Pub    events.Publisher
	Lag    ops.LagReader
	Cache  admin.CacheBus
	V      Versions
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
	for _, g := range ConsumerGroups(syncworker.Config{}) {
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

// AdminServer is the admin API's (and console's) listener.
type AdminServer struct{ *ops.HTTPServer }

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
// provided) on cfg.Listen.Admin with health.
func provideAdminServer(p adminServerParams) *AdminServer {
	if p.Console != nil {
		p.API.Router().Handle("/*", p.Console)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", p.Health.LiveHandler())
	mux.Handle("GET /readyz", p.Health.ReadyHandler())
	mux.Handle("/", p.API.Handler())
	return &AdminServer{serveHTTP(httpServer{Name: "admin", Addr: p.Cfg.Listen.Admin, Handler: mux,
		Cfg: p.Cfg, LC: p.LC, SD: p.SD, Log: p.Log, Metrics: p.Metrics, Tracing: p.Tracing, Health: p.Health})}
}

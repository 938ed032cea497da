package compose

import (
	"net/http"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/servers/config"
	"github.com/vidlib/vidlib/servers/ops"
)

// httpServer is what every listener of the composition is made of.
type httpServer struct {
	Name, Addr string
	Handler    http.Handler
	Cfg        *config.Config
	LC         fx.Lifecycle
	SD         fx.Shutdowner
	Log        *zap.Logger
	Metrics    *ops.Metrics
	Tracing    *ops.Tracing
	Health     *ops.Health
}

// serveHTTP is the one way the composition serves HTTP: an ops.HTTPServer
// with cfg.HTTP's limits and the servers' shared middleware (tracing,
// request ids, the access log, metrics), draining on stop and stopping the
// application if serving fails.
func serveHTTP(s httpServer) *ops.HTTPServer {
	hs := ops.NewHTTPServer(s.Name, s.Addr, s.Handler, ops.WithLimits(s.Cfg.HTTP, &ops.HTTPServerOptions{
		Logger: s.Log, Health: s.Health, OnError: ops.ShutdownOnError(s.SD, s.Log),
		Tracing: s.Tracing, Metrics: s.Metrics,
	}))
	ops.RegisterHTTPServer(s.LC, hs)
	return hs
}

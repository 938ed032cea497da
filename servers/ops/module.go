package ops

import (
	"context"
	"errors"
	"net/http"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vidlib/vidlib/servers/config"
)

// Module provides the operations pieces to an fx application that supplies
// a *config.Config: *zap.Logger, *Metrics (and its *prometheus.Registry as
// prometheus.Registerer), *Tracing and trace.TracerProvider, *Health, and
// the MetricsServer on cfg.Listen.Metrics (/metrics, /healthz, /readyz).
var Module = fx.Module("ops",
	LoggerModule,
	MetricsModule,
	TracingModule,
	HealthModule,
	MetricsServerModule,
)

// LoggerModule provides *zap.Logger built from cfg.Log; it is synced on stop.
var LoggerModule = fx.Provide(ProvideLogger)

// MetricsModule provides *Metrics on a new registry, the registry, and it as
// a prometheus.Registerer. It needs the *zap.Logger of LoggerModule.
var MetricsModule = fx.Provide(
	ProvideMetrics,
	func(m *Metrics) *prometheus.Registry { return m.Registry },
	func(m *Metrics) prometheus.Registerer { return m.Registry },
)

// TracingModule provides *Tracing from cfg.Tracing (off without an
// endpoint) and its trace.TracerProvider; spans are flushed on stop.
var TracingModule = fx.Provide(
	ProvideTracing,
	func(t *Tracing) trace.TracerProvider { return t.TracerProvider() },
)

// HealthModule provides one *Health for the process.
var HealthModule = fx.Provide(func(log *zap.Logger) *Health { return NewHealth(&HealthOptions{Logger: log}) })

// MetricsServerModule runs the metrics listener (when cfg.Listen.Metrics is
// set).
var MetricsServerModule = fx.Options(
	fx.Provide(ProvideMetricsServer),
	fx.Invoke(func(*MetricsServer) {}),
)

// FxLogger routes fx's own events to the zap logger at debug level (errors
// stay errors). Add it next to Module.
var FxLogger = fx.WithLogger(func(l *zap.Logger) fxevent.Logger {
	zl := &fxevent.ZapLogger{Logger: l.Named("fx")}
	zl.UseLogLevel(zapcore.DebugLevel)
	return zl
})

// ProvideLogger builds the process logger from cfg.Log (fields: none; add
// the subcommand with logger.With).
func ProvideLogger(cfg *config.Config, lc fx.Lifecycle) (*zap.Logger, error) {
	l, err := NewLogger(&LoggerOptions{Level: cfg.Log.Level, Format: cfg.Log.Format})
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(func() error {
		if err := l.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTTY) && !errors.Is(err, syscall.EBADF) {
			return err
		}
		return nil
	}))
	return l, nil
}

// ProvideMetrics registers Metrics on a new registry; failures of
// scrape-time sources are logged to log.
func ProvideMetrics(log *zap.Logger) (*Metrics, error) {
	return NewMetrics(NewRegistry(), &MetricsOptions{Logger: log})
}

// ProvideTracing builds Tracing from cfg.Tracing and flushes it on stop.
func ProvideTracing(cfg *config.Config, lc fx.Lifecycle) (*Tracing, error) {
	t, err := NewTracing(context.Background(), &TracingOptions{
		Endpoint:    cfg.Tracing.Endpoint,
		ServiceName: cfg.Tracing.ServiceName,
		Sampler:     SampleRatio(cfg.Tracing.SampleRatio),
	})
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(t.Shutdown))
	return t, nil
}

// MetricsServer is the listener of /metrics, /healthz and /readyz. Its
// HTTPServer is nil when cfg.Listen.Metrics is empty.
type MetricsServer struct {
	*HTTPServer
}

// MetricsHandler serves /metrics, /healthz and /readyz.
func MetricsHandler(m *Metrics, h *Health) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.Handle("GET /healthz", h.LiveHandler())
	mux.Handle("GET /readyz", h.ReadyHandler())
	return mux
}

// ProvideMetricsServer builds the metrics listener and ties it to the
// lifecycle: it listens in OnStart and drains in OnStop (marking Health as
// draining first). A serving failure shuts the application down.
func ProvideMetricsServer(cfg *config.Config, lc fx.Lifecycle, sd fx.Shutdowner, log *zap.Logger, m *Metrics, h *Health) *MetricsServer {
	if cfg.Listen.Metrics == "" {
		return &MetricsServer{}
	}
	s := NewHTTPServer("metrics", cfg.Listen.Metrics, MetricsHandler(m, h), WithLimits(cfg.HTTP, &HTTPServerOptions{
		Logger:  log,
		Health:  h,
		OnError: ShutdownOnError(sd, log),
	}))
	RegisterHTTPServer(lc, s)
	return &MetricsServer{HTTPServer: s}
}

// RegisterHTTPServer appends s's Start and Stop to the lifecycle. fx runs
// OnStop with the app's stop timeout, which servers/compose sets from
// cfg.ShutdownTimeout (fx.StopTimeout).
func RegisterHTTPServer(lc fx.Lifecycle, s *HTTPServer) {
	lc.Append(fx.Hook{OnStart: s.Start, OnStop: s.Stop})
}

// ShutdownOnError returns an HTTPServerOptions.OnError that logs and stops
// the application with exit code 1.
func ShutdownOnError(sd fx.Shutdowner, log *zap.Logger) func(error) {
	return func(err error) {
		log.Error("server failed: stopping", zap.Error(err))
		_ = sd.Shutdown(fx.ExitCode(1))
	}
}

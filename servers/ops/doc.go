// Package ops holds what every vidlib server needs to be operated: the zap
// logger, Prometheus metrics, OpenTelemetry tracing, health and readiness,
// request ids, access logs and the lifecycle of an HTTP listener. Each piece
// has a plain constructor; module.go wraps them in fx modules for cmd/vidlib.
//
// # Logs
//
// NewLogger builds a zap logger: JSON for production, a coloured console for
// the demo. RequestID accepts a sane X-Request-Id or makes one (a UUIDv7),
// echoes it in the response and puts it, with the trace and span ids, on a
// request-scoped logger that handlers read with Logger(ctx). AccessLog writes
// one line per request: method, route pattern, path, status, bytes, duration,
// request id and trace id.
//
// # Metrics
//
// NewRegistry returns a non-global registry with the Go and process
// collectors. NewMetrics registers vidlib's metrics on it (all named
// vidlib_*): HTTP RED metrics per chi route pattern (Metrics.Middleware),
// snapshot version and age, sync runs and lag, consumer lag, outbox backlog,
// dead letters, Vimeo calls and 429s (WatchVimeo reads a client's Stats), and
// rate-limiter waits. Values that have a natural source function are
// GaugeFuncs or CounterFuncs read at scrape time. Handler serves the registry.
//
// # Traces
//
// NewTracing is off unless an endpoint is configured: then it exports over
// OTLP/HTTP with W3C trace-context and baggage propagation. HTTPHandler wraps
// a handler in otelhttp; PgxTracer and InstrumentRedis trace the stores.
// Tracing off means a no-op provider and no exporter.
//
// # Health
//
// Health answers /healthz (the process is alive) and /readyz (every
// registered check passes and every readiness flag is up, e.g. "first
// snapshot loaded"), as JSON listing each check; /readyz is 503 until then,
// and again once shutdown begins (SetDraining).
//
// # HTTP servers
//
// HTTPServer listens in Start (so a bad or busy address fails start-up),
// serves in a goroutine and, in Stop, shuts down gracefully within the
// context's deadline, letting in-flight requests finish; past the deadline it
// closes the remaining connections and returns the context's error.
//
// # Concurrency
//
// Everything here is safe for concurrent use once constructed.
package ops

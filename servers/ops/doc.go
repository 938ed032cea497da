// Package ops holds what every vidlib server needs to be operated: the zap
// logger, Prometheus metrics, OpenTelemetry tracing, health and readiness,
// request ids, access logs, the lifecycle of an HTTP listener and of
// background loops. Each piece has a plain constructor; module.go wraps them
// in fx modules for servers/compose.
//
// # Logs
//
// NewLogger builds a zap logger: JSON for production, a coloured console for
// the demo. RequestID accepts a sane X-Request-Id or makes one (a UUIDv7),
// echoes it in the response and keeps it in the request's context; a handler
// that logs asks Logger(ctx) for a logger with the request id and the trace
// and span ids, made then (most requests never log). The access log
// has one line per request: method, route pattern, path, status, bytes,
// duration, request id and trace id (AccessLog, or an HTTPServer's own).
//
// # Metrics
//
// NewRegistry returns a non-global registry with the Go and process
// collectors. NewMetrics registers vidlib's metrics on it, all named
// vidlib_*. What servers/compose feeds, and from where:
//
//   - HTTP RED metrics per chi route pattern (Metrics.Middleware): the api
//     and sync servers.
//   - The served snapshot's content and entitlement versions, load time and
//     age (WatchSnapshot, read at scrape time from library.Service.Status in
//     the api process; ObserveSnapshot is the push form). The age is the time
//     since the served snapshot was swapped in, so it also grows while nothing
//     changes; compare the content version across instances for staleness.
//   - Sync runs, durations, changes and lag per kind (SyncFinished): the
//     processes that run the mirror.
//   - Consumer lag per group and topic (WatchConsumerLag, read at scrape time
//     from the bus: Kafka's committed offsets, or the in-process bus's) for
//     the consumer groups the process runs; consumer messages by result and
//     messages dead-lettered (ObserveConsumer, as the consumers' Observe
//     hook); open dead letters (WatchDeadLettersOpen, counted in the store at
//     scrape time) in the processes that consume or administer.
//   - Outbox backlog (OutboxBacklog, from the relay's Backlog report).
//   - Vimeo calls, 429s, retries, errors and breaker state (WatchVimeo reads a
//     client's Stats at scrape time) and rate-limiter waits
//     (ObserveRateLimiterWait, from vimeo.RateLimiterOptions.OnWait).
//
// A scrape-time source that fails or takes longer than ScrapeTimeout is left
// out of that scrape and counted in vidlib_scrape_errors_total{source}; the
// rest is served. Handler serves the registry.
//
// # Traces
//
// NewTracing is off unless an endpoint is configured: then it exports over
// OTLP/HTTP with W3C trace-context and baggage propagation. HTTPHandler wraps
// a handler in otelhttp and puts the request span's traceparent where
// events.New finds it; PgxTracer and InstrumentRedis trace the stores. For
// the event bus, Publisher wraps an events.Publisher so that what is published
// under a span gets a producer span and carries it in the traceparent header,
// and MessageSpan is the events.SpanStarter that starts each consumer span as
// the child of that header (else of the envelope's trace). A webhook received
// by the sync server, published, normalised and applied is thus one trace,
// down to the applier's PostgreSQL queries and its calls to Vimeo
// (HTTPTransport, set as vimeo.Options.WrapTransport). Tracing
// off means a no-op provider, no exporter, the bus unwrapped and no consumer
// spans; a caller's traceparent still flows into the events it causes.
//
// # Health
//
// Health answers /healthz (the process is alive) and /readyz (every
// registered check passes and every readiness flag is up, e.g. "first
// snapshot loaded"), as JSON listing each check; /readyz is 503 until then,
// and again once shutdown begins (SetDraining). /readyz names the failed
// check but says only "unavailable", "timed out" or "check panicked" of it:
// the error goes to the log, as its text may hold addresses or credentials.
// Liveness runs no check, so a dependency's outage never gets a serving
// process restarted; load balancers probe /healthz.
//
// # HTTP servers
//
// HTTPServer listens in Start (so a bad or busy address fails start-up),
// serves in a goroutine and, in Stop, shuts down gracefully within the
// context's deadline, letting in-flight requests finish; past the deadline it
// closes the remaining connections and returns the context's error.
// Every server has read-header, read and write timeouts and a header limit
// (HTTPServerOptions, WithLimits from the --http-* settings), answers the
// ServeMux's 404 and 405 as JSON (JSONErrors) and serves HEAD where GET is.
//
// Every HTTPServer puts the same middleware around its handler, outermost
// first: a server span (with Tracing), the request id and request-scoped
// logger, then the access log and the RED metrics (with Metrics) in one
// response-writer wrapper. The access log is on by default and sampled: in
// each second the first DefaultAccessLogFirst 1xx–4xx entries are written,
// then one in DefaultAccessLogThereafter; every 5xx is written; health probes
// and scrapes are skipped (SkipProbes). Sampled, because at thousands of
// requests a second an unsampled log costs a write per request on the hot
// path and gigabytes a day, while the metrics already count every request
// exactly and the audit log keeps the records that must not be lost; under
// normal traffic (below 100 requests a second per server) nothing is
// dropped. AccessLogOptions change it; NoAccessLog turns it off.
//
// # Background loops
//
// RunWhileStarted runs one loop between an fx application's start and stop.
// KeepRunning supervises a loop that must not end before its context does
// (the consumers' Runner, the sync Worker): it restarts one that returns
// early after a pause that doubles from 1 s to 30 s, logging each failure;
// Wait bounds the wait for a stopped group of loops by a stop deadline.
//
// # Memory
//
// ApplyMemoryLimit sets the process's soft memory limit (runtime/debug
// SetMemoryLimit) from the memory-limit setting (MemoryLimit says which
// source wins): the setting, GOMEMLIMIT, or 80 % of a container's memory.
// When none of them gives a limit and GOGC is not set, the GC percent
// follows the live heap instead (FollowGCPercent of what the last
// collection found live, set again after each collection that changes it):
// the heap may grow FollowShare past the live heap, at least FollowFloor,
// where Go's default lets it double. The API at a million videos has 1.1
// GB live and needs nothing like another 1.1 GB of headroom; a small
// process keeps Go's default.
//
// # Concurrency
//
// Everything here is safe for concurrent use once constructed.
package ops

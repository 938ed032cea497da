// Package compose is the one composition of vidlib's reference servers: the
// fx graph of each server (api, sync, consume, admin, or any set of them in
// one process), built from a *config.Config. `vidlib api|sync|consume|admin|all`,
// `vidlib sync --once`, the demo and the read-API benchmark all build their
// process here, so what the demo shows and what the benchmark measures is
// what is deployed: the same middleware, timeouts, metrics, tracing and
// access log.
//
// # The graph
//
// Options(cfg, parts, extra...) returns the fx options of a process running
// parts. Every process gets the operations pieces (servers/ops: logger,
// metrics, tracing, health, the metrics listener), one store (pgstore when
// cfg.Postgres.URL is set, memstore otherwise), the event bus (Kafka when
// brokers are configured, else the in-process bus, which only a process that
// runs every server may use), the audit recorder and the version notifier
// (Redis pub/sub, else library.LocalVersions). Then, per server:
//
//	api      auth.Service, library.Service (api.LibraryModule), the API on
//	         cfg.Listen.API, the admin agent             (api.go), the
//	         HubSpot chat context with --hubspot-chat     (chat.go)
//	sync     the Vimeo client, the announcing mirror, the webhook intake on
//	         cfg.Listen.Sync, the sync worker's loops     (sync.go)
//	consume  the sync worker's consumers and the audit, analytics and
//	         ranking consumers                            (consume.go)
//	admin    the admin API and console on cfg.Listen.Admin (admin.go)
//
// Every HTTP listener is an ops.HTTPServer (one lifecycle; request ids,
// access log, metrics and tracing around the handler), with the limits of
// cfg.HTTP.
//
// fx stops in the reverse order of start: the servers drain first, then
// auth.Service.Close waits for the principal refreshes and audience writes
// still running, and only then does the store close, so no background work
// finds the PostgreSQL pool closed.
//
// # Extending it
//
// A new piece of wiring goes into the file of the server it belongs to: a
// constructor taking what it needs from the graph (fx parameters) and
// returning what it builds, added with fx.Provide in that server's block of
// Options. A setting of an existing piece (say, a library option) is read in
// that piece's provider (provideLibraryOptions for the library). Whatever
// has behaviour of its own belongs in its package, with its tests there;
// this package only connects. extra options come last, so a caller can
// swap a piece: Issuers (the demo's local issuer), UseStore (a store filled
// beforehand), InProcessBus (a benchmark without Kafka) or WithLogger.
//
// Start, Stop and Run drive an *fx.App within its start and stop timeouts;
// ReconcileOnce is the scheduled-task form of the sync server.
package compose

// Package vidlib turns a Vimeo account into an in-app video library.
//
// vidlib mirrors a deeply nested Vimeo folder tree into PostgreSQL, shows each
// signed-in user (Google or Apple through Amazon Cognito) only what their role
// and profile allow, stays aligned with edits made directly in Vimeo, and adds
// what Vimeo lacks: ranking, analytics, an immutable audit log, Kafka events
// with dead-letter replay, an admin console and per-video HubSpot chat
// context.
//
// It is a library-first SDK with thin servers: every capability is a package
// you can import on its own, and the reference servers only compose them.
//
// # The packages
//
//	vimeo/               Vimeo API client: pagination, fields=, rate limits, retries,
//	                     circuit breaker, Walk (folder-tree traversal), Recent, webhooks
//	vimeo/vimeotest/     a faithful fake Vimeo API for tests and demos
//	provider/            one retry, rate-limit and circuit-breaker layer for outside APIs
//	tree/                the mirrored library: Folder, Video, Snapshot, Diff, Mirror, Store
//	tree/vimeosource/    tree.Source over the Vimeo client (the one mapping of Vimeo records)
//	tree/changeevents/   the mirror's change events, written to the outbox with each change
//	entitle/             entitlement rules (public and teaser ones too), the compiled
//	                     visibility index, explain, preview
//	auth/                OIDC token verification (Cognito, Google, Apple) → principals
//	auth/authtest/       a local Cognito-shaped issuer with a hosted sign-in page
//	library/             the read service over an atomically swapped in-memory snapshot,
//	                     with search over an in-memory index of it
//	analytics/           playback events, session tokens, sessioniser, aggregates, resume
//	rank/                ranked feeds with reasons, only from what a user may see; rankeval/
//	audit/               audit records, the hash chain, verification, the Recorder
//	events/              event envelope, topics, Publisher/Subscriber, outbox relay,
//	                     retry, dead-letter and dedup middleware, replay
//	events/kafkabus/     Kafka implementation (segmentio/kafka-go)
//	events/membus/       in-process implementation (the embedded default)
//	store/pgstore/       PostgreSQL: embedded migrations and repositories
//	store/memstore/      the same contracts in memory
//	store/redisstore/    Redis: version pub/sub, ranked feeds, opt-in page cache, admin broadcast
//	store/storetest/     conformance suites every store implementation passes
//	servers/api/         the read API (chi)
//	servers/syncworker/  webhook intake, polling, reconciliation, outbox relay, consumers
//	servers/consumers/   the analytics and audit consumers and the ranking pipeline
//	servers/admin/       the admin service, its JSON API and (console/) its web console
//	servers/ops/         logs, metrics, tracing, health, the HTTP server lifecycle
//	servers/config/      every setting, as flags and VIDLIB_* variables
//	servers/compose/     the one composition of the servers, from a Config
//	servers/demo/        `vidlib demo`: every server on embedded defaults, with fakes
//	cmd/vidlib/          the one binary: settings in, servers/compose (or servers/demo) out
//	internal/testenv/    where tests get PostgreSQL, Redis and a Kafka broker
//
// ARCHITECTURE.md in the repository describes the flows between them.
//
// # Embedding
//
// Each package has a plain constructor, New(required…, *Options), whose nil
// options are valid. Interfaces are declared where they are used, with only
// the methods used (tree.Store, auth.UserStore, entitle.RuleStore), so an
// application can supply its own implementation or use pgstore or memstore:
//
//	st, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), nil)
//	if err != nil { … }
//	if _, err := st.Migrate(ctx); err != nil { … }
//	snap, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
//	fmt.Println(snap.Len())
//
// The rules that never bend: Vimeo is never called on a user's read path;
// authorisation is decided in the backend every time and defaults to deny; a
// partial traversal never deletes; nothing accepted is lost and nothing is
// applied twice; every outbound call is budgeted; bad input gets a clear error
// and changes nothing.
package vidlib

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
//	vimeo/              Vimeo API client: pagination, fields=, rate limits, retries,
//	                    circuit breaker, Walk (folder-tree traversal), Recent, webhooks
//	vimeo/vimeotest/    a faithful fake Vimeo API for tests and demos
//	tree/               the mirrored library: Folder, Video, Placement, Snapshot, Store
//	entitle/            entitlement rules and the compiled visibility index
//	auth/               OIDC token verification (Cognito, Google, Apple) → users
//	events/             event envelope, topics, Publisher/Subscriber, outbox relay,
//	                    retry, dead-letter and dedup middleware
//	events/kafkabus/    Kafka implementation (segmentio/kafka-go)
//	events/membus/      in-process implementation (the embedded default)
//	store/pgstore/      PostgreSQL: embedded migrations and repositories
//	store/memstore/     the same contracts in memory
//	store/redisstore/   Redis: versioned caches, ranked feeds, version pub/sub
//	store/storetest/    conformance suites every store implementation passes
//	internal/testenv/   where tests get PostgreSQL, Redis and a Kafka broker
//
// Later packages (library, rank, analytics, audit, hubspot, servers/*,
// cmd/vidlib) follow the map in the design document.
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

// Package events is vidlib's event backbone: the envelope every event travels
// in, the topic names, small Publisher and Subscriber interfaces with two
// implementations (events/kafkabus on Kafka, events/membus in process), the
// handler middleware that makes consumers reliable (retry, dead letter, dedup,
// panic recovery, tracing, metrics), the transactional outbox relay, and the
// admin's dead-letter replay. It imports no other vidlib package; stores
// implement its small store interfaces (store/pgstore, store/memstore).
//
// The rule it serves (ARCHITECTURE.md §1.5): every accepted event is durable before
// we answer, processed at least once, applied at most once, and what cannot be
// processed goes to a dead letter, visible and replayable, never dropped.
//
// # Envelope
//
// An Event has an id (UUIDv7, the idempotency key), a type, a source, a
// subject, a time, a partition key, JSON data and a W3C traceparent. It is
// encoded as JSON with a version field ("v": 1). Decode rejects anything else —
// not JSON, a missing or newer version, a field that breaks a rule — with a
// *ValidationError (errors.Is ErrInvalid) naming every problem. New fills the
// id, time and trace (the traceparent the context carries). Event.Message
// copies the trace into the traceparent header; a tracing publisher
// (servers/ops) replaces the header with the span of each publish, and the
// Trace middleware prefers the header, falling back to the envelope.
//
// # Topics
//
// The eight topics of the specification are constants, plus
// deadletters.audit, which vidlib adds so failed audit events have a home of
// their own. DeadLetterTopic maps a topic to its dead-letter topic: vimeo.* →
// deadletters.vimeo, analytics.* and ranking.* → deadletters.analytics,
// audit.* → deadletters.audit.
//
// # Publishing and consuming
//
// Publisher.Publish returns once the broker has stored every message (Kafka:
// acks=all). Subscriber.Subscribe consumes as one member of a consumer group
// and blocks until its context ends. Delivery is at least once: an offset is
// committed only after the handler returned nil for that message and every
// earlier one of its partition. Messages with the same key are handled one at
// a time, in order; different keys concurrently, up to Subscription.MaxInFlight.
// A handler error means "not processed": the bus hands the same message again
// after a growing delay, before any later message of its key. A plain
// cancellation stops cleanly (drain, commit, leave); cancelling with the cause
// ErrAbort stops like a crash (nothing more committed). Both buses pass the
// same conformance suite, events/eventstest.
//
// # Reliable handlers
//
// Build a handler with Chain, outermost first:
//
//	dlq, _ := events.DeadLetterQueue(events.DeadLetterOptions{Publisher: bus, Store: store})
//	h := events.Chain(handle,
//		events.Observe(metrics), // final outcome, duration, lag
//		events.Trace(nil),       // continue the producer's trace
//		dlq,                     // set aside what keeps failing, then move on
//		events.Retry(events.RetryPolicy{}), // 5 attempts, exponential backoff with jitter
//		events.Recover(),        // a panic is a failure like any other
//	)
//
// and make it idempotent: ProcessOnce runs the handler's PostgreSQL writes and
// the processed_events record in one transaction (exactly once in effect);
// Dedup does the same around handlers that write elsewhere, with a window in
// which a crash repeats the handler. The key is the event id, or a derived key
// (ProviderEventKey: provider + object id + event type + source time).
// A consumer of a topic shared with events it does not handle puts
// OnlyTypes(its types…) right inside Observe: the others are passed over
// (OutcomeSkipped) before any dedup record, retry or span.
// Retry does not retry permanent errors (Permanent, or anything wrapping
// ErrInvalid): bad input goes to its dead letter at once, with the reason, and
// never blocks its partition. DeadLetterQueue records the letter (topic,
// event id, error, attempts, first and last failure, payload) and publishes the
// message to the dead-letter topic; if either fails, the handler fails and the
// message comes back: nothing is dropped.
//
// # Dead letters and replay
//
// A Replayer lists dead letters (newest first, by cursor), shows one, replays
// it (re-publishes the unchanged payload to its original topic with a
// replay-count header; same event id, so consumers still deduplicate), marks
// it ignored, or annotates it. Every action is audited: by default an
// AdminAction event on audit.events. A DeadLetterCounter counts letters by
// status (the open-dead-letters gauge); Observe reports each message
// dead-lettered (OutcomeDeadLettered), for a counter.
//
// The admin searches dead letters and provider events with a DeadLetterQuery
// or a ProviderEventQuery (DeadLetterSearcher); a store's listings by
// DeadLetterFilter and ProviderEventFilter are those searches narrowed
// (ListThrough). Filters and queries check their status, time range and page
// by the same rules.
//
// # Outbox
//
// A writer that changes PostgreSQL and must announce it writes an outbox row in
// the same transaction (tree.Tx.EnqueueOutbox, Enqueue, OutboxWriter). A Relay
// claims unsent rows, publishes them and marks them sent. Several relays may
// run at once (one per instance, for availability: with keys shared across
// batches a second relay adds little throughput — one relay moved about 70,000
// rows/s on PostgreSQL in BenchmarkOutboxRelay). The store's claim takes up to a batch of
// unsent rows in id order with FOR UPDATE SKIP LOCKED, and hands out only
// those that no older unsent row of the same key precedes outside the batch —
// a row another relay holds, or one past the batch. So two relays never hold
// rows of one key at the same time, and a key's rows are published in id
// order; rows without a key have no order. (SKIP LOCKED alone would let a
// second relay publish a key's newer row while the first still holds its older
// one.) A relay that dies after publishing and before marking leaves its rows
// to be published again: at least once. If a batch fails, the relay publishes
// row by row so that one bad row does not hold back other keys; the rows of a
// key behind a failed row wait. Per-key order assumes that writers of one key
// do not commit out of id order, which holds when they serialise on the row
// they change (a mirror transaction does), and that the broker does not store
// a later message of a key after failing an earlier one of the same Publish:
// kafka-go has no idempotent producer, so a batch that fails after all its
// retries while a later batch of the same partition succeeds can put the later
// event first (rare; consumers that need strict order compare the outbox-id
// header or their own version). Backlog is the unsent count, the
// metric to alert on; RelayOptions.Backlog reports it periodically.
//
// # Errors
//
// ErrInvalid (*ValidationError) for bad input, which changes nothing;
// ErrNotFound; ErrConflict for a state change that is not allowed; ErrClosed;
// ErrAbort as a cancellation cause. Handler failures after Retry are
// *HandlerError; a recovered panic is *PanicError.
//
// # Concurrency
//
// Everything here is safe for concurrent use. Middleware keeps per-message
// state on the *Message, which one goroutine handles at a time.
package events

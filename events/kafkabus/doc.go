// Package kafkabus implements events.Publisher and events.Subscriber on Kafka
// with github.com/segmentio/kafka-go.
//
// # Producing
//
// One kafka.Writer per Bus: RequiredAcks all, Kafka's murmur2 partitioner on
// the message key (a key always lands in the same partition as with Java or
// librdkafka producers), batches of up to BatchSize messages that wait at
// most BatchTimeout (2 ms: a single Publish costs about that), retried up to
// MaxAttempts times with backoff. kafka-go has no idempotent producer, so a
// retry after a lost acknowledgement can store a message twice; consumers
// deduplicate by event id (events.ProcessOnce, events.Dedup), which is what
// "idempotent retries" means here. Publish returns only when every message is
// acknowledged, or an error.
//
// # Consuming
//
// Each Subscribe call is a member of a kafka-go ConsumerGroup. For every
// generation it reads each assigned partition with its own reader, from the
// group's committed offset (the earliest offset for a new group), and hands
// the messages to a dispatcher shared with events/membus: one handler at a time
// per key and in order, at most MaxInFlight messages outstanding (which also
// bounds how far a partition runs ahead of a slow message), a failed message
// handed again before anything after it on its key. Offsets are committed
// manually, every CommitInterval, up to the end of each partition's finished
// prefix — never past a message whose handler has not returned nil. When the
// generation ends (a rebalance) or the subscription stops, the readers stop,
// the handlers in flight get DrainTimeout to finish, and the finished prefix is
// committed with the generation that owns it before the member rejoins; the
// next owner starts right after it. A commit the broker refuses (the member
// was evicted) only means some messages are delivered again. Cancelling the
// context with the cause events.ErrAbort skips the drain and the final commit,
// as a crash would.
//
// # Topics
//
// Provision creates the topics (Options.Topics, default events.Topics()) with
// Options.Partitions and a retention each, ignoring topics that exist; call it
// at start-up where the deployment lets the application create topics.
// TopicPrefix namespaces topics and groups on the wire (tests, shared
// clusters); handlers and dead letters see logical names.
//
// # Settings that matter
//
// The broker refuses sessions shorter than its group.min.session.timeout.ms
// (6 s by default) and kafka-go then hangs silently in the join: keep
// SessionTimeout ≥ 6 s unless the broker allows less (testenv's kfake allows
// 100 ms). DrainTimeout must be shorter than RebalanceTimeout. MaxWait bounds
// an idle fetch (100 ms). The bus uses a kafka.Transport of its own, never the
// shared DefaultTransport, whose pooled connections go stale when a broker
// restarts.
//
// # Errors and concurrency
//
// Bad messages and subscriptions are events.ErrInvalid and publish nothing;
// after Close, events.ErrClosed. Broker errors are wrapped as they come. A Bus
// is safe for concurrent use; Close stops subscriptions cleanly, then flushes
// the producer.
package kafkabus

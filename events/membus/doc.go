// Package membus is an in-process events.Publisher and events.Subscriber with
// Kafka's semantics, the embedded default when vidlib runs without Kafka (one
// process: demo, tests, small deployments).
//
// Topics are created on first use with Options.Partitions partitions; a keyed
// message goes to the partition its FNV-1a hash selects, others round-robin.
// Consumer groups share a topic's partitions among their members and keep
// committed offsets; a new group starts at the beginning. Membership changes
// rebalance eagerly: every member stops fetching, drains its handlers in flight
// (up to DrainTimeout), commits, and only then does anyone start on the new
// assignment, so a partition is never handled by two members at once. Handling
// goes through the same dispatcher as events/kafkabus (ordered per key, bounded
// in flight, at least once, commit only past finished prefixes); finished
// offsets are committed as soon as they advance. Cancelling Subscribe's context
// with the cause events.ErrAbort stops without a final commit, like a crash.
// Both pass the same conformance suite (events/eventstest). Lag reports a
// group's uncommitted messages per partition with the signature of
// kafkabus.Bus.Lag, so the consumer-lag metric reads either bus.
//
// The bus is memory only: messages live as long as the Bus, or until
// Options.Retention drops them (then, as with Kafka's retention, a group that
// had not consumed them skips them), and are gone when the process ends.
// Without Retention memory grows with every message published. Durability across restarts needs Kafka, or the transactional outbox in
// front of the bus (events.Relay), which keeps unsent events in PostgreSQL.
//
// Errors: events.ErrInvalid for bad messages or subscriptions (nothing is
// published), events.ErrClosed after Close. A Bus is safe for concurrent use.
package membus

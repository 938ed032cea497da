// Package dispatch is the consumer engine both buses share: it takes the
// messages a bus fetches, in partition order, runs the handler on them with at
// most MaxInFlight outstanding, one at a time per key and in order, redelivers
// a message whose handler failed, and tells the bus how far each partition may
// be committed (the offset after the longest finished prefix).
//
// A Dispatcher lives for one consumer-group generation: the bus creates it when
// partitions are assigned, stops submitting when they are revoked, drains it,
// commits its watermarks and throws it away.
//
// Concurrency: Submit may be called from one goroutine per partition; the
// other methods from any goroutine. Handlers run in goroutines of their own,
// one per key with work (plus one per unkeyed message).
package dispatch

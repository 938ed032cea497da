// Package eventstest is the conformance suite every events bus passes, like
// watermill's universal pub/sub tests and go-cloud's drivertest, plus small
// in-memory fakes for handler tests.
//
// Run takes a Harness whose New returns a bus on a namespace of its own for one
// test, and checks: round trip (value, key, headers, logical topic), bad input
// rejected, order per key under concurrency, the in-flight bound, redelivery
// after a handler error and after a panic, that a clean stop commits what it
// finished, redelivery after a crash before commit (ErrAbort), rebalancing
// between members with per-key order kept, dedup, dead-lettering after N
// failed attempts and of undecodable input (without blocking the partition),
// replay of a dead letter with its audit event, and no loss across a broker
// restart (when the harness can restart its broker). Tests run in parallel.
//
// RunCrash is the exactly-once-in-effect test against a real store: n events,
// a consumer killed mid-batch, a restarted one, and the counts asserted in the
// store's database.
//
// Deduper and DeadLetters are in-memory implementations of events.Deduper,
// events.TxDeduper[struct{}] and events.DeadLetterStore for tests; production
// code uses store/pgstore or store/memstore.
//
// This is test support: production code must not import it.
package eventstest

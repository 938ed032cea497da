// Package storetest holds the conformance suites that every implementation of
// vidlib's store contracts passes: tree.Store (the mirror and its sync runs;
// TestContentFeed for its change feed, tree.ContentFeed),
// auth.UserStore, entitle.RuleStore and the events stores. store/memstore runs
// them always; store/pgstore runs them on a real PostgreSQL from
// internal/testenv. A new store implementation calls each Test* function from
// its own tests with a constructor that returns a fresh, empty store.
//
// The suites assert behaviour, not implementation: round trips, deep subtree
// moves, soft delete and restore, unique violations reported as the owning
// package's sentinel errors, concurrent upserts of one Vimeo id, version bumps,
// pagination order, and that a failed transaction leaves the store as it was.
//
// This is test support: production code must not import it (depguard enforces
// that).
package storetest

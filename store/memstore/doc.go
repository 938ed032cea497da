// Package memstore implements vidlib's store contracts in memory: the mirrored
// tree (tree.Store), users (auth.UserStore), entitlement rules
// (entitle.RuleStore), sync runs and the events stores. It is the embedded
// default for demos and fast tests and passes the same store/storetest suites
// as store/pgstore, so code written against one behaves the same on the other.
//
// A tree Update works on a copy of the state and swaps it in only when its
// function succeeds, so a failed transaction keeps nothing, as in PostgreSQL.
// The copy costs time proportional to the mirror's size (milliseconds at
// 100,000 videos): fine for demos and tests, not meant for a production
// write load. Times are stored as PostgreSQL stores them (UTC, microseconds).
//
// A Store is safe for concurrent use. Nothing survives the process.
package memstore

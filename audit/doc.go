// Package audit is vidlib's audit log: the Record every producer writes (who
// did what to which object, with what outcome), the closed list of audited
// Actions, the hash chain that makes the stored log tamper-evident, its
// verification, and the Recorder producers write through. It holds no server
// code: servers/consumers appends records, store/pgstore and store/memstore
// keep them, `vidlib audit verify` checks them.
//
// # Writing records
//
// A Recorder completes a Record (a fresh UUIDv7 ID, the time now), validates
// it (Record.Validate: known actor kind, action and outcome, printable ids,
// at most 64 details) and writes one events envelope of type EventType to
// topic audit.events, keyed by the object so one object's records keep their
// order. With RecorderOptions.Outbox the record goes to the store's outbox
// (durable when Record returns, published by the relay); with Publisher it
// is published at once. RecordTx (and Enqueue) write into the outbox of a
// transaction the caller holds, so that a change and its record commit
// together or not at all: entitlement rule changes use it
// (entitle.AuditedRuleStore), and so do the mirror's moves and deletions.
// The existing producers keep their small auditor interfaces (auth.Auditor,
// entitle.Auditor, events.ReplayOptions.Audit, library.Auditor); adapt.go is
// the one place they become Records (Recorder.Logins, RuleChanges,
// DeadLetterActions, Access). Access decisions are sampled (AccessOptions).
// A sign-in seen by two instances gets the same ID (DerivedID), so it is
// stored once.
//
// # The chain
//
// Records are appended in the order the consumer stores them; Seq numbers
// them densely from 1. Each record's Hash is SHA-256(PrevHash ||
// Canonical(record)), PrevHash being the previous record's Hash (empty for
// the first). Canonical is a fixed binary encoding: a version prefix, then
// id, time (UTC microseconds, what PostgreSQL keeps), actor kind, actor id,
// action, object kind, object id, outcome, request id, trace id and the
// details sorted by key, every string length-prefixed. It is frozen: a
// different encoding needs a new prefix.
//
// Verify (and Verifier, for a stream) walks the chain in Seq order and
// reports the first broken link: a record whose content no longer matches its
// hash, or that was rewritten with a new hash its successor does not link to
// (BreakModified); a gap in Seq (BreakDeleted); an intact record whose
// predecessor stands later (BreakReordered); a record its successor skips
// (BreakInserted); a chain that ends before the latest checkpoint or the
// writer's head (BreakTruncated); a checkpoint that does not match, or is not
// signed by the expected key (BreakCheckpoint); and, read after the walk,
// records beyond the writer's recorded head (BreakInserted).
//
// Checkpoints record (Seq, Hash, Time) of the head, written periodically by
// the consumer and optionally signed with Ed25519. What a hash chain cannot
// show alone: records forged and correctly hashed after the last record a
// verifier trusts when the forger also moves the writer's head, and a log
// rewritten from some point on together with its unsigned checkpoints.
// Signed checkpoints kept elsewhere (the consumer logs each one) bound both.
//
// # Errors and concurrency
//
// Invalid records, queries and checkpoints are a *ValidationError wrapping
// ErrInvalid; the consumer dead-letters such a record (deadletters.audit).
// Recorder and the adapters are safe for concurrent use; Chain and Verifier
// are not.
package audit

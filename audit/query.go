package audit

import (
	"context"

	"github.com/vidlib/vidlib/internal/text"
)

// Query limits.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Normalize validates q and sets the default limit.
func (q Query) Normalize() (Query, error) {
	p := problems{what: "query"}
	if q.ActorKind != "" && !q.ActorKind.Valid() {
		p.add("actor_kind", "unknown kind %q", text.Clip(string(q.ActorKind)))
	}
	if q.Action != "" && !q.Action.Valid() {
		p.add("action", "unknown action %q", text.Clip(string(q.Action)))
	}
	for f, v := range map[string]string{"actor_id": q.ActorID, "object_kind": q.ObjectKind, "object_id": q.ObjectID} {
		if !text.Printable(v, MaxIDLen) {
			p.add(f, "must be printable UTF-8 of at most %d bytes", MaxIDLen)
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		p.add("to", "must be after from")
	}
	if q.Before < 0 {
		p.add("before", "must not be negative")
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 0 || q.Limit > MaxLimit:
		p.add("limit", "must be between 1 and %d, got %d", MaxLimit, q.Limit)
	}
	return q, p.err()
}

// Match reports whether a stored record satisfies q's filters (the cursor
// and limit aside): the reference semantics of Search, used by memstore.
func (q Query) Match(r Record) bool {
	switch {
	case q.ActorKind != "" && r.ActorKind != q.ActorKind,
		q.ActorID != "" && r.ActorID != q.ActorID,
		q.Action != "" && r.Action != q.Action,
		q.ObjectKind != "" && r.ObjectKind != q.ObjectKind,
		q.ObjectID != "" && r.ObjectID != q.ObjectID,
		!q.From.IsZero() && r.Time.Before(q.From),
		!q.To.IsZero() && !r.Time.Before(q.To):
		return false
	}
	return true
}

// PageOf makes a page of items found newest first with limit: when the page
// is full, Next is the Seq of its last item.
func PageOf(items []Record, limit int) Page {
	p := Page{Items: items}
	if len(items) == limit && limit > 0 {
		p.Next = items[len(items)-1].Seq
	}
	return p
}

// Appender appends records to the stored chain (store/pgstore,
// store/memstore): the audit consumer's store.
type Appender interface {
	// AppendAudit links recs after the chain head in the order given and
	// stores them atomically, skipping records whose ID is already stored
	// (or repeated in recs). It returns the records appended, linked. Two
	// concurrent calls append one after the other.
	AppendAudit(ctx context.Context, recs []Record) ([]Record, error)
}

// CheckpointWriter stores checkpoints of the chain head.
type CheckpointWriter interface {
	WriteAuditCheckpoint(ctx context.Context, cp Checkpoint) error
}

// Store is everything the audit consumer and the verifier need of a store.
type Store interface {
	Appender
	CheckpointWriter
	ChainReader
	Searcher
}

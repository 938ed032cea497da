package events

import (
	"context"
	"time"

	"github.com/vidlib/vidlib/internal/text"
)

// ProviderEventStatus is where a provider event stands.
type ProviderEventStatus string

// Provider event statuses.
const (
	ProviderEventReceived  ProviderEventStatus = "received"
	ProviderEventProcessed ProviderEventStatus = "processed"
	ProviderEventFailed    ProviderEventStatus = "failed"
	ProviderEventIgnored   ProviderEventStatus = "ignored"
)

// Valid reports whether s is a known status.
func (s ProviderEventStatus) Valid() bool {
	switch s {
	case ProviderEventReceived, ProviderEventProcessed, ProviderEventFailed, ProviderEventIgnored:
		return true
	}
	return false
}

// ProviderEvent is a raw event received from a provider (a verified Vimeo
// webhook, a reconciliation observation), stored before it is acknowledged.
// (Provider, EventKey) is unique: the provider's event id where it has one,
// else ProviderEventKey(provider, object id, event type, source timestamp).
type ProviderEvent struct {
	ID              int64
	Provider        string // "vimeo"
	EventKey        string // "" on input: derived with ProviderEventKey
	EventType       string // "video.updated", …
	ObjectID        string // the provider's id of the object concerned
	SourceTimestamp time.Time
	Payload         []byte // the raw body
	ReceivedAt      time.Time
	Status          ProviderEventStatus
	ProcessedAt     time.Time
	Error           string
}

// Normalize validates e for RecordProviderEvent and derives an empty EventKey.
func (e ProviderEvent) Normalize() (ProviderEvent, error) {
	p := problems{what: "provider event"}
	if e.Provider == "" || !text.Printable(e.Provider, 64) {
		p.add("provider", "is required: printable UTF-8 of at most 64 bytes")
	}
	if e.EventType == "" || !text.Printable(e.EventType, 128) {
		p.add("event_type", "is required: printable UTF-8 of at most 128 bytes")
	}
	if !text.Printable(e.ObjectID, 256) {
		p.add("object_id", "must be printable UTF-8 of at most 256 bytes")
	}
	if len(e.Payload) == 0 {
		p.add("payload", "is required")
	}
	if e.EventKey == "" {
		if e.ObjectID == "" || e.SourceTimestamp.IsZero() {
			p.add("event_key", "is required when object_id or source_timestamp is missing (it cannot be derived)")
		} else {
			e.EventKey = ProviderEventKey(e.Provider, e.ObjectID, e.EventType, e.SourceTimestamp)
		}
	}
	if !text.Printable(e.EventKey, 512) {
		p.add("event_key", "must be printable UTF-8 of at most 512 bytes")
	}
	return e, p.err()
}

// ProviderEventFilter selects provider events for ListProviderEvents.
type ProviderEventFilter struct {
	Provider string              // "" for any
	Status   ProviderEventStatus // "" for any
	Before   int64               // cursor: only events with ID < Before (0: from the newest)
	Limit    int                 // 1…1000 (0: 50)
}

// Query is the search that selects what f does (no type, text or time
// range): the stores list through their search.
func (f ProviderEventFilter) Query() ProviderEventQuery {
	return ProviderEventQuery{Provider: f.Provider, Status: f.Status, Before: f.Before, Limit: f.Limit}
}

// Normalize validates f and sets the default limit.
func (f ProviderEventFilter) Normalize() (ProviderEventFilter, error) {
	p := problems{what: "provider event filter"}
	f.Limit = checkListing(&p, f.Status, time.Time{}, time.Time{}, f.Before, f.Limit)
	return f, p.err()
}

// ProviderEventStore keeps raw provider events (the provider_events table).
// Implementations: store/pgstore, store/memstore.
type ProviderEventStore interface {
	// RecordProviderEvent stores e (status received) unless an event with the
	// same provider and key exists; then it returns that one and duplicate is
	// true — a duplicate is not an error. Bad input is a *ValidationError.
	RecordProviderEvent(ctx context.Context, e ProviderEvent) (stored ProviderEvent, duplicate bool, err error)
	// GetProviderEvent returns one event (ErrNotFound).
	GetProviderEvent(ctx context.Context, id int64) (ProviderEvent, error)
	// ListProviderEvents returns events newest first (by ID, descending).
	ListProviderEvents(ctx context.Context, f ProviderEventFilter) ([]ProviderEvent, error)
	// MarkProviderEventProcessed sets a received or failed event to processed
	// (a processed one is left as it is: repeating is harmless). ErrNotFound;
	// ErrConflict for an ignored event.
	MarkProviderEventProcessed(ctx context.Context, id int64) error
	// MarkProviderEventFailed sets a received or failed event to failed with
	// the reason (ErrNotFound; ErrConflict for a processed or ignored event).
	MarkProviderEventFailed(ctx context.Context, id int64, reason string) error
}

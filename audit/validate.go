package audit

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/vidlib/vidlib/internal/text"
)

// Limits of a record.
const (
	MaxIDLen         = 256 // actor and object ids, object kinds
	MaxRequestIDLen  = 128
	MaxDetails       = 64   // keys
	MaxDetailKeyLen  = 64   // bytes
	MaxDetailValue   = 4096 // bytes of one value
	maxObjectKindLen = 64
)

var validActions = func() map[Action]bool {
	m := make(map[Action]bool, len(Actions))
	for _, a := range Actions {
		m[a] = true
	}
	return m
}()

// Valid reports whether a is one of Actions.
func (a Action) Valid() bool { return validActions[a] }

// Valid reports whether k is a known actor kind.
func (k ActorKind) Valid() bool {
	switch k {
	case ActorUser, ActorAdmin, ActorSystem, ActorProvider:
		return true
	}
	return false
}

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return o == OutcomeOK || o == OutcomeDenied || o == OutcomeError }

// Normalize returns r with Time in UTC truncated to the microsecond (what
// PostgreSQL keeps, and what the hash covers) and empty Details as nil.
func (r Record) Normalize() Record {
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	if len(r.Details) == 0 {
		r.Details = nil
	}
	return r
}

// Validate checks a record as a producer hands it over (Seq, PrevHash and
// Hash are ignored) and returns a *ValidationError listing every problem, or
// nil. Every string must be valid UTF-8 without NUL (PostgreSQL stores
// neither); identifiers are printable.
func (r Record) Validate() error {
	p := problems{what: "record"}
	if id, err := uuid.Parse(r.ID); err != nil || id.String() != r.ID {
		p.add("id", "must be a UUID in canonical lower-case form, got %q", text.Clip(r.ID))
	}
	if r.Time.IsZero() {
		p.add("time", "is required")
	} else if y := r.Time.UTC().Year(); y < 2000 || y > 9999 {
		p.add("time", "year %d is out of range", y)
	}
	if !r.ActorKind.Valid() {
		p.add("actor_kind", "unknown kind %q", text.Clip(string(r.ActorKind)))
	}
	if r.ActorID == "" || !text.Printable(r.ActorID, MaxIDLen) {
		p.add("actor_id", "is required: printable UTF-8 of at most %d bytes", MaxIDLen)
	}
	if !r.Action.Valid() {
		p.add("action", "unknown action %q", text.Clip(string(r.Action)))
	}
	if r.ObjectKind == "" || !text.Printable(r.ObjectKind, maxObjectKindLen) || strings.Contains(r.ObjectKind, ":") {
		p.add("object_kind", "is required: printable, without ':', at most %d bytes", maxObjectKindLen)
	}
	if !text.Printable(r.ObjectID, MaxIDLen) {
		p.add("object_id", "must be printable UTF-8 of at most %d bytes", MaxIDLen)
	}
	if !r.Outcome.Valid() {
		p.add("outcome", "unknown outcome %q", text.Clip(string(r.Outcome)))
	}
	if !text.Printable(r.RequestID, MaxRequestIDLen) {
		p.add("request_id", "must be printable UTF-8 of at most %d bytes", MaxRequestIDLen)
	}
	if !text.Printable(r.TraceID, MaxRequestIDLen) {
		p.add("trace_id", "must be printable UTF-8 of at most %d bytes", MaxRequestIDLen)
	}
	if len(r.Details) > MaxDetails {
		p.add("details", "at most %d keys, got %d", MaxDetails, len(r.Details))
	}
	for k, v := range r.Details {
		if k == "" || !text.Printable(k, MaxDetailKeyLen) {
			p.add("details", "key %q: must be printable, 1 to %d bytes", text.Clip(k), MaxDetailKeyLen)
		}
		if len(v) > MaxDetailValue || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			p.add("details", "value of %q: must be UTF-8 without NUL, at most %d bytes", text.Clip(k), MaxDetailValue)
		}
	}
	return p.err()
}

// DetailValue makes any string a valid detail value: valid UTF-8 (invalid
// bytes replaced), without NUL, cut to MaxDetailValue bytes on a rune
// boundary. Producers pass text they do not control (titles, error
// messages) through it, so that an odd byte cannot fail the action it
// audits.
func DetailValue(s string) string {
	return text.Cut(strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", ""), MaxDetailValue)
}

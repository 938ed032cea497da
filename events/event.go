package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/vidlib/vidlib/internal/text"
)

// Version is the envelope version this package writes (the "v" field). Decode
// accepts exactly this version; an envelope from a newer producer is invalid
// here and goes to a dead letter, to be replayed after an upgrade.
const Version = 1

// Limits of an envelope.
const (
	MaxEventSize  = 1 << 20 // encoded bytes; Kafka's default message.max.bytes
	maxTypeLen    = 128
	maxSourceLen  = 256
	maxSubjectLen = 512
	maxKeyLen     = 512
)

// Event is the envelope every vidlib event travels in, whatever the topic.
//
// ID is a UUIDv7 (time-ordered) and the idempotency key consumers deduplicate
// by. Key is the partition key: events with the same key are delivered in the
// order they were published (use the id of the entity that needs ordering: a
// video id, a user id). Data is the type-specific payload, JSON. Trace is a W3C
// traceparent, carried so a consumer continues the producer's trace.
type Event struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`              // "analytics.heartbeat", "vimeo.video.updated", …
	Source  string          `json:"source"`            // who produced it: "vidlib/api", "vidlib/syncworker"
	Subject string          `json:"subject,omitempty"` // what it is about: "video:123"
	Time    time.Time       `json:"time"`              // when it happened
	Key     string          `json:"key,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	Trace   string          `json:"trace,omitempty"`
}

// wire is the JSON form: the envelope plus its version.
type wire struct {
	V int `json:"v"`
	Event
}

// New completes and validates an event: an empty ID gets a fresh UUIDv7, a zero
// Time the current time (UTC), an empty Trace the traceparent carried by ctx
// (ContextWithTraceParent), and a non-nil data is encoded as JSON into Data.
func New(ctx context.Context, e Event, data any) (Event, error) {
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return Event{}, fmt.Errorf("events: new id: %w", err)
		}
		e.ID = id.String()
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if e.Trace == "" {
		e.Trace = TraceParent(ctx)
	}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return Event{}, Invalid("event", "data", "cannot encode as JSON: %v", err)
		}
		e.Data = b
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

var (
	typeRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*([.-][a-z0-9_]+)*$`)
	traceRE = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)
)

// Validate checks the envelope and returns a *ValidationError (wrapping
// ErrInvalid) listing every problem, or nil.
func (e Event) Validate() error {
	p := problems{what: "event"}
	if id, err := uuid.Parse(e.ID); err != nil || id.Version() != 7 || id.String() != e.ID {
		p.add("id", "must be a UUIDv7 in canonical lower-case form, got %q", text.Clip(e.ID))
	}
	switch {
	case e.Type == "":
		p.add("type", "is required")
	case len(e.Type) > maxTypeLen || !typeRE.MatchString(e.Type):
		p.add("type", "must be lower-case dotted words (a-z, 0-9, _), at most %d bytes, got %q", maxTypeLen, text.Clip(e.Type))
	}
	switch {
	case e.Source == "":
		p.add("source", "is required")
	case !text.Printable(e.Source, maxSourceLen):
		p.add("source", "must be printable UTF-8 of at most %d bytes", maxSourceLen)
	}
	if !text.Printable(e.Subject, maxSubjectLen) {
		p.add("subject", "must be printable UTF-8 of at most %d bytes", maxSubjectLen)
	}
	if !text.Printable(e.Key, maxKeyLen) {
		p.add("key", "must be printable UTF-8 of at most %d bytes", maxKeyLen)
	}
	if e.Time.IsZero() {
		p.add("time", "is required")
	} else if y := e.Time.Year(); y < 2000 || y > 9999 {
		p.add("time", "year %d is out of range", y)
	}
	if len(e.Data) > 0 && !json.Valid(e.Data) {
		p.add("data", "is not valid JSON")
	}
	if e.Trace != "" && !validTraceParent(e.Trace) {
		p.add("trace", "must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>), got %q", text.Clip(e.Trace))
	}
	return p.err()
}

// Marshal validates the event and encodes it with its version field.
func (e Event) Marshal() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(wire{V: Version, Event: e})
	if err != nil {
		return nil, Invalid("event", "data", "cannot encode: %v", err)
	}
	if len(b) > MaxEventSize {
		return nil, Invalid("event", "data", "encoded event is %d bytes, the limit is %d", len(b), MaxEventSize)
	}
	return b, nil
}

// Decode parses and validates an encoded event. Every failure is a
// *ValidationError wrapping ErrInvalid, naming what is wrong.
func Decode(b []byte) (Event, error) {
	if len(b) > MaxEventSize {
		return Event{}, Invalid("event", "envelope", "%d bytes, the limit is %d", len(b), MaxEventSize)
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		return Event{}, Invalid("event", "envelope", "not a JSON event: %v", err)
	}
	if dec.More() {
		return Event{}, Invalid("event", "envelope", "trailing data after the JSON object")
	}
	switch {
	case w.V == 0:
		return Event{}, Invalid("event", "v", "version field is missing")
	case w.V != Version:
		return Event{}, Invalid("event", "v", "version %d is not supported (this build reads %d)", w.V, Version)
	}
	if err := w.Validate(); err != nil {
		return Event{}, err
	}
	return w.Event, nil
}

// DecodeData unmarshals the event's Data into v. A failure wraps ErrInvalid.
func (e Event) DecodeData(v any) error {
	if len(e.Data) == 0 {
		return Invalid("event", "data", "is empty")
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return Invalid("event", "data", "%v", err)
	}
	return nil
}

// Message encodes the event into a message for topic, keyed by the event's Key,
// with the event id, type and traceparent also in headers (so tools can route
// or trace without decoding).
func (e Event) Message(topic string) (Message, error) {
	b, err := e.Marshal()
	if err != nil {
		return Message{}, err
	}
	h := map[string]string{HeaderEventID: e.ID, HeaderEventType: e.Type}
	if e.Trace != "" {
		h[HeaderTraceParent] = e.Trace
	}
	return Message{Topic: topic, Key: e.Key, Value: b, Headers: h}, nil
}

func validTraceParent(s string) bool {
	m := traceRE.FindStringSubmatch(s)
	if m == nil || m[1] == "ff" {
		return false
	}
	return m[2] != "00000000000000000000000000000000" && m[3] != "0000000000000000"
}

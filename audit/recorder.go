package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/vidlib/vidlib/events"
)

// EventType is the type of every audit event on events.TopicAudit: its Data
// is one Record (without Seq, PrevHash and Hash), its ID the record's ID.
const EventType = "audit.record"

// NewID returns a fresh record id (a UUIDv7).
func NewID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("audit: new id: %w", err)
	}
	return id.String(), nil
}

// DerivedID returns a record id that is the same for the same key and time,
// on every instance: a UUIDv7 whose timestamp is t and whose random bits come
// from SHA-256(key). Producers that may record one action twice (a sign-in
// seen by two instances) use it so the consumer keeps one record.
func DerivedID(key string, t time.Time) string {
	sum := sha256.Sum256([]byte(key))
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(u[0:6], ts[2:8])
	copy(u[6:], sum[:10])
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // RFC 4122 variant
	return u.String()
}

// Complete fills what a producer may leave out (a fresh ID, the time now),
// normalises the record and validates it.
func Complete(r Record, now time.Time) (Record, error) {
	if r.ID == "" {
		id, err := NewID()
		if err != nil {
			return Record{}, err
		}
		r.ID = id
	}
	if r.Time.IsZero() {
		r.Time = now
	}
	r.Seq, r.PrevHash, r.Hash = 0, nil, nil
	r = r.Normalize()
	return r, r.Validate()
}

// Event returns the envelope of a completed record, from source. Its Key is
// the object ("kind:id"), so that the records of one object keep their order.
func Event(ctx context.Context, source string, r Record) (events.Event, error) {
	r.Seq, r.PrevHash, r.Hash = 0, nil, nil
	subject := r.ObjectKind + ":" + r.ObjectID
	e, err := events.New(ctx, events.Event{ID: eventID(r.ID), Type: EventType, Source: source, Subject: subject,
		Key: subject, Time: r.Time}, r)
	if err != nil {
		return events.Event{}, fmt.Errorf("audit: event of %s: %w", r.ID, err)
	}
	return e, nil
}

// eventID is the envelope id of a record: the record id when it is a UUIDv7
// (always, for ids from NewID and DerivedID), else a fresh one.
func eventID(id string) string {
	if u, err := uuid.Parse(id); err == nil && u.Version() == 7 {
		return id
	}
	return ""
}

// FromEvent decodes and validates the record an audit event carries. Any
// failure wraps ErrInvalid (and events.ErrInvalid for a bad envelope): it will
// not improve with retries.
//
// An events.Replayer without an Audit hook publishes its own event type
// (events.AuditEventType, data events.AdminAction); FromEvent converts it, with
// the envelope's id and time, so that no admin action is lost whichever way
// the Replayer was built.
func FromEvent(e events.Event) (Record, error) {
	var r Record
	switch e.Type {
	case EventType:
		if err := json.Unmarshal(e.Data, &r); err != nil {
			return Record{}, &ValidationError{What: "event", Problems: []string{"data: " + err.Error()}}
		}
	case events.AuditEventType:
		var a events.AdminAction
		if err := json.Unmarshal(e.Data, &a); err != nil {
			return Record{}, &ValidationError{What: "event", Problems: []string{"data: " + err.Error()}}
		}
		r = FromDeadLetterAction(a)
		r.ID, r.Time = e.ID, e.Time
	default:
		return Record{}, &ValidationError{What: "event", Problems: []string{fmt.Sprintf("type: %q is not %q", e.Type, EventType)}}
	}
	r.Seq, r.PrevHash, r.Hash = 0, nil, nil
	r = r.Normalize()
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// Enqueue completes r and writes its event to w's outbox for audit.events:
// durable exactly when the transaction behind w commits. It is how a change
// and its audit record are made atomic.
func Enqueue(ctx context.Context, w events.OutboxWriter, source string, r Record) (Record, error) {
	return enqueue(ctx, w, source, r, time.Now())
}

func enqueue(ctx context.Context, w events.OutboxWriter, source string, r Record, now time.Time) (Record, error) {
	r, err := Complete(r, now)
	if err != nil {
		return Record{}, err
	}
	e, err := Event(ctx, source, r)
	if err != nil {
		return Record{}, err
	}
	if err := events.Enqueue(ctx, w, events.TopicAudit, e); err != nil {
		return Record{}, fmt.Errorf("audit: enqueue %s %s: %w", r.Action, r.ID, err)
	}
	return r, nil
}

// RecorderOptions configure a Recorder. Exactly one of Outbox and Publisher
// is required.
type RecorderOptions struct {
	// Source names the producer in the envelope (default "vidlib").
	Source string
	// Outbox, if set, receives every record (the store's own outbox: durable
	// when Record returns, published by the relay).
	Outbox events.OutboxWriter
	// Publisher, if set, publishes every record at once (durable when the bus
	// acknowledged it).
	Publisher events.Publisher
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Recorder is what every producer uses to write an audit record. Record is
// durable when it returns nil; RecordTx writes into a transaction's outbox
// instead, so that a change and its record commit together. It is safe for
// concurrent use.
type Recorder struct {
	source string
	outbox events.OutboxWriter
	pub    events.Publisher
	now    func() time.Time
}

// NewRecorder returns a Recorder.
func NewRecorder(opts *RecorderOptions) (*Recorder, error) {
	if opts == nil {
		opts = &RecorderOptions{}
	}
	if (opts.Outbox == nil) == (opts.Publisher == nil) {
		return nil, fmt.Errorf("%w: a Recorder needs exactly one of Outbox and Publisher", ErrInvalid)
	}
	r := &Recorder{source: opts.Source, outbox: opts.Outbox, pub: opts.Publisher, now: opts.Now}
	if r.source == "" {
		r.source = "vidlib"
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r, nil
}

// Record completes rec (ID, Time), validates it and writes it durably.
func (r *Recorder) Record(ctx context.Context, rec Record) error {
	if r.outbox != nil {
		_, err := r.RecordTx(ctx, r.outbox, rec)
		return err
	}
	rec, err := Complete(rec, r.now())
	if err != nil {
		return err
	}
	e, err := Event(ctx, r.source, rec)
	if err != nil {
		return err
	}
	if err := events.PublishEvents(ctx, r.pub, events.TopicAudit, e); err != nil {
		return fmt.Errorf("audit: publish %s %s: %w", rec.Action, rec.ID, err)
	}
	return nil
}

// RecordTx completes rec and writes it into w, the outbox of the caller's
// open transaction (a tree.Tx, a pgx transaction adapter, a store): the
// record is durable when, and only if, that transaction commits. It returns
// the completed record.
func (r *Recorder) RecordTx(ctx context.Context, w events.OutboxWriter, rec Record) (Record, error) {
	return enqueue(ctx, w, r.source, rec, r.now())
}

// Source returns the producer name the recorder writes.
func (r *Recorder) Source() string { return r.source }

package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/internal/text"
)

// DeadLetterStatus is where a dead letter stands.
type DeadLetterStatus string

// Dead letter statuses. A new failure of the same event puts a replayed or
// ignored letter back to open.
const (
	DeadLetterOpen     DeadLetterStatus = "open"     // waiting for an admin
	DeadLetterReplayed DeadLetterStatus = "replayed" // re-published to its topic
	DeadLetterIgnored  DeadLetterStatus = "ignored"  // an admin decided to drop it
)

// Valid reports whether s is a known status.
func (s DeadLetterStatus) Valid() bool {
	return s == DeadLetterOpen || s == DeadLetterReplayed || s == DeadLetterIgnored
}

// Limits of dead letter fields.
const (
	MaxDeadLetterError = 8 << 10 // bytes kept of an error message
	MaxNote            = 4 << 10 // bytes of an admin note
)

// DeadLetter is a message that could not be processed: what it was, why it
// failed, and what an admin did about it. The pair (Topic, EventID) is unique:
// a new failure of the same event updates the existing letter.
type DeadLetter struct {
	ID            int64
	EventID       string // the envelope id, or "sha256:<hex of the payload>" when Value is not an event
	Topic         string // where the message was consumed from (replay publishes back there)
	DeadTopic     string // where it was dead-lettered to ("" when recorded in the table only)
	Key           string
	Payload       []byte
	Error         string
	Attempts      int // handler attempts, summed over every failure of this event
	FirstFailedAt time.Time
	LastFailedAt  time.Time
	Status        DeadLetterStatus
	Note          string
	ReplayCount   int
	ReplayedAt    time.Time // zero until replayed
}

// Validate checks a dead letter before RecordDeadLetter.
func (d *DeadLetter) Validate() error {
	p := problems{what: "dead letter"}
	if d.EventID == "" {
		p.add("event_id", "is required")
	} else if !text.Printable(d.EventID, 256) {
		p.add("event_id", "must be printable UTF-8 of at most 256 bytes")
	}
	if d.Topic == "" {
		p.add("topic", "is required")
	}
	if d.Payload == nil {
		p.add("payload", "is required (it may be empty, not absent)")
	}
	if d.Error == "" {
		p.add("error", "is required")
	} else if !utf8.ValidString(d.Error) {
		p.add("error", "must be UTF-8")
	}
	if d.Attempts < 1 {
		p.add("attempts", "must be at least 1, got %d", d.Attempts)
	}
	if !d.FirstFailedAt.IsZero() && !d.LastFailedAt.IsZero() && d.LastFailedAt.Before(d.FirstFailedAt) {
		p.add("last_failed_at", "is before first_failed_at")
	}
	return p.err()
}

// DeadLetterFilter selects dead letters for ListDeadLetters.
type DeadLetterFilter struct {
	Status  DeadLetterStatus // "" for any
	Topic   string           // the original topic; "" for any
	EventID string           // one event's letters (admin "replay event X"); "" for any
	Before  int64            // cursor: only letters with ID < Before (0: from the newest)
	Limit   int              // 1…1000 (0: 50)
}

// Query is the search that selects what f does (no text, no time range):
// the stores list through their search.
func (f DeadLetterFilter) Query() DeadLetterQuery {
	return DeadLetterQuery{Status: f.Status, Topic: f.Topic, EventID: f.EventID, Before: f.Before, Limit: f.Limit}
}

// Normalize validates f and sets the default limit.
func (f DeadLetterFilter) Normalize() (DeadLetterFilter, error) {
	p := problems{what: "dead letter filter"}
	f.Limit = checkListing(&p, f.Status, time.Time{}, time.Time{}, f.Before, f.Limit)
	return f, p.err()
}

// DeadLetterStore keeps dead letters (the dead_letters table). Implementations:
// store/pgstore and store/memstore; both pass store/storetest.TestDeadLetters.
type DeadLetterStore interface {
	// RecordDeadLetter inserts a letter, or, when (Topic, EventID) exists,
	// adds d.Attempts to its attempts, keeps the earliest first failure and the
	// latest last failure, replaces error, payload, key and dead topic, and
	// sets it open again. Zero failure times mean now. It returns the stored
	// letter. Bad input is a *ValidationError and nothing is written.
	RecordDeadLetter(ctx context.Context, d DeadLetter) (DeadLetter, error)
	// ListDeadLetters returns letters newest first (by ID, descending).
	ListDeadLetters(ctx context.Context, f DeadLetterFilter) ([]DeadLetter, error)
	// GetDeadLetter returns one letter (ErrNotFound).
	GetDeadLetter(ctx context.Context, id int64) (DeadLetter, error)
	// MarkDeadLetterReplayed sets an open or ignored letter to replayed,
	// increments its replay count and sets ReplayedAt (ErrNotFound; ErrConflict
	// when it is already replayed).
	MarkDeadLetterReplayed(ctx context.Context, id int64) (DeadLetter, error)
	// MarkDeadLetterIgnored sets an open letter to ignored, with a note if not
	// empty (ErrNotFound; ErrConflict unless open).
	MarkDeadLetterIgnored(ctx context.Context, id int64, note string) (DeadLetter, error)
	// AnnotateDeadLetter replaces the letter's note (ErrNotFound).
	AnnotateDeadLetter(ctx context.Context, id int64, note string) (DeadLetter, error)
}

// DeadLetterCounter counts dead letters, for the open-dead-letters gauge and
// the admin dashboard. store/pgstore and store/memstore implement it; both
// pass store/storetest.TestDeadLetterCount.
type DeadLetterCounter interface {
	// CountDeadLetters returns how many letters are in status ("" for any).
	// An unknown status is a *ValidationError.
	CountDeadLetters(ctx context.Context, status DeadLetterStatus) (int64, error)
}

// ValidateNote checks an admin note.
func ValidateNote(note string) error {
	if len(note) > MaxNote || !utf8.ValidString(note) {
		return Invalid("dead letter", "note", "must be UTF-8 of at most %d bytes", MaxNote)
	}
	return nil
}

// DeadLetterOptions configure the DeadLetterQueue middleware. At least one of
// Publisher and Store is required; with both, the letter is recorded in the
// store first (the admin's view) and then published to the dead-letter topic.
type DeadLetterOptions struct {
	Publisher Publisher       // publishes to the dead-letter topic; nil: table only
	Store     DeadLetterStore // records the letter; nil: topic only
	// Topic maps a topic to its dead-letter topic (nil: DeadLetterTopic). An
	// empty result means "record in the store only".
	Topic  func(topic string) string
	Logger *zap.Logger
}

// DeadLetterQueue sets aside a message whose handler failed for good (after Retry,
// or at once for a permanent error): it records a dead letter with the error,
// the attempts and the payload, publishes the message unchanged to the
// dead-letter topic with the failure in headers, and returns nil so the
// partition moves on. If recording or publishing fails it returns that error
// and the bus delivers the message again: nothing is dropped. A failure caused
// by the context ending (shutdown) is returned as is, never dead-lettered.
func DeadLetterQueue(opts DeadLetterOptions) (Middleware, error) {
	if opts.Publisher == nil && opts.Store == nil {
		return nil, fmt.Errorf("%w: DeadLetterOptions needs a Publisher or a Store", ErrInvalid)
	}
	topicOf := opts.Topic
	if topicOf == nil {
		topicOf = DeadLetterTopic
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("events")
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) error {
			err := next(ctx, m)
			if err == nil {
				return nil
			}
			if ctx.Err() != nil {
				return err
			}
			now := time.Now().UTC()
			d := DeadLetter{
				EventID: EventIDOf(m), Topic: m.Topic, DeadTopic: topicOf(m.Topic), Key: m.Key,
				Payload: append([]byte{}, m.Value...), Error: text.Cut(err.Error(), MaxDeadLetterError),
				Attempts: 1, FirstFailedAt: now, LastFailedAt: now,
			}
			var he *HandlerError
			if errors.As(err, &he) {
				d.Attempts = max(he.Attempts, 1)
				d.FirstFailedAt, d.LastFailedAt = he.FirstFailure.UTC(), he.LastFailure.UTC()
			}
			if opts.Store != nil {
				if _, serr := opts.Store.RecordDeadLetter(ctx, d); serr != nil {
					return fmt.Errorf("events: record dead letter of %s: %w (handler error: %v)", m.Topic, serr, err)
				}
			}
			if opts.Publisher != nil && d.DeadTopic != "" {
				if perr := opts.Publisher.Publish(ctx, deadMessage(m, d)); perr != nil {
					return fmt.Errorf("events: publish dead letter to %s: %w (handler error: %v)", d.DeadTopic, perr, err)
				}
			}
			m.outcome = OutcomeDeadLettered
			log.Warn("message dead-lettered",
				zap.String("topic", m.Topic), zap.Int("partition", m.Partition), zap.Int64("offset", m.Offset),
				zap.String("event_id", d.EventID), zap.Int("attempts", d.Attempts), zap.Error(err))
			return nil
		}
	}, nil
}

// deadMessage is m as published to the dead-letter topic.
func deadMessage(m *Message, d DeadLetter) Message {
	h := make(map[string]string, len(m.Headers)+8)
	for k, v := range m.Headers {
		h[k] = v
	}
	h[HeaderDeadError] = text.Cut(d.Error, 1024)
	h[HeaderDeadAttempts] = strconv.Itoa(d.Attempts)
	h[HeaderDeadTopic] = m.Topic
	h[HeaderDeadPartition] = strconv.Itoa(m.Partition)
	h[HeaderDeadOffset] = strconv.FormatInt(m.Offset, 10)
	h[HeaderDeadFirstFailed] = d.FirstFailedAt.Format(time.RFC3339Nano)
	h[HeaderDeadLastFailed] = d.LastFailedAt.Format(time.RFC3339Nano)
	h[HeaderDeadEventID] = d.EventID
	return Message{Topic: d.DeadTopic, Key: m.Key, Value: m.Value, Headers: h}
}

// EventIDOf returns the id that identifies m's event for dead letters: the
// envelope id when Value decodes, else a syntactically valid "id" field of a
// JSON object (a valid UUID), else "sha256:" and the hex SHA-256 of Value, so
// that the same bad payload always maps to the same letter.
func EventIDOf(m *Message) string {
	if e, err := m.Event(); err == nil {
		return e.ID
	}
	var probe struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(m.Value, &probe) == nil {
		if u, err := uuid.Parse(probe.ID); err == nil && u.String() == probe.ID {
			return probe.ID
		}
	}
	sum := sha256.Sum256(m.Value)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// The state changes of a dead letter, shared by the stores that keep dead
// letters in memory (pgstore makes the same changes in SQL).

// FillFailureTimes sets d's zero failure times to now: what RecordDeadLetter
// does before it stores a letter (the SQL store too).
func (d *DeadLetter) FillFailureTimes(now time.Time) {
	if d.FirstFailedAt.IsZero() {
		d.FirstFailedAt = now
	}
	if d.LastFailedAt.IsZero() {
		d.LastFailedAt = now
	}
}

// MarkFailedAgain folds f, a new failure of the event d holds (same topic
// and event id), into d as RecordDeadLetter does: f's attempts add up, the
// earliest first and the latest last failure are kept, f's error, payload
// (copied), key and dead topic replace d's, and d is open again.
func (d *DeadLetter) MarkFailedAgain(f DeadLetter) {
	d.DeadTopic, d.Key, d.Payload, d.Error = f.DeadTopic, f.Key, slices.Clone(f.Payload), f.Error
	d.Attempts += f.Attempts
	if f.FirstFailedAt.Before(d.FirstFailedAt) {
		d.FirstFailedAt = f.FirstFailedAt
	}
	if f.LastFailedAt.After(d.LastFailedAt) {
		d.LastFailedAt = f.LastFailedAt
	}
	d.Status = DeadLetterOpen
}

// MarkReplayed records one more replay of d at now; a letter already
// replayed (and not failed again since) is ErrConflict.
func (d *DeadLetter) MarkReplayed(now time.Time) error {
	if d.Status == DeadLetterReplayed {
		return fmt.Errorf("%w: cannot replay dead letter %d: it is %s", ErrConflict, d.ID, d.Status)
	}
	d.Status = DeadLetterReplayed
	d.ReplayCount++
	d.ReplayedAt = now
	return nil
}

// MarkIgnored ignores an open d, with note when it is not empty; a letter
// that is not open is ErrConflict, a bad note ErrInvalid (ValidateNote).
func (d *DeadLetter) MarkIgnored(note string) error {
	if err := ValidateNote(note); err != nil {
		return err
	}
	if d.Status != DeadLetterOpen {
		return fmt.Errorf("%w: cannot ignore dead letter %d: it is %s", ErrConflict, d.ID, d.Status)
	}
	d.Status = DeadLetterIgnored
	if note != "" {
		d.Note = note
	}
	return nil
}

// Annotate replaces d's note; a bad note is ErrInvalid (ValidateNote).
func (d *DeadLetter) Annotate(note string) error {
	if err := ValidateNote(note); err != nil {
		return err
	}
	d.Note = note
	return nil
}

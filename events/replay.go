package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/internal/text"
)

// AdminAction is an audited admin decision about a dead letter. Its JSON form
// is the Data of the audit event the Replayer publishes to audit.events (event
// type AuditEventType), with the field names of the audit_logs table.
type AdminAction struct {
	Actor   string         `json:"actor"`
	Action  string         `json:"action"` // "dead_letter.replay", "dead_letter.ignore", "dead_letter.annotate"
	Target  string         `json:"target"` // "dead_letter:<id>"
	Outcome string         `json:"outcome"`
	Details map[string]any `json:"details,omitempty"`
}

// Admin actions on dead letters.
const (
	ActionReplay   = "dead_letter.replay"
	ActionIgnore   = "dead_letter.ignore"
	ActionAnnotate = "dead_letter.annotate"

	// AuditEventType is the type of the audit events the Replayer publishes.
	AuditEventType = "audit.admin_action"
)

// ReplayOptions configure a Replayer. The zero value is valid.
type ReplayOptions struct {
	// Source of the audit events (0: "vidlib/events").
	Source string
	// Audit records an admin action. nil: publish an event of type
	// AuditEventType to TopicAudit with the Replayer's publisher.
	Audit  func(ctx context.Context, a AdminAction) error
	Logger *zap.Logger
}

// Replayer is the admin's handle on dead letters: list, inspect, replay,
// ignore, annotate. Every change is audited. It is safe for concurrent use.
type Replayer struct {
	store  DeadLetterStore
	pub    Publisher
	source string
	audit  func(ctx context.Context, a AdminAction) error
	log    *zap.Logger
}

// NewReplayer returns a Replayer over store that re-publishes with pub.
func NewReplayer(store DeadLetterStore, pub Publisher, opts *ReplayOptions) (*Replayer, error) {
	if store == nil || pub == nil {
		return nil, fmt.Errorf("%w: NewReplayer needs a store and a publisher", ErrInvalid)
	}
	if opts == nil {
		opts = &ReplayOptions{}
	}
	r := &Replayer{store: store, pub: pub, source: opts.Source, audit: opts.Audit, log: opts.Logger}
	if r.source == "" {
		r.source = "vidlib/events"
	}
	if r.log == nil {
		r.log = zap.NewNop()
	}
	r.log = r.log.Named("events")
	if r.audit == nil {
		r.audit = r.publishAudit
	}
	return r, nil
}

// DeadLetterPage is one page of dead letters, newest first. Next is the
// Before cursor of the following page, 0 when this is the last page.
type DeadLetterPage struct {
	Items []DeadLetter
	Next  int64
}

// List returns one page of dead letters matching f.
func (r *Replayer) List(ctx context.Context, f DeadLetterFilter) (DeadLetterPage, error) {
	f, err := f.Normalize()
	if err != nil {
		return DeadLetterPage{}, err
	}
	items, err := r.store.ListDeadLetters(ctx, f)
	if err != nil {
		return DeadLetterPage{}, err
	}
	page := DeadLetterPage{Items: items}
	if len(items) == f.Limit {
		page.Next = items[len(items)-1].ID
	}
	return page, nil
}

// Get returns one dead letter with its payload (ErrNotFound).
func (r *Replayer) Get(ctx context.Context, id int64) (DeadLetter, error) {
	return r.store.GetDeadLetter(ctx, id)
}

// Replay publishes the letter's payload, unchanged and with its key, to its
// original topic, with the replay-count header set to the new replay count, and
// then marks it replayed; the consumer handles it as a new delivery (its
// attempts start again from one; if it fails again the same letter is
// reopened with the attempts added). A letter already replayed is ErrConflict.
// Two admins replaying at once may publish it twice; consumers deduplicate by
// event id.
func (r *Replayer) Replay(ctx context.Context, id int64, actor string) (DeadLetter, error) {
	if err := validActor(actor); err != nil {
		return DeadLetter{}, err
	}
	d, err := r.store.GetDeadLetter(ctx, id)
	if err != nil {
		return DeadLetter{}, err
	}
	if d.Status == DeadLetterReplayed {
		return DeadLetter{}, fmt.Errorf("%w: dead letter %d is already replayed", ErrConflict, id)
	}
	m := Message{
		Topic: d.Topic, Key: d.Key, Value: d.Payload,
		Headers: map[string]string{HeaderReplay: strconv.Itoa(d.ReplayCount + 1)},
	}
	if err := r.pub.Publish(ctx, m); err != nil {
		if aerr := r.record(ctx, actor, ActionReplay, d, "error", map[string]any{"error": err.Error()}); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return DeadLetter{}, fmt.Errorf("events: replay dead letter %d to %s: %w", id, d.Topic, err)
	}
	d, err = r.store.MarkDeadLetterReplayed(ctx, id)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("events: dead letter %d was re-published but not marked replayed: %w", id, err)
	}
	return d, r.record(ctx, actor, ActionReplay, d, "ok", map[string]any{"replay_count": d.ReplayCount})
}

// Ignore marks an open letter ignored, with a note (ErrConflict unless open).
func (r *Replayer) Ignore(ctx context.Context, id int64, actor, note string) (DeadLetter, error) {
	if err := errors.Join(validActor(actor), ValidateNote(note)); err != nil {
		return DeadLetter{}, err
	}
	d, err := r.store.MarkDeadLetterIgnored(ctx, id, note)
	if err != nil {
		return DeadLetter{}, err
	}
	return d, r.record(ctx, actor, ActionIgnore, d, "ok", map[string]any{"note": note})
}

// Annotate replaces the letter's note.
func (r *Replayer) Annotate(ctx context.Context, id int64, actor, note string) (DeadLetter, error) {
	if err := errors.Join(validActor(actor), ValidateNote(note)); err != nil {
		return DeadLetter{}, err
	}
	d, err := r.store.AnnotateDeadLetter(ctx, id, note)
	if err != nil {
		return DeadLetter{}, err
	}
	return d, r.record(ctx, actor, ActionAnnotate, d, "ok", map[string]any{"note": note})
}

// record audits an action. The action itself has happened; an audit failure
// is returned so the admin sees it, and logged.
func (r *Replayer) record(ctx context.Context, actor, action string, d DeadLetter, outcome string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	details["topic"] = d.Topic
	details["event_id"] = d.EventID
	details["status"] = string(d.Status)
	a := AdminAction{
		Actor: actor, Action: action, Target: "dead_letter:" + strconv.FormatInt(d.ID, 10),
		Outcome: outcome, Details: details,
	}
	if err := r.audit(ctx, a); err != nil {
		r.log.Error("admin action done but not audited", zap.String("action", action),
			zap.String("target", a.Target), zap.String("actor", actor), zap.Error(err))
		return fmt.Errorf("events: %s on %s done, but the audit record failed: %w", action, a.Target, err)
	}
	return nil
}

func (r *Replayer) publishAudit(ctx context.Context, a AdminAction) error {
	e, err := New(ctx, Event{Type: AuditEventType, Source: r.source, Subject: a.Target, Key: a.Target}, a)
	if err != nil {
		return err
	}
	return PublishEvents(ctx, r.pub, TopicAudit, e)
}

func validActor(actor string) error {
	if actor == "" || !text.Printable(actor, 256) {
		return Invalid("admin action", "actor", "is required: printable UTF-8 of at most 256 bytes")
	}
	return nil
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
)

// DeadLetters lists dead letters, newest first.
func (s *Service) DeadLetters(ctx context.Context, q DeadLetterQuery) (Page[DeadLetter], error) {
	q, err := q.Normalize()
	if err != nil {
		return Page[DeadLetter]{}, err
	}
	ds, err := s.store.SearchDeadLetters(ctx, q)
	if err != nil {
		return Page[DeadLetter]{}, err
	}
	p := Page[DeadLetter]{Items: make([]DeadLetter, 0, len(ds))}
	for _, d := range ds {
		p.Items = append(p.Items, deadLetterOf(d))
	}
	if len(ds) > 0 {
		p.Next = next(ds[len(ds)-1].ID, len(ds), q.Limit)
	}
	return p, nil
}

// DeadLetter returns one dead letter with its payload and history (failures
// and every admin action, oldest first).
func (s *Service) DeadLetter(ctx context.Context, id int64) (DeadLetter, error) {
	d, err := s.store.GetDeadLetter(ctx, id)
	if err != nil {
		return DeadLetter{}, err
	}
	out := deadLetterOf(d)
	out.Payload = RawJSON(d.Payload)
	if out.History, err = s.store.DeadLetterHistory(ctx, id); err != nil {
		return DeadLetter{}, err
	}
	if out.History == nil {
		out.History = []events.DeadLetterChange{}
	}
	return out, nil
}

func deadLetterOf(d events.DeadLetter) DeadLetter {
	return DeadLetter{
		ID: d.ID, EventID: d.EventID, Topic: d.Topic, DeadTopic: d.DeadTopic, Key: d.Key, Error: d.Error,
		Attempts: d.Attempts, FirstFailedAt: d.FirstFailedAt, LastFailedAt: d.LastFailedAt, Status: string(d.Status),
		Note: d.Note, ReplayCount: d.ReplayCount, ReplayedAt: d.ReplayedAt,
	}
}

func (s *Service) replayable() error {
	if s.replayer == nil {
		return unavailable("replay (no event publisher)")
	}
	return nil
}

// ReplayDeadLetter re-publishes an open dead letter to its topic. A letter
// that is not open is ErrConflict (409).
func (s *Service) ReplayDeadLetter(ctx context.Context, a Actor, id int64) (DeadLetter, error) {
	oid := strconv.FormatInt(id, 10)
	if err := s.replayable(); err != nil {
		return DeadLetter{}, err
	}
	d, err := s.store.GetDeadLetter(ctx, id)
	if err == nil && d.Status != events.DeadLetterOpen {
		err = fmt.Errorf("%w: dead letter %d is %s, not open", ErrConflict, id, d.Status)
	}
	if err == nil {
		d, err = s.replayer.Replay(ctx, id, a.ID)
	}
	if err := s.done(ctx, a, audit.ActionDeadLetterReplay, "dead_letter", oid, err, map[string]string{"topic": d.Topic, "event_id": d.EventID}); err != nil {
		return DeadLetter{}, err
	}
	return s.DeadLetter(ctx, id)
}

// ReplayEvent replays the open dead letters of one event: the spec's
// POST /admin/replay/{event_id}. event_id is the envelope id of the failed
// event (or a dead letter's numeric id). No letter: ErrNotFound; letters but
// none open: ErrConflict.
func (s *Service) ReplayEvent(ctx context.Context, a Actor, eventID string) ([]DeadLetter, error) {
	if eventID == "" || len(eventID) > 256 {
		return nil, invalid("event_id", "is required: at most 256 bytes")
	}
	if err := s.replayable(); err != nil {
		return nil, err
	}
	ds, err := s.store.SearchDeadLetters(ctx, events.DeadLetterQuery{EventID: eventID, Limit: 100})
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		if n, perr := strconv.ParseInt(eventID, 10, 64); perr == nil && n > 0 {
			d, err := s.ReplayDeadLetter(ctx, a, n)
			if err != nil {
				return nil, err
			}
			return []DeadLetter{d}, nil
		}
		err := fmt.Errorf("%w: no dead letter for event %s", ErrNotFound, eventID)
		return nil, s.done(ctx, a, audit.ActionDeadLetterReplay, "event", eventID, err, nil)
	}
	var out []DeadLetter
	var states []string
	for _, d := range ds {
		if d.Status != events.DeadLetterOpen {
			states = append(states, fmt.Sprintf("%d is %s", d.ID, d.Status))
			continue
		}
		r, err := s.ReplayDeadLetter(ctx, a, d.ID)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		err := fmt.Errorf("%w: no open dead letter for event %s (%s)", ErrConflict, eventID, strings.Join(states, ", "))
		return nil, s.done(ctx, a, audit.ActionDeadLetterReplay, "event", eventID, err, nil)
	}
	return out, nil
}

// IgnoreDeadLetter marks an open letter ignored with a note (ErrConflict
// unless open).
func (s *Service) IgnoreDeadLetter(ctx context.Context, a Actor, id int64, note string) (DeadLetter, error) {
	var err error
	if s.replayer != nil {
		_, err = s.replayer.Ignore(ctx, id, a.ID, note)
	} else if err = events.ValidateNote(note); err == nil {
		var d events.DeadLetter
		if d, err = s.store.MarkDeadLetterIgnored(ctx, id, note); err == nil {
			err = s.replayHistory(ctx, events.AdminAction{Actor: a.ID, Action: events.ActionIgnore,
				Target: "dead_letter:" + strconv.FormatInt(id, 10), Outcome: "ok", Details: map[string]any{"note": note, "status": string(d.Status)}})
		}
	}
	if err := s.done(ctx, a, audit.ActionDeadLetterIgnore, "dead_letter", strconv.FormatInt(id, 10), err, map[string]string{"note": note}); err != nil {
		return DeadLetter{}, err
	}
	return s.DeadLetter(ctx, id)
}

// AnnotateDeadLetter replaces a letter's note.
func (s *Service) AnnotateDeadLetter(ctx context.Context, a Actor, id int64, note string) (DeadLetter, error) {
	var err error
	if s.replayer != nil {
		_, err = s.replayer.Annotate(ctx, id, a.ID, note)
	} else if err = events.ValidateNote(note); err == nil {
		var d events.DeadLetter
		if d, err = s.store.AnnotateDeadLetter(ctx, id, note); err == nil {
			err = s.replayHistory(ctx, events.AdminAction{Actor: a.ID, Action: events.ActionAnnotate,
				Target: "dead_letter:" + strconv.FormatInt(id, 10), Outcome: "ok", Details: map[string]any{"note": note, "status": string(d.Status)}})
		}
	}
	if err := s.done(ctx, a, audit.ActionDeadLetterAnnotate, "dead_letter", strconv.FormatInt(id, 10), err, map[string]string{"note": note}); err != nil {
		return DeadLetter{}, err
	}
	return s.DeadLetter(ctx, id)
}

// replayHistory is the Replayer's audit hook: it appends the action to the
// letter's history (the audit record itself is written by the Service).
func (s *Service) replayHistory(ctx context.Context, act events.AdminAction) error {
	if act.Outcome != "ok" {
		return nil
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(act.Target, "dead_letter:"), 10, 64)
	if err != nil {
		return fmt.Errorf("admin: dead letter target %q: %w", act.Target, err)
	}
	c := events.DeadLetterChange{DeadLetterID: id, Time: s.opts.Now().UTC(), Kind: act.Action, Actor: act.Actor}
	if n, ok := act.Details["note"].(string); ok {
		c.Note = n
	}
	if st, ok := act.Details["status"].(string); ok {
		c.Status = st
	}
	if err := s.store.AddDeadLetterChange(ctx, c); err != nil && !errors.Is(err, events.ErrNotFound) {
		return err
	}
	return nil
}

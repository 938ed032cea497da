package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/internal/text"
	"github.com/vidlib/vidlib/tree"
)

// Service is the admin's logic, used by the JSON API and the web console
// alike. Every method that changes something takes the Actor and writes an
// audit record. It is safe for concurrent use.
type Service struct {
	store    Store
	opts     Options
	log      *zap.Logger
	replayer *events.Replayer // nil without a publisher
}

// New returns a Service over the store.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: New needs a store", ErrInvalid)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{store: store, opts: o, log: o.Logger}
	if o.Publisher != nil {
		// The Service audits dead-letter actions itself (with the request id):
		// the replayer's own audit hook only adds the history entry.
		s.replayer, err = events.NewReplayer(store, o.Publisher, &events.ReplayOptions{
			Source: "vidlib/admin", Audit: s.replayHistory, Logger: o.Logger,
		})
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Options returns the options in effect (defaults applied).
func (s *Service) Options() Options { return s.opts }

// record writes the audit record of an action. An action that happened but
// could not be audited is logged loudly and returned as an error.
func (s *Service) record(ctx context.Context, a Actor, action audit.Action, kind, id string, err error, details map[string]string) error {
	outcome := audit.OutcomeOK
	if err != nil {
		outcome = audit.OutcomeError
		st, _ := StatusOf(err)
		if st < 500 {
			outcome = audit.OutcomeDenied
		}
		if details == nil {
			details = map[string]string{}
		}
		details["error"] = err.Error()
	}
	for k, v := range details {
		details[k] = printable(v, 1024)
	}
	rec := audit.Record{
		ID: uuid.Must(uuid.NewV7()).String(), Time: s.opts.Now().UTC(),
		ActorKind: audit.ActorAdmin, ActorID: a.ID, Action: action, ObjectKind: kind, ObjectID: id,
		Outcome: outcome, RequestID: a.RequestID, Details: details,
	}
	if s.opts.Auditor == nil {
		s.log.Info("admin action", zap.String("actor", a.ID), zap.String("action", string(action)),
			zap.String("object", kind+":"+id), zap.String("outcome", string(outcome)), zap.String("request_id", a.RequestID))
		return nil
	}
	if aerr := s.opts.Auditor.Record(ctx, rec); aerr != nil {
		s.log.Error("admin action not audited", zap.String("action", string(action)), zap.String("object", kind+":"+id), zap.Error(aerr))
		return fmt.Errorf("admin: %s on %s:%s: the audit record failed: %w", action, kind, id, aerr)
	}
	return nil
}

// done audits the outcome of an action and returns its error (or the audit
// failure when the action succeeded).
func (s *Service) done(ctx context.Context, a Actor, action audit.Action, kind, id string, err error, details map[string]string) error {
	aerr := s.record(context.WithoutCancel(ctx), a, action, kind, id, err, details)
	if err != nil {
		return err
	}
	return aerr
}

func next(n int64, got, limit int) string {
	if got < limit || n <= 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// RawJSON is a payload: JSON as it is, anything else as a JSON string.
type RawJSON []byte

// MarshalJSON implements json.Marshaler.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	if json.Valid(r) {
		return r, nil
	}
	return json.Marshal(string(r))
}

// SyncRuns lists sync runs, newest first.
func (s *Service) SyncRuns(ctx context.Context, q SyncRunQuery) (Page[SyncRun], error) {
	switch q.Status {
	case "", tree.RunRunning, tree.RunOK, tree.RunHeld, tree.RunFailed:
	default:
		return Page[SyncRun]{}, invalid("status", "want running, ok, held or failed, got %q", q.Status)
	}
	if err := checkPage(q.Before, &q.Limit); err != nil {
		return Page[SyncRun]{}, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return Page[SyncRun]{}, invalid("to", "must be after from")
	}
	runs, err := s.store.SearchSyncRuns(ctx, q)
	if err != nil {
		return Page[SyncRun]{}, err
	}
	p := Page[SyncRun]{Items: make([]SyncRun, 0, len(runs))}
	for _, r := range runs {
		p.Items = append(p.Items, runOf(r))
	}
	if len(runs) > 0 {
		p.Next = next(runs[len(runs)-1].ID, len(runs), q.Limit)
	}
	return p, nil
}

// SyncRun returns one run with its recorded changes in words.
func (s *Service) SyncRun(ctx context.Context, id int64) (SyncRun, error) {
	r, err := s.store.SyncRun(ctx, id)
	if err != nil {
		return SyncRun{}, err
	}
	out := runOf(r)
	snap := s.snapshot()
	out.Changes = tree.DescribeAll(r.Changes, snap...)
	out.HeldChanges = tree.DescribeAll(r.HeldChanges, snap...)
	return out, nil
}

// snapshot is the loaded tree, for names and paths in words (none without
// a library).
func (s *Service) snapshot() []*tree.Snapshot {
	if s.opts.Library == nil {
		return nil
	}
	idx, err := s.opts.Library.Index()
	if err != nil {
		return nil
	}
	return []*tree.Snapshot{idx.Snapshot()}
}

func runOf(r tree.SyncRun) SyncRun {
	out := SyncRun{
		ID: r.ID, Trigger: r.Trigger, Status: tree.RunStatus(r), StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Complete: r.Complete, Held: r.Held, Counts: r.Counts, APICalls: r.APICalls, Errors: r.Errors,
		HeldStatus: string(r.HeldStatus), HeldBy: r.HeldBy, HeldDecidedAt: r.HeldDecidedAt, ChangesTotal: r.ChangesTotal,
	}
	if !r.FinishedAt.IsZero() {
		out.DurationMS = r.FinishedAt.Sub(r.StartedAt).Milliseconds()
	}
	if out.Counts == nil {
		out.Counts = map[string]int{}
	}
	if out.Errors == nil {
		out.Errors = []string{}
	}
	return out
}

func checkPage(before int64, limit *int) error {
	if before < 0 {
		return invalid("before", "must not be negative")
	}
	switch {
	case *limit == 0:
		*limit = 50
	case *limit < 0 || *limit > 1000:
		return invalid("limit", "must be between 1 and 1000, got %d", *limit)
	}
	return nil
}

// ProviderEvents lists webhook receipts, newest first.
func (s *Service) ProviderEvents(ctx context.Context, q ProviderEventQuery) (Page[ProviderEvent], error) {
	q, err := q.Normalize()
	if err != nil {
		return Page[ProviderEvent]{}, err
	}
	evs, err := s.store.SearchProviderEvents(ctx, q)
	if err != nil {
		return Page[ProviderEvent]{}, err
	}
	p := Page[ProviderEvent]{Items: make([]ProviderEvent, 0, len(evs))}
	for _, e := range evs {
		p.Items = append(p.Items, providerEventOf(e, false))
	}
	if len(evs) > 0 {
		p.Next = next(evs[len(evs)-1].ID, len(evs), q.Limit)
	}
	return p, nil
}

// ProviderEvent returns one receipt with its payload.
func (s *Service) ProviderEvent(ctx context.Context, id int64) (ProviderEvent, error) {
	e, err := s.store.GetProviderEvent(ctx, id)
	if err != nil {
		return ProviderEvent{}, err
	}
	return providerEventOf(e, true), nil
}

func providerEventOf(e events.ProviderEvent, payload bool) ProviderEvent {
	out := ProviderEvent{
		ID: e.ID, Provider: e.Provider, EventKey: e.EventKey, EventType: e.EventType, ObjectID: e.ObjectID,
		SourceTimestamp: e.SourceTimestamp, ReceivedAt: e.ReceivedAt, Status: string(e.Status),
		ProcessedAt: e.ProcessedAt, Error: e.Error,
	}
	if payload {
		out.Payload = RawJSON(e.Payload)
	}
	return out
}

// printable is s without control characters, cut to at most n bytes (on a
// rune boundary): audit details are printable text.
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	return text.Cut(s, n)
}

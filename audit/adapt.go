package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library"
)

// The producers of vidlib keep their own small auditor interfaces (so that
// auth, entitle, events and library need not import this package); this file
// is the one place where their records become Records.

// splitObject splits "kind:id" (the producers' object form); a bare string is
// a kind without id.
func splitObject(obj string) (kind, id string) {
	kind, id, _ = strings.Cut(obj, ":")
	return kind, id
}

// detailValues passes every value through DetailValue.
func detailValues(d map[string]string) map[string]string {
	if len(d) == 0 {
		return nil
	}
	out := make(map[string]string, len(d))
	for k, v := range d {
		out[k] = DetailValue(v)
	}
	return out
}

// FromLogin converts an auth sign-in record. A record with a Key gets a
// DerivedID from it, so that two instances auditing one sign-in store it
// once.
func FromLogin(a auth.AuditRecord) Record {
	r := Record{Time: a.Time, ActorKind: ActorUser, ActorID: a.Actor, Action: Action(a.Action),
		Outcome: OutcomeOK, Details: detailValues(a.Details)}
	r.ObjectKind, r.ObjectID = splitObject(a.Object)
	if a.Action == auth.ActionLoginRefused {
		r.Outcome = OutcomeDenied
	}
	if a.Key != "" && !a.Time.IsZero() {
		r.ID = DerivedID(a.Key, a.Time)
	}
	return r
}

// FromRuleChange converts an entitlement change record.
func FromRuleChange(a entitle.AuditRecord) Record {
	r := Record{Time: a.Time, ActorKind: ActorAdmin, ActorID: a.Actor, Action: Action(a.Action),
		Outcome: OutcomeOK, Details: detailValues(a.Details)}
	r.ObjectKind, r.ObjectID = splitObject(a.Object)
	return r
}

// FromDeadLetterAction converts a Replayer's admin action.
func FromDeadLetterAction(a events.AdminAction) Record {
	r := Record{ActorKind: ActorAdmin, ActorID: a.Actor, Action: Action(a.Action), Outcome: Outcome(a.Outcome)}
	r.ObjectKind, r.ObjectID = splitObject(a.Target)
	if len(a.Details) > 0 {
		r.Details = make(map[string]string, len(a.Details))
		for k, v := range a.Details {
			r.Details[k] = DetailValue(fmt.Sprint(v))
		}
	}
	return r
}

// FromAccess converts a library access decision.
func FromAccess(a library.AccessRecord) Record {
	r := Record{Time: a.Time, ActorKind: ActorUser, ActorID: a.UserID, Action: ActionAccessDecision,
		ObjectKind: "video", ObjectID: a.VideoID, Outcome: OutcomeOK, Details: map[string]string{"access": a.Action}}
	if !a.Allowed {
		r.Outcome = OutcomeDenied
	}
	if r.ActorID == "" {
		r.ActorID = "anonymous"
	}
	return r
}

// Logins returns the recorder as an auth.Auditor.
func (r *Recorder) Logins() auth.Auditor { return loginAuditor{r} }

type loginAuditor struct{ r *Recorder }

func (a loginAuditor) Record(ctx context.Context, rec auth.AuditRecord) error {
	return a.r.Record(ctx, FromLogin(rec))
}

// RuleChanges returns the recorder as an entitle.Auditor that is also an
// entitle.TxAuditor: with a store that supports it, entitle.Admin writes
// each rule change and its record in one transaction.
func (r *Recorder) RuleChanges() entitle.TxAuditor { return ruleAuditor{r} }

type ruleAuditor struct{ r *Recorder }

func (a ruleAuditor) Record(ctx context.Context, rec entitle.AuditRecord) error {
	return a.r.Record(ctx, FromRuleChange(rec))
}

func (a ruleAuditor) RecordTx(ctx context.Context, w entitle.OutboxWriter, rec entitle.AuditRecord) error {
	_, err := a.r.RecordTx(ctx, w, FromRuleChange(rec))
	return err
}

// DeadLetterActions returns the recorder as events.ReplayOptions.Audit.
func (r *Recorder) DeadLetterActions() func(ctx context.Context, a events.AdminAction) error {
	return func(ctx context.Context, a events.AdminAction) error { return r.Record(ctx, FromDeadLetterAction(a)) }
}

// AccessOptions configure the access-decision auditor.
type AccessOptions struct {
	// SampleRate is the share of allowed decisions recorded, in [0, 1] (0:
	// none). Denials are always recorded.
	SampleRate float64
	// sample replaces the random source in tests.
	sample func() float64
}

// Access returns the recorder as a library.Auditor (access decisions; off
// unless library.Options.Auditor is set to it).
func (r *Recorder) Access(opts *AccessOptions) (library.Auditor, error) {
	var o AccessOptions
	if opts != nil {
		o = *opts
	}
	if o.SampleRate < 0 || o.SampleRate > 1 {
		return nil, fmt.Errorf("%w: access sample rate %v is outside [0, 1]", ErrInvalid, o.SampleRate)
	}
	if o.sample == nil {
		o.sample = rand.Float64
	}
	return accessAuditor{r: r, o: o}, nil
}

type accessAuditor struct {
	r *Recorder
	o AccessOptions
}

func (a accessAuditor) RecordAccess(ctx context.Context, rec library.AccessRecord) error {
	if rec.Allowed && (a.o.SampleRate == 0 || a.o.sample() >= a.o.SampleRate) {
		return nil
	}
	return a.r.Record(ctx, FromAccess(rec))
}

// FromChatContext maps a generated chat context: the user, the video, the
// folder, the identification status and the token's expiry (never the
// token). Outcome is ok: the context was served, with or without a token.
func FromChatContext(c library.ChatRecord) Record {
	r := Record{Time: c.Time, ActorKind: ActorUser, ActorID: c.UserID, Action: ActionChatContext,
		ObjectKind: "video", ObjectID: c.VideoID, Outcome: OutcomeOK,
		Details: map[string]string{"identification": string(c.Status)}}
	if c.FolderID != "" {
		r.Details["folder_id"] = c.FolderID
	}
	if !c.ExpiresAt.IsZero() {
		r.Details["token_expires_at"] = c.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if c.Reason != "" {
		r.Details["reason"] = c.Reason
	}
	if r.ActorID == "" {
		r.ActorID = "anonymous"
	}
	return r
}

// ChatContexts returns the recorder as a library.ChatRecorder
// (library.ChatOptions.Audit): every generated chat context is audited.
func (r *Recorder) ChatContexts() library.ChatRecorder { return chatAuditor{r} }

type chatAuditor struct{ r *Recorder }

func (a chatAuditor) RecordChatContext(ctx context.Context, c library.ChatRecord) error {
	return a.r.Record(ctx, FromChatContext(c))
}

package audit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/store/memstore"
)

// outboxRecords relays the store's outbox and returns the audit records in
// it, in order.
func outboxRecords(t *testing.T, s *memstore.Store) []audit.Record {
	t.Helper()
	var out []audit.Record
	_, err := s.RelayOutbox(context.Background(), 1000, func(_ context.Context, batch []events.OutboxRecord) []error {
		for _, o := range batch {
			if o.Topic != events.TopicAudit {
				continue
			}
			e, err := events.Decode(o.Payload)
			require.NoError(t, err)
			r, err := audit.FromEvent(e)
			require.NoError(t, err)
			out = append(out, r)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func newRecorder(t *testing.T, s *memstore.Store) *audit.Recorder {
	t.Helper()
	r, err := audit.NewRecorder(&audit.RecorderOptions{Source: "vidlib/test", Outbox: s})
	require.NoError(t, err)
	return r
}

type fakeVerifier struct{}

func (fakeVerifier) Verify(_ context.Context, raw string) (*auth.Token, error) {
	if raw == "bad" {
		return nil, fmt.Errorf("%w: signature", auth.ErrInvalidToken)
	}
	return &auth.Token{Identity: auth.Identity{Issuer: "https://issuer", Subject: raw, Provider: "cognito"},
		Session: "s-" + raw, Use: auth.TokenUse("id"), IssuedAt: time.Now()}, nil
}

// disablingUsers reports the user of subject "disabled" as disabled.
type disablingUsers struct{ *memstore.Store }

func (d disablingUsers) ProvisionUser(ctx context.Context, id auth.Identity, tmpl auth.User) (auth.User, bool, error) {
	u, created, err := d.Store.ProvisionUser(ctx, id, tmpl)
	if id.Subject == "disabled" {
		u.DisabledAt = time.Now()
	}
	return u, created, err
}

// TestLoginsAreAudited: a sign-in (once per session), a refused token and a
// disabled user each produce their record, with actor and object right.
func TestLoginsAreAudited(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	svc, err := auth.New(fakeVerifier{}, disablingUsers{s}, newRecorder(t, s).Logins(), nil)
	require.NoError(t, err)
	p, err := svc.Authenticate(ctx, "alice")
	require.NoError(t, err)
	_, err = svc.Authenticate(ctx, "alice")
	require.NoError(t, err)
	_, err = svc.Authenticate(ctx, "bad")
	require.ErrorIs(t, err, auth.ErrInvalidToken)
	_, err = svc.Authenticate(ctx, "disabled")
	require.ErrorIs(t, err, auth.ErrUserDisabled)

	recs := outboxRecords(t, s)
	require.Len(t, recs, 3, "one sign-in, two refusals")
	login := recs[0]
	require.Equal(t, audit.ActionLogin, login.Action)
	require.Equal(t, audit.ActorUser, login.ActorKind)
	require.Equal(t, p.User.ID, login.ActorID)
	require.Equal(t, "user", login.ObjectKind)
	require.Equal(t, p.User.ID, login.ObjectID)
	require.Equal(t, audit.OutcomeOK, login.Outcome)
	require.Equal(t, "alice", login.Details["subject"])

	refused := recs[1]
	require.Equal(t, audit.ActionLoginRefused, refused.Action)
	require.Equal(t, "anonymous", refused.ActorID)
	require.Equal(t, "token", refused.ObjectKind)
	require.Equal(t, audit.OutcomeDenied, refused.Outcome)
	require.Contains(t, refused.Details["reason"], "signature")

	disabled := recs[2]
	require.Equal(t, audit.ActionLoginRefused, disabled.Action)
	require.NotEmpty(t, disabled.ActorID)
	require.Equal(t, "user", disabled.ObjectKind)
	require.Equal(t, disabled.ActorID, disabled.ObjectID)
	require.Equal(t, "user disabled", disabled.Details["reason"])
}

// failingTxAuditor fails every record written in a transaction.
type failingTxAuditor struct{ entitle.TxAuditor }

func (failingTxAuditor) RecordTx(context.Context, entitle.OutboxWriter, entitle.AuditRecord) error {
	return errors.New("audit refused")
}

// TestRuleChangesAreAuditedInTheSameTransaction: the rule and its record
// are written together; a record that cannot be written undoes the change.
func TestRuleChangesAreAuditedInTheSameTransaction(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	admin, err := entitle.NewAdmin(s, newRecorder(t, s).RuleChanges(), nil)
	require.NoError(t, err)
	sub, err := entitle.ParseSubject("role:staff")
	require.NoError(t, err)
	tg, err := entitle.ParseTarget("folder:10")
	require.NoError(t, err)
	r, v, err := admin.AddRule(ctx, "admin-7", entitle.Rule{Subject: sub, Target: tg, Effect: entitle.Allow})
	require.NoError(t, err)
	v2, err := admin.RemoveRule(ctx, "admin-8", r.ID)
	require.NoError(t, err)

	recs := outboxRecords(t, s)
	require.Len(t, recs, 2)
	for i, want := range []struct {
		action  audit.Action
		actor   string
		version int64
	}{{audit.ActionRuleAdded, "admin-7", v}, {audit.ActionRuleRemoved, "admin-8", v2}} {
		require.Equal(t, want.action, recs[i].Action)
		require.Equal(t, audit.ActorAdmin, recs[i].ActorKind)
		require.Equal(t, want.actor, recs[i].ActorID)
		require.Equal(t, "rule", recs[i].ObjectKind)
		require.Equal(t, fmt.Sprint(r.ID), recs[i].ObjectID)
		require.Equal(t, fmt.Sprint(want.version), recs[i].Details["version"])
		require.Equal(t, "role:staff", recs[i].Details["subject"])
	}

	broken, err := entitle.NewAdmin(s, failingTxAuditor{newRecorder(t, s).RuleChanges()}, nil)
	require.NoError(t, err)
	_, _, err = broken.AddRule(ctx, "admin-7", entitle.Rule{Subject: sub, Target: tg, Effect: entitle.Deny})
	require.ErrorContains(t, err, "audit refused")
	rules, version, err := s.ListRules(ctx)
	require.NoError(t, err)
	require.Empty(t, rules, "a change that cannot be audited is not made")
	require.Equal(t, v2, version)
	require.Empty(t, outboxRecords(t, s))
}

// TestDeadLetterActionsAreAudited: the Replayer's hook writes one record per
// admin action on a dead letter.
func TestDeadLetterActionsAreAudited(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	rp, err := events.NewReplayer(s, &publisher{}, &events.ReplayOptions{Audit: newRecorder(t, s).DeadLetterActions()})
	require.NoError(t, err)
	d, err := s.RecordDeadLetter(ctx, events.DeadLetter{EventID: "e1", Topic: events.TopicAnalytics, Payload: []byte("x"),
		Error: "boom", Attempts: 1})
	require.NoError(t, err)
	_, err = rp.Annotate(ctx, d.ID, "admin-1", "looking")
	require.NoError(t, err)
	_, err = rp.Replay(ctx, d.ID, "admin-2")
	require.NoError(t, err)
	recs := outboxRecords(t, s)
	require.Len(t, recs, 2)
	require.Equal(t, []audit.Action{audit.ActionDeadLetterAnnotate, audit.ActionDeadLetterReplay}, []audit.Action{recs[0].Action, recs[1].Action})
	require.Equal(t, []string{"admin-1", "admin-2"}, []string{recs[0].ActorID, recs[1].ActorID})
	for _, r := range recs {
		require.Equal(t, audit.ActorAdmin, r.ActorKind)
		require.Equal(t, "dead_letter", r.ObjectKind)
		require.Equal(t, fmt.Sprint(d.ID), r.ObjectID)
		require.Equal(t, "e1", r.Details["event_id"])
	}
	require.Equal(t, "looking", recs[0].Details["note"])
}

// TestAccessDecisionsAreSampled: off at rate 0 for allowed decisions,
// denials always recorded, allowed ones at the rate.
func TestAccessDecisionsAreSampled(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	r := newRecorder(t, s)
	_, err := r.Access(&audit.AccessOptions{SampleRate: 2})
	require.ErrorIs(t, err, audit.ErrInvalid)
	none, err := r.Access(nil)
	require.NoError(t, err)
	all, err := r.Access(&audit.AccessOptions{SampleRate: 1})
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, none.RecordAccess(ctx, library.AccessRecord{Action: "playback", UserID: "u1", VideoID: "5", Allowed: true, Time: now}))
	require.NoError(t, none.RecordAccess(ctx, library.AccessRecord{Action: "playback", UserID: "u1", VideoID: "6", Allowed: false, Time: now}))
	require.NoError(t, all.RecordAccess(ctx, library.AccessRecord{Action: "playback", UserID: "u2", VideoID: "7", Allowed: true, Time: now}))
	recs := outboxRecords(t, s)
	require.Len(t, recs, 2)
	require.Equal(t, audit.Record{ID: recs[0].ID, Time: recs[0].Time, ActorKind: audit.ActorUser, ActorID: "u1",
		Action: audit.ActionAccessDecision, ObjectKind: "video", ObjectID: "6", Outcome: audit.OutcomeDenied,
		Details: map[string]string{"access": "playback"}}, recs[0])
	require.Equal(t, "7", recs[1].ObjectID)
	require.Equal(t, audit.OutcomeOK, recs[1].Outcome)
}

// TestReplayerDefaultEventIsConverted: a Replayer built without the hook
// publishes its own event type; the consumer's decoding turns it into the
// same record.
func TestReplayerDefaultEventIsConverted(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	p := &publisher{}
	rp, err := events.NewReplayer(s, p, nil)
	require.NoError(t, err)
	d, err := s.RecordDeadLetter(ctx, events.DeadLetter{EventID: "e1", Topic: events.TopicAnalytics, Payload: []byte("x"),
		Error: "boom", Attempts: 1})
	require.NoError(t, err)
	_, err = rp.Ignore(ctx, d.ID, "admin-3", "noise")
	require.NoError(t, err)
	require.Len(t, p.msgs, 1)
	e, err := p.msgs[0].Event()
	require.NoError(t, err)
	require.Equal(t, events.AuditEventType, e.Type)
	r, err := audit.FromEvent(e)
	require.NoError(t, err)
	require.Equal(t, audit.Record{ID: e.ID, Time: e.Time.Truncate(time.Microsecond), ActorKind: audit.ActorAdmin, ActorID: "admin-3",
		Action: audit.ActionDeadLetterIgnore, ObjectKind: "dead_letter", ObjectID: fmt.Sprint(d.ID), Outcome: audit.OutcomeOK,
		Details: map[string]string{"note": "noise", "topic": events.TopicAnalytics, "event_id": "e1", "status": "ignored"}}, r)
}

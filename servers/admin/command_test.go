package admin_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
)

// published records what a Service publishes.
type published struct {
	mu   sync.Mutex
	msgs []events.Message
	fail error
}

func (p *published) Publish(_ context.Context, msgs ...events.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *published) command(t *testing.T, i int) (events.Message, events.Event, syncworker.Command) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	require.Greater(t, len(p.msgs), i)
	m := p.msgs[i]
	e, err := events.Decode(m.Value)
	require.NoError(t, err)
	var c syncworker.Command
	require.NoError(t, e.DecodeData(&c))
	return m, e, c
}

// TestWithoutMirrorCommandsGoToTheSyncWorker: an admin without a mirror but
// with a publisher sends reconciliations and held decisions to the sync
// worker (vimeo.sync.command on vimeo.sync.normalized, carrying the actor,
// the request id and the target), answers 202 with the command id and
// audits the request as queued; without a publisher they are unavailable;
// without a mirror or a source the dry run names the settings that enable it.
func TestWithoutMirrorCommandsGoToTheSyncWorker(t *testing.T) {
	e := newEnv(t)
	// A pending held run, made by the in-process mirror.
	e.src.drop("1201", "1202", "1203")
	rep, err := e.mirror.Reconcile(e.ctx, tree.ReconcileOptions{Trigger: tree.TriggerSchedule})
	require.NoError(t, err)
	require.Equal(t, tree.HeldPending, rep.Run.HeldStatus)

	pub := &published{}
	log := &auditLog{}
	svc, err := admin.New(e.st, &admin.Options{Publisher: pub, Auditor: log})
	require.NoError(t, err)
	ops := admin.Actor{ID: "ops", RequestID: "req-1"}

	res, err := svc.Reconcile(e.ctx, ops, admin.ReconcileRequest{Scope: admin.ReconcileFolder, ID: "1100", Wait: true})
	require.NoError(t, err)
	require.True(t, res.Queued)
	require.True(t, res.Started, "the API answers 202")
	m, ev, c := pub.command(t, 0)
	require.Equal(t, events.TopicVimeoSyncNormalized, m.Topic)
	require.Equal(t, syncworker.CommandKey, m.Key)
	require.Equal(t, syncworker.EventSyncCommand, ev.Type)
	require.Equal(t, res.CommandID, ev.ID)
	require.Equal(t, syncworker.Command{Action: syncworker.CommandReconcileFolder, ID: "1100", Actor: "ops", RequestID: "req-1"}, c)
	recs := log.find(audit.ActionReconcile, "folder:1100")
	require.Len(t, recs, 1)
	require.Equal(t, "true", recs[0].Details["queued"])
	require.Equal(t, ev.ID, recs[0].Details["command_id"])

	_, err = svc.Reconcile(e.ctx, ops, admin.ReconcileRequest{Scope: admin.ReconcileVideo, ID: "x"})
	require.ErrorIs(t, err, admin.ErrInvalid, "validated before anything is sent")

	run, err := svc.DecideHeld(e.ctx, ops, rep.Run.ID, true, "archived")
	require.NoError(t, err)
	require.Equal(t, "pending", run.HeldStatus, "the sync worker decides it later")
	_, ev, c = pub.command(t, 1)
	require.Equal(t, run.CommandID, ev.ID)
	require.Equal(t, syncworker.Command{Action: syncworker.CommandApproveHeld, RunID: rep.Run.ID, Actor: "ops", RequestID: "req-1", Note: "archived"}, c)

	// Over HTTP: 202 with the command id.
	e.svc = svc
	api, err := admin.NewAPI(svc, e.authn)
	require.NoError(t, err)
	e.http = httptest.NewServer(api.Handler())
	t.Cleanup(e.http.Close)
	r := e.post(t, "/admin/reconcile/root", nil)
	require.Equal(t, 202, r.status, string(r.body))
	require.Equal(t, true, r.json(t)["queued"])
	require.NotEmpty(t, r.json(t)["command_id"])

	// A publish that fails is unavailable, and audited as an error.
	pub.fail = errors.New("broker down")
	_, err = svc.Reconcile(e.ctx, ops, admin.ReconcileRequest{Scope: admin.ReconcileRoot})
	require.ErrorIs(t, err, admin.ErrUnavailable)
	recs = log.find(audit.ActionReconcile, "root")
	require.Equal(t, audit.OutcomeError, recs[len(recs)-1].Outcome)

	// No publisher: unavailable; no source: the dry run names the settings.
	bare, err := admin.New(e.st, nil)
	require.NoError(t, err)
	_, err = bare.Reconcile(e.ctx, ops, admin.ReconcileRequest{Scope: admin.ReconcileRoot})
	require.ErrorIs(t, err, admin.ErrUnavailable)
	_, err = bare.DecideHeld(e.ctx, ops, rep.Run.ID, false, "")
	require.ErrorIs(t, err, admin.ErrUnavailable)
	_, err = svc.DryRun(e.ctx, ops)
	require.ErrorIs(t, err, admin.ErrUnavailable)
	require.ErrorContains(t, err, "Vimeo token and root folder id")
}

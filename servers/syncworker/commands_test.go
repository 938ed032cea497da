package syncworker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
)

// commandMirror records what the command consumer asks of a mirror.
type commandMirror struct {
	fakeMirror
	mu    sync.Mutex
	calls []string
}

func (m *commandMirror) call(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, s)
}

func (m *commandMirror) got() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.calls...)
}

func (m *commandMirror) Reconcile(context.Context, tree.ReconcileOptions) (*tree.Report, error) {
	m.call("root")
	return &tree.Report{Run: tree.SyncRun{ID: 7}}, nil
}

func (m *commandMirror) ReconcileFolder(_ context.Context, id string, _ tree.ReconcileOptions) (*tree.Report, error) {
	m.call("folder:" + id)
	return &tree.Report{Run: tree.SyncRun{ID: 8}}, nil
}

func (m *commandMirror) RefreshVideo(_ context.Context, id, _ string) (*tree.Report, error) {
	m.call("video:" + id)
	return &tree.Report{}, nil
}

func (m *commandMirror) ApproveHeld(_ context.Context, runID int64, actor string) (*tree.Report, error) {
	m.call("approve:" + actor)
	return &tree.Report{Run: tree.SyncRun{ID: runID + 1}}, nil
}

func (m *commandMirror) RejectHeld(_ context.Context, _ int64, actor string) error {
	m.call("reject:" + actor)
	return nil
}

func commandMessage(t *testing.T, c syncworker.Command) *events.Message {
	t.Helper()
	e, err := events.New(context.Background(), events.Event{Type: syncworker.EventSyncCommand, Source: "test", Key: syncworker.CommandKey}, c)
	require.NoError(t, err)
	m, err := e.Message(events.TopicVimeoSyncNormalized)
	require.NoError(t, err)
	return &m
}

// TestCommandsTakeTheReconcileLock: reconciliations and approvals wait for
// the scheduler's lock (retried, then dead-lettered, never run beside
// another reconciliation); a video refresh and a rejection need no lock;
// each command runs once per event id and is audited as its admin's action;
// a command that cannot be carried out is dead-lettered at once and audited
// as denied.
func TestCommandsTakeTheReconcileLock(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	m := &commandMirror{}
	c, err := syncworker.NewCommands(m, st, &recorder{}, st, &syncworker.CommandsOptions{ConsumerOptions: syncworker.ConsumerOptions{
		Retry: events.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, Jitter: 1e-9}}})
	require.NoError(t, err)
	h := c.Handler()

	release, ok, err := st.TryLock(ctx, syncworker.LockReconcile)
	require.NoError(t, err)
	require.True(t, ok)
	for _, cmd := range []syncworker.Command{
		{Action: syncworker.CommandReconcileRoot, Actor: "ops"},
		{Action: syncworker.CommandReconcileFolder, ID: "5", Actor: "ops"},
		{Action: syncworker.CommandApproveHeld, RunID: 3, Actor: "ops"},
	} {
		require.NoError(t, h(ctx, commandMessage(t, cmd)), "dead-lettered, not failed")
	}
	require.Empty(t, m.got(), "nothing ran while the lock was held")
	letters, err := st.ListDeadLetters(ctx, events.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, letters, 3)
	require.Equal(t, 3, letters[0].Attempts)
	require.Contains(t, letters[0].Error, syncworker.ErrBusy.Error())

	require.NoError(t, h(ctx, commandMessage(t, syncworker.Command{Action: syncworker.CommandRefreshVideo, ID: "9", Actor: "ops"})))
	require.NoError(t, h(ctx, commandMessage(t, syncworker.Command{Action: syncworker.CommandRejectHeld, RunID: 4, Actor: "ops"})))
	require.Equal(t, []string{"video:9", "reject:ops"}, m.got(), "no lock needed")
	release()

	root := commandMessage(t, syncworker.Command{Action: syncworker.CommandReconcileRoot, Actor: "ops", RequestID: "req-9"})
	require.NoError(t, h(ctx, root))
	require.NoError(t, h(ctx, root), "a redelivery")
	require.NoError(t, h(ctx, commandMessage(t, syncworker.Command{Action: syncworker.CommandApproveHeld, RunID: 3, Actor: "ops", Note: "fine"})))
	require.Equal(t, []string{"video:9", "reject:ops", "root", "approve:ops"}, m.got())

	require.NoError(t, h(ctx, commandMessage(t, syncworker.Command{Action: "reconcile.everything", Actor: "ops"})))
	letters, err = st.ListDeadLetters(ctx, events.DeadLetterFilter{})
	require.NoError(t, err)
	require.Len(t, letters, 4)

	var recs []audit.Record
	for _, e := range outbox(t, st, events.TopicAudit) {
		var r audit.Record
		require.NoError(t, e.DecodeData(&r))
		recs = append(recs, r)
	}
	require.Len(t, recs, 5, "refresh, reject, root once, approve, the unknown command")
	rootEv, err := root.Event()
	require.NoError(t, err)
	r := recs[2]
	require.Equal(t, audit.ActorAdmin, r.ActorKind)
	require.Equal(t, "ops", r.ActorID)
	require.Equal(t, audit.ActionReconcile, r.Action)
	require.Equal(t, "root", r.ObjectID)
	require.Equal(t, audit.OutcomeOK, r.Outcome)
	require.Equal(t, "req-9", r.RequestID)
	require.Equal(t, rootEv.ID, r.Details["command_id"])
	require.Equal(t, "7", r.Details["result_run"])
	require.Equal(t, audit.ActionReconcileApprove, recs[3].Action)
	require.Equal(t, "3", recs[3].ObjectID)
	require.Equal(t, "4", recs[3].Details["result_run"])
	require.Equal(t, audit.OutcomeDenied, recs[4].Outcome)
}

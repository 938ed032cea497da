package syncworker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/servers/syncworker"
	"github.com/vidlib/vidlib/tree"
)

// scriptedMirror answers every run with the next report (or error) of its
// script.
type scriptedMirror struct {
	mu      sync.Mutex
	reports []*tree.Report
	errs    []error
}

func (m *scriptedMirror) next() (*tree.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rep, err := m.reports[0], m.errs[0]
	m.reports, m.errs = m.reports[1:], m.errs[1:]
	return rep, err
}

func (m *scriptedMirror) Reconcile(context.Context, tree.ReconcileOptions) (*tree.Report, error) {
	return m.next()
}
func (m *scriptedMirror) Poll(context.Context) (*tree.Report, error) { return m.next() }
func (m *scriptedMirror) RefreshVideo(context.Context, string, string) (*tree.Report, error) {
	return m.next()
}
func (m *scriptedMirror) ReconcileFolder(context.Context, string, tree.ReconcileOptions) (*tree.Report, error) {
	return m.next()
}
func (m *scriptedMirror) ApproveHeld(context.Context, int64, string) (*tree.Report, error) {
	return m.next()
}
func (m *scriptedMirror) RejectHeld(context.Context, int64, string) error { return nil }

type announced struct {
	mu   sync.Mutex
	got  []library.VersionChange
	fail error
}

func (a *announced) Publish(_ context.Context, name string, v int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, library.VersionChange{Name: name, Version: v})
	return a.fail
}

func changed(v int64) *tree.Report {
	return &tree.Report{Version: v, Applied: []tree.Change{{Kind: tree.ChangeVideoUpdated}}}
}

// TestAnnounceOnlyNewVersions: a run that applied changes and moved the
// content version past the last announced one is announced, once; a run
// that changed nothing, an older version (a slower concurrent run) or an
// error is not; every run is observed with its kind.
func TestAnnounceOnlyNewVersions(t *testing.T) {
	boom := errors.New("boom")
	m := &scriptedMirror{
		reports: []*tree.Report{changed(3), {Version: 4}, changed(2), nil, changed(5), changed(6)},
		errs:    []error{nil, nil, nil, boom, nil, nil},
	}
	a := &announced{}
	var kinds []string
	var errs []error
	am, err := syncworker.Announce(m, &syncworker.AnnounceOptions{Announcer: a,
		Observe: func(kind string, start time.Time, rep *tree.Report, err error) {
			require.False(t, start.IsZero())
			kinds, errs = append(kinds, kind), append(errs, err)
		}})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = am.Reconcile(ctx, tree.ReconcileOptions{}) // 3: announced
	require.NoError(t, err)
	_, _ = am.Poll(ctx)                                            // 4, nothing applied: not announced
	_, _ = am.RefreshVideo(ctx, "1", "test")                       // 2 < 3: not announced
	_, err = am.ReconcileFolder(ctx, "9", tree.ReconcileOptions{}) // error
	require.ErrorIs(t, err, boom)
	_, _ = am.ApproveHeld(ctx, 1, "admin") // 5: announced
	a.fail = errors.New("redis down")
	_, err = am.Poll(ctx) // 6: announced, the failure only logged
	require.NoError(t, err)

	require.Equal(t, []library.VersionChange{
		{Name: library.VersionContent, Version: 3},
		{Name: library.VersionContent, Version: 5},
		{Name: library.VersionContent, Version: 6},
	}, a.got)
	require.Equal(t, []string{syncworker.RunReconcile, syncworker.RunPoll, syncworker.RunWebhook,
		syncworker.RunReconcile, syncworker.RunReconcile, syncworker.RunPoll}, kinds)
	require.Equal(t, []error{nil, nil, nil, boom, nil, nil}, errs)
}

func TestAnnounceNeedsAMirror(t *testing.T) {
	_, err := syncworker.Announce(nil, nil)
	require.ErrorIs(t, err, syncworker.ErrInvalid)
}

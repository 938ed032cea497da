package vimeosource_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

func kinds(rep *tree.Report) []tree.ChangeKind {
	var out []tree.ChangeKind
	for _, c := range rep.Applied {
		out = append(out, c.Kind)
	}
	return out
}

// TestRefreshVideo walks the webhook path through its cases, on PostgreSQL.
func TestRefreshVideo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, openPG(t), vimeotest.GenerateOptions{Seed: 5, Folders: 6, Videos: 30, WideFolders: -1}, nil)
	_, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	sub := f.acct.Subtree(f.root)
	var vid int64
	for _, v := range f.acct.Videos() {
		if v.FolderID == sub[1] {
			vid = v.ID
			break
		}
	}
	id := itoa64(vid)
	refresh := func() *tree.Report {
		f.clock.Advance(time.Second)
		rep, err := f.mirror.RefreshVideo(ctx, id, tree.TriggerWebhook)
		require.NoError(t, err)
		return rep
	}
	runs := func() int {
		rs, err := f.store.ListSyncRuns(ctx, 0, 1000)
		require.NoError(t, err)
		return len(rs)
	}

	// Edited.
	require.NoError(t, f.acct.RenameVideo(vid, "Edited"))
	require.Equal(t, []tree.ChangeKind{tree.ChangeVideoUpdated}, kinds(refresh()))
	require.Empty(t, refresh().Applied, "a duplicate changes nothing")

	// Moved to another mirrored folder.
	require.NoError(t, f.acct.MoveVideo(vid, sub[2]))
	require.Equal(t, []tree.ChangeKind{tree.ChangeVideoMoved}, kinds(refresh()))
	snap, err := f.store.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{itoa64(sub[2])}, snap.FoldersOf(id))

	// Moved outside the root: it leaves the mirror.
	outside, err := f.acct.CreateFolder(0, "Elsewhere")
	require.NoError(t, err)
	require.NoError(t, f.acct.MoveVideo(vid, outside))
	rep := refresh()
	require.Equal(t, []tree.ChangeKind{tree.ChangeVideoDeleted}, kinds(rep))
	require.Equal(t, tree.ReasonLeftRoot, rep.Applied[0].Reason)
	require.Empty(t, refresh().Applied)

	// Back inside: restored.
	require.NoError(t, f.acct.MoveVideo(vid, sub[1]))
	require.Equal(t, []tree.ChangeKind{tree.ChangeVideoRestored, tree.ChangeVideoMoved}, kinds(refresh()))

	// 403: unavailable, not deleted.
	require.NoError(t, f.acct.Revoke(sub[1]))
	rep = refresh()
	require.Equal(t, []tree.ChangeKind{tree.ChangeVideoUnavailable}, kinds(rep))
	snap, err = f.store.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	require.NotNil(t, snap.Video(id), "unavailable is not deleted")
	require.Equal(t, tree.StatusUnavailable, snap.Video(id).Status)
	require.NoError(t, f.acct.Restore(sub[1]))
	require.Equal(t, []tree.ChangeKind{tree.ChangeVideoUpdated}, kinds(refresh()))

	// Deleted: 404.
	require.NoError(t, f.acct.DeleteVideo(vid))
	rep = refresh()
	require.Equal(t, []tree.ChangeKind{tree.ChangeVideoDeleted}, kinds(rep))
	require.Equal(t, tree.ReasonNotFound, rep.Applied[0].Reason)

	// A video outside the root that the mirror never had: no change at all.
	other, err := f.acct.CreateVideo(outside, vimeotest.VideoSpec{Name: "not ours"})
	require.NoError(t, err)
	before, err := f.store.ContentVersion(ctx)
	require.NoError(t, err)
	n := runs()
	rep, err = f.mirror.RefreshVideo(ctx, itoa64(other), tree.TriggerWebhook)
	require.NoError(t, err)
	require.Empty(t, rep.Applied)
	after, err := f.store.ContentVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.Equal(t, n+1, runs(), "every refresh writes its sync_runs row")

	// A new video in a new folder under the root: the folder chain is created.
	nf, err := f.acct.CreateFolder(sub[2], "Brand new")
	require.NoError(t, err)
	nv, err := f.acct.CreateVideo(nf, vimeotest.VideoSpec{Name: "fresh"})
	require.NoError(t, err)
	rep, err = f.mirror.RefreshVideo(ctx, itoa64(nv), tree.TriggerWebhook)
	require.NoError(t, err)
	require.Equal(t, []tree.ChangeKind{tree.ChangeFolderCreated, tree.ChangeVideoCreated}, kinds(rep))
}

// TestMassDeleteIsHeld: a reconciliation that would delete more than the
// configured share holds every deletion, says so, and applies them only on
// the admin's decision.
func TestMassDeleteIsHeld(t *testing.T) {
	ctx := context.Background()
	f, _ := massDelete(t)

	rep, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	requireHeld(t, f, rep)

	rep, err = f.mirror.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerAdmin, AllowMassDelete: true})
	require.NoError(t, err)
	require.Empty(t, rep.Held)
	requireMirrorEquals(t, f)
}

// TestIncompleteWalkNeverDeletes: a folder that cannot be listed makes the
// walk incomplete; the reconciliation then applies no deletion at all.
func TestIncompleteWalkNeverDeletes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, memstore.New(), vimeotest.GenerateOptions{Seed: 3, Folders: 8, Videos: 40, WideFolders: -1}, nil)
	_, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	var victim int64
	for _, v := range f.acct.Videos() {
		if v.FolderID == f.root {
			victim = v.ID
		}
	}
	require.NotZero(t, victim)
	require.NoError(t, f.acct.DeleteVideo(victim))
	f.srv.AddFault(vimeotest.Fault{Path: "/users/*/projects/" + itoa64(f.acct.Subtree(f.root)[1]) + "/items", Times: -1, Status: 503})
	rep, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	require.False(t, rep.Run.Complete)
	require.NotEmpty(t, rep.Skipped)
	for _, c := range rep.Applied {
		require.False(t, c.Kind.IsDelete(), "%s", c)
	}
	f.srv.ClearFaults()
	rep, err = f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	require.Equal(t, []tree.ChangeKind{tree.ChangeVideoDeleted}, kinds(rep)[len(kinds(rep))-1:])
	requireMirrorEquals(t, f)
}

// massDelete returns a reconciled fixture whose source then deleted a big
// part of the tree: the folder gone, with its subtree.
func massDelete(t *testing.T) (f *fixture, gone int64) {
	t.Helper()
	f = newFixture(t, memstore.New(), vimeotest.GenerateOptions{Seed: 9, Folders: 8, Videos: 60, WideFolders: -1}, nil)
	_, err := f.mirror.Reconcile(context.Background(), tree.ReconcileOptions{})
	require.NoError(t, err)
	gone = f.acct.Subtree(f.root)[1]
	require.NoError(t, f.acct.DeleteFolder(gone, true))
	f.clock.Advance(time.Second)
	return f, gone
}

// requireHeld checks a run that held its deletions: it applied none, says
// so, and is stored held with their count.
func requireHeld(t *testing.T, f *fixture, rep *tree.Report) {
	t.Helper()
	require.NotEmpty(t, rep.Held)
	require.True(t, rep.Run.Held)
	require.Contains(t, rep.Run.Errors[len(rep.Run.Errors)-1], "held")
	for _, c := range rep.Applied {
		require.False(t, c.Kind.IsDelete(), "nothing deleted: %s", c)
	}
	runs, err := f.store.ListSyncRuns(context.Background(), 0, 1)
	require.NoError(t, err)
	require.True(t, runs[0].Held)
	require.Equal(t, len(rep.Held), runs[0].Counts["held"])
}

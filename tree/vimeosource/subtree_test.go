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

// ReconcileFolder applies what changed in one subtree (and what moved in or
// out of it), leaves the rest of the tree alone, and a full reconciliation
// afterwards converges.
func TestReconcileFolder(t *testing.T) {
	for name, newStore := range map[string]func(t *testing.T) tree.Store{
		"memstore": func(*testing.T) tree.Store { return memstore.New() },
		"postgres": func(t *testing.T) tree.Store { return openPG(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, newStore(t), vimeotest.GenerateOptions{Seed: 4, Folders: 6, Videos: 30, WideFolders: -1}, nil)
			acct := f.acct
			a, err := acct.CreateFolder(f.root, "A")
			require.NoError(t, err)
			b, err := acct.CreateFolder(f.root, "B")
			require.NoError(t, err)
			a1, err := acct.CreateFolder(a, "A1")
			require.NoError(t, err)
			a2, err := acct.CreateFolder(a, "A2")
			require.NoError(t, err)
			vid := func(folder int64, name string) int64 {
				id, err := acct.CreateVideo(folder, vimeotest.VideoSpec{Name: name})
				require.NoError(t, err)
				return id
			}
			stays, leaves, gone := vid(a1, "stays"), vid(a1, "leaves"), vid(a, "gone")
			arrives, inA2 := vid(b, "arrives"), vid(a2, "in A2")
			_, err = f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
			require.NoError(t, err)

			f.clock.Advance(time.Minute)
			require.NoError(t, acct.RenameFolder(a1, "A1 renamed"))
			require.NoError(t, acct.RenameVideo(stays, "stays, renamed"))
			require.NoError(t, acct.MoveVideo(leaves, b))
			require.NoError(t, acct.MoveVideo(arrives, a1))
			require.NoError(t, acct.DeleteVideo(gone))
			require.NoError(t, acct.DeleteFolder(a2, true)) // with "in A2"
			created := vid(a, "created")
			a3, err := acct.CreateFolder(a1, "A3")
			require.NoError(t, err)
			require.NoError(t, acct.RenameFolder(b, "B renamed")) // outside the subtree
			f.clock.Advance(time.Second)

			rep, err := f.mirror.ReconcileFolder(ctx, itoa64(a), tree.ReconcileOptions{})
			require.NoError(t, err)
			require.True(t, rep.Run.Complete)
			require.Equal(t, tree.TriggerAdmin, rep.Run.Trigger)
			snap, err := f.store.LoadSnapshot(ctx, tree.LoadOptions{})
			require.NoError(t, err)
			require.Equal(t, "A1 renamed", snap.Folder(itoa64(a1)).Name)
			require.Equal(t, itoa64(a1), snap.Folder(itoa64(a3)).ParentVimeoID)
			require.Nil(t, snap.Folder(itoa64(a2)), "deleted with its video")
			require.Nil(t, snap.Video(itoa64(inA2)))
			require.Nil(t, snap.Video(itoa64(gone)))
			require.Equal(t, "stays, renamed", snap.Video(itoa64(stays)).Title)
			require.Equal(t, []string{itoa64(b)}, snap.FoldersOf(itoa64(leaves)), "moved out: found by its own read")
			require.Equal(t, []string{itoa64(a1)}, snap.FoldersOf(itoa64(arrives)), "moved in")
			require.Equal(t, []string{itoa64(a)}, snap.FoldersOf(itoa64(created)))
			require.Equal(t, "B", snap.Folder(itoa64(b)).Name, "outside the subtree: not reconciled")
			for _, c := range rep.Applied {
				if c.Kind.IsDelete() {
					require.Contains(t, []string{tree.ReasonNotFound, tree.ReasonLeftRoot}, c.Reason, "confirmed: %s", c)
				}
			}

			_, err = f.mirror.ReconcileFolder(ctx, "424242424242", tree.ReconcileOptions{})
			require.ErrorIs(t, err, tree.ErrNotFound)

			_, err = f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
			require.NoError(t, err)
			requireMirrorEquals(t, f)
		})
	}
}

// A folder that comes back into the tree with part of its subtree gone: a
// poll deleted it with its subtree (one cascade) when it left the root;
// ReconcileFolder restores it and keeps deleted what the source no longer
// has, like a full reconciliation does (Change.KeepDeleted).
func TestReconcileFolderRestoreKeepsTheGoneCascadeDeleted(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, memstore.New(), vimeotest.GenerateOptions{Seed: 4, Folders: 3, Videos: 6, WideFolders: -1}, nil)
	acct := f.acct
	outside, err := acct.CreateFolder(0, "outside the root")
	require.NoError(t, err)
	a, err := acct.CreateFolder(f.root, "A")
	require.NoError(t, err)
	a1, err := acct.CreateFolder(a, "A1")
	require.NoError(t, err)
	a2, err := acct.CreateFolder(a, "A2")
	require.NoError(t, err)
	_, err = acct.CreateFolder(a1, "A1x")
	require.NoError(t, err)
	_, err = f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	_, err = f.mirror.Poll(ctx) // the first poll sets the cursor
	require.NoError(t, err)

	f.clock.Advance(time.Minute)
	require.NoError(t, acct.MoveFolder(a, outside))
	f.clock.Advance(time.Second)
	rep, err := f.mirror.Poll(ctx)
	require.NoError(t, err)
	all, err := f.store.LoadSnapshot(ctx, tree.LoadOptions{IncludeDeleted: true})
	require.NoError(t, err)
	require.True(t, all.Folder(itoa64(a)).Deleted(), "the poll saw A leave the root: %v", rep.Applied)
	require.True(t, all.Folder(itoa64(a1)).DeletedAt.Equal(all.Folder(itoa64(a)).DeletedAt), "deleted with A")

	f.clock.Advance(time.Minute)
	require.NoError(t, acct.DeleteFolder(a1, true))
	require.NoError(t, acct.MoveFolder(a, f.root))
	f.clock.Advance(time.Second)
	rep, err = f.mirror.ReconcileFolder(ctx, itoa64(a), tree.ReconcileOptions{})
	require.NoError(t, err)
	require.True(t, rep.Run.Complete)
	live, err := f.store.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	require.NotNil(t, live.Folder(itoa64(a)), "A is back")
	require.NotNil(t, live.Folder(itoa64(a2)), "A2 is back with it")
	require.Nil(t, live.Folder(itoa64(a1)), "A1 is gone at the source: kept deleted, with what was under it")
	requireMirrorEquals(t, f)
}

// ReconcileFolder holds a deletion of too large a share of the tree, as
// Reconcile does, and applies it when the admin allows it.
func TestReconcileFolderHoldsAMassDelete(t *testing.T) {
	ctx := context.Background()
	f, gone := massDelete(t)

	rep, err := f.mirror.ReconcileFolder(ctx, itoa64(gone), tree.ReconcileOptions{})
	require.NoError(t, err)
	requireHeld(t, f, rep)

	rep, err = f.mirror.ReconcileFolder(ctx, itoa64(gone), tree.ReconcileOptions{AllowMassDelete: true})
	require.NoError(t, err)
	require.Empty(t, rep.Held)
	require.NotEmpty(t, rep.Applied)
	snap, err := f.store.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	require.Nil(t, snap.Folder(itoa64(gone)), "deleted once allowed")
}

// Before the first reconciliation the mirror has no root: RefreshVideo and
// ReconcileFolder apply nothing, ask for a reconciliation and record the
// failed run.
func TestIncrementalRunsNeedARoot(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, memstore.New(), vimeotest.GenerateOptions{Seed: 3, Folders: 4, Videos: 10, WideFolders: -1}, nil)
	sub := f.acct.Subtree(f.root)
	rep, err := f.mirror.ReconcileFolder(ctx, itoa64(sub[1]), tree.ReconcileOptions{})
	require.ErrorIs(t, err, tree.ErrNoRoot)
	require.True(t, rep.NeedsReconcile)
	require.Empty(t, rep.Applied)
	rep, err = f.mirror.RefreshVideo(ctx, itoa64(f.acct.Videos()[0].ID), "")
	require.ErrorIs(t, err, tree.ErrNoRoot)
	require.True(t, rep.NeedsReconcile)
	require.Equal(t, tree.TriggerWebhook, rep.Run.Trigger)
	runs, err := f.store.ListSyncRuns(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, runs, 2)
}

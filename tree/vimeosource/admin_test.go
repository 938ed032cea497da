package vimeosource_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

func changeStrings(cs []tree.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

// A dry run writes nothing and reports what the next reconciliation applies;
// the reconciliation then keeps its changes in its sync run.
func TestDryRunAndRecordedChanges(t *testing.T) {
	for name, newStore := range map[string]func(t *testing.T) tree.Store{
		"memstore": func(*testing.T) tree.Store { return memstore.New() },
		"postgres": func(t *testing.T) tree.Store { return openPG(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, newStore(t), vimeotest.GenerateOptions{Seed: 5, Folders: 12, Videos: 80, WideFolders: -1}, nil)
			_, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
			require.NoError(t, err)

			sub := f.acct.Subtree(f.root)
			require.NoError(t, f.acct.RenameFolder(sub[2], "Renamed by someone"))
			vids := f.acct.Videos()
			require.NoError(t, f.acct.SetPrivacy(vids[0].ID, "nobody"))
			require.NoError(t, f.acct.DeleteVideo(vids[1].ID))
			f.clock.Advance(time.Second)

			version := func() int64 {
				v, err := f.store.ContentVersion(ctx)
				require.NoError(t, err)
				return v
			}
			runs := func() []tree.SyncRun {
				r, err := f.store.ListSyncRuns(ctx, 0, 100)
				require.NoError(t, err)
				return r
			}
			v0, n0 := version(), len(runs())
			dry, err := f.mirror.DryRun(ctx)
			require.NoError(t, err)
			require.Equal(t, v0, version(), "a dry run writes nothing")
			require.Len(t, runs(), n0, "a dry run records no sync run")
			require.True(t, dry.Complete)
			require.False(t, dry.WouldHold)
			require.Equal(t, 1, dry.Deletes)
			require.Len(t, dry.Words, len(dry.Changes))
			words := strings.Join(dry.Words, "\n")
			require.Contains(t, words, "→ 'Renamed by someone'")
			require.Contains(t, words, "privacy changed from")
			require.Contains(t, words, "deleted video")

			rep, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerAdmin})
			require.NoError(t, err)
			require.Equal(t, changeStrings(withoutReasons(dry.Changes)), changeStrings(withoutReasons(rep.Applied)),
				"the dry run saw what the reconciliation applied")

			last := runs()[0]
			require.Equal(t, rep.Run.ID, last.ID)
			require.Equal(t, len(rep.Applied), last.ChangesTotal)
			require.Equal(t, changeStrings(rep.Applied), changeStrings(last.Changes), "the run keeps its changes")
			snap, err := f.store.LoadSnapshot(ctx, tree.LoadOptions{IncludeDeleted: true})
			require.NoError(t, err)
			require.Equal(t, dry.Words, tree.DescribeAll(withoutReasons(last.Changes), snap), "the same words from the stored changes (the run adds why a deletion was confirmed)")
		})
	}
}

func withoutReasons(cs []tree.Change) []tree.Change {
	out := make([]tree.Change, len(cs))
	for i, c := range cs {
		c.Reason = ""
		out[i] = c
	}
	return out
}

// A held mass delete waits as a pending run; a rejection deletes nothing
// and ends it; an approval runs a reconciliation allowed to delete, confirms
// each deletion, and marks the run approved.
func TestHeldRunsRejectAndApprove(t *testing.T) {
	ctx := context.Background()
	f, gone := massDelete(t)

	dry, err := f.mirror.DryRun(ctx)
	require.NoError(t, err)
	require.True(t, dry.WouldHold, "the dry run says a real run would hold")

	held, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, held.Held)
	pending, err := f.mirror.HeldRuns(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.Equal(t, held.Run.ID, pending[0].ID)
	require.Equal(t, changeStrings(held.Held), changeStrings(pending[0].HeldChanges))

	require.ErrorIs(t, f.mirror.RejectHeld(ctx, held.Run.ID, ""), tree.ErrInvalid)
	require.NoError(t, f.mirror.RejectHeld(ctx, held.Run.ID, "ann"))
	require.ErrorIs(t, f.mirror.RejectHeld(ctx, held.Run.ID, "ann"), tree.ErrNotFound, "no longer pending")
	_, err = f.mirror.ApproveHeld(ctx, held.Run.ID, "ann")
	require.ErrorIs(t, err, tree.ErrNotFound, "a rejected run cannot be approved")
	live, err := f.store.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	require.NotNil(t, live.Folder(itoa64(gone)), "a rejection deletes nothing")

	// Still missing at the next run: held again, then approved.
	again, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, again.Held)
	rep, err := f.mirror.ApproveHeld(ctx, again.Run.ID, "bob")
	require.NoError(t, err)
	require.Empty(t, rep.Held)
	deleted := 0
	for _, c := range rep.Applied {
		if c.Kind.IsDelete() {
			deleted++
			require.Contains(t, []string{tree.ReasonNotFound, tree.ReasonLeftRoot}, c.Reason, "each deletion confirmed by a direct read")
		}
	}
	require.Equal(t, len(again.Held), deleted)
	requireMirrorEquals(t, f)
	pending, err = f.mirror.HeldRuns(ctx)
	require.NoError(t, err)
	require.Empty(t, pending)
	runs, err := f.store.ListSyncRuns(ctx, again.Run.ID+1, 1)
	require.NoError(t, err)
	require.Equal(t, again.Run.ID, runs[0].ID)
	require.Equal(t, tree.HeldApproved, runs[0].HeldStatus)
	require.Equal(t, "bob", runs[0].HeldBy)
}

// Hiding a video bumps the content version and makes it unplayable; a
// reconciliation does not undo it.
func TestSetVideoHidden(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, memstore.New(), vimeotest.GenerateOptions{Seed: 3, Folders: 4, Videos: 10, WideFolders: -1}, nil)
	rep, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	id := itoa64(f.acct.Videos()[0].ID)
	v, err := f.mirror.SetVideoHidden(ctx, id, true)
	require.NoError(t, err)
	require.Greater(t, v, rep.Version)
	_, err = f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	snap, err := f.store.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	require.True(t, snap.Video(id).Hidden)
	require.False(t, snap.Video(id).Playable())
	v2, err := f.mirror.SetVideoHidden(ctx, id, false)
	require.NoError(t, err)
	require.Greater(t, v2, v)
	_, err = f.mirror.SetVideoHidden(ctx, "424242424242", true)
	require.ErrorIs(t, err, tree.ErrNotFound)
}

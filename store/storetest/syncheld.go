package storetest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

// testSyncRunChanges: a run keeps the changes it applied (capped at
// tree.MaxRecordedChanges, with the total) and the deletions it held, and
// gives them back as they were written, records included.
func testSyncRunChanges(t *testing.T, s tree.Store) {
	ctx := context.Background()
	run, err := s.StartSyncRun(ctx, tree.SyncRun{Trigger: "admin", StartedAt: t0})
	require.NoError(t, err)
	modified := time.Date(2026, 2, 3, 4, 5, 6, 789000000, time.UTC)
	changes := []tree.Change{
		{Kind: tree.ChangeFolderCreated, VimeoID: "2", To: "1", Folder: &tree.Folder{VimeoID: "2", ParentVimeoID: "1", Name: "Sales", ModifiedAt: modified}},
		{Kind: tree.ChangeFolderRenamed, VimeoID: "3", Fields: []string{tree.FieldName},
			Folder: &tree.Folder{VimeoID: "3", Name: "B"}, OldFolder: &tree.Folder{VimeoID: "3", Name: "A"}},
		{Kind: tree.ChangeVideoUpdated, VimeoID: "10", Fields: []string{tree.FieldVisibility},
			Video:    &tree.Video{VimeoID: "10", Title: "Q3 review", Status: tree.StatusAvailable, Visibility: tree.VisibilityNobody},
			OldVideo: &tree.Video{VimeoID: "10", Title: "Q3 review", Status: tree.StatusAvailable, Visibility: tree.VisibilityAnybody}},
	}
	for i := range tree.MaxRecordedChanges {
		changes = append(changes, tree.Change{Kind: tree.ChangeVideoCreated, VimeoID: strconv.Itoa(1000 + i), To: "2", SortOrder: i})
	}
	held := []tree.Change{{Kind: tree.ChangeVideoDeleted, VimeoID: "11", From: "2", Reason: tree.ReasonNotFound, Video: &tree.Video{VimeoID: "11", Title: "gone"}}}
	run.FinishedAt, run.Held, run.Changes, run.ChangesTotal, run.HeldChanges = t0.Add(time.Minute), true, changes, len(changes), held
	require.NoError(t, s.FinishSyncRun(ctx, run))

	runs, err := s.ListSyncRuns(ctx, 0, 1)
	require.NoError(t, err)
	got := runs[0]
	require.Len(t, got.Changes, tree.MaxRecordedChanges, "capped")
	require.Equal(t, len(changes), got.ChangesTotal, "the total is kept")
	require.Equal(t, changes[1], got.Changes[1])
	require.Equal(t, changes[2], got.Changes[2])
	require.True(t, got.Changes[0].Folder.ModifiedAt.Equal(modified))
	require.Equal(t, changes[tree.MaxRecordedChanges-1], got.Changes[tree.MaxRecordedChanges-1])
	require.Equal(t, held, got.HeldChanges)
	require.Equal(t, tree.HeldPending, got.HeldStatus, "a run that held deletions is pending")

	// The store's copy is not the caller's.
	got.Changes[1].OldFolder.Name = "changed"
	runs, err = s.ListSyncRuns(ctx, 0, 1)
	require.NoError(t, err)
	require.Equal(t, "A", runs[0].Changes[1].OldFolder.Name)

	// A run without changes reads back with none.
	quiet, err := s.StartSyncRun(ctx, tree.SyncRun{Trigger: "poll", StartedAt: t0})
	require.NoError(t, err)
	require.NoError(t, s.FinishSyncRun(ctx, quiet))
	runs, err = s.ListSyncRuns(ctx, 0, 1)
	require.NoError(t, err)
	require.Empty(t, runs[0].Changes)
	require.Zero(t, runs[0].ChangesTotal)
	require.Equal(t, tree.HeldStatus(""), runs[0].HeldStatus)
}

// testHeldRuns: held runs are pending until an admin approves or rejects
// them, once; only finished held runs are listed, newest first.
func testHeldRuns(t *testing.T, s tree.Store) {
	ctx := context.Background()
	start := func(held bool) int64 {
		r, err := s.StartSyncRun(ctx, tree.SyncRun{Trigger: "schedule", StartedAt: t0})
		require.NoError(t, err)
		r.Held, r.FinishedAt = held, t0.Add(time.Minute)
		require.NoError(t, s.FinishSyncRun(ctx, r))
		return r.ID
	}
	h1, plain, h2 := start(true), start(false), start(true)
	running, err := s.StartSyncRun(ctx, tree.SyncRun{Trigger: "schedule", StartedAt: t0})
	require.NoError(t, err)

	pending, err := s.ListHeldRuns(ctx)
	require.NoError(t, err)
	require.Equal(t, []int64{h2, h1}, runIDs(pending), "newest first, held runs only")

	// Finishing a run as already decided is not a run's to say.
	running.HeldStatus = tree.HeldApproved
	require.ErrorIs(t, s.FinishSyncRun(ctx, running), tree.ErrInvalid)

	at := t0.Add(time.Hour)
	require.ErrorIs(t, s.DecideHeldRun(ctx, h1, tree.HeldPending, "ann", at), tree.ErrInvalid)
	require.ErrorIs(t, s.DecideHeldRun(ctx, 999999, tree.HeldApproved, "ann", at), tree.ErrNotFound)
	require.ErrorIs(t, s.DecideHeldRun(ctx, plain, tree.HeldApproved, "ann", at), tree.ErrConflict, "nothing held")
	require.NoError(t, s.DecideHeldRun(ctx, h1, tree.HeldRejected, "ann", at))
	require.ErrorIs(t, s.DecideHeldRun(ctx, h1, tree.HeldApproved, "bob", at), tree.ErrConflict, "decided once")
	require.NoError(t, s.DecideHeldRun(ctx, h2, tree.HeldApproved, "bob", at))

	pending, err = s.ListHeldRuns(ctx)
	require.NoError(t, err)
	require.Empty(t, pending)
	runs, err := s.ListSyncRuns(ctx, 0, 10)
	require.NoError(t, err)
	for _, r := range runs {
		switch r.ID {
		case h1:
			require.Equal(t, tree.HeldRejected, r.HeldStatus)
			require.Equal(t, "ann", r.HeldBy)
			require.True(t, r.HeldDecidedAt.Equal(at))
			require.True(t, r.Held, "the run still says it held")
		case h2:
			require.Equal(t, tree.HeldApproved, r.HeldStatus)
			require.Equal(t, "bob", r.HeldBy)
		default:
			require.Equal(t, tree.HeldStatus(""), r.HeldStatus)
			require.True(t, r.HeldDecidedAt.IsZero())
		}
	}
}

func runIDs(runs []tree.SyncRun) []int64 {
	out := make([]int64, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

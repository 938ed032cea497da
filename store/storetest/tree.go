package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

// TestTreeStore runs the tree.Store conformance suite. newStore must return a
// fresh, empty store for each call.
func TestTreeStore(t *testing.T, newStore func(t *testing.T) tree.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("UnchangedUpsertKeepsVersion", func(t *testing.T) { testUnchangedUpsert(t, newStore(t)) })
	t.Run("DeepSubtreeMove", func(t *testing.T) { testDeepMove(t, newStore(t)) })
	t.Run("MoveRules", func(t *testing.T) { testMoveRules(t, newStore(t)) })
	t.Run("UpsertMovesOnNewParent", func(t *testing.T) { testUpsertMoves(t, newStore(t)) })
	t.Run("SoftDeleteAndRestoreFolders", func(t *testing.T) { testFolderDeleteRestore(t, newStore(t)) })
	t.Run("RestoreLeavesNoOrphan", func(t *testing.T) { testRestoreLeavesNoOrphan(t, newStore(t)) })
	t.Run("VideosDeleteRestoreHide", func(t *testing.T) { testVideoDeleteRestoreHide(t, newStore(t)) })
	t.Run("Placements", func(t *testing.T) { testPlacements(t, newStore(t)) })
	t.Run("BadInputChangesNothing", func(t *testing.T) { testBadInput(t, newStore(t)) })
	t.Run("FailedTransactionRollsBack", func(t *testing.T) { testRollback(t, newStore(t)) })
	t.Run("ConcurrentUpsertsOfOneVimeoID", func(t *testing.T) { testConcurrentUpserts(t, newStore(t)) })
	t.Run("SyncRuns", func(t *testing.T) { testSyncRuns(t, newStore(t)) })
	t.Run("SyncRunChanges", func(t *testing.T) { testSyncRunChanges(t, newStore(t)) })
	t.Run("HeldRuns", func(t *testing.T) { testHeldRuns(t, newStore(t)) })
	t.Run("SyncState", func(t *testing.T) { testSyncState(t, newStore(t)) })
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.FixedZone("+04", 4*3600))

func folder(id, parent, name string, order int) tree.Folder {
	return tree.Folder{VimeoID: id, ParentVimeoID: parent, Name: name, SortOrder: order, CreatedAt: t0, ModifiedAt: t0.Add(time.Hour)}
}

func video(id, title string) tree.Video {
	return tree.Video{
		VimeoID: id, Title: title, Description: "about " + title, ThumbnailURL: "https://i.vimeocdn.com/video/" + id + "_640.jpg",
		DurationSeconds: 95, Status: tree.StatusAvailable, Visibility: tree.VisibilityUnlisted, EmbedKey: "abc" + id, EmbedPrivacy: tree.EmbedWhitelist,
		CreatedAt: t0, ModifiedAt: t0.Add(2 * time.Hour),
		Tags: []string{"Épisode " + id, "研修"},
		Pictures: []tree.Picture{
			{Width: 295, Height: 166, URL: "https://i.vimeocdn.com/video/" + id + "-d_295x166?r=pad"},
			{Width: 1920, Height: 1080, URL: "https://i.vimeocdn.com/video/" + id + "-d_1920x1080?r=pad"},
		},
	}
}

func update(t *testing.T, s tree.Store, fn func(ctx context.Context, tx tree.Tx) error) int64 {
	t.Helper()
	ctx := context.Background()
	v, err := s.Update(ctx, func(tx tree.Tx) error { return fn(ctx, tx) })
	require.NoError(t, err)
	return v
}

func load(t *testing.T, s tree.Store, withDeleted bool) *tree.Snapshot {
	t.Helper()
	snap, err := s.LoadSnapshot(context.Background(), tree.LoadOptions{IncludeDeleted: withDeleted})
	require.NoError(t, err)
	return snap
}

func version(t *testing.T, s tree.Store) int64 {
	t.Helper()
	v, err := s.ContentVersion(context.Background())
	require.NoError(t, err)
	return v
}

// seed writes root(1) → a(2) → b(3), root → c(4); videos 100 in a, 101 in b, 102 in c.
func seed(t *testing.T, s tree.Store) int64 {
	return update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, []tree.Folder{
			folder("1", "", "Root", 0), folder("2", "1", "A", 1), folder("3", "2", "B ünïcode", 0), folder("4", "1", "A", 2),
		}); err != nil {
			return err
		}
		if err := tx.UpsertVideos(ctx, []tree.Video{video("100", "v100"), video("101", "v101"), video("102", "v102")}); err != nil {
			return err
		}
		return tx.PlaceVideos(ctx, []tree.Placement{
			{FolderVimeoID: "2", VideoVimeoID: "100", SortOrder: 0},
			{FolderVimeoID: "3", VideoVimeoID: "101", SortOrder: 0},
			{FolderVimeoID: "4", VideoVimeoID: "102", SortOrder: 5},
		})
	})
}

func testRoundTrip(t *testing.T, s tree.Store) {
	require.Equal(t, int64(0), version(t, s))
	empty := load(t, s, false)
	nf, nv := empty.Len()
	require.Zero(t, nf+nv)

	v := seed(t, s)
	require.Equal(t, int64(1), v, "one transaction bumps the content version once")
	require.Equal(t, int64(1), version(t, s))

	snap := load(t, s, false)
	require.Equal(t, int64(1), snap.Version())
	require.Equal(t, []string{"1"}, snap.Roots())
	require.Equal(t, []string{"2", "4"}, snap.Children("1"))
	require.Equal(t, []string{"1", "2", "3"}, snap.Path("3"))
	require.Equal(t, 2, snap.Depth("3"))
	f := snap.Folder("3")
	require.NotNil(t, f)
	require.Equal(t, "B ünïcode", f.Name)
	require.Equal(t, "2", f.ParentVimeoID)
	require.NotZero(t, f.ID, "stores assign internal ids")
	require.True(t, f.CreatedAt.Equal(t0.Truncate(time.Microsecond)), "created %v", f.CreatedAt)
	require.True(t, f.ModifiedAt.Equal(t0.Add(time.Hour)), "modified %v", f.ModifiedAt)
	require.False(t, f.Deleted())

	got := snap.Video("101")
	require.NotNil(t, got)
	want := video("101", "v101")
	require.Equal(t, want.Title, got.Title)
	require.Equal(t, want.Description, got.Description)
	require.Equal(t, want.ThumbnailURL, got.ThumbnailURL)
	require.Equal(t, want.DurationSeconds, got.DurationSeconds)
	require.Equal(t, want.Status, got.Status)
	require.Equal(t, want.Visibility, got.Visibility)
	require.Equal(t, want.EmbedKey, got.EmbedKey)
	require.Equal(t, want.EmbedPrivacy, got.EmbedPrivacy)
	require.Equal(t, want.Tags, got.Tags, "tags in Vimeo's order")
	require.Equal(t, want.Pictures, got.Pictures, "every thumbnail size, in Vimeo's order")
	require.True(t, got.ModifiedAt.Equal(want.ModifiedAt))
	require.False(t, got.UpdatedAt.IsZero())
	require.NotZero(t, got.ID)
	require.Equal(t, []string{"3"}, snap.FoldersOf("101"))
	require.Equal(t, []tree.Placement{{FolderVimeoID: "4", VideoVimeoID: "102", SortOrder: 5}}, snap.Contents("4"))
	require.ElementsMatch(t, []string{"100", "101"}, snap.SubtreeVideos("2"))

	// Updating a field is one more version and shows up.
	changed := video("101", "renamed")
	changed.Status = tree.StatusTranscoding
	v = update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{changed}) })
	require.Equal(t, int64(2), v)
	got = load(t, s, false).Video("101")
	require.Equal(t, "renamed", got.Title)
	require.Equal(t, tree.StatusTranscoding, got.Status)
}

func testUnchangedUpsert(t *testing.T, s tree.Store) {
	v1 := seed(t, s)
	before := load(t, s, true)
	v2 := seed(t, s)
	require.Equal(t, v1, v2, "re-applying identical data changes nothing, so no version bump")
	after := load(t, s, true)
	require.Equal(t, before.Video("100").UpdatedAt, after.Video("100").UpdatedAt)
	// An empty transaction does not bump either.
	require.Equal(t, v1, update(t, s, func(context.Context, tree.Tx) error { return nil }))

	// Tags and thumbnail sizes are content: changing only them is a change.
	retag := video("100", "v100")
	retag.Tags = []string{"研修", "Épisode 100"}
	v3 := update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{retag}) })
	require.Equal(t, v1+1, v3)
	require.Equal(t, retag.Tags, load(t, s, false).Video("100").Tags)
	resize := retag
	resize.Pictures = resize.Pictures[:1]
	v4 := update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{resize}) })
	require.Equal(t, v3+1, v4)
	require.Equal(t, resize.Pictures, load(t, s, false).Video("100").Pictures)
	untag := resize
	untag.Tags = nil
	v5 := update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{untag}) })
	require.Equal(t, v4+1, v5)
	require.Nil(t, load(t, s, false).Video("100").Tags)
}

// deepTree builds 1,000 folders under "top", 10 levels deep: a spine of 10
// levels, each spine folder with 99 or 100 leaf-ish children spread over levels.
func deepTree(prefix, top string, n, depth int) []tree.Folder {
	var out []tree.Folder
	parents := []string{top}
	level := []string{}
	id := 0
	next := func() string { id++; return prefix + strconv.Itoa(id) }
	// breadth-first: fill each level with ~n/depth folders under the previous level.
	perLevel := n / depth
	for d := 0; d < depth; d++ {
		level = level[:0]
		for i := 0; i < perLevel; i++ {
			f := folder(next(), parents[i%len(parents)], fmt.Sprintf("L%d-%d", d, i), i)
			out = append(out, f)
			level = append(level, f.VimeoID)
		}
		parents = append([]string(nil), level...)
	}
	return out
}

func testDeepMove(t *testing.T, s tree.Store) {
	const n, depth = 1000, 10
	sub := deepTree("9", "50", n, depth) // ids 91…91000 under folder 50
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, []tree.Folder{folder("1", "", "root", 0), folder("50", "1", "from", 0), folder("60", "1", "to", 1), folder("61", "60", "to-child", 0)}); err != nil {
			return err
		}
		return tx.UpsertFolders(ctx, sub)
	})
	snap := load(t, s, false)
	require.Len(t, snap.Subtree("50"), n+1)
	deepest := sub[len(sub)-1].VimeoID
	require.Equal(t, depth+1, snap.Depth(deepest), "root → from → 10 levels")

	v0 := version(t, s)
	v := update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.MoveFolder(ctx, "50", "61") })
	require.Equal(t, v0+1, v)
	snap = load(t, s, false)
	require.Equal(t, "61", snap.Folder("50").ParentVimeoID)
	require.Len(t, snap.Subtree("50"), n+1, "the whole subtree moved")
	require.Equal(t, depth+3, snap.Depth(deepest))
	for _, f := range sub {
		p := snap.Path(f.VimeoID)
		require.Equal(t, []string{"1", "60", "61", "50"}, p[:4], "path of %s", f.VimeoID)
	}
	require.Equal(t, []string{"60"}, snap.Children("1"))

	// Moving back to the top level works as well.
	update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.MoveFolder(ctx, "50", "") })
	snap = load(t, s, false)
	require.ElementsMatch(t, []string{"1", "50"}, snap.Roots())
	require.Equal(t, depth, snap.Depth(deepest))
}

func testMoveRules(t *testing.T, s tree.Store) {
	seed(t, s)
	ctx := context.Background()
	v := version(t, s)
	before := load(t, s, true)
	_, err := s.Update(ctx, func(tx tree.Tx) error { return tx.MoveFolder(ctx, "2", "3") })
	require.ErrorIs(t, err, tree.ErrCycle, "a folder cannot move under its own subtree")
	_, err = s.Update(ctx, func(tx tree.Tx) error { return tx.MoveFolder(ctx, "2", "2") })
	require.ErrorIs(t, err, tree.ErrCycle)
	_, err = s.Update(ctx, func(tx tree.Tx) error { return tx.MoveFolder(ctx, "2", "404") })
	require.ErrorIs(t, err, tree.ErrNotFound)
	_, err = s.Update(ctx, func(tx tree.Tx) error { return tx.MoveFolder(ctx, "404", "1") })
	require.ErrorIs(t, err, tree.ErrNotFound)
	require.Equal(t, v, version(t, s))
	requireSameTree(t, before, load(t, s, true))
	// A move to the current parent is no change.
	require.Equal(t, v, update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.MoveFolder(ctx, "3", "2") }))
}

func testUpsertMoves(t *testing.T, s tree.Store) {
	seed(t, s)
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		return tx.UpsertFolders(ctx, []tree.Folder{folder("2", "4", "A moved", 1)})
	})
	snap := load(t, s, false)
	require.Equal(t, []string{"1", "4", "2", "3"}, snap.Path("3"))
	require.Equal(t, "A moved", snap.Folder("2").Name)
	ctx := context.Background()
	_, err := s.Update(ctx, func(tx tree.Tx) error {
		return tx.UpsertFolders(ctx, []tree.Folder{folder("4", "3", "cycle", 0)})
	})
	require.ErrorIs(t, err, tree.ErrCycle)
	// A child may come in the same batch as its new parent, parent first.
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		return tx.UpsertFolders(ctx, []tree.Folder{folder("7", "1", "new", 9), folder("3", "7", "B", 0), folder("8", "3", "newer", 0)})
	})
	snap = load(t, s, false)
	require.Equal(t, []string{"1", "7", "3", "8"}, snap.Path("8"))
}

// A restore brings back the descendants deleted with the folder, but never
// one whose parent stays deleted: a folder moved while deleted keeps its
// deletion time, and must not come back live under a folder deleted at
// another time.
func testRestoreLeavesNoOrphan(t *testing.T, s tree.Store) {
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		return tx.UpsertFolders(ctx, []tree.Folder{folder("1", "", "root", 0), folder("2", "1", "a", 0),
			folder("3", "2", "x", 0), folder("4", "1", "b", 1), folder("5", "3", "y", 0)})
	})
	step := func(fn func(ctx context.Context, tx tree.Tx) error) { update(t, s, fn) }
	step(func(ctx context.Context, tx tree.Tx) error { return tx.DeleteFolder(ctx, "2") }) // 2, 3 and 5 together
	step(func(ctx context.Context, tx tree.Tx) error { return tx.DeleteFolder(ctx, "4") }) // 4 alone, later
	step(func(ctx context.Context, tx tree.Tx) error { return tx.MoveFolder(ctx, "4", "2") })
	step(func(ctx context.Context, tx tree.Tx) error { return tx.MoveFolder(ctx, "3", "4") }) // 2 → 4 → 3 → 5, all deleted

	step(func(ctx context.Context, tx tree.Tx) error { return tx.RestoreFolder(ctx, "2") })
	live := load(t, s, false)
	require.NotNil(t, live.Folder("2"))
	require.Nil(t, live.Folder("4"), "deleted on its own: it stays deleted")
	require.Nil(t, live.Folder("3"), "deleted with 2, but under 4, which stays deleted")
	require.Nil(t, live.Folder("5"), "under 3, which stays deleted")
	all := load(t, s, true)
	for _, id := range []string{"3", "4", "5"} {
		require.True(t, all.Folder(id).Deleted(), id)
	}

	// 4 comes back alone; then 3 with 5, deleted together.
	step(func(ctx context.Context, tx tree.Tx) error { return tx.RestoreFolder(ctx, "4") })
	require.Nil(t, load(t, s, false).Folder("3"))
	step(func(ctx context.Context, tx tree.Tx) error { return tx.RestoreFolder(ctx, "3") })
	live = load(t, s, false)
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		require.NotNil(t, live.Folder(id), id)
	}
}

func testFolderDeleteRestore(t *testing.T, s tree.Store) {
	seed(t, s)
	v := update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.DeleteFolder(ctx, "2") })
	live := load(t, s, false)
	require.Nil(t, live.Folder("2"))
	require.Nil(t, live.Folder("3"), "the subtree goes with it")
	require.NotNil(t, live.Video("101"), "videos are separate: deleting a folder does not delete them")
	require.Empty(t, live.FoldersOf("101"), "but they are no longer placed in a live folder")
	all := load(t, s, true)
	require.True(t, all.Folder("2").Deleted())
	require.True(t, all.Folder("3").Deleted())
	require.Equal(t, []string{"3"}, all.FoldersOf("101"), "placements are kept for a restore")
	// Deleting again changes nothing.
	require.Equal(t, v, update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.DeleteFolder(ctx, "2") }))

	ctx := context.Background()
	_, err := s.Update(ctx, func(tx tree.Tx) error { return tx.RestoreFolder(ctx, "3") })
	require.ErrorIs(t, err, tree.ErrConflict, "a child cannot come back under a deleted parent")
	_, err = s.Update(ctx, func(tx tree.Tx) error {
		return tx.UpsertFolders(ctx, []tree.Folder{folder("9", "2", "under deleted", 0)})
	})
	require.ErrorIs(t, err, tree.ErrConflict, "no new folder under a deleted parent")

	update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.RestoreFolder(ctx, "2") })
	live = load(t, s, false)
	require.NotNil(t, live.Folder("2"))
	require.NotNil(t, live.Folder("3"))
	require.Equal(t, []string{"3"}, live.FoldersOf("101"))

	// Deleted separately, restored separately: a child deleted before its parent
	// stays deleted when the parent comes back.
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.DeleteFolder(ctx, "3"); err != nil {
			return err
		}
		return tx.DeleteFolder(ctx, "2")
	})
	update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.RestoreFolder(ctx, "2") })
	live = load(t, s, false)
	require.NotNil(t, live.Folder("2"))
	require.Nil(t, live.Folder("3"))
	_, err = s.Update(ctx, func(tx tree.Tx) error { return tx.DeleteFolder(ctx, "404") })
	require.ErrorIs(t, err, tree.ErrNotFound)
}

func testVideoDeleteRestoreHide(t *testing.T, s tree.Store) {
	seed(t, s)
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.DeleteVideos(ctx, []string{"100"}); err != nil {
			return err
		}
		return tx.SetVideoHidden(ctx, "101", true)
	})
	live := load(t, s, false)
	require.Nil(t, live.Video("100"))
	require.Empty(t, live.Contents("2"))
	require.True(t, live.Video("101").Hidden)
	require.False(t, live.Video("101").Playable())
	all := load(t, s, true)
	require.True(t, all.Video("100").Deleted())

	// An upsert (as a reconciliation does) neither un-hides nor un-deletes.
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		return tx.UpsertVideos(ctx, []tree.Video{video("100", "again"), video("101", "again")})
	})
	all = load(t, s, true)
	require.True(t, all.Video("100").Deleted())
	require.Equal(t, "again", all.Video("100").Title)
	require.True(t, all.Video("101").Hidden)

	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.RestoreVideos(ctx, []string{"100"}); err != nil {
			return err
		}
		return tx.SetVideoHidden(ctx, "101", false)
	})
	live = load(t, s, false)
	require.NotNil(t, live.Video("100"))
	require.Equal(t, []string{"2"}, live.FoldersOf("100"))
	require.False(t, live.Video("101").Hidden)

	ctx := context.Background()
	for name, fn := range map[string]func(tree.Tx) error{
		"delete":  func(tx tree.Tx) error { return tx.DeleteVideos(ctx, []string{"100", "404"}) },
		"restore": func(tx tree.Tx) error { return tx.RestoreVideos(ctx, []string{"404"}) },
		"hide":    func(tx tree.Tx) error { return tx.SetVideoHidden(ctx, "404", true) },
		"unplace": func(tx tree.Tx) error { return tx.UnplaceVideos(ctx, []string{"404"}) },
	} {
		_, err := s.Update(ctx, fn)
		require.ErrorIs(t, err, tree.ErrNotFound, name)
	}
	require.NotNil(t, load(t, s, false).Video("100"), "the failed delete of a list with an unknown id deleted nothing")
}

func testPlacements(t *testing.T, s tree.Store) {
	seed(t, s)
	// Moving video 100 from folder 2 to folder 4, before 102.
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "4", VideoVimeoID: "100", SortOrder: 1}})
	})
	snap := load(t, s, false)
	require.Empty(t, snap.Contents("2"))
	require.Equal(t, []tree.Placement{
		{FolderVimeoID: "4", VideoVimeoID: "100", SortOrder: 1},
		{FolderVimeoID: "4", VideoVimeoID: "102", SortOrder: 5},
	}, snap.Contents("4"))

	v := version(t, s)
	require.Equal(t, v, update(t, s, func(ctx context.Context, tx tree.Tx) error {
		return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "4", VideoVimeoID: "100", SortOrder: 1}})
	}), "the same placement again is no change")

	update(t, s, func(ctx context.Context, tx tree.Tx) error { return tx.UnplaceVideos(ctx, []string{"100"}) })
	snap = load(t, s, false)
	require.Empty(t, snap.FoldersOf("100"))
	require.NotNil(t, snap.Video("100"))

	ctx := context.Background()
	_, err := s.Update(ctx, func(tx tree.Tx) error {
		return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "2", VideoVimeoID: "100"}, {FolderVimeoID: "2", VideoVimeoID: "100"}})
	})
	require.ErrorIs(t, err, tree.ErrDuplicate)
	_, err = s.Update(ctx, func(tx tree.Tx) error {
		return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "404", VideoVimeoID: "100"}})
	})
	require.ErrorIs(t, err, tree.ErrNotFound)
	_, err = s.Update(ctx, func(tx tree.Tx) error {
		return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "2", VideoVimeoID: "404"}})
	})
	require.ErrorIs(t, err, tree.ErrNotFound)
}

func testBadInput(t *testing.T, s tree.Store) {
	seed(t, s)
	before := load(t, s, true)
	v := version(t, s)
	ctx := context.Background()
	bad := video("105", "bad")
	bad.Status = "exploded"
	badVis := video("106", "bad")
	badVis.Visibility = "everyone"
	negative := video("107", "bad")
	negative.DurationSeconds = -1
	cases := []struct {
		name string
		fn   func(tree.Tx) error
		want error
	}{
		{"empty folder id", func(tx tree.Tx) error { return tx.UpsertFolders(ctx, []tree.Folder{folder("", "1", "x", 0)}) }, tree.ErrInvalid},
		{"own parent", func(tx tree.Tx) error { return tx.UpsertFolders(ctx, []tree.Folder{folder("5", "5", "x", 0)}) }, tree.ErrCycle},
		{"duplicate in batch", func(tx tree.Tx) error {
			return tx.UpsertFolders(ctx, []tree.Folder{folder("5", "1", "x", 0), folder("5", "1", "y", 0)})
		}, tree.ErrDuplicate},
		{"unknown parent, after a good one", func(tx tree.Tx) error {
			return tx.UpsertFolders(ctx, []tree.Folder{folder("5", "1", "ok", 0), folder("6", "404", "orphan", 0)})
		}, tree.ErrOrphan},
		{"child before its parent", func(tx tree.Tx) error {
			return tx.UpsertFolders(ctx, []tree.Folder{folder("6", "5", "child", 0), folder("5", "1", "parent", 0)})
		}, tree.ErrOrphan},
		{"empty video id", func(tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{video("", "x")}) }, tree.ErrInvalid},
		{"unknown status, after a good one", func(tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{video("104", "ok"), bad}) }, tree.ErrInvalid},
		{"unknown visibility", func(tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{badVis}) }, tree.ErrInvalid},
		{"negative duration", func(tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{negative}) }, tree.ErrInvalid},
		{"duplicate video in batch", func(tx tree.Tx) error {
			return tx.UpsertVideos(ctx, []tree.Video{video("104", "a"), video("104", "b")})
		}, tree.ErrDuplicate},
		{"empty outbox topic", func(tx tree.Tx) error { return tx.EnqueueOutbox(ctx, "", "k", []byte("{}")) }, tree.ErrInvalid},
	}
	for _, c := range cases {
		_, err := s.Update(ctx, c.fn)
		require.ErrorIs(t, err, c.want, c.name)
		if c.name != "empty outbox topic" {
			var te *tree.Error
			require.ErrorAs(t, err, &te, "%s: a typed *tree.Error", c.name)
		}
	}
	require.Equal(t, v, version(t, s))
	requireSameTree(t, before, load(t, s, true))
}

var errBoom = errors.New("boom")

func testRollback(t *testing.T, s tree.Store) {
	seed(t, s)
	before := load(t, s, true)
	v := version(t, s)
	ctx := context.Background()
	_, err := s.Update(ctx, func(tx tree.Tx) error {
		steps := []error{
			tx.UpsertFolders(ctx, []tree.Folder{folder("20", "1", "new", 0), folder("2", "4", "moved", 0)}),
			tx.UpsertVideos(ctx, []tree.Video{video("200", "new"), video("100", "changed")}),
			tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "20", VideoVimeoID: "200"}, {FolderVimeoID: "20", VideoVimeoID: "101"}}),
			tx.MoveFolder(ctx, "4", "20"),
			tx.DeleteFolder(ctx, "3"),
			tx.DeleteVideos(ctx, []string{"102"}),
			tx.SetVideoHidden(ctx, "100", true),
			tx.EnqueueOutbox(ctx, "vimeo.sync.normalized", "v", []byte(`{}`)),
		}
		for i, err := range steps {
			if err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	require.Equal(t, v, version(t, s), "nothing committed, no version bump")
	requireSameTree(t, before, load(t, s, true))

	// A cancelled context also leaves nothing behind.
	cctx, cancel := context.WithCancel(ctx)
	_, err = s.Update(cctx, func(tx tree.Tx) error {
		if err := tx.UpsertVideos(cctx, []tree.Video{video("300", "x")}); err != nil {
			return err
		}
		cancel()
		return nil
	})
	require.Error(t, err)
	require.Nil(t, load(t, s, true).Video("300"))
}

func testConcurrentUpserts(t *testing.T, s tree.Store) {
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		return tx.UpsertFolders(ctx, []tree.Folder{folder("1", "", "root", 0)})
	})
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			ctx := context.Background()
			_, err := s.Update(ctx, func(tx tree.Tx) error {
				if err := tx.UpsertFolders(ctx, []tree.Folder{folder("2", "1", fmt.Sprintf("by %d", w), 0)}); err != nil {
					return err
				}
				if err := tx.UpsertVideos(ctx, []tree.Video{video("100", fmt.Sprintf("by %d", w))}); err != nil {
					return err
				}
				return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "2", VideoVimeoID: "100"}})
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	snap := load(t, s, true)
	nf, nv := snap.Len()
	require.Equal(t, 2, nf, "one folder row per Vimeo id")
	require.Equal(t, 1, nv, "one video row per Vimeo id")
	require.Equal(t, []string{"2"}, snap.FoldersOf("100"))
	require.LessOrEqual(t, version(t, s), int64(1+workers))
}

func testSyncRuns(t *testing.T, s tree.Store) {
	ctx := context.Background()
	_, err := s.StartSyncRun(ctx, tree.SyncRun{})
	require.ErrorIs(t, err, tree.ErrInvalid, "a run needs a trigger")
	var ids []int64
	for i := range 5 {
		r, err := s.StartSyncRun(ctx, tree.SyncRun{Trigger: "schedule", StartedAt: t0.Add(time.Duration(i) * time.Minute)})
		require.NoError(t, err)
		require.NotZero(t, r.ID)
		ids = append(ids, r.ID)
	}
	done := tree.SyncRun{ID: ids[1], Complete: true, Held: true, APICalls: 42,
		Counts: map[string]int{"video_created": 3, "folder_moved": 1}, Errors: []string{"folder 7: 403"}, FinishedAt: t0.Add(time.Hour)}
	require.NoError(t, s.FinishSyncRun(ctx, done))
	require.ErrorIs(t, s.FinishSyncRun(ctx, done), tree.ErrConflict, "a run finishes once")
	require.ErrorIs(t, s.FinishSyncRun(ctx, tree.SyncRun{ID: 99999}), tree.ErrNotFound)

	page, err := s.ListSyncRuns(ctx, 0, 3)
	require.NoError(t, err)
	require.Len(t, page, 3)
	require.Equal(t, []int64{ids[4], ids[3], ids[2]}, []int64{page[0].ID, page[1].ID, page[2].ID}, "newest first")
	page, err = s.ListSyncRuns(ctx, page[2].ID, 3)
	require.NoError(t, err)
	require.Equal(t, []int64{ids[1], ids[0]}, []int64{page[0].ID, page[1].ID})
	got := page[0]
	require.True(t, got.Complete)
	require.True(t, got.Held)
	require.Equal(t, 42, got.APICalls)
	require.Equal(t, done.Counts, got.Counts)
	require.Equal(t, done.Errors, got.Errors)
	require.True(t, got.FinishedAt.Equal(done.FinishedAt))
	require.True(t, page[1].FinishedAt.IsZero(), "still running")
	require.True(t, page[1].StartedAt.Equal(t0))
}

// requireSameTree compares two snapshots field by field (times with Equal).
func requireSameTree(t *testing.T, want, got *tree.Snapshot) {
	t.Helper()
	require.Equal(t, want.FolderIDs(), got.FolderIDs())
	for _, id := range want.FolderIDs() {
		a, b := want.Folder(id), got.Folder(id)
		require.Equal(t, a.ParentVimeoID, b.ParentVimeoID, "folder %s parent", id)
		require.Equal(t, a.Name, b.Name, "folder %s", id)
		require.Equal(t, a.Deleted(), b.Deleted(), "folder %s deleted", id)
	}
	require.Equal(t, want.VideoIDs(), got.VideoIDs())
	for _, id := range want.VideoIDs() {
		a, b := want.Video(id), got.Video(id)
		require.Equal(t, a.Title, b.Title, "video %s", id)
		require.Equal(t, a.Status, b.Status, "video %s", id)
		require.Equal(t, a.Hidden, b.Hidden, "video %s", id)
		require.Equal(t, a.Deleted(), b.Deleted(), "video %s", id)
	}
	require.Equal(t, want.Placements(), got.Placements())
}

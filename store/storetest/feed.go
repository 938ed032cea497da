package storetest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

// FeedStore is a tree.Store with a change feed.
type FeedStore interface {
	tree.Store
	tree.ContentFeed
}

// TestContentFeed runs the tree.ContentFeed conformance suite. newStore must
// return a fresh, empty store for each call.
func TestContentFeed(t *testing.T, newStore func(t *testing.T) FeedStore) {
	t.Run("Bounds", func(t *testing.T) { testFeedBounds(t, newStore(t)) })
	t.Run("EachWriteNamesWhatItChanged", func(t *testing.T) { testFeedNames(t, newStore(t)) })
	t.Run("LoadObjects", func(t *testing.T) { testLoadObjects(t, newStore(t)) })
	t.Run("PatchEqualsReload", func(t *testing.T) { testFeedPatch(t, newStore(t)) })
}

func changesSince(t *testing.T, s FeedStore, v int64) tree.ContentChanges {
	t.Helper()
	c, err := s.ContentChangesSince(context.Background(), v)
	require.NoError(t, err)
	return c
}

func testFeedBounds(t *testing.T, s FeedStore) {
	ctx := context.Background()
	require.Equal(t, tree.ContentChanges{}, changesSince(t, s, 0))
	_, err := s.ContentChangesSince(ctx, -1)
	require.ErrorIs(t, err, tree.ErrInvalid)
	_, err = s.ContentChangesSince(ctx, 1)
	require.ErrorIs(t, err, tree.ErrFeedGap, "a version ahead of the store")
	v := seed(t, s)
	require.Equal(t, tree.ContentChanges{From: 0, To: v, Folders: []string{"1", "2", "3", "4"}, Videos: []string{"100", "101", "102"}},
		changesSince(t, s, 0))
	require.Equal(t, tree.ContentChanges{From: v, To: v}, changesSince(t, s, v))
	require.True(t, changesSince(t, s, v).Empty())
}

func testFeedNames(t *testing.T, s FeedStore) {
	ctx := context.Background()
	start := seed(t, s)
	steps := []struct {
		name            string
		fn              func(tx tree.Tx) error
		folders, videos []string
	}{
		{"rename", func(tx tree.Tx) error { return tx.UpsertFolders(ctx, []tree.Folder{folder("3", "2", "B2", 0)}) }, []string{"3"}, nil},
		{"delete subtree", func(tx tree.Tx) error { return tx.DeleteFolder(ctx, "2") }, []string{"2", "3"}, nil},
		{"restore subtree", func(tx tree.Tx) error { return tx.RestoreFolder(ctx, "2") }, []string{"2", "3"}, nil},
		{"move", func(tx tree.Tx) error { return tx.MoveFolder(ctx, "3", "4") }, []string{"3"}, nil},
		{"new folder", func(tx tree.Tx) error { return tx.UpsertFolders(ctx, []tree.Folder{folder("5", "3", "E", 0)}) }, []string{"5"}, nil},
		{"edit", func(tx tree.Tx) error {
			return tx.UpsertVideos(ctx, []tree.Video{video("100", "v100 renamed"), video("101", "v101")})
		}, nil, []string{"100"}},
		{"place", func(tx tree.Tx) error {
			return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "5", VideoVimeoID: "101"}, {FolderVimeoID: "4", VideoVimeoID: "102", SortOrder: 5}})
		}, nil, []string{"101"}},
		{"unplace", func(tx tree.Tx) error { return tx.UnplaceVideos(ctx, []string{"102", "100"}) }, nil, []string{"100", "102"}},
		{"delete videos", func(tx tree.Tx) error { return tx.DeleteVideos(ctx, []string{"100"}) }, nil, []string{"100"}},
		{"restore videos", func(tx tree.Tx) error { return tx.RestoreVideos(ctx, []string{"100", "101"}) }, nil, []string{"100"}},
		{"hide", func(tx tree.Tx) error { return tx.SetVideoHidden(ctx, "101", true) }, nil, []string{"101"}},
		{"both", func(tx tree.Tx) error {
			if err := tx.UpsertFolders(ctx, []tree.Folder{folder("4", "1", "C", 2)}); err != nil {
				return err
			}
			return tx.SetVideoHidden(ctx, "101", false)
		}, []string{"4"}, []string{"101"}},
	}
	var allF, allV []string
	for _, st := range steps {
		before := version(t, s)
		v := update(t, s, func(_ context.Context, tx tree.Tx) error { return st.fn(tx) })
		require.Equal(t, before+1, v, st.name)
		require.Equal(t, tree.ContentChanges{From: before, To: v, Folders: st.folders, Videos: st.videos}, changesSince(t, s, before), st.name)
		allF, allV = append(allF, st.folders...), append(allV, st.videos...)
	}
	slices.Sort(allF)
	slices.Sort(allV)
	got := changesSince(t, s, start)
	require.Equal(t, slices.Compact(allF), got.Folders, "the union since the seed")
	require.Equal(t, slices.Compact(allV), got.Videos, "the union since the seed")

	// No change, a failed transaction and an outbox row record nothing.
	v := version(t, s)
	require.Equal(t, v, update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.UpsertVideos(ctx, []tree.Video{video("102", "v102")}); err != nil {
			return err
		}
		return tx.EnqueueOutbox(ctx, "audit.events", "k", []byte(`{}`))
	}))
	_, err := s.Update(ctx, func(tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, []tree.Folder{folder("3", "4", "B3", 0)}); err != nil {
			return err
		}
		return errors.New("boom")
	})
	require.Error(t, err)
	require.Equal(t, tree.ContentChanges{From: v, To: v}, changesSince(t, s, v))
}

func testLoadObjects(t *testing.T, s FeedStore) {
	ctx := context.Background()
	seed(t, s)
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "2", VideoVimeoID: "102", SortOrder: 1}, {FolderVimeoID: "4", VideoVimeoID: "102", SortOrder: 5}}); err != nil {
			return err
		}
		if err := tx.DeleteFolder(ctx, "3"); err != nil {
			return err
		}
		return tx.DeleteVideos(ctx, []string{"100"})
	})
	all := load(t, s, true) // the oracle: every row and placement, deleted included
	got, err := s.LoadObjects(ctx, []string{"3", "2", "nope", "2"}, []string{"100", "102", "nope"})
	require.NoError(t, err)
	slices.SortFunc(got.Folders, func(a, b tree.Folder) int { return cmp.Compare(a.VimeoID, b.VimeoID) })
	slices.SortFunc(got.Videos, func(a, b tree.Video) int { return cmp.Compare(a.VimeoID, b.VimeoID) })
	require.Equal(t, []tree.Folder{*all.Folder("2"), *all.Folder("3")}, got.Folders)
	require.True(t, got.Folders[1].Deleted())
	require.Equal(t, []tree.Video{*all.Video("100"), *all.Video("102")}, got.Videos)
	require.True(t, got.Videos[0].Deleted())
	var want []tree.Placement
	for _, p := range all.Placements() {
		if p.FolderVimeoID == "2" || p.FolderVimeoID == "3" || p.VideoVimeoID == "100" || p.VideoVimeoID == "102" {
			want = append(want, p)
		}
	}
	byKey := func(a, b tree.Placement) int {
		return cmp.Or(cmp.Compare(a.FolderVimeoID, b.FolderVimeoID), cmp.Compare(a.VideoVimeoID, b.VideoVimeoID))
	}
	slices.SortFunc(want, byKey)
	slices.SortFunc(got.Placements, byKey)
	require.Len(t, want, 4) // 100 in 2, 101 in 3, 102 in 2 and 4
	require.Equal(t, want, got.Placements)

	empty, err := s.LoadObjects(ctx, nil, nil)
	require.NoError(t, err)
	require.Empty(t, empty.Folders)
	require.Empty(t, empty.Videos)
	require.Empty(t, empty.Placements)
}

// testFeedPatch patches a loaded snapshot with the feed after a run of
// changes and compares it with a fresh load.
func testFeedPatch(t *testing.T, s FeedStore) {
	ctx := context.Background()
	seed(t, s)
	old := load(t, s, false)
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, []tree.Folder{folder("5", "4", "E", 0), folder("2", "1", "A renamed", 3)}); err != nil {
			return err
		}
		if err := tx.MoveFolder(ctx, "3", "5"); err != nil {
			return err
		}
		return tx.UpsertVideos(ctx, []tree.Video{video("103", "new")})
	})
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: "3", VideoVimeoID: "103"}}); err != nil {
			return err
		}
		if err := tx.DeleteFolder(ctx, "4"); err != nil {
			return err
		}
		return tx.SetVideoHidden(ctx, "100", true)
	})
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.RestoreFolder(ctx, "4"); err != nil {
			return err
		}
		return tx.DeleteVideos(ctx, []string{"101"})
	})
	ch := changesSince(t, s, old.Version())
	objs, err := s.LoadObjects(ctx, ch.Folders, ch.Videos)
	require.NoError(t, err)
	patched, err := old.Patch(ch.To, objs)
	require.NoError(t, err)
	fresh := load(t, s, false)
	require.Equal(t, fresh.Version(), patched.Version())
	require.Equal(t, fresh.Folders(), patched.Folders())
	require.Equal(t, fresh.Videos(), patched.Videos())
	require.Equal(t, fresh.Placements(), patched.Placements())
	requireSameTree(t, fresh, patched)
}

package tree_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

// The All… iterators yield what the copying accessors return.
func TestIteratorsMatchAccessors(t *testing.T) {
	// 1 ─┬─ 2 ── 4
	//    └─ 3
	// 9; video a placed twice
	s, err := tree.New(1,
		[]tree.Folder{f("1", "", 0), f("3", "1", 1), f("2", "1", 0), f("4", "2", 0), f("9", "", 1)},
		[]tree.Video{v("a"), v("b"), v("c")},
		[]tree.Placement{p("2", "b", 1), p("2", "a", 0), p("4", "a", 0), p("9", "c", 0)})
	require.NoError(t, err)

	require.Equal(t, s.Roots(), slices.Collect(s.AllRoots()))
	var fids []string
	for fo := range s.AllFolders() {
		fids = append(fids, fo.VimeoID)
		require.Equal(t, s.Children(fo.VimeoID), slices.Collect(s.AllChildren(fo.VimeoID)))
		require.Equal(t, s.Contents(fo.VimeoID), slices.Collect(s.AllContents(fo.VimeoID)))
		require.Len(t, s.Contents(fo.VimeoID), s.ContentsLen(fo.VimeoID))
	}
	require.Equal(t, []string{"1", "9", "2", "3", "4"}, fids)
	vids := map[string]tree.Video{}
	for vi := range s.AllVideos() {
		vids[vi.VimeoID] = *vi
	}
	require.Equal(t, s.VideoIDs(), slices.Sorted(maps.Keys(vids)))
	require.Equal(t, s.Videos()[0], vids["a"])
	require.Equal(t, []string{"2", "4"}, s.FoldersOf("a"))
	require.Equal(t, []string{"a", "b"}, []string{s.Contents("2")[0].VideoVimeoID, s.Contents("2")[1].VideoVimeoID})

	// Early stop.
	n := 0
	for range s.AllVideos() {
		n++
		break
	}
	require.Equal(t, 1, n)
}

func TestNewRejectsDuplicatePlacementOfAMultiHomedVideo(t *testing.T) {
	_, err := tree.New(1, []tree.Folder{f("1", "", 0), f("2", "1", 0)}, []tree.Video{v("a")},
		[]tree.Placement{p("1", "a", 0), p("2", "a", 0), p("2", "a", 1)})
	require.ErrorIs(t, err, tree.ErrDuplicate)
}

package library_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
)

// With WarmSearch, the served generation's search index gets built without
// any search, also after a burst of patched generations (which coalesce),
// and the warmer then stops.
func TestWarmSearchFollowsTheNewestGeneration(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	_, err := st.Update(ctx, func(tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, []tree.Folder{{VimeoID: "1", Name: "root"}, {VimeoID: "2", ParentVimeoID: "1", Name: "Onboarding"}}); err != nil {
			return err
		}
		var vs []tree.Video
		var ps []tree.Placement
		for i := range 50 {
			id := string(rune('a'+i%26)) + string(rune('a'+i/26))
			vs = append(vs, tree.Video{VimeoID: id, Title: "video " + id, Status: tree.StatusAvailable})
			ps = append(ps, tree.Placement{FolderVimeoID: "2", VideoVimeoID: id, SortOrder: i})
		}
		if err := tx.UpsertVideos(ctx, vs); err != nil {
			return err
		}
		return tx.PlaceVideos(ctx, ps)
	})
	require.NoError(t, err)
	_, _, err = st.AddRule(ctx, entitle.Rule{Subject: entitle.Subject{Kind: entitle.Everyone}, Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: entitle.Allow})
	require.NoError(t, err)

	s, err := library.New(st, &library.Options{WarmSearch: true})
	require.NoError(t, err)
	require.NoError(t, s.Refresh(ctx))
	warm := func() bool { return library.SearchWarm(s) }
	require.Eventually(t, warm, 10*time.Second, time.Millisecond, "the first generation's index")

	for i := range 20 {
		_, err := st.Update(ctx, func(tx tree.Tx) error {
			return tx.UpsertVideos(ctx, []tree.Video{{VimeoID: "aa", Title: "renamed " + string(rune('a'+i)), Status: tree.StatusAvailable}})
		})
		require.NoError(t, err)
		require.NoError(t, s.Refresh(ctx))
	}
	last := library.GenerationSnapshot(s)
	require.Equal(t, "renamed t", last.Video("aa").Title)
	require.Eventually(t, warm, 10*time.Second, time.Millisecond, "the newest generation's index")
	require.Same(t, last, library.GenerationSnapshot(s))
}

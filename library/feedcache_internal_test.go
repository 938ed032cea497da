package library

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/rank"
)

// A stored feed does not keep the generation it was resolved against alive:
// the feed cache may hold feeds of older generations (never served) for a
// while, and each would otherwise keep that generation's lists.
func TestStoredFeedHoldsItsGenerationWeakly(t *testing.T) {
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 20, Videos: 200, Depth: 3, Rules: 5, Roles: 2, Segments: 1, Seed: 3})
	require.NoError(t, err)
	sf, id := func() (*storedFeed, string) { // the generation is not referenced past this call
		ct := buildContent(g.Snapshot)
		id := ""
		for v := range g.Snapshot.AllVideos() {
			id = v.VimeoID
			break
		}
		sf := newStoredFeed(ct, 1, &rank.Feed{UserID: "u", ComputedAt: time.Now(), Items: []rank.Item{{VideoID: id, Score: 1}}}, time.Now())
		require.NotNil(t, sf.items[0].vn, "the item is resolved against the generation")
		require.Same(t, ct, sf.ct.Value())
		return sf, id
	}()
	for range 5 {
		runtime.GC()
	}
	require.Nil(t, sf.ct.Value(), "the generation was collected while the feed was kept")
	require.Equal(t, id, sf.items[0].vn.v.VimeoID, "the items' nodes are still there")
}

package library_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
)

// TestInvalidate: each scope empties the in-process cache and drops the
// shared cache entries of the folders that show what changed.
func TestInvalidate(t *testing.T) {
	ctx := context.Background()
	cache := newMapCache()
	lib, _ := seeded(t, &library.Options{PollInterval: -1, Cache: cache})
	warm := func() {
		_, err := lib.HomeJSON(ctx, alice)
		require.NoError(t, err)
		_, err = lib.FolderJSON(ctx, alice, librarytest.Deals, "", 0)
		require.NoError(t, err)
		require.NotZero(t, lib.CacheStats().Pages)
		require.NotZero(t, lib.CacheStats().Bytes)
	}

	warm()
	require.NoError(t, lib.InvalidateVideo(ctx, "1001"))
	require.Zero(t, lib.CacheStats().Pages)
	require.Equal(t, []string{librarytest.Deals}, cache.invalidated[len(cache.invalidated)-1], "the folder the video is placed in")

	warm()
	require.NoError(t, lib.InvalidateAll(ctx))
	require.Zero(t, lib.CacheStats().Pages)
	require.Len(t, cache.invalidated[len(cache.invalidated)-1], 7, "every folder")

	require.ErrorIs(t, lib.InvalidateVideo(ctx, "999999"), library.ErrNotFound)
	idx, err := lib.Index()
	require.NoError(t, err)
	require.NotNil(t, idx.Snapshot().Video("1001"))

	empty, err := library.New(librarytest.NewStatic(nil, nil), nil)
	require.NoError(t, err)
	_, err = empty.Index()
	require.ErrorIs(t, err, library.ErrNotReady)
	require.ErrorIs(t, empty.InvalidateAll(ctx), library.ErrNotReady)
	require.Zero(t, empty.CacheStats())
}

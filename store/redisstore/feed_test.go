package redisstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/store/redisstore"
)

func TestRankedFeed(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	_, err := e.store.RankedFeed(ctx, "u1", 4)
	require.ErrorIs(t, err, rank.ErrNoFeed)

	f := &rank.Feed{UserID: "u1", ContentVersion: 4, Items: []rank.Item{
		{VideoID: "2", Score: 2, Reason: rank.Reason{Kind: rank.ReasonWatched, VideoID: "9", FolderID: "12"}},
		{VideoID: "1", Score: 1, Reason: rank.Reason{Kind: rank.ReasonPopular, Audience: "members"}},
	}}
	require.NoError(t, e.store.SetRankedFeed(ctx, f, 0))
	got, err := e.store.RankedFeed(ctx, "u1", 4)
	require.NoError(t, err)
	require.Equal(t, f.Items, got.Items)
	_, err = e.store.RankedFeed(ctx, "u1", 5)
	require.ErrorIs(t, err, rank.ErrNoFeed, "another content version misses")

	// The next version replaces it: the key is ranked:{user}:{version}.
	require.NoError(t, e.store.SetRankedFeed(ctx, &rank.Feed{UserID: "u1", ContentVersion: 5, Items: f.Items[:1]}, 0))
	_, err = e.store.RankedFeed(ctx, "u1", 4)
	require.ErrorIs(t, err, rank.ErrNoFeed)
	b, err := e.store.Get(ctx, redisstore.RankedKey("u1", 5))
	require.NoError(t, err)
	require.Equal(t, "2\t2\tbecause_you_watched|9|12|\n", string(b))
	require.ErrorIs(t, e.store.SetRanked(ctx, "u1", 6, []redisstore.RankedItem{{VideoID: "1\t2"}}, 0), redisstore.ErrInvalid)
}

package api_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/memstore"
)

// Every API instance keeps the feeds it served in process, and a new
// ranking written to Redis (as the ranking pipeline writes it) reaches each
// of them promptly, through the ranked-feed announcements.
func TestNewFeedsReachEveryInstance(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := memstore.New()
	require.NoError(t, librarytest.Seed(ctx, st))
	rs := newRedisStore(t)
	viewer := library.Viewer{UserID: "u-sales", Roles: []string{"sales"}}
	var libs []*library.Service
	for range 2 {
		lib, err := library.New(st, &library.Options{PollInterval: -1, Feeds: library.FeedChain(rs, st),
			FeedChanges: api.RedisFeedChanges(rs)})
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = lib.Run(ctx)
		}()
		t.Cleanup(func() { cancel(); <-done })
		require.NoError(t, lib.WaitReady(ctx))
		libs = append(libs, lib)
	}
	version := libs[0].Status().ContentVersion
	write := func(ids ...string) {
		f := &rank.Feed{UserID: viewer.UserID, ContentVersion: version}
		for _, id := range ids {
			f.Items = append(f.Items, rank.Item{VideoID: id, Score: 1})
		}
		require.NoError(t, rs.SetRankedFeed(ctx, f, time.Hour))
	}
	served := func(lib *library.Service) []string {
		page, err := lib.Feed(ctx, viewer, "", 10)
		require.NoError(t, err)
		out := []string{}
		for _, v := range page.Videos {
			out = append(out, v.ID)
		}
		return out
	}
	write("1201", "1202")
	for _, lib := range libs {
		require.Equal(t, []string{"1201", "1202"}, served(lib))
	}
	write("1202", "1001")
	for _, lib := range libs {
		require.Eventually(t, func() bool { return slices.Equal(served(lib), []string{"1202", "1001"}) },
			5*time.Second, 5*time.Millisecond, "the new ranking is served without waiting for FeedMaxAge")
	}
	_, err := rs.InvalidateRanked(ctx, viewer.UserID)
	require.NoError(t, err)
	for _, lib := range libs {
		require.Eventually(t, func() bool { return len(served(lib)) == 0 }, 5*time.Second, 5*time.Millisecond)
	}
}

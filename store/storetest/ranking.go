package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/rank"
)

// RankingStore is what the ranked-feed conformance suite exercises
// (store/pgstore, store/memstore).
type RankingStore interface {
	SetRankedFeed(ctx context.Context, f *rank.Feed) error
	RankedFeed(ctx context.Context, userID string, contentVersion int64) (*rank.Feed, error)
	RecordAudience(ctx context.Context, userID string, roles []string, segments map[string]string) error
	UserAudience(ctx context.Context, userID string) ([]string, map[string]string, error)
}

// TestRankingStore runs the ranked-feed conformance suite. newStore returns
// a fresh store holding videos 1001, 1201 and 1202 (librarytest's seed) and
// two users, whose ids it returns.
func TestRankingStore(t *testing.T, newStore func(t *testing.T) (RankingStore, string, string)) {
	ctx := context.Background()
	s, u1, u2 := newStore(t)
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

	_, err := s.RankedFeed(ctx, u1, 1)
	require.ErrorIs(t, err, rank.ErrNoFeed)

	f := &rank.Feed{UserID: u1, ContentVersion: 3, ComputedAt: at, Items: []rank.Item{
		{VideoID: "1202", Score: 2.5, Reason: rank.Reason{Kind: rank.ReasonWatched, VideoID: "1201", FolderID: "12"}},
		{VideoID: "1001", Score: 1, Reason: rank.Reason{Kind: rank.ReasonPopular, Audience: "members"}},
		{VideoID: "1201", Score: 0.5, Reason: rank.Reason{Kind: rank.ReasonNew, FolderID: "12"}},
	}}
	require.NoError(t, s.SetRankedFeed(ctx, f))
	require.NoError(t, s.SetRankedFeed(ctx, &rank.Feed{UserID: u2, ContentVersion: 3, ComputedAt: at, Items: []rank.Item{{VideoID: "1001", Score: 7}}}))
	got, err := s.RankedFeed(ctx, u1, 99) // the last feed, whatever the version asked
	require.NoError(t, err)
	require.Equal(t, u1, got.UserID)
	require.Equal(t, int64(3), got.ContentVersion)
	require.True(t, at.Equal(got.ComputedAt))
	require.Equal(t, f.Items, got.Items)

	// Replacing drops the old rows.
	require.NoError(t, s.SetRankedFeed(ctx, &rank.Feed{UserID: u1, ContentVersion: 4, ComputedAt: at.Add(time.Minute),
		Items: []rank.Item{{VideoID: "1201", Score: 3, Reason: rank.Reason{Kind: rank.ReasonContinue}}}}))
	got, err = s.RankedFeed(ctx, u1, 4)
	require.NoError(t, err)
	require.Equal(t, []rank.Item{{VideoID: "1201", Score: 3, Reason: rank.Reason{Kind: rank.ReasonContinue}}}, got.Items)
	got, err = s.RankedFeed(ctx, u2, 4)
	require.NoError(t, err)
	require.Equal(t, []rank.Item{{VideoID: "1001", Score: 7, Reason: rank.Reason{Kind: rank.ReasonForYou}}}, got.Items, "another user's feed is untouched")

	// Audiences: none, then the last recorded.
	roles, segs, err := s.UserAudience(ctx, u1)
	require.NoError(t, err)
	require.Empty(t, roles)
	require.Empty(t, segs)
	require.NoError(t, s.RecordAudience(ctx, u1, []string{"sales"}, map[string]string{"tier": "free"}))
	require.NoError(t, s.RecordAudience(ctx, u1, []string{"member", "sales"}, map[string]string{"tier": "gold"}))
	roles, segs, err = s.UserAudience(ctx, u1)
	require.NoError(t, err)
	require.Equal(t, []string{"member", "sales"}, roles)
	require.Equal(t, map[string]string{"tier": "gold"}, segs)
	roles, _, err = s.UserAudience(ctx, u2)
	require.NoError(t, err)
	require.Empty(t, roles)

	// An empty feed is no feed.
	require.NoError(t, s.SetRankedFeed(ctx, &rank.Feed{UserID: u1, ContentVersion: 5, ComputedAt: at}))
	_, err = s.RankedFeed(ctx, u1, 5)
	require.ErrorIs(t, err, rank.ErrNoFeed)
}

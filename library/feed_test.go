package library_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/rank"
)

// feeds is a library.FeedSource over a map, keyed by user; version, if
// set, must match.
type feeds struct {
	m       map[string]*rank.Feed
	version int64
	err     error
	asked   int
}

func (f *feeds) RankedFeed(_ context.Context, user string, version int64) (*rank.Feed, error) {
	f.asked++
	if f.err != nil {
		return nil, f.err
	}
	if fd, ok := f.m[user]; ok && (f.version == 0 || f.version == version) {
		return fd, nil
	}
	return nil, rank.ErrNoFeed
}

func feedIDs(vs []library.FeedVideo) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func TestFeedFilteredAtServeTime(t *testing.T) {
	ctx := context.Background()
	items := []rank.Item{
		{VideoID: "1002", Score: 9}, // denied to sales by a video rule
		{VideoID: "1001", Score: 8, Reason: rank.Reason{Kind: rank.ReasonWatched, VideoID: "1002", FolderID: "100"}},
		{VideoID: "1206", Score: 7}, // secret
		{VideoID: "1201", Score: 6, Reason: rank.Reason{Kind: rank.ReasonPopular, Audience: "sales"}},
		{VideoID: "1101", Score: 5}, // engineering
		{VideoID: "1202", Score: 4, Reason: rank.Reason{Kind: rank.ReasonNew, FolderID: "12"}},
		{VideoID: "999999", Score: 3}, // not in the library
		{VideoID: "1203", Score: 2, Reason: rank.Reason{Kind: rank.ReasonContinue}},
	}
	computed := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	src := &feeds{m: map[string]*rank.Feed{alice.UserID: {UserID: alice.UserID, ComputedAt: computed, Items: items}}}
	lib, st := seeded(t, &library.Options{PollInterval: -1, Feeds: library.FeedChain(&feeds{}, src)})

	page, err := lib.Feed(ctx, alice, "", 2)
	require.NoError(t, err)
	require.Equal(t, []string{"1001", "1201"}, feedIDs(page.Videos))
	require.Equal(t, "Recommended for you", page.Videos[0].Reason, "the watched video is not alice's to see: not named")
	require.Equal(t, rank.ReasonForYou, page.Videos[0].ReasonKind)
	require.Equal(t, "Popular with sales", page.Videos[1].Reason)
	require.NotEmpty(t, page.NextCursor)
	first := page.NextCursor
	page2, err := lib.Feed(ctx, alice, page.NextCursor, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"1202", "1203"}, feedIDs(page2.Videos))
	require.Equal(t, "New in Public", page2.Videos[0].Reason)
	require.Equal(t, "Continue watching", page2.Videos[1].Reason)
	require.Empty(t, page2.NextCursor)

	// Access lost: gone at once, before any recompute.
	s, err := entitle.ParseSubject("role:sales")
	require.NoError(t, err)
	_, _, err = st.AddRule(ctx, entitle.Rule{Subject: s, Target: entitle.Target{Kind: entitle.FolderTarget, ID: "12"}, Effect: entitle.Deny})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	page, err = lib.Feed(ctx, alice, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"1001"}, feedIDs(page.Videos))

	// A recomputed feed: the cursor continues after the last video served.
	src.m[alice.UserID] = &rank.Feed{ComputedAt: computed.Add(time.Hour), Items: []rank.Item{{VideoID: "2001"}, {VideoID: "1201"}, {VideoID: "1001"}}}
	page, err = lib.Feed(ctx, alice, first, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"1001"}, feedIDs(page.Videos))
	page, err = lib.Feed(ctx, alice, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"2001", "1001"}, feedIDs(page.Videos))

	// Nobody's feed yet: empty, never computed here.
	page, err = lib.Feed(ctx, bob, "", 10)
	require.NoError(t, err)
	require.Empty(t, page.Videos)
	_, err = lib.Feed(ctx, alice, "%%%", 10)
	require.ErrorIs(t, err, library.ErrInvalid)

	boom := errors.New("boom")
	lib2, _ := seeded(t, &library.Options{PollInterval: -1, Feeds: library.FeedChain(&feeds{err: boom})})
	_, err = lib2.Feed(ctx, alice, "", 10)
	require.ErrorIs(t, err, boom)
}

// FeedJSON is byte for byte json.Marshal of Feed, on every page.
func TestFeedJSONIsJSONMarshal(t *testing.T) {
	ctx := context.Background()
	items := []rank.Item{
		{VideoID: "1001", Score: 1e-7, Reason: rank.Reason{Kind: rank.ReasonWatched, VideoID: "1001", FolderID: "100"}},
		{VideoID: "2001", Score: 1e22, Reason: rank.Reason{Kind: rank.ReasonNew, FolderID: "1"}},
		{VideoID: "1206", Score: 3},
		{VideoID: "1201", Score: 0.1 + 0.2, Reason: rank.Reason{Kind: rank.ReasonPopular, Audience: "<sales & co>"}},
		{VideoID: "1202", Score: 0, Reason: rank.Reason{Kind: rank.ReasonContinue}},
		{VideoID: "1203", Score: -2.5e-9},
	}
	for _, computed := range []time.Time{{}, time.Date(2026, 5, 1, 0, 0, 0, 123, time.UTC)} {
		src := &feeds{m: map[string]*rank.Feed{alice.UserID: {UserID: alice.UserID, ComputedAt: computed, Items: items}}}
		lib, _ := seeded(t, &library.Options{PollInterval: -1, Feeds: src})
		for _, v := range []library.Viewer{alice, bob, gold} {
			cursor, pages := "", 0
			for {
				page, err := lib.Feed(ctx, v, cursor, 2)
				require.NoError(t, err)
				want, err := json.Marshal(page)
				require.NoError(t, err)
				got, err := lib.FeedJSON(ctx, v, cursor, 2)
				require.NoError(t, err)
				require.Equal(t, string(want), string(got))
				pages++
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			if v.UserID == alice.UserID {
				require.Equal(t, 3, pages)
			}
		}
	}
}

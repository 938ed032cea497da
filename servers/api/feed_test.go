package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/servers/api"
)

// anyUserFeed gives every user the same stored feed, counting calls.
type anyUserFeed struct {
	items []rank.Item
	asked int
}

func (f *anyUserFeed) RankedFeed(_ context.Context, user string, _ int64) (*rank.Feed, error) {
	f.asked++
	return &rank.Feed{UserID: user, ComputedAt: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Items: f.items}, nil
}

func TestFeedRoute(t *testing.T) {
	src := &anyUserFeed{items: []rank.Item{
		{VideoID: "1002", Score: 9}, // denied to sales
		{VideoID: "1001", Score: 8, Reason: rank.Reason{Kind: rank.ReasonNew, FolderID: "100"}},
		{VideoID: "1101", Score: 7}, // engineering only
		{VideoID: "1201", Score: 6, Reason: rank.Reason{Kind: rank.ReasonPopular, Audience: "sales"}},
		{VideoID: "1202", Score: 5, Reason: rank.Reason{Kind: rank.ReasonContinue}},
	}}
	e := newEnv(t, true, nil, &library.Options{PollInterval: -1, Feeds: src})

	r := e.get(t, "/feed?limit=2", &uAlice)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	checkResponse(t, "/feed", r)
	m := r.json(t)
	require.Equal(t, []string{"1001", "1201"}, ids(m["videos"]))
	vids := m["videos"].([]any)
	require.Equal(t, "New in Deals", vids[0].(map[string]any)["reason"])
	require.Equal(t, "popular", vids[1].(map[string]any)["reason_kind"])
	next := m["next_cursor"].(string)
	r = e.get(t, "/feed?limit=2&cursor="+next, &uAlice)
	require.Equal(t, []string{"1202"}, ids(r.json(t)["videos"]))

	r = e.get(t, "/feed", &uBob)
	require.Equal(t, []string{"1101", "1201", "1202"}, ids(r.json(t)["videos"]))
	requireError(t, e.get(t, "/feed?limit=x", &uAlice), http.StatusBadRequest, "invalid_argument")
	requireError(t, e.get(t, "/feed?cursor=%25%25", &uAlice), http.StatusBadRequest, "invalid_argument")
	require.Equal(t, http.StatusUnauthorized, e.get(t, "/feed", nil).status)

	// The home's ranked_for_you row: the same filtered feed.
	r = e.get(t, "/library/home", &uAlice)
	require.Equal(t, http.StatusOK, r.status)
	checkResponse(t, "/library/home", r)
	var row map[string]any
	for _, x := range r.json(t)["rows"].([]any) {
		if x.(map[string]any)["kind"] == library.RowRankedForYou {
			row = x.(map[string]any)
		}
	}
	require.NotNil(t, row, string(r.body))
	require.Equal(t, []string{"1001", "1201", "1202"}, ids(row["videos"]))
}

func TestFeedRouteAccessLostAtOnce(t *testing.T) {
	src := &anyUserFeed{items: []rank.Item{{VideoID: "1001"}, {VideoID: "1201"}}}
	e := newEnv(t, true, nil, &library.Options{PollInterval: -1, Feeds: src})
	require.Equal(t, []string{"1001", "1201"}, ids(e.get(t, "/feed", &uAlice).json(t)["videos"]))
	st := e.store
	rules, _, err := st.ListRules(context.Background())
	require.NoError(t, err)
	require.Equal(t, entitle.Target{Kind: entitle.FolderTarget, ID: "10"}, rules[0].Target)
	_, err = st.RemoveRule(context.Background(), rules[0].ID) // sales loses the Sales folder
	require.NoError(t, err)
	require.NoError(t, e.lib.Refresh(context.Background()))
	require.Equal(t, []string{"1201"}, ids(e.get(t, "/feed", &uAlice).json(t)["videos"]))
}

// oneInProgress is a progress store where every user is part-way through
// one video.
type oneInProgress struct {
	api.ProgressStore
	video string
}

func (p oneInProgress) Unfinished(_ context.Context, user string, _ int) ([]analytics.Progress, error) {
	return []analytics.Progress{{UserID: user, VideoID: p.video, Position: 20, LastEventAt: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}}, nil
}

// TestHomePersonalRowsComeFirst: continue watching, then ranked for you,
// then the rows every viewer of the audience shares.
func TestHomePersonalRowsComeFirst(t *testing.T) {
	src := &anyUserFeed{items: []rank.Item{{VideoID: "1201", Score: 6}}}
	e := newEnv(t, true, &api.Options{RateLimit: -1, Analytics: api.AnalyticsOptions{Progress: oneInProgress{video: "1001"}}},
		&library.Options{PollInterval: -1, Feeds: src})
	r := e.get(t, "/library/home", &uAlice)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	checkResponse(t, "/library/home", r)
	rows := r.json(t)["rows"].([]any)
	require.Greater(t, len(rows), 2, string(r.body))
	kinds := []any{rows[0].(map[string]any)["kind"], rows[1].(map[string]any)["kind"]}
	require.Equal(t, []any{library.RowContinueWatching, library.RowRankedForYou}, kinds)
	require.Equal(t, []string{"1001"}, ids(rows[0].(map[string]any)["videos"]))
	require.Equal(t, []string{"1201"}, ids(rows[1].(map[string]any)["videos"]))
}

package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/memstore"
)

// BenchmarkFeed is GET /feed server time as deployed (ops.ServerHandler's
// tracing, request id, access log and metrics around the API): token check, the
// user's stored feed of 200 (kept in process after its first read from
// Redis, as with FeedChanges in production), filtered against a
// 20,000-video snapshot, one page of 50 encoded. It reports p50 and p99 per
// request.
func BenchmarkFeed(b *testing.B) { benchFeed(b, "/feed", true) }

// BenchmarkFeedUncached is BenchmarkFeed with every request reading the
// feed from Redis (no FeedChanges): what a cache miss costs.
func BenchmarkFeedUncached(b *testing.B) { benchFeed(b, "/feed", false) }

// BenchmarkHomeRanked is GET /library/home with the ranked_for_you row of
// the same feed (20 videos).
func BenchmarkHomeRanked(b *testing.B) { benchFeed(b, "/library/home", true) }

func benchFeed(b *testing.B, path string, cached bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 2_000, Videos: 20_000, Depth: 8, Rules: 400, Roles: 20, Segments: 5, Seed: 7})
	require.NoError(b, err)
	rules := append(slices.Clone(g.Rules), entitle.Rule{ID: 100_000, Subject: entitle.Subject{Kind: entitle.Role, Name: "sales"},
		Target: entitle.Target{Kind: entitle.FolderTarget, ID: g.Snapshot.Roots()[0]}, Effect: entitle.Allow})
	rs := newRedisStore(b)
	users := memstore.New()
	lo := &library.Options{PollInterval: -1, Feeds: library.FeedChain(rs, users)}
	if cached {
		lo.FeedChanges = api.RedisFeedChanges(rs)
	}
	lib, err := library.New(librarytest.NewStatic(g.Snapshot, rules), lo)
	require.NoError(b, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = lib.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	require.NoError(b, lib.WaitReady(ctx))
	is, as := newAuth(b, users)
	srv, err := api.New(lib, as, &api.Options{RateLimit: -1})
	require.NoError(b, err)
	h := deployed(b, srv.Handler())
	token := is.IDToken(uAlice)
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	var me struct {
		User struct{ ID string } `json:"user"`
	}
	require.NoError(b, json.Unmarshal(get("/me").Body.Bytes(), &me))
	ids := g.Snapshot.VideoIDs()
	feed := &rank.Feed{UserID: me.User.ID, ContentVersion: lib.Status().ContentVersion}
	for i := range 200 {
		feed.Items = append(feed.Items, rank.Item{VideoID: ids[i*len(ids)/200], Score: float64(200 - i),
			Reason: rank.Reason{Kind: rank.ReasonNew, FolderID: g.Snapshot.FoldersOf(ids[i*len(ids)/200])[0]}})
	}
	require.NoError(b, rs.SetRankedFeed(ctx, feed, time.Hour))
	w := get("/feed")
	require.Equal(b, http.StatusOK, w.Code, w.Body.String())
	var page library.FeedPage
	require.NoError(b, json.Unmarshal(w.Body.Bytes(), &page))
	require.NotEmpty(b, page.Videos)
	if path != "/feed" {
		w := get(path)
		require.Equal(b, http.StatusOK, w.Code, w.Body.String())
		require.Contains(b, w.Body.String(), library.RowRankedForYou)
	}

	took := make([]time.Duration, 0, max(b.N, 1))
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		w := get(path)
		took = append(took, time.Since(start))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(len(page.Videos)), "videos/page")
}

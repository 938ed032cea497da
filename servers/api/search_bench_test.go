package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/memstore"
)

// BenchmarkSearchHTTP is GET /search server time as deployed
// (ops.ServerHandler's tracing, request id, access log and metrics, the
// API's middleware, token verification, the viewer's audience, the search, the
// JSON body) at 100,000 videos / 10,000 folders / 2,000 rules, for 500
// users of distinct audiences (roles and tiers from their tokens) cycling
// through 2,000 queries typed as users type them (librarytest.TextQueries).
// The index is built before timing. It reports p50 and p99 per request.
func BenchmarkSearchHTTP(b *testing.B) {
	ctx := context.Background()
	g, err := librarytest.Generate(librarytest.GenOptions{
		Folders: 10_000, Videos: 100_000, Depth: 10, Rules: 2_000, Roles: 40, Segments: 10, Seed: 2026})
	require.NoError(b, err)
	snap, vocab, err := librarytest.WithText(g.Snapshot, 18)
	require.NoError(b, err)
	lib, err := library.New(librarytest.NewStatic(snap, g.Rules), &library.Options{PollInterval: -1})
	require.NoError(b, err)
	require.NoError(b, lib.Refresh(ctx))

	is, err := authtest.Start(&authtest.Options{Keys: testKeys()})
	require.NoError(b, err)
	b.Cleanup(is.Close)
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{is.ClientID()}}}, nil)
	require.NoError(b, err)
	groups := map[string][]string{}
	for _, r := range g.Roles {
		groups[r] = []string{r}
	}
	as, err := auth.New(v, memstore.New(), nopAuditor{}, &auth.Options{GroupRoles: groups, SegmentClaims: map[string]string{"custom:tier": "tier"}})
	require.NoError(b, err)
	srv, err := api.New(lib, as, &api.Options{RateLimit: -1})
	require.NoError(b, err)
	h := deployed(b, srv.Handler())

	tokens := make([]string, 500)
	for i := range tokens {
		u := authtest.User{Email: fmt.Sprintf("u%d@example.com", i),
			Groups: []string{g.Roles[i%len(g.Roles)], g.Roles[(i*7+3)%len(g.Roles)]},
			Extra:  map[string]any{"custom:tier": g.Segments[i%len(g.Segments)]}}
		tokens[i] = is.IDToken(u)
	}
	queries := librarytest.TextQueries(vocab, 2_000, 7)
	get := func(i int) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/search?limit=20&q="+queryEscape(queries[i%len(queries)]), nil)
		req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for i := range tokens { // sign every user in and build the index
		w := get(i)
		require.Equal(b, http.StatusOK, w.Code, w.Body.String())
	}

	took := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		w := get(i)
		if len(took) < cap(took) {
			took = append(took, time.Since(start))
		}
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

func queryEscape(s string) string { return url.QueryEscape(s) }

package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

// Sizes of the benchmark data set (issue #13: admin lists in ≤ 100 ms of
// server time at this size; explain ≤ 1 ms).
const (
	benchFolders        = 10_000
	benchVideos         = 100_000
	benchProviderEvents = 100_000
	benchDeadLetters    = 10_000
	benchSyncRuns       = 5_000
)

// BenchmarkAdminLists serves the admin lists from PostgreSQL holding the
// benchmark data set, through the API handler (authentication, query,
// JSON): the time per op is server time, without the network.
//
//	go test -run '^$' -bench AdminLists -benchtime 50x ./servers/admin/
func BenchmarkAdminLists(b *testing.B) {
	ctx := context.Background()
	st, err := pgstore.Open(ctx, testenv.PostgresURL(b), nil)
	require.NoError(b, err)
	b.Cleanup(st.Close)
	_, err = st.Migrate(ctx)
	require.NoError(b, err)
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: benchFolders, Videos: benchVideos, Depth: 6, Rules: 200, Roles: 20, Segments: 5, Seed: 1})
	require.NoError(b, err)
	_, err = st.Update(ctx, func(tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, g.Snapshot.Folders()); err != nil {
			return err
		}
		if err := tx.UpsertVideos(ctx, g.Snapshot.Videos()); err != nil {
			return err
		}
		return tx.PlaceVideos(ctx, g.Snapshot.Placements())
	})
	require.NoError(b, err)
	for _, sql := range []string{
		// 2% hidden, 2% deleted (plus the generator's 2% transcoding).
		`UPDATE videos SET hidden = true WHERE id % 50 = 1`,
		`UPDATE videos SET deleted_at = now() WHERE id % 50 = 2`,
		`INSERT INTO provider_events (provider, event_key, event_type, object_id, source_timestamp, payload, received_at, status, error)
		 SELECT 'vimeo', 'k' || i, (ARRAY['video.updated','video.deleted','video.transcode_complete'])[1 + i % 3], (100000000 + i % 100000)::text,
		        now() - (i || ' seconds')::interval, '{"uri":"/videos/1"}', now() - ((100000 - i) || ' seconds')::interval,
		        CASE WHEN i % 100 = 0 THEN 'failed' ELSE 'processed' END, CASE WHEN i % 100 = 0 THEN 'vimeo answered 503' ELSE '' END
		 FROM generate_series(1, ` + strconv.Itoa(benchProviderEvents) + `) i`,
		`INSERT INTO dead_letters (event_id, topic, dead_topic, key, payload, error, attempts, first_failed_at, last_failed_at, status)
		 SELECT 'ev-' || i, (ARRAY['vimeo.sync.normalized','analytics.events'])[1 + i % 2], 'deadletters.vimeo', 'video:' || i,
		        '{"id":"x"}', 'failure number ' || i, 5, now() - ((10000 - i) || ' minutes')::interval, now() - ((10000 - i) || ' minutes')::interval,
		        (ARRAY['open','replayed','ignored'])[1 + i % 3]
		 FROM generate_series(1, ` + strconv.Itoa(benchDeadLetters) + `) i`,
		`INSERT INTO sync_runs (trigger, started_at, finished_at, complete, held, counts, api_calls)
		 SELECT (ARRAY['schedule','poll','admin'])[1 + i % 3], now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval + interval '3 seconds',
		        i % 20 <> 0, false, '{"video.updated": 3}', 120
		 FROM generate_series(1, ` + strconv.Itoa(benchSyncRuns) + `) i`,
		`VACUUM ANALYZE`,
	} {
		_, err := st.Pool().Exec(ctx, sql)
		require.NoError(b, err, sql)
	}

	is, err := authtest.Start(&authtest.Options{Keys: testKeys()})
	require.NoError(b, err)
	b.Cleanup(is.Close)
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{is.ClientID()}}}, nil)
	require.NoError(b, err)
	authn, err := auth.New(v, st, nopAuthAuditor{}, &auth.Options{GroupRoles: map[string][]string{"admins": {"admin"}}})
	require.NoError(b, err)
	svc, err := admin.New(st, nil)
	require.NoError(b, err)
	api, err := admin.NewAPI(svc, authn)
	require.NoError(b, err)
	h := api.Handler()
	token := "Bearer " + is.IDToken(uAdmin)

	for _, path := range []string{
		"/admin/sync-runs",
		"/admin/sync-runs?status=failed&trigger=admin",
		"/admin/provider-events",
		"/admin/provider-events?status=failed",
		"/admin/provider-events?type=video.deleted&before=50000",
		"/admin/provider-events?q=100099",
		"/admin/provider-events?q=no-such-text",
		"/admin/provider-events?q=1",
		"/admin/dead-letters?q=failure",
		"/admin/dead-letters",
		"/admin/dead-letters?status=open&topic=analytics.events",
		"/admin/dead-letters?q=number%209999",
		"/admin/dead-letters/5000",
		"/admin/videos",
		"/admin/videos?state=hidden",
		"/admin/videos?q=Video%2010009",
		"/admin/overview",
	} {
		b.Run(path, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Authorization", token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			require.Equal(b, http.StatusOK, w.Code, w.Body.String())
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// fixedLibrary serves one compiled index.
type fixedLibrary struct{ idx *entitle.Index }

func (f fixedLibrary) Index() (*entitle.Index, error) { return f.idx, nil }
func (f fixedLibrary) Status() library.Status         { return library.Status{Ready: true} }

// BenchmarkExplain explains one audience × video on the benchmark tree
// (10,000 folders, 100,000 videos, depth 6, 200 rules).
//
//	go test -run '^$' -bench Explain ./servers/admin/
func BenchmarkExplain(b *testing.B) {
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: benchFolders, Videos: benchVideos, Depth: 6, Rules: 200, Roles: 20, Segments: 5, Seed: 1})
	require.NoError(b, err)
	idx, err := entitle.New(g.Snapshot, g.Rules, 1, nil)
	require.NoError(b, err)
	svc, err := admin.New(nilStore{}, &admin.Options{Library: fixedLibrary{idx}})
	require.NoError(b, err)
	ctx := context.Background()
	ids := g.Snapshot.VideoIDs()
	req := admin.ExplainRequest{Roles: g.Roles[:2], Segments: map[string]string{"tier": g.Segments[0]}}
	b.Run("video", func(b *testing.B) {
		i := 0
		for b.Loop() {
			req.VideoID = ids[i%len(ids)]
			i += 7919
			if _, err := svc.Explain(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	req.VideoID = ""
	b.Run("summary", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.Explain(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// nilStore is a Store for benchmarks that never reach it.
type nilStore struct{ admin.Store }

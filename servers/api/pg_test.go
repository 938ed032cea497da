package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/store/redisstore"
	"github.com/vidlib/vidlib/tree"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type pgEnv struct {
	*env
	pg *pgstore.Store
	rs *redisstore.Store
}

// newPGEnv is the full path: PostgreSQL store, Redis versions and cache,
// library kept current by pub/sub only (no polling), API with real tokens.
func newPGEnv(t testing.TB) *pgEnv {
	t.Helper()
	ctx := context.Background()
	pg, err := pgstore.Open(ctx, testenv.PostgresURL(t), nil)
	require.NoError(t, err)
	t.Cleanup(pg.Close)
	_, err = pg.Migrate(ctx)
	require.NoError(t, err)
	require.NoError(t, librarytest.Seed(ctx, pg))
	rs := newRedisStore(t)

	lib, err := library.New(pg, &library.Options{PollInterval: -1, Versions: api.RedisVersions(rs), Cache: api.RedisCache(rs, time.Minute)})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = lib.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	require.NoError(t, lib.WaitReady(ctx))

	is, as := newAuth(t, pg)
	srv, err := api.New(lib, as, &api.Options{RateLimit: -1})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &pgEnv{env: &env{issuer: is, lib: lib, srv: srv, http: hs}, pg: pg, rs: rs}
}

func TestFullPathPostgresRedis(t *testing.T) {
	e := newPGEnv(t)
	ctx := context.Background()

	r := e.get(t, "/library/home", &uAlice)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	checkResponse(t, "/library/home", r)
	require.Equal(t, []string{librarytest.Sales, librarytest.Public}, ids(r.json(t)["folders"]))
	r = e.get(t, "/folders/"+librarytest.Deals, &uAlice)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []string{"1001"}, ids(r.json(t)["videos"]))
	require.Equal(t, http.StatusOK, e.get(t, "/videos/1001", &uAlice).status)
	require.Equal(t, http.StatusOK, e.get(t, "/videos/1001/playback", &uAlice).status)
	require.Equal(t, http.StatusOK, e.get(t, "/me", &uAlice).status)
	requireError(t, e.get(t, "/videos/1002", &uAlice), http.StatusNotFound, "not_found")
	requireError(t, e.get(t, "/videos/1002/playback", &uAlice), http.StatusNotFound, "not_found")
	requireError(t, e.get(t, "/folders/"+librarytest.Sales, &uCarol), http.StatusNotFound, "not_found")
	requireError(t, e.get(t, "/folders/x", &uCarol), http.StatusBadRequest, "invalid_argument")
	requireError(t, e.get(t, "/me", nil), http.StatusUnauthorized, "unauthenticated")

	// The home page went to Redis under the seed's key family.
	require.Eventually(t, func() bool {
		n, err := e.rs.InvalidateLibraryRoot(ctx)
		return err == nil && n > 0
	}, 10*time.Second, 5*time.Millisecond)

	// An entitlement change reaches the API through pub/sub alone.
	requireError(t, e.get(t, "/videos/1101", &uCarol), http.StatusNotFound, "not_found")
	_, ev, err := e.pg.AddRule(ctx, everyone(librarytest.Engineering))
	require.NoError(t, err)
	require.NoError(t, e.rs.PublishVersion(ctx, library.VersionEntitlement, ev))
	require.Eventually(t, func() bool { return e.get(t, "/videos/1101", &uCarol).status == http.StatusOK }, 10*time.Second, 2*time.Millisecond)

	// So does a mirrored edit.
	cv, err := e.pg.Update(ctx, func(tx tree.Tx) error { return tx.SetVideoHidden(ctx, "1101", true) })
	require.NoError(t, err)
	require.NoError(t, e.rs.PublishVersion(ctx, library.VersionContent, cv))
	require.Eventually(t, func() bool { return e.get(t, "/videos/1101", &uCarol).status == http.StatusNotFound }, 10*time.Second, 2*time.Millisecond)
	requireError(t, e.get(t, "/folders/"+librarytest.Engineering, &uCarol), http.StatusNotFound, "not_found")
}

func everyone(folder string) entitle.Rule {
	return entitle.Rule{Subject: entitle.Subject{Kind: entitle.Everyone},
		Target: entitle.Target{Kind: entitle.FolderTarget, ID: folder}, Effect: entitle.Allow}
}

// BenchmarkFreshness measures an entitlement change becoming visible through
// the API: rule written to PostgreSQL → version published on Redis →
// pub/sub → rebuild → the next request sees it. ns/op is that latency.
func BenchmarkFreshness(b *testing.B) {
	e := newPGEnv(b)
	ctx := context.Background()
	var id int64
	for i := 0; b.Loop(); i++ {
		var ev int64
		var err error
		if i%2 == 0 {
			var r entitle.Rule
			r, ev, err = e.pg.AddRule(ctx, everyone(librarytest.Engineering))
			id = r.ID
		} else {
			ev, err = e.pg.RemoveRule(ctx, id)
		}
		require.NoError(b, err)
		require.NoError(b, e.rs.PublishVersion(ctx, library.VersionEntitlement, ev))
		want := http.StatusOK
		if i%2 == 1 {
			want = http.StatusNotFound
		}
		for e.get(b, "/videos/1101", &uCarol).status != want {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// newRedisStore is a redisstore on the test Redis, under its own key prefix.
func newRedisStore(t testing.TB) *redisstore.Store {
	t.Helper()
	url, prefix := testenv.Redis(t)
	o, err := redis.ParseURL(url)
	require.NoError(t, err)
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	rs, err := redisstore.New(rdb, &redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	return rs
}

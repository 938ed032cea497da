package api_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/ops"
	"github.com/vidlib/vidlib/store/memstore"
)

var (
	keysOnce sync.Once
	keys     []*rsa.PrivateKey
)

func testKeys() []*rsa.PrivateKey {
	keysOnce.Do(func() {
		for range 2 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys = append(keys, k)
		}
	})
	return keys
}

type nopAuditor struct{}

func (nopAuditor) Record(context.Context, auth.AuditRecord) error { return nil }

// env is an API over a library over a store, with a local token issuer.
type env struct {
	issuer *authtest.Issuer
	lib    *library.Service
	srv    *api.Server
	http   *httptest.Server
	store  *memstore.Store
}

// Users of the seeded library, as token subjects.
var (
	uAlice = authtest.User{Email: "alice@example.com", Name: "Alice", Groups: []string{"sales"}}
	uBob   = authtest.User{Email: "bob@example.com", Groups: []string{"eng"}}
	uCarol = authtest.User{Email: "carol@example.com"}
	uGold  = authtest.User{Email: "gold@example.com", Extra: map[string]any{"custom:tier": "gold"}}
)

// newAuth returns an auth.Service trusting a fresh local issuer, over users
// (recording audiences in users when it can).
func newAuth(t testing.TB, users auth.UserStore) (*authtest.Issuer, *auth.Service) {
	t.Helper()
	is, err := authtest.Start(&authtest.Options{Keys: testKeys()})
	require.NoError(t, err)
	t.Cleanup(is.Close)
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{is.ClientID()}}}, nil)
	require.NoError(t, err)
	o := &auth.Options{
		GroupRoles:    map[string][]string{"sales": {"sales"}, "eng": {"eng"}},
		SegmentClaims: map[string]string{"custom:tier": "tier"},
	}
	if ar, ok := users.(auth.AudienceRecorder); ok { // as vidlib api records them
		o.Audiences = ar
	}
	as, err := auth.New(v, users, nopAuditor{}, o)
	require.NoError(t, err)
	return is, as
}

func newEnv(t testing.TB, load bool, apiOpts *api.Options, libOpts *library.Options) *env {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, librarytest.Seed(ctx, st))
	is, as := newAuth(t, st)
	lo := library.Options{PollInterval: -1}
	if libOpts != nil {
		lo = *libOpts
	}
	lib, err := library.New(st, &lo)
	require.NoError(t, err)
	if load {
		require.NoError(t, lib.Refresh(ctx))
	}
	ao := api.Options{RateLimit: -1}
	if apiOpts != nil {
		ao = *apiOpts
	}
	srv, err := api.New(lib, as, &ao)
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{issuer: is, lib: lib, srv: srv, http: hs, store: st}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

func (e *env) get(t testing.TB, path string, u *authtest.User, hdr ...string) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
	require.NoError(t, err)
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+e.issuer.IDToken(*u))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	res, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// requireError checks the vidlib error shape and code.
func requireError(t testing.TB, r resp, status int, code string) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	require.True(t, ok, string(r.body))
	require.Equal(t, code, e["code"], string(r.body))
	require.NotEmpty(t, e["message"])
}

func ids(list any) []string {
	out := []string{}
	for _, x := range list.([]any) {
		out = append(out, fmt.Sprint(x.(map[string]any)["id"]))
	}
	return out
}

var _ = strings.TrimSpace

// deployed is h inside the middleware the deployed API server puts around
// it (ops.ServerHandler: tracing, request id, sampled JSON access log, RED
// metrics, JSON errors), logging to io.Discard: what a benchmark measures.
func deployed(tb testing.TB, h http.Handler) http.Handler {
	tb.Helper()
	metrics, err := ops.NewMetrics(nil, nil)
	require.NoError(tb, err)
	tracing, err := ops.NewTracing(context.Background(), nil)
	require.NoError(tb, err)
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.InfoLevel))
	return ops.ServerHandler("api", h, log, &ops.HTTPServerOptions{Metrics: metrics, Tracing: tracing})
}

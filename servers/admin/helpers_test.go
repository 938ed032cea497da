package admin_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/events/kafkabus"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/store/redisstore"
	"github.com/vidlib/vidlib/tree"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	keysOnce sync.Once
	keys     []*rsa.PrivateKey
)

func testKeys() []*rsa.PrivateKey {
	keysOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys = []*rsa.PrivateKey{k}
	})
	return keys
}

// Users as token subjects: an admin (Cognito group "admins" → role admin)
// and a signed-in user without it.
var (
	uAdmin = authtest.User{Email: "ops@example.com", Name: "Ops", Groups: []string{"admins"}}
	uUser  = authtest.User{Email: "user@example.com", Groups: []string{"sales"}}
)

type nopAuthAuditor struct{}

func (nopAuthAuditor) Record(context.Context, auth.AuditRecord) error { return nil }

// auditLog records admin audit records and answers searches over them.
type auditLog struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (l *auditLog) Record(_ context.Context, r audit.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Seq = int64(len(l.recs) + 1)
	l.recs = append(l.recs, r)
	return nil
}

func (l *auditLog) SearchAudit(_ context.Context, q audit.Query) (audit.Page, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if q.Limit == 0 {
		q.Limit = 50
	}
	var p audit.Page
	for i := len(l.recs) - 1; i >= 0 && len(p.Items) < q.Limit; i-- {
		r := l.recs[i]
		if (q.Before > 0 && r.Seq >= q.Before) || (q.ActorID != "" && r.ActorID != q.ActorID) || (q.Action != "" && r.Action != q.Action) ||
			(q.ObjectKind != "" && r.ObjectKind != q.ObjectKind) || (q.ObjectID != "" && r.ObjectID != q.ObjectID) {
			continue
		}
		p.Items = append(p.Items, r)
	}
	if len(p.Items) == q.Limit {
		p.Next = p.Items[len(p.Items)-1].Seq
	}
	return p, nil
}

func (l *auditLog) find(action audit.Action, objectID string) []audit.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []audit.Record
	for _, r := range l.recs {
		if r.Action == action && (objectID == "" || r.ObjectID == objectID) {
			out = append(out, r)
		}
	}
	return out
}

// source is a tree.Source serving a fixed tree: what Vimeo has "now".
type source struct {
	mu sync.Mutex
	w  tree.Walk
}

func newSource() *source {
	f, v, p := librarytest.SeedTree()
	return &source{w: tree.Walk{RootVimeoID: librarytest.Root, Folders: f, Videos: v, Placements: p, Complete: true, Calls: 3}}
}

// drop removes videos from the source (deleted in Vimeo).
func (s *source) drop(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gone := map[string]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	var vs []tree.Video
	var ps []tree.Placement
	for _, v := range s.w.Videos {
		if !gone[v.VimeoID] {
			vs = append(vs, v)
		}
	}
	for _, p := range s.w.Placements {
		if !gone[p.VideoVimeoID] {
			ps = append(ps, p)
		}
	}
	s.w.Videos, s.w.Placements = vs, ps
}

func (s *source) Walk(context.Context) (*tree.Walk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.w
	return &w, nil
}

func (s *source) Video(_ context.Context, id string) (*tree.RemoteVideo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.w.Videos {
		if v.VimeoID == id {
			rv := &tree.RemoteVideo{Video: v, Calls: 1}
			for _, p := range s.w.Placements {
				if p.VideoVimeoID == id {
					rv.FolderVimeoID = p.FolderVimeoID
				}
			}
			return rv, nil
		}
	}
	return nil, fmt.Errorf("video %s: %w", id, tree.ErrNotFound)
}

func (s *source) Folder(_ context.Context, id string) (*tree.RemoteFolder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.w.Folders {
		if f.VimeoID == id {
			return &tree.RemoteFolder{Folder: f, Calls: 1}, nil
		}
	}
	return nil, fmt.Errorf("folder %s: %w", id, tree.ErrNotFound)
}

func (s *source) Changes(_ context.Context, since tree.Cursor) (*tree.Changes, error) {
	return &tree.Changes{NotModified: true, Next: since}, nil
}

// env is the admin API over PostgreSQL, Kafka (kfake) and Redis, with a
// local token issuer, one loaded library and a mirror of a fake Vimeo.
type env struct {
	ctx    context.Context
	st     *pgstore.Store
	rs     *redisstore.Store
	rdb    *redis.Client
	prefix string
	redis  func(t *testing.T) *redisstore.Store // another connection to the same Redis namespace
	bus    *kafkabus.Bus
	kafka  *testenv.KafkaCluster
	issuer *authtest.Issuer
	authn  *auth.Service
	lib    *library.Service
	src    *source
	mirror *tree.Mirror
	audit  *auditLog
	svc    *admin.Service
	cache  admin.CacheBus
	http   *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{ctx: ctx, audit: &auditLog{}, src: newSource()}

	var err error
	e.st, err = pgstore.Open(ctx, testenv.PostgresURL(t), nil)
	require.NoError(t, err)
	t.Cleanup(e.st.Close)
	_, err = e.st.Migrate(ctx)
	require.NoError(t, err)
	require.NoError(t, librarytest.Seed(ctx, e.st))

	url, prefix := testenv.Redis(t)
	o, err := redis.ParseURL(url)
	require.NoError(t, err)
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	e.rs, err = redisstore.New(rdb, &redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	e.rdb, e.prefix = rdb, prefix
	e.redis = func(t *testing.T) *redisstore.Store {
		c := redis.NewClient(o)
		t.Cleanup(func() { _ = c.Close() })
		rs, err := redisstore.New(c, &redisstore.Options{Prefix: prefix})
		require.NoError(t, err)
		return rs
	}
	e.cache = admin.RedisCache(e.rs)

	e.kafka = testenv.Kafka(t)
	e.bus, err = kafkabus.New(e.kafka.Brokers(), &kafkabus.Options{TopicPrefix: e.kafka.TopicPrefix(), Partitions: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.bus.Close() })
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, e.bus.Provision(pctx))

	e.issuer, err = authtest.Start(&authtest.Options{Keys: testKeys()})
	require.NoError(t, err)
	t.Cleanup(e.issuer.Close)
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: e.issuer.URL(), ClientIDs: []string{e.issuer.ClientID()}}}, nil)
	require.NoError(t, err)
	e.authn, err = auth.New(v, e.st, nopAuthAuditor{}, &auth.Options{
		GroupRoles: map[string][]string{"admins": {"admin"}, "sales": {"sales"}}, PrincipalTTL: -1,
	})
	require.NoError(t, err)

	e.lib, err = library.New(e.st, &library.Options{PollInterval: -1})
	require.NoError(t, err)
	require.NoError(t, e.lib.Refresh(ctx))

	e.mirror, err = tree.NewMirror(e.st, e.src, &tree.MirrorOptions{RootVimeoID: librarytest.Root, MaxDeleteShare: 0.1})
	require.NoError(t, err)

	e.svc, err = admin.New(e.st, &admin.Options{
		Mirror: e.mirror, Library: e.lib, Publisher: e.bus, Cache: e.cache,
		Lag: e.bus, Groups: []admin.ConsumerGroup{{Group: "vidlib-applier", Topics: []string{"vimeo.sync.normalized"}}},
		Audit: e.audit, Auditor: e.audit,
	})
	require.NoError(t, err)
	api, err := admin.NewAPI(e.svc, e.authn)
	require.NoError(t, err)
	e.http = httptest.NewServer(api.Handler())
	t.Cleanup(e.http.Close)
	return e
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

// do sends a request as u (nil: anonymous); hdr are header name/value pairs.
func (e *env) do(t testing.TB, method, path string, u *authtest.User, body any, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	require.NoError(t, err)
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+e.issuer.IDToken(*u))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) get(t testing.TB, path string) resp { return e.do(t, http.MethodGet, path, &uAdmin, nil) }

func (e *env) post(t testing.TB, path string, body any, hdr ...string) resp {
	return e.do(t, http.MethodPost, path, &uAdmin, body, hdr...)
}

// requireError checks the vidlib error shape and code.
func requireError(t testing.TB, r resp, status int, code string) map[string]any {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	m := r.json(t)
	er, ok := m["error"].(map[string]any)
	require.True(t, ok, string(r.body))
	require.Equal(t, code, er["code"], string(r.body))
	require.NotEmpty(t, er["message"])
	d, _ := er["details"].(map[string]any)
	return d
}

func items(t testing.TB, r resp) []map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var out []map[string]any
	for _, x := range r.json(t)["items"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func field(list []map[string]any, name string) []any {
	out := []any{}
	for _, m := range list {
		out = append(out, m[name])
	}
	return out
}

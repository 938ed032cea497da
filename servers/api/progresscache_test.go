package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/redisstore"
)

// countingProgress counts the progress reads that reach the store.
type countingProgress struct {
	*memstore.Store
	reads atomic.Int64
}

func (c *countingProgress) Unfinished(ctx context.Context, user string, limit int) ([]analytics.Progress, error) {
	c.reads.Add(1)
	return c.Store.Unfinished(ctx, user, limit)
}

func (c *countingProgress) Progress(ctx context.Context, user string, videos ...string) (map[string]analytics.Progress, error) {
	c.reads.Add(1)
	return c.Store.Progress(ctx, user, videos...)
}

// instances are API servers over one store and library, as several
// instances of a deployment are, each with its own progress cache.
type instances struct {
	st    *countingProgress
	lib   *library.Service
	auth  api.Authenticator
	rs    *redisstore.Store // the versions every instance shares
	first *env
	tk    *analytics.Tokens
}

func newInstances(t *testing.T) *instances {
	t.Helper()
	ctx := context.Background()
	st := &countingProgress{Store: memstore.New()}
	require.NoError(t, librarytest.Seed(ctx, st))
	tk, err := analytics.NewTokens(testSecret)
	require.NoError(t, err)
	is, as := newAuth(t, st)
	lib, err := library.New(st, &library.Options{PollInterval: -1})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	in := &instances{st: st, lib: lib, auth: as, rs: newRedisStore(t), tk: tk, first: &env{issuer: is, lib: lib}}
	in.first.srv, in.first.http = in.serve(t, nil)
	return in
}

// serve starts one more instance whose progress versions are pv (nil: the
// shared ones).
func (in *instances) serve(t *testing.T, pv api.ProgressVersions) (*api.Server, *httptest.Server) {
	t.Helper()
	if pv == nil {
		pv = in.rs
	}
	srv, err := api.New(in.lib, in.auth, &api.Options{RateLimit: -1, Analytics: api.AnalyticsOptions{
		Publisher: &recorder{}, Tokens: in.tk, Progress: in.st, ProgressVersions: pv, Now: func() time.Time { return testNow },
	}})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs
}

func (in *instances) another(t *testing.T, pv api.ProgressVersions) *env {
	srv, hs := in.serve(t, pv)
	return &env{issuer: in.first.issuer, lib: in.lib, srv: srv, http: hs}
}

func continueIDs(t *testing.T, e *env) []string {
	t.Helper()
	r := e.get(t, "/me/continue-watching", &uCarol)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var p api.ProgressPage
	require.NoError(t, json.Unmarshal(r.body, &p))
	out := []string{}
	for _, v := range p.Videos {
		out = append(out, v.ID)
	}
	return out
}

func resume(t *testing.T, e *env, video string) float64 {
	t.Helper()
	r := e.get(t, "/videos/"+video, &uCarol)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	return r.json(t)["resume_position_seconds"].(float64)
}

// TestProgressCacheAcrossInstances: with progress versions in Redis, each
// instance reads a user's progress from the store once per version and
// serves continue watching, the home row and resume positions from its copy;
// a change stored and bumped (the consumer's work) shows on every instance
// at the next request, a dismissal on one instance shows on the others at
// once, and an entitlement change at once, without a store read.
func TestProgressCacheAcrossInstances(t *testing.T) {
	ctx := context.Background()
	in := newInstances(t)
	a := in.first
	b := in.another(t, nil)
	rs := in.rs
	carol := userID(t, a, &uCarol)
	apply := func(video string, at time.Time, pos float64) {
		t.Helper()
		_, err := in.st.ApplyWatchEvents(ctx, []analytics.Event{{ID: uuid.NewString(), Type: analytics.TypeHeartbeat, SessionID: uuid.NewString(),
			UserID: carol, VideoID: video, Position: pos, OccurredAt: at}}, analytics.Rules{})
		require.NoError(t, err)
		require.NoError(t, rs.BumpProgress(ctx, carol))
	}
	// Durations: 1201 → 65 s, 1202 → 66 s, 1203 → 67 s.
	apply("1201", testNow.Add(-4*time.Minute), 30)
	apply("1202", testNow.Add(-3*time.Minute), 20)

	require.Equal(t, []string{"1202", "1201"}, continueIDs(t, a))
	reads := in.st.reads.Load()
	require.Equal(t, []string{"1202", "1201"}, continueIDs(t, a))
	require.Equal(t, []string{"1202", "1201"}, ids(rowOf(t, a, "continue_watching")["videos"]))
	require.Equal(t, 30.0, resume(t, a, "1201"))
	require.Equal(t, 0.0, resume(t, a, "1203"), "nothing to resume")
	require.Equal(t, reads, in.st.reads.Load(), "one store read per user and version")

	require.Equal(t, []string{"1202", "1201"}, continueIDs(t, b))
	require.Equal(t, reads+1, in.st.reads.Load(), "each instance keeps its own copy")

	// The consumer stores new progress and bumps the version: every
	// instance answers with it at the next request.
	apply("1203", testNow.Add(-time.Minute), 40)
	require.Equal(t, []string{"1203", "1202", "1201"}, continueIDs(t, a))
	require.Equal(t, 40.0, resume(t, b, "1203"))

	// Dismissed on one instance: gone on the other at once.
	r := a.do(t, http.MethodDelete, "/me/continue-watching/1202", &uCarol, nil)
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Equal(t, []string{"1203", "1201"}, continueIDs(t, b))
	require.Equal(t, []string{"1203", "1201"}, continueIDs(t, a))
	require.Equal(t, 20.0, resume(t, b, "1202"), "a dismissed video still resumes where it was")

	// Carol loses the Public folder: both instances forget its videos at
	// once, from their copies.
	reads = in.st.reads.Load()
	rules, _, err := in.st.ListRules(ctx)
	require.NoError(t, err)
	for _, rl := range rules {
		if rl.Target.String() == "folder:"+librarytest.Public && rl.Subject.String() == "everyone" {
			_, err := in.st.RemoveRule(ctx, rl.ID)
			require.NoError(t, err)
		}
	}
	require.NoError(t, in.lib.Refresh(ctx))
	require.Empty(t, continueIDs(t, a))
	require.Empty(t, continueIDs(t, b))
	require.Equal(t, reads, in.st.reads.Load())
}

// TestProgressWithRedisDown: an instance whose Redis does not answer reads
// progress from the store on every request and keeps serving the home,
// continue watching and resume positions; a dismissal is stored but
// answered 503 (it could not reach the other instances' copies), and a
// retry once Redis is back is a 204.
func TestProgressWithRedisDown(t *testing.T) {
	ctx := context.Background()
	in := newInstances(t)
	dead, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1}), nil)
	require.NoError(t, err)
	down := in.another(t, dead)
	carol := userID(t, down, &uCarol)
	_, err = in.st.ApplyWatchEvents(ctx, []analytics.Event{{ID: uuid.NewString(), Type: analytics.TypeHeartbeat, SessionID: uuid.NewString(),
		UserID: carol, VideoID: "1201", Position: 30, OccurredAt: testNow.Add(-time.Minute)}}, analytics.Rules{})
	require.NoError(t, err)

	reads := in.st.reads.Load()
	require.Equal(t, []string{"1201"}, continueIDs(t, down))
	require.Equal(t, []string{"1201"}, ids(rowOf(t, down, "continue_watching")["videos"]))
	require.Equal(t, 30.0, resume(t, down, "1201"))
	require.Equal(t, reads+3, in.st.reads.Load(), "every request reads the store")

	r := down.do(t, http.MethodDelete, "/me/continue-watching/1201", &uCarol, nil)
	requireError(t, r, http.StatusServiceUnavailable, "unavailable")
	require.Empty(t, continueIDs(t, down), "the dismissal is stored")
	up := in.first
	r = up.do(t, http.MethodDelete, "/me/continue-watching/1201", &uCarol, nil)
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Empty(t, continueIDs(t, up))
}

func rowOf(t *testing.T, e *env, kind string) map[string]any {
	t.Helper()
	r := e.get(t, "/library/home", &uCarol)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	for _, row := range r.json(t)["rows"].([]any) {
		if m := row.(map[string]any); m["kind"] == kind {
			return m
		}
	}
	t.Fatalf("no %s row", kind)
	return nil
}

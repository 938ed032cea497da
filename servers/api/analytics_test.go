package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/events"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/store/memstore"
)

// recorder is a Publisher that keeps what it was given, or fails.
type recorder struct {
	mu   sync.Mutex
	msgs []events.Message
	fail error
}

func (r *recorder) Publish(_ context.Context, msgs ...events.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.msgs = append(r.msgs, msgs...)
	return nil
}

func (r *recorder) events(t testing.TB) []analytics.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []analytics.Event
	for _, m := range r.msgs {
		require.Equal(t, events.TopicAnalytics, m.Topic)
		e, err := m.Event()
		require.NoError(t, err)
		require.Equal(t, analytics.EventTypeBatch, e.Type)
		var b analytics.Batch
		require.NoError(t, e.DecodeData(&b))
		for _, ae := range b.Events {
			require.Equal(t, "user:"+ae.UserID, string(m.Key), "keyed by user")
		}
		out = append(out, b.Events...)
	}
	return out
}

var testSecret = []byte("an-analytics-test-secret-of-32-bytes!")

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func analyticsEnv(t testing.TB, opts *api.AnalyticsOptions) (*env, *recorder, *analytics.Tokens) {
	e, rec, tk, _ := analyticsEnvStore(t, opts)
	return e, rec, tk
}

// analyticsStore is what the analytics tests need of a store: the library,
// the users, progress, and applying events (the consumer's work).
type analyticsStore interface {
	library.Store
	librarytest.Writer
	auth.UserStore
	api.ProgressStore
	ApplyWatchEvents(ctx context.Context, evs []analytics.Event, r analytics.Rules) (analytics.Applied, error)
}

// analyticsEnvStore is an API with analytics on, over a seeded memstore
// that is also its progress store.
func analyticsEnvStore(t testing.TB, opts *api.AnalyticsOptions) (*env, *recorder, *analytics.Tokens, *memstore.Store) {
	st := memstore.New()
	e, rec, tk := analyticsEnvOn(t, st, opts)
	return e, rec, tk, st
}

// analyticsEnvOn is analyticsEnvStore over st (seeded here).
func analyticsEnvOn(t testing.TB, st analyticsStore, opts *api.AnalyticsOptions) (*env, *recorder, *analytics.Tokens) {
	t.Helper()
	ctx := context.Background()
	rec := &recorder{}
	tk, err := analytics.NewTokens(testSecret)
	require.NoError(t, err)
	o := api.AnalyticsOptions{}
	if opts != nil {
		o = *opts
	}
	require.NoError(t, librarytest.Seed(ctx, st))
	o.Tokens, o.Progress = tk, st
	if o.Publisher == nil {
		o.Publisher = rec
	}
	if o.Now == nil {
		o.Now = func() time.Time { return testNow }
	}
	is, as := newAuth(t, st)
	lib, err := library.New(st, &library.Options{PollInterval: -1, Chat: &library.ChatOptions{}})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	srv, err := api.New(lib, as, &api.Options{RateLimit: -1, Analytics: o})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{issuer: is, lib: lib, srv: srv, http: hs}, rec, tk
}

func (e *env) do(t testing.TB, method, path string, u *authtest.User, body []byte) resp {
	t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+e.issuer.IDToken(*u))
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

type session struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

func openPlayback(t testing.TB, e *env, u *authtest.User, video string) session {
	t.Helper()
	r := e.get(t, "/videos/"+video+"/playback", u)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var p struct {
		VideoID  string  `json:"video_id"`
		EmbedURL string  `json:"embed_url"`
		Session  session `json:"session"`
		Resume   float64 `json:"resume_position_seconds"`
	}
	require.NoError(t, json.Unmarshal(r.body, &p))
	require.Equal(t, video, p.VideoID)
	require.NotEmpty(t, p.EmbedURL)
	require.NotEmpty(t, p.Session.ID)
	require.NotEmpty(t, p.Session.Token)
	return p.Session
}

func userID(t testing.TB, e *env, u *authtest.User) string {
	t.Helper()
	m := e.get(t, "/me", u).json(t)
	return m["user"].(map[string]any)["id"].(string)
}

func wireEvent(s session, video string, typ analytics.Type, at time.Time, pos float64) map[string]any {
	return map[string]any{"event_id": uuid.NewString(), "type": typ, "session_id": s.ID, "session_token": s.Token,
		"video_id": video, "position_seconds": pos, "occurred_at": at}
}

func post(t testing.TB, e *env, u *authtest.User, evs ...map[string]any) resp {
	t.Helper()
	b, err := json.Marshal(map[string]any{"events": evs})
	require.NoError(t, err)
	return e.do(t, http.MethodPost, "/analytics/events", u, b)
}

func TestIngestAccepts(t *testing.T) {
	e, rec, _ := analyticsEnv(t, nil)
	s := openPlayback(t, e, &uCarol, "1201")
	evs := []map[string]any{
		wireEvent(s, "1201", analytics.TypePlaybackStarted, testNow.Add(-10*time.Second), 0),
		wireEvent(s, "1201", analytics.TypeHeartbeat, testNow.Add(-5*time.Second), 5),
	}
	evs[1]["properties"] = map[string]string{"device": "tv"}
	r := post(t, e, &uCarol, evs...)
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	var out api.IngestResponse
	require.NoError(t, json.Unmarshal(r.body, &out))
	require.Equal(t, 2, out.Accepted)
	require.Equal(t, 0, out.Rejected)
	for i, res := range out.Results {
		require.Equal(t, evs[i]["event_id"], res.EventID)
		require.Equal(t, "accepted", res.Status)
	}
	got := rec.events(t)
	require.Len(t, got, 2)
	uid := userID(t, e, &uCarol)
	require.Equal(t, uid, got[0].UserID, "the user comes from the token, never the body")
	require.Equal(t, s.ID, got[0].SessionID)
	require.Equal(t, analytics.TypeHeartbeat, got[1].Type)
	require.Equal(t, map[string]string{"device": "tv"}, got[1].Properties)
	require.Equal(t, testNow, got[1].ReceivedAt)

	// A retry of the same batch is accepted again (the consumer deduplicates).
	r = post(t, e, &uCarol, evs...)
	require.Equal(t, http.StatusAccepted, r.status)
}

func TestIngestRejections(t *testing.T) {
	e, rec, tk := analyticsEnv(t, nil)
	carol := userID(t, e, &uCarol)
	s := openPlayback(t, e, &uCarol, "1201")
	bobs := openPlayback(t, e, &uBob, "1101")
	ok := func() map[string]any { return wireEvent(s, "1201", analytics.TypeHeartbeat, testNow, 10) }
	forged := session{ID: "s-forged", Token: tk.Mint(analytics.SessionClaims{UserID: carol, VideoID: "1101", SessionID: "s-forged", Expires: testNow.Add(time.Hour)})}
	expired := session{ID: "s-old", Token: tk.Mint(analytics.SessionClaims{UserID: carol, VideoID: "1201", SessionID: "s-old", Expires: testNow})}
	cases := []struct {
		name string
		ev   map[string]any
		want analytics.Reason
	}{
		{"unknown type", func() map[string]any { m := ok(); m["type"] = "liked"; return m }(), analytics.ReasonUnknownType},
		{"bad event id", func() map[string]any { m := ok(); m["event_id"] = "1"; return m }(), analytics.ReasonInvalid},
		{"no token", func() map[string]any { m := ok(); delete(m, "session_token"); return m }(), analytics.ReasonInvalidToken},
		{"forged token", func() map[string]any { m := ok(); m["session_token"] = s.Token + "x"; return m }(), analytics.ReasonInvalidToken},
		{"expired token", wireEvent(expired, "1201", analytics.TypeHeartbeat, testNow, 1), analytics.ReasonTokenExpired},
		{"another user's session", wireEvent(bobs, "1101", analytics.TypeHeartbeat, testNow, 1), analytics.ReasonSessionMismatch},
		{"another video", func() map[string]any { m := ok(); m["video_id"] = "1202"; return m }(), analytics.ReasonSessionMismatch},
		{"another session id", func() map[string]any { m := ok(); m["session_id"] = "other"; return m }(), analytics.ReasonSessionMismatch},
		{"video not visible", wireEvent(forged, "1101", analytics.TypeHeartbeat, testNow, 1), analytics.ReasonVideoNotVisible},
		{"future", wireEvent(s, "1201", analytics.TypeHeartbeat, testNow.Add(10*time.Minute), 1), analytics.ReasonClockSkew},
		{"too old", wireEvent(s, "1201", analytics.TypeHeartbeat, testNow.Add(-72*time.Hour), 1), analytics.ReasonTooOld},
		{"negative position", wireEvent(s, "1201", analytics.TypeHeartbeat, testNow, -1), analytics.ReasonPosition},
		{"past the end", wireEvent(s, "1201", analytics.TypeHeartbeat, testNow, 65+6), analytics.ReasonPosition},
		{"not an object", map[string]any{"event_id": 5}, analytics.ReasonInvalid},
	}
	batch := []map[string]any{ok()}
	for _, c := range cases {
		batch = append(batch, c.ev)
	}
	r := post(t, e, &uCarol, batch...)
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	var out api.IngestResponse
	require.NoError(t, json.Unmarshal(r.body, &out))
	require.Equal(t, 1, out.Accepted)
	require.Equal(t, len(cases), out.Rejected)
	require.Equal(t, "accepted", out.Results[0].Status)
	for i, c := range cases {
		res := out.Results[i+1]
		require.Equal(t, "rejected", res.Status, c.name)
		require.Equal(t, c.want, res.Reason, c.name)
	}
	require.Len(t, rec.events(t), 1, "rejected events are never published")
}

func TestIngestRequestErrors(t *testing.T) {
	e, rec, _ := analyticsEnv(t, &api.AnalyticsOptions{MaxBatch: 3, MaxBodyBytes: 4 << 10, EventRate: 1, EventBurst: 5})
	s := openPlayback(t, e, &uCarol, "1201")
	ev := func() map[string]any { return wireEvent(s, "1201", analytics.TypeHeartbeat, testNow, 1) }

	requireError(t, e.do(t, http.MethodPost, "/analytics/events", nil, []byte(`{"events":[]}`)), http.StatusUnauthorized, "unauthenticated")
	requireError(t, e.do(t, http.MethodPost, "/analytics/events", &uCarol, []byte(`{"events":`)), http.StatusBadRequest, "invalid_argument")
	requireError(t, e.do(t, http.MethodPost, "/analytics/events", &uCarol, []byte(`[1,2]`)), http.StatusBadRequest, "invalid_argument")
	requireError(t, e.do(t, http.MethodPost, "/analytics/events", &uCarol, []byte(`{"events":[]}`)), http.StatusBadRequest, "invalid_argument")
	requireError(t, post(t, e, &uCarol, ev(), ev(), ev(), ev()), http.StatusRequestEntityTooLarge, "batch_too_large")
	big := fmt.Sprintf(`{"events":[{"event_id":"%s"}]}`, strings.Repeat("x", 5<<10))
	requireError(t, e.do(t, http.MethodPost, "/analytics/events", &uCarol, []byte(big)), http.StatusRequestEntityTooLarge, "body_too_large")
	require.Empty(t, rec.events(t))

	// Rate: a burst of 5 events, then 429 with Retry-After; other users unaffected.
	require.Equal(t, http.StatusAccepted, post(t, e, &uCarol, ev(), ev(), ev()).status)
	require.Equal(t, http.StatusAccepted, post(t, e, &uCarol, ev(), ev()).status)
	r := post(t, e, &uCarol, ev())
	requireError(t, r, http.StatusTooManyRequests, "rate_limited")
	require.NotEmpty(t, r.header.Get("Retry-After"))
	sb := openPlayback(t, e, &uBob, "1101")
	require.Equal(t, http.StatusAccepted, post(t, e, &uBob, wireEvent(sb, "1101", analytics.TypeHeartbeat, testNow, 1)).status)

	// The publisher fails: 503, nothing acknowledged.
	rec.fail = errors.New("broker down")
	r = post(t, e, &uBob, wireEvent(sb, "1101", analytics.TypeHeartbeat, testNow, 1))
	requireError(t, r, http.StatusServiceUnavailable, "unavailable")
}

func TestIngestNotReady(t *testing.T) {
	tk, err := analytics.NewTokens(testSecret)
	require.NoError(t, err)
	e := newEnv(t, false, &api.Options{RateLimit: -1, Analytics: api.AnalyticsOptions{Publisher: &recorder{}, Tokens: tk}}, nil)
	r := e.do(t, http.MethodPost, "/analytics/events", &uCarol, []byte(`{"events":[{}]}`))
	requireError(t, r, http.StatusServiceUnavailable, "not_ready")
	require.Equal(t, "1", r.header.Get("Retry-After"))
}

func TestPlaybackWithoutAnalytics(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	r := e.get(t, "/videos/1201/playback", &uCarol)
	require.Equal(t, http.StatusOK, r.status)
	require.NotContains(t, r.json(t), "session")
	requireError(t, e.do(t, http.MethodPost, "/analytics/events", &uCarol, []byte(`{}`)), http.StatusNotFound, "not_found")
	// A forbidden video is still a 404 with analytics on.
	ea, _, _ := analyticsEnv(t, nil)
	requireError(t, ea.get(t, "/videos/1101/playback", &uCarol), http.StatusNotFound, "not_found")
}

// TestContinueWatching: the ingest → consumer → API loop on a memstore:
// resume positions in playback and video detail, the continue-watching row
// and route (in progress only, newest first), dismissal until played again,
// history pages, and entitlement changes applied at once.
func TestContinueWatching(t *testing.T) {
	ctx := context.Background()
	e, rec, _, st := analyticsEnvStore(t, nil)
	carol := userID(t, e, &uCarol)
	// Durations: 1201 → 65 s, 1202 → 66 s, 1203 → 67 s, 1204 → 68 s.
	watch := func(video string, at time.Time, pos float64, typ analytics.Type) {
		s := openPlayback(t, e, &uCarol, video)
		r := post(t, e, &uCarol, wireEvent(s, video, typ, at, pos))
		require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	}
	watch("1201", testNow.Add(-4*time.Minute), 30, analytics.TypeHeartbeat)
	watch("1202", testNow.Add(-3*time.Minute), 20, analytics.TypePaused)
	watch("1203", testNow.Add(-2*time.Minute), 1, analytics.TypeHeartbeat)  // under 5 %: no resume
	watch("1204", testNow.Add(-1*time.Minute), 68, analytics.TypeCompleted) // watched
	// The consumer's work, done directly on the store.
	for _, ev := range rec.events(t) {
		_, err := st.ApplyWatchEvents(ctx, []analytics.Event{ev}, analytics.Rules{})
		require.NoError(t, err)
	}

	cw := func() []string {
		r := e.get(t, "/me/continue-watching", &uCarol)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		var p api.ProgressPage
		require.NoError(t, json.Unmarshal(r.body, &p))
		var out []string
		for _, v := range p.Videos {
			out = append(out, v.ID)
		}
		return out
	}
	require.Equal(t, []string{"1202", "1201"}, cw())
	checkResponse(t, "/me/continue-watching", e.get(t, "/me/continue-watching", &uCarol))
	checkResponse(t, "/me/history", e.get(t, "/me/history", &uCarol))
	checkResponse(t, "/videos/{id}/playback", e.get(t, "/videos/1201/playback", &uCarol))
	checkResponse(t, "/videos/{id}", e.get(t, "/videos/1201", &uCarol))
	checkResponse(t, "/library/home", e.get(t, "/library/home", &uCarol))

	var pb struct {
		Resume float64 `json:"resume_position_seconds"`
	}
	require.NoError(t, json.Unmarshal(e.get(t, "/videos/1201/playback", &uCarol).body, &pb))
	require.Equal(t, 30.0, pb.Resume)
	require.NoError(t, json.Unmarshal(e.get(t, "/videos/1204/playback", &uCarol).body, &pb))
	require.Zero(t, pb.Resume, "a watched video starts over")
	d := e.get(t, "/videos/1201", &uCarol)
	require.Equal(t, 30.0, d.json(t)["resume_position_seconds"])
	require.Equal(t, "Video 1201", d.json(t)["title"])
	other := e.get(t, "/videos/1201", &uBob)
	require.Equal(t, 0.0, other.json(t)["resume_position_seconds"], "progress is per user")
	require.NotEqual(t, d.header.Get("ETag"), other.header.Get("ETag"))

	home := e.get(t, "/library/home", &uCarol).json(t)
	rows := home["rows"].([]any)
	first := rows[0].(map[string]any)
	require.Equal(t, "continue_watching", first["kind"])
	require.Equal(t, []string{"1202", "1201"}, ids(first["videos"]))
	bobHome := e.get(t, "/library/home", &uBob).json(t)
	for _, r := range bobHome["rows"].([]any) {
		require.NotEqual(t, "continue_watching", r.(map[string]any)["kind"])
	}

	// Dismissed until played again.
	r := e.do(t, http.MethodDelete, "/me/continue-watching/1202", &uCarol, nil)
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Equal(t, []string{"1201"}, cw())
	requireError(t, e.do(t, http.MethodDelete, "/me/continue-watching/1205", &uCarol, nil), http.StatusNotFound, "not_found")
	requireError(t, e.do(t, http.MethodDelete, "/me/continue-watching/1101", &uCarol, nil), http.StatusNotFound, "not_found")
	_, err := st.ApplyWatchEvents(ctx, []analytics.Event{{ID: uuid.NewString(), Type: analytics.TypeHeartbeat, SessionID: "again",
		UserID: carol, VideoID: "1202", Position: 25, OccurredAt: testNow.Add(time.Minute)}}, analytics.Rules{})
	require.NoError(t, err)
	require.Equal(t, []string{"1202", "1201"}, cw())

	// History, paged.
	hr := e.get(t, "/me/history?limit=3", &uCarol)
	require.Equal(t, http.StatusOK, hr.status, string(hr.body))
	var hp api.ProgressPage
	require.NoError(t, json.Unmarshal(hr.body, &hp))
	require.Len(t, hp.Videos, 3)
	require.Equal(t, "1202", hp.Videos[0].ID)
	require.NotEmpty(t, hp.NextCursor)
	hr = e.get(t, "/me/history?limit=3&cursor="+hp.NextCursor, &uCarol)
	var hp2 api.ProgressPage
	require.NoError(t, json.Unmarshal(hr.body, &hp2))
	require.Len(t, hp2.Videos, 1)
	require.Equal(t, "1201", hp2.Videos[0].ID)
	requireError(t, e.get(t, "/me/history?cursor=!!", &uCarol), http.StatusBadRequest, "invalid_argument")
	requireError(t, e.get(t, "/me/continue-watching?limit=0", &uCarol), http.StatusBadRequest, "invalid_argument")

	// Carol loses the Public folder: the row and the route forget it at once.
	rules, _, err := st.ListRules(ctx)
	require.NoError(t, err)
	for _, rl := range rules {
		if rl.Target.String() == "folder:"+librarytest.Public && rl.Subject.String() == "everyone" {
			_, err := st.RemoveRule(ctx, rl.ID)
			require.NoError(t, err)
		}
	}
	require.NoError(t, e.lib.Refresh(ctx))
	require.Empty(t, cw())
	hr = e.get(t, "/me/history", &uCarol)
	require.NoError(t, json.Unmarshal(hr.body, &hp))
	require.Empty(t, hp.Videos)
}

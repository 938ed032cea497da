package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
)

// addRules adds "subject target effect [reason]" rules to the env's store and
// reloads the library.
func (e *env) addRules(t *testing.T, rules ...[4]string) {
	t.Helper()
	ctx := context.Background()
	for _, r := range rules {
		s, err := entitle.ParseSubject(r[0])
		require.NoError(t, err)
		tg, err := entitle.ParseTarget(r[1])
		require.NoError(t, err)
		_, _, err = e.store.AddRule(ctx, entitle.Rule{Subject: s, Target: tg, Effect: entitle.Effect(r[2]), LockReason: entitle.LockReason(r[3])})
		require.NoError(t, err)
	}
	require.NoError(t, e.lib.Refresh(ctx))
}

var publicRules = [][4]string{
	{"public", "folder:" + librarytest.Public, "allow", ""},
	{"public", "folder:" + librarytest.Secret, "deny", ""},
	{"everyone", "folder:" + librarytest.Engineering, "teaser", "upgrade"},
	{"public", "video:2001", "teaser", "sign_in"},
}

func TestAnonymousAccess(t *testing.T) {
	e := newEnv(t, true, nil, nil)

	// No public rule: anonymous requests are 401, as ever.
	r := e.get(t, "/library/home", nil)
	requireError(t, r, http.StatusUnauthorized, "unauthenticated")
	require.NotEmpty(t, r.header.Get("WWW-Authenticate"))

	e.addRules(t, publicRules...)
	r = e.get(t, "/library/home", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "public, no-cache", r.header.Get("Cache-Control"))
	require.Contains(t, r.header.Get("Vary"), "Authorization")
	m := r.json(t)
	require.Equal(t, []string{librarytest.Public}, ids(m["folders"]))
	f := m["folders"].([]any)[0].(map[string]any)
	require.EqualValues(t, 5, f["video_count"], "Secret's video is not counted")
	require.EqualValues(t, 0, f["folder_count"], "Secret is not counted")
	v := m["videos"].([]any)[0].(map[string]any)
	require.Equal(t, "2001", v["id"])
	require.Equal(t, true, v["locked"])
	require.Equal(t, "sign_in", v["lock_reason"])
	for _, hidden := range []string{"Sales", "Engineering", "Secret", "1001", "1101", "1206"} {
		require.NotContains(t, string(r.body), hidden)
	}
	checkResponse(t, "/library/home", r)
	etag := r.header.Get("ETag")
	require.Equal(t, http.StatusNotModified, e.get(t, "/library/home", nil, "If-None-Match", etag).status)

	// Everything else is a 404, exactly like something that does not exist.
	for _, path := range []string{"/folders/" + librarytest.Sales, "/folders/" + librarytest.Secret, "/folders/" + librarytest.Engineering,
		"/folders/99999", "/videos/1001", "/videos/1206", "/videos/99999", "/videos/1101/playback", "/videos/99999/playback"} {
		requireError(t, e.get(t, path, nil), http.StatusNotFound, "not_found")
	}
	r = e.get(t, "/folders/"+librarytest.Public, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []string{"1201", "1202", "1203", "1204", "1205"}, ids(r.json(t)["videos"]))
	r = e.get(t, "/videos/1201/playback", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	require.Contains(t, r.json(t)["embed_url"], "player.vimeo.com/video/1201")

	// The teaser: a detail saying locked, and playback refused.
	r = e.get(t, "/videos/2001", nil)
	require.Equal(t, http.StatusOK, r.status)
	checkResponse(t, "/videos/{id}", r)
	require.Equal(t, "sign_in", r.json(t)["lock_reason"])
	r = e.get(t, "/videos/2001/playback", nil)
	requireError(t, r, http.StatusForbidden, "locked")
	checkResponse(t, "/videos/{id}/playback", r)
	require.Equal(t, "sign_in", r.json(t)["error"].(map[string]any)["details"].(map[string]any)["lock_reason"])

	// Personal routes stay signed-in only; a bad token is never anonymous.
	for _, path := range []string{"/me", "/feed"} {
		requireError(t, e.get(t, path, nil), http.StatusUnauthorized, "unauthenticated")
	}
	requireError(t, e.get(t, "/library/home", nil, "Authorization", "Bearer not-a-token"), http.StatusUnauthorized, "invalid_token")

	// Signed in: public content too, and the Engineering teaser.
	r = e.get(t, "/library/home", &uCarol)
	require.Equal(t, "private, no-cache", r.header.Get("Cache-Control"))
	require.Equal(t, []string{librarytest.Engineering, librarytest.Public}, ids(r.json(t)["folders"]))
	r = e.get(t, "/folders/"+librarytest.Engineering, &uCarol)
	checkResponse(t, "/folders/{id}", r)
	v = r.json(t)["videos"].([]any)[0].(map[string]any)
	require.Equal(t, "upgrade", v["lock_reason"])
	r = e.get(t, "/videos/1101/playback", &uCarol)
	requireError(t, r, http.StatusForbidden, "locked")
	require.Contains(t, r.json(t)["error"].(map[string]any)["message"], "upgrade")
	require.Equal(t, http.StatusOK, e.get(t, "/videos/1101/playback", &uBob).status, "allow beats the teaser")
	require.Equal(t, http.StatusOK, e.get(t, "/videos/2001/playback", &uCarol).status, "everyone allow beats the public teaser")
}

// Anonymous visitors are rate limited per client address (the last
// X-Forwarded-For entry behind a trusted proxy), not all in one bucket.
func TestAnonymousRateLimit(t *testing.T) {
	for _, trust := range []bool{false, true} {
		e := newEnv(t, true, &api.Options{RateLimit: 0.001, RateBurst: 1, TrustForwardedFor: trust}, nil)
		e.addRules(t, publicRules...)
		require.Equal(t, http.StatusOK, e.get(t, "/library/home", nil, "X-Forwarded-For", "198.51.100.7, 203.0.113.1").status)
		r := e.get(t, "/library/home", nil, "X-Forwarded-For", "198.51.100.7, 203.0.113.2")
		if trust {
			require.Equal(t, http.StatusOK, r.status, "another client behind the proxy")
			requireError(t, e.get(t, "/library/home", nil, "X-Forwarded-For", "203.0.113.9, 203.0.113.2"), http.StatusTooManyRequests, "rate_limited")
		} else {
			requireError(t, r, http.StatusTooManyRequests, "rate_limited")
		}
		require.Equal(t, http.StatusOK, e.get(t, "/library/home", &uCarol).status, "signed-in users have their own buckets")
	}
}

// With analytics on, an anonymous playback is the embed alone: there is no
// user to hold a playback session, and analytics ingest stays signed-in only.
func TestAnonymousPlaybackWithAnalytics(t *testing.T) {
	e, _, _, st := analyticsEnvStore(t, nil)
	e.store = st
	e.addRules(t, publicRules...)
	r := e.get(t, "/videos/1201/playback", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	m := r.json(t)
	require.Contains(t, m["embed_url"], "/video/1201")
	require.NotContains(t, m, "session")
	requireError(t, e.get(t, "/videos/2001/playback", nil), http.StatusForbidden, "locked")
	requireError(t, e.do(t, http.MethodPost, "/analytics/events", nil, []byte(`{"events":[]}`)), http.StatusUnauthorized, "unauthenticated")
	r = e.get(t, "/videos/1201/playback", &uCarol)
	require.Contains(t, r.json(t), "session", "signed-in users still get a session")
}

// A video that a teaser locks after it was watched leaves continue watching,
// and events of its open playback session are refused.
func TestLockedVideoLeavesContinueWatching(t *testing.T) {
	ctx := context.Background()
	e, rec, _, st := analyticsEnvStore(t, nil)
	e.store = st
	s := openPlayback(t, e, &uCarol, "1201")
	r := post(t, e, &uCarol, wireEvent(s, "1201", analytics.TypeHeartbeat, testNow.Add(-time.Minute), 30))
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	for _, ev := range rec.events(t) {
		_, err := st.ApplyWatchEvents(ctx, []analytics.Event{ev}, analytics.Rules{})
		require.NoError(t, err)
	}
	require.Equal(t, []string{"1201"}, ids(e.get(t, "/me/continue-watching", &uCarol).json(t)["videos"]))

	e.addRules(t, [4]string{"everyone", "video:1201", "teaser", "upgrade"})
	require.Equal(t, []string{}, ids(e.get(t, "/me/continue-watching", &uCarol).json(t)["videos"]))
	r = post(t, e, &uCarol, wireEvent(s, "1201", analytics.TypeHeartbeat, testNow, 40))
	require.Equal(t, "video_not_visible", r.json(t)["results"].([]any)[0].(map[string]any)["reason"], string(r.body))
	d := e.get(t, "/videos/1201", &uCarol)
	require.Equal(t, true, d.json(t)["locked"])
	checkResponse(t, "/videos/{id}", d)
}

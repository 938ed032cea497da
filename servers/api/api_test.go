package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
	"github.com/vidlib/vidlib/servers/ops"
)

func TestEndpoints(t *testing.T) {
	e := newEnv(t, true, nil, nil)

	r := e.get(t, "/library/home", &uAlice)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	checkResponse(t, "/library/home", r)
	h := r.json(t)
	require.Equal(t, []string{librarytest.Sales, librarytest.Public}, ids(h["folders"]))
	require.NotEmpty(t, r.header.Get("ETag"))
	require.NotEmpty(t, r.header.Get(ops.HeaderRequestID))
	require.Equal(t, "application/json", r.header.Get("Content-Type"))

	r = e.get(t, "/folders/"+librarytest.Deals, &uAlice)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	checkResponse(t, "/folders/{id}", r)
	f := r.json(t)
	require.Equal(t, []string{librarytest.Sales}, ids(f["breadcrumb"]))
	require.Equal(t, []string{"1001"}, ids(f["videos"]))

	r = e.get(t, "/folders/"+librarytest.Public+"?limit=2", &uGold)
	require.Equal(t, http.StatusOK, r.status)
	checkResponse(t, "/folders/{id}", r)
	f = r.json(t)
	require.Equal(t, []string{librarytest.Secret}, ids(f["folders"]))
	require.Equal(t, []string{"1201"}, ids(f["videos"]))
	r = e.get(t, "/folders/"+librarytest.Public+"?limit=2&cursor="+f["next_cursor"].(string), &uGold)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []string{"1202", "1203"}, ids(r.json(t)["videos"]))

	r = e.get(t, "/videos/1101", &uBob)
	require.Equal(t, http.StatusOK, r.status)
	checkResponse(t, "/videos/{id}", r)
	require.Equal(t, "Video 1101", r.json(t)["title"])

	r = e.get(t, "/videos/1101/playback", &uBob)
	require.Equal(t, http.StatusOK, r.status)
	checkResponse(t, "/videos/{id}/playback", r)
	require.Equal(t, "https://player.vimeo.com/video/1101?h=abc123", r.json(t)["embed_url"])
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))

	r = e.get(t, "/me", &uGold)
	require.Equal(t, http.StatusOK, r.status)
	checkResponse(t, "/me", r)
	m := r.json(t)
	require.Equal(t, map[string]any{"tier": "gold"}, m["segments"])
	require.Equal(t, "gold@example.com", m["user"].(map[string]any)["email"])

	r = e.get(t, "/me", &uAlice)
	require.Equal(t, []any{"sales"}, r.json(t)["roles"])

	r = e.get(t, "/healthz", nil)
	require.Equal(t, http.StatusOK, r.status)
	checkResponse(t, "/healthz", r)
	r = e.get(t, "/readyz", nil)
	require.Equal(t, http.StatusOK, r.status)
	checkResponse(t, "/readyz", r)
}

// TestEntitlementOnEveryEndpoint: what a user may not see answers exactly
// like what does not exist.
func TestEntitlementOnEveryEndpoint(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	missing := e.get(t, "/videos/9999999", &uCarol)
	requireError(t, missing, http.StatusNotFound, "not_found")
	for _, c := range []struct {
		path, route string
		u           *authtestUser
	}{
		{"/folders/" + librarytest.Sales, "/folders/{id}", &uCarol},
		{"/folders/" + librarytest.Deals, "/folders/{id}", &uBob},
		{"/folders/" + librarytest.Drafts, "/folders/{id}", &uAlice},
		{"/folders/" + librarytest.Secret, "/folders/{id}", &uCarol},
		{"/folders/8888888", "/folders/{id}", &uCarol},
		{"/videos/1002", "/videos/{id}", &uAlice},
		{"/videos/1011", "/videos/{id}", &uAlice},
		{"/videos/1101", "/videos/{id}", &uCarol},
		{"/videos/1206", "/videos/{id}", &uAlice},
		{"/videos/9999999", "/videos/{id}", &uCarol},
		{"/videos/1002/playback", "/videos/{id}/playback", &uAlice},
		{"/videos/1101/playback", "/videos/{id}/playback", &uCarol},
		{"/videos/1206/playback", "/videos/{id}/playback", &uBob},
		{"/videos/9999999/playback", "/videos/{id}/playback", &uBob},
	} {
		r := e.get(t, c.path, c.u)
		requireError(t, r, http.StatusNotFound, "not_found")
		checkResponse(t, c.route, r)
		var a, b map[string]any
		require.NoError(t, json.Unmarshal(r.body, &a))
		require.NoError(t, json.Unmarshal(missing.body, &b))
		delete(a["error"].(map[string]any), "details") // the request id differs
		delete(b["error"].(map[string]any), "details")
		require.Equal(t, b, a, c.path)
	}
	// Nothing of Sales or Secret leaks into carol's home or Public listing.
	for _, p := range []string{"/library/home", "/folders/" + librarytest.Public} {
		r := e.get(t, p, &uCarol)
		require.Equal(t, http.StatusOK, r.status)
		for _, s := range []string{`"Sales"`, `"Secret"`, `"1206"`, `"1002"`, `"Engineering"`} {
			require.NotContains(t, string(r.body), s, p)
		}
	}
	require.Contains(t, string(e.get(t, "/library/home", &uCarol).body), `{"id":"12","name":"Public","folder_count":0,"video_count":5,"cover":{"video_id":"1201",`)
}

type authtestUser = authtest.User

func TestErrors(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	for _, c := range []struct {
		path, route, code string
		status            int
	}{
		{"/folders/abc", "/folders/{id}", "invalid_argument", 400},
		{"/folders/12?cursor=%21%21", "/folders/{id}", "invalid_argument", 400},
		{"/folders/12?cursor=MXwxfHgx", "/folders/{id}", "invalid_argument", 400},
		{"/folders/12?limit=0", "/folders/{id}", "invalid_argument", 400},
		{"/folders/12?limit=x", "/folders/{id}", "invalid_argument", 400},
		{"/folders/12?limit=100000", "/folders/{id}", "invalid_argument", 400},
		{"/videos/1e5", "/videos/{id}", "invalid_argument", 400},
		{"/videos/123456789012345678901234", "/videos/{id}/playback", "invalid_argument", 400},
	} {
		r := e.get(t, c.path, &uCarol)
		requireError(t, r, c.status, c.code)
		checkResponse(t, strings.Split(c.route, "?")[0], r)
	}

	// Authentication.
	for _, p := range []string{"/library/home", "/folders/12", "/videos/1201", "/videos/1201/playback", "/me"} {
		r := e.get(t, p, nil)
		requireError(t, r, http.StatusUnauthorized, "unauthenticated")
		require.NotEmpty(t, r.header.Get("WWW-Authenticate"))
		r = e.get(t, p, nil, "Authorization", "Bearer not.a.token")
		requireError(t, r, http.StatusUnauthorized, "invalid_token")
	}
	r := e.get(t, "/nope", &uCarol)
	requireError(t, r, http.StatusNotFound, "not_found")
	res, err := http.Post(e.http.URL+"/me", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	res.Body.Close()

	// Limits.
	r = e.get(t, "/folders/12?cursor="+strings.Repeat("a", 5000), &uCarol)
	requireError(t, r, http.StatusRequestURITooLong, "uri_too_long")
	req, _ := http.NewRequest(http.MethodGet, e.http.URL+"/me", bytes.NewReader(make([]byte, api.DefaultMaxBodyBytes+1)))
	req.Header.Set("Authorization", "Bearer "+e.issuer.IDToken(uCarol))
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	res.Body.Close()

	// Request ids: a sane one is echoed, in the error too.
	r = e.get(t, "/videos/1101", &uCarol, ops.HeaderRequestID, "req-123")
	require.Equal(t, "req-123", r.header.Get(ops.HeaderRequestID))
	require.Equal(t, "req-123", r.json(t)["error"].(map[string]any)["details"].(map[string]any)["request_id"])
	r = e.get(t, "/videos/1101", &uCarol, ops.HeaderRequestID, "bad id!")
	require.NotEqual(t, "bad id!", r.header.Get(ops.HeaderRequestID))
	require.Len(t, r.header.Get(ops.HeaderRequestID), 36, "a new UUIDv7")
}

func TestNotReady(t *testing.T) {
	e := newEnv(t, false, nil, nil)
	r := e.get(t, "/readyz", nil)
	requireError(t, r, http.StatusServiceUnavailable, "not_ready")
	checkResponse(t, "/readyz", r)
	for _, c := range [][2]string{{"/library/home", "/library/home"}, {"/folders/12", "/folders/{id}"}, {"/videos/1201", "/videos/{id}"}, {"/videos/1201/playback", "/videos/{id}/playback"}} {
		r := e.get(t, c[0], &uCarol)
		requireError(t, r, http.StatusServiceUnavailable, "not_ready")
		require.Equal(t, "1", r.header.Get("Retry-After"))
		checkResponse(t, c[1], r)
	}
	r = e.get(t, "/healthz", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.NoError(t, e.lib.Refresh(context.Background()))
	require.Equal(t, http.StatusOK, e.get(t, "/readyz", nil).status)
}

func TestETagAndGzip(t *testing.T) {
	e := newEnv(t, true, &api.Options{RateLimit: -1, GzipMinBytes: 10}, nil)
	r := e.get(t, "/folders/12", &uGold)
	require.Equal(t, http.StatusOK, r.status)
	tag := r.header.Get("ETag")
	require.NotEmpty(t, tag)
	nm := e.get(t, "/folders/12", &uGold, "If-None-Match", `"other", `+tag)
	require.Equal(t, http.StatusNotModified, nm.status)
	require.Empty(t, nm.body)
	checkResponse(t, "/folders/{id}", nm)
	require.Equal(t, http.StatusOK, e.get(t, "/folders/12", &uGold, "If-None-Match", `"other"`).status)
	// Another audience gets another body and tag.
	require.NotEqual(t, tag, e.get(t, "/folders/12", &uCarol).header.Get("ETag"))

	gz := e.get(t, "/folders/12", &uGold, "Accept-Encoding", "gzip")
	require.Equal(t, "gzip", gz.header.Get("Content-Encoding"))
	require.Equal(t, strconv.Itoa(len(gz.body)), gz.header.Get("Content-Length"))
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Equal(t, r.body, plain)
	require.Empty(t, e.get(t, "/folders/12", &uGold, "Accept-Encoding", "gzip;q=0").header.Get("Content-Encoding"))
	require.Empty(t, r.header.Get("Content-Encoding"))
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, true, &api.Options{RateLimit: 0.001, RateBurst: 3}, nil)
	for range 3 {
		require.Equal(t, http.StatusOK, e.get(t, "/me", &uCarol).status)
	}
	r := e.get(t, "/library/home", &uCarol)
	requireError(t, r, http.StatusTooManyRequests, "rate_limited")
	checkResponse(t, "/library/home", r)
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	require.NoError(t, err)
	require.Greater(t, secs, 100) // one token per 1000 s
	// Another user has their own bucket.
	require.Equal(t, http.StatusOK, e.get(t, "/me", &uBob).status)
}

func TestPlaybackAudit(t *testing.T) {
	aud := &recAuditor{}
	e := newEnv(t, true, nil, &library.Options{PollInterval: -1, Auditor: aud})
	require.Equal(t, http.StatusOK, e.get(t, "/videos/1201/playback", &uCarol).status)
	requireError(t, e.get(t, "/videos/1101/playback", &uCarol), http.StatusNotFound, "not_found")
	require.Len(t, aud.recs, 2)
	require.True(t, aud.recs[0].Allowed)
	require.False(t, aud.recs[1].Allowed)
	aud.fail = true
	r := e.get(t, "/videos/1201/playback", &uCarol)
	requireError(t, r, http.StatusServiceUnavailable, "unavailable")
	checkResponse(t, "/videos/{id}/playback", r)
}

type recAuditor struct {
	recs []library.AccessRecord
	fail bool
}

func (a *recAuditor) RecordAccess(_ context.Context, r library.AccessRecord) error {
	if a.fail {
		return io.ErrUnexpectedEOF
	}
	a.recs = append(a.recs, r)
	return nil
}

func TestNewValidates(t *testing.T) {
	_, err := api.New(nil, nil, nil)
	require.ErrorIs(t, err, api.ErrInvalid)
}

func TestSearchEndpoint(t *testing.T) {
	e := newEnv(t, true, nil, nil)

	r := e.get(t, "/search?q=negociation+vid", &uAlice)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	checkResponse(t, "/search", r)
	require.Equal(t, "private, no-cache", r.header.Get("Cache-Control"))
	p := r.json(t)
	require.Equal(t, map[string]any{"videos": 1.0, "folders": 0.0}, p["counts"])
	hit := p["results"].([]any)[0].(map[string]any)
	require.Equal(t, "video", hit["type"])
	require.Equal(t, "1001", hit["video"].(map[string]any)["id"])
	require.Equal(t, []any{}, hit["video"].(map[string]any)["thumbnails"])
	require.Equal(t, []string{librarytest.Sales, librarytest.Deals}, ids(hit["breadcrumb"]))
	require.Equal(t, []any{
		map[string]any{"field": "title", "snippet": "<mark>Video</mark> 1001"},
		map[string]any{"field": "tags", "snippet": "<mark>Négociation</mark>, 研修"},
	}, hit["highlights"])
	r = e.get(t, "/search?q=研修", &uAlice)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, r.json(t)["results"], 1)
	r = e.get(t, "/search?q=研修", &uBob)
	require.Equal(t, http.StatusOK, r.status)
	require.Empty(t, r.json(t)["results"])

	// Video 1002 (denied to sales) and the Secret folder are neither found nor counted.
	r = e.get(t, "/search?q=video+100", &uAlice)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, map[string]any{"videos": 1.0, "folders": 0.0}, r.json(t)["counts"], "1001; 1002 is denied, 1011 is not playable")
	r = e.get(t, "/search?q=video+1201", &uAlice)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, r.json(t)["results"].([]any)[0].(map[string]any)["video"].(map[string]any)["thumbnails"], 2)
	r = e.get(t, "/search?q=secret", &uAlice)
	require.Equal(t, http.StatusOK, r.status)
	require.Empty(t, r.json(t)["results"])
	r = e.get(t, "/search?q=secret", &uGold)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []string{librarytest.Secret}, ids(folders(r.json(t)["results"])))

	// The folder scope: a hidden folder is a 404, like GET /folders/{id}.
	r = e.get(t, "/search?q=video&folder="+librarytest.Secret, &uAlice)
	require.Equal(t, http.StatusNotFound, r.status)
	checkResponse(t, "/search", r)
	r = e.get(t, "/search?q=video&folder="+librarytest.Public+"&limit=2", &uAlice)
	require.Equal(t, http.StatusOK, r.status)
	p = r.json(t)
	require.Equal(t, map[string]any{"videos": 5.0, "folders": 0.0}, p["counts"])
	require.Len(t, p["results"], 2)
	r = e.get(t, "/search?q=video&folder="+librarytest.Public+"&limit=2&cursor="+p["next_cursor"].(string), &uAlice)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, r.json(t)["results"], 2)

	for _, bad := range []string{"/search", "/search?q=+", "/search?q=x&limit=0", "/search?q=x&folder=abc", "/search?q=x&cursor=zz"} {
		r = e.get(t, bad, &uAlice)
		require.Equal(t, http.StatusBadRequest, r.status, bad)
		checkResponse(t, "/search", r)
	}
}

// folders picks the folder results of a search, as FolderSummary maps.
func folders(results any) []any {
	var out []any
	for _, h := range results.([]any) {
		if f, ok := h.(map[string]any)["folder"]; ok {
			out = append(out, f)
		}
	}
	return out
}

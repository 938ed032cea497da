package vimeo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name  string
		token string
		opts  *vimeo.Options
	}{
		{"empty token", " ", nil},
		{"base URL without host", "t", &vimeo.Options{BaseURL: "api.vimeo.com"}},
		{"base URL scheme", "t", &vimeo.Options{BaseURL: "ftp://api.vimeo.com"}},
		{"page size above 100", "t", &vimeo.Options{PageSize: 101}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := vimeo.New(tt.token, tt.opts)
			require.ErrorIs(t, err, vimeo.ErrInvalidArgument)
			require.Nil(t, c)
		})
	}
	c, err := vimeo.New("t", nil)
	require.NoError(t, err)
	require.NotNil(t, c)
}

func TestClientSendsAuthVersionAgentAndFields(t *testing.T) {
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 3, Folders: 5, Videos: 120}, nil, &vimeo.Options{UserAgent: "vidlib-test/1.0"})
	ctx := t.Context()
	u, err := e.c.Me(ctx)
	require.NoError(t, err)
	require.Equal(t, id(e.acct.UserID()), u.ID)
	require.Equal(t, "/users/1001/folders/root", u.FoldersRootURI)
	f, err := e.c.Folder(ctx, id(e.root))
	require.NoError(t, err)
	require.Equal(t, "Library", f.Name)
	pages := 0
	require.NoError(t, e.c.FolderItems(ctx, f.URI, nil, func(p *vimeo.Page[vimeo.Item]) error { pages++; return nil }))
	require.NoError(t, e.c.Videos(ctx, "", &vimeo.ListOptions{Sort: "modified_time", Direction: "desc"},
		func(p *vimeo.Page[vimeo.Video]) error { return vimeo.StopPaging }))
	require.Positive(t, pages)

	reqs := e.srv.Requests()
	require.Len(t, reqs, 3+pages)
	for _, r := range reqs {
		require.Equal(t, "Bearer "+vimeotest.DefaultToken, r.Authorization, r.Path)
		require.Equal(t, vimeo.AcceptVersion, r.Accept)
		require.Equal(t, "vidlib-test/1.0", r.UserAgent)
		q, err := url.ParseQuery(r.RawQuery)
		require.NoError(t, err)
		require.NotEmpty(t, q.Get("fields"), "every request sends fields=: %s", r.Path)
		if strings.HasSuffix(r.Path, "/items") || strings.HasSuffix(r.Path, "/videos") {
			require.Equal(t, "100", q.Get("per_page"), r.Path)
		}
	}
}

func TestClientErrorsAndRetries(t *testing.T) {
	tests := []struct {
		name     string
		sopts    vimeotest.Options
		faults   []vimeotest.Fault
		mutate   func(e *env)
		token    string
		ref      func(e *env) string
		wantIs   []error
		wantNot  []error
		wantCode int
		requests int // requests the fake saw
	}{
		{name: "404 unknown folder", ref: func(*env) string { return "999" },
			wantIs: []error{vimeo.ErrNotFound}, wantNot: []error{vimeo.ErrPagePastEnd}, wantCode: 5000, requests: 1},
		{name: "404 minimal body", sopts: vimeotest.Options{MinimalErrors: true}, ref: func(*env) string { return "999" },
			wantIs: []error{vimeo.ErrNotFound}, wantCode: 0, requests: 1},
		{name: "403 revoked", mutate: func(e *env) { require.NoError(t, e.acct.Revoke(e.root)) },
			wantIs: []error{vimeo.ErrForbidden}, wantCode: 3200, requests: 1},
		{name: "403 as 404", sopts: vimeotest.Options{ForbiddenAs404: true}, mutate: func(e *env) { require.NoError(t, e.acct.Revoke(e.root)) },
			wantIs: []error{vimeo.ErrNotFound}, wantCode: 5000, requests: 1},
		{name: "401 bad token not retried", token: "nope", wantIs: []error{vimeo.ErrUnauthorized}, wantCode: 8003, requests: 1},
		{name: "400 not retried", faults: []vimeotest.Fault{{Status: 400}}, wantIs: nil, wantNot: []error{vimeo.ErrServer}, wantCode: 2204, requests: 1},
		{name: "503 twice then ok", faults: []vimeotest.Fault{{Status: 503, Times: 2}}, requests: 3},
		{name: "HTML 502 then ok", faults: []vimeotest.Fault{{Status: 502, HTML: true}}, requests: 2},
		{name: "HTML 200 then ok", faults: []vimeotest.Fault{{Status: 200, HTML: true}}, requests: 2},
		{name: "connection reset then ok", faults: []vimeotest.Fault{{Reset: true}}, requests: 2},
		{name: "500 until attempts run out", faults: []vimeotest.Fault{{Status: 500, Times: -1}},
			wantIs: []error{vimeo.ErrServer}, wantCode: 1004, requests: 4},
		{name: "HTML 504 until attempts run out", faults: []vimeotest.Fault{{Status: 504, HTML: true, Times: -1}},
			wantIs: []error{vimeo.ErrServer, vimeo.ErrBadResponse}, requests: 4},
		{name: "429 without headers then ok", faults: []vimeotest.Fault{{Status: 429, Times: 2}}, requests: 3},
		{name: "429 until waits run out", faults: []vimeotest.Fault{{Status: 429, Times: -1}},
			wantIs: []error{vimeo.ErrRateLimited}, wantCode: 9000, requests: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, &vimeotest.GenerateOptions{Seed: 2, Folders: 3, Videos: 5}, &tt.sopts,
				&vimeo.Options{Retry: vimeo.RetryOptions{MaxAttempts: 4, MaxRateLimitWaits: 3}})
			if tt.mutate != nil {
				tt.mutate(e)
			}
			for _, f := range tt.faults {
				e.srv.AddFault(f)
			}
			c := e.c
			if tt.token != "" {
				var err error
				c, err = vimeo.New(tt.token, &vimeo.Options{BaseURL: e.srv.URL(), Clock: e.clk})
				require.NoError(t, err)
			}
			ref := id(e.root)
			if tt.ref != nil {
				ref = tt.ref(e)
			}
			f, err := c.Folder(t.Context(), ref)
			require.Equal(t, tt.requests, len(e.srv.Requests()), "requests seen by the fake")
			if tt.wantIs == nil && tt.wantCode == 0 {
				require.NoError(t, err)
				require.Equal(t, id(e.root), f.ID)
				return
			}
			require.Error(t, err)
			for _, target := range tt.wantIs {
				require.ErrorIs(t, err, target)
			}
			for _, target := range tt.wantNot {
				require.NotErrorIs(t, err, target)
			}
			var ae *vimeo.APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tt.wantCode, ae.ErrorCode)
			require.Equal(t, http.MethodGet, ae.Method)
			require.Contains(t, ae.Path, "/projects/")
			require.NotEmpty(t, ae.RequestID, "X-Request-Id is kept")
		})
	}
}

func TestClientPagePastEnd(t *testing.T) {
	for _, as404 := range []bool{false, true} {
		t.Run(fmt.Sprintf("404=%v", as404), func(t *testing.T) {
			e := newEnv(t, &vimeotest.GenerateOptions{Seed: 2, Folders: 3, Videos: 5}, &vimeotest.Options{PagePastEnd404: as404}, nil)
			_, err := e.c.Get(t.Context(), e.rootURI()+"/items", url.Values{"page": {"9"}, "per_page": {"100"}, "fields": {"uri"}}, nil)
			require.ErrorIs(t, err, vimeo.ErrPagePastEnd)
			require.Len(t, e.srv.Requests(), 1, "not retried")
		})
	}
}

func TestClientBreakerOpensAndHalfOpens(t *testing.T) {
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 2, Folders: 3, Videos: 5}, &vimeotest.Options{ErrorRate: 1},
		&vimeo.Options{Retry: vimeo.RetryOptions{MaxAttempts: 3}, Breaker: vimeo.BreakerOptions{Threshold: 5, Cooldown: time.Minute}})
	ctx := t.Context()
	_, err := e.c.Folder(ctx, id(e.root))
	require.ErrorIs(t, err, vimeo.ErrServer)
	_, err = e.c.Folder(ctx, id(e.root))
	require.ErrorIs(t, err, vimeo.ErrServer)
	require.Equal(t, vimeo.BreakerOpen, e.c.Stats().Breaker, "5 consecutive failures open the circuit")
	seen := len(e.srv.Requests())
	require.Equal(t, 5, seen, "the circuit opened on the 5th failure and stopped the 6th attempt")

	_, err = e.c.Folder(ctx, id(e.root))
	require.ErrorIs(t, err, vimeo.ErrCircuitOpen)
	require.Len(t, e.srv.Requests(), seen, "no request while open")

	e.srv.SetChaos(0, 0, 0)
	e.clk.Advance(time.Minute)
	f, err := e.c.Folder(ctx, id(e.root))
	require.NoError(t, err, "the half-open probe goes through")
	require.Equal(t, id(e.root), f.ID)
	st := e.c.Stats()
	require.Equal(t, vimeo.BreakerClosed, st.Breaker)
	require.Equal(t, 1, st.BreakerOpened)
}

// TestClientRateLimit429Storm has another program exhaust the token's limit
// before every call, so the client keeps running into 429s and bans it did
// not cause. Every call must still end well, whatever form the 429 takes.
func TestClientRateLimit429Storm(t *testing.T) {
	tests := []struct {
		name  string
		sopts vimeotest.Options
	}{
		{"iso reset", vimeotest.Options{RateLimit: 4}},
		{"epoch reset", vimeotest.Options{RateLimit: 4, ResetEpoch: true}},
		{"retry-after", vimeotest.Options{RateLimit: 4, RetryAfter: true}},
		{"no headers on 429", vimeotest.Options{RateLimit: 4, NoRateHeadersOn429: true}},
		{"fixed ban", vimeotest.Options{RateLimit: 4, BanDuration: 90 * time.Second}},
		{"legacy hour ban", vimeotest.Options{RateLimit: 4, LegacyBan: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, &vimeotest.GenerateOptions{Seed: 2, Folders: 3, Videos: 5}, &tt.sopts,
				&vimeo.Options{Retry: vimeo.RetryOptions{MaxRateLimitWaits: 20}})
			hog := func() {
				for {
					req, err := http.NewRequest(http.MethodGet, e.srv.URL()+"/me", nil)
					require.NoError(t, err)
					req.Header.Set("Authorization", "bearer "+e.srv.Token())
					resp, err := http.DefaultClient.Do(req)
					require.NoError(t, err)
					resp.Body.Close()
					if resp.StatusCode == http.StatusTooManyRequests {
						return
					}
				}
			}
			for range 8 {
				hog()
				f, err := e.c.Folder(t.Context(), id(e.root))
				require.NoError(t, err)
				require.Equal(t, id(e.root), f.ID)
			}
			require.GreaterOrEqual(t, e.c.Stats().RateLimited, int64(8), "every call met a ban first")
			require.Equal(t, 8, e.srv.Stats().ByStatus[200]-countOK(e.srv, "/me"))
		})
	}
}

func countOK(s *vimeotest.Server, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Path == path && r.Status == http.StatusOK {
			n++
		}
	}
	return n
}

func TestClientNeverLeaksTokenToForeignHosts(t *testing.T) {
	var foreign atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { foreign.Add(1) }))
	defer evil.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.vimeo.video+json")
		fmt.Fprintf(w, `{"total":2,"page":1,"per_page":1,"paging":{"next":"%s/me/videos?page=2"},"data":[{"uri":"/videos/1"}]}`, evil.URL)
	}))
	defer api.Close()
	c, err := vimeo.New("secret", &vimeo.Options{BaseURL: api.URL})
	require.NoError(t, err)
	err = c.Videos(t.Context(), "", nil, func(*vimeo.Page[vimeo.Video]) error { return nil })
	require.ErrorIs(t, err, vimeo.ErrBadResponse)
	require.Zero(t, foreign.Load())
}

func TestClientKeepsFieldsOnNextLinksAndRefusesLoops(t *testing.T) {
	var mu sync.Mutex
	var queries []url.Values
	loop := false
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.Query())
		mu.Unlock()
		page := r.URL.Query().Get("page")
		next := `"/me/videos?page=2"` // drops fields and per_page
		if page == "2" {
			next = "null"
		}
		if loop {
			next = `"/me/videos?page=1"`
		}
		fmt.Fprintf(w, `{"total":2,"page":1,"per_page":1,"paging":{"next":%s},"data":[{"uri":"/videos/1"}]}`, next)
	}))
	defer api.Close()
	c, err := vimeo.New("t", &vimeo.Options{BaseURL: api.URL})
	require.NoError(t, err)
	n := 0
	require.NoError(t, c.Videos(t.Context(), "", nil, func(p *vimeo.Page[vimeo.Video]) error { n += len(p.Data); return nil }))
	require.Equal(t, 2, n)
	require.Len(t, queries, 2)
	for _, q := range queries {
		require.NotEmpty(t, q.Get("fields"))
		require.Equal(t, "100", q.Get("per_page"))
	}
	loop = true
	err = c.Videos(t.Context(), "", nil, func(p *vimeo.Page[vimeo.Video]) error { return nil })
	require.ErrorIs(t, err, vimeo.ErrBadResponse)
}

func TestClientListsAndStopPaging(t *testing.T) {
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 4, Folders: 4, Videos: 150, WideFolders: 1}, nil, nil)
	ctx := t.Context()
	total, pages := 0, 0
	var ids []string
	err := e.c.Folders(ctx, "", &vimeo.ListOptions{PerPage: 2, Sort: "date", Direction: "asc"}, func(p *vimeo.Page[vimeo.Folder]) error {
		pages++
		total = p.Total
		for _, f := range p.Data {
			ids = append(ids, f.ID)
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, len(e.acct.Folders()), total)
	require.Len(t, ids, total)
	require.Equal(t, (total+1)/2, pages)

	pages = 0
	err = e.c.Videos(ctx, "", &vimeo.ListOptions{PerPage: 10}, func(p *vimeo.Page[vimeo.Video]) error {
		pages++
		if pages == 3 {
			return vimeo.StopPaging
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, pages)

	boom := errors.New("boom")
	err = e.c.Videos(ctx, "", nil, func(p *vimeo.Page[vimeo.Video]) error { return boom })
	require.ErrorIs(t, err, boom)

	_, err = e.c.Folder(ctx, "../../etc")
	require.ErrorIs(t, err, vimeo.ErrInvalidArgument)
	_, err = e.c.Video(ctx, "12:<script>")
	require.ErrorIs(t, err, vimeo.ErrInvalidArgument)
	err = e.c.Folders(ctx, "", &vimeo.ListOptions{PerPage: 500}, nil)
	require.ErrorIs(t, err, vimeo.ErrInvalidArgument)
}

func TestClientVideoByHashAndParent(t *testing.T) {
	for _, key := range []string{"parent_folder", "parent_project", "both"} {
		t.Run(key, func(t *testing.T) {
			e := newEnv(t, &vimeotest.GenerateOptions{Seed: 5, Folders: 3, Videos: 20, UnlistedRate: 1}, &vimeotest.Options{ParentKey: key}, nil)
			var vid vimeotest.Video
			for _, v := range e.acct.Videos() {
				if v.FolderID == e.root || v.FolderID != 0 {
					vid = v
					break
				}
			}
			require.Equal(t, "unlisted", vid.Privacy)
			got, err := e.c.Video(t.Context(), id(vid.ID)+":"+vid.Hash)
			require.NoError(t, err)
			require.Equal(t, id(vid.ID), got.ID)
			require.Equal(t, vid.Hash, got.Hash)
			require.Equal(t, "/videos/"+id(vid.ID)+":"+vid.Hash, got.URI)
			require.True(t, got.ParentKnown)
			require.Equal(t, id(vid.FolderID), got.ParentID)
			_, err = e.c.Video(t.Context(), id(vid.ID)+":ffffffffff")
			require.ErrorIs(t, err, vimeo.ErrNotFound, "a wrong hash is not found")
		})
	}
}

func TestClientContextCancel(t *testing.T) {
	e := newEnv(t, &vimeotest.GenerateOptions{Seed: 2, Folders: 3, Videos: 5}, &vimeotest.Options{ErrorRate: 1}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := e.c.Folder(ctx, id(e.root))
	require.ErrorIs(t, err, context.Canceled)
}

// TestClientRetriesTimeouts: an attempt that outlives AttemptTimeout is
// abandoned and retried.
func TestClientRetriesTimeouts(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select { // hang until the client gives up on this attempt
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		fmt.Fprint(w, `{"uri":"/users/1/projects/2","name":"ok"}`)
	}))
	defer api.Close()
	defer close(release)
	c, err := vimeo.New("t", &vimeo.Options{BaseURL: api.URL, Clock: vimeotest.NewVirtualClock(epoch),
		Retry: vimeo.RetryOptions{AttemptTimeout: 50 * time.Millisecond}})
	require.NoError(t, err)
	f, err := c.Folder(t.Context(), "2")
	require.NoError(t, err)
	require.Equal(t, "ok", f.Name)
	require.EqualValues(t, 2, calls.Load())
	require.EqualValues(t, 1, c.Stats().TransportErrors)
	require.EqualValues(t, 1, c.Stats().Retries)
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// WrapTransport sees every request on the wire, with the default client and
// with a caller's client.
func TestWrapTransportSeesEveryRequest(t *testing.T) {
	for _, own := range []bool{false, true} {
		var seen atomic.Int64
		opts := &vimeo.Options{WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				seen.Add(1)
				r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
				return rt.RoundTrip(r)
			})
		}}
		if own {
			opts.HTTPClient = &http.Client{}
		}
		e := newEnv(t, &vimeotest.GenerateOptions{Seed: 3, Folders: 2, Videos: 5}, nil, opts)
		_, err := e.c.Me(t.Context())
		require.NoError(t, err)
		_, err = e.c.Folder(t.Context(), id(e.root))
		require.NoError(t, err)
		require.EqualValues(t, 2, seen.Load(), "own client: %v", own)
		require.Len(t, e.srv.Requests(), 2)
	}
}

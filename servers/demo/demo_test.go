package demo

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"

	"github.com/vidlib/vidlib/servers/config"
)

func TestDemo(t *testing.T) {
	// The demo runs until its context ends: the console is checked while it
	// serves. The admin server listens on every interface (":0") so that the
	// printed URL is the localhost one a person would open.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := demoConfig(t, "--demo-folders", "40", "--demo-videos", "300", "--demo-seed", "3",
		"--api-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--admin-addr", ":0")
	var outBuf syncBuffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, &Options{Out: &outBuf}) }()
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			require.FailNow(t, "the demo stopped", "%v", err)
		default:
		}
		return strings.Contains(outBuf.String(), "vidlib is running")
	}, 2*time.Minute, 50*time.Millisecond, "the demo gets ready")
	out := outBuf.String()
	require.NotContains(t, out, "[::]", "printed URLs can be opened")
	require.NotContains(t, out, "0.0.0.0")
	consoleURL := findConsoleURL(t, out)
	require.Regexp(t, `^http://localhost:[0-9]+/$`, consoleURL)
	require.Contains(t, out, "click Sign in, then click Ada Admin")
	consoleSignIn(t, consoleURL)
	checkChat(t, out)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		require.FailNow(t, "the demo did not stop")
	}

	require.Contains(t, out, "mirrored         40 folders, 300 videos")
	lines := strings.Split(out, "\n")
	counts := map[string][3]int{}
	for _, l := range lines {
		for _, u := range people {
			if strings.HasPrefix(l, u.label) {
				var f, v, home int
				_, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, u.label)), "%d %d %d", &f, &v, &home)
				require.NoError(t, err, l)
				counts[u.label] = [3]int{f, v, home}
			}
		}
	}
	require.Len(t, counts, 4)
	require.Equal(t, [3]int{0, 0, 0}, counts["visitor (no role)"], "default deny, through the API too")
	require.Less(t, counts["member, free tier"][1], counts["member, gold tier"][1], "premium is denied to the free tier")
	require.Less(t, counts["member, gold tier"][1], counts["staff"][1], "the staff-only folder is denied to members")
	require.Less(t, counts["member, gold tier"][2], counts["staff"][2], "the API shows staff more top-level folders")
	require.Equal(t, 4, strings.Count(out, "/library/home\n"), "a curl line per user")
	require.Contains(t, out, "/admin/overview", "the admin API is printed (and checked: dead letters, a held run)")
	require.Contains(t, out, "is held")
	require.Contains(t, out, "viewing history  staff", "the demo generates viewing history through the API")
	require.NotContains(t, out, "viewing history  visitor", "nothing to watch for the visitor")
	require.Contains(t, out, "/me/continue-watching")
	require.Contains(t, out, "/feed\n", "a curl line for the ranked feed")
	require.Contains(t, out, "Continue watching", "the demo prints the users' feeds with reasons")
	require.Regexp(t, `anonymous +GET /library/home +200  1 folder\(s\)`, out, "a public folder, browsable without signing in")
	require.Regexp(t, `member, gold tier +GET /videos/[0-9]+ +200  listed locked, lock_reason upgrade`, out, "a teaser")
	require.Regexp(t, `member, gold tier +GET /videos/[0-9]+/playback +403  locked upgrade`, out, "a teaser does not play")
	require.Contains(t, out, "privacy.embed=private in Vimeo; after the mirror's refresh", "Vimeo privacy honoured")
	require.Contains(t, out, "(vimeo_privacy: privacy.embed is private: the video cannot be embedded)")
}

// TestRunWithExitWhenReady: Run returns nil once it has printed everything.
func TestRunWithExitWhenReady(t *testing.T) {
	var out bytes.Buffer
	cfg := demoConfig(t, "--demo-folders", "6", "--demo-videos", "30", "--api-addr", "127.0.0.1:0",
		"--metrics-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	require.NoError(t, Run(context.Background(), cfg, &Options{Out: &out, ExitWhenReady: true}))
	require.Contains(t, out.String(), "mirrored         6 folders, 30 videos")
	require.NotContains(t, out.String(), "vidlib is running")
}

// TestRunRefusesARealAccountWithoutItsRoot: a Vimeo token without the root
// folder to mirror is an error, before anything starts.
func TestRunRefusesARealAccountWithoutItsRoot(t *testing.T) {
	cfg := demoConfig(t)
	cfg.Vimeo.Token = config.NewSecret("a-token")
	var out bytes.Buffer
	err := Run(context.Background(), cfg, &Options{Out: &out})
	require.ErrorContains(t, err, "root folder")
	require.Empty(t, out.String(), "nothing started")
}

// demoConfig is the demo's configuration from these flags, as `vidlib demo`
// loads it, without reading the environment.
func demoConfig(t *testing.T, args ...string) *config.Config {
	t.Helper()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	l := config.Register(fs, config.ForDemo...)
	require.NoError(t, fs.Parse(args))
	cfg, err := l.Load(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	cfg.Log.Level = zapcore.WarnLevel
	return cfg
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// findConsoleURL is the console URL the demo printed.
func findConsoleURL(t *testing.T, out string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "The admin console:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	require.FailNow(t, "no console URL printed", out)
	return ""
}

// consoleSignIn signs in to the demo's console as the demo admin, the
// way a browser does, without one: the console's sign-in page, /login, the
// local issuer's /oauth2/authorize (a login_hint picks the admin instead of
// a click), /auth/callback with the code, and the overview with the session
// cookie. Go's cookie jar (like browsers) treats http://localhost as a
// secure origin, so it keeps and sends the console's Secure __Host- cookies.
func consoleSignIn(t *testing.T, consoleURL string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(u)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	base := strings.TrimSuffix(consoleURL, "/")

	// Not signed in: the console sends the browser to its sign-in page.
	resp, _ := get(consoleURL)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/signin?next=%2F", resp.Header.Get("Location"))
	resp, body := get(base + resp.Header.Get("Location"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Contains(t, body, `href="/login?next=%2f"`)

	// Sign in: to the issuer, with PKCE; the hint picks the demo admin.
	resp, _ = get(base + "/login?next=/")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	authorize, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(authorize.Path, "/oauth2/authorize"), authorize.String())
	q := authorize.Query()
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.Equal(t, base+"/auth/callback", q.Get("redirect_uri"), "derived from the host the browser used")
	q.Set("login_hint", adminPerson.user.Email)
	authorize.RawQuery = q.Encode()
	resp, _ = get(authorize.String())
	require.Equal(t, http.StatusFound, resp.StatusCode)
	callback := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(callback, base+"/auth/callback?"), callback)
	require.Contains(t, callback, "code=")
	resp, _ = get(callback)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "a session starts")
	require.Equal(t, "/", resp.Header.Get("Location"))
	u, err := url.Parse(consoleURL)
	require.NoError(t, err)
	var names []string
	for _, ck := range jar.Cookies(u) {
		names = append(names, ck.Name)
	}
	require.Contains(t, names, "__Host-vidlib-console")

	// Signed in: the overview, with the demo's open dead letters.
	resp, body = get(consoleURL)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Contains(t, body, "<h1>Overview</h1>")
	require.Contains(t, body, "<span>"+adminPerson.user.Name+"</span>", "signed in as the demo admin")
	require.Contains(t, body, "<b>2</b><span>open dead letters</span>")
}

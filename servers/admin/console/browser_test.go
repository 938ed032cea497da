package console_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Browser tests drive Debian's chromium headless through the DevTools
// protocol. Without chromium they skip, except under CI=true, where a missing
// browser is a failure (as a missing server is in internal/testenv).
// VIDLIB_TEST_CHROMIUM names another binary; VIDLIB_TEST_SCREENSHOTS names a
// folder that receives a copy of every screenshot.

const defaultChromium = "/usr/bin/chromium"

func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("VIDLIB_TEST_CHROMIUM")
	if p == "" {
		p = defaultChromium
	}
	if _, err := os.Stat(p); err != nil {
		msg := "no chromium at " + p + " (apt-get install chromium, or set VIDLIB_TEST_CHROMIUM)"
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%s; CI=true, so this is a failure, not a skip", msg)
		}
		t.Skip(msg)
	}
	return p
}

// browserCtx starts a headless chromium for the test and returns its
// context (one tab).
func browserCtx(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	// Not t.TempDir: chromium may still write to its profile while it exits.
	profile, err := os.MkdirTemp("", "vidlib-chromium-")
	require.NoError(t, err)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, // CI runs as root, where chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancelTimeout()
		cancel()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	require.NoError(t, chromedp.Run(ctx), "start chromium")
	return ctx
}

// shots is where screenshots go: a temp folder, and a copy in
// VIDLIB_TEST_SCREENSHOTS when set.
type shots struct {
	t   *testing.T
	dir string
}

func newShots(t *testing.T) *shots {
	return &shots{t: t, dir: t.TempDir()}
}

// take saves a full-page screenshot as <name>.png.
func (s *shots) take(ctx context.Context, name string) {
	s.t.Helper()
	var png []byte
	require.NoError(s.t, chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100))) // 100: PNG
	p := filepath.Join(s.dir, name+".png")
	require.NoError(s.t, os.WriteFile(p, png, 0o644))
	if out := os.Getenv("VIDLIB_TEST_SCREENSHOTS"); out != "" {
		require.NoError(s.t, os.MkdirAll(out, 0o755))
		require.NoError(s.t, os.WriteFile(filepath.Join(out, name+".png"), png, 0o644))
	}
	s.t.Logf("screenshot %s", p)
}

// localhostURL rewrites an httptest URL (127.0.0.1) to http://localhost, the
// address a demo user opens.
func localhostURL(u string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	return "http://localhost:" + port
}

// cookie returns the browser's cookie with this name, for the URL.
func cookie(ctx context.Context, u, name string) (*network.Cookie, error) {
	var found *network.Cookie
	err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		cs, err := network.GetCookies().WithURLs([]string{u}).Do(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.Name == name {
				found = c
			}
		}
		return nil
	}))
	if err == nil && found == nil {
		err = errors.New("no cookie " + name)
	}
	return found, err
}

// text is the visible text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	require.NoError(t, chromedp.Run(ctx, chromedp.Text(sel, &s, chromedp.ByQuery)))
	return s
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	var s string
	require.NoError(t, chromedp.Run(ctx, chromedp.Location(&s)))
	return s
}

// TestBrowserSignIn signs in through the issuer's sign-in page in chromium,
// on http://localhost, and checks the session cookie the browser kept.
func TestBrowserSignIn(t *testing.T) {
	ctx := browserCtx(t)
	e := newEnv(t)
	base := localhostURL(e.srv.URL)
	sh := newShots(t)

	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible("a.button.primary", chromedp.ByQuery)))
	require.Equal(t, base+"/signin?next=%2F", location(t, ctx))
	sh.take(ctx, "01-signin")

	// The issuer's page: pick the demo admin.
	require.NoError(t, chromedp.Run(ctx, chromedp.Click("a.button.primary", chromedp.ByQuery), chromedp.WaitVisible("button.user", chromedp.ByQuery)))
	require.True(t, strings.HasPrefix(location(t, ctx), e.issuer.URL()+"/oauth2/authorize?"))
	sh.take(ctx, "02-issuer-signin")
	require.NoError(t, chromedp.Run(ctx, chromedp.Click(`button.user[value="0"]`, chromedp.ByQuery), chromedp.WaitVisible("header .who", chromedp.ByQuery)))
	require.Equal(t, base+"/", location(t, ctx))
	require.Contains(t, text(t, ctx, "header .who"), "Ada Admin")
	sh.take(ctx, "03-overview")

	// Secure + HttpOnly + SameSite kept on http://localhost.
	c, err := cookie(ctx, base+"/", "__Host-vidlib-console")
	require.NoError(t, err)
	require.True(t, c.Secure)
	require.True(t, c.HTTPOnly)
	require.Equal(t, network.CookieSameSiteLax, c.SameSite)

	// The stylesheet loads under the CSP (no inline styles to block).
	var bg string
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`getComputedStyle(document.querySelector("header.top")).backgroundColor`, &bg)))
	require.Equal(t, "rgb(29, 35, 48)", bg)

	// Sign out.
	require.NoError(t, chromedp.Run(ctx, chromedp.Click("header .who button", chromedp.ByQuery), chromedp.WaitVisible(".flash", chromedp.ByQuery)))
	require.Contains(t, text(t, ctx, ".flash"), "signed out")
	_, err = cookie(ctx, base+"/", "__Host-vidlib-console")
	require.Error(t, err, "the session cookie is gone")
}

// TestBrowserNonAdmin: a member signs in and sees the 403 page.
func TestBrowserNonAdmin(t *testing.T) {
	ctx := browserCtx(t)
	e := newEnv(t)
	base := localhostURL(e.srv.URL)
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(base+"/login?next=/&login_hint="+uMember.Email), chromedp.WaitVisible("main h1", chromedp.ByQuery)))
	require.Equal(t, "You are not an administrator", text(t, ctx, "main h1"))
	newShots(t).take(ctx, "04-forbidden")
	resp, err := http.Get(e.srv.URL + "/static/console.css")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(b), "vidlib admin console")
}

package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/servers/admin"
	"github.com/vidlib/vidlib/servers/admin/console"
	"github.com/vidlib/vidlib/store/memstore"
)

type nopAuditor struct{}

func (nopAuditor) Record(context.Context, auth.AuditRecord) error { return nil }

var (
	uAdmin  = authtest.User{Email: "ada@example.com", Name: "Ada Admin", Groups: []string{"admins"}}
	uMember = authtest.User{Email: "mo@example.com", Name: "Mo Member", Groups: []string{"members"}}
)

type env struct {
	issuer *authtest.Issuer
	srv    *httptest.Server
	users  *memstore.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	is, err := authtest.Start(&authtest.Options{HostedUI: true, Users: []authtest.User{uAdmin, uMember}})
	require.NoError(t, err)
	t.Cleanup(is.Close)
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{is.ClientID()}}}, nil)
	require.NoError(t, err)
	st := memstore.New()
	as, err := auth.New(v, st, nopAuditor{}, &auth.Options{
		GroupRoles: map[string][]string{"admins": {"admin"}, "members": {"member"}}, PrincipalTTL: -1,
	})
	require.NoError(t, err)
	svc, err := admin.New(st, nil)
	require.NoError(t, err)
	c, err := console.New(svc, as, &console.Options{Issuer: is.URL(), ClientID: is.ClientID(), IsAdmin: svc.IsAdmin})
	require.NoError(t, err)
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return &env{issuer: is, srv: srv, users: st}
}

// browser is a client with a cookie jar that keeps Secure cookies over
// http://127.0.0.1 as browsers do for loopback (net/http's jar does too).
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signIn follows the whole flow: /login → the issuer (login_hint) → the
// callback → the page asked for.
func signIn(t *testing.T, e *env, c *http.Client, u authtest.User) (*http.Response, string) {
	t.Helper()
	return get(t, c, e.srv.URL+"/login?next=/&login_hint="+url.QueryEscape(u.Email))
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestSignInAsAdmin(t *testing.T) {
	e := newEnv(t)
	c := browser(t)

	// No session: pages send the browser to the sign-in page.
	resp, body := get(t, c, e.srv.URL+"/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "/signin", resp.Request.URL.Path)
	require.Contains(t, body, `href="/login?next=%2f"`)

	resp, body = signIn(t, e, c, uAdmin)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "/", resp.Request.URL.Path)
	require.Contains(t, body, "Ada Admin")

	// The session cookie: HttpOnly, Secure, SameSite, host-only, sealed.
	var setCookie string
	for r := resp; r != nil; r = r.Request.Response {
		for _, v := range r.Header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "__Host-vidlib-console=") && !strings.Contains(v, "Max-Age=0") {
				setCookie = v
			}
		}
	}
	require.NotEmpty(t, setCookie)
	for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Lax", "Path=/"} {
		require.Contains(t, setCookie, attr)
	}
	require.NotContains(t, setCookie, "Domain=")
	require.NotContains(t, setCookie, "eyJ", "the ID token is sealed, not readable")

	// Security headers on every page.
	h := resp.Header
	require.Equal(t, "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'", h.Get("Content-Security-Policy"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	require.Equal(t, "same-origin", h.Get("Referrer-Policy"))
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	require.NotContains(t, body, "<script")
	require.NotContains(t, body, "style=")

	// Sign out needs the form's token.
	resp, err := c.PostForm(e.srv.URL+"/signout", url.Values{"csrf": {"wrong"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	m := csrfRE.FindStringSubmatch(body)
	require.NotNil(t, m)
	resp, err = c.PostForm(e.srv.URL+"/signout", url.Values{"csrf": {m[1]}})
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "/signin", resp.Request.URL.Path)
	require.Contains(t, string(b), "You are signed out.")
	resp, _ = get(t, c, e.srv.URL+"/")
	require.Equal(t, "/signin", resp.Request.URL.Path, "signed out")
}

func TestNonAdminGets403(t *testing.T) {
	e := newEnv(t)
	c := browser(t)
	resp, body := signIn(t, e, c, uMember)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, body, "You are not an administrator")
	require.Contains(t, body, "<code>member</code>")
	require.NotContains(t, body, `href="/sync-runs"`, "no navigation for non-admins")
}

func TestCrossOriginPostRefused(t *testing.T) {
	e := newEnv(t)
	c := browser(t)
	_, body := signIn(t, e, c, uAdmin)
	m := csrfRE.FindStringSubmatch(body)
	require.NotNil(t, m)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/signout", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = get(t, c, e.srv.URL+"/")
	require.Equal(t, "/", resp.Request.URL.Path, "still signed in")
}

func TestCallbackRefusals(t *testing.T) {
	e := newEnv(t)
	noFollow := browser(t)
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	// A callback without the login cookie (another browser, or forged).
	resp, body := get(t, noFollow, e.srv.URL+"/auth/callback?code=x&state=y")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, body, "Please sign in again")

	// A state that does not match this browser's login.
	resp, _ = get(t, noFollow, e.srv.URL+"/login?next=/")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	q := loc.Query()
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.NotEmpty(t, q.Get("nonce"))
	resp, _ = get(t, noFollow, e.srv.URL+"/auth/callback?code=x&state=forged")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = get(t, noFollow, e.srv.URL+"/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "no session came of it")

	// A tampered session cookie is no session.
	u, _ := url.Parse(e.srv.URL)
	noFollow.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-vidlib-console", Value: "AAAA" + strings.Repeat("x", 80), Path: "/", Secure: true}})
	resp, _ = get(t, noFollow, e.srv.URL+"/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/signin?next=%2F", resp.Header.Get("Location"))

	// next never leaves the site.
	resp, _ = get(t, noFollow, e.srv.URL+"/signin?next=//evil.example/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestGrantedRoleTakesEffect(t *testing.T) {
	e := newEnv(t)
	c := browser(t)
	resp, _ := signIn(t, e, c, uMember)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	// The session holds the token, not the roles: a role granted later
	// counts on the next request.
	ctx := context.Background()
	users, err := e.users.ListUsers(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, users, 1)
	require.NoError(t, e.users.PutRole(ctx, auth.Role{Name: "admin"}))
	require.NoError(t, e.users.GrantRole(ctx, users[0].ID, "admin"))
	resp, body := get(t, c, e.srv.URL+"/")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "Mo Member")
}

package authtest_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
)

const (
	testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more"
	testRedirect = "http://127.0.0.1:9/callback"
)

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// noRedirect is a client that returns redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func startHosted(t *testing.T, opts authtest.Options) *authtest.Issuer {
	t.Helper()
	opts.HostedUI = true
	is, err := authtest.Start(&opts)
	require.NoError(t, err)
	t.Cleanup(is.Close)
	return is
}

func authorizeURL(is *authtest.Issuer, extra url.Values) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {is.ClientID()}, "redirect_uri": {testRedirect},
		"state": {"st-1"}, "nonce": {"n-1"}, "scope": {"openid email"},
		"code_challenge": {challenge(testVerifier)}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return is.URL() + "/oauth2/authorize?" + q.Encode()
}

// authorize follows the authorize request to the redirect and returns the
// redirect's query.
func authorize(t *testing.T, is *authtest.Issuer, extra url.Values) url.Values {
	t.Helper()
	resp, err := noRedirect.Get(authorizeURL(is, extra))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, testRedirect, loc.Scheme+"://"+loc.Host+loc.Path)
	return loc.Query()
}

func exchange(t *testing.T, is *authtest.Issuer, form url.Values) (int, map[string]any) {
	t.Helper()
	base := url.Values{"grant_type": {"authorization_code"}, "client_id": {is.ClientID()},
		"redirect_uri": {testRedirect}, "code_verifier": {testVerifier}}
	for k, v := range form {
		base[k] = v
	}
	resp, err := http.PostForm(is.URL()+"/oauth2/token", base)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestHostedUICodeFlowWithPKCE(t *testing.T) {
	admin := authtest.User{Email: "ada@example.com", Name: "Ada Admin", Groups: []string{"admins"}}
	is := startHosted(t, authtest.Options{Users: []authtest.User{admin}})

	var doc map[string]any
	require.Equal(t, 200, getJSON(t, is.URL()+"/.well-known/openid-configuration", &doc))
	require.Equal(t, is.URL()+"/oauth2/authorize", doc["authorization_endpoint"])
	require.Equal(t, is.URL()+"/oauth2/token", doc["token_endpoint"])
	require.Equal(t, []any{"S256"}, doc["code_challenge_methods_supported"])

	q := authorize(t, is, url.Values{"login_hint": {"ADA@example.com"}})
	require.Equal(t, "st-1", q.Get("state"))
	require.NotEmpty(t, q.Get("code"))

	status, body := exchange(t, is, url.Values{"code": {q.Get("code")}})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "Bearer", body["token_type"])

	// The ID token verifies with the auth package and carries user, groups and nonce.
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{is.ClientID()}}}, nil)
	require.NoError(t, err)
	tok, err := v.Verify(context.Background(), body["id_token"].(string))
	require.NoError(t, err)
	c := tok.Claims()
	require.Equal(t, "ada@example.com", c["email"])
	require.Equal(t, "n-1", c["nonce"])
	require.Equal(t, []any{"admins"}, c["cognito:groups"])
	_, err = v.Verify(context.Background(), body["access_token"].(string))
	require.NoError(t, err)

	// Single use: the second exchange of the same code fails.
	status, body = exchange(t, is, url.Values{"code": {q.Get("code")}})
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_grant", body["error"])
}

func TestHostedUITokenRefusals(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	is := startHosted(t, authtest.Options{Now: clk.Now})
	hint := url.Values{"login_hint": {"x@example.com"}}
	for name, tc := range map[string]struct {
		form   url.Values
		before func()
		status int
		err    string
	}{
		"wrong verifier":     {form: url.Values{"code_verifier": {strings.Repeat("a", 43)}}, status: 400, err: "invalid_grant"},
		"short verifier":     {form: url.Values{"code_verifier": {"abc"}}, status: 400, err: "invalid_grant"},
		"no verifier":        {form: url.Values{"code_verifier": {""}}, status: 400, err: "invalid_grant"},
		"other redirect_uri": {form: url.Values{"redirect_uri": {"http://127.0.0.1:9/other"}}, status: 400, err: "invalid_grant"},
		"other client":       {form: url.Values{"client_id": {"someone-else"}}, status: 401, err: "invalid_client"},
		"wrong grant type":   {form: url.Values{"grant_type": {"password"}}, status: 400, err: "unsupported_grant_type"},
		"expired code":       {before: func() { clk.Add(authtest.DefaultCodeTTL + time.Second) }, status: 400, err: "invalid_grant"},
		"unknown code":       {form: url.Values{"code": {"nope"}}, status: 400, err: "invalid_grant"},
	} {
		t.Run(name, func(t *testing.T) {
			code := authorize(t, is, hint).Get("code")
			if tc.before != nil {
				tc.before()
			}
			form := url.Values{"code": {code}}
			for k, v := range tc.form {
				form[k] = v
			}
			status, body := exchange(t, is, form)
			require.Equal(t, tc.status, status, body)
			require.Equal(t, tc.err, body["error"])
			require.Nil(t, body["id_token"])
		})
	}
}

func TestHostedUIAuthorizeRefusals(t *testing.T) {
	is := startHosted(t, authtest.Options{RedirectURIs: []string{testRedirect}})

	// Client and redirect URI problems are shown, never redirected to.
	for _, extra := range []url.Values{
		{"client_id": {"someone-else"}},
		{"redirect_uri": {"http://evil.example/cb"}},
		{"redirect_uri": {"javascript:alert(1)"}},
	} {
		resp, err := noRedirect.Get(authorizeURL(is, extra))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, extra)
		require.Empty(t, resp.Header.Get("Location"))
	}
	// Request problems go back to the client with the state.
	for extra, want := range map[string]url.Values{
		"unsupported_response_type": {"response_type": {"token"}},
		"invalid_request":           {"code_challenge_method": {"plain"}},
	} {
		q := authorize(t, is, want)
		require.Equal(t, extra, q.Get("error"))
		require.Equal(t, "st-1", q.Get("state"))
		require.Empty(t, q.Get("code"))
	}
	q := authorize(t, is, url.Values{"code_challenge": {"short"}})
	require.Equal(t, "invalid_request", q.Get("error"))

	// Without HostedUI the endpoints do not exist.
	plain, err := authtest.Start(nil)
	require.NoError(t, err)
	defer plain.Close()
	resp, err := noRedirect.Get(authorizeURL(plain, url.Values{"login_hint": {"x@example.com"}}))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestHostedUISignInPage(t *testing.T) {
	users := []authtest.User{{Email: "ada@example.com", Name: "Ada Admin", Groups: []string{"admins"}}, {Email: "bob@example.com"}}
	is := startHosted(t, authtest.Options{Users: users})

	resp, err := noRedirect.Get(authorizeURL(is, nil))
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(page), "Ada Admin &lt;ada@example.com&gt;")
	require.Contains(t, string(page), `name="code_challenge" value="`+challenge(testVerifier)+`"`)

	post := func(form url.Values) url.Values {
		q, _ := url.ParseQuery(strings.SplitN(authorizeURL(is, nil), "?", 2)[1])
		for k, v := range form {
			q[k] = v
		}
		resp, err := noRedirect.PostForm(is.URL()+"/oauth2/authorize", q)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		return loc.Query()
	}
	claimsOf := func(code string) map[string]any {
		status, body := exchange(t, is, url.Values{"code": {code}})
		require.Equal(t, http.StatusOK, status, body)
		payload := strings.Split(body["id_token"].(string), ".")[1]
		raw, err := base64.RawURLEncoding.DecodeString(payload)
		require.NoError(t, err)
		var c map[string]any
		require.NoError(t, json.Unmarshal(raw, &c))
		return c
	}
	// Picking a listed user.
	c := claimsOf(post(url.Values{"user": {"1"}}).Get("code"))
	require.Equal(t, "bob@example.com", c["email"])
	// Typing another one, with groups.
	c = claimsOf(post(url.Values{"email": {"carol@example.com"}, "groups": {"admins, staff"}}).Get("code"))
	require.Equal(t, "carol@example.com", c["email"])
	require.Equal(t, []any{"admins", "staff"}, c["cognito:groups"])
	// Cancelling.
	q := post(url.Values{"deny": {"1"}})
	require.Equal(t, "access_denied", q.Get("error"))
	require.Equal(t, "st-1", q.Get("state"))
}

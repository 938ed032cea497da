package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// loginTTL bounds the time between /login and the callback.
const loginTTL = 10 * time.Minute

// provider is the issuer's discovery document, fetched on first use.
type provider struct {
	mu        sync.Mutex
	authorize string
	token     string
}

func (c *Console) endpoints(ctx context.Context) (authorize, token string, err error) {
	c.prov.mu.Lock()
	defer c.prov.mu.Unlock()
	if c.prov.authorize != "" {
		return c.prov.authorize, c.prov.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.opts.Issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return "", "", err
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("console: discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("console: discovery: status %d", resp.StatusCode)
	}
	var doc struct {
		Issuer    string `json:"issuer"`
		Authorize string `json:"authorization_endpoint"`
		Token     string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return "", "", fmt.Errorf("console: discovery: %w", err)
	}
	if doc.Issuer != strings.TrimSuffix(c.opts.Issuer, "/") || doc.Authorize == "" || doc.Token == "" {
		return "", "", fmt.Errorf("console: discovery: issuer %q without both endpoints", doc.Issuer)
	}
	c.prov.authorize, c.prov.token = doc.Authorize, doc.Token
	return doc.Authorize, doc.Token, nil
}

// redirectURL is Options.RedirectURL, or the callback on the host the request
// came to.
func (c *Console) redirectURL(r *http.Request) string {
	if c.opts.RedirectURL != "" {
		return c.opts.RedirectURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/auth/callback"
}

// localPath keeps next a path on this site ("/x?y"), never "//host" or a URL.
func localPath(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// handleLogin starts the authorization code flow with PKCE: a fresh state,
// nonce and code_verifier go into the sealed login cookie, and the browser to
// the issuer's authorization endpoint.
func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	authorize, _, err := c.endpoints(r.Context())
	if err != nil {
		c.log.Error("sign-in unavailable", zap.Error(err))
		c.renderError(w, r, http.StatusServiceUnavailable, "Sign-in is unavailable", "The sign-in service did not answer. Try again in a minute.")
		return
	}
	l := login{State: randomString(24), Nonce: randomString(24), Verifier: randomString(48),
		Next: localPath(r.URL.Query().Get("next")), Created: c.opts.Now()}
	if err := c.setCookie(w, loginCookie, l, loginTTL); err != nil {
		c.fail(w, r, err)
		return
	}
	sum := sha256.Sum256([]byte(l.Verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.opts.ClientID}, "redirect_uri": {c.redirectURL(r)},
		"scope": {"openid email profile"}, "state": {l.State}, "nonce": {l.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	if h := r.URL.Query().Get("login_hint"); h != "" {
		q.Set("login_hint", h)
	}
	sep := "?"
	if strings.Contains(authorize, "?") {
		sep = "&"
	}
	http.Redirect(w, r, authorize+sep+q.Encode(), http.StatusFound)
}

// handleCallback finishes the flow: the state must match the login cookie,
// the code is exchanged with the code_verifier, and the ID token must verify,
// carry our nonce and belong to an admin before a session starts.
func (c *Console) handleCallback(w http.ResponseWriter, r *http.Request) {
	var l login
	ok := c.readCookie(r, loginCookie, &l)
	clearCookie(w, loginCookie)
	q := r.URL.Query()
	switch {
	case !ok || c.opts.Now().Sub(l.Created) > loginTTL:
		c.renderSignIn(w, r, http.StatusBadRequest, "The sign-in took too long or was started in another browser. Please sign in again.", "/")
		return
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.State)) != 1:
		c.renderSignIn(w, r, http.StatusBadRequest, "The sign-in answer did not match this browser's request. Please sign in again.", l.Next)
		return
	case q.Get("error") == "access_denied":
		c.renderSignIn(w, r, http.StatusOK, "Sign-in was cancelled.", l.Next)
		return
	case q.Get("error") != "":
		c.renderSignIn(w, r, http.StatusBadRequest, "The sign-in service refused: "+q.Get("error")+".", l.Next)
		return
	}
	raw, err := c.exchange(r, q.Get("code"), l.Verifier)
	if err != nil {
		c.log.Warn("code exchange failed", zap.Error(err))
		c.renderSignIn(w, r, http.StatusBadGateway, "The sign-in could not be completed. Please try again.", l.Next)
		return
	}
	p, err := c.authn.Authenticate(r.Context(), raw)
	if err != nil {
		c.authFailed(w, r, err, l.Next)
		return
	}
	if n, _ := p.Token.Claims()["nonce"].(string); subtle.ConstantTimeCompare([]byte(n), []byte(l.Nonce)) != 1 {
		c.renderSignIn(w, r, http.StatusBadRequest, "The sign-in answer was not issued for this request. Please sign in again.", l.Next)
		return
	}
	s := session{IDToken: raw, CSRF: randomString(24), Created: c.opts.Now()}
	if err := c.setCookie(w, sessionCookie, s, c.opts.SessionTTL); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, l.Next, http.StatusSeeOther)
}

// exchange posts the code and verifier to the token endpoint and returns the
// raw ID token.
func (c *Console) exchange(r *http.Request, code, verifier string) (string, error) {
	_, tokenURL, err := c.endpoints(r.Context())
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirectURL(r)},
		"client_id": {c.opts.ClientID}, "code_verifier": {verifier}}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret := c.opts.ClientSecret; secret != "" {
		req.SetBasicAuth(url.QueryEscape(c.opts.ClientID), url.QueryEscape(secret))
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("console: token endpoint: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		IDToken string `json:"id_token"`
		Error   string `json:"error"`
		Desc    string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", fmt.Errorf("console: token endpoint: status %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || body.IDToken == "" {
		return "", fmt.Errorf("console: token endpoint: status %d: %s %s", resp.StatusCode, body.Error, body.Desc)
	}
	return body.IDToken, nil
}

// handleSignOut ends the session (a POST, CSRF-checked like every form).
func (c *Console) handleSignOut(w http.ResponseWriter, r *http.Request) {
	clearCookie(w, sessionCookie)
	c.setFlash(w, "ok", "You are signed out.")
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

package authtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultCodeTTL is how long an authorization code can be exchanged.
const DefaultCodeTTL = time.Minute

// codeGrant is one issued authorization code, waiting for its exchange.
type codeGrant struct {
	user        User
	clientID    string
	redirectURI string
	challenge   string // base64url(SHA-256(code_verifier))
	nonce       string
	expires     time.Time
}

// authorizeParams are the query parameters of /oauth2/authorize that travel
// through the sign-in page.
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "state", "nonce",
	"code_challenge", "code_challenge_method", "scope"}

// serveAuthorize answers <issuer>/oauth2/authorize: it checks the request,
// then either approves at once (a login_hint naming a user, or a POST from
// the sign-in page) or shows the page where a demo user is picked.
func (is *Issuer) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.Form
	// Errors about the client or the redirect URI are shown here: redirecting
	// to an unchecked URI would make the issuer an open redirector.
	if q.Get("client_id") != is.opts.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "" || redirect.Fragment != "" {
		http.Error(w, "redirect_uri must be an absolute http(s) URL", http.StatusBadRequest)
		return
	}
	if len(is.opts.RedirectURIs) > 0 && !slices.Contains(is.opts.RedirectURIs, q.Get("redirect_uri")) {
		http.Error(w, "redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	fail := func(code, desc string) {
		v := redirect.Query()
		v.Set("error", code)
		v.Set("error_description", desc)
		if s := q.Get("state"); s != "" {
			v.Set("state", s)
		}
		redirect.RawQuery = v.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only response_type=code is supported")
		return
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "PKCE is required: code_challenge_method=S256")
		return
	case !validChallenge(q.Get("code_challenge")):
		fail("invalid_request", "code_challenge must be 43 base64url characters")
		return
	}

	var u User
	var ok bool
	switch {
	case r.Method == http.MethodPost && r.PostForm.Get("deny") != "":
		fail("access_denied", "the user cancelled the sign-in")
		return
	case r.Method == http.MethodPost:
		u, ok = is.formUser(r.PostForm)
	case q.Get("login_hint") != "":
		u, ok = is.hintedUser(q.Get("login_hint"))
	}
	if !ok {
		is.renderSignIn(w, q)
		return
	}

	code := randomToken()
	is.mu.Lock()
	if is.codes == nil {
		is.codes = make(map[string]*codeGrant)
	}
	now := is.opts.Now()
	for c, g := range is.codes { // drop expired codes: the map stays small
		if now.After(g.expires) {
			delete(is.codes, c)
		}
	}
	is.codes[code] = &codeGrant{user: u, clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"),
		challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), expires: now.Add(is.opts.CodeTTL)}
	is.mu.Unlock()

	v := redirect.Query()
	v.Set("code", code)
	if s := q.Get("state"); s != "" {
		v.Set("state", s)
	}
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// validChallenge reports whether s looks like base64url(SHA-256(...)) without
// padding.
func validChallenge(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// hintedUser is the listed user with this email (or subject), else a plain
// user with the hint as a verified email address.
func (is *Issuer) hintedUser(hint string) (User, bool) {
	for _, u := range is.opts.Users {
		if strings.EqualFold(u.Email, hint) || (u.Subject != "" && u.Subject == hint) {
			return u, true
		}
	}
	if !strings.Contains(hint, "@") {
		return User{}, false
	}
	return User{Email: hint, EmailVerified: true}, true
}

// formUser reads the sign-in page's answer: the index of a listed user, or an
// email with optional name and comma-separated groups.
func (is *Issuer) formUser(f url.Values) (User, bool) {
	if pick := f.Get("user"); pick != "" {
		i, err := strconv.Atoi(pick)
		if err != nil || i < 0 || i >= len(is.opts.Users) {
			return User{}, false
		}
		return is.opts.Users[i], true
	}
	email := strings.TrimSpace(f.Get("email"))
	if !strings.Contains(email, "@") {
		return User{}, false
	}
	u := User{Email: email, EmailVerified: true, Name: strings.TrimSpace(f.Get("name"))}
	for g := range strings.SplitSeq(f.Get("groups"), ",") {
		if g = strings.TrimSpace(g); g != "" {
			u.Groups = append(u.Groups, g)
		}
	}
	return u, true
}

// serveToken answers <issuer>/oauth2/token for grant_type=authorization_code:
// the code must be unused and unexpired, issued to this client_id and
// redirect_uri, and the code_verifier must hash to its code_challenge. A code
// is consumed by the first exchange, successful or not.
func (is *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request", err.Error())
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" {
		tokenError(w, "unsupported_grant_type", "only authorization_code is supported")
		return
	}
	clientID := f.Get("client_id")
	if id, _, ok := r.BasicAuth(); ok {
		clientID = id
	}
	if clientID != is.opts.ClientID {
		w.Header().Set("WWW-Authenticate", `Basic realm="authtest"`)
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client", "error_description": "unknown client_id"})
		return
	}
	is.mu.Lock()
	g := is.codes[f.Get("code")]
	delete(is.codes, f.Get("code"))
	is.mu.Unlock()
	verifier := f.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	switch {
	case g == nil:
		tokenError(w, "invalid_grant", "unknown or already used code")
	case is.opts.Now().After(g.expires):
		tokenError(w, "invalid_grant", "the code has expired")
	case g.clientID != clientID:
		tokenError(w, "invalid_grant", "the code was issued to another client")
	case g.redirectURI != f.Get("redirect_uri"):
		tokenError(w, "invalid_grant", "redirect_uri does not match the authorization request")
	case len(verifier) < 43 || len(verifier) > 128:
		tokenError(w, "invalid_grant", "code_verifier must be 43 to 128 characters")
	case subtle.ConstantTimeCompare([]byte(b64(sum[:])), []byte(g.challenge)) != 1:
		tokenError(w, "invalid_grant", "code_verifier does not match the code_challenge")
	default:
		id := is.IDClaims(g.user)
		if g.nonce != "" {
			id["nonce"] = g.nonce
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, map[string]any{
			"id_token": is.Sign(id), "access_token": is.AccessToken(g.user),
			"token_type": "Bearer", "expires_in": int(is.opts.TokenTTL.Seconds()),
		})
	}
}

func tokenError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	writeJSON(w, map[string]string{"error": code, "error_description": desc})
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type signInUser struct {
	Index  int
	Label  string
	Groups string
}

type signInPage struct {
	Params url.Values
	Keys   []string
	Users  []signInUser
	Client string
}

var signInTmpl = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in (local test issuer)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:30rem;margin:3rem auto;background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:1.5rem 2rem}
h1{font-size:1.3rem;margin:0 0 .25rem}.note{color:#5b6475;font-size:.9rem;margin:0 0 1.25rem}
button{font:inherit;cursor:pointer}.user{display:block;width:100%;text-align:left;margin:.4rem 0;padding:.6rem .8rem;background:#fff;border:1px solid #c5cbd6;border-radius:6px}
.user:hover{border-color:#2f5bd3;background:#f0f4ff}.user small{display:block;color:#5b6475}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}input{font:inherit;width:100%;box-sizing:border-box;padding:.4rem .5rem;border:1px solid #c5cbd6;border-radius:6px}
.primary{margin-top:1rem;background:#2f5bd3;color:#fff;border:0;border-radius:6px;padding:.5rem 1rem}.cancel{background:none;border:0;color:#5b6475;text-decoration:underline;margin-top:1rem}
h2{font-size:1rem;margin:1.5rem 0 .25rem}
</style></head><body><main>
<h1>Sign in</h1>
<p class="note">Local test issuer for <b>{{.Client}}</b>. Anyone can sign in as anyone here: demos and tests only.</p>
{{if .Users}}<form method="post">{{template "params" .}}
{{range .Users}}<button class="user" name="user" value="{{.Index}}">{{.Label}}{{if .Groups}}<small>groups: {{.Groups}}</small>{{end}}</button>{{end}}
</form>
<h2>Or another user</h2>{{end}}
<form method="post">{{template "params" .}}
<label for="email">Email</label><input id="email" name="email" type="email" required autocomplete="off">
<label for="name">Name</label><input id="name" name="name" autocomplete="off">
<label for="groups">Groups (comma-separated)</label><input id="groups" name="groups" placeholder="admins, members" autocomplete="off">
<button class="primary" type="submit">Sign in</button>
</form>
<form method="post">{{template "params" .}}<button class="cancel" name="deny" value="1">Cancel</button></form>
</main></body></html>
{{define "params"}}{{$p := .Params}}{{range .Keys}}<input type="hidden" name="{{.}}" value="{{$p.Get .}}">{{end}}{{end}}`))

func (is *Issuer) renderSignIn(w http.ResponseWriter, q url.Values) {
	page := signInPage{Params: q, Keys: authorizeParams, Client: is.opts.ClientID}
	for i, u := range is.opts.Users {
		label := u.Name
		if label == "" {
			label = u.Email
		} else if u.Email != "" {
			label += " <" + u.Email + ">"
		}
		page.Users = append(page.Users, signInUser{Index: i, Label: label, Groups: strings.Join(u.Groups, ", ")})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = signInTmpl.Execute(w, page)
}

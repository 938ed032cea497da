package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/vidlib/vidlib/auth"
)

// ErrInvalid: bad configuration given to New.
var ErrInvalid = errors.New("console: invalid")

// Defaults of Options.
const (
	DefaultAdminRole  = "admin"
	DefaultSessionTTL = 12 * time.Hour
)

// Authenticator turns a raw ID token into a principal (auth.Service).
type Authenticator interface {
	Authenticate(ctx context.Context, raw string) (*auth.Principal, error)
}

// Options configure a Console. Issuer and ClientID are required.
type Options struct {
	// Issuer is the OpenID Connect issuer (its discovery document is at
	// <Issuer>/.well-known/openid-configuration), e.g. a Cognito user pool.
	Issuer string
	// ClientID is the app client the console signs in with; its ID tokens
	// must be accepted by the Authenticator.
	ClientID string
	// ClientSecret, for a confidential app client, is sent with HTTP Basic
	// to the token endpoint ("" for a public client: PKCE alone).
	ClientSecret string
	// RedirectURL is the absolute URL of /auth/callback as registered with
	// the issuer (default: derived from each request's Host, for demos and
	// tests; set it in production).
	RedirectURL string
	// SessionKey seals the session cookie with AES-256-GCM: 32 bytes, the
	// same on every instance so that any of them opens a session another
	// started (nil: a random key, so sessions end with the process; fine for
	// the demo, not for several instances).
	SessionKey []byte
	// SessionTTL bounds a session (default DefaultSessionTTL); it also ends
	// when the ID token inside expires.
	SessionTTL time.Duration
	// AdminRole is the role a user needs (default DefaultAdminRole).
	AdminRole string
	// IsAdmin, if set, decides instead of AdminRole (admin.Service.IsAdmin,
	// which also admits every user of an admin issuer).
	IsAdmin func(*auth.Principal) bool
	// HTTPClient calls the issuer (default http.DefaultClient).
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *zap.Logger
}

// Console is the admin web console: server-rendered pages over the admin
// Service, behind an OIDC sign-in. It is an http.Handler meant to be served
// at the root of the admin server (which keeps /admin/ for the JSON API).
type Console struct {
	svc    Service
	authn  Authenticator
	opts   Options
	log    *zap.Logger
	seal   *sealer
	prov   provider
	pages  map[string]*template.Template
	static http.Handler
	router chi.Router
	nav    []navItem
	cop    *http.CrossOriginProtection
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns a Console over the admin Service. authn verifies the ID
// tokens the console receives (and is asked again on every request, so
// disabled users and role changes take effect).
func New(svc Service, authn Authenticator, opts *Options) (*Console, error) {
	c := &Console{svc: svc, authn: authn}
	if opts != nil {
		c.opts = *opts
	}
	o := &c.opts
	if svc == nil || authn == nil {
		return nil, fmt.Errorf("%w: New needs a service and an authenticator", ErrInvalid)
	}
	if o.Issuer == "" || o.ClientID == "" {
		return nil, fmt.Errorf("%w: Issuer and ClientID are required", ErrInvalid)
	}
	if o.SessionKey == nil {
		o.SessionKey = make([]byte, 32)
		_, _ = rand.Read(o.SessionKey)
	}
	var err error
	if c.seal, err = newSealer(o.SessionKey); err != nil {
		return nil, err
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.AdminRole == "" {
		o.AdminRole = DefaultAdminRole
	}
	if o.IsAdmin == nil {
		o.IsAdmin = func(p *auth.Principal) bool { return p != nil && slices.Contains(p.Roles, o.AdminRole) }
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c.log = o.Logger
	if c.log == nil {
		c.log = zap.NewNop()
	}
	c.log = c.log.Named("console")
	if c.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	sub, _ := fs.Sub(staticFS, "static")
	c.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	c.cop = http.NewCrossOriginProtection()
	c.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, http.StatusForbidden, "Request refused", "This form was sent from another site. Go back to the console and try again.")
	}))
	c.router = c.routes()
	return c, nil
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.router.ServeHTTP(w, r) }

func (c *Console) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(securityHeaders, c.cop.Handler)
	r.Handle("/static/*", c.static)
	r.Get("/signin", c.handleSignInPage)
	r.Get("/login", c.handleLogin)
	r.Get("/auth/callback", c.handleCallback)
	r.Group(func(r chi.Router) {
		r.Use(c.requireAdmin, c.checkCSRF)
		r.Post("/signout", c.handleSignOut)
		r.Get("/", show(c, "home", "Overview", "/", c.svc.Overview))
		c.pageRoutes(r)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, http.StatusMethodNotAllowed, "Method not allowed", "This page cannot be used that way.")
	})
	return r
}

// securityHeaders: no inline script or style anywhere, no framing, no
// sniffing, no referrer leaving the site, and no caching of admin pages.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if r.URL.Path != "" && len(r.URL.Path) > 7 && r.URL.Path[:8] == "/static/" {
			h.Set("Cache-Control", "public, max-age=300")
		} else {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	principalKey ctxKey = iota
	sessionKey
)

// principal is the signed-in admin of a request behind requireAdmin.
func principal(r *http.Request) *auth.Principal {
	p, _ := r.Context().Value(principalKey).(*auth.Principal)
	return p
}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey).(*session)
	return s
}

// requireAdmin opens the session cookie, has the ID token in it verified
// (expiry, signature, disabled user, current roles), and lets only admins
// through: no session sends the browser to sign in, a non-admin gets 403.
func (c *Console) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s session
		if !c.readCookie(r, sessionCookie, &s) || c.opts.Now().Sub(s.Created) > c.opts.SessionTTL {
			c.toSignIn(w, r, "")
			return
		}
		p, err := c.authn.Authenticate(r.Context(), s.IDToken)
		if err != nil {
			c.authFailed(w, r, err, r.URL.RequestURI())
			return
		}
		ctx := context.WithValue(r.Context(), sessionKey, &s)
		ctx = context.WithValue(ctx, principalKey, p)
		r = r.WithContext(ctx)
		if !c.opts.IsAdmin(p) {
			c.renderForbidden(w, r, p)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// toSignIn sends a browser without a session to the sign-in page (pages) or
// answers 401 (form posts: the form is lost either way, say so).
func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request, msg string) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		clearCookie(w, sessionCookie)
		http.Redirect(w, r, "/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if msg == "" {
		msg = "Your session has ended. Sign in again, then repeat the change."
	}
	c.renderSignIn(w, r, http.StatusUnauthorized, msg, "/")
}

// authFailed maps an Authenticate error: an expired or invalid token ends
// the session; a disabled user is refused; the rest is a temporary failure.
func (c *Console) authFailed(w http.ResponseWriter, r *http.Request, err error, next string) {
	switch {
	case errors.Is(err, auth.ErrUserDisabled):
		clearCookie(w, sessionCookie)
		c.renderError(w, r, http.StatusForbidden, "Account disabled", "Your account is disabled. Ask another administrator to enable it.")
	case errors.Is(err, auth.ErrInvalidToken), errors.Is(err, auth.ErrNoToken):
		clearCookie(w, sessionCookie)
		if r.URL.Path == "/auth/callback" {
			c.renderSignIn(w, r, http.StatusUnauthorized, "The sign-in service's answer was not accepted. Please try again.", next)
			return
		}
		c.toSignIn(w, r, "")
	default:
		c.log.Error("authenticate", zap.Error(err))
		w.Header().Set("Retry-After", "5")
		c.renderError(w, r, http.StatusServiceUnavailable, "Temporarily unavailable", "Your sign-in could not be checked just now. Reload the page in a few seconds.")
	}
}

// checkCSRF requires the session's synchronizer token on every unsafe
// request, in addition to CrossOriginProtection (Sec-Fetch-Site / Origin).
func (c *Console) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		s := sessionOf(r)
		if s == nil || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.CSRF)) != 1 {
			c.renderError(w, r, http.StatusForbidden, "Form expired", "This form is from an earlier session. Go back, reload the page and try again.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (c *Console) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	var f flash
	msg := ""
	if c.readCookie(r, flashCookie, &f) {
		clearCookie(w, flashCookie)
		msg = f.Text
	}
	c.renderSignIn(w, r, http.StatusOK, msg, localPath(r.URL.Query().Get("next")))
}

// fail answers an unexpected error with a 500 page, logged.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.log.Error("console request failed", zap.String("path", r.URL.Path), zap.Error(err))
	c.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The request failed. Try again; if it keeps failing, the server log has the details.")
}

// setFlash shows a message on the next page (after a redirect).
func (c *Console) setFlash(w http.ResponseWriter, kind, text string) {
	_ = c.setCookie(w, flashCookie, flash{Kind: kind, Text: text}, time.Minute)
}

// redirect ends a successful form post (post/redirect/get) with a message.
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, to, msg string) {
	if msg != "" {
		c.setFlash(w, "ok", msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// Package console is the admin web console: server-rendered pages
// (html/template, CSS embedded with embed, no JavaScript) over the admin
// Service, for people who operate vidlib.
//
// # Serving
//
// A Console is an http.Handler for the root of the admin server: pages at
// /, /sync-runs, /dead-letters/{id} and so on, its stylesheet at /static/,
// and the sign-in at /signin, /login, /auth/callback and /signout. It never
// serves /admin/, which is the JSON API's.
//
// # Sign-in
//
// Sign-in is the OpenID Connect authorization code flow with PKCE against
// Options.Issuer (a Cognito user pool and its hosted UI; in the demo and the
// tests the local issuer of package auth/authtest with HostedUI). /login puts a
// fresh state, nonce and S256 code_verifier in a short-lived sealed cookie and
// sends the browser to the issuer; /auth/callback checks the state, exchanges
// the code with the verifier at the token endpoint, has the ID token verified
// by the Authenticator (auth.Service: signature, issuer, audience, expiry,
// disabled user, roles), checks the nonce, and starts the session.
//
// The session cookie holds the ID token and the session's CSRF token, sealed
// with AES-256-GCM under Options.SessionKey: nothing is stored server-side,
// so any instance with the same key serves any session (the demo uses a
// random key per process). On every request the token is authenticated again
// (from the auth caches), so a disabled user, a revoked role or an expired
// token ends access within auth's PrincipalTTL. Only principals with
// Options.AdminRole get in; others see a 403 page that says why.
//
// Cookies are __Host- prefixed, HttpOnly, Secure and SameSite=Lax. Browsers
// keep Secure cookies from http://localhost and 127.0.0.1 (secure contexts),
// so the demo works without TLS.
//
// # Protections
//
// Every unsafe request passes net/http's CrossOriginProtection (Sec-Fetch-Site
// or Origin must be this site) and must carry the session's synchronizer token
// in the form field csrf. Every response has a Content-Security-Policy without
// inline script or style (default-src 'none'; style-src 'self'; form-action
// 'self'; frame-ancestors 'none'), X-Content-Type-Options: nosniff,
// X-Frame-Options: DENY, Referrer-Policy: same-origin and Cache-Control:
// no-store (pages). Destructive actions ask for confirmation on a page of
// their own, since there is no script to pop a dialog.
//
// # In the vidlib servers
//
// FromConfig turns the servers' configuration (servers/config: --console,
// --console-client-id, --console-redirect-url, VIDLIB_CONSOLE_CLIENT_SECRET,
// VIDLIB_CONSOLE_SESSION_KEY) and the trusted issuers into Options: the
// console signs in with the Cognito user pool and is off without one.
// Module builds the Console over the *admin.Service as the http.Handler
// named "admin_console", which `vidlib admin`, `vidlib all` and `vidlib
// demo` serve at / of the admin server next to the JSON API's /admin/.
//
// # Concurrency
//
// A Console is safe for concurrent use.
package console

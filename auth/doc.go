// Package auth signs users in: it verifies bearer tokens from Amazon Cognito
// (and optionally Google and Apple directly), maps the external identity to an
// internal user, and puts the resulting Principal in the request context.
//
// # Tokens
//
// A Verifier trusts a list of Issuers. CognitoIssuer accepts a user pool's ID
// tokens ("aud" = app client id, token_use "id") and access tokens (no "aud":
// "client_id" and token_use "access" are checked by hand), optionally only one
// kind (Issuer.TokenUses). GoogleIssuer and AppleIssuer accept those providers'
// ID tokens; Apple's "aud" is the Services ID on the web and the bundle ID in
// the app, so list both; Apple's string booleans ("true") are read as
// booleans; Google's schemeless "iss" is accepted and normalised, so one
// Google account is one identity.
//
// Verification order: size, shape, canonical base64url, alg on the allow-list
// (RS256 only: "none" and HS256 are refused before a key is looked at), a kid,
// no "crit", claims that decode strictly, an "iss" we trust, exp (required),
// nbf and iat with VerifierOptions.ClockSkew and exp - iat within
// VerifierOptions.MaxTokenLifetime; then github.com/coreos/go-oidc's
// IDTokenVerifier: it parses the JWS (go-jose), has the issuer's key set check
// the RS256 signature with the key the kid names, and checks the issuer and
// the expiry again; then the audience or client_id and the token use, which
// differ per issuer kind (go-oidc's audience check is off).
//
// Claims are decoded strictly, not by encoding/json's struct decoding: names
// match exactly ("COGNITO:GROUPS" is not "cognito:groups" and grants nothing),
// a claim given twice, a value of the wrong type ("exp" as a string), a string
// holding a NUL or a "sub" over 255 bytes make the token malformed (401), so
// that nothing downstream (the user store) ever fails on what a token says.
//
// Keys: each issuer's JWKS (found by discovery unless Issuer.JWKSURL is set) is
// cached by the issuer's key set, the oidc.KeySet go-oidc verifies with
// (go-oidc's RemoteKeySet would fetch on every unknown kid). A token with a kid that is not cached triggers a refresh, but at most
// one per VerifierOptions.KeyRefreshGap per issuer, shared by concurrent
// callers: a flood of forged tokens is answered from memory. A cached kid with
// a bad signature never triggers a fetch. After KeyMaxAge the next use starts a
// background refresh while the cached keys keep serving, so a key the issuer
// withdrew stays accepted for about KeyMaxAge at most; a failed refresh keeps
// the old keys. Call Verifier.Warm at startup to load the keys early.
//
// # Verification cache
//
// A client presents the same token on every request until it expires, and
// checking it (an RSA signature, JSON decodes of header and claims) was most
// of the read API's CPU. So the Verifier remembers each successful verification,
// keyed by the SHA-256 of the raw token, for VerifierOptions.CacheTTL (default
// DefaultCacheTTL, one minute; negative disables) or until the token expires
// if that is sooner, and answers the same token from memory. Every hit checks
// again that the token has not expired (exp + ClockSkew against the clock)
// and that the kid which signed it still maps to the same key in the issuer's
// key set, which also starts the usual background refresh after KeyMaxAge.
// Failures are never cached, so forged or garbage tokens cannot fill it; the
// cache holds at most MaxCachedTokens entries (default
// DefaultMaxCachedTokens, about 3.5 KiB each), dropping the oldest first. It
// holds hashes and verified claims, never a raw token.
//
// The trade-off: a verified token is trusted from memory for up to CacheTTL.
// A withdrawn signing key stops being accepted no later than without the
// cache (when the key set is next refreshed, about KeyMaxAge after the
// withdrawal at most), because hits re-check the key set; the trusted issuers
// are fixed for the life of a Verifier. What a hit does not repeat is the
// signature check itself and the claim checks that cannot change with time
// (issuer, audience, token use). Nothing here revokes tokens: a Cognito token
// revoked with RevokeToken or GlobalSignOut is accepted until exp with or
// without the cache (disable users in the UserStore instead). A negative
// CacheTTL turns the cache off, for instance before adding a revocation check.
//
// # Users
//
// Service.Authenticate verifies the token and resolves the Principal: the
// identity (issuer, subject) is looked up in the UserStore, and on a first
// sign-in provisioned with UserStore.ProvisionUser, which is race-safe (two
// first requests create one user). Identities are never linked by email
// address. Roles are the roles the token's cognito:groups map to
// (Options.GroupRoles) plus the roles admins granted; segments are the claims
// named in Options.SegmentClaims, overridden by the user's stored profile. A
// disabled user is refused. Principals are cached per token for
// Options.PrincipalTTL (role, profile and disabled-state changes take effect
// within it); an expired principal still answers once while it is refreshed
// in the background, so an active user never waits for the store. The token
// itself is checked on every request, on most of them from the Verifier's
// cache (one SHA-256 of the token keys both caches).
//
// With Options.Audiences, each resolution also records the user's roles and
// segments (the audience) when they differ from what this Service recorded
// last, in the background and in order per user: offline readers such as
// the ranking pipeline need them, and group roles and claim segments exist
// only in tokens. What was recorded is remembered for at most MaxPrincipals
// users; a failed write is logged and retried at the next resolution.
//
// Each sign-in (a token session: Cognito's origin_jti, else auth_time, jti or
// iat) is audited once per process through the Auditor, with a Key that is the
// same on every instance so a deduplicating consumer keeps one record. If the
// auditor fails, the request is refused (ErrUnavailable) and the next one
// tries again: no sign-in goes unaudited. Refused sign-ins (a token that does
// not verify, a disabled user) are audited too (ActionLoginRefused), within
// Options.RefusalAuditRate so that a flood of bad tokens cannot flood the
// log; the answer never depends on that record.
//
// # HTTP
//
// Service.Middleware is a func(http.Handler) http.Handler for chi. Missing or
// invalid tokens get 401 with an RFC 6750 WWW-Authenticate challenge
// (error="invalid_token" and a short reason); a disabled user 403; an
// unreachable key set, user store or auditor 503 with Retry-After. It never
// answers 500. Bodies use the vidlib error shape
// {"error":{"code","message","details"}}. Handlers read the principal with
// PrincipalFrom.
//
// The local issuer for tests and demos is package auth/authtest; it must never
// be configured in production.
//
// # Errors
//
// Token rejections wrap ErrInvalidToken and a reason (ErrMalformed,
// ErrUnsupportedAlg, ErrUnknownKey, ErrBadSignature, ErrExpired,
// ErrNotYetValid, ErrWrongIssuer, ErrWrongAudience, ErrWrongTokenUse); missing
// tokens are ErrNoToken. ErrKeysUnavailable, ErrUserDisabled and
// ErrUnavailable are not the token's fault. ErrNotFound, ErrDuplicate and
// ErrInvalid belong to the UserStore contract (and ErrInvalid to bad
// configuration).
//
// # Concurrency
//
// Verifier and Service are safe for concurrent use; build one of each per
// process. Tokens and Principals are shared between requests of one token:
// read-only.
//
// A Service works in the background (principal refreshes, audience writes)
// through its UserStore and AudienceRecorder. Service.Close stops starting
// such work and waits for what is under way: call it after the servers that
// authenticate have stopped and before those stores close, so that no
// background call finds them closed.
package auth

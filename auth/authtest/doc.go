// Package authtest is a local OpenID Connect issuer for tests and demos,
// shaped like an Amazon Cognito user pool, with Google and Apple token
// variants.
//
// An Issuer serves discovery (<base>/<pool>/.well-known/openid-configuration)
// and a key set (<base>/<pool>/.well-known/jwks.json) from RSA keys it
// generates, and mints RS256 tokens whose claims follow Cognito's ID and access
// tokens (token_use, aud vs client_id, cognito:username "Google_…",
// cognito:groups with the pool's automatic federated group, identities with
// string "primary"). Claims come back as maps (IDClaims, AccessClaims,
// GoogleClaims, AppleClaims) so a test can break exactly one thing and Sign
// the result; SignNone, SignHS256 and Tamper make the classic forgeries.
//
// Key rotation is explicit: AddKey publishes a key, UseKey signs with it,
// RemoveKey withdraws it from the key set; SetJWKSFault makes the key set
// fail; JWKSFetches and DiscoveryFetches count requests so tests can assert how
// often a verifier fetched. Time comes from Options.Now, so tests never sleep.
//
// Start serves the Issuer on its own httptest.Server; to mount it inside
// another server, serve it under any prefix and call SetBaseURL with the
// prefix's URL. Options.MintEndpoint adds POST <issuer>/dev/token, which mints
// tokens for whoever asks, for demos.
//
// Options.HostedUI adds what Cognito's hosted UI offers a web app: the
// authorization code flow with PKCE. GET <issuer>/oauth2/authorize (client_id,
// redirect_uri, response_type=code, code_challenge_method=S256,
// code_challenge, state, nonce) shows a sign-in page listing Options.Users and
// a form for any email and groups, or approves at once when login_hint names a
// user (its email, or any email address). It redirects to redirect_uri with a
// code and the state. POST <issuer>/oauth2/token (grant_type=
// authorization_code, code, redirect_uri, client_id, code_verifier) answers an
// ID token (carrying the nonce) and an access token. A code is single-use,
// expires after Options.CodeTTL, and is bound to its client, redirect URI and
// code challenge; errors follow RFC 6749 ({"error":"invalid_grant",...}).
//
// # Never in production
//
// Anyone who can reach an Issuer can mint tokens a Verifier configured for it
// accepts. It must never be enabled by default: servers may wire it only
// behind an explicit demo/development switch that production configuration
// does not set, and a Verifier in production trusts only the real Cognito
// pool (and Google/Apple if configured).
//
// Concurrency: an Issuer is safe for concurrent use. Errors: constructors
// return errors; the signing helpers panic on programming errors (an unknown
// key id), as test helpers do.
package authtest

package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"go.uber.org/zap"
)

// allowedAlgs is the algorithm allow-list: Cognito, Google and Apple all sign
// with RS256. Anything else ("none", HS256 with a public key as the secret,
// ES256 from a stolen key type…) is rejected before a key is looked at.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256}

// Defaults of VerifierOptions.
const (
	DefaultClockSkew    = time.Minute
	DefaultRefreshGap   = time.Minute
	DefaultKeyMaxAge    = time.Hour
	DefaultMaxTokenSize = 16 << 10
	DefaultHTTPTimeout  = 10 * time.Second
	// DefaultCacheTTL is how long a successful verification is reused at
	// most (see VerifierOptions.CacheTTL).
	DefaultCacheTTL = time.Minute
	// DefaultMaxCachedTokens bounds the verification cache: an entry for a
	// Cognito ID token takes about 1.5 KiB (mostly the claims' JSON), some
	// 30 MiB when full. Size it to the tokens in use within CacheTTL (about
	// one per active user).
	DefaultMaxCachedTokens = 20_000
	// DefaultMaxTokenLifetime bounds exp - iat: Cognito issues ID and access
	// tokens for at most a day, Google and Apple for an hour or less.
	DefaultMaxTokenLifetime = 24 * time.Hour
)

// VerifierOptions tune a Verifier. The zero value (and nil) is valid.
type VerifierOptions struct {
	// HTTPClient fetches discovery documents and key sets (default: a client
	// with a DefaultHTTPTimeout timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ClockSkew is the allowance on exp, nbf and iat (default DefaultClockSkew;
	// negative means none).
	ClockSkew time.Duration
	// KeyRefreshGap is the least time between two key set fetches of one issuer
	// caused by tokens with unknown key ids (default DefaultRefreshGap).
	KeyRefreshGap time.Duration
	// KeyMaxAge is how long a fetched key set is used before the next
	// verification refreshes it in the background (default DefaultKeyMaxAge).
	// Keys removed by the issuer stop being accepted about this long after.
	KeyMaxAge time.Duration
	// MaxTokenSize rejects longer tokens unread (default DefaultMaxTokenSize).
	MaxTokenSize int
	// CacheTTL is how long a successful verification is reused for the same
	// raw token (by its SHA-256) instead of checking the signature and
	// parsing the claims again: until the token expires (exp + ClockSkew) or
	// CacheTTL after it was verified, whichever comes first, and only while
	// the signing key is still in the issuer's key set. Failures are never
	// cached. Default DefaultCacheTTL; negative: no cache, every call checks
	// the signature.
	CacheTTL time.Duration
	// MaxCachedTokens bounds that cache; the oldest entries make room
	// (default DefaultMaxCachedTokens).
	MaxCachedTokens int
	// MaxTokenLifetime rejects a token whose exp is further than this after
	// its iat (or, without iat, after now), as no issuer we trust signs such
	// a token (default DefaultMaxTokenLifetime; negative: no limit).
	MaxTokenLifetime time.Duration
	// Logger (nil: no logging).
	Logger *zap.Logger
}

// Verifier checks bearer tokens from the configured issuers. It is safe for
// concurrent use; build one per process and share it.
type Verifier struct {
	byIssuer map[string]*issuerVerifier // by "iss" value
	list     []*issuerVerifier
	now      func() time.Time
	skew     time.Duration
	maxSize  int
	maxLife  time.Duration // 0: no limit
	cache    *tokenCache   // nil: no cache
}

// issuerVerifier is one issuer: go-oidc's verifier (JWS parsing, the RS256
// signature through keys, issuer, expiry) over the issuer's key set.
type issuerVerifier struct {
	cfg  Issuer
	keys *keySet
	oidc *oidc.IDTokenVerifier
}

// NewVerifier returns a Verifier for the issuers (at least one; ErrInvalid for
// a bad configuration). It does no I/O: keys are fetched on first use, or by
// Warm.
func NewVerifier(issuers []Issuer, opts *VerifierOptions) (*Verifier, error) {
	if opts == nil {
		opts = &VerifierOptions{}
	}
	if len(issuers) == 0 {
		return nil, fmt.Errorf("%w: no issuers", ErrInvalid)
	}
	if opts.KeyRefreshGap < 0 || opts.KeyMaxAge < 0 || opts.MaxTokenSize < 0 || opts.MaxCachedTokens < 0 {
		return nil, fmt.Errorf("%w: negative verifier option", ErrInvalid)
	}
	v := &Verifier{byIssuer: make(map[string]*issuerVerifier), now: opts.Now, skew: opts.ClockSkew, maxSize: opts.MaxTokenSize}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case v.skew == 0:
		v.skew = DefaultClockSkew
	case v.skew < 0:
		v.skew = 0
	}
	if v.maxSize == 0 {
		v.maxSize = DefaultMaxTokenSize
	}
	switch {
	case opts.MaxTokenLifetime == 0:
		v.maxLife = DefaultMaxTokenLifetime
	case opts.MaxTokenLifetime > 0:
		v.maxLife = opts.MaxTokenLifetime
	}
	if opts.CacheTTL >= 0 {
		maxEntries := opts.MaxCachedTokens
		if maxEntries == 0 {
			maxEntries = DefaultMaxCachedTokens
		}
		v.cache = newTokenCache(cmpOr(opts.CacheTTL, DefaultCacheTTL), maxEntries)
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("auth")
	for _, is := range issuers {
		if err := is.validate(); err != nil {
			return nil, err
		}
		if _, dup := v.byIssuer[is.URL]; dup {
			return nil, fmt.Errorf("%w: issuer %q configured twice", ErrInvalid, is.URL)
		}
		is.ClientIDs = slices.Clone(is.ClientIDs)
		is.TokenUses = slices.Clone(is.TokenUses)
		ks := &keySet{
			issuer: is.URL, jwksURL: is.JWKSURL, client: client, now: v.now, log: log,
			refreshGap: cmpOr(opts.KeyRefreshGap, DefaultRefreshGap),
			maxAge:     cmpOr(opts.KeyMaxAge, DefaultKeyMaxAge),
		}
		iv := &issuerVerifier{cfg: is, keys: ks, oidc: oidc.NewVerifier(is.URL, ks, &oidc.Config{
			// The audience rules differ per issuer kind and token use
			// (checkAudience); go-oidc checks the issuer and the expiry,
			// with the clock skew allowed on the latter.
			SkipClientIDCheck:    true,
			SupportedSigningAlgs: []string{oidc.RS256},
			Now:                  func() time.Time { return v.now().Add(-v.skew) },
		})}
		v.byIssuer[is.URL] = iv
		if is.URL == GoogleIssuerURL {
			v.byIssuer["accounts.google.com"] = iv // Google may omit the scheme; go-oidc accepts exactly this
		}
		v.list = append(v.list, iv)
	}
	return v, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Warm fetches every issuer's keys now (for example at startup), so that the
// first requests do not wait. It returns the joined errors of the issuers
// whose keys could not be fetched.
func (v *Verifier) Warm(ctx context.Context) error {
	var errs []error
	for _, iv := range v.list {
		iv.keys.mu.Lock()
		have := len(iv.keys.keys) > 0
		iv.keys.mu.Unlock()
		if have {
			continue
		}
		if _, err := iv.keys.key(ctx, ""); errors.Is(err, ErrKeysUnavailable) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Verify checks a raw token and returns what it says. Errors wrap
// ErrInvalidToken and a reason (ErrMalformed, ErrUnsupportedAlg, ErrUnknownKey,
// ErrBadSignature, ErrExpired, ErrNotYetValid, ErrWrongIssuer,
// ErrWrongAudience, ErrWrongTokenUse), or are ErrKeysUnavailable when the
// issuer's keys could not be fetched.
//
// Order: cheap structural checks first (size, shape, alg, kid, the claims
// decoded strictly, a known "iss", the times), so that garbage never causes a
// key fetch; then go-oidc's verifier (the RS256 signature with the issuer's
// cached key, the issuer, the expiry); then the audience or client_id and
// the token use. A token verified within VerifierOptions.CacheTTL is answered
// from the cache after its expiry and signing key are checked again.
//
// The Token is shared by every call with the same raw token: read-only.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if v.cache == nil || raw == "" || len(raw) > v.maxSize {
		t, _, err := v.verify(ctx, raw)
		return t, err
	}
	return v.verifyKeyed(ctx, raw, tokenKey(raw))
}

// verifyKeyed is Verify with the token's key (tokenKey) already computed:
// Service computes it once for both caches.
func (v *Verifier) verifyKeyed(ctx context.Context, raw string, key [32]byte) (*Token, error) {
	if v.cache == nil || raw == "" || len(raw) > v.maxSize {
		t, _, err := v.verify(ctx, raw)
		return t, err
	}
	now := v.now()
	if e := v.cache.get(key); e != nil {
		t, err := v.reuse(e, now)
		if t != nil || err != nil {
			return t, err
		}
	}
	t, e, err := v.verify(ctx, raw)
	if err != nil {
		return nil, err // failures are never cached
	}
	e.key, e.until = key, now.Add(v.cache.ttl)
	if exp := t.Expiry.Add(v.skew); exp.Before(e.until) {
		e.until = exp
	}
	v.cache.put(e, now)
	return t, nil
}

// reuse answers from a cache entry: the token if it is still valid, an
// expiry error, or neither (the entry is dropped and the token must be
// verified again: its time in the cache is over, or its key is no longer
// published by the issuer).
func (v *Verifier) reuse(e *cacheEntry, now time.Time) (*Token, error) {
	if now.After(e.tok.Expiry.Add(v.skew)) {
		v.cache.remove(e)
		return nil, tokenError(ErrExpired, "expired at %s", e.tok.Expiry.Format(time.RFC3339))
	}
	if !now.Before(e.until) {
		v.cache.remove(e)
		return nil, nil
	}
	if pub, ok := e.iv.keys.cached(e.kid); !ok || (pub != e.pub && !pub.Equal(e.pub)) {
		v.cache.remove(e)
		return nil, nil
	}
	return e.tok, nil
}

// verify checks a token fully and returns it with the cache entry that
// describes it (key and times not set).
func (v *Verifier) verify(ctx context.Context, raw string) (*Token, *cacheEntry, error) {
	pt, err := v.precheck(raw)
	if err != nil {
		return nil, nil, err
	}
	iv, c := pt.iv, &pt.claims
	if c.Subject == "" {
		return nil, nil, tokenError(ErrMalformed, "no sub")
	}
	if err := v.checkTimes(c); err != nil {
		return nil, nil, err
	}
	check := &sigCheck{}
	if _, err := iv.oidc.Verify(context.WithValue(ctx, sigCheckKey{}, check), raw); err != nil {
		return nil, nil, oidcError(err, check)
	}
	pub := check.pub
	use, clientID, err := iv.checkAudience(c)
	if err != nil {
		return nil, nil, err
	}
	t := &Token{
		Identity: Identity{
			Issuer:        iv.cfg.URL, // normalised: Google's schemeless iss maps to the same identity
			Subject:       c.Subject,
			Email:         c.Email,
			EmailVerified: bool(c.EmailVerified),
		},
		Kind: iv.cfg.Kind, Use: use, ClientID: clientID,
		Groups: c.Groups, Username: c.CognitoUsername, Name: c.Name, ID: c.ID, Session: c.session(),
		IssuedAt: timeOf(c.IssuedAt), Expiry: timeOf(c.Expiry), AuthTime: timeOf(c.AuthTime),
		payload: pt.payload,
	}
	if t.Username == "" {
		t.Username = c.Username
	}
	switch iv.cfg.Kind {
	case Cognito:
		t.Identity.Provider = c.provider()
	case Google:
		t.Identity.Provider = ProviderGoogle
	case Apple:
		t.Identity.Provider = ProviderApple
	}
	return t, &cacheEntry{tok: t, iv: iv, kid: pt.kid, pub: pub}, nil
}

// parsedToken is a token that passed precheck: not yet trusted.
type parsedToken struct {
	iv      *issuerVerifier
	kid     string
	payload []byte
	claims  claims
}

// precheck rejects what is obviously not a token we could accept, without
// touching a key, decodes the (unverified) claims and picks the issuer from
// "iss". The claims are trusted only once the signature is checked over the
// very bytes they were decoded from.
func (v *Verifier) precheck(raw string) (*parsedToken, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, ErrNoToken)
	}
	if len(raw) > v.maxSize {
		return nil, tokenError(ErrMalformed, "longer than %d bytes", v.maxSize)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, tokenError(ErrMalformed, "want three dot-separated parts, got %d", len(parts))
	}
	hdr, err := parseHeader(parts[0])
	if err != nil {
		return nil, tokenError(ErrMalformed, "header: %v", err)
	}
	if !slices.Contains(allowedAlgs, jose.SignatureAlgorithm(hdr.Alg)) {
		return nil, tokenError(ErrUnsupportedAlg, "alg %q", hdr.Alg)
	}
	if hdr.Kid == "" || len(hdr.Kid) > 256 {
		return nil, tokenError(ErrMalformed, "missing or oversized kid")
	}
	if hdr.Crit {
		return nil, tokenError(ErrMalformed, "critical header parameters are not supported")
	}
	// Strict decoding: a signature whose last character has stray bits would
	// decode to the same bytes, making one token spellable several ways.
	pt := &parsedToken{kid: hdr.Kid}
	if sig, err := strictB64.DecodeString(parts[2]); err != nil || len(sig) == 0 {
		return nil, tokenError(ErrMalformed, "signature is not canonical base64url")
	}
	if pt.payload, err = strictB64.DecodeString(parts[1]); err != nil {
		return nil, tokenError(ErrMalformed, "payload: %v", err)
	}
	if pt.claims, err = parseClaims(pt.payload); err != nil {
		return nil, tokenError(ErrMalformed, "claims: %v", err)
	}
	iv, ok := v.byIssuer[pt.claims.Issuer]
	if !ok {
		return nil, tokenError(ErrWrongIssuer, "iss %q", pt.claims.Issuer)
	}
	pt.iv = iv
	return pt, nil
}

var strictB64 = base64.RawURLEncoding.Strict()

// jwsHeader is what precheck reads of a JWS protected header.
type jwsHeader struct {
	Alg, Kid string
	Crit     bool
}

// parseHeader decodes a JWS header segment with the claims' strictness
// (exact names, no duplicates, typed values).
func parseHeader(seg string) (jwsHeader, error) {
	var h jwsHeader
	b, err := strictB64.DecodeString(seg)
	if err != nil {
		return h, err
	}
	err = eachField(b, func(name string, raw json.RawMessage) error {
		switch name {
		case "alg":
			return decodeString(raw, &h.Alg)
		case "kid":
			return decodeString(raw, &h.Kid)
		case "crit":
			h.Crit = true
		}
		return nil
	})
	return h, err
}

func (v *Verifier) checkTimes(c *claims) error {
	now := v.now()
	switch {
	case c.Expiry == nil:
		return tokenError(ErrExpired, "no exp claim")
	case now.After(c.Expiry.Add(v.skew)):
		return tokenError(ErrExpired, "expired at %s", c.Expiry.Format(time.RFC3339))
	case c.NotBefore != nil && now.Add(v.skew).Before(c.NotBefore.Time):
		return tokenError(ErrNotYetValid, "not before %s", c.NotBefore.Format(time.RFC3339))
	case c.IssuedAt != nil && now.Add(v.skew).Before(c.IssuedAt.Time):
		return tokenError(ErrNotYetValid, "issued in the future (%s)", c.IssuedAt.Format(time.RFC3339))
	}
	if v.maxLife > 0 {
		from := now
		if c.IssuedAt != nil {
			from = c.IssuedAt.Time
		}
		if life := c.Expiry.Sub(from); life > v.maxLife+v.skew {
			return tokenError(ErrLifetime, "valid for %v, more than %v", life, v.maxLife)
		}
	}
	return nil
}

// oidcError maps an error of go-oidc's verifier to a token error: the key
// set's own typed error when the signature check failed, ErrExpired for an
// expiry, and ErrMalformed for the rest (go-oidc's other checks repeat ones
// already passed on the strictly decoded claims, so they fail only on tokens
// that decode differently under its lenient decoding).
func oidcError(err error, check *sigCheck) error {
	var expired *oidc.TokenExpiredError
	switch {
	case check.err != nil:
		return check.err
	case errors.As(err, &expired):
		return tokenError(ErrExpired, "expired at %s", expired.Expiry.Format(time.RFC3339))
	}
	return tokenError(ErrMalformed, "%v", err)
}

// checkAudience applies the issuer's audience rules and returns the token use
// and the client id that matched.
func (iv *issuerVerifier) checkAudience(c *claims) (TokenUse, string, error) {
	inAud := func() (string, bool) {
		for _, a := range c.Audience {
			if slices.Contains(iv.cfg.ClientIDs, a) {
				return a, true
			}
		}
		return "", false
	}
	if iv.cfg.Kind != Cognito {
		if c.TokenUse != "" {
			return "", "", tokenError(ErrWrongTokenUse, "token_use %q from %s", c.TokenUse, iv.cfg.URL)
		}
		id, ok := inAud()
		if !ok {
			return "", "", tokenError(ErrWrongAudience, "aud %q", []string(c.Audience))
		}
		return UseID, id, nil
	}
	var use TokenUse
	var id string
	switch TokenUse(c.TokenUse) {
	case UseID:
		var ok bool
		if id, ok = inAud(); !ok {
			return "", "", tokenError(ErrWrongAudience, "aud %q", []string(c.Audience))
		}
		use = UseID
	case UseAccess:
		if !slices.Contains(iv.cfg.ClientIDs, c.ClientID) {
			return "", "", tokenError(ErrWrongAudience, "client_id %q", c.ClientID)
		}
		use, id = UseAccess, c.ClientID
	default:
		return "", "", tokenError(ErrWrongTokenUse, "token_use %q", c.TokenUse)
	}
	if !iv.cfg.accepts(use) {
		return "", "", tokenError(ErrWrongTokenUse, "%s tokens are not accepted", use)
	}
	return use, id, nil
}

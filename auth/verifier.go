package auth

import (
	"bytes"
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
}

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
	if opts.KeyRefreshGap < 0 || opts.KeyMaxAge < 0 || opts.MaxTokenSize < 0 {
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
			SupportedSigningAlgs: []string{oidc.RS256},
			SkipClientIDCheck:    true, // audiences are checked below: several per issuer, and client_id for access tokens
			SkipExpiryCheck:      true, // exp, nbf and iat are checked below with the configured skew
			Now:                  v.now,
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
// Order: cheap structural checks first (size, shape, alg, kid, a known "iss"),
// so that garbage never causes a key fetch; then go-oidc verifies the
// signature with the cached key set and the issuer; then the times, the
// audience or client_id and the token use.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	iv, err := v.precheck(raw)
	if err != nil {
		return nil, err
	}
	st := &verifyState{}
	idt, err := iv.oidc.Verify(context.WithValue(ctx, stateKey{}, st), raw)
	if err != nil {
		if st.err != nil {
			return nil, st.err
		}
		if strings.Contains(err.Error(), "different provider") {
			return nil, tokenError(ErrWrongIssuer, "%v", err)
		}
		return nil, tokenError(ErrMalformed, "%v", err)
	}
	var payload json.RawMessage
	var c claims
	if err := idt.Claims(&payload); err != nil {
		return nil, tokenError(ErrMalformed, "claims: %v", err)
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, tokenError(ErrMalformed, "claims: %v", err)
	}
	all := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil {
		return nil, tokenError(ErrMalformed, "claims: %v", err)
	}
	if c.Subject == "" {
		return nil, tokenError(ErrMalformed, "no sub")
	}
	if err := v.checkTimes(&c); err != nil {
		return nil, err
	}
	use, clientID, err := iv.checkAudience(&c)
	if err != nil {
		return nil, err
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
		Claims: all,
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
	return t, nil
}

// precheck rejects what is obviously not a token we could accept, without
// touching a key, and picks the issuer from the unverified "iss" (only to
// route: go-oidc checks the verified one).
func (v *Verifier) precheck(raw string) (*issuerVerifier, error) {
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
	var hdr struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return nil, tokenError(ErrMalformed, "header: %v", err)
	}
	if !slices.Contains(allowedAlgs, jose.SignatureAlgorithm(hdr.Alg)) {
		return nil, tokenError(ErrUnsupportedAlg, "alg %q", hdr.Alg)
	}
	if hdr.Kid == "" || len(hdr.Kid) > 256 {
		return nil, tokenError(ErrMalformed, "missing or oversized kid")
	}
	if hdr.Crit != nil {
		return nil, tokenError(ErrMalformed, "critical header parameters are not supported")
	}
	// Strict decoding: a signature whose last character has stray bits would
	// decode to the same bytes, making one token spellable several ways.
	if sig, err := strictB64.DecodeString(parts[2]); err != nil || len(sig) == 0 {
		return nil, tokenError(ErrMalformed, "signature is not canonical base64url")
	}
	var peek struct {
		Issuer string `json:"iss"`
	}
	if err := decodeSegment(parts[1], &peek); err != nil {
		return nil, tokenError(ErrMalformed, "payload: %v", err)
	}
	iv, ok := v.byIssuer[peek.Issuer]
	if !ok {
		return nil, tokenError(ErrWrongIssuer, "iss %q", peek.Issuer)
	}
	return iv, nil
}

var strictB64 = base64.RawURLEncoding.Strict()

func decodeSegment(seg string, v any) error {
	b, err := strictB64.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
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
	return nil
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

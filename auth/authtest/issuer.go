package authtest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultPoolID   = "eu-west-1_TEST"
	DefaultClientID = "vidlib-test-client"
	DefaultTokenTTL = time.Hour
)

// Options configure an Issuer. The zero value (and nil) is valid.
type Options struct {
	// PoolID is the path segment of the issuer, as in Cognito:
	// <base URL>/<PoolID> (default DefaultPoolID).
	PoolID string
	// ClientID is the app client id put in "aud" / "client_id" (default
	// DefaultClientID).
	ClientID string
	// Now is the clock used for iat, auth_time and exp (default time.Now).
	Now func() time.Time
	// TokenTTL is the lifetime of minted tokens (default DefaultTokenTTL).
	TokenTTL time.Duration
	// KeyBits is the RSA key size of generated keys (default 2048).
	KeyBits int
	// Keys, if set, are published instead of two generated keys (the first
	// signs ID tokens, the second, or the first again, access tokens); tests
	// share keys this way because generating them is slow.
	Keys []*rsa.PrivateKey
	// MintEndpoint serves POST <issuer>/dev/token, which mints tokens for
	// anyone who asks: demos only.
	MintEndpoint bool
	// HostedUI serves <issuer>/oauth2/authorize and <issuer>/oauth2/token,
	// the authorization code flow with PKCE (S256) as Cognito's hosted UI
	// does: a sign-in page to pick one of Users or type an email and groups,
	// or an immediate approval for a login_hint naming a user. Like
	// MintEndpoint it signs in anyone as anyone: demos and tests only.
	HostedUI bool
	// Users are listed on the sign-in page and matched by login_hint.
	Users []User
	// RedirectURIs, if set, are the only redirect_uri values accepted;
	// empty accepts any absolute http(s) URL.
	RedirectURIs []string
	// CodeTTL is how long an authorization code can be exchanged (default
	// DefaultCodeTTL). Codes are single-use.
	CodeTTL time.Duration
}

// Issuer is a local OIDC issuer shaped like a Cognito user pool: discovery and
// key set under <base>/<pool>, RS256 keys with Cognito-like key ids, separate
// keys for ID and access tokens, key rotation and fault controls, and request
// counters. It is safe for concurrent use.
//
// It is a test and demo tool: anyone who can reach it can mint tokens that a
// Verifier configured for it accepts. Never configure it in production.
type Issuer struct {
	opts Options

	mu        sync.Mutex
	base      string
	keys      map[string]*rsa.PrivateKey
	published []string // kids in the key set, in order
	idKID     string
	accessKID string
	jwksFault int // HTTP status to answer key set requests with (0: none)
	codes     map[string]*codeGrant
	srv       *httptest.Server

	jwksFetches      atomic.Int64
	discoveryFetches atomic.Int64
}

// New returns an Issuer with two published keys (one for ID tokens, one for
// access tokens, as Cognito does). Serve it with ServeHTTP and SetBaseURL, or
// use Start.
func New(opts *Options) (*Issuer, error) {
	is := &Issuer{keys: make(map[string]*rsa.PrivateKey)}
	if opts != nil {
		is.opts = *opts
	}
	o := &is.opts
	if o.PoolID == "" {
		o.PoolID = DefaultPoolID
	}
	if strings.ContainsAny(o.PoolID, "/?#") {
		return nil, fmt.Errorf("authtest: pool id %q must be one path segment", o.PoolID)
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.CodeTTL <= 0 {
		o.CodeTTL = DefaultCodeTTL
	}
	o.Users = slices.Clone(o.Users)
	o.RedirectURIs = slices.Clone(o.RedirectURIs)
	if o.KeyBits == 0 {
		o.KeyBits = 2048
	}
	if len(o.Keys) > 0 {
		var kids []string
		for _, k := range o.Keys {
			if k == nil {
				return nil, errors.New("authtest: nil key in Options.Keys")
			}
			kids = append(kids, is.addKey(k))
		}
		is.idKID, is.accessKID = kids[0], kids[min(1, len(kids)-1)]
		return is, nil
	}
	var err error
	if is.idKID, err = is.AddKey(); err != nil {
		return nil, err
	}
	if is.accessKID, err = is.AddKey(); err != nil {
		return nil, err
	}
	return is, nil
}

// Start returns an Issuer served by its own httptest.Server; Close stops it.
func Start(opts *Options) (*Issuer, error) {
	is, err := New(opts)
	if err != nil {
		return nil, err
	}
	is.srv = httptest.NewServer(is)
	is.SetBaseURL(is.srv.URL)
	return is, nil
}

// Close stops the server Start started.
func (is *Issuer) Close() {
	if is.srv != nil {
		is.srv.Close()
	}
}

// SetBaseURL tells the Issuer where it is served (scheme, host and any
// prefix it is mounted under, without a trailing slash).
func (is *Issuer) SetBaseURL(base string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.base = strings.TrimSuffix(base, "/")
}

// URL is the issuer ("iss"): <base URL>/<pool id>.
func (is *Issuer) URL() string {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.base + "/" + is.opts.PoolID
}

// PoolID is the pool id path segment.
func (is *Issuer) PoolID() string { return is.opts.PoolID }

// ClientID is the app client id of minted tokens.
func (is *Issuer) ClientID() string { return is.opts.ClientID }

// JWKSFetches is how many key set requests the Issuer has answered (faults
// included).
func (is *Issuer) JWKSFetches() int { return int(is.jwksFetches.Load()) }

// DiscoveryFetches is how many discovery requests it has answered.
func (is *Issuer) DiscoveryFetches() int { return int(is.discoveryFetches.Load()) }

// AddKey generates and publishes a new signing key and returns its key id. It
// does not sign with it until UseKey.
func (is *Issuer) AddKey() (string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, is.opts.KeyBits)
	if err != nil {
		return "", fmt.Errorf("authtest: generate key: %w", err)
	}
	return is.addKey(priv), nil
}

// AddExistingKey publishes a key the caller made and returns its new key id.
func (is *Issuer) AddExistingKey(priv *rsa.PrivateKey) string { return is.addKey(priv) }

func (is *Issuer) addKey(priv *rsa.PrivateKey) string {
	is.mu.Lock()
	defer is.mu.Unlock()
	kid := newKID()
	is.keys[kid] = priv
	is.published = append(is.published, kid)
	return kid
}

// newKID makes a Cognito-like key id: base64 with '+', '/' and '='.
func newKID() string {
	for {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		kid := base64.StdEncoding.EncodeToString(b)
		if strings.Contains(kid, "+") && strings.Contains(kid, "/") {
			return kid
		}
	}
}

// UseKey makes kid the signing key of both ID and access tokens.
func (is *Issuer) UseKey(kid string) error {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.keys[kid] == nil {
		return fmt.Errorf("authtest: unknown key %q", kid)
	}
	is.idKID, is.accessKID = kid, kid
	return nil
}

// RemoveKey takes the key out of the key set (it can still sign, for tests of
// tokens signed with a withdrawn key).
func (is *Issuer) RemoveKey(kid string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.published = slices.DeleteFunc(is.published, func(k string) bool { return k == kid })
}

// SigningKeys returns the key ids currently used for ID and access tokens.
func (is *Issuer) SigningKeys() (id, access string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.idKID, is.accessKID
}

// PublishedKeys returns the key ids in the key set.
func (is *Issuer) PublishedKeys() []string {
	is.mu.Lock()
	defer is.mu.Unlock()
	return slices.Clone(is.published)
}

// PublicKeyPEM returns a key's public half in PEM (what an attacker would use as
// an HMAC secret in the HS256 confusion attack).
func (is *Issuer) PublicKeyPEM(kid string) []byte {
	is.mu.Lock()
	priv := is.keys[kid]
	is.mu.Unlock()
	if priv == nil {
		return nil
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// SetJWKSFault makes key set requests answer with this HTTP status (0 restores
// normal answers).
func (is *Issuer) SetJWKSFault(status int) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.jwksFault = status
}

// ServeHTTP serves <prefix>/<pool>/.well-known/openid-configuration,
// <prefix>/<pool>/.well-known/jwks.json, with Options.HostedUI
// <prefix>/<pool>/oauth2/authorize and /oauth2/token, and with
// Options.MintEndpoint <prefix>/<pool>/dev/token. Whatever precedes "/<pool>/" is ignored, so the
// Issuer can be mounted under any prefix (set the matching base URL).
func (is *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, rest, ok := strings.Cut(r.URL.Path, "/"+is.opts.PoolID+"/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch rest {
	case ".well-known/openid-configuration":
		if r.Method != http.MethodGet {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		is.discoveryFetches.Add(1)
		iss := is.URL()
		writeJSON(w, map[string]any{
			"issuer":                                iss,
			"jwks_uri":                              iss + "/.well-known/jwks.json",
			"authorization_endpoint":                iss + "/oauth2/authorize",
			"token_endpoint":                        iss + "/oauth2/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"code", "token"},
			"subject_types_supported":               []string{"public"},
			"scopes_supported":                      []string{"openid", "email", "profile"},
			"grant_types_supported":                 []string{"authorization_code"},
			"code_challenge_methods_supported":      []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"none", "client_secret_basic"},
		})
	case ".well-known/jwks.json":
		if r.Method != http.MethodGet {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		is.jwksFetches.Add(1)
		is.mu.Lock()
		fault := is.jwksFault
		var keys []map[string]string
		for _, kid := range is.published {
			pub := is.keys[kid].PublicKey
			keys = append(keys, map[string]string{
				"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
				"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
			})
		}
		is.mu.Unlock()
		if fault != 0 {
			http.Error(w, "injected fault", fault)
			return
		}
		writeJSON(w, map[string]any{"keys": keys})
	case "oauth2/authorize", "oauth2/token":
		if !is.opts.HostedUI {
			http.NotFound(w, r)
			return
		}
		if rest == "oauth2/token" {
			is.serveToken(w, r)
		} else {
			is.serveAuthorize(w, r)
		}
	case "dev/token":
		if !is.opts.MintEndpoint {
			http.NotFound(w, r)
			return
		}
		is.serveMint(w, r)
	default:
		http.NotFound(w, r)
	}
}

// serveMint mints an ID and an access token for the form fields sub, email,
// name, provider ("Google", "SignInWithApple" or empty) and groups
// (comma-separated).
func (is *Issuer) serveMint(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u := User{
		Subject: r.PostForm.Get("sub"), Email: r.PostForm.Get("email"), EmailVerified: r.PostForm.Get("email") != "",
		Name: r.PostForm.Get("name"), Provider: r.PostForm.Get("provider"),
	}
	if g := r.PostForm.Get("groups"); g != "" {
		u.Groups = strings.Split(g, ",")
	}
	if u.Subject == "" && u.Email == "" {
		http.Error(w, "sub or email is required", http.StatusBadRequest)
		return
	}
	writeJSON(w, map[string]any{
		"id_token": is.IDToken(u), "access_token": is.AccessToken(u),
		"token_type": "Bearer", "expires_in": int(is.opts.TokenTTL.Seconds()),
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Sign signs the claims with RS256 and the current signing key for their
// token_use (the access key for "access", else the ID key).
func (is *Issuer) Sign(claims map[string]any) string {
	is.mu.Lock()
	kid := is.idKID
	if claims["token_use"] == "access" {
		kid = is.accessKID
	}
	is.mu.Unlock()
	return is.SignWithKey(kid, claims)
}

// SignWithKey signs the claims with RS256 and the given key (published or
// not). It panics for a key id the Issuer never made.
func (is *Issuer) SignWithKey(kid string, claims map[string]any) string {
	is.mu.Lock()
	priv := is.keys[kid]
	is.mu.Unlock()
	if priv == nil {
		panic(fmt.Sprintf("authtest: unknown key %q", kid))
	}
	return SignRS256(priv, kid, claims)
}

// SignRS256 signs claims with any RSA key (for tokens from a stranger's key).
func SignRS256(priv *rsa.PrivateKey, kid string, claims map[string]any) string {
	input := encode(map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}, claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
	if err != nil {
		panic("authtest: sign: " + err.Error())
	}
	return input + "." + b64(sig)
}

// SignNone returns an unsigned token with "alg": "none".
func SignNone(kid string, claims map[string]any) string {
	return encode(map[string]any{"alg": "none", "typ": "JWT", "kid": kid}, claims) + "."
}

// SignHS256 returns a token signed with HMAC-SHA256 and the secret: the
// algorithm-confusion attack uses a public key as the secret.
func SignHS256(secret []byte, kid string, claims map[string]any) string {
	input := encode(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

func encode(header, claims map[string]any) string {
	h, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	return b64(h) + "." + b64(c)
}

// Tamper replaces a token's payload with the claims, keeping the header and
// the signature (which then no longer matches).
func Tamper(token string, claims map[string]any) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		panic(errors.New("authtest: Tamper needs a three-part token"))
	}
	c, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	return parts[0] + "." + b64(c) + "." + parts[2]
}

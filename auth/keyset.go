package auth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"go.uber.org/zap"
)

// maxJWKSBytes bounds a discovery document or key set response.
const maxJWKSBytes = 1 << 20

// keySet caches one issuer's signing keys; it refreshes only when it must and
// never faster than refreshGap: a token whose "kid" is not cached triggers at
// most one fetch per refreshGap (concurrent ones share it), so a flood of
// forged tokens cannot become a flood of JWKS requests. A key set older than
// maxAge is refreshed in the background on the next use (same limit) while
// the cached keys keep serving; a failed refresh keeps the keys it had. A
// token whose kid is cached but whose signature does not verify is rejected
// without any fetch.
type keySet struct {
	issuer     string
	jwksURL    string // "" until discovered
	client     *http.Client
	now        func() time.Time
	refreshGap time.Duration
	maxAge     time.Duration
	log        *zap.Logger

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey // by kid
	fetchedAt time.Time                 // last successful fetch
	triedAt   time.Time                 // last attempt
	lastErr   error                     // outcome of the last attempt
	inflight  *fetchCall
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// sigCheck carries one verification's outcome through go-oidc, which
// flattens the errors of a KeySet into text: VerifySignature records the
// typed error (or the key that verified) here, and the Verifier reads it.
type sigCheck struct {
	pub *rsa.PublicKey
	err error
}

type sigCheckKey struct{}

// VerifySignature implements oidc.KeySet: go-jose parses the compact JWS (RS256
// only) and checks its signature with the key its "kid" names, which comes
// from the cache or, for an unknown kid, from a fetch as the refresh limit
// allows. A cached kid with a bad signature never causes a fetch.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	check, _ := ctx.Value(sigCheckKey{}).(*sigCheck)
	if check == nil {
		check = &sigCheck{}
	}
	payload, pub, err := k.verifySignature(ctx, raw)
	check.pub, check.err = pub, err
	return payload, err
}

func (k *keySet) verifySignature(ctx context.Context, raw string) ([]byte, *rsa.PublicKey, error) {
	jws, err := jose.ParseSigned(raw, allowedAlgs)
	if err != nil {
		return nil, nil, tokenError(ErrMalformed, "%v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, nil, tokenError(ErrMalformed, "want one signature, got %d", len(jws.Signatures))
	}
	kid := jws.Signatures[0].Header.KeyID
	key, err := k.key(ctx, kid)
	if err != nil {
		return nil, nil, err
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, nil, tokenError(ErrBadSignature, "key %q", kid)
	}
	return payload, key, nil
}

// cached returns the cached key for kid without waiting; like key, it starts
// a background refresh when the set is older than maxAge (as the rate limit
// allows). The verification cache uses it to check on every hit that the
// token's key is still published.
func (k *keySet) cached(kid string) (*rsa.PublicKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, known := k.keys[kid]
	if known {
		k.refreshIfStaleLocked(k.now())
	}
	return key, known
}

func (k *keySet) refreshIfStaleLocked(now time.Time) {
	fresh := !k.fetchedAt.IsZero() && now.Sub(k.fetchedAt) < k.maxAge
	if !fresh && k.inflight == nil && (k.triedAt.IsZero() || now.Sub(k.triedAt) >= k.refreshGap) {
		k.startLocked(now)
	}
}

// key returns the key for kid. A cached key is returned at once; if the set
// is older than maxAge a refresh is started in the background (as the rate
// limit allows). An unknown kid waits for a refresh (started or joined) if the
// rate limit allows one, and fails at once otherwise.
func (k *keySet) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k.mu.Lock()
	key, known := k.keys[kid]
	now := k.now()
	if known {
		k.refreshIfStaleLocked(now)
		k.mu.Unlock()
		return key, nil
	}
	mayFetch := k.inflight != nil || k.triedAt.IsZero() || now.Sub(k.triedAt) >= k.refreshGap
	if !mayFetch {
		lastErr := k.lastErr
		k.mu.Unlock()
		if lastErr != nil {
			return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, lastErr)
		}
		return nil, tokenError(ErrUnknownKey, "kid %q (key set refreshed less than %v ago)", kid, k.refreshGap)
	}
	call := k.inflight
	if call == nil {
		call = k.startLocked(now)
	}
	k.mu.Unlock()

	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for %s keys: %w", ErrKeysUnavailable, k.issuer, ctx.Err())
	}
	k.mu.Lock()
	key, known = k.keys[kid]
	k.mu.Unlock()
	switch {
	case known:
		return key, nil
	case call.err != nil:
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, call.err)
	}
	return nil, tokenError(ErrUnknownKey, "kid %q is not in the key set of %s", kid, k.issuer)
}

// startLocked starts a refresh; k.mu is held.
func (k *keySet) startLocked(now time.Time) *fetchCall {
	call := &fetchCall{done: make(chan struct{})}
	k.inflight, k.triedAt = call, now
	go k.refresh(call)
	return call
}

// refresh fetches the key set and installs it; it runs detached from any
// request so that a cancelled request does not fail the others waiting.
func (k *keySet) refresh(call *fetchCall) {
	keys, err := k.fetch()
	k.mu.Lock()
	if err == nil {
		k.keys, k.fetchedAt = keys, k.now()
	}
	k.lastErr = err
	k.inflight = nil
	k.mu.Unlock()
	if err != nil {
		k.log.Warn("key set refresh failed", zap.String("issuer", k.issuer), zap.Error(err))
	} else {
		k.log.Debug("key set refreshed", zap.String("issuer", k.issuer), zap.Int("keys", len(keys)))
	}
	call.err = err
	close(call.done)
}

func (k *keySet) fetch() (map[string]*rsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k.mu.Lock()
	jwksURL := k.jwksURL
	k.mu.Unlock()
	if jwksURL == "" {
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := k.getJSON(ctx, strings.TrimSuffix(k.issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		if doc.Issuer != k.issuer {
			return nil, fmt.Errorf("discovery: issuer %q does not match %q", doc.Issuer, k.issuer)
		}
		if doc.JWKSURI == "" {
			return nil, errors.New("discovery: no jwks_uri")
		}
		jwksURL = doc.JWKSURI
		k.mu.Lock()
		k.jwksURL = jwksURL
		k.mu.Unlock()
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := k.getJSON(ctx, jwksURL, &set); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, raw := range set.Keys {
		var meta struct {
			Kty, Alg, Use, Kid string
		}
		if json.Unmarshal(raw, &meta) != nil || meta.Kty != "RSA" || meta.Kid == "" ||
			(meta.Alg != "" && meta.Alg != "RS256") || (meta.Use != "" && meta.Use != "sig") {
			continue // not a key we would ever accept; others may be
		}
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(raw, &jwk); err != nil {
			continue
		}
		pub, ok := jwk.Key.(*rsa.PublicKey)
		if !ok || pub.N.BitLen() < 2048 {
			continue
		}
		keys[meta.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("key set %s has no usable RS256 key", jwksURL)
	}
	return keys, nil
}

func (k *keySet) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if len(body) > maxJWKSBytes {
		return fmt.Errorf("GET %s: response larger than %d bytes", u, maxJWKSBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

package analytics

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SessionClaims is what a playback-session token binds: the user, the
// video, the session id the server chose, and an expiry.
type SessionClaims struct {
	UserID    string    `json:"u"`
	VideoID   string    `json:"v"`
	SessionID string    `json:"s"`
	Expires   time.Time `json:"e"`
}

// Tokens mints and verifies playback-session tokens: the claims, base64url,
// a dot, and an HMAC-SHA256 of them under the server secret. Verify accepts
// the current secret and any previous ones (rotation).
type Tokens struct {
	keys [][]byte
}

// MinSecretBytes is the shortest accepted secret.
const MinSecretBytes = 32

// ErrSecret: a secret shorter than MinSecretBytes.
var ErrSecret = errors.New("analytics: session token secret too short")

// NewTokens returns Tokens signing with secret and also accepting previous.
func NewTokens(secret []byte, previous ...[]byte) (*Tokens, error) {
	t := &Tokens{}
	for _, k := range append([][]byte{secret}, previous...) {
		if len(k) < MinSecretBytes {
			return nil, fmt.Errorf("%w: %d bytes, at least %d", ErrSecret, len(k), MinSecretBytes)
		}
		t.keys = append(t.keys, append([]byte(nil), k...))
	}
	return t, nil
}

// Mint returns the token of c.
func (t *Tokens) Mint(c SessionClaims) string {
	c.Expires = c.Expires.UTC().Truncate(time.Second)
	b, _ := json.Marshal(c) // strings and a time: cannot fail
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(t.sign(t.keys[0], p))
}

func (t *Tokens) sign(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Verify checks tok's signature and expiry at now and returns its claims.
// A bad token is a *Rejection with ReasonInvalidToken, an expired one
// ReasonTokenExpired.
func (t *Tokens) Verify(tok string, now time.Time) (SessionClaims, error) {
	p, sig, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 1024 {
		return SessionClaims{}, reject(ReasonInvalidToken, "malformed session token")
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return SessionClaims{}, reject(ReasonInvalidToken, "malformed session token")
	}
	valid := false
	for _, k := range t.keys {
		if hmac.Equal(got, t.sign(k, p)) {
			valid = true
			break
		}
	}
	if !valid {
		return SessionClaims{}, reject(ReasonInvalidToken, "bad session token signature")
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	var c SessionClaims
	if err != nil || json.Unmarshal(b, &c) != nil || c.UserID == "" || c.VideoID == "" || c.SessionID == "" {
		return SessionClaims{}, reject(ReasonInvalidToken, "malformed session token")
	}
	if !now.Before(c.Expires) {
		return SessionClaims{}, reject(ReasonTokenExpired, "session token expired")
	}
	return c, nil
}

// Bind checks that the event belongs to the token's claims: the same user,
// video and session.
func (c SessionClaims) Bind(e *Event) error {
	if c.UserID != e.UserID || c.VideoID != e.VideoID || c.SessionID != e.SessionID {
		return reject(ReasonSessionMismatch, "the session token is for another user, video or session")
	}
	return nil
}

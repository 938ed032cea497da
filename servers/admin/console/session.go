package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Cookie names. The __Host- prefix makes the browser refuse them unless they
// are Secure, host-only and Path=/, so a sibling subdomain cannot plant one.
const (
	sessionCookie = "__Host-vidlib-console"
	loginCookie   = "__Host-vidlib-login"
	flashCookie   = "__Host-vidlib-flash"
)

// errBadSeal: a cookie that was not sealed with this key, was changed, or is
// of another kind.
var errBadSeal = errors.New("console: cookie does not open")

// sealer seals small values into cookies with AES-256-GCM: confidential
// (the ID token inside never shows) and authenticated (no one can forge or
// change a session). Every instance configured with the same key opens the
// cookies of the others, so sessions need no shared store.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: the session key must be 32 bytes, got %d", ErrInvalid, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal encodes v as JSON and seals it; kind (the cookie name) is
// authenticated too, so a login cookie cannot be replayed as a session.
func (s *sealer) seal(kind string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(kind))), nil
}

func (s *sealer) open(kind, sealed string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return errBadSeal
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(kind))
	if err != nil {
		return errBadSeal
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return errBadSeal
	}
	return nil
}

// session is what the session cookie holds.
type session struct {
	IDToken string    `json:"t"` // verified on every request by the auth service
	CSRF    string    `json:"c"` // the synchronizer token of this session's forms
	Created time.Time `json:"at"`
}

// login is what the login cookie holds between /login and the callback.
type login struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"` // PKCE code_verifier
	Next     string    `json:"next"`
	Created  time.Time `json:"at"`
}

// flash is a one-shot message shown on the next page.
type flash struct {
	Kind string `json:"k"` // "ok" or "error"
	Text string `json:"m"`
}

// setCookie writes a sealed cookie: HttpOnly, Secure (browsers accept Secure
// cookies from http://localhost, a secure context), SameSite=Lax (sent on the
// top-level navigation back from the issuer, never on cross-site
// subrequests or form posts), host-only, Path=/.
func (c *Console) setCookie(w http.ResponseWriter, name string, v any, maxAge time.Duration) error {
	val, err := c.seal.seal(name, v)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: val, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	return nil
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
}

// readCookie opens the named cookie into v.
func (c *Console) readCookie(r *http.Request, name string, v any) bool {
	ck, err := r.Cookie(name)
	if err != nil {
		return false
	}
	return c.seal.open(name, ck.Value, v) == nil
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

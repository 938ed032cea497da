package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"
)

type principalKey struct{}

// WithPrincipal returns a context carrying the principal.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal Middleware put in the context. Treat it
// as read-only: it is shared by the requests of one token.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// BearerToken extracts the token of an "Authorization: Bearer <token>" header.
// A missing header returns ErrNoToken; a header of another form, or more
// than one Authorization header (proxies and servers may pick different
// ones), an error wrapping ErrInvalidToken and ErrMalformed.
func BearerToken(r *http.Request) (token string, err error) {
	values := r.Header.Values("Authorization")
	if len(values) > 1 {
		return "", tokenError(ErrMalformed, "%d Authorization headers", len(values))
	}
	if len(values) == 0 || values[0] == "" {
		return "", ErrNoToken
	}
	h := values[0]
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", tokenError(ErrMalformed, "Authorization header is not \"Bearer <token>\"")
	}
	return strings.TrimSpace(tok), nil
}

// Middleware authenticates every request (for chi: r.Use(s.Middleware)). A
// missing or invalid token gets 401 with a WWW-Authenticate challenge (RFC
// 6750); a disabled user 403; an unreachable key set, user store or auditor
// 503 with Retry-After. It never answers 500. On success the principal is in
// the request context (PrincipalFrom).
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := BearerToken(r)
		var p *Principal
		if err == nil {
			p, err = s.Authenticate(r.Context(), raw)
		}
		if err != nil {
			s.reject(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// errorBody is the JSON error shape of every vidlib API.
type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details map[string]string `json:"details,omitempty"`
	} `json:"error"`
}

func (s *Service) reject(w http.ResponseWriter, err error) {
	var status int
	var body errorBody
	realm := `Bearer realm="` + s.opts.Realm + `"`
	switch {
	case errors.Is(err, ErrNoToken):
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", realm)
		body.Error.Code, body.Error.Message = "unauthenticated", "a bearer token is required"
	case errors.Is(err, ErrUserDisabled):
		status = http.StatusForbidden
		body.Error.Code, body.Error.Message = "user_disabled", "this account is disabled"
	case errors.Is(err, ErrKeysUnavailable), errors.Is(err, ErrUnavailable):
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
		body.Error.Code, body.Error.Message = "unavailable", "sign-in is temporarily unavailable; try again"
		s.log.Warn("authentication unavailable", zap.Error(err))
	default: // every token error, and anything unexpected: the token is not accepted
		status = http.StatusUnauthorized
		reason := reasonOf(err)
		desc := strings.TrimPrefix(reason.Error(), "auth: ")
		w.Header().Set("WWW-Authenticate", realm+`, error="invalid_token", error_description="`+desc+`"`)
		body.Error.Code, body.Error.Message = "invalid_token", "the bearer token was rejected: "+desc
		body.Error.Details = map[string]string{"reason": desc}
		s.log.Debug("token rejected", zap.Error(err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

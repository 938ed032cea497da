package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"go.uber.org/zap"

	"github.com/vidlib/vidlib/audit"
	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/servers/ops"
)

// Authenticator turns a bearer token into a principal (*auth.Service).
type Authenticator interface {
	Authenticate(ctx context.Context, raw string) (*auth.Principal, error)
}

// IsAdmin reports whether a principal may use the admin service: a user
// with the admin role (a Cognito group mapped to it, or granted), or any
// user of a configured admin issuer.
func (s *Service) IsAdmin(p *auth.Principal) bool {
	if p == nil {
		return false
	}
	if slices.Contains(p.Roles, s.opts.AdminRole) {
		return true
	}
	iss := p.Identity.Issuer
	if iss == "" && p.Token != nil {
		iss = p.Token.Identity.Issuer
	}
	return iss != "" && slices.Contains(s.opts.AdminIssuers, iss)
}

// ActorOf is the Actor of an admin principal's request.
func ActorOf(p *auth.Principal, requestID string) Actor {
	a := Actor{ID: p.User.ID, Name: p.User.DisplayName, RequestID: requestID}
	if a.Name == "" {
		a.Name = p.User.Email
	}
	if a.ID == "" {
		a.ID = p.Identity.Issuer + ":" + p.Identity.Subject
	}
	return a
}

type actorKey struct{}

// ActorFrom returns the admin the API authenticated for this request.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// requireAdmin authenticates the bearer token: anonymous or a rejected token
// 401, a signed-in non-admin 403 (saying nothing about content), an
// unreachable key set or user store 503. Refusals of signed-in users are
// audited.
func (a *API) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := auth.BearerToken(r)
		var p *auth.Principal
		if err == nil {
			p, err = a.authn.Authenticate(r.Context(), raw)
		}
		switch {
		case errors.Is(err, auth.ErrNoToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="vidlib-admin"`)
			writeError(w, r, http.StatusUnauthorized, "unauthenticated", "a bearer token is required", nil)
			return
		case errors.Is(err, auth.ErrUserDisabled):
			writeError(w, r, http.StatusForbidden, "forbidden", "this account may not use the admin service", nil)
			return
		case errors.Is(err, auth.ErrKeysUnavailable), errors.Is(err, auth.ErrUnavailable):
			w.Header().Set("Retry-After", "5")
			writeError(w, r, http.StatusServiceUnavailable, "unavailable", "sign-in is temporarily unavailable; try again", nil)
			return
		case err != nil:
			w.Header().Set("WWW-Authenticate", `Bearer realm="vidlib-admin", error="invalid_token"`)
			writeError(w, r, http.StatusUnauthorized, "invalid_token", "the bearer token was rejected", nil)
			return
		}
		actor := ActorOf(p, ops.RequestIDFrom(r))
		if !a.svc.IsAdmin(p) {
			a.log.Info("admin access refused", zap.String("user", actor.ID), zap.String("path", r.URL.Path))
			_ = a.svc.record(r.Context(), actor, audit.ActionAccessDecision, "admin_api", r.Method+" "+r.URL.Path, ErrForbidden, nil)
			writeError(w, r, http.StatusForbidden, "forbidden", "the admin role is required", nil)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, actor)))
	})
}

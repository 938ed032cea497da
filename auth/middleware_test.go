package auth_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
)

func router(svc *auth.Service) http.Handler {
	r := chi.NewRouter()
	r.Use(svc.Middleware)
	r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.PrincipalFrom(r.Context())
		if !ok {
			http.Error(w, "no principal", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"user": p.User.ID, "roles": p.Roles})
	})
	return r
}

type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details map[string]string `json:"details"`
	} `json:"error"`
}

func do(t *testing.T, h http.Handler, authz string) (*httptest.ResponseRecorder, apiError) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/me", nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body apiError
	if rec.Code != http.StatusOK {
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	}
	return rec, body
}

func TestMiddleware(t *testing.T) {
	f := newFixture(t, nil)
	h := router(f.svc)
	expired := f.is.IDClaims(ana)
	expired["exp"] = f.clk.Now().Add(-time.Hour).Unix()

	tests := []struct {
		name      string
		authz     string
		status    int
		code      string
		challenge string
	}{
		{"valid", "Bearer " + f.is.IDToken(ana), 200, "", ""},
		{"scheme is case-insensitive", "bearer " + f.is.AccessToken(ana), 200, "", ""},
		{"missing", "", 401, "unauthenticated", `Bearer realm="vidlib"`},
		{"basic auth", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", 401, "invalid_token", `Bearer realm="vidlib", error="invalid_token", error_description="malformed token"`},
		{"bearer without token", "Bearer ", 401, "invalid_token", `Bearer realm="vidlib", error="invalid_token", error_description="malformed token"`},
		{"expired", "Bearer " + f.is.Sign(expired), 401, "invalid_token", `Bearer realm="vidlib", error="invalid_token", error_description="token expired"`},
		{"garbage", "Bearer a.b.c", 401, "invalid_token", `Bearer realm="vidlib", error="invalid_token", error_description="malformed token"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, body := do(t, h, tc.authz)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, tc.challenge, rec.Header().Get("WWW-Authenticate"))
			require.Equal(t, tc.code, body.Error.Code)
			if tc.status == 200 {
				require.JSONEq(t, `{"user":"user-1","roles":["member","subscriber"]}`, rec.Body.String())
			} else {
				require.NotEmpty(t, body.Error.Message)
				require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			}
		})
	}

	t.Run("disabled user: 403", func(t *testing.T) {
		f.users.disable("user-1", f.clk.Now())
		f.clk.Advance(auth.DefaultPrincipalTTL)
		rec, body := do(t, h, "Bearer "+f.is.IDToken(ana))
		require.Equal(t, http.StatusForbidden, rec.Code)
		require.Equal(t, "user_disabled", body.Error.Code)
	})
	t.Run("store down: 503", func(t *testing.T) {
		f.users.setFail(errors.New("db down"))
		defer f.users.setFail(nil)
		rec, body := do(t, h, "Bearer "+f.is.IDToken(ana))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "unavailable", body.Error.Code)
		require.Equal(t, "5", rec.Header().Get("Retry-After"))
		require.NotContains(t, rec.Body.String(), "db down", "internal errors stay internal")
	})
	t.Run("key set down: 503", func(t *testing.T) {
		g := newFixture(t, nil)
		g.is.SetJWKSFault(http.StatusServiceUnavailable)
		rec, _ := do(t, router(g.svc), "Bearer "+g.is.IDToken(ana))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	})
}

// TestMiddlewareNeverErrs500: random Authorization headers always get 401 and
// cause no key set fetch beyond the first load.
func TestMiddlewareNeverErrs500(t *testing.T) {
	f := newFixture(t, nil)
	h := router(f.svc)
	r := rand.New(rand.NewPCG(7, 11))
	valid := f.is.IDToken(ana)
	rec, _ := do(t, h, "Bearer "+valid)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, 1, f.is.JWKSFetches())
	alphabet := "abcXYZ019-_.=+/ \"{}:"
	for i := range 2000 {
		var b strings.Builder
		switch i % 3 {
		case 0: // random characters
			for range r.IntN(80) {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
		case 1: // a valid token with one byte changed
			raw := []byte(valid)
			raw[r.IntN(len(raw))] = alphabet[r.IntN(len(alphabet))]
			if string(raw) == valid {
				continue
			}
			b.Write(raw)
		default: // valid parts reassembled wrongly
			parts := strings.Split(valid, ".")
			b.WriteString(parts[r.IntN(3)] + "." + parts[r.IntN(3)] + "." + parts[r.IntN(3)])
			if b.String() == valid {
				continue
			}
		}
		rec, _ := do(t, h, "Bearer "+b.String())
		require.Equal(t, http.StatusUnauthorized, rec.Code, "header %q", b.String())
		require.True(t, strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer "))
	}
	require.Equal(t, 1, f.is.JWKSFetches(), "garbage never caused a key set fetch")
}

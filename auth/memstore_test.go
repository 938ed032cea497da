package auth_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
	"github.com/vidlib/vidlib/store/memstore"
)

// TestWithMemstore runs sign-in against the real in-memory store: concurrent
// first sign-ins of one person (different sessions, so every request
// provisions) create one user, and admin-granted roles reach the principal.
func TestWithMemstore(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	store := memstore.New()
	auditor := &fakeAuditor{}
	svc, err := auth.New(cognitoVerifier(t, clk, is, nil), store, auditor, &auth.Options{
		Now: clk.Now, GroupRoles: map[string][]string{"premium": {"subscriber"}},
	})
	require.NoError(t, err)

	bo := authtest.User{Provider: "SignInWithApple", Email: "bo@example.org", Groups: []string{"premium"}}
	var wg sync.WaitGroup
	ids := make([]string, 16)
	for i := range ids {
		tok := is.IDToken(bo) // a new origin_jti each: sixteen first sign-ins at once
		wg.Go(func() {
			if p, err := svc.Authenticate(ctx, tok); err == nil {
				ids[i] = p.User.ID
			}
		})
	}
	wg.Wait()
	users, err := store.ListUsers(ctx, "", 100)
	require.NoError(t, err)
	require.Len(t, users, 1, "one person, one user")
	for _, id := range ids {
		require.Equal(t, users[0].ID, id)
	}
	recs := auditor.records()
	require.Len(t, recs, 16, "sixteen sign-ins")
	created := 0
	for _, r := range recs {
		if r.Details["created"] == "true" {
			created++
		}
	}
	require.Equal(t, 1, created, "exactly one of them created the user")

	require.NoError(t, store.PutRole(ctx, auth.Role{Name: "editor"}))
	require.NoError(t, store.GrantRole(ctx, users[0].ID, "editor"))
	require.NoError(t, store.UpdateProfile(ctx, users[0].ID, map[string]string{"tier": "gold"}))
	rec, _ := do(t, router(svc), "Bearer "+is.AccessToken(bo))
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"user":"`+users[0].ID+`","roles":["editor","subscriber"]}`, rec.Body.String())
	p, err := svc.Authenticate(ctx, is.AccessToken(bo))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"tier": "gold"}, p.Segments)
	require.Equal(t, auth.ProviderApple, p.Identity.Provider)
}

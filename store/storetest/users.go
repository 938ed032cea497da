package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
)

// TestUserStore runs the auth.UserStore conformance suite.
func TestUserStore(t *testing.T, newStore func(t *testing.T) auth.UserStore) {
	t.Run("Provision", func(t *testing.T) { testProvision(t, newStore(t)) })
	t.Run("ConcurrentFirstSignIn", func(t *testing.T) { testConcurrentProvision(t, newStore(t)) })
	t.Run("IdentitiesAndProfile", func(t *testing.T) { testIdentities(t, newStore(t)) })
	t.Run("Roles", func(t *testing.T) { testRoles(t, newStore(t)) })
	t.Run("ListUsersPages", func(t *testing.T) { testListUsers(t, newStore(t)) })
}

func googleID(sub string) auth.Identity {
	return auth.Identity{Issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool", Subject: sub,
		Provider: "Google", Email: sub + "@example.com", EmailVerified: true}
}

func testProvision(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	id := googleID("sub-1")
	_, err := s.UserByIdentity(ctx, id.Issuer, id.Subject)
	require.ErrorIs(t, err, auth.ErrNotFound)

	u, created, err := s.ProvisionUser(ctx, id, auth.User{Email: "ana@example.com", DisplayName: "Ana", Profile: map[string]string{"tier": "gold"}})
	require.NoError(t, err)
	require.True(t, created)
	require.NotEmpty(t, u.ID)
	require.Equal(t, "Ana", u.DisplayName)
	require.Equal(t, map[string]string{"tier": "gold"}, u.Profile)
	require.False(t, u.CreatedAt.IsZero())

	again, created, err := s.ProvisionUser(ctx, id, auth.User{DisplayName: "someone else"})
	require.NoError(t, err)
	require.False(t, created, "the second sign-in finds the user")
	require.Equal(t, u.ID, again.ID)
	require.Equal(t, "Ana", again.DisplayName, "the template applies only on creation")

	// A sign-in with an access token (no email claim) keeps the stored email.
	_, _, err = s.ProvisionUser(ctx, auth.Identity{Issuer: id.Issuer, Subject: id.Subject}, auth.User{})
	require.NoError(t, err)
	ids, err := s.Identities(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, ids, 1)
	require.Equal(t, id.Email, ids[0].Email)
	require.True(t, ids[0].EmailVerified)
	require.False(t, ids[0].LastLoginAt.IsZero())

	byID, err := s.UserByIdentity(ctx, id.Issuer, id.Subject)
	require.NoError(t, err)
	require.Equal(t, u.ID, byID.ID)
	got, err := s.User(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, u.Email, got.Email)

	for _, bad := range []string{"", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "'; DROP TABLE users; --"} {
		_, err := s.User(ctx, bad)
		require.ErrorIs(t, err, auth.ErrNotFound, "%q", bad)
	}
	_, _, err = s.ProvisionUser(ctx, auth.Identity{Issuer: "x"}, auth.User{})
	require.ErrorIs(t, err, auth.ErrInvalid)
}

func testConcurrentProvision(t *testing.T, s auth.UserStore) {
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]int{}
	createdCount := 0
	for range n {
		wg.Go(func() {
			u, created, err := s.ProvisionUser(context.Background(), googleID("racer"), auth.User{Email: "r@example.com"})
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			ids[u.ID]++
			if created {
				createdCount++
			}
		})
	}
	wg.Wait()
	require.Len(t, ids, 1, "concurrent first sign-ins create one user")
	require.Equal(t, 1, createdCount, "and exactly one of them says it created it")
	users, err := s.ListUsers(context.Background(), "", 100)
	require.NoError(t, err)
	require.Len(t, users, 1)
}

func testIdentities(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	u, _, err := s.ProvisionUser(ctx, googleID("g-1"), auth.User{})
	require.NoError(t, err)
	apple := auth.Identity{Issuer: "https://appleid.apple.com", Subject: "001.abc", Provider: "SignInWithApple"}
	require.NoError(t, s.LinkIdentity(ctx, u.ID, apple))
	require.ErrorIs(t, s.LinkIdentity(ctx, u.ID, apple), auth.ErrDuplicate)
	other, _, err := s.ProvisionUser(ctx, googleID("g-2"), auth.User{})
	require.NoError(t, err)
	require.ErrorIs(t, s.LinkIdentity(ctx, other.ID, googleID("g-1")), auth.ErrDuplicate, "an identity maps to one user")
	require.ErrorIs(t, s.LinkIdentity(ctx, "9b2f1c1e-8c4a-4d8e-9a57-3f0d8c5e2b11", googleID("g-9")), auth.ErrNotFound)

	ids, err := s.Identities(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, ids, 2)
	for _, id := range ids {
		require.Equal(t, u.ID, id.UserID)
	}
	viaApple, err := s.UserByIdentity(ctx, apple.Issuer, apple.Subject)
	require.NoError(t, err)
	require.Equal(t, u.ID, viaApple.ID)

	require.NoError(t, s.UpdateProfile(ctx, u.ID, map[string]string{"region": "emea", "tier": "free"}))
	got, err := s.User(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"region": "emea", "tier": "free"}, got.Profile)
	require.NoError(t, s.UpdateProfile(ctx, u.ID, nil))
	got, err = s.User(ctx, u.ID)
	require.NoError(t, err)
	require.Empty(t, got.Profile)
	require.ErrorIs(t, s.UpdateProfile(ctx, "9b2f1c1e-8c4a-4d8e-9a57-3f0d8c5e2b11", nil), auth.ErrNotFound)
}

func testRoles(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	u, _, err := s.ProvisionUser(ctx, googleID("roles"), auth.User{})
	require.NoError(t, err)
	require.ErrorIs(t, s.PutRole(ctx, auth.Role{Name: "Bad Name"}), auth.ErrInvalid)
	require.ErrorIs(t, s.PutRole(ctx, auth.Role{Name: ""}), auth.ErrInvalid)
	require.NoError(t, s.PutRole(ctx, auth.Role{Name: "staff", Description: "employees"}))
	require.NoError(t, s.PutRole(ctx, auth.Role{Name: "admin"}))
	require.NoError(t, s.PutRole(ctx, auth.Role{Name: "staff", Description: "all employees"}))
	roles, err := s.Roles(ctx)
	require.NoError(t, err)
	require.Len(t, roles, 2)
	require.Equal(t, "admin", roles[0].Name)
	require.Equal(t, "all employees", roles[1].Description)

	require.ErrorIs(t, s.GrantRole(ctx, u.ID, "ghost"), auth.ErrNotFound)
	require.ErrorIs(t, s.GrantRole(ctx, "9b2f1c1e-8c4a-4d8e-9a57-3f0d8c5e2b11", "staff"), auth.ErrNotFound)
	require.NoError(t, s.GrantRole(ctx, u.ID, "staff"))
	require.NoError(t, s.GrantRole(ctx, u.ID, "staff"), "granting twice is fine")
	require.NoError(t, s.GrantRole(ctx, u.ID, "admin"))
	got, err := s.UserRoles(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"admin", "staff"}, got)
	require.NoError(t, s.RevokeRole(ctx, u.ID, "admin"))
	require.NoError(t, s.RevokeRole(ctx, u.ID, "admin"))
	got, err = s.UserRoles(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"staff"}, got)
}

func testListUsers(t *testing.T, s auth.UserStore) {
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 7 {
		u, _, err := s.ProvisionUser(ctx, googleID(fmt.Sprint("page-", i)), auth.User{})
		require.NoError(t, err)
		want[u.ID] = true
	}
	var seen []string
	after := ""
	for {
		page, err := s.ListUsers(ctx, after, 3)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 3)
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			seen = append(seen, u.ID)
		}
		after = page[len(page)-1].ID
	}
	require.Len(t, seen, 7)
	for i := 1; i < len(seen); i++ {
		require.Less(t, seen[i-1], seen[i], "ordered by id, no repeats")
	}
	for _, id := range seen {
		require.True(t, want[id])
	}
	_, err := s.ListUsers(ctx, "garbage", 3)
	require.ErrorIs(t, err, auth.ErrInvalid)
}

package auth_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
)

type audienceLog struct {
	mu   sync.Mutex
	seen []string
	err  error
}

func (a *audienceLog) RecordAudience(_ context.Context, user string, roles []string, segments map[string]string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen = append(a.seen, fmt.Sprint(user, roles, segments))
	return a.err
}

func (a *audienceLog) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seen)
}

func (a *audienceLog) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

// The audience is recorded where the principal is resolved, and written
// only when it differs from the one recorded last.
func TestAudiencesAreRecordedWhenTheyChange(t *testing.T) {
	ctx := context.Background()
	rec := &audienceLog{}
	f := newFixture(t, &auth.Options{GroupRoles: map[string][]string{"premium": {"subscriber"}},
		SegmentClaims: map[string]string{"custom:tier": "tier"}, Audiences: rec})
	u := ana
	u.Groups = []string{"premium"}
	u.Extra = map[string]any{"custom:tier": "silver"}
	token := f.is.Sign(f.is.IDClaims(u))
	signIn := func() {
		t.Helper()
		_, err := f.svc.Authenticate(ctx, token)
		require.NoError(t, err)
		auth.WaitAudiences(f.svc)
	}
	signIn()
	require.Equal(t, []string{"user-1[subscriber] map[tier:silver]"}, rec.list())
	for range 3 { // cached principal: nothing resolved, nothing written
		signIn()
	}
	f.clk.Advance(2 * auth.DefaultPrincipalTTL) // resolved again, on the request
	signIn()
	require.Len(t, rec.list(), 1, "the same audience is not written again")

	// A role granted and a profile changed: written once more.
	require.NoError(t, f.users.GrantRole(ctx, "user-1", "editor"))
	require.NoError(t, f.users.UpdateProfile(ctx, "user-1", map[string]string{"tier": "gold"}))
	f.clk.Advance(2 * auth.DefaultPrincipalTTL)
	signIn()
	require.Equal(t, "user-1[editor subscriber] map[tier:gold]", rec.list()[1])
	require.Len(t, rec.list(), 2)

	// A failed write is tried again at the next resolution, even unchanged.
	require.NoError(t, f.users.UpdateProfile(ctx, "user-1", map[string]string{"tier": "platinum"}))
	rec.fail(errors.New("database down"))
	f.clk.Advance(2 * auth.DefaultPrincipalTTL)
	signIn()
	require.Len(t, rec.list(), 3)
	rec.fail(nil)
	f.clk.Advance(2 * auth.DefaultPrincipalTTL)
	signIn()
	require.Equal(t, "user-1[editor subscriber] map[tier:platinum]", rec.list()[3])
	f.clk.Advance(2 * auth.DefaultPrincipalTTL)
	signIn()
	require.Len(t, rec.list(), 4)
}

// What the Service remembers of recorded audiences is bounded.
func TestRememberedAudiencesAreBounded(t *testing.T) {
	ctx := context.Background()
	rec := &audienceLog{}
	f := newFixture(t, &auth.Options{Audiences: rec, MaxPrincipals: 3})
	for i := range 10 {
		u := authtest.User{Email: fmt.Sprintf("user%d@example.org", i)}
		_, err := f.svc.Authenticate(ctx, f.is.Sign(f.is.IDClaims(u)))
		require.NoError(t, err)
		auth.WaitAudiences(f.svc)
		require.LessOrEqual(t, auth.RememberedAudiences(f.svc), 3)
	}
	require.Len(t, rec.list(), 10, "every user's audience is recorded")
}

// Without a recorder nothing is recorded, and a disabled user's audience
// never is.
func TestDisabledUsersAudienceIsNotRecorded(t *testing.T) {
	ctx := context.Background()
	rec := &audienceLog{}
	f := newFixture(t, &auth.Options{Audiences: rec})
	token := f.is.Sign(f.is.IDClaims(ana))
	_, err := f.svc.Authenticate(ctx, token)
	require.NoError(t, err)
	auth.WaitAudiences(f.svc)
	require.Len(t, rec.list(), 1)
	f.users.disable("user-1", f.clk.Now())
	f.clk.Advance(2 * auth.DefaultPrincipalTTL)
	_, err = f.svc.Authenticate(ctx, token)
	require.ErrorIs(t, err, auth.ErrUserDisabled)
	auth.WaitAudiences(f.svc)
	require.Len(t, rec.list(), 1)
}

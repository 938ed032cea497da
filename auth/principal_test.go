package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
)

type fixture struct {
	clk     *clock
	is      *authtest.Issuer
	users   *fakeUsers
	auditor *fakeAuditor
	svc     *auth.Service
}

func newFixture(t *testing.T, opts *auth.Options) *fixture {
	t.Helper()
	f := &fixture{clk: newClock(), users: newFakeUsers(), auditor: &fakeAuditor{}}
	f.is = startIssuer(t, f.clk, nil)
	v := cognitoVerifier(t, f.clk, f.is, nil)
	o := auth.Options{
		GroupRoles:    map[string][]string{"premium": {"subscriber"}, "eu-west-1_TEST_Google": {"member"}},
		SegmentClaims: map[string]string{"custom:tier": "tier", "custom:region": "region", "email_verified": "verified"},
	}
	if opts != nil {
		o = *opts
	}
	o.Now = f.clk.Now
	var err error
	f.svc, err = auth.New(v, f.users, f.auditor, &o)
	require.NoError(t, err)
	return f
}

func TestFirstSignInProvisionsAndAudits(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	u := ana
	u.Extra = map[string]any{"custom:tier": "silver", "custom:region": "emea"}
	claims := f.is.IDClaims(u)
	p, err := f.svc.Authenticate(ctx, f.is.Sign(claims))
	require.NoError(t, err)
	require.Equal(t, "user-1", p.User.ID)
	require.Equal(t, "ana@example.org", p.User.Email)
	require.Equal(t, "Ana Reyes", p.User.DisplayName)
	require.Equal(t, "user-1", p.Identity.UserID)
	require.Equal(t, auth.ProviderGoogle, p.Identity.Provider)
	require.Equal(t, []string{"member", "subscriber"}, p.Roles, "from cognito:groups via the mapping")
	require.Equal(t, map[string]string{"tier": "silver", "region": "emea", "verified": "true"}, p.Segments)

	recs := f.auditor.records()
	require.Len(t, recs, 1)
	require.Equal(t, auth.ActionLogin, recs[0].Action)
	require.Equal(t, "user-1", recs[0].Actor)
	require.Equal(t, "user:user-1", recs[0].Object)
	require.Equal(t, "true", recs[0].Details["created"])
	require.Equal(t, "Google", recs[0].Details["provider"])
	require.Equal(t, "id", recs[0].Details["token_use"])
	require.Equal(t, f.clk.Now(), recs[0].Time)
	require.NotEmpty(t, recs[0].Key)

	// Admin-granted roles and the stored profile join in (after the principal TTL).
	require.NoError(t, f.users.GrantRole(ctx, "user-1", "editor"))
	require.NoError(t, f.users.UpdateProfile(ctx, "user-1", map[string]string{"tier": "gold", "team": "blue"}))
	same := f.is.Sign(claims)
	p, err = f.svc.Authenticate(ctx, same)
	require.NoError(t, err)
	require.Equal(t, []string{"member", "subscriber"}, p.Roles, "cached for the same token")
	f.clk.Advance(auth.DefaultPrincipalTTL)
	// Past the TTL, the cached principal answers once more while a fresh one
	// is resolved in the background; the requests after that get it.
	p, err = f.svc.Authenticate(ctx, same)
	require.NoError(t, err)
	require.Equal(t, []string{"member", "subscriber"}, p.Roles, "stale, refreshing")
	require.Eventually(t, func() bool {
		p, err = f.svc.Authenticate(ctx, same)
		return err == nil && len(p.Roles) == 3
	}, 10*time.Second, time.Millisecond)
	require.Equal(t, []string{"editor", "member", "subscriber"}, p.Roles)
	require.Equal(t, map[string]string{"tier": "gold", "region": "emea", "verified": "true", "team": "blue"}, p.Segments,
		"the stored profile overrides claim-mapped segments")
	require.Len(t, f.auditor.records(), 1, "one sign-in, one audit record")
}

func TestSessionsAndRefreshes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	first := f.is.IDClaims(ana)
	_, err := f.svc.Authenticate(ctx, f.is.Sign(first))
	require.NoError(t, err)
	require.Equal(t, 1, f.users.count("ProvisionUser"))

	// A refreshed token of the same sign-in (same origin_jti, new jti): no new
	// login, no provisioning, a plain lookup.
	f.clk.Advance(50 * time.Minute)
	refreshed := f.is.IDClaims(ana)
	refreshed["origin_jti"] = first["origin_jti"]
	p, err := f.svc.Authenticate(ctx, f.is.Sign(refreshed))
	require.NoError(t, err)
	require.Equal(t, "user-1", p.User.ID)
	require.Equal(t, 1, f.users.count("ProvisionUser"))
	require.Equal(t, 1, f.users.count("UserByIdentity"))
	require.Len(t, f.auditor.records(), 1)

	// An access token of the same user maps to the same user.
	p, err = f.svc.Authenticate(ctx, f.is.AccessToken(ana))
	require.NoError(t, err)
	require.Equal(t, "user-1", p.User.ID)

	// A new sign-in (new origin_jti) is a login again, of an existing user.
	_, err = f.svc.Authenticate(ctx, f.is.IDToken(ana))
	require.NoError(t, err)
	recs := f.auditor.records()
	require.Len(t, recs, 3, "first sign-in, the access token's sign-in, the new sign-in")
	require.Equal(t, "false", recs[2].Details["created"])
	require.NotEqual(t, recs[0].Key, recs[2].Key)

	// A different person is a different user.
	p, err = f.svc.Authenticate(ctx, f.is.IDToken(authtest.User{Provider: "SignInWithApple", Email: "bo@example.org"}))
	require.NoError(t, err)
	require.Equal(t, "user-2", p.User.ID)
	require.Equal(t, auth.ProviderApple, p.Identity.Provider)
}

func TestConcurrentFirstSignIn(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	claims := f.is.IDClaims(ana)
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		tok := f.is.Sign(claims) // distinct signatures are not needed: PKCS#1 v1.5 is deterministic, the cache key is the token
		wg.Go(func() {
			p, err := f.svc.Authenticate(ctx, tok)
			if err == nil {
				ids[i] = p.User.ID
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, "user-1", id)
	}
	require.Len(t, f.users.users, 1)
	for _, r := range f.auditor.records() {
		require.Equal(t, f.auditor.records()[0].Key, r.Key, "duplicates of one sign-in share the key")
	}
}

func TestAuthenticateFailures(t *testing.T) {
	ctx := context.Background()

	t.Run("disabled user", func(t *testing.T) {
		f := newFixture(t, nil)
		_, err := f.svc.Authenticate(ctx, f.is.IDToken(ana))
		require.NoError(t, err)
		f.users.disable("user-1", f.clk.Now())
		f.clk.Advance(auth.DefaultPrincipalTTL)
		_, err = f.svc.Authenticate(ctx, f.is.IDToken(ana))
		require.ErrorIs(t, err, auth.ErrUserDisabled)
	})
	t.Run("disabled while cached", func(t *testing.T) {
		f := newFixture(t, nil)
		tok := f.is.IDToken(ana)
		_, err := f.svc.Authenticate(ctx, tok)
		require.NoError(t, err)
		f.users.disable("user-1", f.clk.Now())
		_, err = f.svc.Authenticate(ctx, tok)
		require.NoError(t, err, "fresh: cached")
		f.clk.Advance(auth.DefaultPrincipalTTL)
		_, err = f.svc.Authenticate(ctx, tok)
		require.NoError(t, err, "stale: answered while the refresh runs")
		require.Eventually(t, func() bool {
			_, err = f.svc.Authenticate(ctx, tok)
			return errors.Is(err, auth.ErrUserDisabled)
		}, 10*time.Second, time.Millisecond, "the refresh dropped the principal of a disabled user")
	})
	t.Run("unused for twice the TTL: resolved before answering", func(t *testing.T) {
		f := newFixture(t, nil)
		tok := f.is.IDToken(ana)
		_, err := f.svc.Authenticate(ctx, tok)
		require.NoError(t, err)
		f.users.disable("user-1", f.clk.Now())
		f.clk.Advance(2 * auth.DefaultPrincipalTTL)
		_, err = f.svc.Authenticate(ctx, tok)
		require.ErrorIs(t, err, auth.ErrUserDisabled)
	})
	t.Run("invalid token never reaches the store", func(t *testing.T) {
		f := newFixture(t, nil)
		c := f.is.IDClaims(ana)
		c["exp"] = f.clk.Now().Add(-time.Hour).Unix()
		_, err := f.svc.Authenticate(ctx, f.is.Sign(c))
		require.ErrorIs(t, err, auth.ErrExpired)
		require.Zero(t, f.users.count("ProvisionUser")+f.users.count("UserByIdentity"))
	})
	t.Run("store down", func(t *testing.T) {
		f := newFixture(t, nil)
		f.users.setFail(errors.New("connection refused"))
		_, err := f.svc.Authenticate(ctx, f.is.IDToken(ana))
		require.ErrorIs(t, err, auth.ErrUnavailable)
		require.ErrorContains(t, err, "connection refused")
		require.Empty(t, f.auditor.records())
	})
	t.Run("audit down: refused, and audited on the next try", func(t *testing.T) {
		f := newFixture(t, nil)
		tok := f.is.IDToken(ana)
		f.auditor.setFail(errors.New("outbox full"))
		_, err := f.svc.Authenticate(ctx, tok)
		require.ErrorIs(t, err, auth.ErrUnavailable)
		f.auditor.setFail(nil)
		p, err := f.svc.Authenticate(ctx, tok)
		require.NoError(t, err)
		require.Equal(t, "user-1", p.User.ID)
		require.Len(t, f.auditor.records(), 1)
	})
	t.Run("no principal cache", func(t *testing.T) {
		f := newFixture(t, &auth.Options{PrincipalTTL: -1})
		tok := f.is.IDToken(ana)
		for range 3 {
			_, err := f.svc.Authenticate(ctx, tok)
			require.NoError(t, err)
		}
		require.Equal(t, 3, f.users.count("UserRoles"))
	})
}

func TestNewServiceNeedsDependencies(t *testing.T) {
	v, err := auth.NewVerifier([]auth.Issuer{auth.GoogleIssuer("c")}, nil)
	require.NoError(t, err)
	_, err = auth.New(nil, newFakeUsers(), &fakeAuditor{}, nil)
	require.ErrorIs(t, err, auth.ErrInvalid)
	_, err = auth.New(v, nil, &fakeAuditor{}, nil)
	require.ErrorIs(t, err, auth.ErrInvalid)
	_, err = auth.New(v, newFakeUsers(), nil, nil)
	require.ErrorIs(t, err, auth.ErrInvalid)
	_, err = auth.New(v, newFakeUsers(), &fakeAuditor{}, nil)
	require.NoError(t, err)
}

// TestCloseWaitsForBackgroundWork: Close waits for a principal refresh that
// is in the user store (so the store, closed after it, outlives it), and
// starts no refresh after: a stale principal answers without one.
func TestCloseWaitsForBackgroundWork(t *testing.T) {
	ctx := context.Background()
	rec := &audienceLog{}
	f := newFixture(t, &auth.Options{Audiences: rec})
	tok := f.is.IDToken(ana)
	_, err := f.svc.Authenticate(ctx, tok)
	require.NoError(t, err)
	auth.WaitAudiences(f.svc)
	require.NoError(t, f.users.GrantRole(ctx, "user-1", "editor"))

	entered, release := f.users.holdLookups()
	f.clk.Advance(auth.DefaultPrincipalTTL)
	_, err = f.svc.Authenticate(ctx, tok)
	require.NoError(t, err, "stale: answered while the refresh runs")
	<-entered // the refresh is in the store
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, f.svc.Close(short), context.DeadlineExceeded, "the refresh is still in the store")
	release()
	require.NoError(t, f.svc.Close(ctx))
	lookups := f.users.count("UserByIdentity")
	require.Equal(t, 1, lookups, "the refresh ran to its end")
	require.Len(t, rec.list(), 2, "and its new audience (the granted role) was written before Close returned")

	f.clk.Advance(auth.DefaultPrincipalTTL)
	p, err := f.svc.Authenticate(ctx, tok)
	require.NoError(t, err, "stale after Close: still answered")
	require.Equal(t, []string{"editor"}, p.Roles, "the principal the refresh resolved")
	require.NoError(t, f.svc.Close(ctx), "Close again")
	require.Equal(t, lookups, f.users.count("UserByIdentity"), "no refresh after Close")
	f.clk.Advance(2 * auth.DefaultPrincipalTTL)
	_, err = f.svc.Authenticate(ctx, tok)
	require.NoError(t, err, "expired after Close: resolved before answering")
	require.Equal(t, lookups+1, f.users.count("UserByIdentity"))
	require.Len(t, rec.list(), 2, "no audience write after Close")
}

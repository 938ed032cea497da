package hubspot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/hubspot"
	"github.com/vidlib/vidlib/hubspot/hubspottest"
)

func newTokens(t *testing.T, fx *fixture, store hubspot.TokenStore) *hubspot.Tokens {
	t.Helper()
	tk, err := hubspot.NewTokens(fx.c, &hubspot.TokensOptions{Store: store, Clock: fx.clock,
		AgentContext: func(u string) map[string]string { return map[string]string{"appUserId": u, "source": "vidlib"} }})
	require.NoError(t, err)
	return tk
}

// TestTokensMintedOnceAndReused: the first request mints, the next ones
// reuse, until RefreshBefore the 12 h expiry; then one new token is minted.
func TestTokensMintedOnceAndReused(t *testing.T) {
	fx := setup(t, nil, nil)
	tk := newTokens(t, fx, nil)
	ctx := context.Background()
	first, firstExp, err := tk.IdentificationToken(ctx, "u1", "ana@example.org", "Ana Reyes")
	require.NoError(t, err)
	require.Equal(t, t0.Add(12*time.Hour), firstExp)
	issued := fx.fake.TokensFor("ana@example.org")
	require.Len(t, issued, 1)
	require.Equal(t, "Ana", issued[0].FirstName)
	require.Equal(t, "Reyes", issued[0].LastName)
	require.Equal(t, map[string]string{"appUserId": "u1", "source": "vidlib"}, issued[0].AgentContext)

	fx.clock.Advance(10*time.Hour + 59*time.Minute)
	again, _, err := tk.IdentificationToken(ctx, "u1", "ana@example.org", "Ana Reyes")
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Len(t, fx.fake.TokensFor("ana@example.org"), 1)

	fx.clock.Advance(time.Minute) // 11 h: within an hour of the expiry
	fresh, freshExp, err := tk.IdentificationToken(ctx, "u1", "ana@example.org", "Ana Reyes")
	require.NoError(t, err)
	require.NotEqual(t, first, fresh)
	require.Equal(t, t0.Add(23*time.Hour), freshExp)
	require.Len(t, fx.fake.TokensFor("ana@example.org"), 2)

	// A changed email is a different identity: a new token.
	_, _, err = tk.IdentificationToken(ctx, "u1", "ana.reyes@example.org", "Ana Reyes")
	require.NoError(t, err)
	require.Len(t, fx.fake.TokensFor("ana.reyes@example.org"), 1)

	_, _, err = tk.IdentificationToken(ctx, "u2", "", "")
	require.ErrorIs(t, err, hubspot.ErrInvalidArgument)
}

// TestTokensOneCallPerUser: concurrent requests on several "instances"
// (Tokens sharing one store) mint one token per user.
func TestTokensOneCallPerUser(t *testing.T) {
	fx := setup(t, nil, nil)
	store := hubspot.NewMemoryTokenStore(fx.clock)
	instances := []*hubspot.Tokens{newTokens(t, fx, store), newTokens(t, fx, store), newTokens(t, fx, store)}
	users := []string{"a@example.org", "b@example.org", "c@example.org"}
	var wg sync.WaitGroup
	got := make(chan string, 300)
	for i := range 300 {
		wg.Go(func() {
			email := users[i%len(users)]
			tok, _, err := instances[i%len(instances)].IdentificationToken(context.Background(), email, email, "")
			if err == nil {
				got <- email + "=" + tok
			}
		})
	}
	wg.Wait()
	close(got)
	distinct := map[string]bool{}
	n := 0
	for g := range got {
		distinct[g] = true
		n++
	}
	require.Equal(t, 300, n)
	require.Len(t, distinct, 3, "every caller of a user got the same token")
	require.Equal(t, 3, fx.fake.Calls(hubspottest.OpVisitorToken))
}

// TestTokensFailFastAndRemember: a HubSpot outage costs the caller its own
// deadline at most, and one call per user per FailureTTL.
func TestTokensFailFastAndRemember(t *testing.T) {
	fx := setup(t, nil, &hubspot.Options{MaxAttempts: 1})
	tk := newTokens(t, fx, nil)
	fx.fake.FailAlways(hubspottest.Fault{Status: 500})
	_, _, err := tk.IdentificationToken(context.Background(), "u1", "ana@example.org", "")
	require.ErrorIs(t, err, hubspot.ErrServer)
	_, _, err = tk.IdentificationToken(context.Background(), "u1", "ana@example.org", "")
	require.ErrorIs(t, err, hubspot.ErrServer)
	require.Equal(t, 1, fx.fake.Calls(hubspottest.OpVisitorToken), "the failure is remembered")
	fx.fake.Recover()
	fx.clock.Advance(hubspot.DefaultFailureTTL)
	_, _, err = tk.IdentificationToken(context.Background(), "u1", "ana@example.org", "")
	require.NoError(t, err)

	fx.fake.FailAlways(hubspottest.Fault{Delay: 3 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = tk.IdentificationToken(ctx, "u2", "bo@example.org", "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), time.Second)
}

func TestContactUpdaterDebounces(t *testing.T) {
	fx := setup(t, nil, nil)
	ctx := context.Background()
	require.NoError(t, fx.c.EnsureContactProperties(ctx, hubspot.ContactProperties))
	require.NoError(t, fx.c.EnsureContactProperties(ctx, hubspot.ContactProperties), "existing properties are fine")
	u := hubspot.NewContactUpdater(fx.c, &hubspot.UpdaterOptions{Debounce: time.Hour})
	rctx, stop := context.WithCancel(ctx)
	go u.Run(rctx)
	for _, v := range []string{"v1", "v2", "v3"} {
		u.Update("ana@example.org", map[string]string{hubspot.PropLastVideoID: v, hubspot.PropLastFolder: "Onboarding"})
	}
	u.Update("bo@example.org", map[string]string{hubspot.PropLastVideoID: "v9"})
	require.Equal(t, 0, fx.fake.Calls(hubspottest.OpContactUpsert), "nothing before the debounce")
	stop()
	u.Wait()
	require.Equal(t, 1, fx.fake.Calls(hubspottest.OpContactUpsert), "one batch for both contacts")
	c, ok := fx.fake.Contact("ana@example.org")
	require.True(t, ok)
	require.Equal(t, "v3", c.Properties[hubspot.PropLastVideoID])
	require.Equal(t, "Onboarding", c.Properties[hubspot.PropLastFolder])
	st := u.Stats()
	require.EqualValues(t, 2, st.Sent)
	require.EqualValues(t, 2, st.Coalesced)
}

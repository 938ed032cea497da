package hubspot_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/hubspot"
	"github.com/vidlib/vidlib/hubspot/hubspottest"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	fake  *hubspottest.Server
	clock *hubspottest.VirtualClock
	c     *hubspot.Client
}

func setup(t *testing.T, fo *hubspottest.Options, co *hubspot.Options) *fixture {
	t.Helper()
	clock := hubspottest.NewVirtualClock(t0)
	var f hubspottest.Options
	if fo != nil {
		f = *fo
	}
	f.Clock = clock
	fake := hubspottest.New(&f)
	t.Cleanup(fake.Close)
	var o hubspot.Options
	if co != nil {
		o = *co
	}
	o.BaseURL, o.Clock, o.Seed = fake.URL, clock, 7
	c, err := hubspot.New(fake.Token(), &o)
	require.NoError(t, err)
	return &fixture{fake: fake, clock: clock, c: c}
}

func TestCreateVisitorToken(t *testing.T) {
	fx := setup(t, nil, nil)
	ctx := context.Background()
	tok, err := fx.c.CreateVisitorToken(ctx, hubspot.VisitorRequest{Email: "ana@example.org", FirstName: "Ana", LastName: "Reyes",
		AgentContext: map[string]string{"appUserId": "u1"}})
	require.NoError(t, err)
	require.NotEmpty(t, tok.Token)
	require.Equal(t, t0, tok.IssuedAt)
	require.Equal(t, t0.Add(12*time.Hour), tok.ExpiresAt)
	issued := fx.fake.TokensFor("ana@example.org")
	require.Len(t, issued, 1)
	require.Equal(t, tok.Token, issued[0].Token)
	require.Equal(t, "Ana", issued[0].FirstName)
	require.Equal(t, map[string]string{"appUserId": "u1"}, issued[0].AgentContext)

	again, err := fx.c.CreateVisitorToken(ctx, hubspot.VisitorRequest{Email: "ana@example.org"})
	require.NoError(t, err)
	require.NotEqual(t, tok.Token, again.Token, "HubSpot mints a new token on every call")

	_, err = fx.c.CreateVisitorToken(ctx, hubspot.VisitorRequest{Email: "not an email"})
	require.ErrorIs(t, err, hubspot.ErrInvalidArgument)
	require.Equal(t, 2, fx.fake.Calls(hubspottest.OpVisitorToken), "an invalid email is never sent")
}

// TestClientErrors4xx: HubSpot's 4xx envelopes become typed errors whose
// text says what HubSpot said; none is retried.
func TestClientErrors4xx(t *testing.T) {
	ctx := context.Background()
	req := hubspot.VisitorRequest{Email: "ana@example.org"}

	t.Run("wrong token", func(t *testing.T) {
		fx := setup(t, nil, nil)
		c, err := hubspot.New("pat-wrong", &hubspot.Options{BaseURL: fx.fake.URL, Clock: fx.clock})
		require.NoError(t, err)
		_, err = c.CreateVisitorToken(ctx, req)
		require.ErrorIs(t, err, hubspot.ErrUnauthorized)
		var ae *hubspot.APIError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, hubspot.CategoryInvalidAuthentication, ae.Category)
		require.NotEmpty(t, ae.CorrelationID)
		require.Contains(t, err.Error(), "INVALID_AUTHENTICATION")
		require.Equal(t, "unauthorized", ae.Code())
		require.Equal(t, 1, fx.fake.Calls(hubspottest.OpVisitorToken))
	})
	t.Run("missing scope", func(t *testing.T) {
		fx := setup(t, &hubspottest.Options{Scopes: []string{hubspottest.ScopeContactsWrite}}, nil)
		_, err := fx.c.CreateVisitorToken(ctx, req)
		require.ErrorIs(t, err, hubspot.ErrMissingScopes)
		require.ErrorIs(t, err, hubspot.ErrForbidden)
		require.Contains(t, err.Error(), "requiredGranularScopes="+hubspottest.ScopeVisitorTokens)
	})
	t.Run("below professional", func(t *testing.T) {
		fx := setup(t, &hubspottest.Options{BelowProfessional: true}, nil)
		_, err := fx.c.CreateVisitorToken(ctx, req)
		require.ErrorIs(t, err, hubspot.ErrForbidden)
		require.NotErrorIs(t, err, hubspot.ErrMissingScopes)
		require.Contains(t, err.Error(), "Professional")
		require.Equal(t, 1, fx.fake.Calls(hubspottest.OpVisitorToken))
	})
	t.Run("unknown property", func(t *testing.T) {
		fx := setup(t, nil, nil)
		err := fx.c.UpsertContacts(ctx, []hubspot.ContactUpdate{{Email: "ana@example.org", Properties: map[string]string{"nope": "x"}}})
		require.ErrorIs(t, err, hubspot.ErrValidation)
		var ae *hubspot.APIError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, "PROPERTY_DOESNT_EXIST", ae.Errors[0].Code)
		require.Equal(t, []string{"nope"}, ae.Errors[0].Context["propertyName"])
	})
}

// TestRateLimitStorm: many concurrent callers against a small burst limit
// all get their token, and the fake never counts more than its limit in any
// rolling window: the client paces itself and backs off.
func TestRateLimitStorm(t *testing.T) {
	for _, tc := range []struct {
		name string
		fo   hubspottest.Options
	}{
		{"headers", hubspottest.Options{Burst: 10}},
		{"no headers", hubspottest.Options{Burst: 10, OmitRateHeaders: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := setup(t, &tc.fo, &hubspot.Options{BurstPer10s: 10, MaxRateLimitWaits: 50})
			var wg sync.WaitGroup
			errs := make(chan error, 60)
			for range 60 {
				wg.Go(func() {
					_, err := fx.c.CreateVisitorToken(context.Background(), hubspot.VisitorRequest{Email: "ana@example.org"})
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			st := fx.fake.Stats()
			require.LessOrEqual(t, st.MaxInWindow, 10, "never more than the limit in a window")
			require.Len(t, fx.fake.Tokens(), 60)
			require.GreaterOrEqual(t, fx.clock.Now().Sub(t0), 50*time.Second, "60 calls at 10 per 10 s take at least 50 s")
		})
	}
}

// TestRateLimit429: a ten-secondly 429 is sat out for about one interval
// (jittered; Retry-After wins when sent) and retried; a daily 429 is not
// retried; both 429 bodies (errorType and category) are understood.
func TestRateLimit429(t *testing.T) {
	ctx := context.Background()
	req := hubspot.VisitorRequest{Email: "ana@example.org"}
	t.Run("ten secondly", func(t *testing.T) {
		fx := setup(t, nil, nil)
		fx.fake.FailNext(hubspottest.Fault{Status: 429}, hubspottest.Fault{Status: 429})
		_, err := fx.c.CreateVisitorToken(ctx, req)
		require.NoError(t, err)
		require.Equal(t, 3, fx.fake.Calls(hubspottest.OpVisitorToken))
		require.GreaterOrEqual(t, fx.clock.Now().Sub(t0), 20*time.Second, "each 429 waits about one 10 s interval")
		require.EqualValues(t, 2, fx.c.Stats().RateLimited)
	})
	t.Run("retry after", func(t *testing.T) {
		fx := setup(t, &hubspottest.Options{RetryAfter: 3 * time.Second, RateLimitCategory: true}, nil)
		fx.fake.FailNext(hubspottest.Fault{Status: 429})
		_, err := fx.c.CreateVisitorToken(ctx, req)
		require.NoError(t, err)
		d := fx.clock.Now().Sub(t0)
		require.GreaterOrEqual(t, d, 3*time.Second)
		require.Less(t, d, 10*time.Second)
	})
	t.Run("gives up", func(t *testing.T) {
		fx := setup(t, nil, &hubspot.Options{MaxRateLimitWaits: 2})
		fx.fake.FailAlways(hubspottest.Fault{Status: 429})
		_, err := fx.c.CreateVisitorToken(ctx, req)
		require.ErrorIs(t, err, hubspot.ErrRateLimited)
		require.Equal(t, 3, fx.fake.Calls(hubspottest.OpVisitorToken))
		require.Equal(t, hubspot.BreakerState("closed"), fx.c.Stats().Breaker, "a 429 is an answer, not an outage")
	})
	t.Run("no time to wait", func(t *testing.T) {
		fx := setup(t, nil, nil)
		fx.fake.FailNext(hubspottest.Fault{Status: 429})
		_, err := fx.c.CreateVisitorToken(ctx, req) // sits the ban out: no deadline
		require.NoError(t, err)
		fx.fake.FailNext(hubspottest.Fault{Status: 429})
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err = fx.c.CreateVisitorToken(short, req)
		require.ErrorIs(t, err, hubspot.ErrRateLimited, "the 10 s ban outlasts the caller: not waited for")
		require.Equal(t, 3, fx.fake.Calls(hubspottest.OpVisitorToken))
		_, err = fx.c.CreateVisitorToken(short, req)
		var rl *hubspot.RateLimitError
		require.ErrorAs(t, err, &rl, "still banned: not even sent")
		require.Equal(t, "rate_limited", rl.Code())
		require.Equal(t, 3, fx.fake.Calls(hubspottest.OpVisitorToken))
	})
	t.Run("daily", func(t *testing.T) {
		fx := setup(t, nil, nil)
		fx.fake.FailNext(hubspottest.Fault{Status: 429, Policy: hubspottest.PolicyDaily})
		_, err := fx.c.CreateVisitorToken(ctx, req)
		require.ErrorIs(t, err, hubspot.ErrDailyLimit)
		require.ErrorIs(t, err, hubspot.ErrRateLimited)
		var ae *hubspot.APIError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, "daily_limit", ae.Code())
		require.Equal(t, 1, fx.fake.Calls(hubspottest.OpVisitorToken))
	})
}

// TestServerErrorsOpenTheBreaker: 5xx answers are retried with backoff,
// then fail; repeated failures open the breaker, which then fails at once
// without a request, until its cool-down lets a probe through.
func TestServerErrorsOpenTheBreaker(t *testing.T) {
	ctx := context.Background()
	req := hubspot.VisitorRequest{Email: "ana@example.org"}
	fx := setup(t, nil, &hubspot.Options{MaxAttempts: 2, Breaker: hubspot.BreakerOptions{Threshold: 4, Cooldown: time.Minute}})
	fx.fake.FailAlways(hubspottest.Fault{Status: 503})
	_, err := fx.c.CreateVisitorToken(ctx, req)
	require.ErrorIs(t, err, hubspot.ErrServer)
	require.Equal(t, 2, fx.fake.Calls(hubspottest.OpVisitorToken))
	_, err = fx.c.CreateVisitorToken(ctx, req)
	require.ErrorIs(t, err, hubspot.ErrServer)
	require.Equal(t, hubspot.BreakerState("open"), fx.c.Stats().Breaker)

	_, err = fx.c.CreateVisitorToken(ctx, req)
	require.ErrorIs(t, err, hubspot.ErrCircuitOpen)
	require.ErrorIs(t, err, hubspot.ErrUnavailable)
	require.Equal(t, 4, fx.fake.Calls(hubspottest.OpVisitorToken), "an open circuit sends nothing")

	fx.fake.Recover()
	fx.clock.Advance(time.Minute)
	_, err = fx.c.CreateVisitorToken(ctx, req)
	require.NoError(t, err, "the probe after the cool-down closes the circuit")
	require.Equal(t, hubspot.BreakerState("closed"), fx.c.Stats().Breaker)
}

func TestGarbledAnswers(t *testing.T) {
	ctx := context.Background()
	req := hubspot.VisitorRequest{Email: "ana@example.org"}
	fx := setup(t, nil, &hubspot.Options{MaxAttempts: 2})
	fx.fake.FailAlways(hubspottest.Fault{Truncated: true})
	_, err := fx.c.CreateVisitorToken(ctx, req)
	require.ErrorIs(t, err, hubspot.ErrBadResponse)
	require.Equal(t, 2, fx.fake.Calls(hubspottest.OpVisitorToken), "a cut body is retried")

	fx.fake.FailAlways(hubspottest.Fault{NonJSON: true})
	_, err = fx.c.CreateVisitorToken(ctx, req)
	require.ErrorIs(t, err, hubspot.ErrServer)
	require.Contains(t, err.Error(), "502 Bad Gateway")
}

// TestTimeout: a slow HubSpot costs the caller no more than its context.
func TestTimeout(t *testing.T) {
	fx := setup(t, nil, &hubspot.Options{MaxAttempts: 1})
	fx.fake.FailAlways(hubspottest.Fault{Delay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := fx.c.CreateVisitorToken(ctx, hubspot.VisitorRequest{Email: "ana@example.org"})
	require.Error(t, err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)

	c2, err := hubspot.New(fx.fake.Token(), &hubspot.Options{BaseURL: fx.fake.URL, AttemptTimeout: 50 * time.Millisecond, MaxAttempts: 1})
	require.NoError(t, err)
	_, err = c2.CreateVisitorToken(context.Background(), hubspot.VisitorRequest{Email: "ana@example.org"})
	var te *hubspot.TransportError
	require.ErrorAs(t, err, &te)
	require.Equal(t, "timeout", te.Code())
	require.ErrorIs(t, err, hubspot.ErrUnavailable)
}

func TestNewRejectsBadOptions(t *testing.T) {
	_, err := hubspot.New(" ", nil)
	require.ErrorIs(t, err, hubspot.ErrInvalidArgument)
	_, err = hubspot.New("x", &hubspot.Options{BaseURL: "ftp://x"})
	require.ErrorIs(t, err, hubspot.ErrInvalidArgument)
	_, err = hubspot.New("x", &hubspot.Options{BurstPer10s: -1})
	require.ErrorIs(t, err, hubspot.ErrInvalidArgument)
}

func TestErrorsIsTable(t *testing.T) {
	e := &hubspot.APIError{StatusCode: 404}
	require.True(t, errors.Is(e, hubspot.ErrNotFound))
	require.False(t, errors.Is(e, hubspot.ErrServer))
	require.Equal(t, "not_found", e.Code())
}

package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
)

// A hit returns the very Token stored by the verification that filled the
// cache; a miss verifies again and returns a new one.

func TestVerifyCacheHitAndMiss(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v := cognitoVerifier(t, clk, is, nil)
	tok := is.IDToken(ana)

	first, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, 1, auth.CachedTokens(v))
	again, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Same(t, first, again, "hit")

	other, err := v.Verify(ctx, is.IDToken(ana))
	require.NoError(t, err)
	require.NotSame(t, first, other, "another token of the same user is its own entry")
	require.Equal(t, 2, auth.CachedTokens(v))

	clk.Advance(auth.DefaultCacheTTL - time.Second)
	again, err = v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Same(t, first, again, "within CacheTTL")
	clk.Advance(time.Second)
	fresh, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	require.NotSame(t, first, fresh, "CacheTTL is over: verified again")
	require.Equal(t, first.Identity, fresh.Identity)
	again, err = v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Same(t, fresh, again, "and cached again")
	require.Equal(t, 1, is.JWKSFetches())

	off := cognitoVerifier(t, clk, is, &auth.VerifierOptions{CacheTTL: -1})
	a, err := off.Verify(ctx, tok)
	require.NoError(t, err)
	b, err := off.Verify(ctx, tok)
	require.NoError(t, err)
	require.NotSame(t, a, b, "a negative CacheTTL turns the cache off")
	require.Zero(t, auth.CachedTokens(off))
}

// TestVerifyCacheHonoursExpiry: a cached token expires at exp + ClockSkew,
// however long CacheTTL is, and the principal cache does not outlive it.
func TestVerifyCacheHonoursExpiry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &auth.Options{PrincipalTTL: 3 * time.Hour})
	v := cognitoVerifier(t, f.clk, f.is, &auth.VerifierOptions{CacheTTL: 3 * time.Hour})
	svc, err := auth.New(v, f.users, f.auditor, &auth.Options{PrincipalTTL: 3 * time.Hour, Now: f.clk.Now})
	require.NoError(t, err)
	tok := f.is.IDToken(ana) // valid for an hour

	first, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	p, err := svc.Authenticate(ctx, tok)
	require.NoError(t, err)
	require.Same(t, first, p.Token, "the Service shares the Verifier's cache")

	f.clk.Advance(time.Hour + 30*time.Second) // past exp, within the skew
	again, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Same(t, first, again)
	again2, err := svc.Authenticate(ctx, tok)
	require.NoError(t, err)
	require.Same(t, p, again2)

	f.clk.Advance(31 * time.Second) // past exp + skew
	_, err = v.Verify(ctx, tok)
	require.ErrorIs(t, err, auth.ErrExpired)
	require.ErrorIs(t, err, auth.ErrInvalidToken)
	require.Zero(t, auth.CachedTokens(v), "the expired entry is dropped")
	_, err = v.Verify(ctx, tok)
	require.ErrorIs(t, err, auth.ErrExpired, "and verifying it again fails the same way")
	_, err = svc.Authenticate(ctx, tok)
	require.ErrorIs(t, err, auth.ErrExpired, "a cached principal does not outlive its token")
}

func TestVerifyCacheKeepsNoFailure(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	is.SetJWKSFault(http.StatusServiceUnavailable)
	v := cognitoVerifier(t, clk, is, nil)
	tok := is.IDToken(ana)
	_, err := v.Verify(ctx, tok)
	require.ErrorIs(t, err, auth.ErrKeysUnavailable)
	require.Zero(t, auth.CachedTokens(v))
	is.SetJWKSFault(0)
	clk.Advance(auth.DefaultRefreshGap)
	good, err := v.Verify(ctx, tok)
	require.NoError(t, err, "the failure was not remembered")
	require.Equal(t, 1, auth.CachedTokens(v))

	idKID, _ := is.SigningKeys()
	claims := is.IDClaims(ana)
	expired := is.IDClaims(ana)
	expired["exp"] = clk.Now().Add(-time.Hour).Unix()
	for name, bad := range map[string]string{
		"tampered copy of a cached token": authtest.Tamper(tok, claims),
		"same claims, stranger's key":     authtest.SignRS256(testKeys(t)[3], idKID, claims),
		"expired":                         is.Sign(expired),
		"garbage":                         "a.b.c",
	} {
		for range 3 {
			_, err := v.Verify(ctx, bad)
			require.ErrorIs(t, err, auth.ErrInvalidToken, name)
		}
		require.Equal(t, 1, auth.CachedTokens(v), name)
	}
	again, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	require.Same(t, good, again)
}

func TestVerifyCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v := cognitoVerifier(t, clk, is, &auth.VerifierOptions{MaxCachedTokens: 3})
	toks := make([]string, 5)
	first := make([]*auth.Token, len(toks))
	for i := range toks {
		toks[i] = is.IDToken(ana)
		var err error
		first[i], err = v.Verify(ctx, toks[i])
		require.NoError(t, err)
		require.LessOrEqual(t, auth.CachedTokens(v), 3)
	}
	require.Equal(t, 3, auth.CachedTokens(v))
	for i := 2; i < 5; i++ {
		again, err := v.Verify(ctx, toks[i])
		require.NoError(t, err)
		require.Same(t, first[i], again, "token %d is among the newest three", i)
	}
	again, err := v.Verify(ctx, toks[0])
	require.NoError(t, err)
	require.NotSame(t, first[0], again, "the oldest made room")
	require.Equal(t, 3, auth.CachedTokens(v))

	_, err = auth.NewVerifier([]auth.Issuer{auth.GoogleIssuer("c")}, &auth.VerifierOptions{MaxCachedTokens: -1})
	require.ErrorIs(t, err, auth.ErrInvalid)
}

// TestVerifyCacheKeyWithdrawn: a hit re-checks that the token's key is still
// in the key set, so a withdrawn key stops working for cached tokens exactly
// when it stops working for new ones, however long CacheTTL is.
func TestVerifyCacheKeyWithdrawn(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v := cognitoVerifier(t, clk, is, &auth.VerifierOptions{CacheTTL: time.Hour, KeyMaxAge: 2 * time.Minute})
	oldKID, _ := is.SigningKeys()
	newKID := is.AddExistingKey(testKeys(t)[2])
	require.NoError(t, is.UseKey(newKID))
	oldTok := is.SignWithKey(oldKID, is.IDClaims(ana))
	newTok := is.IDToken(ana)
	oldFirst, err := v.Verify(ctx, oldTok)
	require.NoError(t, err)
	newFirst, err := v.Verify(ctx, newTok)
	require.NoError(t, err)
	require.Equal(t, 1, is.JWKSFetches())

	is.RemoveKey(oldKID)
	again, err := v.Verify(ctx, oldTok)
	require.NoError(t, err)
	require.Same(t, oldFirst, again, "the key set is not refreshed yet")

	clk.Advance(2*time.Minute + time.Second) // the key set is stale: the next use refreshes it
	require.Eventually(t, func() bool {
		_, err := v.Verify(ctx, oldTok)
		return errors.Is(err, auth.ErrUnknownKey)
	}, 5*time.Second, time.Millisecond, "the cached token's key was withdrawn")
	require.Equal(t, 2, is.JWKSFetches(), "the hit started the refresh")
	again, err = v.Verify(ctx, newTok)
	require.NoError(t, err)
	require.Same(t, newFirst, again, "a key still published keeps its tokens cached across a refresh")
}

// TestVerifyCacheConcurrent: many goroutines over more tokens than the cache
// holds, with the clock moving past CacheTTL; each gets its own token's
// identity back (run with -race).
func TestVerifyCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v := cognitoVerifier(t, clk, is, &auth.VerifierOptions{MaxCachedTokens: 4})
	type user struct{ tok, sub string }
	users := make([]user, 12)
	for i := range users {
		sub := fmt.Sprintf("sub-%02d", i)
		users[i] = user{is.IDToken(authtest.User{Subject: sub, Email: sub + "@example.org"}), sub}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 60 {
				u := users[(g*7+i)%len(users)]
				if i%3 == 0 {
					u = users[g] // some tokens are hot
				}
				tok, err := v.Verify(ctx, u.tok)
				if err != nil {
					t.Errorf("verify %s: %v", u.sub, err)
					return
				}
				if tok.Identity.Subject != u.sub {
					t.Errorf("token of %s came back as %s", u.sub, tok.Identity.Subject)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			clk.Advance(10 * time.Second)
			time.Sleep(time.Millisecond)
		}
	})
	wg.Wait()
	require.LessOrEqual(t, auth.CachedTokens(v), 4)
}

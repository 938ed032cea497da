package auth_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
)

var ana = authtest.User{Provider: "Google", Email: "ana@example.org", EmailVerified: true, Name: "Ana Reyes",
	Groups: []string{"premium"}}

func TestVerifyValidTokens(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v := cognitoVerifier(t, clk, is, nil)

	id, err := v.Verify(ctx, is.IDToken(ana))
	require.NoError(t, err)
	require.Equal(t, is.URL(), id.Identity.Issuer)
	require.NotEmpty(t, id.Identity.Subject)
	require.Equal(t, auth.ProviderGoogle, id.Identity.Provider)
	require.Equal(t, "ana@example.org", id.Identity.Email)
	require.True(t, id.Identity.EmailVerified)
	require.Equal(t, auth.UseID, id.Use)
	require.Equal(t, auth.Cognito, id.Kind)
	require.Equal(t, is.ClientID(), id.ClientID)
	require.Equal(t, []string{"premium", is.PoolID() + "_Google"}, id.Groups)
	require.True(t, strings.HasPrefix(id.Username, "Google_"))
	require.Equal(t, "Ana Reyes", id.Name)
	require.Equal(t, clk.Now().Add(time.Hour), id.Expiry)
	require.NotEmpty(t, id.Session)
	require.Equal(t, 1, is.DiscoveryFetches(), "the key set is found by discovery")
	require.Equal(t, 1, is.JWKSFetches())

	access, err := v.Verify(ctx, is.AccessToken(ana))
	require.NoError(t, err, "access tokens are signed with the pool's other key, fetched with the first")
	require.Equal(t, auth.UseAccess, access.Use)
	require.Equal(t, id.Identity.Subject, access.Identity.Subject)
	require.Equal(t, auth.ProviderGoogle, access.Identity.Provider, "from the username prefix")
	require.Empty(t, access.Identity.Email)
	require.Equal(t, 1, is.JWKSFetches())

	apple, err := v.Verify(ctx, is.IDToken(authtest.User{Provider: "SignInWithApple", Email: "x@privaterelay.appleid.com"}))
	require.NoError(t, err)
	require.Equal(t, auth.ProviderApple, apple.Identity.Provider)
	native, err := v.Verify(ctx, is.IDToken(authtest.User{Email: "local@example.org"}))
	require.NoError(t, err)
	require.Equal(t, auth.ProviderCognito, native.Identity.Provider)
	require.Equal(t, 1, is.JWKSFetches())
}

// TestVerifyRejects covers each way a token can be wrong; every case also
// states how many key set fetches it may cause (garbage must cause none).
func TestVerifyRejects(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v := cognitoVerifier(t, clk, is, nil)
	_, err := v.Verify(ctx, is.IDToken(ana)) // warm: one fetch
	require.NoError(t, err)
	require.Equal(t, 1, is.JWKSFetches())

	idKID, _ := is.SigningKeys()
	stranger := testKeys(t)[3]
	now := clk.Now()
	with := func(base map[string]any, changes map[string]any, drop ...string) map[string]any {
		c := maps.Clone(base)
		maps.Copy(c, changes)
		for _, k := range drop {
			delete(c, k)
		}
		return c
	}
	idc, acc := is.IDClaims(ana), is.AccessClaims(ana)
	tests := []struct {
		name    string
		token   string
		want    error // nil: accepted
		fetches int   // key set fetches this case may cause
	}{
		{"expired beyond the skew", is.Sign(with(idc, map[string]any{"exp": now.Add(-61 * time.Second).Unix()})), auth.ErrExpired, 0},
		{"expired within the skew", is.Sign(with(idc, map[string]any{"exp": now.Add(-30 * time.Second).Unix()})), nil, 0},
		{"no exp", is.Sign(with(idc, nil, "exp")), auth.ErrExpired, 0},
		{"nbf in the future", is.Sign(with(idc, map[string]any{"nbf": now.Add(5 * time.Minute).Unix()})), auth.ErrNotYetValid, 0},
		{"nbf within the skew", is.Sign(with(idc, map[string]any{"nbf": now.Add(30 * time.Second).Unix()})), nil, 0},
		{"issued in the future", is.Sign(with(idc, map[string]any{"iat": now.Add(10 * time.Minute).Unix()})), auth.ErrNotYetValid, 0},
		{"other pool", is.Sign(with(idc, map[string]any{"iss": strings.Replace(is.URL(), is.PoolID(), "eu-west-1_OTHER", 1)})), auth.ErrWrongIssuer, 0},
		{"trailing slash on iss", is.Sign(with(idc, map[string]any{"iss": is.URL() + "/"})), auth.ErrWrongIssuer, 0},
		{"https instead of http", is.Sign(with(idc, map[string]any{"iss": strings.Replace(is.URL(), "http://", "https://", 1)})), auth.ErrWrongIssuer, 0},
		{"no iss", is.Sign(with(idc, nil, "iss")), auth.ErrWrongIssuer, 0},
		{"wrong aud", is.Sign(with(idc, map[string]any{"aud": "someone-else"})), auth.ErrWrongAudience, 0},
		{"aud array containing ours", is.Sign(with(idc, map[string]any{"aud": []string{"x", is.ClientID()}})), nil, 0},
		{"wrong client_id", is.Sign(with(acc, map[string]any{"client_id": "someone-else"})), auth.ErrWrongAudience, 0},
		{"access token with our aud but no client_id", is.Sign(with(acc, map[string]any{"aud": is.ClientID()}, "client_id")), auth.ErrWrongAudience, 0},
		{"ID token claiming to be an access token", is.Sign(with(idc, map[string]any{"token_use": "access"})), auth.ErrWrongAudience, 0},
		{"unknown token_use", is.Sign(with(idc, map[string]any{"token_use": "refresh"})), auth.ErrWrongTokenUse, 0},
		{"no token_use", is.Sign(with(idc, nil, "token_use")), auth.ErrWrongTokenUse, 0},
		{"no sub", is.Sign(with(idc, nil, "sub")), auth.ErrMalformed, 0},
		{"alg none", authtest.SignNone(idKID, idc), auth.ErrUnsupportedAlg, 0},
		{"HS256 with the public key as secret", authtest.SignHS256(is.PublicKeyPEM(idKID), idKID, idc), auth.ErrUnsupportedAlg, 0},
		{"tampered payload", authtest.Tamper(is.IDToken(ana), with(idc, map[string]any{"cognito:groups": []string{"admin"}})), auth.ErrBadSignature, 0},
		{"known kid, stranger's key", authtest.SignRS256(stranger, idKID, idc), auth.ErrBadSignature, 0},
		{"unknown kid", authtest.SignRS256(stranger, "forged+kid/1=", idc), auth.ErrUnknownKey, 0}, // rate-limited: the warm-up fetch was just now
		{"no kid", authtest.SignRS256(stranger, "", idc), auth.ErrMalformed, 0},
		{"two parts", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0", auth.ErrMalformed, 0},
		{"not base64", "!!!.???.***", auth.ErrMalformed, 0},
		{"JSON serialization", `{"payload":"x","signatures":[]}`, auth.ErrMalformed, 0},
		{"oversized", strings.Repeat("a", auth.DefaultMaxTokenSize+1), auth.ErrMalformed, 0},
		{"empty", "", auth.ErrNoToken, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := is.JWKSFetches()
			tok, err := v.Verify(ctx, tc.token)
			if tc.want == nil {
				require.NoError(t, err)
				require.NotNil(t, tok)
			} else {
				require.ErrorIs(t, err, tc.want)
				require.ErrorIs(t, err, auth.ErrInvalidToken)
				require.Nil(t, tok)
			}
			require.Equal(t, before+tc.fetches, is.JWKSFetches(), "key set fetches")
		})
	}
}

func TestVerifyAccessOnly(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v := cognitoVerifier(t, clk, is, nil, auth.UseAccess)
	_, err := v.Verify(ctx, is.AccessToken(ana))
	require.NoError(t, err)
	_, err = v.Verify(ctx, is.IDToken(ana))
	require.ErrorIs(t, err, auth.ErrWrongTokenUse)
}

// TestKeyRotation: a new kid is fetched once; the old kid is accepted while the
// issuer still lists it and the cache is fresh; after removal it stops being
// accepted once the key set is refreshed (at the latest after KeyMaxAge).
func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v := cognitoVerifier(t, clk, is, nil)
	oldKID, _ := is.SigningKeys()

	_, err := v.Verify(ctx, is.IDToken(ana))
	require.NoError(t, err)
	require.Equal(t, 1, is.JWKSFetches())

	clk.Advance(10 * time.Minute)
	newKID := is.AddExistingKey(testKeys(t)[2])
	require.NoError(t, is.UseKey(newKID))
	for range 5 {
		_, err = v.Verify(ctx, is.IDToken(ana))
		require.NoError(t, err)
	}
	require.Equal(t, 2, is.JWKSFetches(), "the new kid is fetched once")
	_, err = v.Verify(ctx, is.SignWithKey(oldKID, is.IDClaims(ana)))
	require.NoError(t, err, "the old kid is still listed")

	is.RemoveKey(oldKID)
	_, err = v.Verify(ctx, is.SignWithKey(oldKID, is.IDClaims(ana)))
	require.NoError(t, err, "still cached: accepted until the key set is refreshed")
	require.Equal(t, 2, is.JWKSFetches())

	// After KeyMaxAge the next use refreshes the set in the background (the
	// cached key still serves meanwhile); then the withdrawn kid is refused.
	clk.Advance(auth.DefaultKeyMaxAge)
	oldTok := is.SignWithKey(oldKID, is.IDClaims(ana))
	require.Eventually(t, func() bool {
		_, err := v.Verify(ctx, oldTok)
		return errors.Is(err, auth.ErrUnknownKey)
	}, 5*time.Second, time.Millisecond, "removed from the issuer and the cache is refreshed")
	require.Equal(t, 3, is.JWKSFetches())
	_, err = v.Verify(ctx, is.IDToken(ana))
	require.NoError(t, err)
	require.Equal(t, 3, is.JWKSFetches())
}

// TestForgedKidFlood: a flood of tokens with unknown kids (all at once and over
// time) causes at most one key set fetch per refresh gap.
func TestForgedKidFlood(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v := cognitoVerifier(t, clk, is, &auth.VerifierOptions{KeyRefreshGap: 30 * time.Second})
	_, err := v.Verify(ctx, is.IDToken(ana))
	require.NoError(t, err)
	require.Equal(t, 1, is.JWKSFetches())

	stranger := testKeys(t)[3]
	claims := is.IDClaims(ana)
	forged := make([]string, 200)
	for i := range forged {
		forged[i] = authtest.SignRS256(stranger, "forged-"+string(rune('A'+i%26))+strings.Repeat("x", i), claims)
	}
	flood := func() {
		var wg sync.WaitGroup
		for _, tok := range forged {
			wg.Go(func() {
				_, err := v.Verify(ctx, tok)
				if !errors.Is(err, auth.ErrUnknownKey) {
					t.Errorf("forged token: got %v, want ErrUnknownKey", err)
				}
			})
		}
		wg.Wait()
	}
	flood()
	require.Equal(t, 1, is.JWKSFetches(), "within the gap after the warm-up fetch: no fetch at all")
	clk.Advance(31 * time.Second)
	flood()
	require.Equal(t, 2, is.JWKSFetches(), "after the gap: one fetch shared by 200 concurrent tokens")
	for range 10 {
		clk.Advance(10 * time.Second)
		flood()
	}
	require.Equal(t, 5, is.JWKSFetches(), "100 s of flooding with a 30 s gap: three more fetches")
}

func TestKeySetUnavailable(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	is.SetJWKSFault(http.StatusInternalServerError)
	v := cognitoVerifier(t, clk, is, nil)
	tok := is.IDToken(ana)
	_, err := v.Verify(ctx, tok)
	require.ErrorIs(t, err, auth.ErrKeysUnavailable)
	require.NotErrorIs(t, err, auth.ErrInvalidToken, "an outage is not the token's fault")
	require.Equal(t, 1, is.JWKSFetches())
	_, err = v.Verify(ctx, tok)
	require.ErrorIs(t, err, auth.ErrKeysUnavailable, "rate-limited, and still unavailable")
	require.Equal(t, 1, is.JWKSFetches())
	require.Error(t, v.Warm(ctx))

	is.SetJWKSFault(0)
	clk.Advance(2 * auth.DefaultRefreshGap)
	require.NoError(t, v.Warm(ctx))
	require.Equal(t, 2, is.JWKSFetches())
	_, err = v.Verify(ctx, tok)
	require.NoError(t, err)

	// A failed refresh keeps the keys it had.
	is.SetJWKSFault(http.StatusBadGateway)
	clk.Advance(auth.DefaultKeyMaxAge + time.Minute)
	_, err = v.Verify(ctx, is.IDToken(ana)) // starts the background refresh
	require.NoError(t, err)
	require.Eventually(t, func() bool { return is.JWKSFetches() == 3 }, 5*time.Second, time.Millisecond)
	for range 3 {
		_, err = v.Verify(ctx, is.IDToken(ana))
		require.NoError(t, err)
	}
	require.Equal(t, 3, is.JWKSFetches(), "the failed refresh is not retried within the gap")
}

func TestExplicitJWKSURLSkipsDiscovery(t *testing.T) {
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{is.ClientID()},
		JWKSURL: is.URL() + "/.well-known/jwks.json"}}, &auth.VerifierOptions{Now: clk.Now})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), is.IDToken(ana))
	require.NoError(t, err)
	require.Zero(t, is.DiscoveryFetches())
	require.Equal(t, 1, is.JWKSFetches())
}

func TestGoogleAndAppleDirect(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	jwks := is.URL() + "/.well-known/jwks.json"
	google := auth.GoogleIssuer("web.apps.googleusercontent.com", "android.apps.googleusercontent.com")
	google.JWKSURL = jwks
	apple := auth.AppleIssuer("com.example.web", "com.example.app")
	apple.JWKSURL = jwks
	v, err := auth.NewVerifier([]auth.Issuer{google, apple,
		{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{is.ClientID()}}}, &auth.VerifierOptions{Now: clk.Now})
	require.NoError(t, err)

	g := is.GoogleClaims(ana, "android.apps.googleusercontent.com")
	tok, err := v.Verify(ctx, is.Sign(g))
	require.NoError(t, err)
	require.Equal(t, auth.GoogleIssuerURL, tok.Identity.Issuer)
	require.Equal(t, auth.ProviderGoogle, tok.Identity.Provider)
	require.Equal(t, auth.Google, tok.Kind)

	g["iss"] = "accounts.google.com"
	schemeless, err := v.Verify(ctx, is.Sign(g))
	require.NoError(t, err, "Google's schemeless iss")
	require.Equal(t, tok.Identity, schemeless.Identity, "one identity whichever form iss takes")

	g["aud"] = "someone-else.apps.googleusercontent.com"
	_, err = v.Verify(ctx, is.Sign(g))
	require.ErrorIs(t, err, auth.ErrWrongAudience)

	for _, aud := range []string{"com.example.web", "com.example.app"} {
		a := is.AppleClaims(authtest.User{}, aud)
		require.Equal(t, "true", a["email_verified"], "Apple sends string booleans")
		tok, err := v.Verify(ctx, is.Sign(a))
		require.NoError(t, err, aud)
		require.Equal(t, auth.ProviderApple, tok.Identity.Provider)
		require.True(t, tok.Identity.EmailVerified)
		require.True(t, strings.HasSuffix(tok.Identity.Email, "@privaterelay.appleid.com"))
		require.Equal(t, "true", tok.Claims()["is_private_email"])
	}
	a := is.AppleClaims(authtest.User{Email: "bo@example.org"}, "com.example.web")
	a["email_verified"] = "false"
	tok, err = v.Verify(ctx, is.Sign(a))
	require.NoError(t, err)
	require.False(t, tok.Identity.EmailVerified)
	a["email_verified"] = "maybe"
	_, err = v.Verify(ctx, is.Sign(a))
	require.ErrorIs(t, err, auth.ErrMalformed)
	_, err = v.Verify(ctx, is.Sign(is.AppleClaims(authtest.User{}, "com.example.other")))
	require.ErrorIs(t, err, auth.ErrWrongAudience)

	// Cognito still works beside them; the three issuers each fetched their keys once.
	_, err = v.Verify(ctx, is.IDToken(ana))
	require.NoError(t, err)
	require.Equal(t, 3, is.JWKSFetches())
}

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	good := auth.Issuer{Kind: auth.Cognito, URL: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A", ClientIDs: []string{"c"}}
	bad := func(f func(*auth.Issuer)) []auth.Issuer {
		is := good
		f(&is)
		return []auth.Issuer{is}
	}
	for name, issuers := range map[string][]auth.Issuer{
		"none":             nil,
		"unknown kind":     bad(func(i *auth.Issuer) { i.Kind = "okta" }),
		"trailing slash":   bad(func(i *auth.Issuer) { i.URL += "/" }),
		"relative url":     bad(func(i *auth.Issuer) { i.URL = "cognito" }),
		"no client ids":    bad(func(i *auth.Issuer) { i.ClientIDs = nil }),
		"empty client id":  bad(func(i *auth.Issuer) { i.ClientIDs = []string{""} }),
		"bad jwks url":     bad(func(i *auth.Issuer) { i.JWKSURL = "ftp://x" }),
		"bad token use":    bad(func(i *auth.Issuer) { i.TokenUses = []auth.TokenUse{"refresh"} }),
		"token use google": {{Kind: auth.Google, URL: auth.GoogleIssuerURL, ClientIDs: []string{"c"}, TokenUses: []auth.TokenUse{auth.UseID}}},
		"duplicate":        {good, good},
	} {
		_, err := auth.NewVerifier(issuers, nil)
		require.ErrorIs(t, err, auth.ErrInvalid, name)
	}
	require.Equal(t, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json",
		auth.CognitoIssuer("eu-west-1", "eu-west-1_AbC123", "c").JWKSURL)
}

// FuzzVerify: whatever the input, Verify returns an invalid-token error (never
// a panic, never success) and never fetches keys for garbage.
func FuzzVerify(f *testing.F) {
	clk := newClock()
	is, err := authtest.Start(&authtest.Options{Now: clk.Now, Keys: testKeys(f)[:2]})
	if err != nil {
		f.Fatal(err)
	}
	defer is.Close()
	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{is.ClientID()}}},
		&auth.VerifierOptions{Now: clk.Now})
	if err != nil {
		f.Fatal(err)
	}
	valid := is.IDToken(ana)
	for _, s := range []string{"", "a.b.c", valid[:len(valid)-3], valid + "x", strings.ToUpper(valid), "..", "e30.e30.e30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if raw == valid {
			return
		}
		_, err := v.Verify(context.Background(), raw)
		if !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("Verify(%q) = %v, want an invalid-token error", raw, err)
		}
		if n := is.JWKSFetches(); n > 1 {
			t.Fatalf("garbage caused %d key set fetches", n)
		}
	})
}

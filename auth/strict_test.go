package auth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
)

// TestVerifyDecodesClaimsStrictly: claims are read by their exact names and
// registered types; a token that a lenient decoder would read differently is
// refused or grants nothing.
func TestVerifyDecodesClaimsStrictly(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	is := startIssuer(t, clk, nil)
	v := cognitoVerifier(t, clk, is, nil)
	now := clk.Now()
	with := func(changes map[string]any, drop ...string) map[string]any {
		c := maps.Clone(is.IDClaims(ana))
		maps.Copy(c, changes)
		for _, k := range drop {
			delete(c, k)
		}
		return c
	}

	t.Run("COGNITO:GROUPS grants nothing", func(t *testing.T) {
		tok, err := v.Verify(ctx, is.Sign(with(map[string]any{"COGNITO:GROUPS": []string{"admin"}}, "cognito:groups")))
		require.NoError(t, err)
		require.Empty(t, tok.Groups)
	})
	t.Run("ISS is not iss", func(t *testing.T) {
		_, err := v.Verify(ctx, is.Sign(with(map[string]any{"ISS": is.URL()}, "iss")))
		require.ErrorIs(t, err, auth.ErrWrongIssuer)
	})
	tests := []struct {
		name   string
		claims map[string]any
		want   error
	}{
		{"exp as a string", with(map[string]any{"exp": "4102444800"}), auth.ErrMalformed},
		{"iat as a string", with(map[string]any{"iat": now.Format(time.RFC3339)}), auth.ErrMalformed},
		{"sub as a number", with(map[string]any{"sub": 42}), auth.ErrMalformed},
		{"groups as a string", with(map[string]any{"cognito:groups": "admin"}), auth.ErrMalformed},
		{"groups with a number", with(map[string]any{"cognito:groups": []any{"a", 1}}), auth.ErrMalformed},
		{"NUL in sub", with(map[string]any{"sub": "abc\x00def"}), auth.ErrMalformed},
		{"sub over 255 bytes", with(map[string]any{"sub": strings.Repeat("a", 256)}), auth.ErrMalformed},
		{"NUL in email", with(map[string]any{"email": "a\x00@example.com"}), auth.ErrMalformed},
		{"NUL in a group", with(map[string]any{"cognito:groups": []string{"admin\x00"}}), auth.ErrMalformed},
		{"lifetime of two days", with(map[string]any{"iat": now.Unix(), "exp": now.Add(48 * time.Hour).Unix()}), auth.ErrLifetime},
		{"no iat, exp in a week", with(map[string]any{"exp": now.Add(7 * 24 * time.Hour).Unix()}, "iat"), auth.ErrLifetime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := v.Verify(ctx, is.Sign(tc.claims))
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, auth.ErrInvalidToken)
			require.Nil(t, tok)
		})
	}

	t.Run("a claim given twice", func(t *testing.T) {
		// Signed by the issuer's own key, so only the duplicate can be wrong.
		good := is.IDToken(ana)
		parts := strings.Split(good, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		dup := strings.Replace(string(payload), "{", `{"sub":"someone-else",`, 1)
		idKID, _ := is.SigningKeys()
		_, err = v.Verify(ctx, signRaw(t, idKID, payload)) // the control: as issued
		require.NoError(t, err)
		_, err = v.Verify(ctx, signRaw(t, idKID, []byte(dup)))
		require.ErrorIs(t, err, auth.ErrMalformed)
	})

	t.Run("lifetime limit is a setting", func(t *testing.T) {
		long := with(map[string]any{"iat": now.Unix(), "exp": now.Add(48 * time.Hour).Unix()})
		v := cognitoVerifier(t, clk, is, &auth.VerifierOptions{MaxTokenLifetime: 72 * time.Hour})
		_, err := v.Verify(ctx, is.Sign(long))
		require.NoError(t, err)
		v = cognitoVerifier(t, clk, is, &auth.VerifierOptions{MaxTokenLifetime: -1})
		_, err = v.Verify(ctx, is.Sign(long))
		require.NoError(t, err)
	})
}

// TestMiddlewareRefusesAmbiguousInput: a NUL in a claim and two Authorization
// headers are the client's fault (401), never an outage.
func TestMiddlewareRefusesAmbiguousInput(t *testing.T) {
	f := newFixture(t, nil)
	h := router(f.svc)
	nul := f.is.IDClaims(ana)
	nul["sub"] = "ana\x00"
	rec, body := do(t, h, "Bearer "+f.is.Sign(nul))
	require.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
	require.Equal(t, "invalid_token", body.Error.Code)

	req := httptest.NewRequest(http.MethodGet, "/me", nil)
	req.Header.Add("Authorization", "Bearer "+f.is.IDToken(ana))
	req.Header.Add("Authorization", "Bearer "+f.is.IDToken(ana))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.Equal(t, "invalid_token", body.Error.Code)
}

// signRaw signs a payload as is with the issuer's ID key (testKeys()[0]).
func signRaw(t *testing.T, kid string, payload []byte) string {
	t.Helper()
	hdr, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	require.NoError(t, err)
	input := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, testKeys(t)[0], crypto.SHA256, sum[:])
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

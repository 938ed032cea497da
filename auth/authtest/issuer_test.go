package authtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/auth/authtest"
)

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	return resp.StatusCode
}

func TestDiscoveryAndKeySet(t *testing.T) {
	is, err := authtest.Start(nil)
	require.NoError(t, err)
	defer is.Close()
	require.True(t, strings.HasSuffix(is.URL(), "/"+authtest.DefaultPoolID))

	var doc map[string]any
	require.Equal(t, 200, getJSON(t, is.URL()+"/.well-known/openid-configuration", &doc))
	require.Equal(t, is.URL(), doc["issuer"], "exactly the issuer, no trailing slash")
	require.Equal(t, is.URL()+"/.well-known/jwks.json", doc["jwks_uri"])
	require.Equal(t, []any{"RS256"}, doc["id_token_signing_alg_values_supported"])

	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	require.Equal(t, 200, getJSON(t, is.URL()+"/.well-known/jwks.json", &set))
	require.Len(t, set.Keys, 2, "one key for ID tokens, one for access tokens")
	idKID, accessKID := is.SigningKeys()
	require.NotEqual(t, idKID, accessKID)
	for _, k := range set.Keys {
		require.Equal(t, "RSA", k["kty"])
		require.Equal(t, "RS256", k["alg"])
		require.Equal(t, "sig", k["use"])
		require.True(t, strings.ContainsAny(k["kid"], "+") && strings.Contains(k["kid"], "/") && strings.HasSuffix(k["kid"], "="),
			"Cognito-like kid %q", k["kid"])
	}
	require.Equal(t, 1, is.JWKSFetches())
	require.Equal(t, 1, is.DiscoveryFetches())

	is.RemoveKey(idKID)
	require.Equal(t, 200, getJSON(t, is.URL()+"/.well-known/jwks.json", &set))
	require.Len(t, set.Keys, 1)
	is.SetJWKSFault(http.StatusBadGateway)
	require.Equal(t, http.StatusBadGateway, getJSON(t, is.URL()+"/.well-known/jwks.json", &set))
	require.Equal(t, 3, is.JWKSFetches())
	require.Equal(t, http.StatusNotFound, getJSON(t, is.URL()+"/dev/token", &doc), "no minting unless asked")
	require.Equal(t, http.StatusNotFound, getJSON(t, strings.TrimSuffix(is.URL(), "/"+is.PoolID())+"/other/.well-known/jwks.json", &doc))
}

// The issuer mounted under a prefix of another server, the way a demo binary
// would, with the minting endpoint on; its tokens verify.
func TestMountedWithMintEndpoint(t *testing.T) {
	is, err := authtest.New(&authtest.Options{PoolID: "us-east-1_DEMO", ClientID: "demo", MintEndpoint: true})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/dev-idp/", is)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	is.SetBaseURL(srv.URL + "/dev-idp")
	require.Equal(t, srv.URL+"/dev-idp/us-east-1_DEMO", is.URL())

	resp, err := http.PostForm(is.URL()+"/dev/token", url.Values{"email": {"demo@example.org"}, "provider": {"Google"}, "groups": {"staff,beta"}})
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var minted struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&minted))

	v, err := auth.NewVerifier([]auth.Issuer{{Kind: auth.Cognito, URL: is.URL(), ClientIDs: []string{"demo"}}}, nil)
	require.NoError(t, err)
	id, err := v.Verify(context.Background(), minted.IDToken)
	require.NoError(t, err)
	require.Equal(t, "demo@example.org", id.Identity.Email)
	require.Equal(t, auth.ProviderGoogle, id.Identity.Provider)
	require.Equal(t, []string{"staff", "beta", "us-east-1_DEMO_Google"}, id.Groups)
	access, err := v.Verify(context.Background(), minted.AccessToken)
	require.NoError(t, err)
	require.Equal(t, id.Identity.Subject, access.Identity.Subject)

	resp2, err := http.PostForm(is.URL()+"/dev/token", url.Values{})
	require.NoError(t, err)
	resp2.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp2.StatusCode)
}

func TestOptionsValidation(t *testing.T) {
	_, err := authtest.New(&authtest.Options{PoolID: "a/b"})
	require.Error(t, err)
	is, err := authtest.New(nil)
	require.NoError(t, err)
	require.Error(t, is.UseKey("nope"))
	require.Panics(t, func() { is.SignWithKey("nope", map[string]any{}) })
}

package api_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIDsAreCanonical: an id with leading zeros names the same video and
// folder as its canonical spelling, with the same answer.
func TestIDsAreCanonical(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	for _, pair := range [][2]string{
		{"/videos/1201", "/videos/001201"},
		{"/videos/1201/playback", "/videos/01201/playback"},
		{"/folders/12", "/folders/0012"},
	} {
		canon, other := e.get(t, pair[0], &uCarol), e.get(t, pair[1], &uCarol)
		require.Equal(t, http.StatusOK, canon.status, string(canon.body))
		require.Equal(t, canon.status, other.status, string(other.body))
		require.Equal(t, canon.header.Get("ETag"), other.header.Get("ETag"), pair[1])
		if pair[0] != "/videos/1201/playback" { // playback links are signed per request
			require.JSONEq(t, string(canon.body), string(other.body), pair[1])
		}
	}
}

// TestHeadIsServedWhereGetIs: HEAD answers like GET, without a body.
func TestHeadIsServedWhereGetIs(t *testing.T) {
	e := newEnv(t, true, nil, nil)
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json", "/videos/1201"} {
		req, err := http.NewRequest(http.MethodHead, e.http.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+e.issuer.IDToken(uCarol))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		require.Empty(t, b, path)
	}
}

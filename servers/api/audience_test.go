package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth/authtest"
)

// Signing in records the user's audience (roles from groups, segments from
// claims) for the ranking pipeline, whatever the route.
func TestSignInRecordsTheAudience(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, true, nil, nil)
	audience := func(u string) string {
		roles, segs, err := e.store.UserAudience(ctx, u)
		require.NoError(t, err)
		return fmt.Sprint(roles, segs)
	}
	for _, c := range []struct {
		path string
		user authtest.User
		want string
	}{{"/me", uAlice, "[sales] map[]"}, {"/library/home", uGold, "[] map[tier:gold]"}} {
		u := c.user
		r := e.get(t, c.path, &u)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		me := e.get(t, "/me", &u).json(t)
		id := me["user"].(map[string]any)["id"].(string)
		require.Eventually(t, func() bool { return audience(id) == c.want }, 5*time.Second, 5*time.Millisecond, c.path)
	}
}

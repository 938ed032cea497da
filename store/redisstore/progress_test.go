package redisstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/store/redisstore"
)

// TestProgressVersions: a version is stable until bumped, per user; a bump
// changes only the bumped users' versions; a version that expired (or was
// lost) comes back as a new token, never as one a reader may hold; empty
// user ids are refused and write nothing.
func TestProgressVersions(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	a1, err := e.store.ProgressVersion(ctx, "a")
	require.NoError(t, err)
	require.NotEmpty(t, a1)
	again, err := e.store.ProgressVersion(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, a1, again, "stable until bumped")
	b1, err := e.store.ProgressVersion(ctx, "b:x")
	require.NoError(t, err)

	require.NoError(t, e.store.BumpProgress(ctx, "a"))
	a2, err := e.store.ProgressVersion(ctx, "a")
	require.NoError(t, err)
	require.NotEqual(t, a1, a2, "a bump makes a new version")
	b2, err := e.store.ProgressVersion(ctx, "b:x")
	require.NoError(t, err)
	require.Equal(t, b1, b2, "other users keep theirs")

	key := e.prefix + redisstore.ProgressVersionKey("a").String()
	require.Equal(t, "progress:a:version", redisstore.ProgressVersionKey("a").String())
	ttl, err := e.rdb.PTTL(ctx, key).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, redisstore.ProgressVersionTTL-time.Minute, "versions expire")
	require.NoError(t, e.rdb.Del(ctx, key).Err()) // expired, or Redis lost it
	a3, err := e.store.ProgressVersion(ctx, "a")
	require.NoError(t, err)
	require.NotContains(t, []string{a1, a2}, a3, "a lost version comes back new")

	require.ErrorIs(t, e.store.BumpProgress(ctx, "b:x", ""), redisstore.ErrInvalid)
	b3, err := e.store.ProgressVersion(ctx, "b:x")
	require.NoError(t, err)
	require.Equal(t, b1, b3, "a refused bump writes nothing")
	_, err = e.store.ProgressVersion(ctx, "")
	require.ErrorIs(t, err, redisstore.ErrInvalid)
	require.NoError(t, e.store.BumpProgress(ctx))
}

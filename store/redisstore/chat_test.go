package redisstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/store/redisstore"
)

func TestChatTokenAndLock(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	b, err := e.store.GetChatToken(ctx, "u1")
	require.NoError(t, err)
	require.Nil(t, b)
	require.NoError(t, e.store.SetChatToken(ctx, "u1", []byte(`{"token":"t"}`), time.Minute))
	b, err = e.store.GetChatToken(ctx, "u1")
	require.NoError(t, err)
	require.JSONEq(t, `{"token":"t"}`, string(b))
	ttl := e.rdb.PTTL(ctx, e.prefix+"hubspot:token:u1").Val()
	require.Greater(t, ttl, 50*time.Second)
	require.ErrorIs(t, e.store.SetChatToken(ctx, "u1", nil, 0), redisstore.ErrInvalid)

	unlock, ok, err := e.store.LockChatToken(ctx, "u1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok2, err := e.store.LockChatToken(ctx, "u1", time.Minute)
	require.NoError(t, err)
	require.False(t, ok2, "held by the first")
	unlock()
	unlock2, ok3, err := e.store.LockChatToken(ctx, "u1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok3, "released")

	// An expired lock taken by someone else is not deleted by the old holder.
	require.NoError(t, e.rdb.Set(ctx, e.prefix+"hubspot:token-lock:u1", "other", time.Minute).Err())
	unlock2()
	require.Equal(t, "other", e.rdb.Get(ctx, e.prefix+"hubspot:token-lock:u1").Val())
}

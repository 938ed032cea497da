package pgstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/pgstore"
)

func TestTryLockExcludesOtherSessions(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresURL(t)
	a, err := pgstore.Open(ctx, dsn, nil)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	b, err := pgstore.Open(ctx, dsn, nil) // another process, same database and schema
	require.NoError(t, err)
	t.Cleanup(b.Close)

	release, ok, err := a.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.True(t, ok)

	_, ok, err = b.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.False(t, ok, "a second store on the same schema must not get a held lock")
	_, ok, err = a.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.False(t, ok, "the same store must not get it twice either (each try uses its own connection)")

	other, ok, err := b.TryLock(ctx, "poll")
	require.NoError(t, err)
	require.True(t, ok, "locks with other names are independent")
	other()

	release()
	release() // idempotent
	again, ok, err := b.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.True(t, ok, "a released lock can be taken")
	again()
}

func TestTryLockIsPerSchema(t *testing.T) {
	ctx := context.Background()
	a := openRaw(t)
	b := openRaw(t) // a fresh schema on the same server
	ra, ok, err := a.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.True(t, ok)
	defer ra()
	rb, ok, err := b.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.True(t, ok, "deployments in different schemas do not exclude each other")
	rb()
}

func TestTryLockRejectsEmptyName(t *testing.T) {
	_, ok, err := openRaw(t).TryLock(context.Background(), "")
	require.Error(t, err)
	require.False(t, ok)
}

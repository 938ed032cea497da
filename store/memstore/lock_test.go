package memstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/store/memstore"
)

func TestTryLock(t *testing.T) {
	ctx := context.Background()
	s, other := memstore.New(), memstore.New()

	release, ok, err := s.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = s.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.False(t, ok, "a held lock is not granted again")

	r2, ok, err := s.TryLock(ctx, "poll")
	require.NoError(t, err)
	require.True(t, ok, "names are independent")
	r2()
	r3, ok, err := other.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.True(t, ok, "stores are independent")
	r3()

	release()
	release() // idempotent: must not release a lock someone else took since
	r4, ok, err := s.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.True(t, ok)
	release()
	_, ok, err = s.TryLock(ctx, "reconcile")
	require.NoError(t, err)
	require.False(t, ok, "a second call of an old release must not free the new holder's lock")
	r4()

	_, _, err = s.TryLock(ctx, "")
	require.Error(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, ok, err = s.TryLock(cctx, "x")
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, ok)
}

func TestTryLockConcurrent(t *testing.T) {
	s := memstore.New()
	var holders, maxHolders atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				release, ok, err := s.TryLock(context.Background(), "reconcile")
				if err != nil || !ok {
					continue
				}
				n := holders.Add(1)
				for {
					m := maxHolders.Load()
					if n <= m || maxHolders.CompareAndSwap(m, n) {
						break
					}
				}
				holders.Add(-1)
				release()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int32(1), maxHolders.Load())
}

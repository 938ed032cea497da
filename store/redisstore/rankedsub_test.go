package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/redisstore"
)

func recvUser(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case u, ok := <-ch:
		require.True(t, ok, "the channel closed")
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("no ranked-feed change within 10s")
		return ""
	}
}

func TestRankedChangesAreAnnounced(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	ch, closeSub := e.store.SubscribeRanked(ctx)
	defer closeSub()
	ch2, closeSub2 := e.store.SubscribeRanked(ctx)
	defer closeSub2()

	require.NoError(t, e.store.SetRanked(ctx, "u1", 3, []redisstore.RankedItem{{VideoID: "v1", Score: 1}}, time.Minute))
	require.Equal(t, "u1", recvUser(t, ch))
	require.Equal(t, "u1", recvUser(t, ch2))
	// Announced with the write: a reader told of it finds the new feed.
	items, err := e.store.Ranked(ctx, "u1", 3)
	require.NoError(t, err)
	require.Equal(t, "v1", items[0].VideoID)

	_, err = e.store.InvalidateRanked(ctx, "u1", "u2")
	require.NoError(t, err)
	require.Equal(t, "u1", recvUser(t, ch))
	require.Equal(t, "u2", recvUser(t, ch))

	// Bad input writes and announces nothing.
	require.ErrorIs(t, e.store.SetRanked(ctx, "u3", 3, []redisstore.RankedItem{{VideoID: ""}}, time.Minute), redisstore.ErrInvalid)
	require.NoError(t, e.store.SetRanked(ctx, "u4", 3, nil, time.Minute))
	require.Equal(t, "u4", recvUser(t, ch))

	closeSub()
	closeSub()
	for range ch { // closed after what was buffered
	}
}

// A subscription that lost its connection says so with "": any user's feed
// may have changed meanwhile.
func TestRankedSubscriptionSaysWhenChangesMayBeLost(t *testing.T) {
	url, prefix := testenv.Redis(t)
	o, err := redis.ParseURL(url)
	require.NoError(t, err)
	o.ClientName = "rsub" + strings.TrimSuffix(prefix, ":")
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	s, err := redisstore.New(rdb, &redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	ctx := ctxT(t)
	ch, closeSub := s.SubscribeRanked(ctx)
	defer closeSub()
	require.NoError(t, s.SetRanked(ctx, "u1", 1, nil, time.Minute))
	require.Equal(t, "u1", recvUser(t, ch))

	killed := 0
	for _, line := range strings.Split(rdb.ClientList(ctx).Val(), "\n") {
		if strings.Contains(line, " name="+o.ClientName+" ") && strings.Contains(line, " sub=1 ") {
			id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
			require.NoError(t, rdb.Do(ctx, "CLIENT", "KILL", "ID", id).Err())
			killed++
		}
	}
	require.Equal(t, 1, killed, "exactly our subscription connection")
	require.Equal(t, "", recvUser(t, ch))
	require.Eventually(t, func() bool {
		require.NoError(t, s.SetRanked(ctx, "u2", 1, nil, time.Minute))
		select {
		case u := <-ch:
			return u == "u2"
		case <-time.After(100 * time.Millisecond):
			return false
		}
	}, 10*time.Second, 10*time.Millisecond)
}

// A reader that falls behind gets "" for the changes it missed, and then
// the changes that follow.
func TestRankedSubscriptionCoalescesForSlowReaders(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	ch, closeSub := e.store.SubscribeRanked(ctx)
	defer closeSub()
	for i := range 600 { // nobody reads meanwhile: more than the buffer holds
		require.NoError(t, e.store.SetRanked(ctx, "u"+strings.Repeat("x", i%7), 1, nil, time.Minute))
	}
	n := 0
	for u := recvUser(t, ch); u != ""; u = recvUser(t, ch) {
		n++
	}
	require.Less(t, n, 600, "the buffered changes, then \"\" for the rest")
	require.Eventually(t, func() bool { // leftovers of the 600 may come first
		require.NoError(t, e.store.SetRanked(ctx, "after", 1, nil, time.Minute))
		for {
			select {
			case u := <-ch:
				if u == "after" {
					return true
				}
			case <-time.After(100 * time.Millisecond):
				return false
			}
		}
	}, 10*time.Second, time.Millisecond)
}

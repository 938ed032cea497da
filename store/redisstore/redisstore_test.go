package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/redisstore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type env struct {
	store  *redisstore.Store
	rdb    *redis.Client
	prefix string
}

func newEnv(t testing.TB, opts *redisstore.Options) env {
	t.Helper()
	url, prefix := testenv.Redis(t)
	o, err := redis.ParseURL(url)
	require.NoError(t, err)
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	if opts == nil {
		opts = &redisstore.Options{}
	}
	opts.Prefix = prefix
	s, err := redisstore.New(rdb, opts)
	require.NoError(t, err)
	return env{store: s, rdb: rdb, prefix: prefix}
}

// scanAll returns every key matching pattern.
func scanAll(t testing.TB, rdb *redis.Client, pattern string) []string {
	t.Helper()
	var keys []string
	iter := rdb.Scan(context.Background(), 0, pattern, 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	require.NoError(t, iter.Err())
	return keys
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name        string
		key         redisstore.Key
		want, owner string
	}{
		{"root", redisstore.LibraryRootKey("member", "ab12", 7), "library:root:member:ab12:7", "library:root"},
		{"root anonymous", redisstore.LibraryRootKey("", "", 0), "library:root:::0", "library:root"},
		{"folder", redisstore.FolderKey("123", "admin", "ff00", 42), "folder:123:admin:ff00:42", "folder:123"},
		{"video", redisstore.VideoKey("987", "pro", 3), "video:987:pro:3", "video:987"},
		{"ranked", redisstore.RankedKey("u-1", 9), "ranked:u-1:9", "ranked:u-1"},
		{"escaped separators", redisstore.FolderKey("a:b", "r:1", "%x", 1), "folder:a%3Ab:r%3A1:%25x:1", "folder:a%3Ab"},
		{"max version", redisstore.VideoKey("v", "s", math.MaxInt64), "video:v:s:9223372036854775807", "video:v"},
		{"empty folder id", redisstore.FolderKey("", "r", "p", 1), "", ""},
		{"empty video id", redisstore.VideoKey("", "s", 1), "", ""},
		{"empty user id", redisstore.RankedKey("", 1), "", ""},
		{"negative version", redisstore.LibraryRootKey("r", "p", -1), "", ""},
		{"negative folder version", redisstore.FolderKey("1", "r", "p", -1), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.key.String())
			require.Equal(t, tt.owner, tt.key.Owner())
			require.Equal(t, tt.want == "", tt.key.IsZero())
		})
	}
	// Escaping keeps ids that differ only in separators apart.
	require.NotEqual(t, redisstore.FolderKey("a:b", "c", "d", 1), redisstore.FolderKey("a", "b:c", "d", 1))
}

func TestNew(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // no I/O in New
	defer rdb.Close()
	_, err := redisstore.New(rdb, nil)
	require.NoError(t, err)

	_, err = redisstore.New(nil, nil)
	require.ErrorIs(t, err, redisstore.ErrInvalid)
	_, err = redisstore.New(rdb, &redisstore.Options{DefaultTTL: -time.Second})
	require.ErrorIs(t, err, redisstore.ErrInvalid)

	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cc.Close()
	_, err = redisstore.New(cc, nil)
	require.ErrorIs(t, err, redisstore.ErrUnsupported)
}

func TestGetSetDelete(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	k := redisstore.FolderKey("1", "member", "p", 1)

	_, err := e.store.Get(ctx, k)
	require.ErrorIs(t, err, redisstore.ErrMiss)
	require.False(t, errors.Is(err, redis.Nil), "redis.Nil must not leak")

	require.NoError(t, e.store.Set(ctx, k, []byte("hello"), 0))
	got, err := e.store.Get(ctx, k)
	require.NoError(t, err)
	require.Equal(t, []byte("hello"), got)
	// Stored under the prefix, exactly the seed's name after it.
	require.Equal(t, "hello", e.rdb.Get(ctx, e.prefix+"folder:1:member:p:1").Val())

	require.NoError(t, e.store.Set(ctx, k, []byte("again"), 0))
	got, err = e.store.Get(ctx, k)
	require.NoError(t, err)
	require.Equal(t, []byte("again"), got)

	empty := redisstore.VideoKey("v", "s", 1)
	require.NoError(t, e.store.Set(ctx, empty, nil, 0))
	got, err = e.store.Get(ctx, empty)
	require.NoError(t, err)
	require.NotNil(t, got, "a present empty value is not a miss")
	require.Empty(t, got)

	n, err := e.store.Delete(ctx, k, empty, redisstore.VideoKey("absent", "s", 1))
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	_, err = e.store.Get(ctx, k)
	require.ErrorIs(t, err, redisstore.ErrMiss)
	require.Zero(t, e.rdb.ZCard(ctx, e.prefix+"idx:folder:1").Val(), "delete also removes the index entry")
}

func TestInvalidInputChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	good := redisstore.FolderKey("1", "r", "p", 1)
	zero := redisstore.FolderKey("", "r", "p", 1)
	tests := []struct {
		name string
		call func() error
	}{
		{"get zero key", func() error { _, err := e.store.Get(ctx, zero); return err }},
		{"set zero key", func() error { return e.store.Set(ctx, zero, []byte("x"), 0) }},
		{"set negative ttl", func() error { return e.store.Set(ctx, good, []byte("x"), -time.Second) }},
		{"set many with a zero key", func() error {
			return e.store.SetMany(ctx, []redisstore.Entry{{Key: good, Value: []byte("x")}, {Key: zero}}, 0)
		}},
		{"get many with a zero key", func() error { _, err := e.store.GetMany(ctx, []redisstore.Key{good, zero}); return err }},
		{"delete zero key", func() error { _, err := e.store.Delete(ctx, good, zero); return err }},
		{"invalidate empty folder id", func() error { _, err := e.store.InvalidateFolders(ctx, "1", ""); return err }},
		{"invalidate empty video id", func() error { _, err := e.store.InvalidateVideos(ctx, ""); return err }},
		{"version name", func() error { _, err := e.store.SetVersion(ctx, "Content!", 1); return err }},
		{"negative version", func() error { _, err := e.store.SetVersion(ctx, "content", -1); return err }},
		{"publish bad name", func() error { return e.store.PublishVersion(ctx, "", 1) }},
		{"read bad name", func() error { _, err := e.store.Version(ctx, "a b"); return err }},
		{"ranked empty user", func() error { return e.store.SetRanked(ctx, "", 1, nil, 0) }},
		{"ranked empty video", func() error {
			return e.store.SetRanked(ctx, "u", 1, []redisstore.RankedItem{{VideoID: ""}}, 0)
		}},
		{"ranked duplicate", func() error {
			return e.store.SetRanked(ctx, "u", 1, []redisstore.RankedItem{{VideoID: "a"}, {VideoID: "a"}}, 0)
		}},
		{"ranked NaN", func() error {
			return e.store.SetRanked(ctx, "u", 1, []redisstore.RankedItem{{VideoID: "a", Score: math.NaN()}}, 0)
		}},
		{"ranked negative ttl", func() error { return e.store.SetRanked(ctx, "u", 1, nil, -1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.call(), redisstore.ErrInvalid)
			require.Empty(t, scanAll(t, e.rdb, e.prefix+"*"), "rejected input wrote something")
		})
	}
}

func TestTTL(t *testing.T) {
	e := newEnv(t, &redisstore.Options{DefaultTTL: 90 * time.Second})
	ctx := ctxT(t)
	pttl := func(k redisstore.Key) time.Duration { return e.rdb.PTTL(ctx, e.prefix+k.String()).Val() }

	def := redisstore.VideoKey("1", "s", 1)
	require.NoError(t, e.store.Set(ctx, def, []byte("x"), 0))
	require.InDelta(t, float64(90*time.Second), float64(pttl(def)), float64(5*time.Second), "ttl 0 uses DefaultTTL")

	long := redisstore.VideoKey("1", "s", 2)
	require.NoError(t, e.store.Set(ctx, long, []byte("x"), 10*time.Minute))
	require.InDelta(t, float64(10*time.Minute), float64(pttl(long)), float64(5*time.Second))
	// The owner index lives at least as long as its longest-lived key.
	require.GreaterOrEqual(t, e.rdb.PTTL(ctx, e.prefix+"idx:video:1").Val(), pttl(long))

	many := []redisstore.Entry{{Key: redisstore.VideoKey("2", "s", 1)}, {Key: redisstore.VideoKey("3", "s", 1)}}
	require.NoError(t, e.store.SetMany(ctx, many, 2*time.Minute))
	for _, en := range many {
		require.InDelta(t, float64(2*time.Minute), float64(pttl(en.Key)), float64(5*time.Second))
	}

	// Real expiry, awaited rather than slept for.
	short := redisstore.FolderKey("9", "r", "p", 1)
	require.NoError(t, e.store.Set(ctx, short, []byte("x"), 30*time.Millisecond))
	require.Eventually(t, func() bool {
		_, err := e.store.Get(ctx, short)
		return errors.Is(err, redisstore.ErrMiss)
	}, 10*time.Second, 10*time.Millisecond)
}

func TestIndexDropsExpiredKeys(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	idx := e.prefix + "idx:folder:f"
	// A long-lived key keeps the index alive while the short-lived ones expire.
	require.NoError(t, e.store.Set(ctx, redisstore.FolderKey("f", "r", "p", 100), []byte("x"), time.Minute))
	for v := range 5 {
		require.NoError(t, e.store.Set(ctx, redisstore.FolderKey("f", "r", "p", int64(v)), []byte("x"), 20*time.Millisecond))
	}
	require.EqualValues(t, 6, e.rdb.ZCard(ctx, idx).Val())
	require.Eventually(t, func() bool { return e.rdb.Exists(ctx, e.prefix+"folder:f:r:p:4").Val() == 0 },
		10*time.Second, 10*time.Millisecond)
	require.NoError(t, e.store.Set(ctx, redisstore.FolderKey("f", "r", "p", 9), []byte("x"), time.Minute))
	require.ElementsMatch(t, []string{e.prefix + "folder:f:r:p:100", e.prefix + "folder:f:r:p:9"},
		e.rdb.ZRange(ctx, idx, 0, -1).Val(), "a write drops index members whose keys expired")
}

func TestGetManySetMany(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	const n = 1203 // more than one chunk of MGET (500) and of the set script (200)
	var entries []redisstore.Entry
	var keys []redisstore.Key
	for i := range n {
		k := redisstore.VideoKey(strconv.Itoa(i), "s", 1)
		keys = append(keys, k)
		if i%3 != 0 { // every third key stays a miss
			entries = append(entries, redisstore.Entry{Key: k, Value: []byte("v" + strconv.Itoa(i))})
		}
	}
	require.NoError(t, e.store.SetMany(ctx, entries, time.Minute))
	got, err := e.store.GetMany(ctx, keys)
	require.NoError(t, err)
	require.Len(t, got, n)
	for i, b := range got {
		if i%3 == 0 {
			require.Nil(t, b, "key %d", i)
		} else {
			require.Equal(t, "v"+strconv.Itoa(i), string(b), "key %d", i)
		}
	}
	got, err = e.store.GetMany(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, got)
	require.NoError(t, e.store.SetMany(ctx, nil, 0))

	n2, err := e.store.Delete(ctx, keys...)
	require.NoError(t, err)
	require.EqualValues(t, len(entries), n2)
}

func TestScriptsSurviveAScriptFlush(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	require.NoError(t, e.rdb.ScriptFlush(ctx).Err())
	require.NoError(t, e.store.Set(ctx, redisstore.VideoKey("a", "s", 1), []byte("x"), 0)) // single call
	require.NoError(t, e.rdb.ScriptFlush(ctx).Err())
	var entries []redisstore.Entry
	for i := range 450 { // three chunks: the pipelined path
		entries = append(entries, redisstore.Entry{Key: redisstore.VideoKey(strconv.Itoa(i), "s", 1), Value: []byte("x")})
	}
	require.NoError(t, e.store.SetMany(ctx, entries, 0))
	got, err := e.store.Get(ctx, redisstore.VideoKey("449", "s", 1))
	require.NoError(t, err)
	require.Equal(t, []byte("x"), got)
}

func TestPrefixesIsolateStores(t *testing.T) {
	a := newEnv(t, nil)
	ctx := ctxT(t)
	b, err := redisstore.New(a.rdb, &redisstore.Options{Prefix: a.prefix + "other:"})
	require.NoError(t, err)
	k := redisstore.FolderKey("1", "r", "p", 1)
	require.NoError(t, a.store.Set(ctx, k, []byte("a"), 0))
	_, err = b.Get(ctx, k)
	require.ErrorIs(t, err, redisstore.ErrMiss)
	require.NoError(t, b.Set(ctx, k, []byte("b"), 0))
	n, err := b.InvalidateFolders(ctx, "1")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	got, err := a.store.Get(ctx, k)
	require.NoError(t, err)
	require.Equal(t, []byte("a"), got)
}

func TestInvalidate(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	var all []redisstore.Key
	for _, f := range []string{"A", "B", "C", "A:B"} {
		for _, role := range []string{"admin", "member"} {
			for v := int64(1); v <= 3; v++ {
				all = append(all, redisstore.FolderKey(f, role, "p"+strconv.FormatInt(v, 10), v))
			}
		}
	}
	all = append(all,
		redisstore.VideoKey("A", "s", 1), redisstore.VideoKey("A", "t", 2), redisstore.VideoKey("B", "s", 1),
		redisstore.LibraryRootKey("admin", "p", 1), redisstore.LibraryRootKey("member", "q", 2),
		redisstore.RankedKey("A", 1))
	var entries []redisstore.Entry
	for _, k := range all {
		entries = append(entries, redisstore.Entry{Key: k, Value: []byte(k.String())})
	}
	require.NoError(t, e.store.SetMany(ctx, entries, time.Minute))

	exists := func(k redisstore.Key) bool {
		_, err := e.store.Get(ctx, k)
		if errors.Is(err, redisstore.ErrMiss) {
			return false
		}
		require.NoError(t, err)
		return true
	}
	check := func(gone func(k redisstore.Key) bool) {
		t.Helper()
		for _, k := range all {
			require.Equal(t, !gone(k), exists(k), "key %s", k)
		}
	}

	n, err := e.store.InvalidateFolders(ctx, "A", "C", "never-cached")
	require.NoError(t, err)
	require.EqualValues(t, 12, n)
	folderGone := func(k redisstore.Key) bool { return k.Owner() == "folder:A" || k.Owner() == "folder:C" }
	check(folderGone)

	n, err = e.store.InvalidateVideos(ctx, "A")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	n, err = e.store.InvalidateLibraryRoot(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	n, err = e.store.InvalidateRanked(ctx, "A")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	check(func(k redisstore.Key) bool {
		return folderGone(k) || k.Owner() == "video:A" || k.Owner() == "library:root" || k.Owner() == "ranked:A"
	})
	n, err = e.store.InvalidateFolders(ctx, "A")
	require.NoError(t, err)
	require.Zero(t, n, "invalidating twice finds nothing")
	require.Zero(t, e.rdb.Exists(ctx, e.prefix+"idx:folder:A").Val(), "the index goes with its keys")
}

// TestInvalidateMatchesModel runs random sets, deletes and folder invalidations against a
// map and checks after every step that exactly the model's keys exist in Redis.
func TestInvalidateMatchesModel(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	r := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	folders := []string{"1", "2", "3", "4", "5", "1:2", "%"}
	randKey := func() redisstore.Key {
		return redisstore.FolderKey(folders[r.IntN(len(folders))], []string{"a", "b"}[r.IntN(2)],
			[]string{"x", "y", "z"}[r.IntN(3)], int64(r.IntN(3)))
	}
	model := map[redisstore.Key]string{}
	for step := range 300 {
		switch op := r.IntN(10); {
		case op < 6:
			var es []redisstore.Entry
			for range 1 + r.IntN(4) {
				k := randKey()
				val := fmt.Sprintf("%d", step)
				es = append(es, redisstore.Entry{Key: k, Value: []byte(val)})
				model[k] = val
			}
			require.NoError(t, e.store.SetMany(ctx, es, time.Minute))
		case op < 8:
			var ids []string
			for range 1 + r.IntN(3) {
				ids = append(ids, folders[r.IntN(len(folders))])
			}
			want := int64(0)
			for k := range model {
				for _, id := range dedupe(ids) {
					if k.Owner() == redisstore.FolderKey(id, "", "", 0).Owner() {
						delete(model, k)
						want++
					}
				}
			}
			n, err := e.store.InvalidateFolders(ctx, ids...)
			require.NoError(t, err)
			require.Equal(t, want, n, "step %d invalidate %v", step, ids)
		default:
			k := randKey()
			_, had := model[k]
			delete(model, k)
			n, err := e.store.Delete(ctx, k)
			require.NoError(t, err)
			require.Equal(t, had, n == 1)
		}
		var keys, want []string
		for _, k := range scanAll(t, e.rdb, e.prefix+"folder:*") {
			keys = append(keys, strings.TrimPrefix(k, e.prefix))
		}
		for k := range model {
			want = append(want, k.String())
		}
		sort.Strings(keys)
		sort.Strings(want)
		require.Equal(t, want, keys, "step %d", step)
	}
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func TestRanked(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	_, err := e.store.Ranked(ctx, "u1", 1)
	require.ErrorIs(t, err, redisstore.ErrMiss)

	v1 := []redisstore.RankedItem{{VideoID: "c", Score: 3}, {VideoID: "a", Score: 3}, {VideoID: "b", Score: 0.5}}
	require.NoError(t, e.store.SetRanked(ctx, "u1", 1, v1, time.Minute))
	got, err := e.store.Ranked(ctx, "u1", 1)
	require.NoError(t, err)
	require.Equal(t, v1, got, "order is kept, ties included")
	other := redisstore.FolderKey("f", "r", "p", 1)
	require.NoError(t, e.store.Set(ctx, other, []byte("x"), 0))
	require.NoError(t, e.store.SetRanked(ctx, "u2", 1, v1, 0))

	// A new version replaces every version of that user's feed, and nothing else.
	v2 := []redisstore.RankedItem{{VideoID: "z", Score: 1}}
	require.NoError(t, e.store.SetRanked(ctx, "u1", 2, v2, 0))
	_, err = e.store.Ranked(ctx, "u1", 1)
	require.ErrorIs(t, err, redisstore.ErrMiss)
	got, err = e.store.Ranked(ctx, "u1", 2)
	require.NoError(t, err)
	require.Equal(t, v2, got)
	got, err = e.store.Ranked(ctx, "u2", 1)
	require.NoError(t, err)
	require.Equal(t, v1, got)
	_, err = e.store.Get(ctx, other)
	require.NoError(t, err)

	// Bad input leaves the current feed alone.
	require.ErrorIs(t, e.store.SetRanked(ctx, "u1", 3, []redisstore.RankedItem{{VideoID: "a"}, {VideoID: "a"}}, 0),
		redisstore.ErrInvalid)
	got, err = e.store.Ranked(ctx, "u1", 2)
	require.NoError(t, err)
	require.Equal(t, v2, got)

	// An empty feed is stored, not a miss.
	require.NoError(t, e.store.SetRanked(ctx, "u1", 3, nil, 0))
	got, err = e.store.Ranked(ctx, "u1", 3)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)
	require.InDelta(t, float64(redisstore.DefaultTTL), float64(e.rdb.PTTL(ctx, e.prefix+"ranked:u1:3").Val()), float64(5*time.Second))
}

func TestSetVersionOnlyRaises(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	_, err := e.store.Version(ctx, "content")
	require.ErrorIs(t, err, redisstore.ErrMiss)
	steps := []struct {
		name      string
		set, want int64
	}{
		{"content", 5, 5}, {"content", 3, 5}, {"content", 5, 5}, {"content", 10, 10}, {"content", 9, 10},
		{"entitlement", 0, 0}, {"entitlement", 1, 1},
		{"big", math.MaxInt64 - 1, math.MaxInt64 - 1}, {"big", math.MaxInt64, math.MaxInt64},
		{"big", math.MaxInt64 - 1, math.MaxInt64}, {"big", 99, math.MaxInt64},
	}
	for i, s := range steps {
		got, err := e.store.SetVersion(ctx, s.name, s.set)
		require.NoError(t, err)
		require.Equal(t, s.want, got, "step %d", i)
		stored, err := e.store.Version(ctx, s.name)
		require.NoError(t, err)
		require.Equal(t, s.want, stored, "step %d", i)
	}
	all, err := e.store.Versions(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"content": 10, "entitlement": 1, "big": math.MaxInt64}, all)
}

func TestSetVersionConcurrentWritersNeverLower(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	const writers, each = 8, 40
	var wg sync.WaitGroup
	maxes := make([]int64, writers)
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			last := int64(-1)
			for range each {
				v := r.Int64N(1_000_000)
				maxes[w] = max(maxes[w], v)
				cur, err := e.store.SetVersion(ctx, "content", v)
				if err != nil {
					errs <- err
					return
				}
				if cur < v || cur < last {
					errs <- fmt.Errorf("writer %d: set %d, got %d after %d", w, v, cur, last)
					return
				}
				last = cur
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var want int64
	for _, m := range maxes {
		want = max(want, m)
	}
	got, err := e.store.Version(ctx, "content")
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func recv(t *testing.T, ch <-chan redisstore.VersionChange) redisstore.VersionChange {
	t.Helper()
	select {
	case c, ok := <-ch:
		require.True(t, ok, "channel closed")
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no version change within 10s")
		return redisstore.VersionChange{}
	}
}

func TestVersionPubSub(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	_, err := e.store.SetVersion(ctx, "content", 3)
	require.NoError(t, err)

	ch, closeSub := e.store.SubscribeVersions(ctx)
	defer closeSub()
	ch2, closeSub2 := e.store.SubscribeVersions(ctx)
	defer closeSub2()
	// The stored versions come first.
	require.Equal(t, redisstore.VersionChange{Name: "content", Version: 3}, recv(t, ch))
	require.Equal(t, redisstore.VersionChange{Name: "content", Version: 3}, recv(t, ch2))

	require.NoError(t, e.store.PublishVersion(ctx, "content", 5))
	require.Equal(t, redisstore.VersionChange{Name: "content", Version: 5}, recv(t, ch))
	require.Equal(t, redisstore.VersionChange{Name: "content", Version: 5}, recv(t, ch2))
	stored, err := e.store.Version(ctx, "content")
	require.NoError(t, err)
	require.EqualValues(t, 5, stored, "publish also stores")

	require.NoError(t, e.store.PublishVersion(ctx, "entitlement", 1))
	require.Equal(t, redisstore.VersionChange{Name: "entitlement", Version: 1}, recv(t, ch))
	// A lower version is never delivered: the next thing seen is the next raise.
	require.NoError(t, e.store.PublishVersion(ctx, "content", 4))
	require.NoError(t, e.store.PublishVersion(ctx, "content", 6))
	require.Equal(t, redisstore.VersionChange{Name: "content", Version: 6}, recv(t, ch))

	closeSub()
	closeSub() // idempotent
	_, ok := <-ch
	require.False(t, ok, "close closes the channel")
	require.Equal(t, redisstore.VersionChange{Name: "entitlement", Version: 1}, recv(t, ch2))
}

func TestVersionSubscriptionEndsWithContext(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ch, closeSub := e.store.SubscribeVersions(ctx)
	defer closeSub()
	cancel()
	for range ch { // drains until closed; the test times out if it never closes
	}
}

func TestVersionSubscriptionCoalescesForSlowReaders(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	ch, closeSub := e.store.SubscribeVersions(ctx)
	defer closeSub()
	for v := int64(1); v <= 200; v++ { // nobody reads meanwhile
		require.NoError(t, e.store.PublishVersion(ctx, "content", v))
	}
	var got []int64
	for len(got) == 0 || got[len(got)-1] < 200 {
		got = append(got, recv(t, ch).Version)
	}
	require.LessOrEqual(t, len(got), 200)
	require.True(t, sort.SliceIsSorted(got, func(i, j int) bool { return got[i] < got[j] }), "%v", got)
	for i := 1; i < len(got); i++ {
		require.Less(t, got[i-1], got[i], "strictly increasing: %v", got)
	}
}

func TestVersionSubscriptionCatchesUpAfterReconnect(t *testing.T) {
	url, prefix := testenv.Redis(t)
	o, err := redis.ParseURL(url)
	require.NoError(t, err)
	o.ClientName = "sub" + strings.TrimSuffix(prefix, ":") // to find our pub/sub connection
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	s, err := redisstore.New(rdb, &redisstore.Options{Prefix: prefix})
	require.NoError(t, err)
	ctx := ctxT(t)

	ch, closeSub := s.SubscribeVersions(ctx)
	defer closeSub()
	require.NoError(t, s.PublishVersion(ctx, "content", 1))
	require.Equal(t, redisstore.VersionChange{Name: "content", Version: 1}, recv(t, ch))

	// Stored without a publish: only a re-read after the reconnect can reveal it.
	_, err = s.SetVersion(ctx, "content", 2)
	require.NoError(t, err)
	killed := 0
	for _, line := range strings.Split(rdb.ClientList(ctx).Val(), "\n") {
		if strings.Contains(line, " name="+o.ClientName+" ") && strings.Contains(line, " sub=1 ") {
			id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
			require.NoError(t, rdb.Do(ctx, "CLIENT", "KILL", "ID", id).Err())
			killed++
		}
	}
	require.Equal(t, 1, killed, "exactly our subscription connection")
	require.Equal(t, redisstore.VersionChange{Name: "content", Version: 2}, recv(t, ch))
}

package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/store/redisstore"
)

// Benchmarks run against the same real redis-server as the tests (testenv.Redis), so they
// measure round trips over loopback, not an in-process fake.

var benchValue = make([]byte, 512)

func BenchmarkGet(b *testing.B) {
	e := newEnv(b, nil)
	ctx := context.Background()
	k := redisstore.FolderKey("123", "member", "ab12", 1)
	require.NoError(b, e.store.Set(ctx, k, benchValue, time.Minute))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.store.Get(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSet(b *testing.B) {
	e := newEnv(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// 64 keys per folder, like a few roles × profiles × versions.
		k := redisstore.FolderKey(strconv.Itoa(i/64), "member", strconv.Itoa(i%64), 1)
		if err := e.store.Set(ctx, k, benchValue, time.Minute); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchKeys(n int) ([]redisstore.Key, []redisstore.Entry) {
	keys := make([]redisstore.Key, n)
	entries := make([]redisstore.Entry, n)
	for i := range keys {
		keys[i] = redisstore.VideoKey(strconv.Itoa(i), "s", 1)
		entries[i] = redisstore.Entry{Key: keys[i], Value: benchValue}
	}
	return keys, entries
}

func BenchmarkGetMany100(b *testing.B) {
	e := newEnv(b, nil)
	ctx := context.Background()
	keys, entries := benchKeys(100)
	require.NoError(b, e.store.SetMany(ctx, entries, time.Minute))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.store.GetMany(ctx, keys); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetMany100(b *testing.B) {
	e := newEnv(b, nil)
	ctx := context.Background()
	_, entries := benchKeys(100)
	b.ReportAllocs()
	for b.Loop() {
		if err := e.store.SetMany(ctx, entries, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

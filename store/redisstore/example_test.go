package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vidlib/vidlib/store/redisstore"
)

// A read path: look the folder listing up for the audience and the current content
// version; on a miss, build it from the snapshot and cache it. (Compiled, not run: it
// needs a Redis server.)
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	store, err := redisstore.New(rdb, &redisstore.Options{Prefix: "vidlib:", DefaultTTL: 30 * time.Minute})
	if err != nil {
		panic(err)
	}
	version, err := store.Version(ctx, "content")
	if errors.Is(err, redisstore.ErrMiss) {
		version = 0 // never published: read it from PostgreSQL instead
	}
	key := redisstore.FolderKey("123456", "member", "9f86d081", version)
	body, err := store.Get(ctx, key)
	if errors.Is(err, redisstore.ErrMiss) {
		body = []byte(`{"videos":[]}`) // built from the snapshot
		_ = store.Set(ctx, key, body, 0)
	}
	fmt.Println(key, len(body))

	// An admin invalidates a subtree; the caller computed its folder ids.
	_, _ = store.InvalidateFolders(ctx, "123456", "123457")
}

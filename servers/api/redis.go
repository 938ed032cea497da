package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/store/redisstore"
)

// RedisVersions adapts redisstore's version pub/sub to library.Versions.
func RedisVersions(rs *redisstore.Store) library.Versions { return redisVersions{rs} }

type redisVersions struct{ rs *redisstore.Store }

func (r redisVersions) Subscribe(ctx context.Context) (<-chan library.VersionChange, func()) {
	in, stop := r.rs.SubscribeVersions(ctx)
	out := make(chan library.VersionChange, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		for c := range in {
			select {
			case out <- library.VersionChange{Name: c.Name, Version: c.Version}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, func() {
		stop()
		<-done
	}
}

// RedisFeedChanges adapts redisstore's ranked-feed announcements
// (SubscribeRanked: SetRanked and InvalidateRanked announce the user) to
// library.FeedChanges.
func RedisFeedChanges(rs *redisstore.Store) library.FeedChanges { return redisFeedChanges{rs} }

type redisFeedChanges struct{ rs *redisstore.Store }

func (r redisFeedChanges) Subscribe(ctx context.Context) (<-chan string, func()) {
	return r.rs.SubscribeRanked(ctx)
}

// RedisCache adapts redisstore's versioned cache to library.Cache: home pages
// under library:root:{role}:{profile_hash}:{version} and folder pages under
// folder:{id}:{role}:{profile_hash}:{version}, written with ttl (0: the
// store's default).
func RedisCache(rs *redisstore.Store, ttl time.Duration) library.Cache {
	return redisCache{rs: rs, ttl: ttl}
}

type redisCache struct {
	rs  *redisstore.Store
	ttl time.Duration
}

func (c redisCache) key(k library.CacheKey) (redisstore.Key, error) {
	switch k.Kind {
	case library.CacheRoot:
		return redisstore.LibraryRootKey(k.Role, k.ProfileHash, k.Version), nil
	case library.CacheFolder:
		return redisstore.FolderKey(k.ID, k.Role, k.ProfileHash, k.Version), nil
	}
	return redisstore.Key{}, fmt.Errorf("%w: cache kind %q", ErrInvalid, k.Kind)
}

func (c redisCache) Get(ctx context.Context, k library.CacheKey) ([]byte, error) {
	key, err := c.key(k)
	if err != nil {
		return nil, err
	}
	b, err := c.rs.Get(ctx, key)
	if errors.Is(err, redisstore.ErrMiss) {
		return nil, nil
	}
	return b, err
}

func (c redisCache) Set(ctx context.Context, k library.CacheKey, v []byte) error {
	key, err := c.key(k)
	if err != nil {
		return err
	}
	return c.rs.Set(ctx, key, v, c.ttl)
}

func (c redisCache) InvalidateFolders(ctx context.Context, folderIDs ...string) error {
	if _, err := c.rs.InvalidateFolders(ctx, folderIDs...); err != nil {
		return err
	}
	_, err := c.rs.InvalidateLibraryRoot(ctx)
	return err
}

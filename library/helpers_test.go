package library_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/store/memstore"
)

var (
	alice = library.Viewer{UserID: "u-alice", Email: "alice@example.com", Name: "Alice", Roles: []string{"sales"}}
	bob   = library.Viewer{UserID: "u-bob", Roles: []string{"eng"}}
	carol = library.Viewer{UserID: "u-carol"}
	gold  = library.Viewer{UserID: "u-gold", Segments: map[string]string{"tier": "gold"}}
)

func seeded(t testing.TB, opts *library.Options) (*library.Service, *memstore.Store) {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, librarytest.Seed(ctx, st))
	o := library.Options{PollInterval: -1}
	if opts != nil {
		o = *opts
	}
	lib, err := library.New(st, &o)
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	return lib, st
}

func folderIDs(fs []library.FolderSummary) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func videoIDs(vs []library.VideoSummary) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func refIDs(rs []library.FolderRef) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// mapCache is a library.Cache in a map, counting calls.
type mapCache struct {
	mu          sync.Mutex
	m           map[library.CacheKey][]byte
	gets, hits  int
	sets        int
	invalidated [][]string
}

func newMapCache() *mapCache { return &mapCache{m: map[library.CacheKey][]byte{}} }

func (c *mapCache) Get(_ context.Context, k library.CacheKey) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	v, ok := c.m[k]
	if ok {
		c.hits++
	}
	return v, nil
}

func (c *mapCache) Set(_ context.Context, k library.CacheKey, v []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sets++
	c.m[k] = v
	return nil
}

func (c *mapCache) InvalidateFolders(_ context.Context, ids ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidated = append(c.invalidated, ids)
	for k := range c.m {
		if k.Kind == library.CacheRoot {
			delete(c.m, k)
		}
		for _, id := range ids {
			if k.Kind == library.CacheFolder && k.ID == id {
				delete(c.m, k)
			}
		}
	}
	return nil
}

func (c *mapCache) stats() (gets, hits, sets int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets, c.hits, c.sets
}

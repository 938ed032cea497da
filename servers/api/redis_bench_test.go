package api_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/servers/api"
)

// What the shared page cache costs a folder page that misses the in-process
// cache (a one-entry cache): without it the page is assembled from the
// snapshot; with it the page is first looked up in Redis (and, on a miss,
// written behind).
func BenchmarkFolderMissSharedCache(b *testing.B) {
	ctx := context.Background()
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 2_000, Videos: 20_000, Depth: 8, Rules: 400, Roles: 20, Segments: 5, Seed: 7})
	require.NoError(b, err)
	rs := newRedisStore(b)

	for _, bc := range []struct {
		name  string
		cache library.Cache
	}{{"none", nil}, {"redis", api.RedisCache(rs, time.Minute)}} {
		b.Run(bc.name, func(b *testing.B) {
			lib, err := library.New(librarytest.NewStatic(g.Snapshot, g.Rules), &library.Options{PollInterval: -1, MaxCachedPages: 1, Cache: bc.cache})
			require.NoError(b, err)
			require.NoError(b, lib.Refresh(ctx))
			rng := rand.New(rand.NewPCG(1, 1))
			viewer := library.Viewer{UserID: "u", Roles: g.Roles[:5]}
			var folders []string
			for _, id := range g.Snapshot.FolderIDs() {
				if _, err := lib.Folder(ctx, viewer, id, "", 0); err == nil {
					folders = append(folders, id)
				}
			}
			require.NotEmpty(b, folders)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := lib.FolderJSON(ctx, viewer, folders[rng.IntN(len(folders))], "", 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package library_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
)

// The benchmark library: 100,000 videos, 10,000 folders, depth 10, 2,000
// rules over 40 roles and 10 tiers, 500 distinct audiences.
var (
	benchOnce sync.Once
	benchGen  *librarytest.Generated
	benchErr  error
)

func benchLibrary(b *testing.B) *librarytest.Generated {
	benchOnce.Do(func() {
		benchGen, benchErr = librarytest.Generate(librarytest.GenOptions{
			Folders: 10_000, Videos: 100_000, Depth: 10, Rules: 2_000, Roles: 40, Segments: 10, Seed: 2026,
		})
	})
	require.NoError(b, benchErr)
	return benchGen
}

type benchCase struct {
	lib     *library.Service
	viewers []library.Viewer
	folders [][]string // per viewer, some folders they may see
	videos  [][]string // per viewer, some videos they may see
}

func newBench(b *testing.B) *benchCase { return newBenchWith(b, &library.Options{PollInterval: -1}) }

func newBenchWith(b *testing.B, opts *library.Options) *benchCase {
	g := benchLibrary(b)
	ctx := context.Background()
	lib, err := library.New(librarytest.NewStatic(g.Snapshot, g.Rules), opts)
	require.NoError(b, err)
	require.NoError(b, lib.Refresh(ctx))
	bc := &benchCase{lib: lib}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for len(bc.viewers) < 500 {
		v := library.Viewer{UserID: "u" + strconv.Itoa(len(bc.viewers))}
		for range 1 + rng.IntN(3) {
			v.Roles = append(v.Roles, g.Roles[rng.IntN(len(g.Roles))])
		}
		v.Segments = map[string]string{"tier": g.Segments[rng.IntN(len(g.Segments))]}
		k := strconv.Itoa(len(v.Roles)) + v.Roles[0] + v.Roles[len(v.Roles)-1] + v.Segments["tier"]
		if seen[k] {
			continue
		}
		seen[k] = true
		var fs, vs []string
		for _, id := range g.Snapshot.FolderIDs()[rng.IntN(5000):] {
			if _, err := lib.Folder(ctx, v, id, "", 0); err == nil {
				fs = append(fs, id)
				if len(fs) == 20 {
					break
				}
			}
		}
		for _, id := range g.Snapshot.VideoIDs()[rng.IntN(50_000):] {
			if _, err := lib.Video(ctx, v, id); err == nil {
				vs = append(vs, id)
				if len(vs) == 20 {
					break
				}
			}
		}
		if len(fs) == 0 || len(vs) == 0 {
			continue // this audience sees nothing: not a useful sample
		}
		bc.viewers = append(bc.viewers, v)
		bc.folders = append(bc.folders, fs)
		bc.videos = append(bc.videos, vs)
	}
	return bc
}

// loop runs op for each iteration with the iteration's viewer and one of the
// folders (or videos) that viewer may see, cycling through both.
func (bc *benchCase) loop(b *testing.B, ids [][]string, op func(ctx context.Context, v library.Viewer, id string) error) {
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		n := i % len(bc.viewers)
		id := ""
		if ids != nil {
			id = ids[n][(i/len(bc.viewers))%len(ids[n])]
		}
		if err := op(ctx, bc.viewers[n], id); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHomeJSON(b *testing.B) {
	bc := newBench(b)
	bc.loop(b, nil, func(ctx context.Context, v library.Viewer, _ string) error {
		_, err := bc.lib.HomeJSON(ctx, v)
		return err
	})
}

func BenchmarkHomeUncached(b *testing.B) {
	bc := newBench(b)
	bc.loop(b, nil, func(ctx context.Context, v library.Viewer, _ string) error {
		_, err := bc.lib.Home(ctx, v)
		return err
	})
}

func BenchmarkFolderJSON(b *testing.B) {
	bc := newBench(b)
	bc.loop(b, bc.folders, func(ctx context.Context, v library.Viewer, id string) error {
		_, err := bc.lib.FolderJSON(ctx, v, id, "", 0)
		return err
	})
}

func BenchmarkFolderUncached(b *testing.B) {
	bc := newBench(b)
	bc.loop(b, bc.folders, func(ctx context.Context, v library.Viewer, id string) error {
		_, err := bc.lib.Folder(ctx, v, id, "", 0)
		return err
	})
}

// A folder page that misses the cache (a one-entry cache): what most folder
// requests cost when thousands of audiences browse ten thousand folders.
func BenchmarkFolderJSONMiss(b *testing.B) {
	bc := newBenchWith(b, &library.Options{PollInterval: -1, MaxCachedPages: 1})
	bc.loop(b, bc.folders, func(ctx context.Context, v library.Viewer, id string) error {
		_, err := bc.lib.FolderJSON(ctx, v, id, "", 0)
		return err
	})
}

// The same pages built as FolderPage and encoded by encoding/json: the
// reference FolderJSONMiss is compared with.
func BenchmarkFolderMarshal(b *testing.B) {
	bc := newBench(b)
	bc.loop(b, bc.folders, func(ctx context.Context, v library.Viewer, id string) error {
		p, err := bc.lib.Folder(ctx, v, id, "", 0)
		if err == nil {
			_, err = json.Marshal(p)
		}
		return err
	})
}

func BenchmarkVideoJSON(b *testing.B) {
	bc := newBench(b)
	bc.loop(b, bc.videos, func(ctx context.Context, v library.Viewer, id string) error {
		_, err := bc.lib.VideoJSON(ctx, v, id)
		return err
	})
}

func BenchmarkVideoUncached(b *testing.B) {
	bc := newBench(b)
	bc.loop(b, bc.videos, func(ctx context.Context, v library.Viewer, id string) error {
		_, err := bc.lib.Video(ctx, v, id)
		return err
	})
}

// BenchmarkRebuildContent is a full rebuild (tree and index) after a content
// version bump; heap-MB is the live heap the service holds after loading.
func BenchmarkRebuildContent(b *testing.B) {
	g := benchLibrary(b)
	ctx := context.Background()
	st := librarytest.NewStatic(g.Snapshot, g.Rules)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	lib, err := library.New(st, &library.Options{PollInterval: -1})
	require.NoError(b, err)
	require.NoError(b, lib.Refresh(ctx))
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportAllocs()
	for b.Loop() {
		st.SetSnapshot(g.Snapshot)
		if err := lib.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
	runtime.KeepAlive(lib)
}

// BenchmarkRebuildEntitlement is the rebuild after an entitlement version
// bump: the index only, the tree structures are reused.
func BenchmarkRebuildEntitlement(b *testing.B) {
	g := benchLibrary(b)
	ctx := context.Background()
	st := librarytest.NewStatic(g.Snapshot, g.Rules)
	lib, err := library.New(st, &library.Options{PollInterval: -1})
	require.NoError(b, err)
	require.NoError(b, lib.Refresh(ctx))
	b.ReportAllocs()
	for b.Loop() {
		st.SetRules(g.Rules)
		if err := lib.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

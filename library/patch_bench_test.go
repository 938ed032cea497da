package library_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
)

// BenchmarkPatchGeneration measures, on memstore, the time from a committed
// change to the generation that serves it (Refresh after the commit; the
// commit itself is outside the clock), at 100,000 videos / 10,000 folders /
// 2,000 rules, or at VIDLIB_BENCH_VIDEOS videos (folders a tenth, rules a
// fiftieth of that):
//
//   - edit: a video title edit, patched in (index and listings kept);
//   - edit-search: the same, and a search of the new generation (its search
//     index an overlay of the first generation's: the edited videos are
//     tokenized anew, not the library);
//   - move: a video placed in another folder, patched in (the index with
//     entitle.Index.WithVideos, the listings of the folders it left and
//     entered and the covers above them made anew);
//   - move-search: the same, and a search of the new generation (its search
//     index an overlay of the first generation's, its documents
//     renumbered: the moved videos are tokenized anew, not the library);
//   - delete: a video soft-deleted, patched in;
//   - add: a new video placed in a folder, patched in;
//   - reload: the same title edit with Options.NoPatch (the whole tree
//     reloaded: what every change cost before the change feed).
//
// heap-MB is the live heap with the library in the store and one Service
// loaded.
func BenchmarkPatchGeneration(b *testing.B) {
	nv := 100_000
	if n, err := strconv.Atoi(os.Getenv("VIDLIB_BENCH_VIDEOS")); err == nil && n > 0 {
		nv = n
	}
	g, err := librarytest.Generate(librarytest.GenOptions{
		Folders: max(nv/10, 1), Videos: nv, Depth: 10, Rules: max(nv/50, 1), Roles: 40, Segments: 10, Seed: 2026,
	})
	require.NoError(b, err)
	ctx := context.Background()
	st := memstore.New()
	snap := g.Snapshot
	_, err = st.Update(ctx, func(tx tree.Tx) error {
		if err := tx.UpsertFolders(ctx, snap.Folders()); err != nil {
			return err
		}
		if err := tx.UpsertVideos(ctx, snap.Videos()); err != nil {
			return err
		}
		return tx.PlaceVideos(ctx, snap.Placements())
	})
	require.NoError(b, err)
	for _, r := range g.Rules {
		r.ID = 0
		_, _, err := st.AddRule(ctx, r)
		require.NoError(b, err)
	}
	g = nil
	vids, fids := snap.VideoIDs(), snap.FolderIDs()
	snap = nil
	runtime.GC()

	viewer := library.Viewer{UserID: "u-bench", Roles: []string{"role0", "role1", "role2"}, Segments: map[string]string{"tier": "t0"}}
	open := func(b *testing.B, opts *library.Options) *library.Service {
		lib, err := library.New(st, opts)
		require.NoError(b, err)
		require.NoError(b, lib.Refresh(ctx))
		return lib
	}
	rng := rand.New(rand.NewPCG(1, 2))
	edit := func(b *testing.B, id string) {
		b.Helper()
		objs, err := st.LoadObjects(ctx, nil, []string{id})
		require.NoError(b, err)
		v := objs.Videos[0]
		v.Title = "edited " + strconv.Itoa(rng.IntN(1e9))
		_, err = st.Update(ctx, func(tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{v}) })
		require.NoError(b, err)
	}
	measure := func(b *testing.B, lib *library.Service, change func(b *testing.B, id string), after ...func(id string)) {
		var took time.Duration
		for b.Loop() {
			b.StopTimer()
			id := vids[rng.IntN(len(vids))]
			change(b, id)
			runtime.GC() // memstore's Update copies the whole tree: collect that outside the clock
			b.StartTimer()
			t0 := time.Now()
			require.NoError(b, lib.Refresh(ctx))
			for _, f := range after {
				f(id)
			}
			took += time.Since(t0)
			b.StopTimer()
			if _, err := lib.Video(ctx, viewer, id); err != nil && !errors.Is(err, library.ErrNotFound) {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(took.Microseconds())/1000/float64(b.N), "ms/change")
	}

	b.Run("edit", func(b *testing.B) {
		lib := open(b, &library.Options{PollInterval: -1})
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		measure(b, lib, edit)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
	})
	b.Run("edit-search", func(b *testing.B) {
		lib := open(b, &library.Options{PollInterval: -1})
		search := func(id string) {
			if _, err := lib.Search(ctx, viewer, library.SearchQuery{Q: "edited " + id}); err != nil {
				b.Fatal(err)
			}
		}
		search("warm") // the first generation's index
		measure(b, lib, edit, search)
	})
	b.Run("move", func(b *testing.B) {
		lib := open(b, &library.Options{PollInterval: -1})
		measure(b, lib, func(b *testing.B, id string) {
			_, err := st.Update(ctx, func(tx tree.Tx) error {
				return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: fids[rng.IntN(len(fids))], VideoVimeoID: id}})
			})
			require.NoError(b, err)
		})
	})
	b.Run("move-search", func(b *testing.B) {
		lib := open(b, &library.Options{PollInterval: -1, WarmSearch: true})
		search := func(id string) {
			if _, err := lib.Search(ctx, viewer, library.SearchQuery{Q: "moved " + id}); err != nil {
				b.Fatal(err)
			}
		}
		search("warm") // the first generation's index
		measure(b, lib, func(b *testing.B, id string) {
			_, err := st.Update(ctx, func(tx tree.Tx) error {
				return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: fids[rng.IntN(len(fids))], VideoVimeoID: id}})
			})
			require.NoError(b, err)
		}, search)
	})
	deleted := map[string]bool{}
	b.Run("delete", func(b *testing.B) {
		lib := open(b, &library.Options{PollInterval: -1})
		measure(b, lib, func(b *testing.B, id string) {
			for deleted[id] {
				id = vids[rng.IntN(len(vids))]
			}
			deleted[id] = true
			_, err := st.Update(ctx, func(tx tree.Tx) error { return tx.DeleteVideos(ctx, []string{id}) })
			require.NoError(b, err)
		})
	})
	added := 0
	b.Run("add", func(b *testing.B) {
		lib := open(b, &library.Options{PollInterval: -1})
		measure(b, lib, func(b *testing.B, id string) {
			objs, err := st.LoadObjects(ctx, nil, []string{vids[0]})
			require.NoError(b, err)
			v := objs.Videos[0]
			added++
			v.VimeoID, v.Title = strconv.Itoa(1_000_000_000+added), "added "+strconv.Itoa(added)
			v.CreatedAt = v.CreatedAt.Add(time.Duration(rng.IntN(1000)) * time.Hour)
			_, err = st.Update(ctx, func(tx tree.Tx) error {
				if err := tx.UpsertVideos(ctx, []tree.Video{v}); err != nil {
					return err
				}
				return tx.PlaceVideos(ctx, []tree.Placement{{FolderVimeoID: fids[rng.IntN(len(fids))], VideoVimeoID: v.VimeoID}})
			})
			require.NoError(b, err)
		})
	})
	b.Run("reload", func(b *testing.B) {
		lib := open(b, &library.Options{PollInterval: -1, NoPatch: true})
		measure(b, lib, edit)
	})
}

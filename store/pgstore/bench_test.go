package pgstore_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

// genTree returns nFolders folders in a tree of the given depth under one root
// (ids "1"…), nVideos videos spread over the folders, and their placements.
func genTree(nFolders, nVideos, depth int) ([]tree.Folder, []tree.Video, []tree.Placement) {
	folders := []tree.Folder{{VimeoID: "1", Name: "root"}}
	level := []string{"1"}
	perLevel := (nFolders - 1 + depth - 1) / depth // ceil: the last level takes the rest
	for d := 0; d < depth && len(folders) < nFolders; d++ {
		var next []string
		for i := 0; i < perLevel && len(folders) < nFolders; i++ {
			id := strconv.Itoa(len(folders) + 1)
			folders = append(folders, tree.Folder{VimeoID: id, ParentVimeoID: level[i%len(level)], Name: "folder " + id, SortOrder: i})
			next = append(next, id)
		}
		level = next
	}
	videos := make([]tree.Video, nVideos)
	ps := make([]tree.Placement, nVideos)
	now := time.Now()
	for i := range videos {
		id := strconv.Itoa(1_000_000 + i)
		videos[i] = tree.Video{VimeoID: id, Title: "Video " + id, Description: "A video about " + id,
			ThumbnailURL: "https://i.vimeocdn.com/video/" + id + "_640x360.jpg", DurationSeconds: 60 + i%3600,
			Status: tree.StatusAvailable, Visibility: tree.VisibilityUnlisted, EmbedKey: fmt.Sprintf("%010x", i),
			CreatedAt: now, ModifiedAt: now}
		ps[i] = tree.Placement{FolderVimeoID: folders[i%len(folders)].VimeoID, VideoVimeoID: id, SortOrder: i}
	}
	return folders, videos, ps
}

func fill(tb testing.TB, s *pgstore.Store, folders []tree.Folder, videos []tree.Video, ps []tree.Placement) {
	ctx := context.Background()
	_, err := s.Update(ctx, func(tx tree.Tx) error { return tx.UpsertFolders(ctx, folders) })
	require.NoError(tb, err)
	for chunk := range slices.Chunk(videos, 20_000) {
		_, err := s.Update(ctx, func(tx tree.Tx) error { return tx.UpsertVideos(ctx, chunk) })
		require.NoError(tb, err)
	}
	for chunk := range slices.Chunk(ps, 20_000) {
		_, err := s.Update(ctx, func(tx tree.Tx) error { return tx.PlaceVideos(ctx, chunk) })
		require.NoError(tb, err)
	}
}

// BenchmarkLoadSnapshot loads a 100,000-video / 10,000-folder / depth-10 mirror
// (target ≤ 1.5 s and ≤ 300 MB heap). heap-MB is the live heap the snapshot
// holds after a GC.
func BenchmarkLoadSnapshot(b *testing.B) {
	s := open(b)
	folders, videos, ps := genTree(10_000, 100_000, 10)
	fill(b, s, folders, videos, ps)
	ctx := context.Background()
	var snap *tree.Snapshot
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		var err error
		snap, err = s.LoadSnapshot(ctx, tree.LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	nf, nv := snap.Len()
	if nf != 10_000 || nv != 100_000 {
		b.Fatalf("loaded %d folders, %d videos", nf, nv)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
	runtime.KeepAlive(snap)
}

// BenchmarkUpsertVideos inserts new videos in bulk, 10,000 per transaction
// (target ≥ 20,000 videos/s), then re-upserts them changed.
func BenchmarkUpsertVideos(b *testing.B) {
	for _, mode := range []string{"insert", "update"} {
		b.Run(mode, func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			const n = 10_000
			round := 0
			var videos []tree.Video
			for b.Loop() {
				b.StopTimer()
				if mode == "insert" || videos == nil {
					_, videos, _ = genTree(1, n, 1)
					for i := range videos {
						videos[i].VimeoID = strconv.Itoa(round*n + i + 1)
					}
					if mode == "update" {
						_, err := s.Update(ctx, func(tx tree.Tx) error { return tx.UpsertVideos(ctx, videos) })
						require.NoError(b, err)
					}
				}
				for i := range videos {
					videos[i].Title = fmt.Sprintf("round %d video %d", round, i)
				}
				round++
				b.StartTimer()
				_, err := s.Update(ctx, func(tx tree.Tx) error { return tx.UpsertVideos(ctx, videos) })
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "videos/s")
		})
	}
}

// BenchmarkMoveSubtree moves a 1,000-folder, 10-level subtree back and forth
// between two parents; each move rewrites every path below it in one statement.
func BenchmarkMoveSubtree(b *testing.B) {
	s := open(b)
	ctx := context.Background()
	sub, _, _ := genTree(1001, 0, 10)
	sub[0].ParentVimeoID = "a" // the subtree's root hangs under a
	folders := append([]tree.Folder{{VimeoID: "top"}, {VimeoID: "a", ParentVimeoID: "top"}, {VimeoID: "b", ParentVimeoID: "top"}}, sub...)
	_, err := s.Update(ctx, func(tx tree.Tx) error { return tx.UpsertFolders(ctx, folders) })
	require.NoError(b, err)
	to := []string{"b", "a"}
	i := 0
	for b.Loop() {
		_, err := s.Update(ctx, func(tx tree.Tx) error { return tx.MoveFolder(ctx, "1", to[i%2]) })
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

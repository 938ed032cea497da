package library_test

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/tree"
)

// The search benchmarks run on the benchmark library (100,000 videos,
// 10,000 folders, 2,000 rules, 500 audiences) with text (librarytest.WithText).
var (
	benchTextOnce sync.Once
	benchTextSnap *tree.Snapshot
	benchVocab    []string
)

func benchTextLibrary(b *testing.B) (*tree.Snapshot, []string) {
	g := benchLibrary(b)
	benchTextOnce.Do(func() {
		var err error
		benchTextSnap, benchVocab, err = librarytest.WithText(g.Snapshot, 18)
		if err != nil {
			panic(err)
		}
	})
	return benchTextSnap, benchVocab
}

// BenchmarkSearch is one search (first page of 20) per iteration, cycling
// through 500 audiences and 2,000 queries, on a warm index; p50-ms and
// p99-ms are per-search latencies.
func BenchmarkSearch(b *testing.B) {
	snap, vocab := benchTextLibrary(b)
	g := benchLibrary(b)
	lib, err := library.New(librarytest.NewStatic(snap, g.Rules), &library.Options{PollInterval: -1})
	require.NoError(b, err)
	ctx := context.Background()
	require.NoError(b, lib.Refresh(ctx))
	viewers := newBench(b).viewers
	queries := librarytest.TextQueries(vocab, 2_000, 7)
	_, err = lib.Search(ctx, viewers[0], library.SearchQuery{Q: "warm"}) // builds the index
	require.NoError(b, err)
	lat := make([]time.Duration, 0, 1<<16)
	found := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		p, err := lib.SearchJSON(ctx, viewers[i%len(viewers)], library.SearchQuery{Q: queries[i%len(queries)]})
		if err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
		if len(p.JSON) > 200 {
			found++
		}
	}
	reportLatency(b, lat)
	b.ReportMetric(float64(found)/float64(b.N), "found/op")
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkSearchIndexBuild builds the search index of a content
// generation (what the first search after a content change pays, or the
// background build after a rebuild); heap-MB is the index's live heap.
func BenchmarkSearchIndexBuild(b *testing.B) {
	snap, _ := benchTextLibrary(b)
	g := benchLibrary(b)
	ctx := context.Background()
	st := librarytest.NewStatic(snap, g.Rules)
	lib, err := library.New(st, &library.Options{PollInterval: -1})
	require.NoError(b, err)
	require.NoError(b, lib.Refresh(ctx))
	v := library.Viewer{UserID: "u", Roles: g.Roles}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = lib.Search(ctx, v, library.SearchQuery{Q: "x"})
	require.NoError(b, err)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		st.SetSnapshot(snap)
		require.NoError(b, lib.Refresh(ctx))
		b.StartTimer()
		if _, err := lib.Search(ctx, v, library.SearchQuery{Q: "x" + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRebuildContentText is BenchmarkRebuildContent on the library with
// text: the snapshot build the search index is compared with.
func BenchmarkRebuildContentText(b *testing.B) {
	snap, _ := benchTextLibrary(b)
	g := benchLibrary(b)
	ctx := context.Background()
	st := librarytest.NewStatic(snap, g.Rules)
	lib, err := library.New(st, &library.Options{PollInterval: -1})
	require.NoError(b, err)
	require.NoError(b, lib.Refresh(ctx))
	b.ReportAllocs()
	for b.Loop() {
		st.SetSnapshot(snap)
		if err := lib.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

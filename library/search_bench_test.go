package library_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/tree"
)

// The search benchmarks run on the benchmark library (100,000 videos,
// 10,000 folders, 2,000 rules, 500 audiences) with text: titles of 2–7
// words, descriptions of 10–60 words and 0–4 tags drawn (Zipf) from a
// vocabulary of 20,000 made-up words, some accented, some in a spaceless
// script, and folder names of 1–3 words.
var (
	benchTextOnce sync.Once
	benchTextSnap *tree.Snapshot
	benchVocab    []string
)

func benchTextLibrary(b *testing.B) (*tree.Snapshot, []string) {
	g := benchLibrary(b)
	benchTextOnce.Do(func() {
		r := rand.New(rand.NewPCG(18, 18))
		syll := []string{"ka", "lo", "ri", "men", "ta", "vo", "sel", "dri", "un", "pa", "tor", "é", "ça", "ne", "ü", "bo", "gra", "fi", "sto", "que"}
		cjk := []string{"研修", "会社", "動画", "新人", "営業", "説明", "安全", "技術"}
		seen := map[string]bool{}
		for len(benchVocab) < 20_000 {
			var w string
			if r.IntN(50) == 0 {
				w = cjk[r.IntN(len(cjk))] + cjk[r.IntN(len(cjk))]
			} else {
				for range 2 + r.IntN(3) {
					w += syll[r.IntN(len(syll))]
				}
			}
			if !seen[w] {
				seen[w] = true
				benchVocab = append(benchVocab, w)
			}
		}
		z := rand.NewZipf(r, 1.1, 2, uint64(len(benchVocab)-1))
		text := func(n int) string {
			ws := make([]string, n)
			for i := range ws {
				ws[i] = benchVocab[z.Uint64()]
				if i == 0 {
					ws[i] = strings.ToUpper(ws[i][:1]) + ws[i][1:]
				}
			}
			return strings.Join(ws, " ")
		}
		folders := g.Snapshot.Folders()
		for i := range folders {
			folders[i].Name = text(1 + r.IntN(3))
		}
		videos := g.Snapshot.Videos()
		for i := range videos {
			videos[i].Title = text(2 + r.IntN(6))
			videos[i].Description = text(10 + r.IntN(51))
			for range r.IntN(5) {
				videos[i].Tags = append(videos[i].Tags, text(1))
			}
		}
		var err error
		benchTextSnap, err = tree.New(g.Snapshot.Version(), folders, videos, g.Snapshot.Placements())
		if err != nil {
			panic(err)
		}
	})
	return benchTextSnap, benchVocab
}

// benchQueries are what users type: one or two words, whole or cut short
// (typing), some with a typo, some in the spaceless script.
func benchQueries(vocab []string, n int) []string {
	r := rand.New(rand.NewPCG(7, 7))
	z := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	out := make([]string, 0, n)
	for len(out) < n {
		w := []rune(vocab[z.Uint64()])
		switch k := r.IntN(10); {
		case k < 3 && len(w) > 3: // typing: a prefix of two or more letters
			w = w[:2+r.IntN(len(w)-2)]
		case k < 5 && len(w) >= 5: // a transposition
			i := r.IntN(len(w) - 1)
			w[i], w[i+1] = w[i+1], w[i]
		}
		q := string(w)
		if r.IntN(3) == 0 {
			q = vocab[z.Uint64()] + " " + q
		}
		out = append(out, q)
	}
	return out
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
	queries := benchQueries(vocab, 2_000)
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

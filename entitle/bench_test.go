package entitle

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/vidlib/vidlib/tree"
)

// The benchmark library: 100,000 videos in 10,000 folders, depth 10, 2,000
// rules and 500 distinct audiences. Run with
//
//	go test -run '^$' -bench . -benchmem ./entitle/
const (
	benchFolders   = 10_000
	benchVideos    = 100_000
	benchRules     = 2_000
	benchAudiences = 500
	benchDepth     = 10
)

type benchLib struct {
	snap      *tree.Snapshot
	rules     []Rule
	audiences []Audience
	oracle    []oracleAudience
	videos    []string // sample of video ids to check, about half of them visible to some
}

var (
	benchOnce sync.Once
	bench     benchLib
)

func benchLibrary(b *testing.B) *benchLib {
	benchOnce.Do(func() {
		r := rand.New(rand.NewPCG(1, 2))
		folders := make([]tree.Folder, benchFolders)
		depth := make([]int, benchFolders)
		byDepth := make([][]int, benchDepth)
		for i := range folders {
			f := tree.Folder{VimeoID: folderID(i), Name: fmt.Sprint("f", i), SortOrder: i}
			if i > 0 {
				d := 1 + r.IntN(benchDepth-1)
				if i < benchDepth {
					d = i // a full-depth chain first
				}
				for len(byDepth[d-1]) == 0 {
					d--
				}
				p := byDepth[d-1][r.IntN(len(byDepth[d-1]))]
				f.ParentVimeoID, depth[i] = folderID(p), d
			}
			byDepth[depth[i]] = append(byDepth[depth[i]], i)
			folders[i] = f
		}
		videos := make([]tree.Video, benchVideos)
		places := make([]tree.Placement, 0, benchVideos)
		for i := range videos {
			videos[i] = tree.Video{VimeoID: videoID(i), Status: tree.StatusAvailable, Title: fmt.Sprint("v", i)}
			if r.IntN(50) == 0 {
				videos[i].Status = tree.StatusTranscoding
			}
			places = append(places, tree.Placement{FolderVimeoID: folderID(r.IntN(benchFolders)), VideoVimeoID: videos[i].VimeoID, SortOrder: i})
		}
		snap, err := tree.New(1, folders, videos, places)
		if err != nil {
			panic(err)
		}
		subject := func() Subject {
			switch n := r.IntN(20); {
			case n == 0:
				return Subject{Kind: Everyone}
			case n < 11:
				return Subject{Kind: Role, Name: fmt.Sprint("role", r.IntN(50))}
			case n < 17:
				return Subject{Kind: Segment, Name: fmt.Sprint("seg", r.IntN(20)), Value: fmt.Sprint("v", r.IntN(5))}
			default:
				return Subject{Kind: User, Name: fmt.Sprint("user", r.IntN(1000))}
			}
		}
		rules := make([]Rule, benchRules)
		for i := range rules {
			rules[i] = Rule{ID: int64(i + 1), Subject: subject(), Effect: Allow}
			if r.IntN(4) == 0 {
				rules[i].Effect = Deny
			}
			if r.IntN(5) == 0 {
				rules[i].Target = Target{Kind: VideoTarget, ID: videoID(r.IntN(benchVideos))}
			} else {
				// Mostly shallow folders, as admins grant whole sections.
				d := min(r.IntN(4), benchDepth-1)
				rules[i].Target = Target{Kind: FolderTarget, ID: folderID(byDepth[d][r.IntN(len(byDepth[d]))])}
			}
		}
		lib := benchLib{snap: snap, rules: rules}
		seen := map[string]bool{}
		for len(lib.audiences) < benchAudiences {
			oa := oracleAudience{user: fmt.Sprint("user", r.IntN(2000)), segments: map[string]string{}}
			for range 1 + r.IntN(3) {
				oa.roles = append(oa.roles, fmt.Sprint("role", r.IntN(50)))
			}
			for range 1 + r.IntN(3) {
				oa.segments[fmt.Sprint("seg", r.IntN(20))] = fmt.Sprint("v", r.IntN(5))
			}
			a := oa.audience()
			if seen[a.userKey] {
				continue
			}
			seen[a.userKey] = true
			lib.audiences = append(lib.audiences, a)
			lib.oracle = append(lib.oracle, oa)
		}
		for range 4096 {
			lib.videos = append(lib.videos, videoID(r.IntN(benchVideos)))
		}
		bench = lib
	})
	return &bench
}

func BenchmarkCompile(b *testing.B) {
	lib := benchLibrary(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(lib.snap, lib.rules, 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVisibleNew is Visible for an audience the Index has not seen: the
// caches are emptied before every call.
func BenchmarkVisibleNew(b *testing.B) {
	lib := benchLibrary(b)
	x, err := New(lib.snap, lib.rules, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.views.clear()
		x.shared.clear()
		x.Visible(lib.audiences[i%len(lib.audiences)])
		i++
	}
	var visible int
	for _, a := range lib.audiences {
		_, n := x.Visible(a).Len()
		visible += n
	}
	b.ReportMetric(float64(visible)/float64(len(lib.audiences)), "visible-videos/audience")
}

func BenchmarkVisibleCached(b *testing.B) {
	lib := benchLibrary(b)
	x := warmIndex(b, lib)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.Visible(lib.audiences[i%len(lib.audiences)])
		i++
	}
}

// BenchmarkCheck asks about a random video for each of the 500 audiences in
// turn: every call touches a different View (the worst case for caches).
func BenchmarkCheck(b *testing.B) {
	lib := benchLibrary(b)
	x := warmIndex(b, lib)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.Check(lib.audiences[i%len(lib.audiences)], lib.videos[i%len(lib.videos)])
		i++
	}
}

// BenchmarkCheckOneAudience is Check for one audience on random videos (its
// View stays in cache), the pattern of one request checking many videos.
func BenchmarkCheckOneAudience(b *testing.B) {
	lib := benchLibrary(b)
	x := warmIndex(b, lib)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.Check(lib.audiences[7], lib.videos[i%len(lib.videos)])
		i++
	}
}

func BenchmarkExplain(b *testing.B) {
	lib := benchLibrary(b)
	x := warmIndex(b, lib)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.Explain(lib.audiences[i%len(lib.audiences)], lib.videos[i%len(lib.videos)])
		i++
	}
}

// BenchmarkOracleCheck is the literal oracle on the same questions as
// BenchmarkCheck, for comparison.
func BenchmarkOracleCheck(b *testing.B) {
	lib := benchLibrary(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		oracleVideo(lib.snap, lib.rules, lib.oracle[i%len(lib.oracle)], lib.videos[i%len(lib.videos)], nil)
		i++
	}
}

func BenchmarkNewAudience(b *testing.B) {
	roles := []string{"role7", "role3", "role42"}
	segs := map[string]string{"seg1": "v2", "seg9": "v0"}
	b.ReportAllocs()
	for b.Loop() {
		NewAudience("user17", roles, segs)
	}
}

// BenchmarkIndexMemory reports the heap held by a compiled Index with the 500
// audiences' views cached (the snapshot itself not counted).
func BenchmarkIndexMemory(b *testing.B) {
	lib := benchLibrary(b)
	var x *Index
	var before, after runtime.MemStats
	for b.Loop() {
		x = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		x = warmIndex(b, lib)
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	runtime.KeepAlive(x)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB-index+500-views")
}

func warmIndex(b *testing.B, lib *benchLib) *Index {
	x, err := New(lib.snap, lib.rules, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range lib.audiences {
		x.Visible(a)
	}
	return x
}

// BenchmarkExplainDetail is the admin's explanation with its verified
// counterfactuals, for each of the 500 audiences in turn on random videos.
func BenchmarkExplainDetail(b *testing.B) {
	lib := benchLibrary(b)
	x := warmIndex(b, lib)
	b.ReportAllocs()
	i, changes := 0, 0
	for b.Loop() {
		changes += len(x.ExplainDetail(lib.audiences[i%len(lib.audiences)], lib.videos[i%len(lib.videos)]).Changes)
		i++
	}
	b.ReportMetric(float64(changes)/float64(i), "changes/op")
}

// BenchmarkPreview previews adding one rule (an allow for a common role on a
// shallow folder) and removing one, over the 500 audiences: the second Index
// is compiled inside every iteration.
func BenchmarkPreview(b *testing.B) {
	lib := benchLibrary(b)
	x := warmIndex(b, lib)
	add := Rule{Subject: Subject{Kind: Role, Name: "role7"}, Target: Target{Kind: FolderTarget, ID: folderID(3)}, Effect: Allow}
	for _, r := range lib.rules {
		if r.Subject == add.Subject && r.Target == add.Target {
			b.Fatal("the benchmark's rule exists")
		}
	}
	for _, tc := range []struct {
		name   string
		change RuleChange
	}{{"add", RuleChange{Add: &add}}, {"remove", RuleChange{Remove: lib.rules[0].ID}}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var p *Preview
			for b.Loop() {
				var err error
				if p, err = x.Preview(tc.change, lib.audiences); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(p.Deltas)), "changed-audiences")
			b.ReportMetric(float64(p.NotMatching), "skipped-audiences")
		})
	}
}

// BenchmarkSummary counts per section for each of the 500 audiences in turn
// (their Views cached).
func BenchmarkSummary(b *testing.B) {
	lib := benchLibrary(b)
	x := warmIndex(b, lib)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.Summary(lib.audiences[i%len(lib.audiences)])
		i++
	}
}

// BenchmarkWhoCanSee asks who of the 500 audiences can see the root (the
// whole library: the worst case) and one deep folder.
func BenchmarkWhoCanSee(b *testing.B) {
	lib := benchLibrary(b)
	x := warmIndex(b, lib)
	for _, tc := range []struct{ name, folder string }{{"root", folderID(0)}, {"depth9", folderID(9)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var acc Access
			for b.Loop() {
				acc = x.WhoCanSee(Target{Kind: FolderTarget, ID: tc.folder}, lib.audiences)
			}
			b.ReportMetric(float64(len(acc.Allowed)), "allowed-audiences")
		})
	}
}

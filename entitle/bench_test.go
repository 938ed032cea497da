package entitle

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/vidlib/vidlib/tree"
)

// The benchmark library: 100,000 videos in 10,000 folders, depth 10, 2,000
// rules and 500 distinct audiences (scale100k); the user-view and WithRules
// benchmarks also run ten times larger (scale1M: 1M videos, 100k folders,
// 20k rules, 2,000 audiences). Run with
//
//	go test -run '^$' -bench . -benchmem ./entitle/
type benchScale struct {
	name                              string
	folders, videos, rules, audiences int
	users                             int // rules name user0 … user<users-1>; audiences have twice as many
}

const benchDepth = 10

var (
	scale100k = benchScale{name: "100k", folders: 10_000, videos: 100_000, rules: 2_000, audiences: 500, users: 1000}
	scale1M   = benchScale{name: "1M", folders: 100_000, videos: 1_000_000, rules: 20_000, audiences: 2_000, users: 10_000}
)

type benchLib struct {
	snap      *tree.Snapshot
	rules     []Rule
	audiences []Audience
	oracle    []oracleAudience
	videos    []string // sample of video ids to check, about half of them visible to some
}

var (
	benchMu   sync.Mutex
	benchLibs = map[string]*benchLib{}
)

func benchLibrary(b *testing.B) *benchLib { return benchLibraryOf(b, scale100k) }

// benchLibraryOf generates the library of a scale once per process (the
// larger one only when a benchmark asks for it).
func benchLibraryOf(b *testing.B, sc benchScale) *benchLib {
	benchMu.Lock()
	defer benchMu.Unlock()
	if lib, ok := benchLibs[sc.name]; ok {
		return lib
	}
	{
		r := rand.New(rand.NewPCG(1, 2))
		folders := make([]tree.Folder, sc.folders)
		depth := make([]int, sc.folders)
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
		videos := make([]tree.Video, sc.videos)
		places := make([]tree.Placement, 0, sc.videos)
		for i := range videos {
			videos[i] = tree.Video{VimeoID: videoID(i), Status: tree.StatusAvailable, Title: fmt.Sprint("v", i)}
			if r.IntN(50) == 0 {
				videos[i].Status = tree.StatusTranscoding
			}
			places = append(places, tree.Placement{FolderVimeoID: folderID(r.IntN(sc.folders)), VideoVimeoID: videos[i].VimeoID, SortOrder: i})
		}
		snap, err := tree.New(1, folders, videos, places)
		if err != nil {
			b.Fatal(err)
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
				return Subject{Kind: User, Name: fmt.Sprint("user", r.IntN(sc.users))}
			}
		}
		rules := make([]Rule, sc.rules)
		for i := range rules {
			rules[i] = Rule{ID: int64(i + 1), Subject: subject(), Effect: Allow}
			if r.IntN(4) == 0 {
				rules[i].Effect = Deny
			}
			if r.IntN(5) == 0 {
				rules[i].Target = Target{Kind: VideoTarget, ID: videoID(r.IntN(sc.videos))}
			} else {
				// Mostly shallow folders, as admins grant whole sections.
				d := min(r.IntN(4), benchDepth-1)
				rules[i].Target = Target{Kind: FolderTarget, ID: folderID(byDepth[d][r.IntN(len(byDepth[d]))])}
			}
		}
		lib := benchLib{snap: snap, rules: rules}
		seen := map[string]bool{}
		for len(lib.audiences) < sc.audiences {
			oa := oracleAudience{user: fmt.Sprint("user", r.IntN(2*sc.users)), segments: map[string]string{}}
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
			lib.videos = append(lib.videos, videoID(r.IntN(sc.videos)))
		}
		benchLibs[sc.name] = &lib
	}
	return benchLibs[sc.name]
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
// is derived (WithRules) inside every iteration.
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

// namedAudiences returns the benchmark audiences whose user some rule names.
func namedAudiences(x *Index, lib *benchLib) []Audience {
	var out []Audience
	for _, a := range lib.audiences {
		if _, ok := x.namedUsers[a.user]; ok {
			out = append(out, a)
		}
	}
	return out
}

// BenchmarkUserView is the view of a user some rule names, at both scales:
//
//   - whole: what Visible did for such a user before user views were deltas
//     (a whole compute over the library with the user's subjects);
//   - first-all: the first Visible of each named user when the view of its
//     roles and segments is cached (computing the delta of the user's
//     rules, or a whole compute for rules that cover over a quarter of the
//     library);
//   - first-delta: the same for the users whose rules cover less;
//   - cold: the first Visible with nothing cached (base view and delta);
//   - cached: Visible of a user whose view is cached.
//
// It reports the memory a user's view holds of its own (the base is shared):
// B/view as View.bytes counts it and heap-B/view measured on the heap, how
// many of the users' views were stored whole (deltas larger than a bitset
// view) and how many are the base itself (the user's rules change nothing).
func BenchmarkUserView(b *testing.B) {
	for _, sc := range []benchScale{scale100k, scale1M} {
		b.Run(sc.name, func(b *testing.B) {
			lib := benchLibraryOf(b, sc)
			x, err := New(lib.snap, lib.rules, 1, nil)
			if err != nil {
				b.Fatal(err)
			}
			named := namedAudiences(x, lib)
			type job struct {
				m    matched
				base *View
			}
			jobs := make([]job, len(named))
			for i, a := range named {
				m := x.match(a)
				jobs[i] = job{m, x.viewOf(m.without(m.user))}
			}
			b.Run("whole", func(b *testing.B) {
				i := 0
				for b.Loop() {
					x.compute(jobs[i%len(jobs)].m.ids)
					i++
				}
			})
			// At this scale too, a few users' views equal whole computes.
			for _, j := range jobs[:min(8, len(jobs))] {
				got, want := x.userView(j.base, j.m.ids, j.m.user), x.compute(j.m.ids)
				for pos := range int32(len(x.videoIDs)) {
					gl, _ := got.LockedAt(pos)
					wl, _ := want.LockedAt(pos)
					if got.VideoAt(pos) != want.VideoAt(pos) || got.ListedAt(pos) != want.ListedAt(pos) || gl != wl {
						b.Fatalf("video %s: the user's view differs from a whole compute", x.videoIDs[pos])
					}
				}
				for pos := range int32(len(x.folderIDs)) {
					if got.FolderAt(pos) != want.FolderAt(pos) {
						b.Fatalf("folder %s: the user's view differs from a whole compute", x.folderIDs[pos])
					}
				}
			}
			// Users whose rules cover more than a quarter of the library
			// (a rule on the root, say) get a whole compute turned into a
			// delta; first-delta is the others alone.
			var deltaJobs []job
			for _, j := range jobs {
				placed := 0
				for _, r := range x.bySubject[j.m.user] {
					if r.folder {
						placed += x.placedIn(r.target)
					}
				}
				if x.deltaShare*placed <= len(x.placeFolder) {
					deltaJobs = append(deltaJobs, j)
				}
			}
			b.Run("first-delta", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					j := deltaJobs[i%len(deltaJobs)]
					x.userView(j.base, j.m.ids, j.m.user)
					i++
				}
				b.ReportMetric(float64(len(deltaJobs)), "users")
			})
			b.Run("first-all", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					j := jobs[i%len(jobs)]
					x.userView(j.base, j.m.ids, j.m.user)
					i++
				}
				// Memory: every named user's view, its base cached.
				var before, after runtime.MemStats
				views := make([]*View, len(jobs))
				runtime.GC()
				runtime.ReadMemStats(&before)
				for i, j := range jobs {
					views[i] = x.userView(j.base, j.m.ids, j.m.user)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				own, whole, shares := 0, 0, 0
				for i, v := range views {
					switch {
					case v == jobs[i].base: // the user's rules change nothing
						shares++
					case v.base == nil:
						whole++
						own += v.bytes()
					default:
						own += v.bytes()
					}
				}
				runtime.KeepAlive(views)
				b.ReportMetric(float64(len(jobs)), "named-users")
				b.ReportMetric(float64(own)/float64(len(jobs)), "B/view")
				b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(len(jobs)), "heap-B/view")
				b.ReportMetric(float64(whole), "stored-whole")
				b.ReportMetric(float64(shares), "sharing-base")
				b.ReportMetric(float64(jobs[0].base.bytes()), "B/base-view")
			})
			b.Run("cold", func(b *testing.B) {
				i := 0
				for b.Loop() {
					x.views.clear()
					x.shared.clear()
					x.Visible(named[i%len(named)])
					i++
				}
			})
			b.Run("cached", func(b *testing.B) {
				for _, a := range named {
					x.Visible(a)
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					x.Visible(named[i%len(named)])
					i++
				}
			})
		})
	}
}

// BenchmarkWithRules derives an Index for a one-rule change from an Index
// whose views of every benchmark audience are cached, at both scales: a
// role rule's effect flipped (the views of audiences with that role are
// dropped), a user rule's effect flipped (only that user's is) — both early
// rules, so the rule part is compiled whole —, a role rule added with the
// next id and the newest rule removed (the rule part derived from x's), and
// New from scratch for comparison. carried-views is how many of the cached views the
// derived Index kept.
func BenchmarkWithRules(b *testing.B) {
	for _, sc := range []benchScale{scale100k, scale1M} {
		b.Run(sc.name, func(b *testing.B) {
			lib := benchLibraryOf(b, sc)
			x := warmIndex(b, lib)
			// flip changes the effect of the first folder rule of a kind whose
			// subject some benchmark audience has.
			flip := func(kind SubjectKind) []Rule {
				rules := slices.Clone(lib.rules)
				for i, r := range rules {
					if r.Subject.Kind == kind && r.Target.Kind == FolderTarget &&
						slices.ContainsFunc(lib.audiences, func(a Audience) bool { return a.Matches(r.Subject) }) {
						rules[i].Effect = map[Effect]Effect{Allow: Deny, Deny: Allow}[r.Effect]
						return rules
					}
				}
				b.Fatal("no rule to flip")
				return nil
			}
			// add appends a rule with the next id (as a store adds one) on a
			// folder for a role some audience has; removeLast drops the newest
			// rule (the rule change feed's usual shapes: WithRules derives
			// the rule part from x's).
			add := func() []Rule {
				var role Subject
				for _, r := range lib.rules {
					if r.Subject.Kind == Role && slices.ContainsFunc(lib.audiences, func(a Audience) bool { return a.Matches(r.Subject) }) {
						role = r.Subject
						break
					}
				}
				rules := x.Rules()
				return append(rules, Rule{ID: rules[len(rules)-1].ID + 1, Subject: role,
					Target: Target{Kind: FolderTarget, ID: lib.snap.FolderIDs()[len(lib.snap.FolderIDs())/2]}, Effect: Deny})
			}
			removeLast := func() []Rule {
				rules := x.Rules()
				return rules[:len(rules)-1]
			}
			for _, tc := range []struct {
				name  string
				rules []Rule
			}{{"role", flip(Role)}, {"user", flip(User)}, {"add", add()}, {"remove-last", removeLast()}} {
				b.Run(tc.name, func(b *testing.B) {
					b.ReportAllocs()
					var (
						y   *Index
						err error
					)
					for b.Loop() {
						if y, err = x.WithRules(tc.rules, 2); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(y.views.len()), "carried-views")
					b.ReportMetric(float64(x.views.len()), "cached-views")
				})
			}
			b.Run("new", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := New(lib.snap, lib.rules, 2, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkWithVideos patches an Index whose views of every benchmark
// audience are cached for one video change, at both scales: a video moved
// to another folder, a video soft-deleted, a new video placed in a folder;
// carried-views is how many cached views the patched Index kept (all, when
// the change is at most maxCarriedChanges videos). Compare New in
// BenchmarkWithRules, which starts with no view cached.
func BenchmarkWithVideos(b *testing.B) {
	for _, sc := range []benchScale{scale100k, scale1M} {
		b.Run(sc.name, func(b *testing.B) {
			lib := benchLibraryOf(b, sc)
			x := warmIndex(b, lib)
			id := lib.videos[0]
			v := *lib.snap.Video(id)
			folders := lib.snap.FolderIDs()
			patch := func(v tree.Video, places ...tree.Placement) *tree.Snapshot {
				s, err := lib.snap.Patch(2, tree.Objects{Videos: []tree.Video{v}, Placements: places})
				if err != nil {
					b.Fatal(err)
				}
				return s
			}
			deleted := v
			deleted.DeletedAt = deletedAt
			added := tree.Video{VimeoID: videoID(sc.videos), Status: tree.StatusAvailable, Title: "new"}
			for _, tc := range []struct {
				name string
				snap *tree.Snapshot
				id   string
			}{
				{"move", patch(v, tree.Placement{FolderVimeoID: folders[len(folders)/3], VideoVimeoID: id}), id},
				{"delete", patch(deleted), id},
				{"add", patch(added, tree.Placement{FolderVimeoID: folders[len(folders)/2], VideoVimeoID: added.VimeoID}), added.VimeoID},
			} {
				b.Run(tc.name, func(b *testing.B) {
					b.ReportAllocs()
					var (
						y   *Index
						err error
					)
					for b.Loop() {
						if y, err = x.WithVideos(tc.snap, []string{tc.id}); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(y.views.len()), "carried-views")
					b.ReportMetric(float64(x.views.len()), "cached-views")
				})
			}
		})
	}
}

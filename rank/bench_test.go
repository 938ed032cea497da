package rank_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/tree"
)

var benchNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// benchLibrary: 10 × 10 × 10 folders under a root, videos spread over the
// leaves, a role per second-level folder (100 roles) plus "member" on the
// first half of the library; users hold "member" and one to three roles and
// watch mostly in one or two favourite leaves.
func benchLibrary(tb testing.TB, videos, users int) (*entitle.Index, []rank.User) {
	r := rand.New(rand.NewPCG(1, 2))
	folders := []tree.Folder{{VimeoID: "1", Name: "root"}}
	var leaves []string
	var rules []entitle.Rule
	for a := range 10 {
		fa := strconv.Itoa(100 + a)
		folders = append(folders, tree.Folder{VimeoID: fa, ParentVimeoID: "1", Name: "A" + fa})
		if a < 5 {
			rules = append(rules, entitle.Rule{ID: int64(len(rules) + 1), Subject: entitle.Subject{Kind: entitle.Role, Name: "member"},
				Target: entitle.Target{Kind: entitle.FolderTarget, ID: fa}, Effect: entitle.Allow})
		}
		for b := range 10 {
			fb := strconv.Itoa(10000 + a*10 + b)
			folders = append(folders, tree.Folder{VimeoID: fb, ParentVimeoID: fa, Name: "B" + fb})
			rules = append(rules, entitle.Rule{ID: int64(len(rules) + 1), Subject: entitle.Subject{Kind: entitle.Role, Name: "r" + strconv.Itoa(a*10+b)},
				Target: entitle.Target{Kind: entitle.FolderTarget, ID: fb}, Effect: entitle.Allow})
			for c := range 10 {
				fc := strconv.Itoa(1000000 + a*100 + b*10 + c)
				folders = append(folders, tree.Folder{VimeoID: fc, ParentVimeoID: fb, Name: "C" + fc})
				leaves = append(leaves, fc)
			}
		}
	}
	vs := make([]tree.Video, videos)
	ps := make([]tree.Placement, videos)
	byLeaf := map[string][]string{}
	for i := range vs {
		id := strconv.Itoa(50_000_000 + i)
		vs[i] = tree.Video{VimeoID: id, Title: "v" + id, Status: tree.StatusAvailable, CreatedAt: benchNow.Add(-time.Duration(r.IntN(365*24)) * time.Hour)}
		leaf := leaves[r.IntN(len(leaves))]
		ps[i] = tree.Placement{FolderVimeoID: leaf, VideoVimeoID: id}
		byLeaf[leaf] = append(byLeaf[leaf], id)
	}
	snap, err := tree.New(1, folders, vs, ps)
	require.NoError(tb, err)
	idx, err := entitle.New(snap, rules, 1, nil)
	require.NoError(tb, err)
	us := make([]rank.User, users)
	for i := range us {
		u := rank.User{ID: fmt.Sprintf("user-%d", i), Roles: []string{"member"}}
		for range 1 + r.IntN(3) {
			u.Roles = append(u.Roles, "r"+strconv.Itoa(r.IntN(100)))
		}
		fav := leaves[r.IntN(len(leaves)/2)]
		for range 30 {
			var v string
			if l := byLeaf[fav]; len(l) > 0 && r.IntN(10) < 7 {
				v = l[r.IntN(len(l))]
			} else {
				v = vs[r.IntN(len(vs))].VimeoID
			}
			ratio := r.Float64()
			u.History = append(u.History, rank.Watch{VideoID: v, WatchedSeconds: 300 * ratio, Ratio: ratio, Completed: ratio > 0.9,
				LastAt: benchNow.Add(-time.Duration(r.IntN(60*24)) * time.Hour)})
		}
		us[i] = u
	}
	return idx, us
}

// BenchmarkFullRecompute: build the model from everyone's history and rank
// every user (top 200), on every CPU, as the pipeline's full recompute does
// (without the writes). Run with -benchtime=1x.
func BenchmarkFullRecompute(b *testing.B) {
	idx, users := benchLibrary(b, 100_000, 10_000)
	b.ResetTimer()
	for b.Loop() {
		m, err := rank.New(idx, users, &rank.Options{Now: func() time.Time { return benchNow }})
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		next := make(chan int)
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for i := range next {
					if f := m.Rank(&users[i]); len(f.Items) == 0 {
						panic("empty feed")
					}
				}
			})
		}
		for i := range users {
			next <- i
		}
		close(next)
		wg.Wait()
	}
	b.ReportMetric(float64(len(users)), "users/op")
}

// BenchmarkIncrementalRecompute: one user's feed with a built model (what
// the pipeline does on a ranking.features event).
func BenchmarkIncrementalRecompute(b *testing.B) {
	idx, users := benchLibrary(b, 100_000, 10_000)
	m, err := rank.New(idx, users, &rank.Options{Now: func() time.Time { return benchNow }})
	require.NoError(b, err)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Rank(&users[(i*7919)%len(users)]) // mostly audiences not seen before: their views are computed too
		i++
	}
}

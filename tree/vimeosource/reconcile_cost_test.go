package vimeosource_test

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

// countingStore counts the full snapshot loads and the applying transactions
// a mirror asks of its store.
type countingStore struct {
	tree.Store
	loads   atomic.Int64
	updates atomic.Int64
}

func (s *countingStore) LoadSnapshot(ctx context.Context, opts tree.LoadOptions) (*tree.Snapshot, error) {
	s.loads.Add(1)
	return s.Store.LoadSnapshot(ctx, opts)
}

func (s *countingStore) Update(ctx context.Context, fn func(tree.Tx) error) (int64, error) {
	s.updates.Add(1)
	return s.Store.Update(ctx, fn)
}

func (s *countingStore) reset() { s.loads.Store(0); s.updates.Store(0) }

// reconcileCost is what one reconciliation cost: snapshot loads, applying
// transactions, Vimeo requests (as the fake served them) and the changes
// applied.
type reconcileCost struct {
	loads, updates, requests, applied int
	version                           int64
}

func measureReconcile(t testing.TB, f *fixture, cs *countingStore, m *tree.Mirror) reconcileCost {
	t.Helper()
	cs.reset()
	before := len(f.srv.Requests())
	rep, err := m.Reconcile(context.Background(), tree.ReconcileOptions{})
	require.NoError(t, err)
	require.True(t, rep.Run.Complete, "%v", rep.Run.Errors)
	requests := len(f.srv.Requests()) - before
	require.Equal(t, requests, rep.Run.APICalls, "the run records the requests Vimeo served")
	return reconcileCost{loads: int(cs.loads.Load()), updates: int(cs.updates.Load()), requests: requests,
		applied: len(rep.Applied), version: rep.Version}
}

// The acceptance of the straight sync path: a reconciliation of an unchanged
// 50,000-video tree (5,000 with -short or -race) loads the snapshot once and applies
// nothing, a warm mirror (cached snapshot at the current version) loads it
// not at all, a changed reconciliation loads it once too (no second load to
// settle cascades), and a full reconciliation costs at most 1.05 × the
// minimum Vimeo calls (one GET of the root plus one call per page of 100
// items per folder listing).
func TestReconcileCost(t *testing.T) {
	videos := 50000
	if testing.Short() || raceEnabled {
		videos = 5000
	}
	cs := &countingStore{Store: memstore.New()}
	f := newFixture(t, cs, vimeotest.GenerateOptions{Seed: 7, Folders: videos / 100, Videos: videos}, nil)
	minCalls := f.acct.MinWalkCalls(f.root, 100)
	budget := minCalls + minCalls/20 // ≤ 1.05 × the minimum

	first := measureReconcile(t, f, cs, f.mirror)
	require.Equal(t, 1, first.loads, "the first reconciliation loads the (empty) mirror once")
	require.Greater(t, first.applied, videos, "the first reconciliation creates everything")
	require.LessOrEqual(t, first.requests, budget, "calls of a full reconciliation (minimum %d)", minCalls)
	requireMirrorEquals(t, f)

	// A fresh mirror over the same, unchanged store: one load, nothing applied.
	f.clock.Advance(time.Minute)
	fresh, err := tree.NewMirror(cs, f.src, &tree.MirrorOptions{Now: f.clock.Now})
	require.NoError(t, err)
	unchanged := measureReconcile(t, f, cs, fresh)
	require.Equal(t, 1, unchanged.loads, "an unchanged reconciliation loads the snapshot once")
	require.Zero(t, unchanged.updates, "an unchanged reconciliation applies nothing")
	require.Zero(t, unchanged.applied)
	require.Equal(t, first.version, unchanged.version)
	require.LessOrEqual(t, unchanged.requests, budget, "calls of a full reconciliation (minimum %d)", minCalls)
	t.Logf("%d videos: %d calls per full reconciliation, minimum %d (%.3f×)", videos, unchanged.requests, minCalls,
		float64(unchanged.requests)/float64(minCalls))

	// The mirror that applied the first reconciliation kept a snapshot of what
	// it wrote: its next, unchanged, reconciliation loads nothing at all.
	f.clock.Advance(time.Minute)
	warm := measureReconcile(t, f, cs, f.mirror)
	require.Zero(t, warm.loads, "a warm mirror reuses its snapshot")
	require.Zero(t, warm.updates)

	// A changed tree: no load on a warm mirror, the changes applied once, and
	// the next reconciliation finds nothing left to do.
	f.clock.Advance(time.Minute)
	changeSome(t, f)
	f.clock.Advance(time.Minute)
	changed := measureReconcile(t, f, cs, f.mirror)
	require.Zero(t, changed.loads, "a changed reconciliation on a warm mirror loads nothing: no second load to settle cascades")
	require.NotZero(t, changed.applied)
	requireMirrorEquals(t, f)
	f.clock.Advance(time.Minute)
	after := measureReconcile(t, f, cs, f.mirror)
	require.Zero(t, after.applied, "nothing left to settle")
	require.Zero(t, after.loads, "the snapshot kept after applying is the store's")
	require.Zero(t, after.updates)
}

// changeSome edits, moves and deletes a few videos and folders of the fake.
func changeSome(t testing.TB, f *fixture) {
	t.Helper()
	n := 0
	for _, v := range f.acct.Videos() {
		if v.FolderID == 0 || n >= 20 {
			continue
		}
		switch n % 3 {
		case 0:
			require.NoError(t, f.acct.RenameVideo(v.ID, "changed"))
		case 1:
			require.NoError(t, f.acct.MoveVideo(v.ID, f.root))
		case 2:
			require.NoError(t, f.acct.DeleteVideo(v.ID))
		}
		n++
	}
}

// BenchmarkReconcileUnchanged50k measures a full reconciliation of an
// unchanged 50,000-video tree (VIDLIB_BENCH_VIDEOS to change), walk against
// the fake Vimeo API included: cold (a fresh mirror, as after a restart: one
// snapshot load) and warm (the mirror that applied the tree: no load), on
// memstore and on PostgreSQL. It reports the snapshot loads, applying
// transactions and Vimeo calls per reconciliation, and calls against the
// minimum.
//
//	go test -run '^$' -bench ReconcileUnchanged50k -benchmem -benchtime 5x ./tree/vimeosource/
func BenchmarkReconcileUnchanged50k(b *testing.B) {
	videos := 50000
	if n, err := strconv.Atoi(os.Getenv("VIDLIB_BENCH_VIDEOS")); err == nil && n > 0 {
		videos = n
	}
	stores := []struct {
		name string
		open func(testing.TB) tree.Store
	}{
		{"memstore", func(testing.TB) tree.Store { return memstore.New() }},
		{"pgstore", func(t testing.TB) tree.Store { return openPG(t) }},
	}
	for _, st := range stores {
		for _, warm := range []bool{false, true} {
			name := st.name + "/cold"
			if warm {
				name = st.name + "/warm"
			}
			b.Run(name, func(b *testing.B) {
				cs := &countingStore{Store: st.open(b)}
				f := newFixture(b, cs, vimeotest.GenerateOptions{Seed: 42, Folders: videos / 100, Videos: videos}, nil)
				ctx := context.Background()
				_, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
				require.NoError(b, err)
				minCalls := f.acct.MinWalkCalls(f.root, 100)
				cs.reset()
				var calls, applied int
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					m := f.mirror
					if !warm {
						b.StopTimer()
						m, err = tree.NewMirror(cs, f.src, &tree.MirrorOptions{Now: f.clock.Now})
						require.NoError(b, err)
						b.StartTimer()
					}
					rep, err := m.Reconcile(ctx, tree.ReconcileOptions{})
					require.NoError(b, err)
					calls += rep.Run.APICalls
					applied += len(rep.Applied)
				}
				b.StopTimer()
				require.Zero(b, applied)
				b.ReportMetric(float64(cs.loads.Load())/float64(b.N), "loads/op")
				b.ReportMetric(float64(cs.updates.Load())/float64(b.N), "applies/op")
				b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
				b.ReportMetric(float64(calls)/float64(b.N)/float64(minCalls), "calls/min")
			})
		}
	}
}

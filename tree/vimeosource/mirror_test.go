package vimeosource_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
	"github.com/vidlib/vidlib/tree/changeevents"
	"github.com/vidlib/vidlib/tree/vimeosource"
	"github.com/vidlib/vidlib/vimeo"
	"github.com/vidlib/vidlib/vimeo/vimeotest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func openPG(t testing.TB) tree.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), testenv.PostgresURL(t), nil)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	_, err = s.Migrate(context.Background())
	require.NoError(t, err)
	return s
}

// fixture is a fake Vimeo account, a client and source over it, and a mirror
// into a store.
type fixture struct {
	acct   *vimeotest.Account
	srv    *vimeotest.Server
	clock  *vimeotest.VirtualClock
	root   int64
	src    *vimeosource.Source
	client *vimeo.Client
	mirror *tree.Mirror
	store  tree.Store

	mu      sync.Mutex
	touched []int64 // videos with events since the last drain (the webhook hints)
}

func newFixture(t testing.TB, store tree.Store, gen vimeotest.GenerateOptions, mopts *tree.MirrorOptions) *fixture {
	t.Helper()
	clock := vimeotest.NewVirtualClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	gen.Clock = clock
	acct, root, err := vimeotest.Generate(&gen)
	require.NoError(t, err)
	srv := vimeotest.Start(t, acct, &vimeotest.Options{Seed: gen.Seed})
	c, err := vimeo.New(srv.Token(), &vimeo.Options{BaseURL: srv.URL(), Clock: clock, Seed: 1,
		Retry: vimeo.RetryOptions{BaseBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}})
	require.NoError(t, err)
	src, err := vimeosource.New(c, strconv.FormatInt(root, 10), &vimeosource.Options{FolderPollInterval: -1, Now: clock.Now})
	require.NoError(t, err)
	var o tree.MirrorOptions
	if mopts != nil {
		o = *mopts
	}
	o.Record, o.RecordHeld, o.Now = changeevents.Record(), changeevents.RecordHeld(), clock.Now
	m, err := tree.NewMirror(store, src, &o)
	require.NoError(t, err)
	f := &fixture{acct: acct, srv: srv, clock: clock, root: root, src: src, client: c, mirror: m, store: store}
	acct.Subscribe(func(e vimeotest.Event) {
		if e.VideoID != 0 {
			f.mu.Lock()
			f.touched = append(f.touched, e.VideoID)
			f.mu.Unlock()
		}
	})
	return f
}

func (f *fixture) drain() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.touched
	f.touched = nil
	return out
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// truth is the fake's tree under the root, as the token sees it.
func (f *fixture) truth(t testing.TB) *vimeotest.Snapshot {
	s, err := f.acct.Snapshot(f.root, "date", "asc")
	require.NoError(t, err)
	return s
}

// requireMirrorEquals compares the live mirror with the fake, object by object.
func requireMirrorEquals(t testing.TB, f *fixture) {
	t.Helper()
	want := f.truth(t)
	got, err := f.store.LoadSnapshot(context.Background(), tree.LoadOptions{})
	require.NoError(t, err)
	nf, nv := got.Len()
	require.Equal(t, len(want.Folders), nf, "folders")
	require.Equal(t, len(want.Videos), nv, "videos")
	for _, wf := range want.Folders {
		g := got.Folder(wf.ID)
		require.NotNil(t, g, "folder %s", wf.ID)
		require.Equal(t, wf.ParentID, g.ParentVimeoID, "parent of folder %s", wf.ID)
		require.Equal(t, wf.Name, g.Name, "name of folder %s", wf.ID)
		require.Equal(t, wf.Position, g.SortOrder, "position of folder %s", wf.ID)
	}
	for _, wv := range want.Videos {
		g := got.Video(wv.ID)
		require.NotNil(t, g, "video %s", wv.ID)
		require.Equal(t, []string{wv.FolderID}, got.FoldersOf(wv.ID), "folder of video %s", wv.ID)
		require.Equal(t, wv.Name, g.Title, "title of video %s", wv.ID)
		require.Equal(t, wv.Privacy, string(g.Visibility), "visibility of video %s", wv.ID)
		require.Equal(t, wv.Duration, g.DurationSeconds, "duration of video %s", wv.ID)
		require.Equal(t, wv.Status == "available", g.Status == tree.StatusAvailable, "status of video %s: %s vs %s", wv.ID, wv.Status, g.Status)
		if wv.Privacy == "unlisted" {
			require.Equal(t, wv.Hash, g.EmbedKey, "embed key of video %s", wv.ID)
		}
		pos := slices.IndexFunc(got.Contents(wv.FolderID), func(p tree.Placement) bool { return p.VideoVimeoID == wv.ID })
		require.Equal(t, wv.Position, got.Contents(wv.FolderID)[pos].SortOrder, "position of video %s", wv.ID)
	}
}

// requireSafeDeletes: nothing a step deleted is still in the fake's tree, and
// an incomplete reconciliation deleted nothing.
func requireSafeDeletes(t testing.TB, f *fixture, what string, rep *tree.Report) {
	t.Helper()
	if rep == nil {
		return
	}
	truth := f.truth(t)
	in := map[string]bool{}
	for _, x := range truth.Folders {
		in["f"+x.ID] = true
	}
	for _, x := range truth.Videos {
		in["v"+x.ID] = true
	}
	for _, c := range rep.Applied {
		if !c.Kind.IsDelete() {
			continue
		}
		if what == "reconcile" {
			require.True(t, rep.Run.Complete, "an incomplete walk deleted %s", c)
		}
		key := "v" + c.VimeoID
		if c.Kind.IsFolder() {
			key = "f" + c.VimeoID
		}
		require.False(t, in[key], "%s deleted %s, which the source still has", what, c)
	}
}

// mutate makes one random change to the fake, the way people change Vimeo.
func mutate(r *rand.Rand, f *fixture, outside int64) {
	a := f.acct
	sub := a.Subtree(f.root)
	folders := sub[1:]
	pickFolder := func() int64 { return sub[r.IntN(len(sub))] }
	var videos []int64
	inSub := map[int64]bool{}
	for _, id := range sub {
		inSub[id] = true
	}
	for _, v := range a.Videos() {
		if inSub[v.FolderID] {
			videos = append(videos, v.ID)
		}
	}
	pickVideo := func() int64 {
		if len(videos) == 0 {
			return 0
		}
		return videos[r.IntN(len(videos))]
	}
	anyFolder := func() int64 {
		if len(folders) == 0 {
			return f.root
		}
		return folders[r.IntN(len(folders))]
	}
	switch r.IntN(15) {
	case 0:
		_ = a.RenameFolder(anyFolder(), fmt.Sprintf("renamed %d", r.IntN(1000)))
	case 1:
		_ = a.RenameVideo(pickVideo(), fmt.Sprintf("title %d", r.IntN(1000)))
	case 2, 3:
		_ = a.MoveVideo(pickVideo(), pickFolder())
	case 4: // out of the root, or back in
		if r.IntN(2) == 0 {
			_ = a.MoveVideo(pickVideo(), []int64{0, outside}[r.IntN(2)])
		} else {
			for _, v := range a.Videos() {
				if !inSub[v.FolderID] {
					_ = a.MoveVideo(v.ID, pickFolder())
					break
				}
			}
		}
	case 5:
		_ = a.MoveFolder(anyFolder(), pickFolder())
	case 6: // a subtree leaves the root, or comes back
		if r.IntN(2) == 0 && len(folders) > 0 {
			_ = a.MoveFolder(anyFolder(), outside)
		} else {
			for _, fo := range a.Folders() {
				if fo.ParentID == outside {
					_ = a.MoveFolder(fo.ID, pickFolder())
					break
				}
			}
		}
	case 7:
		if len(folders) > 2 {
			_ = a.DeleteFolder(anyFolder(), r.IntN(2) == 0)
		}
	case 8:
		_ = a.DeleteVideo(pickVideo())
	case 9:
		_, _ = a.CreateFolder(pickFolder(), fmt.Sprintf("new %d", r.IntN(1000)))
	case 10:
		_, _ = a.CreateVideo(pickFolder(), vimeotest.VideoSpec{Name: fmt.Sprintf("fresh %d", r.IntN(1000)), Transcode: []string{"complete", "in_progress"}[r.IntN(2)]})
	case 11:
		_ = a.SetPrivacy(pickVideo(), []string{"anybody", "unlisted", "nobody", "disable"}[r.IntN(4)])
	case 12:
		_ = a.SetTranscode(pickVideo(), []string{"in_progress", "complete", "error"}[r.IntN(3)])
	case 13:
		if len(folders) > 0 {
			_ = a.Revoke(anyFolder())
		}
	case 14:
		for _, fo := range a.Folders() {
			if fo.Revoked {
				_ = a.Restore(fo.ID)
				break
			}
		}
	}
}

func convergence(t *testing.T, newStore func(t *testing.T) tree.Store, seed uint64, steps int) {
	ctx := context.Background()
	f := newFixture(t, newStore(t), vimeotest.GenerateOptions{Seed: seed, Folders: 14, Videos: 90, WideFolders: -1},
		&tree.MirrorOptions{MaxDeleteShare: 0.3})
	r := rand.New(rand.NewPCG(seed, 99))
	outside, err := f.acct.CreateFolder(0, "Elsewhere")
	require.NoError(t, err)

	rep, err := f.mirror.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerStartup})
	require.NoError(t, err)
	require.True(t, rep.Run.Complete)
	requireMirrorEquals(t, f)

	stats := map[string]int{}
	for step := 0; step < steps; step++ {
		for n := 1 + r.IntN(3); n > 0; n-- {
			mutate(r, f, outside)
		}
		f.clock.Advance(2 * time.Second)
		chaos := r.IntN(4) == 0
		if chaos {
			f.srv.SetChaos(0.08, 0.3, 0.02)
		}
		if r.IntN(5) == 0 { // a change in the middle of a walk
			sub := f.acct.Subtree(f.root)
			f.srv.AddFault(vimeotest.Fault{Path: "/users/*/projects/*/items", After: r.IntN(6), Before: func(a *vimeotest.Account) {
				for _, v := range a.Videos() {
					if slices.Contains(sub, v.FolderID) {
						_ = a.MoveVideo(v.ID, sub[r.IntN(len(sub))])
						return
					}
				}
			}})
		}
		var what string
		var rep *tree.Report
		var err error
		switch k := r.IntN(10); {
		case k < 3:
			what = "reconcile"
			rep, err = f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
		case k < 6:
			what = "poll"
			rep, err = f.mirror.Poll(ctx)
		default:
			what = "refresh"
			hints := f.drain()
			r.Shuffle(len(hints), func(i, j int) { hints[i], hints[j] = hints[j], hints[i] })
			for _, id := range hints {
				if r.IntN(5) == 0 {
					continue // dropped
				}
				for n := 1 + r.IntN(2); n > 0; n-- { // sometimes duplicated
					rep, err = f.mirror.RefreshVideo(ctx, itoa64(id), tree.TriggerWebhook)
					requireSafeDeletes(t, f, what, rep)
				}
			}
		}
		f.srv.SetChaos(0, 0, 0)
		f.srv.ClearFaults()
		if !chaos && what != "refresh" {
			require.NoError(t, err, "step %d %s", step, what)
		}
		requireSafeDeletes(t, f, what, rep)
		if rep != nil {
			stats[what]++
			for _, c := range rep.Applied {
				stats[what+" "+string(c.Kind)]++
			}
			stats[what+" held"] += len(rep.Held)
			stats[what+" skipped"] += len(rep.Skipped)
		}
	}
	t.Logf("seed %d: %v", seed, stats)
	require.Positive(t, stats["poll video.moved"]+stats["poll video.updated"]+stats["refresh video.updated"], "polls and refreshes applied changes")

	// Access back, faults off, one clean reconciliation: the mirror equals the source.
	for _, fo := range f.acct.Folders() {
		if fo.Revoked {
			require.NoError(t, f.acct.Restore(fo.ID))
		}
	}
	f.clock.Advance(2 * time.Second)
	rep, err = f.mirror.Reconcile(ctx, tree.ReconcileOptions{Trigger: tree.TriggerAdmin, AllowMassDelete: true})
	require.NoError(t, err)
	require.True(t, rep.Run.Complete, "%v", rep.Run.Errors)
	requireMirrorEquals(t, f)

	// And a second one finds nothing to do.
	rep, err = f.mirror.Reconcile(ctx, tree.ReconcileOptions{})
	require.NoError(t, err)
	require.Empty(t, rep.Applied)
}

func convergenceRuns() (seeds, steps int) {
	seeds, steps = 3, 20
	if n, err := strconv.Atoi(os.Getenv("VIDLIB_CONVERGENCE_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	return seeds, steps
}

// TestMirrorConvergesPostgres: random accounts, random Vimeo changes
// interleaved with reconciliations, polls and webhook refreshes (dropped,
// duplicated, reordered) under faults; a partial walk never deletes, and a
// final clean reconciliation makes the PostgreSQL mirror equal the source.
func TestMirrorConvergesPostgres(t *testing.T) {
	seeds, steps := convergenceRuns()
	for s := 1; s <= seeds; s++ {
		t.Run(fmt.Sprintf("seed%d", s), func(t *testing.T) {
			convergence(t, func(t *testing.T) tree.Store { return openPG(t) }, uint64(s), steps)
		})
	}
}

func TestMirrorConvergesMemstore(t *testing.T) {
	seeds, steps := convergenceRuns()
	for s := 1; s <= seeds; s++ {
		t.Run(fmt.Sprintf("seed%d", s), func(t *testing.T) {
			convergence(t, func(*testing.T) tree.Store { return memstore.New() }, uint64(100+s), steps)
		})
	}
}

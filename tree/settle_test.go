package tree_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// truth is a source tree that a test edits at will: folders by id with
// their parent, videos with the folder they are in. Objects it drops are
// gone (404); everything it has lies under root.
type truth struct {
	root    string
	folders map[string]tree.Folder
	videos  map[string]tree.Video
	home    map[string]tree.Placement // video → its placement
	calls   int
}

func (tr *truth) snapshot() (*tree.Snapshot, error) {
	var fs []tree.Folder
	for _, f := range tr.folders {
		fs = append(fs, f)
	}
	var vs []tree.Video
	var ps []tree.Placement
	for id, v := range tr.videos {
		vs = append(vs, v)
		ps = append(ps, tr.home[id])
	}
	return tree.New(0, fs, vs, ps)
}

func (tr *truth) Walk(context.Context) (*tree.Walk, error) {
	s, err := tr.snapshot()
	if err != nil {
		return nil, err
	}
	tr.calls++
	return &tree.Walk{RootVimeoID: tr.root, Folders: s.Folders(), Videos: s.Videos(), Placements: s.Placements(),
		Complete: true, Calls: 1}, nil
}

func (tr *truth) Video(_ context.Context, id string) (*tree.RemoteVideo, error) {
	tr.calls++
	v, ok := tr.videos[id]
	if !ok {
		return nil, fmt.Errorf("%w: video %s", tree.ErrNotFound, id)
	}
	return &tree.RemoteVideo{Video: v, FolderVimeoID: tr.home[id].FolderVimeoID, Calls: 1}, nil
}

func (tr *truth) Folder(_ context.Context, id string) (*tree.RemoteFolder, error) {
	tr.calls++
	f, ok := tr.folders[id]
	if !ok {
		return nil, fmt.Errorf("%w: folder %s", tree.ErrNotFound, id)
	}
	rf := &tree.RemoteFolder{Folder: f, Calls: 1}
	for p := f.ParentVimeoID; p != ""; p = tr.folders[p].ParentVimeoID {
		rf.Ancestors = append(rf.Ancestors, p)
	}
	return rf, nil
}

func (tr *truth) Changes(context.Context, tree.Cursor) (*tree.Changes, error) {
	return &tree.Changes{NotModified: true}, nil
}

// subtree is the folder and its descendants in the truth.
func (tr *truth) subtree(id string) []string {
	out := []string{id}
	for i := 0; i < len(out); i++ {
		for cid, f := range tr.folders {
			if f.ParentVimeoID == out[i] {
				out = append(out, cid)
			}
		}
	}
	return out
}

// edit changes the truth at random: renames, edits, moves, creations,
// deletions of videos and of whole subtrees, and the return of objects
// deleted earlier (gone holds them), sometimes with only part of a subtree,
// which is what makes a folder restore cascade.
func (tr *truth) edit(rng *rand.Rand, next *int, gone *truth) {
	ids := func(m map[string]tree.Folder) []string {
		var out []string
		for id := range m {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	vids := func() []string {
		var out []string
		for id := range tr.videos {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	at := time.Date(2026, 3, 1, 0, 0, *next, 0, time.UTC)
	for range 1 + rng.IntN(6) {
		fs, vs := ids(tr.folders), vids()
		pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
		switch rng.IntN(9) {
		case 0: // rename a folder
			f := tr.folders[pick(fs)]
			f.Name = fmt.Sprintf("renamed %d", *next)
			tr.folders[f.VimeoID] = f
		case 1: // edit a video
			if len(vs) > 0 {
				v := tr.videos[pick(vs)]
				v.Title, v.ModifiedAt = fmt.Sprintf("edited %d", *next), at
				tr.videos[v.VimeoID] = v
			}
		case 2: // move a video
			if len(vs) > 0 {
				id := pick(vs)
				tr.home[id] = tree.Placement{FolderVimeoID: pick(fs), VideoVimeoID: id, SortOrder: rng.IntN(5)}
			}
		case 3: // move a folder (not the root, not under itself)
			id := pick(fs)
			to := pick(fs)
			if id != tr.root && !slices.Contains(tr.subtree(id), to) {
				f := tr.folders[id]
				f.ParentVimeoID = to
				tr.folders[id] = f
			}
		case 4: // create a folder with a video
			*next++
			id := strconv.Itoa(*next)
			tr.folders[id] = tree.Folder{VimeoID: id, ParentVimeoID: pick(fs), Name: "new " + id, SortOrder: rng.IntN(5), CreatedAt: at, ModifiedAt: at}
			*next++
			vid := strconv.Itoa(*next)
			tr.videos[vid] = tree.Video{VimeoID: vid, Title: "new " + vid, Status: tree.StatusAvailable, CreatedAt: at, ModifiedAt: at}
			tr.home[vid] = tree.Placement{FolderVimeoID: id, VideoVimeoID: vid}
		case 5: // delete a video
			if len(vs) > 0 {
				id := pick(vs)
				gone.videos[id], gone.home[id] = tr.videos[id], tr.home[id]
				delete(tr.videos, id)
				delete(tr.home, id)
			}
		case 6: // delete a subtree with its videos
			id := pick(fs)
			if id == tr.root {
				continue
			}
			sub := tr.subtree(id)
			for vid, p := range tr.home {
				if slices.Contains(sub, p.FolderVimeoID) {
					gone.videos[vid], gone.home[vid] = tr.videos[vid], p
					delete(tr.videos, vid)
					delete(tr.home, vid)
				}
			}
			for _, d := range sub {
				gone.folders[d] = tr.folders[d]
				delete(tr.folders, d)
			}
		case 7: // bring back a deleted folder, with some of what was under it
			gf := ids(gone.folders)
			if len(gf) == 0 {
				continue
			}
			id := pick(gf)
			f := gone.folders[id]
			if _, ok := tr.folders[f.ParentVimeoID]; !ok {
				f.ParentVimeoID = pick(fs)
			}
			tr.folders[id] = f
			delete(gone.folders, id)
			for _, d := range gf { // children of what came back, by chance
				g, ok := gone.folders[d]
				if !ok || rng.IntN(2) == 0 {
					continue
				}
				if _, parentBack := tr.folders[g.ParentVimeoID]; parentBack {
					tr.folders[d] = g
					delete(gone.folders, d)
				}
			}
		case 8: // bring back a deleted video
			var gv []string
			for id := range gone.videos {
				gv = append(gv, id)
			}
			if len(gv) == 0 {
				continue
			}
			slices.Sort(gv)
			id := pick(gv)
			tr.videos[id] = gone.videos[id]
			tr.home[id] = tree.Placement{FolderVimeoID: pick(fs), VideoVimeoID: id}
			delete(gone.videos, id)
			delete(gone.home, id)
		}
	}
}

// described puts a snapshot into comparable words: every object with its
// source fields, whether it is deleted, which deleted folders were deleted
// together (the classes a restore cascades over), and every placement.
// Internal ids, UpdatedAt and the deletion instants themselves are the
// store's own and are left out.
func described(s *tree.Snapshot) []string {
	var out []string
	together := map[time.Time][]string{}
	for _, f := range s.Folders() {
		out = append(out, fmt.Sprintf("folder %s parent=%q name=%q order=%d created=%s modified=%s deleted=%v",
			f.VimeoID, f.ParentVimeoID, f.Name, f.SortOrder, f.CreatedAt.UTC(), f.ModifiedAt.UTC(), f.Deleted()))
		if f.Deleted() {
			together[f.DeletedAt] = append(together[f.DeletedAt], f.VimeoID)
		}
	}
	for _, ids := range together {
		slices.Sort(ids)
		out = append(out, "deleted together "+strings.Join(ids, ","))
	}
	for _, v := range s.Videos() {
		out = append(out, fmt.Sprintf("video %s title=%q status=%s hidden=%v modified=%s deleted=%v",
			v.VimeoID, v.Title, v.Status, v.Hidden, v.ModifiedAt.UTC(), v.Deleted()))
	}
	for _, p := range s.Placements() {
		out = append(out, fmt.Sprintf("placed %s in %s at %d", p.VideoVimeoID, p.FolderVimeoID, p.SortOrder))
	}
	slices.Sort(out)
	return out
}

type loadCounter struct {
	tree.Store
	loads int
}

func (s *loadCounter) LoadSnapshot(ctx context.Context, opts tree.LoadOptions) (*tree.Snapshot, error) {
	s.loads++
	return s.Store.LoadSnapshot(ctx, opts)
}

// The snapshot a mirror keeps after applying a reconciliation (computed in
// memory, not loaded) is the one the store would load, on random edits that
// include partial restores of deleted subtrees; and one reconciliation is
// enough: the store equals the source after it, with no second load.
func TestReconcileKeepsTheStoresSnapshot(t *testing.T) {
	stores := map[string]func(t *testing.T) tree.Store{
		"memstore": func(*testing.T) tree.Store { return memstore.New() },
		"pgstore": func(t *testing.T) tree.Store {
			s, err := pgstore.Open(context.Background(), testenv.PostgresURL(t), nil)
			require.NoError(t, err)
			t.Cleanup(s.Close)
			_, err = s.Migrate(context.Background())
			require.NoError(t, err)
			return s
		},
	}
	seeds, rounds := 12, 25
	if testing.Short() {
		seeds = 4
	}
	for _, name := range []string{"memstore", "pgstore"} {
		t.Run(name, func(t *testing.T) {
			for seed := range seeds {
				t.Run(strconv.Itoa(seed), func(t *testing.T) {
					checkSettle(t, stores[name](t), uint64(seed), rounds)
				})
			}
		})
	}
}

func checkSettle(t *testing.T, store tree.Store, seed uint64, rounds int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	tr := &truth{root: "1", folders: map[string]tree.Folder{}, videos: map[string]tree.Video{}, home: map[string]tree.Placement{}}
	gone := &truth{folders: map[string]tree.Folder{}, videos: map[string]tree.Video{}, home: map[string]tree.Placement{}}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tr.folders["1"] = tree.Folder{VimeoID: "1", Name: "Root", CreatedAt: t0, ModifiedAt: t0}
	next := 1
	for range 8 {
		tr.edit(rng, &next, gone)
	}
	cs := &loadCounter{Store: store}
	m, err := tree.NewMirror(cs, tr, &tree.MirrorOptions{MaxDeleteShare: 1, Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	other := false // another writer changed the store since the last round
	for round := range rounds {
		loads := cs.loads
		rep, err := m.Reconcile(ctx, tree.ReconcileOptions{})
		require.NoError(t, err, "round %d", round)
		require.Empty(t, rep.Skipped, "round %d", round)
		switch {
		case other:
			require.Equal(t, loads+1, cs.loads, "round %d: another writer moved the version: one load", round)
		case round > 0:
			require.Equal(t, loads, cs.loads, "round %d: the mirror reuses what it kept", round)
		}
		loads = cs.loads
		kept, err := tree.MirrorSnapshot(ctx, m)
		require.NoError(t, err)
		require.Equal(t, loads, cs.loads, "round %d: what the mirror applied is settled in memory, not loaded", round)
		loaded, err := store.LoadSnapshot(ctx, tree.LoadOptions{IncludeDeleted: true})
		require.NoError(t, err)
		require.Equal(t, loaded.Version(), kept.Version(), "round %d", round)
		require.Equal(t, described(loaded), described(kept), "round %d: kept snapshot vs the store's", round)

		// The live mirror is the source, after one reconciliation.
		want, err := tr.snapshot()
		require.NoError(t, err)
		live, err := store.LoadSnapshot(ctx, tree.LoadOptions{})
		require.NoError(t, err)
		require.Equal(t, described(want), described(live), "round %d: live mirror vs the source", round)
		require.Empty(t, tree.Diff(loaded, want), "round %d: nothing left to apply", round)

		tr.edit(rng, &next, gone)
		other = rng.IntN(3) == 0 && cascadeElsewhere(t, store, tr, gone, rng)
	}
}

// cascadeElsewhere deletes a live folder of the mirror with its subtree behind the
// mirror's back (as a poll that saw it leave the root does) while, at the
// source, the folder is back with part of that subtree gone: the next
// reconciliation restores it and must keep the rest deleted.
func cascadeElsewhere(t *testing.T, store tree.Store, tr, gone *truth, rng *rand.Rand) bool {
	ctx := context.Background()
	live, err := store.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	var cands []string
	for id := range tr.folders {
		if id != tr.root && len(tr.subtree(id)) > 1 && live.Folder(id) != nil {
			cands = append(cands, id)
		}
	}
	if len(cands) == 0 {
		return false
	}
	slices.Sort(cands)
	id := cands[rng.IntN(len(cands))]
	v, err := store.Update(ctx, func(tx tree.Tx) error { return tx.DeleteFolder(ctx, id) })
	require.NoError(t, err)
	require.Greater(t, v, live.Version())
	sub := tr.subtree(id)[1:]
	drop := tr.subtree(sub[rng.IntN(len(sub))])
	for vid, p := range tr.home {
		if slices.Contains(drop, p.FolderVimeoID) {
			gone.videos[vid], gone.home[vid] = tr.videos[vid], p
			delete(tr.videos, vid)
			delete(tr.home, vid)
		}
	}
	for _, d := range drop {
		gone.folders[d] = tr.folders[d]
		delete(tr.folders, d)
	}
	return true
}

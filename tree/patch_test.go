package tree_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

// flatTree is the oracle for Patch: the rows a store holds (deleted ones
// included) and a snapshot built from its live rows by New.
type flatTree struct {
	folders    map[string]tree.Folder
	videos     map[string]tree.Video
	placements map[string]map[string]int // video → folder → order
}

func (ft *flatTree) snapshot(t *testing.T, version int64) *tree.Snapshot {
	t.Helper()
	var fs []tree.Folder
	for _, f := range ft.folders {
		if !f.Deleted() {
			fs = append(fs, f)
		}
	}
	var vs []tree.Video
	for _, v := range ft.videos {
		if !v.Deleted() {
			vs = append(vs, v)
		}
	}
	var ps []tree.Placement
	for v, m := range ft.placements {
		for f, o := range m {
			if !ft.folders[f].Deleted() && !ft.videos[v].Deleted() {
				ps = append(ps, tree.Placement{FolderVimeoID: f, VideoVimeoID: v, SortOrder: o})
			}
		}
	}
	s, err := tree.New(version, fs, vs, ps)
	require.NoError(t, err)
	return s
}

// objects is what a store's LoadObjects returns for the ids.
func (ft *flatTree) objects(folders, videos map[string]bool) tree.Objects {
	var o tree.Objects
	for id := range folders {
		o.Folders = append(o.Folders, ft.folders[id])
	}
	for id := range videos {
		o.Videos = append(o.Videos, ft.videos[id])
	}
	for v, m := range ft.placements {
		for f, ord := range m {
			if folders[f] || videos[v] {
				o.Placements = append(o.Placements, tree.Placement{FolderVimeoID: f, VideoVimeoID: v, SortOrder: ord})
			}
		}
	}
	return o
}

func (ft *flatTree) subtree(root string) []string {
	out := []string{root}
	for i := 0; i < len(out); i++ {
		for id, f := range ft.folders {
			if f.ParentVimeoID == out[i] {
				out = append(out, id)
			}
		}
	}
	return out
}

func (ft *flatTree) ids(m map[string]tree.Folder) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func requirePatchedEqual(t *testing.T, want, got *tree.Snapshot, msg string) {
	t.Helper()
	require.Equal(t, want.Version(), got.Version(), msg)
	require.Equal(t, want.FolderIDs(), got.FolderIDs(), msg)
	require.Equal(t, want.Folders(), got.Folders(), msg)
	require.Equal(t, want.Videos(), got.Videos(), msg)
	require.Equal(t, want.Roots(), got.Roots(), msg)
	require.Equal(t, want.Placements(), got.Placements(), msg)
	for _, id := range want.FolderIDs() {
		require.Equal(t, want.Children(id), got.Children(id), msg)
		require.Equal(t, want.Path(id), got.Path(id), msg)
		require.Equal(t, want.Contents(id), got.Contents(id), msg)
	}
	for _, id := range want.VideoIDs() {
		require.Equal(t, want.FoldersOf(id), got.FoldersOf(id), msg)
	}
}

// TestPatchMatchesNew applies random edits, moves, deletes, restores and
// placement changes to a flat oracle and checks that patching the previous
// snapshot with the changed rows gives the snapshot New builds from scratch,
// and that the previous snapshot is left as it was.
func TestPatchMatchesNew(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			ft := &flatTree{folders: map[string]tree.Folder{}, videos: map[string]tree.Video{}, placements: map[string]map[string]int{}}
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			ft.folders["f0"] = tree.Folder{VimeoID: "f0", Name: "root"}
			for i := 1; i < 12; i++ {
				id := "f" + strconv.Itoa(i)
				ft.folders[id] = tree.Folder{VimeoID: id, ParentVimeoID: "f" + strconv.Itoa(rng.IntN(i)), Name: "n" + strconv.Itoa(rng.IntN(4)), SortOrder: rng.IntN(3)}
			}
			for i := range 30 {
				id := "v" + strconv.Itoa(i)
				ft.videos[id] = tree.Video{VimeoID: id, Title: "t", Status: tree.StatusAvailable, CreatedAt: t0}
				ft.placements[id] = map[string]int{"f" + strconv.Itoa(rng.IntN(12)): rng.IntN(5)}
			}
			version := int64(1)
			cur := ft.snapshot(t, version)
			before := ft.snapshot(t, version) // cur as New built it
			nextID := 100
			for step := range 60 {
				chF, chV := map[string]bool{}, map[string]bool{}
				for range 1 + rng.IntN(3) {
					fids := ft.ids(ft.folders)
					vids := make([]string, 0, len(ft.videos))
					for id := range ft.videos {
						vids = append(vids, id)
					}
					slices.Sort(vids)
					f := fids[rng.IntN(len(fids))]
					v := vids[rng.IntN(len(vids))]
					switch rng.IntN(11) {
					case 0: // rename / reorder a folder
						x := ft.folders[f]
						x.Name, x.SortOrder = "n"+strconv.Itoa(rng.IntN(4)), rng.IntN(3)
						ft.folders[f], chF[f] = x, true
					case 1: // move a live folder under a live one, never under itself
						p := fids[rng.IntN(len(fids))]
						if slices.Contains(ft.subtree(f), p) || ft.folders[p].Deleted() || ft.folders[f].Deleted() {
							continue
						}
						x := ft.folders[f]
						x.ParentVimeoID = p
						ft.folders[f], chF[f] = x, true
					case 2: // delete a subtree
						if ft.folders[f].Deleted() {
							continue
						}
						for _, id := range ft.subtree(f) {
							if x := ft.folders[id]; !x.Deleted() {
								x.DeletedAt = t0.Add(time.Duration(step+1) * time.Second)
								ft.folders[id], chF[id] = x, true
							}
						}
					case 3: // restore what was deleted with f
						x := ft.folders[f]
						if !x.Deleted() || ft.folders[x.ParentVimeoID].Deleted() {
							continue
						}
						when := x.DeletedAt
						for _, id := range ft.subtree(f) {
							if y := ft.folders[id]; y.DeletedAt.Equal(when) {
								y.DeletedAt = time.Time{}
								ft.folders[id], chF[id] = y, true
							}
						}
					case 4: // a new folder
						if ft.folders[f].Deleted() {
							continue
						}
						id := "f" + strconv.Itoa(nextID)
						nextID++
						ft.folders[id], chF[id] = tree.Folder{VimeoID: id, ParentVimeoID: f, Name: "new"}, true
					case 5: // edit a video's metadata
						x := ft.videos[v]
						x.Title = fmt.Sprintf("t%d", rng.IntN(100))
						x.Tags = []string{"tag" + strconv.Itoa(rng.IntN(3))}
						ft.videos[v], chV[v] = x, true
					case 6: // status, hidden
						x := ft.videos[v]
						x.Status = []tree.VideoStatus{tree.StatusAvailable, tree.StatusTranscoding}[rng.IntN(2)]
						x.Hidden = rng.IntN(2) == 0
						ft.videos[v], chV[v] = x, true
					case 7: // delete / restore a video
						x := ft.videos[v]
						if x.Deleted() {
							x.DeletedAt = time.Time{}
						} else {
							x.DeletedAt = t0
						}
						ft.videos[v], chV[v] = x, true
					case 8: // move a video (or place it twice)
						m := map[string]int{f: rng.IntN(5)}
						if rng.IntN(4) == 0 {
							m[fids[rng.IntN(len(fids))]] = rng.IntN(5)
						}
						ft.placements[v], chV[v] = m, true
					case 9: // unplace a video
						delete(ft.placements, v)
						chV[v] = true
					case 10: // a new video
						id := "v" + strconv.Itoa(nextID)
						nextID++
						ft.videos[id] = tree.Video{VimeoID: id, Title: "new", Status: tree.StatusAvailable}
						ft.placements[id] = map[string]int{f: 0}
						chV[id] = true
					}
				}
				version++
				want := ft.snapshot(t, version)
				got, err := cur.Patch(version, ft.objects(chF, chV))
				require.NoError(t, err, "step %d", step)
				requirePatchedEqual(t, want, got, fmt.Sprintf("step %d", step))
				requirePatchedEqual(t, before, cur, fmt.Sprintf("step %d: the old snapshot changed", step))
				cur, before = got, want
			}
		})
	}
}

func TestPatchRejectsBadObjects(t *testing.T) {
	s, err := tree.New(1, []tree.Folder{{VimeoID: "1"}, {VimeoID: "2", ParentVimeoID: "1"}},
		[]tree.Video{{VimeoID: "v", Status: tree.StatusAvailable}}, []tree.Placement{{FolderVimeoID: "2", VideoVimeoID: "v"}})
	require.NoError(t, err)
	cases := map[string]struct {
		objs tree.Objects
		want error
	}{
		"empty folder id":     {tree.Objects{Folders: []tree.Folder{{Name: "x"}}}, tree.ErrInvalid},
		"own parent":          {tree.Objects{Folders: []tree.Folder{{VimeoID: "2", ParentVimeoID: "2"}}}, tree.ErrCycle},
		"cycle":               {tree.Objects{Folders: []tree.Folder{{VimeoID: "1", ParentVimeoID: "2"}}}, tree.ErrCycle},
		"orphan":              {tree.Objects{Folders: []tree.Folder{{VimeoID: "1", DeletedAt: time.Now()}}}, tree.ErrOrphan},
		"bad status":          {tree.Objects{Videos: []tree.Video{{VimeoID: "v", Status: "gone"}}}, tree.ErrInvalid},
		"video twice":         {tree.Objects{Videos: []tree.Video{{VimeoID: "w", Status: tree.StatusAvailable}, {VimeoID: "w", Status: tree.StatusAvailable}}}, tree.ErrDuplicate},
		"unrelated placement": {tree.Objects{Placements: []tree.Placement{{FolderVimeoID: "1", VideoVimeoID: "v"}}}, tree.ErrInvalid},
		"placement twice": {tree.Objects{Videos: []tree.Video{{VimeoID: "v", Status: tree.StatusAvailable}},
			Placements: []tree.Placement{{FolderVimeoID: "1", VideoVimeoID: "v"}, {FolderVimeoID: "1", VideoVimeoID: "v", SortOrder: 1}}}, tree.ErrDuplicate},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := s.Patch(2, c.objs)
			require.ErrorIs(t, err, c.want)
			require.Nil(t, got)
			require.Equal(t, []string{"1", "2"}, s.FolderIDs())
			require.Equal(t, []string{"2"}, s.FoldersOf("v"))
		})
	}
}

// TestPatchChainFoldsItsChanges patches one lineage of snapshots with more
// changed videos than a snapshot keeps beside its shared map of videos
// (edits, deletes and new videos, over 1,500 patches), so that the changes
// are folded into a new map along the way, and checks every snapshot of the
// chain against New and that the first one never changes.
func TestPatchChainFoldsItsChanges(t *testing.T) {
	const n = 3000
	folders := []tree.Folder{f("1", "", 0), f("2", "1", 0)}
	videos := map[string]tree.Video{}
	placed := map[string]tree.Placement{}
	var vs []tree.Video
	var ps []tree.Placement
	for i := range n {
		id := strconv.Itoa(1000 + i)
		videos[id], placed[id] = v(id), p("2", id, i)
		vs, ps = append(vs, videos[id]), append(ps, placed[id])
	}
	first, err := tree.New(1, folders, vs, ps)
	require.NoError(t, err)
	firstVideos := first.Videos()
	cur := first
	r := rand.New(rand.NewPCG(5, 6))
	for step := range 1500 {
		id := strconv.Itoa(1000 + r.IntN(n+500))
		objs := tree.Objects{}
		switch x, ok := videos[id]; {
		case ok && r.IntN(4) == 0: // delete
			x.DeletedAt = time.Unix(1, 0)
			objs.Videos = []tree.Video{x}
			delete(videos, id)
			delete(placed, id)
		case ok: // edit
			x.Title = fmt.Sprint("edited ", step)
			videos[id] = x
			objs.Videos, objs.Placements = []tree.Video{x}, []tree.Placement{placed[id]}
		default: // new
			videos[id], placed[id] = v(id), p("1", id, step)
			objs.Videos, objs.Placements = []tree.Video{videos[id]}, []tree.Placement{placed[id]}
		}
		cur, err = cur.Patch(int64(step+2), objs)
		require.NoError(t, err)
		if step%100 == 99 || step == 1499 {
			want, err := tree.New(int64(step+2), folders, slices.Collect(maps.Values(videos)), slices.Collect(maps.Values(placed)))
			require.NoError(t, err)
			requirePatchedEqual(t, want, cur, fmt.Sprint("step ", step))
			_, nv := cur.Len()
			require.Equal(t, len(videos), nv)
		}
	}
	require.Equal(t, firstVideos, first.Videos(), "the first snapshot of the chain did not change")
}

package entitle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

// mutateVideos changes a few random videos of snap (or, with many, dozens:
// past maxCarriedChanges) as a mirror would: moved to other folders (live or
// not, one or several), soft-deleted and restored, made unavailable, hidden
// or private, unplaced, retitled, or added anew. It returns the new snapshot
// and the changed ids (a few unchanged ones among them: callers may name
// more than changed).
func mutateVideos(t *testing.T, r *rand.Rand, snap *tree.Snapshot, added *int, many bool) (*tree.Snapshot, []string) {
	folders, videos, places := snap.Folders(), snap.Videos(), snap.Placements()
	nf := len(folders)
	n := 1 + r.IntN(4)
	if many {
		n = 2*maxCarriedChanges + r.IntN(20)
	}
	var changed []string
	placeIn := func(id string, k int) {
		places = slices.DeleteFunc(places, func(p tree.Placement) bool { return p.VideoVimeoID == id })
		for _, f := range r.Perm(nf)[:min(k, nf)] {
			places = append(places, tree.Placement{FolderVimeoID: folderID(f), VideoVimeoID: id, SortOrder: r.IntN(9)})
		}
	}
	for range n {
		if len(videos) == 0 || r.IntN(10) == 0 { // a new video
			id := videoID(5000 + *added)
			*added++
			videos = append(videos, tree.Video{VimeoID: id, Status: tree.StatusAvailable, Title: "new"})
			placeIn(id, 1)
			changed = append(changed, id)
			continue
		}
		i := r.IntN(len(videos))
		v := &videos[i]
		changed = append(changed, v.VimeoID)
		k := r.IntN(12)
		if many {
			k = 0
		}
		switch {
		case k < 5: // moved (the usual one)
			placeIn(v.VimeoID, 1)
		case k == 5:
			placeIn(v.VimeoID, 2+r.IntN(2))
		case k == 6:
			placeIn(v.VimeoID, 0)
		case k == 7:
			if v.DeletedAt.IsZero() {
				v.DeletedAt = deletedAt
			} else {
				v.DeletedAt = time.Time{} // restored
			}
		case k == 8:
			if v.Status == tree.StatusAvailable {
				v.Status = tree.StatusUnavailable
			} else {
				v.Status = tree.StatusAvailable
			}
		case k == 9:
			v.Hidden = !v.Hidden
		case k == 10:
			if v.Visibility == "" {
				v.Visibility = tree.VisibilityNobody
			} else {
				v.Visibility = ""
			}
		default:
			v.Title += "!" // changes nothing the Index compiles
		}
	}
	if r.IntN(4) == 0 { // named but unchanged
		changed = append(changed, videos[r.IntN(len(videos))].VimeoID)
	}
	next, err := tree.New(snap.Version()+1, folders, videos, places)
	require.NoError(t, err)
	return next, changed
}

// TestWithVideosAgreesWithFresh: an Index patched with WithVideos after
// random video changes answers like one built with New from the same
// snapshot (and like the oracle) for every audience, users named by rules
// included, whether its views were carried over and patched or computed
// on the patched layout; positions of videos that stay candidates never
// move; the old Index keeps answering for the old snapshot. Views must be
// carried over, and some changes must be past maxCarriedChanges, or the
// test proves nothing.
func TestWithVideosAgreesWithFresh(t *testing.T) {
	seed := propertySeed(t)
	r := rand.New(rand.NewPCG(seed, 81))
	trials := 150
	if testing.Short() {
		trials = 50
	}
	var carried, cold, patchedLayouts, recompiled, pastBound int
	for trial := range trials {
		c := genUserCase(t, r)
		x, err := New(c.snap, c.rules, 1, &Options{MaxCachedAudiences: 64})
		require.NoError(t, err)
		added := 0
		for step := range 6 {
			for _, oa := range c.audiences[:r.IntN(len(c.audiences)+1)] { // some views cached, some not
				x.Visible(oa.audience())
			}
			many := step == 5 && trial%4 == 0
			snap, changed := mutateVideos(t, r, x.Snapshot(), &added, many)
			y, err := x.WithVideos(snap, changed)
			require.NoError(t, err)
			_, ch := x.withVideos(snap, changed)
			if len(ch) > maxCarriedChanges {
				require.Zero(t, y.views.len()+y.shared.len(), "views carried past maxCarriedChanges")
				pastBound++
			}
			if y.layout != x.layout {
				patchedLayouts++
			}
			if y.bySubject != nil && x.bySubject != nil && len(y.bySubject) > 0 && &y.bySubject[0] != &x.bySubject[0] {
				recompiled++
			}
			require.Same(t, snap, y.Snapshot())
			require.Equal(t, x.PatchedVideos()+len(ch), y.PatchedVideos(), "seed %d", seed)
			fresh, err := New(snap, c.rules, 1, nil)
			require.NoError(t, err)
			for _, id := range snap.VideoIDs() {
				if p := x.VideoPos(id); p >= 0 && fresh.VideoPos(id) >= 0 {
					require.Equal(t, p, y.VideoPos(id), "seed %d: video %s moved", seed, id)
				}
				require.Equal(t, fresh.VideoPos(id) >= 0, y.VideoPos(id) >= 0, "seed %d: video %s candidacy", seed, id)
			}
			for _, f := range snap.FolderIDs() {
				require.Equal(t, x.FolderPos(f), y.FolderPos(f))
			}
			// The same layout and rules with nothing cached: computed, not patched.
			coldIx := compile(y.layout, y.snap, y.rules, y.version, y.bounds, nil)
			gc := genCase{snap: snap}
			for _, oa := range c.audiences {
				a := oa.audience()
				where := fmt.Sprintf("seed %d trial %d step %d audience %+v", seed, trial, step, oa)
				if _, ok := y.views.get(y.CacheKey(a)); ok {
					carried++
				} else {
					cold++
				}
				got := y.Visible(a)
				checkViewAgainstOracle(t, where, gc, c.rules, y, oa, got)
				checkViewAgainstOracle(t, where+" (computed)", gc, c.rules, coldIx, oa, coldIx.Visible(a))
				want := fresh.Visible(a)
				require.Equal(t, want.VideoIDs(), got.VideoIDs(), where)
				require.Equal(t, want.FolderIDs(), got.FolderIDs(), where)
			}
			// The old Index is untouched.
			oa := c.audiences[r.IntN(len(c.audiences))]
			checkViewAgainstOracle(t, fmt.Sprintf("seed %d trial %d step %d (old index)", seed, trial, step),
				genCase{snap: x.Snapshot()}, c.rules, x, oa, x.Visible(oa.audience()))
			x = y
		}
	}
	t.Logf("%d views carried over and patched, %d computed; %d layouts patched, %d rule parts recompiled", carried, cold, patchedLayouts, recompiled)
	require.Greater(t, carried, 5*trials, "too few views carried over")
	require.Greater(t, cold, trials, "too few views computed")
	require.Greater(t, recompiled, 0, "no rule named a video that came or went")
	require.Greater(t, pastBound, 0, "no change past maxCarriedChanges")
}

// TestSameFolders: folder changes the Index does not compile (a name that
// keeps the siblings' order) leave SameFolders true, and WithVideos then
// answers as New does; a rename that reorders siblings, a move, a
// soft-deletion, a new folder make it false.
func TestSameFolders(t *testing.T) {
	seed := propertySeed(t)
	r := rand.New(rand.NewPCG(seed, 82))
	var same, differ int
	for trial := range 300 {
		c := genUserCase(t, r)
		x, err := New(c.snap, c.rules, 1, nil)
		require.NoError(t, err)
		folders, videos, places := c.snap.Folders(), c.snap.Videos(), c.snap.Placements()
		i := r.IntN(len(folders))
		f := &folders[i]
		switch k := r.IntN(5); {
		case k == 0: // renamed, maybe reordered
			f.Name = fmt.Sprint("renamed", r.IntN(100))
		case k == 1: // modified, nothing else
			f.ModifiedAt = deletedAt
		case k == 2 && f.ParentVimeoID != "" && i > 0: // moved under an earlier folder
			f.ParentVimeoID = folders[r.IntN(i)].VimeoID
		case k == 3:
			if f.DeletedAt.IsZero() {
				f.DeletedAt = deletedAt
			} else {
				f.DeletedAt = time.Time{}
			}
		default:
			folders = append(folders, tree.Folder{VimeoID: "777777", Name: "new", ParentVimeoID: f.VimeoID})
		}
		snap, err := tree.New(2, folders, videos, places)
		require.NoError(t, err)
		// The folders as New compiles them: a rename may reorder siblings, a
		// soft-deletion under a deleted folder or a move to the same parent
		// changes nothing.
		fresh, err := New(snap, c.rules, 1, nil)
		require.NoError(t, err)
		want := slices.Equal(fresh.folderIDs, x.folderIDs) && slices.Equal(fresh.parent, x.parent) && slices.Equal(fresh.live, x.live)
		where := fmt.Sprintf("seed %d trial %d", seed, trial)
		require.Equal(t, want, x.SameFolders(snap), where)
		if !want {
			differ++
			continue
		}
		y, err := x.WithVideos(snap, nil)
		require.NoError(t, err, where)
		same++
		for _, oa := range c.audiences {
			checkViewAgainstOracle(t, where, genCase{snap: snap}, c.rules, y, oa, y.Visible(oa.audience()))
		}
	}
	require.Greater(t, same, 50)
	require.Greater(t, differ, 50)
}

package rank

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/rank/ranktest"
	"github.com/vidlib/vidlib/tree"
)

func genSnapshot(t testing.TB, r *rand.Rand) *tree.Snapshot {
	nf := 1 + r.IntN(25)
	folders := make([]tree.Folder, nf)
	for i := range folders {
		folders[i] = tree.Folder{VimeoID: strconv.Itoa(100 + i), Name: "f" + strconv.Itoa(i)}
		if i > 0 {
			folders[i].ParentVimeoID = strconv.Itoa(100 + r.IntN(i))
		}
		if i > 0 && r.IntN(30) == 0 {
			folders[i].DeletedAt = now
		}
	}
	nv := r.IntN(120)
	videos := make([]tree.Video, nv)
	var places []tree.Placement
	for i := range videos {
		v := tree.Video{VimeoID: strconv.Itoa(5000 + i), Title: "v" + strconv.Itoa(i), Status: tree.StatusAvailable,
			CreatedAt: daysAgo(float64(r.IntN(400)))}
		if r.IntN(15) == 0 {
			v.Status = tree.StatusUnavailable
		}
		v.Hidden = r.IntN(25) == 0
		videos[i] = v
		for _, f := range r.Perm(nf)[:min(nf, 1+b2i(r.IntN(12) == 0))] {
			places = append(places, tree.Placement{FolderVimeoID: strconv.Itoa(100 + f), VideoVimeoID: v.VimeoID})
		}
	}
	snap, err := tree.New(1, folders, videos, places)
	require.NoError(t, err)
	return snap
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func genSubject(r *rand.Rand) entitle.Subject {
	switch n := r.IntN(10); {
	case n < 2:
		return entitle.Subject{Kind: entitle.Everyone}
	case n < 6:
		return entitle.Subject{Kind: entitle.Role, Name: fmt.Sprintf("r%d", r.IntN(3))}
	case n < 8:
		return entitle.Subject{Kind: entitle.Segment, Name: "tier", Value: fmt.Sprintf("t%d", r.IntN(2))}
	default:
		return entitle.Subject{Kind: entitle.User, Name: fmt.Sprintf("u%d", r.IntN(8))}
	}
}

func genRules(r *rand.Rand, snap *tree.Snapshot) []entitle.Rule {
	nf, nv := snap.Len()
	rules := make([]entitle.Rule, r.IntN(12))
	for i := range rules {
		rules[i] = entitle.Rule{ID: int64(i + 1), Subject: genSubject(r), Effect: entitle.Allow,
			Target: entitle.Target{Kind: entitle.FolderTarget, ID: strconv.Itoa(100 + r.IntN(nf))}}
		if nv > 0 && r.IntN(4) == 0 {
			rules[i].Target = entitle.Target{Kind: entitle.VideoTarget, ID: strconv.Itoa(5000 + r.IntN(nv))}
		}
		if r.IntN(3) == 0 {
			rules[i].Effect = entitle.Deny
		}
	}
	return rules
}

// genHistory watches any video of the snapshot, visible or not: the
// interaction stream may hold videos the user lost access to.
func genHistory(r *rand.Rand, snap *tree.Snapshot, n int) []Watch {
	_, nv := snap.Len()
	if nv == 0 {
		return nil
	}
	h := make([]Watch, 0, n)
	seen := map[string]bool{}
	for range n {
		id := strconv.Itoa(5000 + r.IntN(nv))
		if seen[id] {
			continue
		}
		seen[id] = true
		ratio := r.Float64()
		h = append(h, Watch{VideoID: id, WatchedSeconds: 300 * ratio, Ratio: ratio, Completed: ratio > 0.9,
			LastAt: daysAgo(r.Float64() * 60)})
	}
	return h
}

// TestNeverRanksWhatTheUserMayNotSee: random libraries, rules, rule changes
// and interaction streams; no feed, computed (what is stored) or filtered
// against a later index (what is served), ever holds a video the oracle says
// the user may not see.
func TestNeverRanksWhatTheUserMayNotSee(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	checked, nonEmpty := 0, 0
	for range 300 {
		snap := genSnapshot(t, r)
		rules := genRules(r, snap)
		idx, err := entitle.New(snap, rules, 1, nil)
		require.NoError(t, err)
		users := make([]User, 8)
		for i := range users {
			users[i] = User{ID: fmt.Sprintf("u%d", i), Segments: map[string]string{"tier": fmt.Sprintf("t%d", r.IntN(3))}}
			for k := range 3 {
				if r.IntN(2) == 0 {
					users[i].Roles = append(users[i].Roles, fmt.Sprintf("r%d", k))
				}
			}
			users[i].History = genHistory(r, snap, r.IntN(20))
		}
		m, err := New(idx, users, &Options{Now: clock, Size: 1 + r.IntN(40), MaxPerFolder: 1 + r.IntN(3)})
		require.NoError(t, err)
		stored := make([]*Feed, len(users))
		for i := range users {
			stored[i] = m.Rank(&users[i])
			for _, it := range stored[i].Items {
				require.True(t, ranktest.Visible(snap, rules, users[i].ID, users[i].Roles, users[i].Segments, it.VideoID), "computed feed of %s holds %s", users[i].ID, it.VideoID)
				checked++
			}
			if len(stored[i].Items) > 0 {
				nonEmpty++
			}
		}
		// Rules change and users keep watching; the stored feeds are served
		// through the new index before any recompute, then recomputed.
		for range 3 {
			rules = genRules(r, snap)
			idx2, err := entitle.New(snap, rules, 2, nil)
			require.NoError(t, err)
			for i := range users {
				users[i].History = append(users[i].History, genHistory(r, snap, 3)...)
				for _, it := range Filter(idx2, users[i].Audience(), stored[i].Items) {
					require.True(t, ranktest.Visible(snap, rules, users[i].ID, users[i].Roles, users[i].Segments, it.VideoID), "served feed of %s holds %s", users[i].ID, it.VideoID)
					checked++
				}
			}
			m2, err := New(idx2, users, &Options{Now: clock})
			require.NoError(t, err)
			for i := range users {
				stored[i] = m2.Rank(&users[i])
				for _, it := range stored[i].Items {
					require.True(t, ranktest.Visible(snap, rules, users[i].ID, users[i].Roles, users[i].Segments, it.VideoID), "recomputed feed of %s holds %s", users[i].ID, it.VideoID)
					checked++
				}
			}
		}
	}
	require.Greater(t, nonEmpty, 200, "the generator must produce feeds to check")
	t.Logf("checked %d feed items", checked)
}

// TestOracleAgreesWithTheIndex keeps the oracle honest: on random inputs
// it must say yes exactly where the index does (so the property above is
// not vacuous).
func TestOracleAgreesWithTheIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	yes := 0
	for range 100 {
		snap := genSnapshot(t, r)
		rules := genRules(r, snap)
		idx, err := entitle.New(snap, rules, 1, nil)
		require.NoError(t, err)
		u := User{ID: fmt.Sprintf("u%d", r.IntN(8)), Roles: []string{fmt.Sprintf("r%d", r.IntN(3))}, Segments: map[string]string{"tier": "t1"}}
		view := idx.Visible(u.Audience())
		for _, v := range snap.VideoIDs() {
			want := ranktest.Visible(snap, rules, u.ID, u.Roles, u.Segments, v)
			require.Equal(t, want, view.Video(v), "video %s", v)
			yes += b2i(want)
		}
	}
	require.Greater(t, yes, 100)
}

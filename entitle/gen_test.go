package entitle

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

// genCase is a random library for the property test.
type genCase struct {
	snap      *tree.Snapshot
	rules     []Rule
	audiences []oracleAudience
}

var deletedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func folderID(i int) string { return strconv.Itoa(100 + i) }
func videoID(i int) string  { return strconv.Itoa(100000 + i) }

// genSubject draws from a small pool so that audiences and rules meet often.
func genSubject(r *rand.Rand) Subject {
	switch n := r.IntN(22); {
	case n < 2:
		return Subject{Kind: Everyone}
	case n >= 20:
		return Subject{Kind: Public}
	case n < 9:
		return Subject{Kind: Role, Name: fmt.Sprintf("r%d", r.IntN(5))}
	case n < 15:
		return Subject{Kind: Segment, Name: fmt.Sprintf("k%d", r.IntN(3)), Value: fmt.Sprintf("v%d", r.IntN(3))}
	default:
		return Subject{Kind: User, Name: fmt.Sprintf("u%d", r.IntN(6))}
	}
}

func genAudience(r *rand.Rand) oracleAudience {
	if r.IntN(8) == 0 {
		return oracleAudience{anon: true, segments: map[string]string{}}
	}
	a := oracleAudience{segments: map[string]string{}}
	if r.IntN(4) > 0 {
		a.user = fmt.Sprintf("u%d", r.IntN(8)) // u6, u7 are never named by a rule
	}
	for i := range 6 { // r5 is never named by a rule
		if r.IntN(3) == 0 {
			a.roles = append(a.roles, fmt.Sprintf("r%d", i))
		}
	}
	for i := range 4 { // k3 is never named by a rule
		if r.IntN(2) == 0 {
			a.segments[fmt.Sprintf("k%d", i)] = fmt.Sprintf("v%d", r.IntN(4))
		}
	}
	return a
}

func (a oracleAudience) audience() Audience {
	if a.anon {
		return Anonymous()
	}
	return NewAudience(a.user, a.roles, a.segments)
}

// genLibrary builds a random snapshot: up to maxFolders folders in a forest of
// depth ≤ 10 (top level is depth 0), videos with every status, some hidden or
// deleted, a few unplaced or placed in several folders, a few deleted folders.
func genLibrary(t testing.TB, r *rand.Rand, maxFolders, maxVideos int) *tree.Snapshot {
	nf := 1 + r.IntN(maxFolders)
	folders := make([]tree.Folder, nf)
	depth := make([]int, nf)
	for i := range folders {
		f := tree.Folder{VimeoID: folderID(i), Name: "f" + strconv.Itoa(i), SortOrder: r.IntN(5)}
		if i > 0 && r.IntN(8) > 0 {
			p := i - 1 // mostly extend a chain, sometimes branch anywhere
			if r.IntN(3) == 0 {
				p = r.IntN(i)
			}
			if depth[p] >= 9 {
				p = 0 // folder 0 is top-level: depth 0
			}
			f.ParentVimeoID, depth[i] = folderID(p), depth[p]+1
		}
		if r.IntN(80) == 0 {
			f.DeletedAt = deletedAt
		}
		folders[i] = f
	}
	nv := r.IntN(maxVideos + 1)
	videos := make([]tree.Video, nv)
	var places []tree.Placement
	statuses := []tree.VideoStatus{tree.StatusTranscoding, tree.StatusTranscodeError, tree.StatusUnavailable}
	for i := range videos {
		v := tree.Video{VimeoID: videoID(i), Status: tree.StatusAvailable}
		if r.IntN(10) == 0 {
			v.Status = statuses[r.IntN(len(statuses))]
		}
		v.Hidden = r.IntN(20) == 0
		if r.IntN(20) == 0 {
			vis := []tree.Visibility{tree.VisibilityNobody, tree.VisibilityPassword, tree.VisibilityUnlisted, tree.VisibilityDisable, tree.VisibilityUsers}
			v.Visibility = vis[r.IntN(len(vis))]
		}
		if r.IntN(25) == 0 {
			v.EmbedPrivacy = []tree.EmbedPrivacy{tree.EmbedPrivate, tree.EmbedWhitelist}[r.IntN(2)]
		}
		if r.IntN(20) == 0 {
			v.DeletedAt = deletedAt
		}
		videos[i] = v
		n := 1
		switch k := r.IntN(20); {
		case k == 0:
			n = 0
		case k < 3:
			n = 2 + r.IntN(2)
		}
		for _, f := range r.Perm(nf)[:min(n, nf)] {
			places = append(places, tree.Placement{FolderVimeoID: folderID(f), VideoVimeoID: v.VimeoID, SortOrder: i})
		}
	}
	snap, err := tree.New(1, folders, videos, places)
	require.NoError(t, err)
	return snap
}

// genRules names existing folders and videos mostly, unknown ones sometimes;
// duplicates and contradictions are allowed (the Index must cope).
func genRules(r *rand.Rand, snap *tree.Snapshot, max int) []Rule {
	nf, nv := snap.Len()
	n := r.IntN(max + 1)
	rules := make([]Rule, n)
	for i := range rules {
		rule := Rule{ID: int64(i + 1), Subject: genSubject(r), Effect: Allow}
		switch k := r.IntN(12); {
		case k < 4:
			rule.Effect = Deny
		case k < 6:
			rule.Effect = Teaser
			rule.LockReason = LockReasons[1+r.IntN(len(LockReasons)-1)]
			if rule.Subject.Kind == Public && r.IntN(2) == 0 {
				rule.LockReason = LockSignIn
			}
		}
		switch k := r.IntN(20); {
		case k == 0:
			rule.Target = Target{Kind: FolderTarget, ID: "999999"}
		case k == 1:
			rule.Target = Target{Kind: VideoTarget, ID: "999999"}
		case k < 14 || nv == 0:
			rule.Target = Target{Kind: FolderTarget, ID: folderID(r.IntN(nf))}
		default:
			rule.Target = Target{Kind: VideoTarget, ID: videoID(r.IntN(nv))}
		}
		rules[i] = rule
	}
	// Shuffle so that rule order never carries meaning.
	r.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
	return rules
}

func genCaseOf(t testing.TB, r *rand.Rand) genCase {
	snap := genLibrary(t, r, 40, 100)
	c := genCase{snap: snap, rules: genRules(r, snap, 30)}
	for range 12 {
		c.audiences = append(c.audiences, genAudience(r))
	}
	return c
}

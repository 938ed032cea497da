package dataset

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/loadgen"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/tree"
)

func small(seed uint64) *Options {
	return &Options{Seed: seed, Folders: 300, Videos: 3000, Depth: 7, Rules: 150, Users: 400, Audiences: 60}
}

// checkShape asserts what the options promise.
func checkShape(t *testing.T, d *Dataset, o Options) {
	t.Helper()
	snap, err := d.Snapshot()
	require.NoError(t, err, "valid for tree.New")
	nf, nv := snap.Len()
	require.Equal(t, o.Folders, nf)
	require.Equal(t, o.Videos, nv)
	require.Len(t, d.Placements, o.Videos)
	require.Equal(t, []string{d.Folders[0].VimeoID}, snap.Roots(), "one root, as a mirrored Vimeo root folder")
	deepest := 0
	for _, id := range snap.FolderIDs() {
		deepest = max(deepest, snap.Depth(id))
	}
	require.Equal(t, o.Depth, deepest+1, "levels, the root being level 1")

	require.Len(t, d.Rules, o.Rules)
	pairs := map[string]bool{}
	kinds := map[entitle.SubjectKind]int{}
	effects := map[entitle.Effect]int{}
	users := map[string]bool{}
	for _, u := range d.Users {
		users[u.Subject] = true
	}
	for _, r := range d.Rules {
		require.NoError(t, r.Validate())
		key := r.Subject.String() + " " + r.Target.String()
		require.False(t, pairs[key], "duplicate rule %s", key)
		pairs[key] = true
		kinds[r.Subject.Kind]++
		effects[r.Effect]++
		if r.Target.Kind == entitle.FolderTarget {
			require.NotNil(t, snap.Folder(r.Target.ID))
		} else {
			require.NotNil(t, snap.Video(r.Target.ID))
		}
		if r.Subject.Kind == entitle.User {
			require.True(t, users[r.Subject.Name], "a user rule names a generated user")
		}
	}
	for _, k := range []entitle.SubjectKind{entitle.Everyone, entitle.Role, entitle.Segment, entitle.User} {
		require.Positive(t, kinds[k], "some %s rules", k)
	}
	require.Positive(t, effects[entitle.Allow])
	require.Positive(t, effects[entitle.Deny])

	require.Len(t, d.Users, o.Users)
	require.Len(t, d.Audiences, o.Audiences)
	distinct := map[string]bool{}
	perAudience := make([]int, o.Audiences)
	for _, u := range d.Users {
		distinct[entitle.NewAudience(u.Subject, u.Roles, u.Segments).Key()] = true
		require.Equal(t, entitle.NewAudience("", d.Audiences[u.Audience].Roles, d.Audiences[u.Audience].Segments).Key(),
			entitle.NewAudience("", u.Roles, u.Segments).Key())
		perAudience[u.Audience]++
	}
	require.Len(t, distinct, o.Audiences, "exactly Audiences distinct audiences among the users")
	require.NotContains(t, perAudience, 0, "every audience has a user")
}

func TestGenerateSmall(t *testing.T) {
	d, err := Generate(small(1))
	require.NoError(t, err)
	checkShape(t, d, *small(1))
}

func TestGenerateDefaultsAreTheIssueScale(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 videos")
	}
	d, err := Generate(nil)
	require.NoError(t, err)
	checkShape(t, d, Options{Folders: 10_000, Videos: 100_000, Depth: 10, Rules: 2_000, Users: 10_000, Audiences: 500})
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, err := Generate(small(7))
	require.NoError(t, err)
	b, err := Generate(small(7))
	require.NoError(t, err)
	require.Equal(t, a, b)
	c, err := Generate(small(8))
	require.NoError(t, err)
	require.NotEqual(t, a.Placements, c.Placements)
	require.NotEqual(t, a.Rules, c.Rules)
}

func TestGenerateRejectsImpossibleShapes(t *testing.T) {
	for _, o := range []Options{
		{Folders: 5, Depth: 10},
		{Depth: 1},
		{Users: 10, Audiences: 20},
		{Audiences: audienceSpace + 1, Users: audienceSpace + 1},
		{Videos: -1},
	} {
		_, err := Generate(&o)
		require.ErrorIs(t, err, ErrInvalid, "%+v", o)
	}
}

// Loading into memstore stores everything, users map to their roles and
// segments, and the workload's hits are visible (and misses invisible) to
// every user they are used for.
func TestLoadAndWorkload(t *testing.T) {
	ctx := context.Background()
	d, err := Generate(small(3))
	require.NoError(t, err)
	st := memstore.New()
	const issuer = "https://issuer.example/pool"
	loaded, err := d.Load(ctx, st, st, st, issuer)
	require.NoError(t, err)
	require.Positive(t, loaded.ContentVersion)
	require.Len(t, loaded.Rules, len(d.Rules))

	snap, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	nf, nv := snap.Len()
	require.Equal(t, 300, nf)
	require.Equal(t, 3000, nv)
	rules, rv, err := st.ListRules(ctx)
	require.NoError(t, err)
	require.Len(t, rules, 150)
	require.Equal(t, loaded.EntitlementVersion, rv)

	ids := map[string]bool{}
	for i, u := range d.Users {
		got, err := st.UserByIdentity(ctx, issuer, u.Subject)
		require.NoError(t, err)
		require.Equal(t, loaded.UserIDs[i], got.ID)
		require.Equal(t, u.Segments, got.Profile)
		roles, err := st.UserRoles(ctx, got.ID)
		require.NoError(t, err)
		require.Equal(t, u.Roles, roles)
		ids[got.ID] = true
	}
	require.Len(t, ids, len(d.Users))
	for _, r := range rules {
		if r.Subject.Kind == entitle.User {
			require.True(t, ids[r.Subject.Name], "user rules name stored user ids")
		}
	}

	idx, err := entitle.New(snap, rules, rv, nil)
	require.NoError(t, err)
	tokens := make([]string, len(d.Users))
	for i := range tokens {
		tokens[i] = fmt.Sprintf("token-%d", i)
	}
	users, audiences, err := d.Workload(idx, loaded, tokens, &SampleOptions{Visible: 40, Hidden: 10})
	require.NoError(t, err)
	checkWorkload(t, d, idx, loaded, tokens, users, audiences)

	_, _, err = d.Workload(idx, loaded, tokens[:1], nil)
	require.ErrorIs(t, err, ErrInvalid)
}

// checkWorkload asserts the workload's promises against the index's views
// (the oracle): every user but the churn users, in order, with its token;
// every hit visible and every miss invisible to every user it is used for;
// no churn video sampled, and no folder with one in its subtree a miss.
func checkWorkload(t *testing.T, d *Dataset, idx *entitle.Index, loaded *Loaded, tokens []string, users []loadgen.User, audiences []loadgen.Audience) {
	t.Helper()
	churn := d.ChurnUsers()
	require.Positive(t, churn)
	require.Len(t, users, len(d.Users)-churn, "the churn users are left out")
	require.GreaterOrEqual(t, len(audiences), 60)
	churnVideo := map[string]bool{}
	for i, v := range d.Videos {
		if ChurnVideo(i) {
			churnVideo[v.VimeoID] = true
		}
	}
	require.NotEmpty(t, churnVideo)
	snap := idx.Snapshot()
	seeing, folderHits, folderMisses, videoMisses := 0, 0, 0, 0
	for i, u := range users {
		require.Equal(t, tokens[i], u.Token)
		a := audiences[u.Audience]
		aud := entitle.NewAudience(loaded.UserIDs[i], d.Users[i].Roles, d.Users[i].Segments)
		view := idx.Visible(aud)
		for _, f := range a.Folders {
			require.True(t, view.Folder(f), "folder hit %s", f)
		}
		for _, v := range a.Videos {
			require.True(t, view.Video(v), "video hit %s", v)
			require.False(t, churnVideo[v])
		}
		for _, f := range a.HiddenFolders {
			require.False(t, view.Folder(f), "folder miss %s", f)
			for _, v := range snap.SubtreeVideos(f) {
				require.False(t, churnVideo[v], "folder miss %s holds churn video %s", f, v)
			}
		}
		for _, v := range a.HiddenVideos {
			require.False(t, view.Listed(v), "video miss %s", v)
			require.False(t, churnVideo[v])
		}
		require.LessOrEqual(t, len(a.Videos), 40)
		require.LessOrEqual(t, len(a.Folders), 40)
		require.LessOrEqual(t, len(a.HiddenVideos), 10)
		require.LessOrEqual(t, len(a.HiddenFolders), 10)
		if len(a.Videos) > 0 {
			seeing++
		}
		folderHits += len(a.Folders)
		folderMisses += len(a.HiddenFolders)
		videoMisses += len(a.HiddenVideos)
	}
	require.Greater(t, seeing, len(users)*9/10, "the per-role allows let nearly every user see something")
	require.Greater(t, folderHits, len(users)*10, "folder hits are found")
	require.Positive(t, folderMisses, "folder misses are found")
	require.Greater(t, videoMisses, len(users)*5, "video misses are found")
}

// Compile's index, built from the generated data with subjects for user
// ids, sees for every user what the index of the stored data sees for the
// stored user, and its workload keeps the same promises.
func TestCompileMatchesTheStoredLibrary(t *testing.T) {
	ctx := context.Background()
	d, err := Generate(small(5))
	require.NoError(t, err)
	st := memstore.New()
	loaded, err := d.Load(ctx, st, st, st, "https://issuer.example/pool")
	require.NoError(t, err)
	snap, err := st.LoadSnapshot(ctx, tree.LoadOptions{})
	require.NoError(t, err)
	rules, rv, err := st.ListRules(ctx)
	require.NoError(t, err)
	stored, err := entitle.New(snap, rules, rv, nil)
	require.NoError(t, err)

	idx, local, err := d.Compile(nil)
	require.NoError(t, err)
	require.Len(t, local.Rules, len(d.Rules))
	for i, u := range d.Users {
		require.Equal(t, u.Subject, local.UserIDs[i])
		want := stored.Visible(entitle.NewAudience(loaded.UserIDs[i], u.Roles, u.Segments))
		got := idx.Visible(entitle.NewAudience(u.Subject, u.Roles, u.Segments))
		require.Equal(t, want.FolderIDs(), got.FolderIDs(), "user %d", i)
		require.Equal(t, want.VideoIDs(), got.VideoIDs(), "user %d", i)
	}
	tokens := make([]string, len(d.Users))
	for i := range tokens {
		tokens[i] = fmt.Sprintf("token-%d", i)
	}
	users, audiences, err := d.Workload(idx, local, tokens, &SampleOptions{Visible: 40, Hidden: 10, Workers: 3})
	require.NoError(t, err)
	checkWorkload(t, d, idx, local, tokens, users, audiences)
}

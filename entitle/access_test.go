package entitle

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// Summary and WhoCanSee agree with the oracle on random libraries.
func TestSummaryAndWhoCanSeeAgreeWithOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	var seen, grants int
	for trial := 0; trial < 150; trial++ {
		c := genCaseOf(t, r)
		for i := range c.rules {
			c.rules[i].ID = int64(i + 1)
		}
		x, err := New(c.snap, c.rules, 1, nil)
		require.NoError(t, err)
		var auds []Audience
		vis := make([]map[string]bool, len(c.audiences))
		fvis := make([]map[string]bool, len(c.audiences))
		for i, oa := range c.audiences {
			auds = append(auds, oa.audience())
			var locked map[string]bool
			vis[i], fvis[i], locked = oracleSetsLocked(c, c.rules, oa)

			// Summary: totals and per section, from the oracle's sets.
			s := x.Summary(auds[i])
			require.Equal(t, len(vis[i]), s.Videos)
			require.Equal(t, len(fvis[i]), s.Folders)
			require.Equal(t, len(locked), s.Locked)
			want := []SectionCount{}
			for _, root := range c.snap.Roots() {
				for _, sec := range c.snap.Children(root) {
					if c.snap.Folder(sec).Deleted() || c.snap.Folder(root).Deleted() {
						continue
					}
					sc := SectionCount{FolderID: sec, Name: c.snap.Folder(sec).Name}
					sub := c.snap.Subtree(sec)
					for _, f := range sub {
						if fvis[i][f] {
							sc.Folders++
						}
					}
					for _, v := range c.snap.SubtreeVideos(sec) {
						if vis[i][v] && slices.ContainsFunc(c.snap.FoldersOf(v), func(f string) bool { return slices.Contains(sub, f) && oracleLive(c.snap, f) }) {
							sc.Videos++
						}
					}
					want = append(want, sc)
				}
			}
			require.Equal(t, want, s.Sections, "audience %+v", oa)
		}
		check := func(target Target, visible func(i int) bool, onChain func(rule Rule) bool) {
			acc := x.WhoCanSee(target, auds)
			var got []string
			for _, a := range acc.Allowed {
				got = append(got, a.Label)
				require.NotEmpty(t, a.Grants, "a visible target has a granting rule")
				for _, g := range a.Grants {
					if target.Kind == VideoTarget {
						require.Equal(t, Allow, g.Effect)
					} else {
						require.Contains(t, []Effect{Allow, Teaser}, g.Effect)
					}
					require.True(t, onChain(g), "grant %d on %s is not on a chain of %s", g.ID, g.Target, target)
					grants++
				}
			}
			var want []string
			for i := range auds {
				if visible(i) {
					want = append(want, AudienceLabel(auds[i]))
				}
			}
			require.Equal(t, want, got, "target %s", target)
			require.Equal(t, len(auds)-len(want), acc.Denied)
			seen += len(want)
		}
		for _, f := range c.snap.FolderIDs() {
			sub := c.snap.Subtree(f)
			check(Target{Kind: FolderTarget, ID: f}, func(i int) bool { return fvis[i][f] }, func(g Rule) bool {
				if g.Target.Kind == VideoTarget {
					return slices.ContainsFunc(c.snap.FoldersOf(g.Target.ID), func(h string) bool { return slices.Contains(sub, h) })
				}
				return slices.Contains(sub, g.Target.ID) || c.snap.IsAncestor(g.Target.ID, f)
			})
		}
		for _, v := range c.snap.VideoIDs() {
			check(Target{Kind: VideoTarget, ID: v}, func(i int) bool { return vis[i][v] }, func(g Rule) bool {
				if g.Target.Kind == VideoTarget {
					return g.Target.ID == v
				}
				return slices.ContainsFunc(c.snap.FoldersOf(v), func(h string) bool { return h == g.Target.ID || c.snap.IsAncestor(g.Target.ID, h) })
			})
		}
		// Explain's deciding rule is among a visible video's grants.
		for _, v := range c.snap.VideoIDs() {
			for _, a := range auds[:2] {
				d := x.Explain(a, v)
				if !d.Allowed {
					continue
				}
				acc := x.WhoCanSee(Target{Kind: VideoTarget, ID: v}, []Audience{a})
				require.Contains(t, ids(acc.Allowed[0].Grants), d.Rule.ID)
			}
		}
	}
	t.Logf("%d visible answers, %d grants checked", seen, grants)
	require.Greater(t, seen, 1000)
}

func TestSummaryTable(t *testing.T) {
	snap, err := newTestSnap()
	require.NoError(t, err)
	x, err := New(snap, []Rule{
		{ID: 1, Subject: Subject{Kind: Role, Name: "member"}, Target: Target{Kind: FolderTarget, ID: "1"}, Effect: Allow},
		{ID: 2, Subject: Subject{Kind: Role, Name: "member"}, Target: Target{Kind: FolderTarget, ID: "4"}, Effect: Deny},
	}, 1, nil)
	require.NoError(t, err)
	s := x.Summary(NewAudience("", []string{"member"}, nil))
	require.Equal(t, Summary{Audience: "role:member", Videos: 2, Folders: 3, Sections: []SectionCount{
		{FolderID: "4", Name: "Marketing"}, {FolderID: "2", Name: "Teams", Videos: 1, Folders: 2}}}, s, "sibling order: same sort order, then by name")

	acc := x.WhoCanSee(Target{Kind: FolderTarget, ID: "2"}, []Audience{
		NewAudience("u1", []string{"member"}, nil), NewAudience("u2", []string{"staff"}, nil)})
	require.Equal(t, 1, acc.Denied)
	require.Len(t, acc.Allowed, 1)
	require.Equal(t, "user:u1 role:member", acc.Allowed[0].Label)
	require.Equal(t, []int64{1}, ids(acc.Allowed[0].Grants))

	var subjects []string
	for _, s := range x.Subjects() {
		subjects = append(subjects, s.String())
	}
	require.Equal(t, []string{"role:member"}, subjects)
	require.Empty(t, x.WhoCanSee(Target{Kind: FolderTarget, ID: "4"}, []Audience{SubjectAudience(x.Subjects()[0])}).Allowed)
}

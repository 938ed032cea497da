package entitle

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// applyChange returns the rules with a counterfactual made.
func applyChange(rules []Rule, c Counterfactual) []Rule {
	out := make([]Rule, 0, len(rules)+1)
	var maxID int64
	for _, r := range rules {
		maxID = max(maxID, r.ID)
		if c.Action == RemoveRule && r.ID == c.Rule.ID {
			continue
		}
		out = append(out, r)
	}
	if c.Action == AddRule {
		add := c.Rule
		add.ID = maxID + 1
		out = append(out, add)
	}
	return out
}

// Every counterfactual ExplainDetail proposes really flips the oracle's answer
// when made; every matching rule on the chains whose removal would flip the
// answer is proposed; and a rule removal not proposed does not flip it.
func TestExplainDetailCounterfactualsFlip(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	var flips, removals, additions, checked int
	for trial := 0; trial < 150; trial++ {
		c := genCaseOf(t, r)
		for i := range c.rules {
			c.rules[i].ID = int64(i + 1) // unique ids, the store's invariant
		}
		x, err := New(c.snap, c.rules, 1, nil)
		require.NoError(t, err)
		for _, oa := range c.audiences[:4] {
			a := oa.audience()
			for _, id := range c.snap.VideoIDs() {
				e := x.ExplainDetail(a, id)
				want := oracleVideo(c.snap, c.rules, oa, id, nil)
				require.Equal(t, want, e.Allowed, "video %s", id)
				require.Equal(t, x.Explain(a, id), e.Decision)
				proposed := map[int64]bool{}
				for _, cf := range e.Changes {
					after := applyChange(c.rules, cf)
					got := oracleVideo(c.snap, after, oa, id, nil)
					require.Equal(t, !want, got, "video %s: %s did not flip\n%s", id, cf.Text, describe(c, id))
					require.Equal(t, got, cf.Allowed)
					require.NoError(t, cf.Rule.Validate())
					if cf.Action == RemoveRule {
						proposed[cf.Rule.ID] = true
						removals++
					} else {
						require.True(t, oa.has(cf.Rule.Subject), "an added rule names a subject of the audience")
						additions++
					}
					flips++
				}
				if e.Reason != ReasonRule && e.Reason != ReasonNoRule {
					require.Empty(t, e.Changes)
					continue
				}
				// Removal is complete: no other single removal flips the answer.
				for _, rule := range c.rules {
					if proposed[rule.ID] {
						continue
					}
					after := applyChange(c.rules, Counterfactual{Action: RemoveRule, Rule: rule})
					require.Equal(t, want, oracleVideo(c.snap, after, oa, id, nil),
						"removing rule %d flips video %s but was not proposed", rule.ID, id)
					checked++
				}
				// The levels: the deciding level is marked, the paths run root first.
				for _, p := range e.Paths {
					require.Equal(t, p.Via, p.Levels[len(p.Levels)-1].Target.ID)
					require.Equal(t, 1, p.Levels[len(p.Levels)-1].Level)
					require.Equal(t, "", c.snap.Folder(p.Levels[0].Target.ID).ParentVimeoID)
					require.Equal(t, oracleVia(c.snap, c.rules, oa, id, p.Via), p.Allowed)
				}
			}
		}
	}
	t.Logf("%d flips verified (%d removals, %d additions), %d non-proposed removals checked", flips, removals, additions, checked)
	require.Greater(t, removals, 100)
	require.Greater(t, additions, 100)
}

func TestExplainDetailTable(t *testing.T) {
	// 1 Root > 2 Teams > 3 Sales, video 10 "Q3 review" in 3.
	snap := mustSnap(t)
	rules := []Rule{
		{ID: 5, Subject: Subject{Kind: Everyone}, Target: Target{Kind: FolderTarget, ID: "1"}, Effect: Allow},
		{ID: 12, Subject: Subject{Kind: Role, Name: "member"}, Target: Target{Kind: FolderTarget, ID: "3"}, Effect: Deny},
		{ID: 13, Subject: Subject{Kind: Role, Name: "staff"}, Target: Target{Kind: FolderTarget, ID: "3"}, Effect: Allow},
	}
	x, err := New(snap, rules, 1, nil)
	require.NoError(t, err)

	e := x.ExplainDetail(NewAudience("u1", []string{"member"}, nil), "10")
	require.False(t, e.Allowed)
	require.Equal(t, int64(12), e.Rule.ID)
	require.Len(t, e.Paths, 1)
	lv := e.Paths[0].Levels
	require.Equal(t, []string{"1", "2", "3"}, []string{lv[0].Target.ID, lv[1].Target.ID, lv[2].Target.ID})
	require.Equal(t, []int{3, 2, 1}, []int{lv[0].Level, lv[1].Level, lv[2].Level})
	require.True(t, lv[2].Decides)
	require.False(t, lv[0].Decides)
	require.Equal(t, []int64{12}, ids(lv[2].Matched))
	require.Equal(t, []int64{13}, ids(lv[2].Other))
	require.Equal(t, []string{
		`removing rule #12 (deny for role:member on folder "Sales" (3)) would allow it`,
		`adding allow for user:u1 on video "Q3 review" (10) would allow it`,
	}, texts(e.Changes), "an allow on Sales would meet the deny there, and a deny wins at its level")
	require.Contains(t, e.String(), "rule #12 (deny role:member) decides at level 1 (folder:3)")

	// An audience without a user: the suggestion names its role; the deny on
	// the same target for that role rules out an added allow there.
	e = x.ExplainDetail(NewAudience("", []string{"member"}, nil), "10")
	require.Equal(t, []string{
		`removing rule #12 (deny for role:member on folder "Sales" (3)) would allow it`,
		`adding allow for role:member on video "Q3 review" (10) would allow it`,
	}, texts(e.Changes))

	// Allowed for everyone through the root: a deny anywhere on the chain flips it.
	e = x.ExplainDetail(SubjectAudience(Subject{Kind: Everyone}), "10")
	require.True(t, e.Allowed)
	require.Equal(t, []string{
		`removing rule #5 (allow for everyone on folder "Root" (1)) would deny it`,
		`adding deny for everyone on video "Q3 review" (10) would deny it`,
		`adding deny for everyone on folder "Sales" (3) would deny it`,
		`adding deny for everyone on folder "Teams" (2) would deny it`,
	}, texts(e.Changes))

	// Not in the library: no rule can change it.
	e = x.ExplainDetail(NewAudience("u1", nil, nil), "99")
	require.Equal(t, ReasonNotInLibrary, e.Reason)
	require.Empty(t, e.Changes)
	require.Empty(t, e.Paths)
}

func mustSnap(t *testing.T) *treeSnapshot {
	t.Helper()
	snap, err := newTestSnap()
	require.NoError(t, err)
	return snap
}

func ids(rules []Rule) []int64 {
	var out []int64
	for _, r := range rules {
		out = append(out, r.ID)
	}
	return out
}

func texts(cs []Counterfactual) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Text)
	}
	return slices.Clip(out)
}

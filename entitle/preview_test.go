package entitle

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// oracleSetsLocked is what the oracle says an audience sees: the videos it
// may watch, the visible folders and the videos listed locked.
func oracleSetsLocked(c genCase, rules []Rule, oa oracleAudience) (videos, folders, locked map[string]bool) {
	via := map[placement]bool{}
	videos, locked = map[string]bool{}, map[string]bool{}
	for _, id := range c.snap.VideoIDs() {
		switch o := oracleVideoOutcome(c.snap, rules, oa, id, via); {
		case o.allowed:
			videos[id] = true
		case o.lock != "":
			locked[id] = true
		}
	}
	return videos, oracleFolders(c.snap, via), locked
}

func minus(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	return out
}

// The preview's delta of every audience equals the difference of the oracle's
// answers before and after the change, computed independently; audiences
// skipped because they lack the rule's subject really do not change.
func TestPreviewAgreesWithOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	var changed, skipped, unchanged, locks int
	for trial := 0; trial < 300; trial++ {
		c := genCaseOf(t, r)
		for i := range c.rules {
			c.rules[i].ID = int64(i + 1)
		}
		x, err := New(c.snap, c.rules, 1, nil)
		require.NoError(t, err)
		var change RuleChange
		var after []Rule
		if len(c.rules) > 0 && r.IntN(2) == 0 {
			victim := c.rules[r.IntN(len(c.rules))]
			change.Remove = victim.ID
			after = applyChange(c.rules, Counterfactual{Action: RemoveRule, Rule: victim})
		} else {
			add := genRules(r, c.snap, 1)
			if len(add) == 0 {
				continue
			}
			change.Add = &add[0]
			after = applyChange(c.rules, Counterfactual{Action: AddRule, Rule: add[0]})
		}
		var auds []Audience
		for _, oa := range c.audiences {
			auds = append(auds, oa.audience())
		}
		p, err := x.Preview(change, auds)
		if change.Add != nil && err != nil {
			require.ErrorIs(t, err, ErrDuplicate)
			continue
		}
		require.NoError(t, err)
		byLabel := map[string]Delta{}
		for _, d := range p.Deltas {
			byLabel[d.Label] = d
		}
		for i, oa := range c.audiences {
			v0, f0, l0 := oracleSetsLocked(c, c.rules, oa)
			v1, f1, l1 := oracleSetsLocked(c, after, oa)
			addV, remV, addF, remF := minus(v1, v0), minus(v0, v1), minus(f1, f0), minus(f0, f1)
			addF = append(addF, minus(l1, l0)...) // locked changes count as changes below
			remF = append(remF, minus(l0, l1)...)
			d, ok := byLabel[AudienceLabel(auds[i])]
			if !oa.has(p.Rule.Subject) {
				require.Empty(t, append(append(addV, remV...), append(addF, remF...)...), "an audience without the subject changed")
				skipped++
				continue
			}
			if !ok {
				require.Empty(t, append(append(addV, remV...), append(addF, remF...)...), "audience %s changed but has no delta", AudienceLabel(auds[i]))
				unchanged++
				continue
			}
			changed++
			require.Len(t, addV, d.VideosAdded)
			require.Len(t, remV, d.VideosRemoved)
			require.Len(t, minus(f1, f0), d.FoldersAdded)
			require.Len(t, minus(f0, f1), d.FoldersRemoved)
			require.Len(t, minus(l1, l0), d.LockedAdded)
			require.Len(t, minus(l0, l1), d.LockedRemoved)
			locks += d.LockedAdded + d.LockedRemoved
			require.Subset(t, addV, d.ExampleAdded)
			require.Subset(t, remV, d.ExampleRemoved)
			require.Len(t, d.ExampleAdded, min(PreviewExamples, len(addV)))
		}
		require.Equal(t, len(c.audiences), len(p.Deltas)+p.Unchanged+p.NotMatching)
	}
	t.Logf("%d audiences changed, %d unchanged with the subject, %d skipped without it", changed, unchanged, skipped)
	require.Greater(t, changed, 200)
	require.Greater(t, skipped, 200)
	require.Greater(t, locks, 50, "teasers change what is listed locked")
}

func TestPreviewTable(t *testing.T) {
	snap, err := newTestSnap()
	require.NoError(t, err)
	rules := []Rule{
		{ID: 5, Subject: Subject{Kind: Role, Name: "member"}, Target: Target{Kind: FolderTarget, ID: "1"}, Effect: Allow},
		{ID: 12, Subject: Subject{Kind: Segment, Name: "tier", Value: "free"}, Target: Target{Kind: FolderTarget, ID: "4"}, Effect: Allow},
	}
	x, err := New(snap, rules, 1, nil)
	require.NoError(t, err)
	member := NewAudience("u1", []string{"member"}, nil)
	free := NewAudience("u2", nil, map[string]string{"tier": "free"})
	both := NewAudience("u3", []string{"member"}, map[string]string{"tier": "free"})
	auds := []Audience{member, free, both}

	p, err := x.Preview(RuleChange{Add: &Rule{Subject: Subject{Kind: Role, Name: "member"}, Target: Target{Kind: FolderTarget, ID: "2"}, Effect: Deny}}, auds)
	require.NoError(t, err)
	require.Len(t, p.Deltas, 2)
	require.Equal(t, 1, p.NotMatching)
	require.Equal(t, Delta{Key: x.CacheKey(member), Label: "user:u1 role:member", VideosRemoved: 1, FoldersRemoved: 2,
		ExampleRemoved: []string{"10"}, Text: "−1 video, −2 folders"}, p.Deltas[0])
	require.Equal(t, `Adding deny for role:member on folder "Teams" (2): −1 video, −2 folders for user:u1 role:member; −1 video, −2 folders for user:u3 role:member segment:tier=free; 1 unchanged.`, p.Text)
	require.False(t, p.After.Check(member, "10"))
	require.True(t, x.Check(member, "10"), "the index previewed is not changed")

	p, err = x.Preview(RuleChange{Remove: 12}, auds)
	require.NoError(t, err)
	require.Equal(t, 1, p.NotMatching)
	require.Equal(t, 1, p.Unchanged, "u3 keeps Marketing through role:member on the root")
	require.Len(t, p.Deltas, 1)
	require.Equal(t, "user:u2 segment:tier=free", p.Deltas[0].Label)
	require.Equal(t, "−1 video, −2 folders", p.Deltas[0].Text)

	_, err = x.Preview(RuleChange{Remove: 99}, auds)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = x.Preview(RuleChange{}, auds)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = x.Preview(RuleChange{Add: &Rule{Subject: rules[0].Subject, Target: rules[0].Target, Effect: Deny}}, auds)
	require.ErrorIs(t, err, ErrDuplicate)
	require.Equal(t, "1,204", thousands(1204))
	require.Equal(t, "1,000,000", thousands(1_000_000))
}

package entitle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireSameCompiled compares the rule part of two Indexes field by field.
func requireSameCompiled(t *testing.T, want, got *Index, msg string) {
	t.Helper()
	require.Equal(t, want.version, got.version, msg)
	require.Equal(t, want.rules, got.rules, msg)
	require.Equal(t, want.ruleSubj, got.ruleSubj, msg)
	require.Equal(t, want.ruleLock, got.ruleLock, msg)
	require.Equal(t, want.subjects, got.subjects, msg)
	require.Equal(t, want.subjRules, got.subjRules, msg)
	require.Equal(t, want.everyone, got.everyone, msg)
	require.Equal(t, want.public, got.public, msg)
	require.Equal(t, want.namedUsers, got.namedUsers, msg)
	require.Equal(t, want.bySubject, got.bySubject, msg)
	require.Equal(t, want.folderRules, got.folderRules, msg)
	require.Equal(t, want.folderBySubject, got.folderBySubject, msg)
	require.Equal(t, want.videoRules, got.videoRules, msg)
	require.Equal(t, want.bounds, got.bounds, msg)
	require.Same(t, want.layout, got.layout, msg)
}

// tailChange changes the rules as a store's feed usually does: adds rules
// with new (higher) ids and removes some, mostly recent ones, sometimes any.
func tailChange(r *rand.Rand, c genCase, rules []Rule) []Rule {
	rules = slices.Clone(rules)
	var maxID int64
	for _, q := range rules {
		maxID = max(maxID, q.ID)
	}
	extra := genRules(r, c.snap, 8)
	for range 1 + r.IntN(4) {
		switch k := r.IntN(6); {
		case k < 2 && len(rules) > 0: // a recent one
			i := len(rules) - 1 - r.IntN(min(len(rules), 4))
			rules = slices.Delete(rules, i, i+1)
		case k == 2 && len(rules) > 0: // any
			i := r.IntN(len(rules))
			rules = slices.Delete(rules, i, i+1)
		case len(extra) > 0:
			q := extra[r.IntN(len(extra))]
			maxID++
			q.ID = maxID
			rules = append(rules, q)
		}
	}
	return rules
}

// TestDeriveEqualsCompile: the rule part WithRules derives from an Index
// equals, field for field, what compile builds from the same rules (as
// entitle.New does), after random changes at the tail and anywhere, many
// rules or few; and deriving never changes the Index it derives from nor
// another Index derived from it.
func TestDeriveEqualsCompile(t *testing.T) {
	seed := propertySeed(t)
	r := rand.New(rand.NewPCG(seed, 80))
	var derived, compiled int
	for trial := range 300 {
		c := genUserCase(t, r)
		if trial%3 == 0 { // enough rules that a change anywhere is past maxDerived
			for len(c.rules) < 700 {
				more := genRules(r, c.snap, 60)
				for i := range more {
					more[i].ID = int64(len(c.rules) + 1)
					c.rules = append(c.rules, more[i])
				}
			}
		}
		x, err := New(c.snap, c.rules, 1, nil)
		require.NoError(t, err)
		for _, oa := range c.audiences {
			x.Visible(oa.audience())
		}
		xCopy := compile(x.layout, x.snap, slices.Clone(x.rules), x.version, x.bounds, nil)
		var ys []*Index
		var ruleSets [][]Rule
		for step := range 3 {
			rules := tailChange(r, c, x.rules)
			if step == 2 {
				rules = mutateRules(r, c, x.rules)
			}
			canon, err := canonicalRules(rules, x.rules)
			require.NoError(t, err)
			msg := fmt.Sprintf("seed %d trial %d step %d", seed, trial, step)
			want := compile(x.layout, x.snap, canon, 2, x.bounds, nil)
			got, _ := derive(x, canon, 2)
			if got == nil {
				compiled++
				continue
			}
			derived++
			requireSameCompiled(t, want, got, msg)
			y, err := x.WithRules(rules, 2)
			require.NoError(t, err)
			requireSameCompiled(t, want, y, msg+" (WithRules)")
			ys, ruleSets = append(ys, y), append(ruleSets, canon)
		}
		// Siblings derived from x, and x itself, are intact.
		requireSameCompiled(t, xCopy, x, fmt.Sprintf("seed %d trial %d: the old index", seed, trial))
		for i, y := range ys {
			requireSameCompiled(t, compile(x.layout, x.snap, ruleSets[i], 2, x.bounds, nil), y,
				fmt.Sprintf("seed %d trial %d: derived index %d after its siblings", seed, trial, i))
			// And a chain: derive from a derived index.
			next := tailChange(r, c, y.rules)
			canon, err := canonicalRules(next, y.rules)
			require.NoError(t, err)
			if z, _ := derive(y, canon, 3); z != nil {
				requireSameCompiled(t, compile(y.layout, y.snap, canon, 3, y.bounds, nil), z,
					fmt.Sprintf("seed %d trial %d: derived from derived %d", seed, trial, i))
			}
		}
	}
	t.Logf("%d derived, %d compiled whole", derived, compiled)
	require.Greater(t, derived, 300)
	require.Greater(t, compiled, 10)
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
)

// RuleFeedStore is a rule store with a change feed.
type RuleFeedStore interface {
	entitle.RuleStore
	entitle.AuditedRuleStore
	entitle.RuleFeed
}

// TestRuleFeed runs the entitle.RuleFeed conformance suite. newStore must
// return a fresh, empty store for each call.
func TestRuleFeed(t *testing.T, newStore func(t *testing.T) RuleFeedStore) {
	t.Run("Bounds", func(t *testing.T) { testRuleFeedBounds(t, newStore(t)) })
	t.Run("EachChange", func(t *testing.T) { testRuleFeedEach(t, newStore(t)) })
	t.Run("NetWithinWindow", func(t *testing.T) { testRuleFeedNet(t, newStore(t)) })
	t.Run("FailedChangesRecordNothing", func(t *testing.T) { testRuleFeedFailed(t, newStore(t)) })
	t.Run("ApplyEqualsList", func(t *testing.T) { testRuleFeedApply(t, newStore(t)) })
}

func ruleChangesSince(t *testing.T, s RuleFeedStore, v int64) entitle.RuleChanges {
	t.Helper()
	c, err := s.RuleChangesSince(context.Background(), v)
	require.NoError(t, err)
	v2, err := s.EntitlementVersion(context.Background())
	require.NoError(t, err)
	require.Equal(t, v2, c.To, "To is the store's entitlement version")
	require.Equal(t, v, c.From)
	return c
}

func feedRule(t *testing.T, subject, target string, effect entitle.Effect) entitle.Rule {
	t.Helper()
	sub, err := entitle.ParseSubject(subject)
	require.NoError(t, err)
	tg, err := entitle.ParseTarget(target)
	require.NoError(t, err)
	r := entitle.Rule{Subject: sub, Target: tg, Effect: effect, Note: "note " + target, CreatedBy: "admin@example.com"}
	if effect == entitle.Teaser {
		r.LockReason = entitle.LockUpgrade
	}
	return r
}

// listedRule returns the rule with the id as ListRules returns it.
func listedRule(t *testing.T, s RuleFeedStore, id int64) entitle.Rule {
	t.Helper()
	rules, _, err := s.ListRules(context.Background())
	require.NoError(t, err)
	for _, r := range rules {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("rule %d not listed", id)
	return entitle.Rule{}
}

func testRuleFeedBounds(t *testing.T, s RuleFeedStore) {
	ctx := context.Background()
	require.Equal(t, entitle.RuleChanges{}, ruleChangesSince(t, s, 0))
	_, err := s.RuleChangesSince(ctx, -1)
	require.ErrorIs(t, err, entitle.ErrInvalid)
	_, err = s.RuleChangesSince(ctx, 1)
	require.ErrorIs(t, err, entitle.ErrFeedGap, "a version ahead of the store")
	_, v, err := s.AddRule(ctx, feedRule(t, "role:staff", "folder:1", entitle.Allow))
	require.NoError(t, err)
	require.Equal(t, entitle.RuleChanges{From: v, To: v}, ruleChangesSince(t, s, v))
	require.True(t, ruleChangesSince(t, s, v).Empty())
	require.False(t, ruleChangesSince(t, s, v-1).Empty())
	_, err = s.RuleChangesSince(ctx, v+1)
	require.ErrorIs(t, err, entitle.ErrFeedGap)
}

// testRuleFeedEach: every add and remove, plain or audited, is one version
// whose entry is the whole rule or its id.
func testRuleFeedEach(t *testing.T, s RuleFeedStore) {
	ctx := context.Background()
	noAudit := func(context.Context, entitle.OutboxWriter, entitle.Rule, int64) error { return nil }
	r1, v1, err := s.AddRule(ctx, feedRule(t, "role:staff", "folder:10", entitle.Allow))
	require.NoError(t, err)
	require.Equal(t, int64(1), v1)
	require.Equal(t, entitle.RuleChanges{From: 0, To: 1, Added: []entitle.Rule{listedRule(t, s, r1.ID)}}, ruleChangesSince(t, s, 0))
	require.Equal(t, r1, listedRule(t, s, r1.ID))

	r2, v2, err := s.AddRuleAudited(ctx, feedRule(t, "segment:tier=gold", "video:99", entitle.Teaser), noAudit)
	require.NoError(t, err)
	require.Equal(t, v1+1, v2)
	require.Equal(t, entitle.RuleChanges{From: v1, To: v2, Added: []entitle.Rule{listedRule(t, s, r2.ID)}}, ruleChangesSince(t, s, v1))
	require.Equal(t, entitle.LockUpgrade, ruleChangesSince(t, s, v1).Added[0].LockReason)

	v3, err := s.RemoveRule(ctx, r1.ID)
	require.NoError(t, err)
	require.Equal(t, v2+1, v3)
	require.Equal(t, entitle.RuleChanges{From: v2, To: v3, Removed: []int64{r1.ID}}, ruleChangesSince(t, s, v2))

	r3, v4, err := s.AddRule(ctx, feedRule(t, "public", "folder:11", entitle.Deny))
	require.NoError(t, err)
	v5, err := s.RemoveRuleAudited(ctx, r2.ID, noAudit)
	require.NoError(t, err)
	require.Equal(t, v3+1, v4)
	require.Equal(t, v4+1, v5)
	require.Equal(t, entitle.RuleChanges{From: v4, To: v5, Removed: []int64{r2.ID}}, ruleChangesSince(t, s, v4))
	// Since v1: r2 was added and removed (in neither list), r1 removed, r3 added.
	require.Equal(t, entitle.RuleChanges{From: v1, To: v5, Added: []entitle.Rule{listedRule(t, s, r3.ID)}, Removed: []int64{r1.ID}},
		ruleChangesSince(t, s, v1))
	// Since 0: only r3 is left of the additions, and nothing that existed at
	// 0 was removed.
	require.Equal(t, entitle.RuleChanges{From: 0, To: v5, Added: []entitle.Rule{listedRule(t, s, r3.ID)}}, ruleChangesSince(t, s, 0))
}

// testRuleFeedNet: within a window the changes are net and sorted, whatever
// order they were made in.
func testRuleFeedNet(t *testing.T, s RuleFeedStore) {
	ctx := context.Background()
	var ids []int64
	for i := range 6 {
		r, _, err := s.AddRule(ctx, feedRule(t, fmt.Sprintf("role:r%d", i), "folder:1", entitle.Allow))
		require.NoError(t, err)
		ids = append(ids, r.ID)
	}
	v, err := s.EntitlementVersion(ctx)
	require.NoError(t, err)
	// Remove in descending order, add two, remove one of them, add another.
	for _, i := range []int{4, 2, 0} {
		_, err := s.RemoveRule(ctx, ids[i])
		require.NoError(t, err)
	}
	a, _, err := s.AddRule(ctx, feedRule(t, "user:u1", "video:5", entitle.Allow))
	require.NoError(t, err)
	b, _, err := s.AddRule(ctx, feedRule(t, "user:u2", "video:5", entitle.Deny))
	require.NoError(t, err)
	_, err = s.RemoveRule(ctx, a.ID)
	require.NoError(t, err)
	c, _, err := s.AddRule(ctx, feedRule(t, "everyone", "folder:2", entitle.Deny))
	require.NoError(t, err)
	_, err = s.RemoveRule(ctx, ids[5])
	require.NoError(t, err)
	got := ruleChangesSince(t, s, v)
	require.Equal(t, v+8, got.To, "one version per change")
	require.Equal(t, []int64{ids[0], ids[2], ids[4], ids[5]}, got.Removed, "sorted by id")
	require.Equal(t, []entitle.Rule{listedRule(t, s, b.ID), listedRule(t, s, c.ID)}, got.Added, "a added and removed: left out")
}

func testRuleFeedFailed(t *testing.T, s RuleFeedStore) {
	ctx := context.Background()
	r, v, err := s.AddRule(ctx, feedRule(t, "role:staff", "folder:1", entitle.Allow))
	require.NoError(t, err)
	_, _, err = s.AddRule(ctx, feedRule(t, "role:staff", "folder:1", entitle.Deny))
	require.ErrorIs(t, err, entitle.ErrDuplicate)
	_, _, err = s.AddRule(ctx, entitle.Rule{Subject: r.Subject, Target: r.Target, Effect: "maybe"})
	require.ErrorIs(t, err, entitle.ErrInvalid)
	_, err = s.RemoveRule(ctx, r.ID+1000)
	require.ErrorIs(t, err, entitle.ErrNotFound)
	refuse := func(context.Context, entitle.OutboxWriter, entitle.Rule, int64) error {
		return errors.New("audit refused")
	}
	_, _, err = s.AddRuleAudited(ctx, feedRule(t, "role:other", "folder:1", entitle.Allow), refuse)
	require.ErrorContains(t, err, "audit refused")
	_, err = s.RemoveRuleAudited(ctx, r.ID, refuse)
	require.ErrorContains(t, err, "audit refused")
	require.Equal(t, entitle.RuleChanges{From: v, To: v}, ruleChangesSince(t, s, v))
	require.Equal(t, entitle.RuleChanges{From: v - 1, To: v, Added: []entitle.Rule{listedRule(t, s, r.ID)}}, ruleChangesSince(t, s, v-1))
}

// testRuleFeedApply: random adds and removes; from every version seen, the
// rules listed then with the changes since applied are the rules listed now.
func testRuleFeedApply(t *testing.T, s RuleFeedStore) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(21, 12))
	subjects := []string{"public", "everyone", "role:a", "role:b", "segment:tier=gold", "user:u1", "user:u2"}
	effects := []entitle.Effect{entitle.Allow, entitle.Deny, entitle.Teaser}
	listed := map[int64][]entitle.Rule{}
	list := func() ([]entitle.Rule, int64) {
		rules, v, err := s.ListRules(ctx)
		require.NoError(t, err)
		listed[v] = rules
		return rules, v
	}
	list()
	for range 60 {
		rules, _ := list()
		if len(rules) > 0 && rng.IntN(3) == 0 {
			_, err := s.RemoveRule(ctx, rules[rng.IntN(len(rules))].ID)
			require.NoError(t, err)
			continue
		}
		sub := subjects[rng.IntN(len(subjects))]
		eff := effects[rng.IntN(len(effects))]
		if eff == entitle.Teaser && sub == "public" && rng.IntN(2) == 0 {
			eff = entitle.Allow
		}
		_, _, err := s.AddRule(ctx, feedRule(t, sub, fmt.Sprintf("folder:%d", rng.IntN(8)+1), eff))
		if errors.Is(err, entitle.ErrDuplicate) {
			continue
		}
		require.NoError(t, err)
	}
	now, cur := list()
	require.Greater(t, cur, int64(30))
	for v, rules := range listed {
		got, err := ruleChangesSince(t, s, v).Apply(rules)
		require.NoError(t, err, "from %d", v)
		if len(now) == 0 {
			require.Empty(t, got)
			continue
		}
		require.Equal(t, now, got, "from %d", v)
	}
}

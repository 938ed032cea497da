package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
)

// TestRuleStore runs the entitle.RuleStore conformance suite.
func TestRuleStore(t *testing.T, newStore func(t *testing.T) entitle.RuleStore) {
	ctx := context.Background()
	s := newStore(t)
	v, err := s.EntitlementVersion(ctx)
	require.NoError(t, err)
	require.Zero(t, v)

	mk := func(subject, target string, effect entitle.Effect) entitle.Rule {
		sub, err := entitle.ParseSubject(subject)
		require.NoError(t, err)
		tg, err := entitle.ParseTarget(target)
		require.NoError(t, err)
		return entitle.Rule{Subject: sub, Target: tg, Effect: effect, Note: "n", CreatedBy: "admin@example.com"}
	}
	r1, v1, err := s.AddRule(ctx, mk("role:staff", "folder:10", entitle.Allow))
	require.NoError(t, err)
	require.NotZero(t, r1.ID)
	require.False(t, r1.CreatedAt.IsZero())
	require.Equal(t, int64(1), v1)
	r2, v2, err := s.AddRule(ctx, mk("segment:tier=gold", "video:99", entitle.Deny))
	require.NoError(t, err)
	require.Equal(t, int64(2), v2)
	_, _, err = s.AddRule(ctx, mk("everyone", "folder:10", entitle.Allow))
	require.NoError(t, err)

	_, _, err = s.AddRule(ctx, mk("role:staff", "folder:10", entitle.Deny))
	require.ErrorIs(t, err, entitle.ErrDuplicate, "one rule per subject and target")
	_, _, err = s.AddRule(ctx, entitle.Rule{Subject: entitle.Subject{Kind: "team", Name: "x"}, Target: r1.Target, Effect: entitle.Allow})
	require.ErrorIs(t, err, entitle.ErrInvalid)
	_, _, err = s.AddRule(ctx, entitle.Rule{Subject: r1.Subject, Target: entitle.Target{Kind: "folder", ID: "abc"}, Effect: entitle.Allow})
	require.ErrorIs(t, err, entitle.ErrInvalid)
	_, _, err = s.AddRule(ctx, entitle.Rule{Subject: r1.Subject, Target: entitle.Target{Kind: "video", ID: "5"}, Effect: "maybe"})
	require.ErrorIs(t, err, entitle.ErrInvalid)
	v, err = s.EntitlementVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), v, "rejected rules do not bump the version")

	rules, lv, err := s.ListRules(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), lv)
	require.Len(t, rules, 3)
	require.Equal(t, r1.ID, rules[0].ID, "ordered by id")
	require.Equal(t, r2.ID, rules[1].ID)
	require.Equal(t, entitle.Subject{Kind: entitle.Segment, Name: "tier", Value: "gold"}, rules[1].Subject)
	require.Equal(t, entitle.Target{Kind: entitle.VideoTarget, ID: "99"}, rules[1].Target)
	require.Equal(t, entitle.Deny, rules[1].Effect)
	require.Equal(t, "admin@example.com", rules[1].CreatedBy)

	v4, err := s.RemoveRule(ctx, r1.ID)
	require.NoError(t, err)
	require.Equal(t, int64(4), v4)
	_, err = s.RemoveRule(ctx, r1.ID)
	require.ErrorIs(t, err, entitle.ErrNotFound)
	rules, _, err = s.ListRules(ctx)
	require.NoError(t, err)
	require.Len(t, rules, 2)
	// The removed pair may be added again.
	_, _, err = s.AddRule(ctx, mk("role:staff", "folder:10", entitle.Deny))
	require.NoError(t, err)

	// Public subjects and teasers keep their lock reason; a teaser without a
	// valid reason is refused and changes nothing.
	pub := mk("public", "folder:20", entitle.Teaser)
	pub.LockReason = entitle.LockSignIn
	rp, _, err := s.AddRule(ctx, pub)
	require.NoError(t, err)
	before, err := s.EntitlementVersion(ctx)
	require.NoError(t, err)
	bad := mk("everyone", "folder:20", entitle.Teaser)
	_, _, err = s.AddRule(ctx, bad)
	require.ErrorIs(t, err, entitle.ErrInvalid, "a teaser needs a lock reason")
	bad.LockReason = entitle.LockSignIn
	_, _, err = s.AddRule(ctx, bad)
	require.ErrorIs(t, err, entitle.ErrInvalid, "sign_in is for the public subject")
	after, err := s.EntitlementVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after)
	rules, _, err = s.ListRules(ctx)
	require.NoError(t, err)
	got := rules[len(rules)-1]
	require.Equal(t, rp.ID, got.ID)
	require.Equal(t, entitle.Subject{Kind: entitle.Public}, got.Subject)
	require.Equal(t, entitle.Teaser, got.Effect)
	require.Equal(t, entitle.LockSignIn, got.LockReason)
}

package entitle_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/store/memstore"
)

// TestAdminWithMemstore: rules changed through Admin on the real in-memory
// store bump the version, are audited, and compile into the Index.
func TestAdminWithMemstore(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	aud := &fakeAuditor{}
	admin, err := entitle.NewAdmin(store, aud, nil)
	require.NoError(t, err)

	r1, v1, err := admin.AddRule(ctx, "admin", rule(0, "role:member", "allow", "folder:1"))
	require.NoError(t, err)
	_, v2, err := admin.AddRule(ctx, "admin", rule(0, "role:member", "deny", "folder:3"))
	require.NoError(t, err)
	require.Greater(t, v2, v1)
	_, _, err = admin.AddRule(ctx, "admin", rule(0, "role:member", "deny", "folder:1"))
	require.ErrorIs(t, err, entitle.ErrDuplicate, "one rule per subject and target")

	member := entitle.NewAudience("u1", []string{"member"}, nil)
	compile := func() *entitle.Index {
		rules, version, err := admin.ListRules(ctx)
		require.NoError(t, err)
		x, err := entitle.New(library(t), rules, version, nil)
		require.NoError(t, err)
		return x
	}
	x := compile()
	require.Equal(t, v2, x.Version())
	require.Equal(t, []string{"12", "16", "19"}, x.Visible(member).VideoIDs())

	v3, err := admin.RemoveRule(ctx, "admin", r1.ID)
	require.NoError(t, err)
	require.Greater(t, v3, v2)
	require.Empty(t, compile().Visible(member).VideoIDs())
	require.Len(t, aud.recs, 3)
	_, err = admin.RemoveRule(ctx, "admin", r1.ID)
	require.ErrorIs(t, err, entitle.ErrNotFound)
}

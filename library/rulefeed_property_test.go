package library_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/store/memstore"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

// ruleFeedStore is what the rule feed property test writes through.
type ruleFeedStore interface {
	patchStore
	entitle.RuleFeed
}

// listCounting counts the ListRules calls the Service makes.
type listCounting struct {
	ruleFeedStore
	lists atomic.Int64
}

func (c *listCounting) ListRules(ctx context.Context) ([]entitle.Rule, int64, error) {
	c.lists.Add(1)
	return c.ruleFeedStore.ListRules(ctx)
}

// TestRuleFeedGenerationsEqualReloaded applies random rule changes (adds and
// removes of every subject kind and effect, one or several between two
// refreshes), some with content edits, through a real store, refreshes a
// Service (which reads the rule feed and derives its index) and compares its
// generation with one a second Service reloads from scratch (NoPatch): the
// rules, the index decisions and every answer. The Service lists the rules
// only for its first load; on pgstore a bulk load in the middle (a version
// without a feed entry) makes it list them once more, and it then follows
// the feed again.
func TestRuleFeedGenerationsEqualReloaded(t *testing.T) {
	t.Run("memstore", func(t *testing.T) {
		for seed := range uint64(4) {
			t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
				testRuleFeedEqualsReloaded(t, memstore.New(), seed, 40, nil)
			})
		}
	})
	t.Run("pgstore", func(t *testing.T) {
		ctx := context.Background()
		st, err := pgstore.Open(ctx, testenv.PostgresURL(t), nil)
		require.NoError(t, err)
		t.Cleanup(st.Close)
		_, err = st.Migrate(ctx)
		require.NoError(t, err)
		testRuleFeedEqualsReloaded(t, st, 7, 30, func(rules []entitle.Rule) error {
			_, _, err := st.BulkAddRules(ctx, rules)
			return err
		})
	})
}

func testRuleFeedEqualsReloaded(t *testing.T, base ruleFeedStore, seed uint64, steps int, bulk func([]entitle.Rule) error) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 77))
	st := &listCounting{ruleFeedStore: base}
	next := 1000
	newID := func() string { next++; return strconv.Itoa(next) }
	seedLibrary(t, st, rng, newID, 20, 60)
	snap, err := st.LoadSnapshot(ctx, tree.LoadOptions{IncludeDeleted: true})
	require.NoError(t, err)
	fids, vids := snap.FolderIDs(), snap.VideoIDs()

	subjects := []entitle.Subject{
		{Kind: entitle.Public}, {Kind: entitle.Everyone}, {Kind: entitle.Role, Name: "r0"}, {Kind: entitle.Role, Name: "r1"},
		{Kind: entitle.Segment, Name: "tier", Value: "gold"}, {Kind: entitle.User, Name: "u1"}, {Kind: entitle.User, Name: "u2"},
	}
	randomRule := func() entitle.Rule {
		r := entitle.Rule{Subject: subjects[rng.IntN(len(subjects))], Effect: entitle.Allow,
			Target: entitle.Target{Kind: entitle.FolderTarget, ID: fids[rng.IntN(len(fids))]}}
		if rng.IntN(4) == 0 {
			r.Target = entitle.Target{Kind: entitle.VideoTarget, ID: vids[rng.IntN(len(vids))]}
		}
		switch rng.IntN(6) {
		case 0, 1:
			r.Effect = entitle.Deny
		case 2:
			r.Effect, r.LockReason = entitle.Teaser, entitle.LockUpgrade
			if r.Subject.Kind == entitle.Public {
				r.LockReason = entitle.LockSignIn
			}
		}
		return r
	}
	var ruleIDs []int64
	addRule := func() {
		r, _, err := st.AddRule(ctx, randomRule())
		if err == nil {
			ruleIDs = append(ruleIDs, r.ID)
		}
	}
	for range 25 {
		addRule()
	}

	core, logs := observer.New(zap.InfoLevel)
	lib, err := library.New(st, &library.Options{PollInterval: -1, RecentlyAdded: 8, Logger: zap.New(core)})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	require.Equal(t, int64(1), st.lists.Load())

	viewers := []library.Viewer{
		{UserID: "u0"}, {UserID: "u1"}, {UserID: "u2", Roles: []string{"r0"}},
		{UserID: "u3", Roles: []string{"r0", "r1"}, Segments: map[string]string{"tier": "gold"}},
		{UserID: "u1", Roles: []string{"r1"}}, {UserID: "u4", Segments: map[string]string{"tier": "gold"}},
	}
	wantLists, bulked := int64(1), false
	for step := range steps {
		// Warm views, so that the derivation has some to carry over.
		for _, v := range viewers {
			_, err := lib.HomeJSON(ctx, v)
			require.NoError(t, err)
		}
		var ops []string
		for range 1 + rng.IntN(4) {
			if len(ruleIDs) > 0 && rng.IntN(5) < 2 {
				i := rng.IntN(len(ruleIDs))
				_, err := st.RemoveRule(ctx, ruleIDs[i])
				require.NoError(t, err)
				ops = append(ops, fmt.Sprint("remove rule ", ruleIDs[i]))
				ruleIDs = slices.Delete(ruleIDs, i, i+1)
			} else {
				addRule()
				ops = append(ops, "add rule")
			}
		}
		if rng.IntN(3) == 0 { // a metadata edit too: the content patch path
			v := vids[rng.IntN(len(vids))]
			cur, err := st.LoadSnapshot(ctx, tree.LoadOptions{IncludeDeleted: true})
			require.NoError(t, err)
			nv := patchVideo(rng, v)
			old := cur.Video(v)
			nv.Status, nv.Visibility, nv.EmbedPrivacy, nv.CreatedAt, nv.Pictures, nv.ThumbnailURL =
				old.Status, old.Visibility, old.EmbedPrivacy, old.CreatedAt, old.Pictures, old.ThumbnailURL
			_, err = st.Update(ctx, func(tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{nv}) })
			require.NoError(t, err)
			ops = append(ops, "edit "+v)
		}
		if bulk != nil && !bulked && step == steps/2 {
			var rs []entitle.Rule
			for range 3 {
				r := randomRule()
				r.Subject = entitle.Subject{Kind: entitle.Role, Name: "bulk" + strconv.Itoa(len(rs))}
				rs = append(rs, r)
			}
			require.NoError(t, bulk(rs))
			bulked, wantLists = true, wantLists+1
			ops = append(ops, "bulk add rules")
		}
		require.NoError(t, lib.Refresh(ctx))
		require.Equal(t, wantLists, st.lists.Load(), "step %d %v: rules listed only for the first load (and after a bulk load)", step, ops)
		ref, err := library.New(base, &library.Options{PollInterval: -1, RecentlyAdded: 8, NoPatch: true})
		require.NoError(t, err)
		require.NoError(t, ref.Refresh(ctx))
		requireSameGeneration(t, ref, lib, snap, viewers, fmt.Sprintf("step %d %v", step, ops))
	}
	require.Empty(t, logs.FilterMessage("reloading the tree").All())
	require.Equal(t, wantLists-1, int64(logs.FilterMessage("listing the rules").Len()))
}

package library_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/rank/ranktest"
)

// TestServedFeedsNeverHoldWhatTheViewerMayNotSee: random libraries and
// rules, stored feeds of any videos (visible or not: a feed computed before
// a rule change), rule changes; every video Feed serves, on every page, is
// one the independent oracle lets the viewer see now.
func TestServedFeedsNeverHoldWhatTheViewerMayNotSee(t *testing.T) {
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 11))
	served := 0
	for round := range 30 {
		g, err := librarytest.Generate(librarytest.GenOptions{Folders: 10 + r.IntN(40), Videos: 20 + r.IntN(200), Depth: 1 + r.IntN(5),
			Rules: 5 + r.IntN(30), Roles: 4, Segments: 3, Seed: uint64(round) + seed})
		require.NoError(t, err)
		ids := g.Snapshot.VideoIDs()
		src := &feeds{m: map[string]*rank.Feed{}}
		store := librarytest.NewStatic(g.Snapshot, g.Rules)
		lib, err := library.New(store, &library.Options{PollInterval: -1, Feeds: src})
		require.NoError(t, err)
		require.NoError(t, lib.Refresh(ctx))
		viewers := make([]library.Viewer, 6)
		for i := range viewers {
			v := library.Viewer{UserID: fmt.Sprintf("u%d", i), Segments: map[string]string{"tier": g.Segments[r.IntN(len(g.Segments))]}}
			for _, role := range g.Roles {
				if r.IntN(2) == 0 {
					v.Roles = append(v.Roles, role)
				}
			}
			viewers[i] = v
			f := &rank.Feed{UserID: v.UserID, ComputedAt: time.Unix(int64(round), 0)}
			for _, j := range r.Perm(len(ids))[:min(len(ids), 60)] {
				f.Items = append(f.Items, rank.Item{VideoID: ids[j], Score: r.Float64()})
			}
			src.m[v.UserID] = f
		}
		rules := g.Rules
		for change := range 3 {
			for _, v := range viewers {
				cursor := ""
				for {
					page, err := lib.Feed(ctx, v, cursor, 1+r.IntN(10))
					require.NoError(t, err)
					for _, fv := range page.Videos {
						require.True(t, ranktest.Visible(g.Snapshot, rules, v.UserID, v.Roles, v.Segments, fv.ID),
							"round %d change %d: %s served %s", round, change, v.UserID, fv.ID)
						served++
					}
					if cursor = page.NextCursor; cursor == "" {
						break
					}
				}
			}
			// Rules change: some dropped, some effects flipped; served before any recompute.
			rules = slices.DeleteFunc(slices.Clone(rules), func(entitle.Rule) bool { return r.IntN(4) == 0 })
			for i := range rules {
				if r.IntN(5) == 0 {
					rules[i].Effect = map[entitle.Effect]entitle.Effect{entitle.Allow: entitle.Deny, entitle.Deny: entitle.Allow}[rules[i].Effect]
				}
			}
			store.SetRules(rules)
			require.NoError(t, lib.Refresh(ctx))
		}
	}
	require.Greater(t, served, 500, "the generator must produce feeds to serve")
	t.Logf("served %d feed items", served)
}

package library_test

import (
	"context"
	"encoding/json"
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
// rules, stored feeds of any videos with reasons naming any videos and
// folders (visible or not: a feed computed before a rule change), rule
// changes and recomputed feeds, with and without the in-process feed cache;
// every video Feed serves, on every page, is one the independent oracle lets
// the viewer see now, the pages together are exactly the stored feed's
// videos the oracle allows, in order, and FeedJSON is Feed byte for byte.
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
		// Every other round keeps the feeds in process (FeedChanges).
		var ann *announcer
		opts := &library.Options{PollInterval: -1, Feeds: src}
		if round%2 == 1 {
			ann = newAnnouncer()
			opts.FeedChanges = ann
		}
		lib, err := library.New(store, opts)
		require.NoError(t, err)
		require.NoError(t, lib.Refresh(ctx))
		if ann != nil {
			running(t, lib)
		}
		newFeed := func(user string, at int64) *rank.Feed {
			f := &rank.Feed{UserID: user, ComputedAt: time.Unix(at, 0)}
			for _, j := range r.Perm(len(ids))[:min(len(ids), 60)] {
				// Reasons name random videos and folders, visible or not.
				reason := rank.Reason{Kind: []rank.ReasonKind{rank.ReasonWatched, rank.ReasonNew, rank.ReasonPopular, ""}[r.IntN(4)],
					VideoID: ids[r.IntN(len(ids))], FolderID: g.Snapshot.FoldersOf(ids[r.IntN(len(ids))])[0], Audience: "members"}
				f.Items = append(f.Items, rank.Item{VideoID: ids[j], Score: r.Float64(), Reason: reason})
			}
			return f
		}
		viewers := make([]library.Viewer, 6)
		for i := range viewers {
			v := library.Viewer{UserID: fmt.Sprintf("u%d", i), Segments: map[string]string{"tier": g.Segments[r.IntN(len(g.Segments))]}}
			for _, role := range g.Roles {
				if r.IntN(2) == 0 {
					v.Roles = append(v.Roles, role)
				}
			}
			viewers[i] = v
			src.m[v.UserID] = newFeed(v.UserID, int64(round))
		}
		rules := g.Rules
		for change := range 3 {
			for _, v := range viewers {
				// Exactly the stored feed's videos the oracle lets the viewer see, in order.
				var want, got []string
				for _, it := range src.m[v.UserID].Items {
					if ranktest.Visible(g.Snapshot, rules, v.UserID, v.Roles, v.Segments, it.VideoID) {
						want = append(want, it.VideoID)
					}
				}
				cursor := ""
				for {
					limit := 1 + r.IntN(10)
					page, err := lib.Feed(ctx, v, cursor, limit)
					require.NoError(t, err)
					js, err := lib.FeedJSON(ctx, v, cursor, limit)
					require.NoError(t, err)
					typed, err := json.Marshal(page)
					require.NoError(t, err)
					require.Equal(t, string(typed), string(js), "round %d change %d: FeedJSON is Feed", round, change)
					for _, fv := range page.Videos {
						require.True(t, ranktest.Visible(g.Snapshot, rules, v.UserID, v.Roles, v.Segments, fv.ID),
							"round %d change %d: %s served %s", round, change, v.UserID, fv.ID)
						got = append(got, fv.ID)
						served++
					}
					if cursor = page.NextCursor; cursor == "" {
						break
					}
				}
				require.Equal(t, want, got, "round %d change %d: %s", round, change, v.UserID)
			}
			// Some feeds are recomputed (and announced).
			for _, v := range viewers {
				if r.IntN(3) == 0 {
					src.m[v.UserID] = newFeed(v.UserID, int64(1000*round+change+1))
					if ann != nil {
						ann.announce(v.UserID)
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

package library_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
)

// TestRuleOnlyChangeAnswersLikeFresh: an entitlement-only change keeps the
// loaded snapshot (the index is derived with WithRules, views the change
// cannot affect carried over) and the library then answers exactly as an
// index compiled from scratch, for users that rules name too.
func TestRuleOnlyChangeAnswersLikeFresh(t *testing.T) {
	ctx := context.Background()
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 120, Videos: 1200, Depth: 6, Rules: 100, Roles: 6, Segments: 3, Seed: 11})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(11, 12))
	folders, videos := g.Snapshot.FolderIDs(), g.Snapshot.VideoIDs()
	rules := slices.Clone(g.Rules)
	nextID := int64(10_000)
	personal := func() entitle.Rule { // a personal grant or denial, at any depth
		nextID++
		r := entitle.Rule{ID: nextID, Subject: entitle.Subject{Kind: entitle.User, Name: fmt.Sprint("u", rng.IntN(5))}, Effect: entitle.Allow}
		if rng.IntN(3) == 0 {
			r.Effect = entitle.Deny
		}
		if rng.IntN(3) == 0 {
			r.Target = entitle.Target{Kind: entitle.VideoTarget, ID: videos[rng.IntN(len(videos))]}
		} else {
			r.Target = entitle.Target{Kind: entitle.FolderTarget, ID: folders[rng.IntN(len(folders))]}
		}
		return r
	}
	for range 20 {
		rules = append(rules, personal())
	}
	st := librarytest.NewStatic(g.Snapshot, rules)
	lib, err := library.New(st, &library.Options{PollInterval: -1})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))

	var viewers []library.Viewer
	for range 30 {
		v := library.Viewer{UserID: fmt.Sprint("u", rng.IntN(8))}
		for _, r := range g.Roles {
			if rng.IntN(3) == 0 {
				v.Roles = append(v.Roles, r)
			}
		}
		if rng.IntN(2) == 0 {
			v.Segments = map[string]string{"tier": g.Segments[rng.IntN(len(g.Segments))]}
		}
		viewers = append(viewers, v)
	}
	for step := range 4 {
		for _, v := range viewers { // warm the views
			_, err := lib.Home(ctx, v)
			require.NoError(t, err)
		}
		before, err := lib.Index()
		require.NoError(t, err)
		// Change a few rules: flip effects, drop one, add personal ones.
		rules = slices.Clone(rules)
		for range 3 {
			i := rng.IntN(len(rules))
			switch rules[i].Effect {
			case entitle.Allow:
				rules[i].Effect = entitle.Deny
			case entitle.Deny:
				rules[i].Effect = entitle.Allow
			}
		}
		i := rng.IntN(len(rules))
		rules = append(slices.Delete(rules, i, i+1), personal(), personal())
		ev := st.SetRules(rules)
		require.NoError(t, lib.Refresh(ctx))
		after, err := lib.Index()
		require.NoError(t, err)
		require.Equal(t, ev, after.Version())
		require.Same(t, before.Snapshot(), after.Snapshot(), "step %d: an entitlement-only change keeps the snapshot", step)
		fresh, err := entitle.New(g.Snapshot, rules, ev, nil)
		require.NoError(t, err)
		for _, v := range viewers {
			aud := entitle.NewAudience(v.UserID, v.Roles, v.Segments)
			got, want := after.Visible(aud), fresh.Visible(aud)
			for _, id := range videos {
				require.Equal(t, want.Listed(id), got.Listed(id), "step %d viewer %+v video %s", step, v, id)
				require.Equal(t, want.Video(id), got.Video(id), "step %d viewer %+v video %s", step, v, id)
			}
			for _, id := range folders {
				require.Equal(t, want.Folder(id), got.Folder(id), "step %d viewer %+v folder %s", step, v, id)
				_, err := lib.Folder(ctx, v, id, "", 0)
				if want.Folder(id) {
					require.NoError(t, err, "step %d viewer %+v folder %s", step, v, id)
				} else {
					require.ErrorIs(t, err, library.ErrNotFound, "step %d viewer %+v folder %s", step, v, id)
				}
			}
		}
	}
}

package library_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/tree"
)

// withTeasers adds public and teaser rules to generated ones: a public
// teaser (sign_in) on every top-level folder, public allow on some folders
// and an "everyone" teaser (upgrade or purchase) on others.
func withTeasers(snap *tree.Snapshot, rules []entitle.Rule, seed uint64) []entitle.Rule {
	out := slices.Clone(rules)
	id := int64(1_000_000)
	add := func(s entitle.Subject, folder string, eff entitle.Effect, reason entitle.LockReason) {
		id++
		out = append(out, entitle.Rule{ID: id, Subject: s, Target: entitle.Target{Kind: entitle.FolderTarget, ID: folder}, Effect: eff, LockReason: reason})
	}
	for _, r := range snap.Roots() {
		add(entitle.Subject{Kind: entitle.Public}, r, entitle.Teaser, entitle.LockSignIn)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	for _, f := range snap.FolderIDs() {
		switch rng.IntN(8) {
		case 0:
			add(entitle.Subject{Kind: entitle.Public}, f, entitle.Allow, "")
		case 1:
			add(entitle.Subject{Kind: entitle.Everyone}, f, entitle.Teaser, entitle.LockUpgrade)
		case 2:
			add(entitle.Subject{Kind: entitle.Everyone}, f, entitle.Teaser, entitle.LockPurchase)
		}
	}
	return out
}

// The encoded answers are byte for byte what encoding/json makes of the
// typed answers, on a library whose names and titles need escaping, for
// every folder page, video and home of many audiences.
func TestEncodedAnswersAreJSONMarshal(t *testing.T) {
	ctx := context.Background()
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 80, Videos: 700, Depth: 5, Rules: 60, Roles: 4, Segments: 2, Seed: 3, Awkward: true})
	require.NoError(t, err)
	st := librarytest.NewStatic(g.Snapshot, withTeasers(g.Snapshot, g.Rules, 11))
	lib, err := library.New(st, &library.Options{PollInterval: -1, PageSize: 4})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	rng := rand.New(rand.NewPCG(5, 5))
	marshal := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return string(b)
	}

	pages, videos, covers := 0, 0, 0
	locked := 0
	for i := range 13 {
		v := library.Viewer{UserID: "u", Anonymous: i == 12}
		for _, r := range g.Roles {
			if rng.IntN(2) == 0 {
				v.Roles = append(v.Roles, r)
			}
		}
		if i%3 == 0 {
			v.Segments = map[string]string{"tier": g.Segments[rng.IntN(len(g.Segments))]}
		}
		h, err := lib.Home(ctx, v)
		require.NoError(t, err)
		hb, err := lib.HomeJSON(ctx, v)
		require.NoError(t, err)
		require.Equal(t, marshal(h), string(hb.JSON))

		for _, fid := range g.Snapshot.FolderIDs() {
			for cursor := ""; ; {
				p, err := lib.Folder(ctx, v, fid, cursor, 0)
				if err != nil {
					require.ErrorIs(t, err, library.ErrNotFound)
					_, err = lib.FolderJSON(ctx, v, fid, cursor, 0)
					require.ErrorIs(t, err, library.ErrNotFound)
					break
				}
				b, err := lib.FolderJSON(ctx, v, fid, cursor, 0)
				require.NoError(t, err)
				require.Equal(t, marshal(p), string(b.JSON), "folder %s cursor %q", fid, cursor)
				pages++
				if strings.Contains(string(b.JSON), `"cover":{`) {
					covers++
				}
				if cursor = p.NextCursor; cursor == "" {
					break
				}
			}
		}
		for _, id := range g.Snapshot.VideoIDs() {
			d, err := lib.Video(ctx, v, id)
			if err != nil {
				require.ErrorIs(t, err, library.ErrNotFound)
				continue
			}
			b, err := lib.VideoJSON(ctx, v, id)
			require.NoError(t, err)
			require.Equal(t, marshal(d), string(b.JSON), "video %s", id)
			videos++
			if d.Locked {
				locked++
			}
		}
	}
	require.Greater(t, pages, 100, "enough folder pages compared")
	require.Greater(t, videos, 1000, "enough videos compared")
	require.Greater(t, locked, 50, "enough locked videos compared")
	require.Greater(t, covers, 20, "enough folder covers compared")
}

package library_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/rank/ranktest"
	"github.com/vidlib/vidlib/tree"
)

// searchWords is the vocabulary of the random libraries: accents, case,
// spaceless scripts, words that are one edit apart or prefixes of others.
var searchWords = []string{
	"Épisode", "episode", "episodes", "Quarterly", "quartely", "review", "revue", "研修", "新人研修", "会社",
	"Straße", "strasse", "café", "CAFE", "onboarding", "intro", "introduction", "sales", "sale", "deal",
	"closing", "close", "Ünïcode", "naïve", "numbers", "<b>bold</b>", "a&b",
}

func randomText(r *rand.Rand, n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = searchWords[r.IntN(len(searchWords))]
	}
	return strings.Join(ws, " ")
}

// randomQuery is one or two vocabulary words, sometimes cut short (typed),
// with a typo, or in upper case.
func randomQuery(r *rand.Rand) string {
	var parts []string
	for range 1 + r.IntN(2) {
		w := []rune(searchWords[r.IntN(len(searchWords))])
		switch r.IntN(5) {
		case 0:
			w = w[:1+r.IntN(len(w))]
		case 1:
			if len(w) > 2 {
				i := r.IntN(len(w) - 1)
				w[i], w[i+1] = w[i+1], w[i]
			}
		case 2:
			w = []rune(strings.ToUpper(string(w)))
		}
		parts = append(parts, string(w))
	}
	return strings.Join(parts, " ")
}

// withText rewrites a generated library's titles, descriptions, tags and
// folder names from the vocabulary.
func withText(t *testing.T, r *rand.Rand, snap *tree.Snapshot) *tree.Snapshot {
	folders := snap.Folders()
	for i := range folders {
		folders[i].Name = randomText(r, 1+r.IntN(2))
	}
	videos := snap.Videos()
	for i := range videos {
		videos[i].Title = randomText(r, 1+r.IntN(3))
		videos[i].Description = randomText(r, r.IntN(8))
		for range r.IntN(3) {
			videos[i].Tags = append(videos[i].Tags, randomText(r, 1))
		}
		if r.IntN(2) == 0 {
			videos[i].Pictures = []tree.Picture{{Width: 200, Height: 150, URL: "https://i.vimeocdn.com/video/" + videos[i].VimeoID}}
		}
	}
	out, err := tree.New(snap.Version(), folders, videos, snap.Placements())
	require.NoError(t, err)
	return out
}

// TestSearchNeverRevealsWhatTheViewerMayNotSee: for random libraries, rules,
// viewers, scopes and queries, every result (on every page) and every count
// agrees with the entitlement oracle, and a viewer's results are exactly an
// all-seeing viewer's results that the oracle lets them see, in the same
// order: what the viewer may not see changes neither their results nor
// their counts.
func TestSearchNeverRevealsWhatTheViewerMayNotSee(t *testing.T) {
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 18))
	checked, nonEmpty := 0, 0
	for round := range 25 {
		g, err := librarytest.Generate(librarytest.GenOptions{Folders: 5 + r.IntN(40), Videos: 10 + r.IntN(150), Depth: 1 + r.IntN(5),
			Rules: 3 + r.IntN(30), Roles: 4, Segments: 3, Seed: uint64(round) + seed})
		require.NoError(t, err)
		snap := withText(t, r, g.Snapshot)
		lib, err := library.New(librarytest.NewStatic(snap, g.Rules), &library.Options{PollInterval: -1})
		require.NoError(t, err)
		require.NoError(t, lib.Refresh(ctx))
		everyone := []entitle.Rule{{ID: 1, Subject: entitle.Subject{Kind: entitle.Everyone},
			Target: entitle.Target{Kind: entitle.FolderTarget, ID: snap.Roots()[0]}, Effect: entitle.Allow}}
		all, err := library.New(librarytest.NewStatic(snap, everyone), &library.Options{PollInterval: -1})
		require.NoError(t, err)
		require.NoError(t, all.Refresh(ctx))
		god := library.Viewer{UserID: "all"}

		folderVisible := func(v library.Viewer, id string) bool {
			for _, vid := range snap.SubtreeVideos(id) {
				if ranktest.Visible(snap, g.Rules, v.UserID, v.Roles, v.Segments, vid) {
					return true
				}
			}
			return false
		}
		for i := range 5 {
			v := library.Viewer{UserID: fmt.Sprintf("u%d", i), Segments: map[string]string{"tier": g.Segments[r.IntN(len(g.Segments))]}}
			for _, role := range g.Roles {
				if r.IntN(2) == 0 {
					v.Roles = append(v.Roles, role)
				}
			}
			for range 8 {
				q := library.SearchQuery{Q: randomQuery(r), Limit: 1 + r.IntN(6)}
				if r.IntN(3) == 0 {
					ids := snap.FolderIDs()
					q.FolderID = ids[r.IntN(len(ids))]
				}
				if q.FolderID != "" && !folderVisible(v, q.FolderID) {
					_, err := lib.Search(ctx, v, q)
					require.ErrorIs(t, err, library.ErrNotFound, "a hidden scope is not found")
					continue
				}
				got, counts := searchAll(t, lib, v, q)
				want, _ := searchAll(t, all, god, q)
				want = slices.DeleteFunc(want, func(id string) bool {
					if id[0] == 'v' {
						return !ranktest.Visible(snap, g.Rules, v.UserID, v.Roles, v.Segments, id[1:])
					}
					return !folderVisible(v, id[1:])
				})
				require.Equal(t, want, got, "round %d viewer %+v query %+v", round, v, q)
				nv := 0
				for _, id := range got {
					if id[0] == 'v' {
						nv++
					}
				}
				require.Equal(t, library.SearchCounts{Videos: nv, Folders: len(got) - nv}, counts, "counts are of visible results only")
				checked++
				if len(got) > 0 {
					nonEmpty++
				}
			}
		}
	}
	require.Greater(t, nonEmpty, 200, "enough searches found something")
	t.Logf("%d searches checked, %d with results", checked, nonEmpty)
}

// searchAll pages through a search with its limit, checking that every page
// carries the same counts and that covers show only videos in results the
// viewer may see, and returns the results ("v…", "f…") and the counts.
func searchAll(t *testing.T, lib *library.Service, v library.Viewer, q library.SearchQuery) ([]string, library.SearchCounts) {
	t.Helper()
	ctx := context.Background()
	ids := []string{}
	var counts *library.SearchCounts
	for {
		p, err := lib.Search(ctx, v, q)
		require.NoError(t, err)
		if counts == nil {
			counts = &p.Counts
		}
		require.Equal(t, *counts, p.Counts)
		for _, h := range p.Results {
			if h.Type == library.HitVideo {
				ids = append(ids, "v"+h.Video.ID)
				continue
			}
			ids = append(ids, "f"+h.Folder.ID)
			if c := h.Folder.Cover; c != nil {
				_, err := lib.Video(ctx, v, c.VideoID)
				require.NoError(t, err, "a cover shows a video the viewer may see")
			}
		}
		if q.Cursor = p.NextCursor; q.Cursor == "" {
			break
		}
	}
	require.Len(t, ids, counts.Videos+counts.Folders)
	seen := map[string]bool{}
	for _, id := range ids {
		require.False(t, seen[id], "%s twice", id)
		seen[id] = true
	}
	return ids, *counts
}

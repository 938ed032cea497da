package library

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/tree"
)

// An index tokenized in shards and merged is the index tokenized in one go.
func TestSearchIndexShardsMerge(t *testing.T) {
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 60, Videos: 700, Depth: 4, Rules: 20, Roles: 3, Segments: 2, Seed: 9})
	require.NoError(t, err)
	snap, _, err := librarytest.WithText(g.Snapshot, 4)
	require.NoError(t, err)
	c := buildContent(snap)
	idx, err := entitle.New(snap, g.Rules, 1, nil)
	require.NoError(t, err)
	c.setPositions(idx)
	one := buildSearchIndexShards(c, 1)
	require.NotEmpty(t, one.bigrams, "the text has runs of spaceless script")
	for _, n := range []int{2, 3, 7} {
		many := buildSearchIndexShards(c, n)
		require.Equal(t, one.terms, many.terms, "%d shards", n)
		require.Equal(t, one.postings, many.postings, "%d shards", n)
		require.Equal(t, one.postStart, many.postStart, "%d shards", n)
		for id, term := range many.terms {
			got, ok := many.termID.find(many.terms, term)
			require.True(t, ok, term)
			require.Equal(t, int32(id), got, term)
			_, ok = many.termID.find(many.terms, term+"\x00")
			require.False(t, ok, "%q+NUL is no term", term)
		}
		require.Equal(t, one.runes, many.runes)
		require.Equal(t, one.bigrams, many.bigrams)
		require.Equal(t, one.runText, many.runText)
		require.Equal(t, one.alphabet, many.alphabet)
	}
}

// The index of a patched content, an overlay of its root's, scores every
// query as an index built from scratch for the same content does, through
// rounds of text edits (re-editing videos edited before included).
func TestSearchOverlayEqualsRebuilt(t *testing.T) {
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 60, Videos: 900, Depth: 4, Rules: 20, Roles: 3, Segments: 2, Seed: 11})
	require.NoError(t, err)
	snap, _, err := librarytest.WithText(g.Snapshot, 4)
	require.NoError(t, err)
	other, _, err := librarytest.WithText(g.Snapshot, 5) // the same tree with other texts
	require.NoError(t, err)
	idx, err := entitle.New(snap, g.Rules, 1, nil)
	require.NoError(t, err)
	c := buildContent(snap)
	c.setPositions(idx)
	root := c.searchIndex()
	require.Nil(t, root.delta)

	// Queries: words of both texts (exact, prefixes, one edit away), pairs,
	// and runs of spaceless script.
	var queries []string
	for i, v := range other.Videos() {
		if i%37 != 0 {
			continue
		}
		for _, w := range strings.Fields(v.Title) {
			r := []rune(w)
			queries = append(queries, w, string(r[:max(1, len(r)/2)]), w+" ")
			if len(r) >= 5 {
				queries = append(queries, string(r[1:])+" ", string(r[:len(r)-1])+"x")
			}
		}
		queries = append(queries, v.Title, snap.Video(v.VimeoID).Title)
	}
	queries = append(queries, "研修", "会社動画", "動", "安全技術 ka", "ka lo")

	rng := rand.New(rand.NewPCG(3, 4))
	ids := snap.VideoIDs()
	version := snap.Version()
	cur, curSnap := c, snap
	for round := range 6 {
		var changed []tree.Video
		var ps []tree.Placement
		seen := map[string]bool{}
		for range 1 + rng.IntN(40) {
			id := ids[rng.IntN(len(ids))]
			if round > 0 && rng.IntN(3) == 0 { // edit one edited before
				for base := range cur.patched {
					id = base.v.VimeoID
					break
				}
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			v := *cur.video(id).v
			src := other.Video(ids[rng.IntN(len(ids))])
			v.Title, v.Description, v.Tags = src.Title, src.Description, src.Tags
			changed = append(changed, v)
			for _, f := range snap.FoldersOf(id) {
				for p := range snap.AllContents(f) {
					if p.VideoVimeoID == id {
						ps = append(ps, p)
					}
				}
			}
		}
		version++
		next, err := curSnap.Patch(version, tree.Objects{Videos: changed, Placements: ps})
		require.NoError(t, err)
		ids := make([]string, len(changed))
		for i, v := range changed {
			ids[i] = v.VimeoID
		}
		cur, curSnap = cur.patchVideos(next, ids, idx), next
		got := cur.searchIndex()
		require.Same(t, root.postingIndex, got.postingIndex, "round %d: the overlay shares the root's postings", round)
		require.NotNil(t, got.delta, "round %d", round)

		fresh := buildContent(next)
		fresh.setPositions(idx)
		want := buildSearchIndexShards(fresh, 1)
		for _, q := range queries {
			require.Equal(t, scores(want, q), scores(got, q), "round %d: %q", round, q)
		}
	}
}

// scores is what the index scores for q, every document visible: the
// matching documents in order, with their scores.
func scores(ix *searchIndex, q string) []hit {
	s := newScratch(ix.docs(), len(ix.folders))
	ix.score(parseQuery(q), s, func(int32) bool { return true })
	slices.Sort(s.cands)
	out := []hit{}
	for _, d := range s.cands {
		out = append(out, hit{doc: d, score: s.total[d]})
	}
	return out
}

// The index derived for a content built from scratch after structural
// changes that keep the documents (video moves, folder renames, with text
// edits) scores every query as an index built from scratch does, and has
// its positions and folder lists; a change of the documents (a video
// deleted, new or no longer placed) is refused.
func TestSearchDeriveEqualsRebuilt(t *testing.T) {
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 60, Videos: 900, Depth: 4, Rules: 20, Roles: 3, Segments: 2, Seed: 12})
	require.NoError(t, err)
	snap, _, err := librarytest.WithText(g.Snapshot, 6)
	require.NoError(t, err)
	other, _, err := librarytest.WithText(g.Snapshot, 7)
	require.NoError(t, err)
	build := func(s *tree.Snapshot) *content_ {
		idx, err := entitle.New(s, g.Rules, 1, nil)
		require.NoError(t, err)
		c := buildContent(s)
		c.setPositions(idx)
		return c
	}
	queries := []string{"研修", "会社動画", "ka", "lo ri", "men"}
	for i, v := range other.Videos() {
		if i%50 == 0 {
			queries = append(queries, v.Title, strings.Fields(v.Description + " x")[0])
		}
	}
	for _, f := range other.Folders() {
		queries = append(queries, f.Name)
	}
	for _, f := range snap.Folders()[:20] {
		queries = append(queries, f.Name)
	}

	rng := rand.New(rand.NewPCG(5, 6))
	curSnap := snap
	prev := build(snap).searchIndex()
	derived, refused := 0, 0
	for round := range 30 {
		var objs tree.Objects
		placementsOf := func(video string) {
			for _, f := range curSnap.FoldersOf(video) {
				for p := range curSnap.AllContents(f) {
					if p.VideoVimeoID == video {
						objs.Placements = append(objs.Placements, p)
					}
				}
			}
		}
		vids, fids := curSnap.VideoIDs(), curSnap.FolderIDs()
		seenV, seenF := map[string]bool{}, map[string]bool{}
		for range 1 + rng.IntN(4) {
			v, f := vids[rng.IntN(len(vids))], fids[rng.IntN(len(fids))]
			if seenV[v] || seenF[f] {
				continue
			}
			switch k := rng.IntN(10); {
			case k < 4: // move a video (and maybe edit its text)
				seenV[v] = true
				nv := *curSnap.Video(v)
				if rng.IntN(2) == 0 {
					src := other.Video(vids[rng.IntN(len(vids))])
					nv.Title, nv.Tags = src.Title, src.Tags
				}
				objs.Videos = append(objs.Videos, nv)
				objs.Placements = append(objs.Placements, tree.Placement{FolderVimeoID: f, VideoVimeoID: v, SortOrder: rng.IntN(3)})
			case k < 7: // rename a folder (its subtree's paths change)
				seenF[f] = true
				nf := *curSnap.Folder(f)
				nf.Name = other.Folder(fids[rng.IntN(len(fids))]).Name
				objs.Folders = append(objs.Folders, nf)
				objs.Placements = append(objs.Placements, curSnap.Contents(f)...)
			case k < 9: // edit a video's text only
				seenV[v] = true
				nv := *curSnap.Video(v)
				nv.Description = other.Video(vids[rng.IntN(len(vids))]).Description
				objs.Videos = append(objs.Videos, nv)
				placementsOf(v)
			default: // unplace a video: the documents change
				seenV[v] = true
				objs.Videos = append(objs.Videos, *curSnap.Video(v))
			}
		}
		next, err := curSnap.Patch(curSnap.Version()+1, objs)
		require.NoError(t, err, "round %d", round)
		c := build(next)
		got, ok := prev.derive(c)
		want := buildSearchIndexShards(build(next), 1) // a content of its own: its order is sorted, not derived
		if !ok {
			refused++
			require.NotEqual(t, len(want.videos), len(prev.videos), "round %d: refused with the same documents", round)
			curSnap, prev = next, want
			continue
		}
		derived++
		require.Same(t, prev.postingIndex, got.postingIndex, "round %d", round)
		ids := func(vs []*videoNode) []string {
			out := make([]string, len(vs))
			for i, vn := range vs {
				out[i] = vn.v.VimeoID
			}
			return out
		}
		require.Equal(t, ids(want.videos), ids(got.videos), "round %d: the documents", round)
		require.Equal(t, ids(want.videos), ids(c.recent()), "round %d: the content's newest-first order (derived)", round)
		require.Equal(t, want.pos, got.pos, "round %d", round)
		require.Equal(t, want.folderDocs, got.folderDocs, "round %d", round)
		for _, q := range queries {
			require.Equal(t, scores(want, q), scores(got, q), "round %d: %q", round, q)
		}
		curSnap, prev = next, got
	}
	require.Greater(t, derived, 10)
	require.Greater(t, refused, 2)
}

package library

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library/librarytest"
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

package rankeval_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/rank/rankeval"
)

// The planted preferences must be found: the scorer beats popularity by
// half again on NDCG@10, and every baseline beats nothing but random.
func TestScorerFindsPlantedPreferences(t *testing.T) {
	d, err := rankeval.Generate(&rankeval.Options{Users: 300, Videos: 1500, Seed: 3})
	require.NoError(t, err)
	rs, err := rankeval.Evaluate(d, rankeval.Scorers(), 0)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, rankeval.Print(&b, rs))
	t.Log("\n" + b.String())
	sc, _ := rankeval.Find(rs, "scorer (rank.Linear)")
	pop, _ := rankeval.Find(rs, "popularity")
	rnd, _ := rankeval.Find(rs, "random")
	require.Greater(t, sc.Users, 200)
	require.GreaterOrEqual(t, sc.NDCG10, 1.5*pop.NDCG10)
	require.Greater(t, pop.NDCG10, rnd.NDCG10)
	require.Greater(t, sc.Recall20, pop.Recall20)
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, err := rankeval.Generate(&rankeval.Options{Users: 20, Videos: 100, Seed: 9})
	require.NoError(t, err)
	b, err := rankeval.Generate(&rankeval.Options{Users: 20, Videos: 100, Seed: 9})
	require.NoError(t, err)
	require.Equal(t, a.Train, b.Train)
	require.Equal(t, a.Truth, b.Truth)
}

package pgstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/auth"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/rank"
	"github.com/vidlib/vidlib/store/storetest"
)

func TestRankingConformance(t *testing.T) {
	storetest.TestRankingStore(t, func(t *testing.T) (storetest.RankingStore, string, string) {
		ctx := context.Background()
		s := open(t)
		require.NoError(t, librarytest.Seed(ctx, s))
		var ids []string
		for _, sub := range []string{"a", "b"} {
			u, _, err := s.ProvisionUser(ctx, auth.Identity{Issuer: "https://issuer.test", Subject: sub}, auth.User{Email: sub + "@example.com"})
			require.NoError(t, err)
			ids = append(ids, u.ID)
		}
		return s, ids[0], ids[1]
	})
}

func TestRankedFeedUserMustBeAUUID(t *testing.T) {
	s := open(t)
	err := s.SetRankedFeed(context.Background(), &rank.Feed{UserID: "not-a-uuid"})
	require.ErrorIs(t, err, rank.ErrInvalid)
	_, err = s.RankedFeed(context.Background(), "not-a-uuid", 1)
	require.ErrorIs(t, err, rank.ErrNoFeed)
}

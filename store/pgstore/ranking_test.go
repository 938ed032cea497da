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

// Recording an unchanged audience writes nothing: the row keeps its
// version (xmin) and seen_at; a changed one is written.
func TestUnchangedAudienceIsNotWritten(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	u, _, err := s.ProvisionUser(ctx, auth.Identity{Issuer: "https://issuer.test", Subject: "a"}, auth.User{Email: "a@example.com"})
	require.NoError(t, err)
	row := func() (xmin string) {
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT xmin::text FROM user_audiences WHERE user_id = $1`, u.ID).Scan(&xmin))
		return xmin
	}
	require.NoError(t, s.RecordAudience(ctx, u.ID, []string{"member", "sales"}, map[string]string{"tier": "gold", "region": "emea"}))
	first := row()
	require.NoError(t, s.RecordAudience(ctx, u.ID, []string{"member", "sales"}, map[string]string{"region": "emea", "tier": "gold"}))
	require.Equal(t, first, row(), "same audience: not written")
	require.NoError(t, s.RecordAudience(ctx, u.ID, []string{"member"}, map[string]string{"region": "emea", "tier": "gold"}))
	require.NotEqual(t, first, row(), "a role less: written")
	roles, segs, err := s.UserAudience(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"member"}, roles)
	require.Equal(t, map[string]string{"region": "emea", "tier": "gold"}, segs)
	second := row()
	require.NoError(t, s.RecordAudience(ctx, u.ID, []string{"member"}, map[string]string{"tier": "silver", "region": "emea"}))
	require.NotEqual(t, second, row(), "a segment changed: written")
}

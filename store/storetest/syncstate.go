package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

// testSyncState: named sync state round-trips, commits with its transaction,
// vanishes with a failed one, and does not bump the content version.
func testSyncState(t *testing.T, s tree.Store) {
	ctx := context.Background()
	got, err := s.SyncState(ctx, "poll")
	require.NoError(t, err)
	require.Nil(t, got, "never set")

	before := version(t, s)
	update(t, s, func(ctx context.Context, tx tree.Tx) error {
		return tx.SetSyncState(ctx, "poll", []byte(`{"videos_since":"2026-03-01T12:00:00Z"}`))
	})
	require.Equal(t, before, version(t, s), "sync state is not content")
	got, err = s.SyncState(ctx, "poll")
	require.NoError(t, err)
	require.JSONEq(t, `{"videos_since":"2026-03-01T12:00:00Z"}`, string(got))

	// Overwritten together with a mirror change.
	v := update(t, s, func(ctx context.Context, tx tree.Tx) error {
		if err := tx.UpsertVideos(ctx, []tree.Video{video("state-1", "t")}); err != nil {
			return err
		}
		return tx.SetSyncState(ctx, "poll", []byte(`{"n":2}`))
	})
	require.Equal(t, before+1, v)
	got, err = s.SyncState(ctx, "poll")
	require.NoError(t, err)
	require.JSONEq(t, `{"n":2}`, string(got))

	// A failed transaction keeps the old value.
	_, err = s.Update(ctx, func(tx tree.Tx) error {
		require.NoError(t, tx.SetSyncState(ctx, "poll", []byte(`{"n":3}`)))
		require.NoError(t, tx.SetSyncState(ctx, "other", []byte(`{}`)))
		return errors.New("boom")
	})
	require.Error(t, err)
	got, err = s.SyncState(ctx, "poll")
	require.NoError(t, err)
	require.JSONEq(t, `{"n":2}`, string(got))
	got, err = s.SyncState(ctx, "other")
	require.NoError(t, err)
	require.Nil(t, got)

	// Not JSON, or no name: ErrInvalid.
	_, err = s.Update(ctx, func(tx tree.Tx) error { return tx.SetSyncState(ctx, "poll", []byte(`{`)) })
	require.ErrorIs(t, err, tree.ErrInvalid)
	_, err = s.Update(ctx, func(tx tree.Tx) error { return tx.SetSyncState(ctx, "", []byte(`{}`)) })
	require.ErrorIs(t, err, tree.ErrInvalid)
}

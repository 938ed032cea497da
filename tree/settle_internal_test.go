package tree

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The in-memory model restores as the stores do (storetest's
// RestoreLeavesNoOrphan): a descendant deleted with the folder but moved,
// while deleted, under a folder deleted at another time stays deleted, and
// the model's snapshot stays valid.
func TestMemTxRestoreLeavesNoOrphan(t *testing.T) {
	f := func(id, parent string) Folder { return Folder{VimeoID: id, ParentVimeoID: parent, Name: "f" + id} }
	snap, err := New(1, []Folder{f("1", ""), f("2", "1"), f("3", "2"), f("4", "1"), f("5", "3")}, nil, nil)
	require.NoError(t, err)
	ctx := context.Background()
	tx := newMemTx(snap, time.Now())
	require.NoError(t, tx.DeleteFolder(ctx, "2"))
	require.NoError(t, tx.DeleteFolder(ctx, "4"))
	require.NoError(t, tx.MoveFolder(ctx, "4", "2"))
	require.NoError(t, tx.MoveFolder(ctx, "3", "4"))
	require.NoError(t, tx.RestoreFolder(ctx, "2"))
	got, err := tx.snapshot(2)
	require.NoError(t, err)
	require.False(t, got.Folder("2").Deleted())
	for _, id := range []string{"3", "4", "5"} {
		require.True(t, got.Folder(id).Deleted(), id)
	}
}

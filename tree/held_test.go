package tree_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/tree"
)

func TestFinishHeldStatus(t *testing.T) {
	for _, tc := range []struct {
		run     tree.SyncRun
		want    tree.HeldStatus
		invalid bool
	}{
		{run: tree.SyncRun{}, want: ""},
		{run: tree.SyncRun{Held: true}, want: tree.HeldPending},
		{run: tree.SyncRun{Held: true, HeldStatus: tree.HeldPending}, want: tree.HeldPending},
		{run: tree.SyncRun{HeldStatus: tree.HeldPending}, want: ""},
		{run: tree.SyncRun{ID: 7, Held: true, HeldStatus: tree.HeldApproved}, invalid: true},
		{run: tree.SyncRun{HeldStatus: tree.HeldRejected}, invalid: true},
	} {
		got, err := tree.FinishHeldStatus(tc.run)
		if tc.invalid {
			require.ErrorIs(t, err, tree.ErrInvalid, "%+v", tc.run)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%+v", tc.run)
	}
}

func TestCheckHeldDecision(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	got, err := tree.CheckHeldDecision(tree.HeldApproved, at)
	require.NoError(t, err)
	require.Equal(t, at, got)
	got, err = tree.CheckHeldDecision(tree.HeldRejected, time.Time{})
	require.NoError(t, err)
	require.False(t, got.IsZero(), "a zero time means now")
	for _, s := range []tree.HeldStatus{"", tree.HeldPending, "maybe"} {
		_, err := tree.CheckHeldDecision(s, at)
		require.ErrorIs(t, err, tree.ErrInvalid, "%q", s)
	}
}

package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

// TestLoadSnapshotParallelMatchesSequential loads the same mirror, with
// soft-deleted folders, videos and the placements under them, through a
// four-connection pool (three connections on one exported snapshot) and a
// two-connection one (one transaction): both must read the same tree.
func TestLoadSnapshotParallelMatchesSequential(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresURL(t)
	openN := func(n int32) *pgstore.Store {
		s, err := pgstore.Open(ctx, dsn, &pgstore.Options{MaxConns: n})
		require.NoError(t, err)
		t.Cleanup(s.Close)
		return s
	}
	par, seq := openN(4), openN(2)
	_, err := par.Migrate(ctx)
	require.NoError(t, err)

	folders, videos, ps := genTree(60, 500, 4)
	fill(t, par, folders, videos, ps)
	_, err = par.Update(ctx, func(tx tree.Tx) error {
		if err := tx.DeleteFolder(ctx, "3"); err != nil { // a subtree and the placements in it
			return err
		}
		return tx.DeleteVideos(ctx, []string{videos[0].VimeoID, videos[7].VimeoID})
	})
	require.NoError(t, err)

	for _, opts := range []tree.LoadOptions{{}, {IncludeDeleted: true}} {
		a, err := par.LoadSnapshot(ctx, opts)
		require.NoError(t, err)
		b, err := seq.LoadSnapshot(ctx, opts)
		require.NoError(t, err)
		require.Equal(t, a.Version(), b.Version())
		require.Equal(t, a.Folders(), b.Folders())
		require.Equal(t, a.Videos(), b.Videos())
		require.Equal(t, a.Placements(), b.Placements())
		if opts.IncludeDeleted {
			require.Len(t, a.Videos(), 500)
			require.Len(t, a.Placements(), 500)
		} else {
			nf, nv := a.Len()
			require.Less(t, nf, 60)
			require.Equal(t, 498, nv)
			require.Nil(t, a.Folder("3"))
			require.Nil(t, a.Video(videos[0].VimeoID))
			require.Less(t, len(a.Placements()), 498) // those in the deleted subtree are gone too
		}
	}
}

// TestConcurrentLoadsShareASmallPool: a parallel load holds one connection
// while it waits for two more, so concurrent loads on a four-connection pool
// (as the library, the scheduler and the ranking pipeline do when a process
// starts) must not take every connection and wait for each other forever.
func TestConcurrentLoadsShareASmallPool(t *testing.T) {
	ctx := context.Background()
	s, err := pgstore.Open(ctx, testenv.PostgresURL(t), &pgstore.Options{MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	_, err = s.Migrate(ctx)
	require.NoError(t, err)
	folders, videos, ps := genTree(30, 200, 3)
	fill(t, s, folders, videos, ps)

	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	const loads = 8
	errs := make(chan error, loads)
	start := make(chan struct{})
	for range loads {
		go func() {
			<-start
			snap, err := s.LoadSnapshot(ctx, tree.LoadOptions{})
			if err == nil && len(snap.Videos()) != 200 {
				err = fmt.Errorf("loaded %d videos, want 200", len(snap.Videos()))
			}
			errs <- err
		}()
	}
	close(start)
	for range loads {
		require.NoError(t, <-errs, "every concurrent load finishes (no pool deadlock)")
	}
}

package library_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/library/librarytest"
	"github.com/vidlib/vidlib/store/memstore"
)

// chanVersions is a library.Versions fed by the test.
type chanVersions struct{ ch chan library.VersionChange }

func (c chanVersions) Subscribe(ctx context.Context) (<-chan library.VersionChange, func()) {
	return c.ch, func() {}
}

func everyoneOn(folder string) entitle.Rule {
	return entitle.Rule{Subject: entitle.Subject{Kind: entitle.Everyone},
		Target: entitle.Target{Kind: entitle.FolderTarget, ID: folder}, Effect: entitle.Allow}
}

func TestRunRetriesFirstLoadAndPolls(t *testing.T) {
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 20, Videos: 100, Depth: 3, Rules: 5, Seed: 1})
	require.NoError(t, err)
	st := librarytest.NewStatic(g.Snapshot, nil)
	st.Failures = 3
	lib, err := library.New(st, &library.Options{PollInterval: 5 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- lib.Run(ctx) }()
	require.NoError(t, lib.WaitReady(ctx))
	_, err = lib.Folder(ctx, carol, "1", "", 0)
	require.ErrorIs(t, err, library.ErrNotFound) // no rules: nothing visible

	st.SetRules([]entitle.Rule{{ID: 1, Subject: entitle.Subject{Kind: entitle.Everyone},
		Target: entitle.Target{Kind: entitle.FolderTarget, ID: "1"}, Effect: entitle.Allow}})
	require.Eventually(t, func() bool {
		_, err := lib.Folder(ctx, carol, "1", "", 0)
		return err == nil
	}, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

func TestRunFollowsNotifications(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, librarytest.Seed(ctx, st))
	vs := chanVersions{ch: make(chan library.VersionChange, 4)}
	lib, err := library.New(st, &library.Options{PollInterval: -1, Versions: vs})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = lib.Run(runCtx) }()
	require.NoError(t, lib.WaitReady(ctx))

	_, ev, err := st.AddRule(ctx, everyoneOn(librarytest.Engineering))
	require.NoError(t, err)
	vs.ch <- library.VersionChange{Name: library.VersionEntitlement, Version: ev}
	require.Eventually(t, func() bool {
		_, err := lib.Video(ctx, carol, "1101")
		return err == nil
	}, 10*time.Second, time.Millisecond)
	require.Equal(t, ev, lib.Status().EntitlementVersion)

	// A version announced before the store shows it is retried until it does.
	vs.ch <- library.VersionChange{Name: library.VersionEntitlement, Version: ev + 1}
	time.Sleep(30 * time.Millisecond)
	_, _, err = st.AddRule(ctx, everyoneOn(librarytest.Sales))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := lib.Video(ctx, carol, "1001")
		return err == nil
	}, 10*time.Second, time.Millisecond)
}

// TestMatchesIndex compares every answer with entitle.Index for random
// audiences on a random library: nothing outside the entitlement is ever
// listed, counted, put in a breadcrumb or served, and nothing inside is
// missing.
func TestMatchesIndex(t *testing.T) {
	ctx := context.Background()
	g, err := librarytest.Generate(librarytest.GenOptions{Folders: 150, Videos: 1500, Depth: 6, Rules: 120, Roles: 6, Segments: 3, Seed: 42})
	require.NoError(t, err)
	st := librarytest.NewStatic(g.Snapshot, g.Rules)
	lib, err := library.New(st, &library.Options{PollInterval: -1, MaxPageSize: 10_000, PageSize: 7})
	require.NoError(t, err)
	require.NoError(t, lib.Refresh(ctx))
	idx, err := entitle.New(g.Snapshot, g.Rules, 1, nil)
	require.NoError(t, err)
	snap := g.Snapshot
	rng := rand.New(rand.NewPCG(9, 9))

	for range 25 {
		v := library.Viewer{UserID: "u"}
		for _, r := range g.Roles {
			if rng.IntN(3) == 0 {
				v.Roles = append(v.Roles, r)
			}
		}
		if rng.IntN(2) == 0 {
			v.Segments = map[string]string{"tier": g.Segments[rng.IntN(len(g.Segments))]}
		}
		aud := entitle.NewAudience(v.UserID, v.Roles, v.Segments)

		for _, fid := range snap.FolderIDs() {
			// Page through the folder with the default page size.
			var folders, videos []string
			cursor, pages := "", 0
			for {
				p, err := lib.Folder(ctx, v, fid, cursor, 0)
				if !idx.CheckFolder(aud, fid) {
					require.ErrorIs(t, err, library.ErrNotFound)
					break
				}
				require.NoError(t, err)
				pages++
				for _, b := range p.Breadcrumb {
					require.True(t, idx.CheckFolder(aud, b.ID), "breadcrumb leaks %s", b.ID)
				}
				for _, f := range p.Folders {
					folders = append(folders, f.ID)
					want := 0
					for _, c := range snap.Children(f.ID) {
						if idx.CheckFolder(aud, c) {
							want++
						}
					}
					require.Equal(t, want, f.FolderCount)
					want = 0
					for _, pl := range snap.Contents(f.ID) {
						if idx.Check(aud, pl.VideoVimeoID) {
							want++
						}
					}
					require.Equal(t, want, f.VideoCount)
				}
				videos = append(videos, videoIDs(p.Videos)...)
				if p.NextCursor == "" {
					break
				}
				cursor = p.NextCursor
			}
			if pages == 0 {
				continue
			}
			var wantF, wantV []string
			for _, c := range snap.Children(fid) {
				if idx.CheckFolder(aud, c) {
					wantF = append(wantF, c)
				}
			}
			for _, pl := range snap.Contents(fid) {
				if idx.Check(aud, pl.VideoVimeoID) {
					wantV = append(wantV, pl.VideoVimeoID)
				}
			}
			require.Equal(t, wantF, folders, "folder %s", fid)
			require.Equal(t, wantV, videos, "folder %s", fid)
		}
		for _, id := range snap.VideoIDs() {
			d, err := lib.Video(ctx, v, id)
			if !idx.Check(aud, id) {
				require.ErrorIs(t, err, library.ErrNotFound)
				continue
			}
			require.NoError(t, err)
			for _, b := range d.Breadcrumb {
				require.True(t, idx.CheckFolder(aud, b.ID))
			}
		}
		h, err := lib.Home(ctx, v)
		require.NoError(t, err)
		for _, r := range h.Rows {
			for _, x := range r.Videos {
				require.True(t, idx.Check(aud, x.ID))
			}
		}
		for _, f := range h.Folders {
			require.True(t, idx.CheckFolder(aud, f.ID))
		}
	}
}

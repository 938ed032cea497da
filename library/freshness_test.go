package library_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/entitle"
	"github.com/vidlib/vidlib/internal/testenv"
	"github.com/vidlib/vidlib/library"
	"github.com/vidlib/vidlib/store/pgstore"
	"github.com/vidlib/vidlib/tree"
)

// seedPostgres writes the benchmark library (100,000 videos, 10,000 folders,
// depth 10, 2,000 rules) to a fresh pgstore schema.
func seedPostgres(b *testing.B) (*pgstore.Store, *tree.Snapshot) {
	b.Helper()
	ctx := context.Background()
	g := benchLibrary(b)
	st, err := pgstore.Open(ctx, testenv.PostgresURL(b), nil)
	require.NoError(b, err)
	b.Cleanup(st.Close)
	_, err = st.Migrate(ctx)
	require.NoError(b, err)
	snap := g.Snapshot
	_, err = st.Update(ctx, func(tx tree.Tx) error { return tx.UpsertFolders(ctx, snap.Folders()) })
	require.NoError(b, err)
	for chunk := range slices.Chunk(snap.Videos(), 20_000) {
		_, err := st.Update(ctx, func(tx tree.Tx) error { return tx.UpsertVideos(ctx, chunk) })
		require.NoError(b, err)
	}
	for chunk := range slices.Chunk(snap.Placements(), 20_000) {
		_, err := st.Update(ctx, func(tx tree.Tx) error { return tx.PlaceVideos(ctx, chunk) })
		require.NoError(b, err)
	}
	for _, r := range g.Rules {
		r.ID = 0
		_, _, err := st.AddRule(ctx, r)
		require.NoError(b, err)
	}
	return st, snap
}

// BenchmarkFreshness measures, at 100,000 videos on PostgreSQL, how long a
// change committed to the store takes to be visible through the Service:
//
//   - title-refresh: a video title edit committed through tree.Store.Update,
//     then Refresh (what a version notification triggers), until Video
//     returns the new title (patched in from the change feed);
//   - title-refresh-reload: the same with Options.NoPatch (the whole tree
//     reloaded from PostgreSQL);
//   - title-notified: the same with Run, polling off, and the new content
//     version announced through Options.Versions after the commit (a channel
//     standing in for Redis pub/sub, without its network hop); the clock
//     stops when a reader polling Video every millisecond sees the title;
//   - rule-refresh: a rule committed through AddRule, then Refresh, until the
//     video it allows is visible (the rule is removed outside the clock).
//
// ms/op is commit plus visibility; visible-ms is from the end of the commit.
func BenchmarkFreshness(b *testing.B) {
	st, snap := seedPostgres(b)
	ctx := context.Background()
	viewer := library.Viewer{UserID: "u-fresh", Roles: []string{"role0", "role1", "role2"}, Segments: map[string]string{"tier": "t0"}}

	newLib := func(b *testing.B, opts *library.Options) *library.Service {
		lib, err := library.New(st, opts)
		require.NoError(b, err)
		return lib
	}
	lib := newLib(b, &library.Options{PollInterval: -1})
	require.NoError(b, lib.Refresh(ctx))
	var seen, hidden string // a video the viewer sees, and a playable placed one they do not
	for _, id := range snap.VideoIDs() {
		v := snap.Video(id)
		if !v.Playable() || len(snap.FoldersOf(id)) == 0 {
			continue
		}
		_, err := lib.Video(ctx, viewer, id)
		if err == nil && seen == "" {
			seen = id
		} else if err != nil && hidden == "" {
			hidden = id
		}
		if seen != "" && hidden != "" {
			break
		}
	}
	require.NotEmpty(b, seen)
	require.NotEmpty(b, hidden)

	round := 0
	editTitle := func(b *testing.B) string {
		round++
		v := *snap.Video(seen)
		v.Title = "edited " + strconv.Itoa(round)
		_, err := st.Update(ctx, func(tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{v}) })
		require.NoError(b, err)
		return v.Title
	}

	b.Run("title-refresh", func(b *testing.B) {
		var visible time.Duration
		for b.Loop() {
			title := editTitle(b)
			t0 := time.Now()
			require.NoError(b, lib.Refresh(ctx))
			d, err := lib.Video(ctx, viewer, seen)
			require.NoError(b, err)
			require.Equal(b, title, d.Title)
			visible += time.Since(t0)
		}
		b.ReportMetric(float64(visible.Milliseconds())/float64(b.N), "visible-ms")
	})

	b.Run("title-refresh-reload", func(b *testing.B) {
		lib := newLib(b, &library.Options{PollInterval: -1, NoPatch: true})
		require.NoError(b, lib.Refresh(ctx))
		var visible time.Duration
		for b.Loop() {
			title := editTitle(b)
			t0 := time.Now()
			require.NoError(b, lib.Refresh(ctx))
			d, err := lib.Video(ctx, viewer, seen)
			require.NoError(b, err)
			require.Equal(b, title, d.Title)
			visible += time.Since(t0)
		}
		b.ReportMetric(float64(visible.Milliseconds())/float64(b.N), "visible-ms")
	})

	b.Run("title-notified", func(b *testing.B) {
		vers := chanVersions{ch: make(chan library.VersionChange, 16)}
		lib := newLib(b, &library.Options{PollInterval: -1, Versions: vers})
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = lib.Run(rctx) }()
		defer func() { cancel(); <-done }()
		require.NoError(b, lib.WaitReady(ctx))
		var visible time.Duration
		for b.Loop() {
			round++
			v := *snap.Video(seen)
			v.Title = "edited " + strconv.Itoa(round)
			cv, err := st.Update(ctx, func(tx tree.Tx) error { return tx.UpsertVideos(ctx, []tree.Video{v}) })
			require.NoError(b, err)
			t0 := time.Now()
			vers.ch <- library.VersionChange{Name: library.VersionContent, Version: cv}
			for {
				d, err := lib.Video(ctx, viewer, seen)
				require.NoError(b, err)
				if d.Title == v.Title {
					break
				}
				time.Sleep(time.Millisecond)
			}
			visible += time.Since(t0)
		}
		b.ReportMetric(float64(visible.Milliseconds())/float64(b.N), "visible-ms")
	})

	b.Run("rule-refresh", func(b *testing.B) {
		var visible time.Duration
		for b.Loop() {
			r, _, err := st.AddRule(ctx, entitle.Rule{
				Subject: entitle.Subject{Kind: entitle.User, Name: viewer.UserID},
				Target:  entitle.Target{Kind: entitle.VideoTarget, ID: hidden}, Effect: entitle.Allow,
			})
			require.NoError(b, err)
			t0 := time.Now()
			require.NoError(b, lib.Refresh(ctx))
			_, err = lib.Video(ctx, viewer, hidden)
			require.NoError(b, err)
			visible += time.Since(t0)

			b.StopTimer()
			_, err = st.RemoveRule(ctx, r.ID)
			require.NoError(b, err)
			require.NoError(b, lib.Refresh(ctx))
			_, err = lib.Video(ctx, viewer, hidden)
			require.ErrorIs(b, err, library.ErrNotFound)
			b.StartTimer()
		}
		b.ReportMetric(float64(visible.Milliseconds())/float64(b.N), "visible-ms")
	})
}

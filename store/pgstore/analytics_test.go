package pgstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
	"github.com/vidlib/vidlib/library/librarytest"
)

// TestAnalyticsStatsViews: the per-video, per-user and per-folder views over
// watch_daily count views by the rule, unique viewers, watch time and
// completions per day, with the mirrored durations.
func TestAnalyticsStatsViews(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	require.NoError(t, librarytest.Seed(ctx, s))
	day := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
	play := func(user, video string, at time.Time, secs int, complete bool) {
		sid := uuid.NewString()
		var evs []analytics.Event
		for i := 0; i <= secs/5; i++ {
			typ := analytics.TypeHeartbeat
			if i == 0 {
				typ = analytics.TypePlaybackStarted
			}
			evs = append(evs, analytics.Event{ID: uuid.NewString(), Type: typ, SessionID: sid, UserID: user, VideoID: video,
				Position: float64(5 * i), OccurredAt: at.Add(time.Duration(5*i) * time.Second)})
		}
		if complete {
			evs = append(evs, analytics.Event{ID: uuid.NewString(), Type: analytics.TypeCompleted, SessionID: sid, UserID: user, VideoID: video,
				Position: 65, OccurredAt: at.Add(time.Duration(secs+1) * time.Second)})
		}
		_, err := s.ApplyWatchEvents(ctx, evs, analytics.Rules{})
		require.NoError(t, err)
	}
	// 1201 (65 s, in Public): alice views twice an hour apart and completes
	// once, plus a rewatch within the hour (no view); bob views once; carol
	// watches 5 s (no view). 1202: alice once.
	play("alice", "1201", day, 20, false)
	play("alice", "1201", day.Add(10*time.Minute), 20, true)
	play("alice", "1201", day.Add(70*time.Minute), 15, false)
	play("bob", "1201", day, 30, false)
	play("carol", "1201", day, 5, false)
	play("alice", "1202", day, 40, false)

	var views, viewers, completions, sessions int64
	var watched float64
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT views, unique_viewers, watched_seconds, completions, sessions
		FROM video_daily_stats WHERE video_id = '1201' AND day = '2026-04-02'`).Scan(&views, &viewers, &watched, &completions, &sessions))
	require.Equal(t, []int64{3, 2, 1, 5}, []int64{views, viewers, completions, sessions})
	require.InDelta(t, 20+21+15+30+5, watched, 1e-9)

	var videosViewed int64
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT views, videos_viewed FROM user_daily_stats WHERE user_id = 'alice' AND day = '2026-04-02'`).
		Scan(&views, &videosViewed))
	require.Equal(t, []int64{3, 2}, []int64{views, videosViewed})

	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT views, unique_viewers FROM folder_daily_stats WHERE folder_id = $1 AND day = '2026-04-02'`,
		librarytest.Public).Scan(&views, &viewers))
	require.Equal(t, []int64{4, 2}, []int64{views, viewers})

	// Subtree totals: dave views 1206 in Secret (below Public) once. A
	// video placed in two folders of one subtree counts once in it.
	play("dave", "1206", day, 30, false)
	_, err := s.Pool().Exec(ctx, `INSERT INTO folder_videos (folder_id, video_id)
		SELECT f.id, v.id FROM folders f, videos v WHERE f.vimeo_folder_id = $1 AND v.vimeo_video_id = '1201'`, librarytest.Secret)
	require.NoError(t, err)
	subtree := func(folder string) []int64 {
		t.Helper()
		var views, viewers, sessions int64
		err := s.Pool().QueryRow(ctx, `SELECT views, unique_viewers, sessions FROM folder_subtree_daily_stats WHERE folder_id = $1 AND day = '2026-04-02'`,
			folder).Scan(&views, &viewers, &sessions)
		require.NoError(t, err)
		return []int64{views, viewers, sessions}
	}
	require.Equal(t, []int64{5, 3, 7}, subtree(librarytest.Public), "Public and Secret, 1201 once")
	require.Equal(t, []int64{4, 3, 6}, subtree(librarytest.Secret), "1201 placed in Secret too, and 1206")
	require.Equal(t, []int64{5, 3, 7}, subtree(librarytest.Root))
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT views, unique_viewers FROM folder_daily_stats WHERE folder_id = $1 AND day = '2026-04-02'`,
		librarytest.Public).Scan(&views, &viewers))
	require.Equal(t, []int64{4, 2}, []int64{views, viewers}, "the direct view is unchanged")
	var none int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM folder_subtree_daily_stats WHERE folder_id = $1`, librarytest.Sales).Scan(&none))
	require.Zero(t, none, "nothing watched in Sales")

	// The mirrored duration decides completion and resume: 1201 is 65 s.
	ss, err := s.WatchDaily(ctx, "bob", "1201")
	require.NoError(t, err)
	require.Len(t, ss, 1)
	p, err := s.Progress(ctx, "bob", "1201")
	require.NoError(t, err)
	require.InDelta(t, 30.0/65, p["1201"].Ratio, 1e-3)
}

// TestWatchSessionFoldedOnto: a session stored batch by batch, in order,
// is folded onto its stored row and equals the fold of all its events; a
// row without a carry (written before it was kept), a late event and an id
// sent twice in one batch refold in full and still equal it.
func TestWatchSessionFoldedOnto(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	require.NoError(t, librarytest.Seed(ctx, s))
	base := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
	var all []analytics.Event
	next := func(typ analytics.Type, sec int, pos float64) analytics.Event {
		e := analytics.Event{ID: uuid.NewString(), Type: typ, SessionID: "long", UserID: "u", VideoID: "1201", Position: pos,
			OccurredAt: base.Add(time.Duration(sec) * time.Second)}
		all = append(all, e)
		return e
	}
	check := func(msg string) {
		t.Helper()
		got, err := s.WatchSession(ctx, "long")
		require.NoError(t, err)
		require.Equal(t, analytics.Fold(slices.Clone(all), 65, analytics.Rules{}), got, msg)
		var carry bool
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT fold_carry FROM watch_sessions WHERE id = 'long'`).Scan(&carry))
		require.True(t, carry, msg)
	}
	apply := func(evs ...analytics.Event) {
		t.Helper()
		_, err := s.ApplyWatchEvents(ctx, evs, analytics.Rules{})
		require.NoError(t, err)
	}
	apply(next(analytics.TypePlaybackStarted, 0, 0), next(analytics.TypeHeartbeat, 5, 5))
	for i := range 5 {
		sec := 10 + 10*i
		apply(next(analytics.TypeHeartbeat, sec, float64(sec)), next(analytics.TypePaused, sec+3, float64(sec+3)))
		apply(next(analytics.TypeSeeked, sec+6, float64(sec+1)))
	}
	check("in order, batch by batch")

	_, err := s.Pool().Exec(ctx, `UPDATE watch_sessions SET fold_carry = false, fold_watched = 0 WHERE id = 'long'`)
	require.NoError(t, err)
	apply(next(analytics.TypeHeartbeat, 70, 62))
	check("a row without a carry")

	apply(next(analytics.TypeHeartbeat, 8, 8)) // late
	check("a late event")

	twice := next(analytics.TypeHeartbeat, 80, 63)
	other := twice
	other.OccurredAt = twice.OccurredAt.Add(time.Second) // one id, two times: both stored
	all = append(all, other)
	apply(twice, other)
	check("an id twice")
}

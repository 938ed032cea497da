package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
)

// AnalyticsStore is what the analytics conformance suite exercises
// (store/pgstore, store/memstore).
type AnalyticsStore interface {
	ApplyWatchEvents(ctx context.Context, evs []analytics.Event, r analytics.Rules) (analytics.Applied, error)
	WatchSession(ctx context.Context, id string) (analytics.Session, error)
	WatchDaily(ctx context.Context, userID, videoID string) ([]analytics.DayStat, error)
	Progress(ctx context.Context, userID string, videoIDs ...string) (map[string]analytics.Progress, error)
	ContinueWatching(ctx context.Context, userID string, limit int) ([]analytics.Progress, error)
	Unfinished(ctx context.Context, userID string, limit int) ([]analytics.Progress, error)
	DismissContinueWatching(ctx context.Context, userID, videoID string, at time.Time) error
	History(ctx context.Context, userID string, before time.Time, beforeVideo string, limit int) ([]analytics.Progress, error)
	DropWatchEventsBefore(ctx context.Context, cutoff time.Time) (int, error)
}

// TestAnalyticsStore runs the analytics conformance suite. newStore must
// return a fresh, empty store for each call; the videos of the stream have
// no mirrored duration (the fold treats them as unknown).
func TestAnalyticsStore(t *testing.T, newStore func(t *testing.T) AnalyticsStore) {
	t.Run("ApplyDedupAndRecompute", func(t *testing.T) { testAnalyticsApply(t, newStore(t)) })
	t.Run("OrderIndependentAgainstOracle", func(t *testing.T) { testAnalyticsOracle(t, newStore(t)) })
	t.Run("ContinueWatchingDismissHistory", func(t *testing.T) { testAnalyticsContinue(t, newStore(t)) })
	t.Run("Retention", func(t *testing.T) { testAnalyticsRetention(t, newStore(t)) })
}

// WatchBase is the first day of generated streams.
var WatchBase = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)

// WatchStream generates a realistic stream of playback events: each
// session opens, starts, heartbeats every 5 s, and sometimes pauses, seeks,
// completes or stops silently; sessions of users×videos spread over two
// days. Times are whole microseconds (what PostgreSQL keeps).
func WatchStream(rng *rand.Rand, users, videos []string, sessions int) []analytics.Event {
	var out []analytics.Event
	for range sessions {
		u, v := users[rng.IntN(len(users))], videos[rng.IntN(len(videos))]
		sid := uuid.NewString()
		at := WatchBase.Add(time.Duration(rng.Int64N(int64(40 * time.Hour)))).Truncate(time.Microsecond)
		pos := float64(rng.IntN(60))
		add := func(typ analytics.Type) {
			out = append(out, analytics.Event{ID: uuid.NewString(), Type: typ, SessionID: sid, UserID: u, VideoID: v,
				Position: pos, OccurredAt: at, ReceivedAt: at, Properties: map[string]string{"device": "web"}})
		}
		add(analytics.TypeVideoOpened)
		at = at.Add(time.Second)
		add(analytics.TypePlaybackStarted)
		for range rng.IntN(30) {
			at, pos = at.Add(5*time.Second), pos+5
			switch rng.IntN(20) {
			case 0:
				add(analytics.TypePaused)
				at = at.Add(time.Duration(rng.IntN(120)) * time.Second)
				add(analytics.TypePlaybackStarted)
			case 1:
				pos = float64(rng.IntN(300))
				add(analytics.TypeSeeked)
			case 2:
				add(analytics.TypeChatOpened)
			default:
				add(analytics.TypeHeartbeat)
			}
		}
		if rng.IntN(4) == 0 {
			at = at.Add(3 * time.Second)
			add(analytics.TypeCompleted)
		}
	}
	return out
}

// Deliver returns stream as a delivery would: shuffled (reordered and late
// by up to the stream's whole span), with duplicates, in batches of 1…max.
func Deliver(rng *rand.Rand, stream []analytics.Event, dupShare float64, maxBatch int) [][]analytics.Event {
	all := slices.Clone(stream)
	for _, e := range stream {
		if rng.Float64() < dupShare {
			all = append(all, e)
		}
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var out [][]analytics.Event
	for len(all) > 0 {
		n := min(1+rng.IntN(maxBatch), len(all))
		out = append(out, all[:n:n])
		all = all[n:]
	}
	return out
}

// WatchOracle is what the stores must hold after any delivery of a stream:
// computed from the deduplicated stream at once, in the obvious way.
type WatchOracle struct {
	Sessions map[string]analytics.Session
	Daily    map[[2]string][]analytics.DayStat
	Progress map[[2]string]analytics.Progress
}

// NewWatchOracle folds the distinct events of stream (durations by video;
// missing: unknown).
func NewWatchOracle(stream []analytics.Event, durations map[string]float64, r analytics.Rules) WatchOracle {
	o := WatchOracle{Sessions: map[string]analytics.Session{}, Daily: map[[2]string][]analytics.DayStat{}, Progress: map[[2]string]analytics.Progress{}}
	bySession := map[string][]analytics.Event{}
	seen := map[string]bool{}
	for _, e := range stream {
		if !seen[e.ID] {
			seen[e.ID] = true
			bySession[e.SessionID] = append(bySession[e.SessionID], e)
		}
	}
	byPair := map[[2]string][]analytics.Session{}
	for id, evs := range bySession {
		s := analytics.Fold(slices.Clone(evs), durations[evs[0].VideoID], r)
		o.Sessions[id] = s
		k := [2]string{s.UserID, s.VideoID}
		byPair[k] = append(byPair[k], s)
	}
	for k, ss := range byPair {
		o.Daily[k] = analytics.Daily(ss, r)
		o.Progress[k] = analytics.Latest(ss)
	}
	return o
}

// RequireWatchOracle checks that s holds exactly what o says.
func RequireWatchOracle(t testing.TB, s AnalyticsStore, o WatchOracle) {
	t.Helper()
	ctx := context.Background()
	for id, want := range o.Sessions {
		got, err := s.WatchSession(ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, got, "session %s", id)
	}
	for k, want := range o.Daily {
		got, err := s.WatchDaily(ctx, k[0], k[1])
		require.NoError(t, err)
		require.Equal(t, want, got, "daily of %v", k)
		p, err := s.Progress(ctx, k[0], k[1])
		require.NoError(t, err)
		wp := o.Progress[k]
		gp := p[k[1]]
		gp.DismissedAt = time.Time{}
		require.Equal(t, wp, gp, "progress of %v", k)
	}
}

func testAnalyticsApply(t *testing.T, s AnalyticsStore) {
	ctx := context.Background()
	ev := func(typ analytics.Type, sec int, pos float64) analytics.Event {
		return analytics.Event{ID: uuid.NewString(), Type: typ, SessionID: "sess-a", UserID: "u1", VideoID: "v1",
			Position: pos, OccurredAt: WatchBase.Add(time.Duration(sec) * time.Second)}
	}
	evs := []analytics.Event{ev(analytics.TypePlaybackStarted, 0, 0), ev(analytics.TypeHeartbeat, 5, 5), ev(analytics.TypeHeartbeat, 10, 10), ev(analytics.TypeHeartbeat, 15, 15)}
	// Newest first: the last event is applied before the first.
	a, err := s.ApplyWatchEvents(ctx, []analytics.Event{evs[3], evs[2]}, analytics.Rules{})
	require.NoError(t, err)
	require.Equal(t, 2, a.Inserted)
	require.Len(t, a.Sessions, 1)
	require.Equal(t, 5.0, a.Sessions[0].WatchedSeconds)
	a, err = s.ApplyWatchEvents(ctx, evs, analytics.Rules{})
	require.NoError(t, err)
	require.Equal(t, 2, a.Inserted, "the two stored events are duplicates")
	require.Len(t, a.Progress, 1)
	require.Equal(t, 15.0, a.Progress[0].Position)
	got, err := s.WatchSession(ctx, "sess-a")
	require.NoError(t, err)
	require.Equal(t, 15.0, got.WatchedSeconds)
	require.True(t, got.View)
	require.Equal(t, 4, got.Events)
	require.Equal(t, WatchBase, got.Start)

	// A batch of only duplicates changes nothing and reports nothing.
	a, err = s.ApplyWatchEvents(ctx, evs, analytics.Rules{})
	require.NoError(t, err)
	require.Zero(t, a.Inserted)
	require.Empty(t, a.Sessions)
	d, err := s.WatchDaily(ctx, "u1", "v1")
	require.NoError(t, err)
	require.Equal(t, []analytics.DayStat{{Day: analytics.Day(WatchBase), Views: 1, Sessions: 1, WatchedSeconds: 15}}, d)

	_, err = s.WatchSession(ctx, "nope")
	require.ErrorIs(t, err, analytics.ErrNotFound)
	bad := ev(analytics.TypeHeartbeat, 20, 20)
	bad.Type = "liked"
	_, err = s.ApplyWatchEvents(ctx, []analytics.Event{ev(analytics.TypeHeartbeat, 20, 20), bad}, analytics.Rules{})
	require.ErrorIs(t, err, analytics.ErrInvalid)
	got2, err := s.WatchSession(ctx, "sess-a")
	require.NoError(t, err)
	require.Equal(t, got, got2, "an invalid batch writes nothing")
}

func testAnalyticsOracle(t *testing.T, s AnalyticsStore) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	users := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	videos := []string{"v1", "v2", "v3", "v4"}
	stream := WatchStream(rng, users, videos, 40)
	for _, b := range Deliver(rng, stream, 0.3, 50) {
		_, err := s.ApplyWatchEvents(ctx, b, analytics.Rules{})
		require.NoError(t, err)
	}
	RequireWatchOracle(t, s, NewWatchOracle(stream, nil, analytics.Rules{}))
}

func testAnalyticsContinue(t *testing.T, s AnalyticsStore) {
	ctx := context.Background()
	play := func(user, video string, at time.Time, pos float64, typ analytics.Type) {
		_, err := s.ApplyWatchEvents(ctx, []analytics.Event{{ID: uuid.NewString(), Type: typ, SessionID: fmt.Sprint(user, video, at.Unix()),
			UserID: user, VideoID: video, Position: pos, OccurredAt: at}}, analytics.Rules{})
		require.NoError(t, err)
	}
	t1 := WatchBase
	play("u", "a", t1, 30, analytics.TypeHeartbeat)
	play("u", "b", t1.Add(time.Minute), 40, analytics.TypeHeartbeat)
	play("u", "c", t1.Add(2*time.Minute), 50, analytics.TypeCompleted)
	play("u", "d", t1.Add(3*time.Minute), 0, analytics.TypeVideoOpened)
	play("other", "a", t1.Add(4*time.Minute), 10, analytics.TypeHeartbeat)
	// Across devices the last event wins: an older event of another session
	// arriving late does not move the position.
	play("u", "a", t1.Add(-time.Hour), 90, analytics.TypeHeartbeat)

	vids := func(ps []analytics.Progress) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.VideoID)
		}
		return out
	}
	cw, err := s.ContinueWatching(ctx, "u", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"b", "a"}, vids(cw), "unfinished, newest first; completed and unstarted left out")
	require.Equal(t, 30.0, cw[1].Position)

	require.NoError(t, s.DismissContinueWatching(ctx, "u", "b", t1.Add(time.Hour)))
	require.ErrorIs(t, s.DismissContinueWatching(ctx, "u", "zzz", t1), analytics.ErrNotFound)
	cw, err = s.ContinueWatching(ctx, "u", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, vids(cw))
	un, err := s.Unfinished(ctx, "u", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"b", "a"}, vids(un), "unfinished keeps dismissed videos")
	require.Equal(t, t1.Add(time.Hour), un[0].DismissedAt, "and says when they were dismissed")
	require.True(t, un[1].DismissedAt.IsZero())
	un, err = s.Unfinished(ctx, "u", 1)
	require.NoError(t, err)
	require.Equal(t, []string{"b"}, vids(un), "limit respected")
	p, err := s.Progress(ctx, "u", "b")
	require.NoError(t, err)
	require.Equal(t, 40.0, p["b"].Position, "dismissing keeps the position")
	play("u", "b", t1.Add(2*time.Hour), 45, analytics.TypeHeartbeat)
	cw, err = s.ContinueWatching(ctx, "u", 1)
	require.NoError(t, err)
	require.Equal(t, []string{"b"}, vids(cw), "played again: back, and limit respected")

	h, err := s.History(ctx, "u", time.Time{}, "", 2)
	require.NoError(t, err)
	require.Equal(t, []string{"b", "d"}, vids(h))
	h, err = s.History(ctx, "u", h[1].LastEventAt, h[1].VideoID, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"c", "a"}, vids(h))
}

func testAnalyticsRetention(t *testing.T, s AnalyticsStore) {
	ctx := context.Background()
	old := analytics.Event{ID: uuid.NewString(), Type: analytics.TypeHeartbeat, SessionID: "r1", UserID: "u", VideoID: "v", Position: 1, OccurredAt: WatchBase}
	old2 := old
	old2.ID, old2.OccurredAt = uuid.NewString(), WatchBase.Add(time.Minute)
	recent := old
	recent.ID, recent.OccurredAt = uuid.NewString(), WatchBase.AddDate(0, 0, 3)
	_, err := s.ApplyWatchEvents(ctx, []analytics.Event{old, old2, recent}, analytics.Rules{})
	require.NoError(t, err)
	n, err := s.DropWatchEventsBefore(ctx, analytics.Day(WatchBase).AddDate(0, 0, 2))
	require.NoError(t, err)
	require.Equal(t, 1, n, "one day dropped")
	got, err := s.WatchSession(ctx, "r1")
	require.NoError(t, err)
	require.Equal(t, 3, got.Events, "retention keeps sessions")

	// A day whose events were dropped can be written again.
	again := old
	again.ID, again.SessionID = uuid.NewString(), "r2"
	a, err := s.ApplyWatchEvents(ctx, []analytics.Event{again}, analytics.Rules{})
	require.NoError(t, err)
	require.Equal(t, 1, a.Inserted)
}

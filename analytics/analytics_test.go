package analytics_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vidlib/vidlib/analytics"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func ev(typ analytics.Type, sec int, pos float64) analytics.Event {
	return analytics.Event{ID: uuid.NewString(), Type: typ, SessionID: "s1", UserID: "u1", VideoID: "v1",
		Position: pos, OccurredAt: t0.Add(time.Duration(sec) * time.Second)}
}

func TestValidateAndCheck(t *testing.T) {
	now := t0
	ok := ev(analytics.TypeHeartbeat, 0, 10)
	cases := []struct {
		name string
		mod  func(e *analytics.Event)
		dur  float64
		want analytics.Reason
	}{
		{"valid", func(*analytics.Event) {}, 100, ""},
		{"bad id", func(e *analytics.Event) { e.ID = "x" }, 100, analytics.ReasonInvalid},
		{"unknown type", func(e *analytics.Event) { e.Type = "liked" }, 100, analytics.ReasonUnknownType},
		{"no session", func(e *analytics.Event) { e.SessionID = "" }, 100, analytics.ReasonInvalid},
		{"no video", func(e *analytics.Event) { e.VideoID = "" }, 100, analytics.ReasonInvalid},
		{"negative position", func(e *analytics.Event) { e.Position = -1 }, 100, analytics.ReasonPosition},
		{"past the end", func(e *analytics.Event) { e.Position = 106 }, 100, analytics.ReasonPosition},
		{"within slack", func(e *analytics.Event) { e.Position = 104 }, 100, ""},
		{"unknown duration", func(e *analytics.Event) { e.Position = 1e6 }, 0, ""},
		{"no time", func(e *analytics.Event) { e.OccurredAt = time.Time{} }, 100, analytics.ReasonInvalid},
		{"future", func(e *analytics.Event) { e.OccurredAt = now.Add(6 * time.Minute) }, 100, analytics.ReasonClockSkew},
		{"small skew", func(e *analytics.Event) { e.OccurredAt = now.Add(4 * time.Minute) }, 100, ""},
		{"too old", func(e *analytics.Event) { e.OccurredAt = now.Add(-49 * time.Hour) }, 100, analytics.ReasonTooOld},
		{"late but fine", func(e *analytics.Event) { e.OccurredAt = now.Add(-24 * time.Hour) }, 100, ""},
		{"too many properties", func(e *analytics.Event) {
			e.Properties = map[string]string{}
			for i := range 17 {
				e.Properties[string(rune('a'+i))] = "x"
			}
		}, 100, analytics.ReasonInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := ok
			c.mod(&e)
			err := e.Check(analytics.Window{Now: now, DurationSeconds: c.dur})
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, analytics.ErrInvalid)
			require.Equal(t, c.want, analytics.ReasonOf(err))
		})
	}
}

func TestTokens(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tk, err := analytics.NewTokens(key)
	require.NoError(t, err)
	_, err = analytics.NewTokens([]byte("short"))
	require.ErrorIs(t, err, analytics.ErrSecret)
	c := analytics.SessionClaims{UserID: "u1", VideoID: "v1", SessionID: "s1", Expires: t0.Add(time.Hour)}
	tok := tk.Mint(c)
	got, err := tk.Verify(tok, t0)
	require.NoError(t, err)
	require.Equal(t, c, got)

	_, err = tk.Verify(tok, t0.Add(time.Hour))
	require.Equal(t, analytics.ReasonTokenExpired, analytics.ReasonOf(err))
	_, err = tk.Verify(tok[:len(tok)-2]+"AA", t0)
	require.Equal(t, analytics.ReasonInvalidToken, analytics.ReasonOf(err))
	_, err = tk.Verify("garbage", t0)
	require.Equal(t, analytics.ReasonInvalidToken, analytics.ReasonOf(err))
	other, _ := analytics.NewTokens([]byte("ffffffffffffffffffffffffffffffff"))
	_, err = other.Verify(tok, t0)
	require.Equal(t, analytics.ReasonInvalidToken, analytics.ReasonOf(err))
	// Rotation: the new key verifies tokens of the previous one.
	rotated, _ := analytics.NewTokens([]byte("ffffffffffffffffffffffffffffffff"), key)
	_, err = rotated.Verify(tok, t0)
	require.NoError(t, err)

	e := ev(analytics.TypeHeartbeat, 0, 1)
	require.NoError(t, got.Bind(&e))
	for _, mod := range []func(*analytics.Event){
		func(e *analytics.Event) { e.UserID = "u2" },
		func(e *analytics.Event) { e.VideoID = "v2" },
		func(e *analytics.Event) { e.SessionID = "s2" },
	} {
		e2 := e
		mod(&e2)
		require.Equal(t, analytics.ReasonSessionMismatch, analytics.ReasonOf(got.Bind(&e2)))
	}
}

func TestFold(t *testing.T) {
	H, P, S, St, C, O := analytics.TypeHeartbeat, analytics.TypePaused, analytics.TypeSeeked, analytics.TypePlaybackStarted, analytics.TypeCompleted, analytics.TypeVideoOpened
	cases := []struct {
		name      string
		evs       []analytics.Event
		dur       float64
		watched   float64
		last      float64
		ratio     float64
		completed bool
		view      bool
	}{
		{"opened only", []analytics.Event{ev(O, 0, 0)}, 100, 0, 0, 0, false, false},
		{"steady play", []analytics.Event{ev(St, 0, 0), ev(H, 5, 5), ev(H, 10, 10), ev(H, 15, 15)}, 100, 15, 15, 0.15, false, true},
		{"under 10 s is no view", []analytics.Event{ev(St, 0, 0), ev(H, 5, 5), ev(P, 9, 9)}, 100, 9, 9, 0.09, false, false},
		{"half of a short video is a view", []analytics.Event{ev(St, 0, 0), ev(H, 5, 5), ev(P, 8, 8)}, 16, 8, 8, 0.5, false, true},
		{"pause excluded", []analytics.Event{ev(St, 0, 0), ev(P, 5, 5), ev(St, 65, 5), ev(H, 70, 10)}, 100, 10, 10, 0.1, false, true},
		{"seek excluded", []analytics.Event{ev(St, 0, 0), ev(H, 5, 5), ev(S, 6, 80), ev(H, 11, 85)}, 100, 11, 85, 0.85, false, true},
		{"silence capped", []analytics.Event{ev(St, 0, 0), ev(H, 300, 300)}, 1000, 15, 300, 0.3, false, true},
		{"completed", []analytics.Event{ev(St, 0, 90), ev(C, 10, 100)}, 100, 10, 100, 1, true, true},
		{"over 90 % is watched", []analytics.Event{ev(St, 0, 85), ev(H, 5, 91)}, 100, 5, 91, 0.91, true, false},
		{"heartbeat without start plays", []analytics.Event{ev(H, 0, 0), ev(H, 5, 5), ev(H, 10, 10)}, 100, 10, 10, 0.1, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := analytics.Fold(append([]analytics.Event(nil), c.evs...), c.dur, analytics.Rules{})
			require.InDelta(t, c.watched, s.WatchedSeconds, 1e-9)
			require.InDelta(t, c.last, s.LastPosition, 1e-9)
			require.InDelta(t, c.ratio, s.CompletionRatio, 1e-9)
			require.Equal(t, c.completed, s.Completed)
			require.Equal(t, c.view, s.View)
			require.Equal(t, "s1", s.ID)
			require.Equal(t, c.evs[0].OccurredAt, s.Start)
			require.Equal(t, c.evs[len(c.evs)-1].OccurredAt, s.End)

			// Order and duplicates change nothing.
			r := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				shuffled := append(append([]analytics.Event(nil), c.evs...), c.evs[r.IntN(len(c.evs))])
				r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				require.Equal(t, s, analytics.Fold(shuffled, c.dur, analytics.Rules{}))
			}
		})
	}
}

func TestViewsAndDaily(t *testing.T) {
	sess := func(id string, start time.Time, view, done bool, watched float64) analytics.Session {
		return analytics.Session{ID: id, Start: start, End: start.Add(time.Minute), View: view, Completed: done, WatchedSeconds: watched}
	}
	ss := []analytics.Session{
		sess("a", t0, true, false, 20),
		sess("b", t0.Add(30*time.Minute), true, true, 30),  // within the hour: no second view
		sess("c", t0.Add(61*time.Minute), true, false, 12), // a new view
		sess("d", t0.Add(62*time.Minute), false, false, 3), // not a view
		sess("e", t0.Add(14*time.Hour), true, false, 40),   // next day (00:00 UTC)
	}
	views := analytics.Views(ss, analytics.Rules{})
	require.Equal(t, []time.Time{t0, t0.Add(61 * time.Minute), t0.Add(14 * time.Hour)}, views)
	d := analytics.Daily(ss, analytics.Rules{})
	require.Len(t, d, 2)
	require.Equal(t, analytics.DayStat{Day: analytics.Day(t0), Views: 2, Sessions: 4, WatchedSeconds: 65, Completions: 1}, d[0])
	require.Equal(t, analytics.DayStat{Day: analytics.Day(t0.Add(24 * time.Hour)), Views: 1, Sessions: 1, WatchedSeconds: 40}, d[1])
}

func TestProgress(t *testing.T) {
	a := analytics.Session{ID: "a", UserID: "u", VideoID: "v", End: t0, LastEventID: "1", LastPosition: 30}
	b := analytics.Session{ID: "b", UserID: "u", VideoID: "v", End: t0.Add(time.Minute), LastEventID: "2", LastPosition: 10}
	p := analytics.Latest([]analytics.Session{b, a})
	require.Equal(t, 10.0, p.Position, "the last event wins across devices, not the furthest position")
	require.Equal(t, p, analytics.Latest([]analytics.Session{a, b}))

	r := analytics.Rules{}
	cases := []struct {
		pos, dur float64
		done     bool
		dismiss  time.Time
		want     bool
	}{
		{4, 100, false, time.Time{}, false},  // under 5 %
		{5, 100, false, time.Time{}, true},   // 5 %
		{89, 100, false, time.Time{}, true},  // under 90 %
		{90, 100, false, time.Time{}, false}, // watched
		{50, 100, true, time.Time{}, false},  // completed
		{50, 100, false, t0.Add(time.Minute), false},
		{50, 100, false, t0.Add(-time.Minute), true}, // played again after the dismissal
		{3, 0, false, time.Time{}, true},             // unknown duration
	}
	for i, c := range cases {
		p := analytics.Progress{Position: c.pos, Completed: c.done, LastEventAt: t0, DismissedAt: c.dismiss}
		require.Equal(t, c.want, p.InProgress(c.dur, r), "case %d", i)
	}
	require.Equal(t, 50.0, analytics.Progress{Position: 50, LastEventAt: t0, DismissedAt: t0}.ResumeAt(100, r), "a dismissal keeps the resume position")
	require.Equal(t, 0.0, analytics.Progress{Position: 95}.ResumeAt(100, r))
}

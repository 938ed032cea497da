package analytics

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Session is a playback session folded from its events.
type Session struct {
	ID              string
	UserID          string
	VideoID         string
	Start           time.Time // the first event
	End             time.Time // the last event
	LastEventID     string    // the last event (ties on End broken by id)
	LastPosition    float64   // the position of the last playback event (0 if none)
	MaxPosition     float64   // the furthest position of a playback event
	WatchedSeconds  float64   // playing time: pauses, seeks and long silences excluded
	CompletionRatio float64   // MaxPosition / duration in [0, 1]; 1 after a completed event
	Completed       bool      // a completed event, or CompletionRatio ≥ WatchedRatio
	View            bool      // WatchedSeconds reached the view threshold
	Events          int       // distinct events
}

// Sort orders events by occurred-at, then id: the order every fold uses.
func Sort(evs []Event) {
	slices.SortFunc(evs, func(a, b Event) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// Dedup sorts evs (Sort) and drops repeated event ids, keeping the first.
func Dedup(evs []Event) []Event {
	Sort(evs)
	seen := make(map[string]bool, len(evs))
	out := evs[:0]
	for _, e := range evs {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out
}

// Fold folds the events of one session (any order, duplicates allowed) into
// a Session; durationSeconds is the video's duration (0: unknown). The
// result depends only on the set of distinct events. evs is reordered.
func Fold(evs []Event, durationSeconds float64, r Rules) Session {
	r = r.WithDefaults()
	evs = Dedup(evs)
	var s Session
	if len(evs) == 0 {
		return s
	}
	first, last := evs[0], evs[len(evs)-1]
	s = Session{ID: first.SessionID, UserID: first.UserID, VideoID: first.VideoID,
		Start: first.OccurredAt, End: last.OccurredAt, LastEventID: last.ID, Events: len(evs)}
	playing := false
	var prev time.Time
	watched := 0.0
	for _, e := range evs {
		if !e.Type.playback() {
			continue
		}
		if playing {
			d := min(e.OccurredAt.Sub(prev), r.MaxSegment)
			watched += max(d.Seconds(), 0)
		}
		switch e.Type {
		case TypePlaybackStarted, TypeHeartbeat:
			playing = true
		case TypePaused:
			playing = false
		case TypeCompleted:
			playing = false
			s.Completed = true
		case TypeSeeked:
			// the segment before the seek is counted above; playing goes on
			// from the target
		}
		prev = e.OccurredAt
		s.LastPosition = e.Position
		s.MaxPosition = max(s.MaxPosition, e.Position)
	}
	s.WatchedSeconds = round3(watched)
	if durationSeconds > 0 {
		s.CompletionRatio = min(1, s.MaxPosition/durationSeconds)
	}
	if s.Completed {
		s.CompletionRatio = 1
	}
	s.CompletionRatio = round3(s.CompletionRatio)
	if s.CompletionRatio >= r.WatchedRatio {
		s.Completed = true
	}
	need := r.ViewAfter.Seconds()
	if durationSeconds > 0 {
		need = min(need, r.ViewRatio*durationSeconds)
	}
	s.View = s.WatchedSeconds >= need && s.WatchedSeconds > 0
	return s
}

// round3 rounds to a millisecond, so that stores that keep floats and
// Go's arithmetic agree exactly.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

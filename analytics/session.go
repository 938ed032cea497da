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
	s, _ := FoldState(evs, durationSeconds, r)
	return s
}

// FoldCarry is what a fold carries from one event to the next. Stored with
// its Session, it lets Continue fold later events without the earlier ones.
type FoldCarry struct {
	Playing        bool      // the last playback event left the player playing
	PrevAt         time.Time // the last playback event (zero: none yet)
	Watched        float64   // playing time so far, not rounded
	CompletedEvent bool      // a completed event was seen
}

// FoldState is Fold that also returns what Continue needs to fold later
// events onto the result.
func FoldState(evs []Event, durationSeconds float64, r Rules) (Session, FoldCarry) {
	evs = Dedup(evs)
	if len(evs) == 0 {
		return Session{}, FoldCarry{}
	}
	first := evs[0]
	s := Session{ID: first.SessionID, UserID: first.UserID, VideoID: first.VideoID, Start: first.OccurredAt}
	var c FoldCarry
	fold(&s, &c, evs, r.WithDefaults())
	finish(&s, &c, durationSeconds, r.WithDefaults())
	return s, c
}

// After reports whether e sorts after the session's last event (Sort's
// order): the events Continue may fold.
func (s Session) After(e Event) bool {
	if c := e.OccurredAt.Compare(s.End); c != 0 {
		return c > 0
	}
	return e.ID > s.LastEventID
}

// Continue folds evs, distinct events all After the session's last event
// and not among its events, onto s and its carry c: the result equals
// FoldState of all the session's events, exactly, without reading the
// earlier ones. It reports false (and changes nothing) when an event is not
// After s: then only a fold of every event is right.
func Continue(s Session, c FoldCarry, evs []Event, durationSeconds float64, r Rules) (Session, FoldCarry, bool) {
	evs = Dedup(evs)
	for _, e := range evs {
		if !s.After(e) {
			return s, c, false
		}
	}
	if len(evs) == 0 {
		return s, c, true
	}
	r = r.WithDefaults()
	fold(&s, &c, evs, r)
	finish(&s, &c, durationSeconds, r)
	return s, c, true
}

// fold adds sorted, distinct events, all after those already folded, to s
// and c.
func fold(s *Session, c *FoldCarry, evs []Event, r Rules) {
	last := evs[len(evs)-1]
	s.End, s.LastEventID = last.OccurredAt, last.ID
	s.Events += len(evs)
	for _, e := range evs {
		if !e.Type.playback() {
			continue
		}
		if c.Playing {
			d := min(e.OccurredAt.Sub(c.PrevAt), r.MaxSegment)
			c.Watched += max(d.Seconds(), 0)
		}
		switch e.Type {
		case TypePlaybackStarted, TypeHeartbeat:
			c.Playing = true
		case TypePaused:
			c.Playing = false
		case TypeCompleted:
			c.Playing = false
			c.CompletedEvent = true
		case TypeSeeked:
			// the segment before the seek is counted above; playing goes on
			// from the target
		}
		c.PrevAt = e.OccurredAt
		s.LastPosition = e.Position
		s.MaxPosition = max(s.MaxPosition, e.Position)
	}
}

// finish derives the session's totals from the carry and the duration.
func finish(s *Session, c *FoldCarry, durationSeconds float64, r Rules) {
	s.WatchedSeconds = round3(c.Watched)
	s.Completed = c.CompletedEvent
	s.CompletionRatio = 0
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
}

// round3 rounds to a millisecond, so that stores that keep floats and
// Go's arithmetic agree exactly.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

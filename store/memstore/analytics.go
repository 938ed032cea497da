package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vidlib/vidlib/analytics"
)

type userVideo struct{ user, video string }

// analyticsState is the memory form of watch_events, watch_sessions,
// watch_daily and watch_progress.
type analyticsState struct {
	mu        sync.Mutex
	events    map[string]analytics.Event   // by event id
	bySession map[string][]analytics.Event // by session id
	sessions  map[string]analytics.Session
	pairs     map[userVideo][]string // session ids of a user and video
	daily     map[userVideo][]analytics.DayStat
	progress  map[userVideo]analytics.Progress
	videosOf  map[string][]string // user → the videos with progress, for per-user reads
}

func (a *analyticsState) init() {
	if a.events == nil {
		a.events, a.bySession, a.sessions = map[string]analytics.Event{}, map[string][]analytics.Event{}, map[string]analytics.Session{}
		a.pairs, a.daily, a.progress = map[userVideo][]string{}, map[userVideo][]analytics.DayStat{}, map[userVideo]analytics.Progress{}
		a.videosOf = map[string][]string{}
	}
}

func (s *Store) duration(videoID string) float64 {
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	if v, ok := s.tree.videos[videoID]; ok {
		return float64(v.DurationSeconds)
	}
	return 0
}

// ApplyWatchEvents is pgstore's: new events are stored, and their sessions,
// daily aggregates and progress recomputed from all stored events.
func (s *Store) ApplyWatchEvents(_ context.Context, evs []analytics.Event, r analytics.Rules) (analytics.Applied, error) {
	var out analytics.Applied
	r = r.WithDefaults()
	for i := range evs {
		if err := evs[i].Validate(); err != nil {
			return out, err
		}
		if evs[i].UserID == "" {
			return out, fmt.Errorf("%w: event %s has no user", analytics.ErrInvalid, evs[i].ID)
		}
	}
	durations := map[string]float64{}
	for _, e := range evs {
		if _, ok := durations[e.VideoID]; !ok {
			durations[e.VideoID] = s.duration(e.VideoID)
		}
	}
	a := &s.analytics
	a.mu.Lock()
	defer a.mu.Unlock()
	a.init()
	touched := map[string]bool{}
	pairs := map[userVideo]bool{}
	for _, e := range evs {
		if _, dup := a.events[e.ID]; dup {
			continue
		}
		e.Properties = cloneProps(e.Properties)
		a.events[e.ID] = e
		a.bySession[e.SessionID] = append(a.bySession[e.SessionID], e)
		touched[e.SessionID] = true
		pairs[userVideo{e.UserID, e.VideoID}] = true
		out.Inserted++
	}
	for id := range touched {
		evs := slices.Clone(a.bySession[id])
		ss := analytics.Fold(evs, durations[evs[0].VideoID], r)
		k := userVideo{ss.UserID, ss.VideoID}
		if _, ok := a.sessions[id]; !ok {
			a.pairs[k] = append(a.pairs[k], id)
		}
		a.sessions[id] = ss
		out.Sessions = append(out.Sessions, ss)
	}
	slices.SortFunc(out.Sessions, func(x, y analytics.Session) int { return cmp.Compare(x.ID, y.ID) })
	for k := range pairs {
		var ss []analytics.Session
		for _, id := range a.pairs[k] {
			ss = append(ss, a.sessions[id])
		}
		a.daily[k] = analytics.Daily(ss, r)
		p := analytics.Latest(ss)
		old, had := a.progress[k]
		if !had {
			a.videosOf[k.user] = append(a.videosOf[k.user], k.video)
		}
		p.DismissedAt = old.DismissedAt
		a.progress[k] = p
		out.Progress = append(out.Progress, p)
	}
	slices.SortFunc(out.Progress, func(x, y analytics.Progress) int {
		return cmp.Or(cmp.Compare(x.UserID, y.UserID), cmp.Compare(x.VideoID, y.VideoID))
	})
	for i := range out.Progress {
		out.Progress[i].DismissedAt = time.Time{}
	}
	return out, nil
}

func cloneProps(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// WatchSession returns a stored session.
func (s *Store) WatchSession(_ context.Context, id string) (analytics.Session, error) {
	a := &s.analytics
	a.mu.Lock()
	defer a.mu.Unlock()
	ss, ok := a.sessions[id]
	if !ok {
		return ss, fmt.Errorf("memstore: watch session %q: %w", id, analytics.ErrNotFound)
	}
	return ss, nil
}

// WatchDaily returns the per-day aggregates of one user and video.
func (s *Store) WatchDaily(_ context.Context, userID, videoID string) ([]analytics.DayStat, error) {
	a := &s.analytics
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.daily[userVideo{userID, videoID}]), nil
}

// Progress returns the user's resume state on the videos that have one.
func (s *Store) Progress(_ context.Context, userID string, videoIDs ...string) (map[string]analytics.Progress, error) {
	a := &s.analytics
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]analytics.Progress{}
	for _, v := range videoIDs {
		if p, ok := a.progress[userVideo{userID, v}]; ok {
			out[v] = p
		}
	}
	return out, nil
}

func (s *Store) userProgress(userID string, keep func(analytics.Progress) bool) []analytics.Progress {
	a := &s.analytics
	a.mu.Lock()
	defer a.mu.Unlock()
	vids := a.videosOf[userID]
	out := make([]analytics.Progress, 0, len(vids))
	for _, v := range vids {
		if p := a.progress[userVideo{userID, v}]; keep(p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(x, y analytics.Progress) int {
		return cmp.Or(y.LastEventAt.Compare(x.LastEventAt), cmp.Compare(y.VideoID, x.VideoID))
	})
	return out
}

// ContinueWatching is pgstore's.
func (s *Store) ContinueWatching(_ context.Context, userID string, limit int) ([]analytics.Progress, error) {
	out := s.userProgress(userID, func(p analytics.Progress) bool {
		return !p.Completed && p.Position > 0 && (p.DismissedAt.IsZero() || p.DismissedAt.Before(p.LastEventAt))
	})
	return out[:min(limit, len(out))], nil
}

// Unfinished is pgstore's.
func (s *Store) Unfinished(_ context.Context, userID string, limit int) ([]analytics.Progress, error) {
	out := s.userProgress(userID, func(p analytics.Progress) bool { return !p.Completed && p.Position > 0 })
	return out[:min(limit, len(out))], nil
}

// DismissContinueWatching is pgstore's.
func (s *Store) DismissContinueWatching(_ context.Context, userID, videoID string, at time.Time) error {
	a := &s.analytics
	a.mu.Lock()
	defer a.mu.Unlock()
	a.init()
	k := userVideo{userID, videoID}
	p, ok := a.progress[k]
	if !ok {
		return fmt.Errorf("memstore: dismiss %q: %w", videoID, analytics.ErrNotFound)
	}
	p.DismissedAt = at.UTC()
	if p.DismissedAt.Before(p.LastEventAt) {
		p.DismissedAt = p.LastEventAt
	}
	a.progress[k] = p
	return nil
}

// History is pgstore's.
func (s *Store) History(_ context.Context, userID string, before time.Time, beforeVideo string, limit int) ([]analytics.Progress, error) {
	out := s.userProgress(userID, func(p analytics.Progress) bool {
		if before.IsZero() {
			return true
		}
		return p.LastEventAt.Before(before) || (p.LastEventAt.Equal(before) && p.VideoID < beforeVideo)
	})
	return out[:min(limit, len(out))], nil
}

// DropWatchEventsBefore forgets the events of the UTC days that end at or
// before cutoff and returns how many days it dropped (retention, as pgstore
// drops whole day partitions).
func (s *Store) DropWatchEventsBefore(_ context.Context, cutoff time.Time) (int, error) {
	a := &s.analytics
	a.mu.Lock()
	defer a.mu.Unlock()
	days := map[time.Time]bool{}
	for id, e := range a.events {
		if d := analytics.Day(e.OccurredAt); !d.AddDate(0, 0, 1).After(cutoff) {
			delete(a.events, id)
			days[d] = true
		}
	}
	n := len(days)
	for sid, evs := range a.bySession {
		a.bySession[sid] = slices.DeleteFunc(evs, func(e analytics.Event) bool { _, ok := a.events[e.ID]; return !ok })
	}
	return n, nil
}

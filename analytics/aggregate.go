package analytics

import (
	"cmp"
	"slices"
	"time"
)

// Day truncates t to its UTC day.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// sortSessions orders sessions by start, then id.
func sortSessions(ss []Session) {
	slices.SortFunc(ss, func(a, b Session) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// Views returns the start times of the sessions that count as views, for
// one user and video: sessions with View set, taken by start time, each
// counted unless a counted view started less than ViewWindow before it.
func Views(ss []Session, r Rules) []time.Time {
	r = r.WithDefaults()
	ss = slices.Clone(ss)
	sortSessions(ss)
	var out []time.Time
	for _, s := range ss {
		if !s.View {
			continue
		}
		if n := len(out); n > 0 && s.Start.Sub(out[n-1]) < r.ViewWindow {
			continue
		}
		out = append(out, s.Start)
	}
	return out
}

// DayStat is one user's activity on one video on one UTC day. Sessions,
// watch time and completions are attributed to the day a session started.
type DayStat struct {
	Day            time.Time
	Views          int
	Sessions       int
	WatchedSeconds float64
	Completions    int
}

// Daily aggregates the sessions of one user and video per day, in day order.
func Daily(ss []Session, r Rules) []DayStat {
	by := map[time.Time]*DayStat{}
	get := func(t time.Time) *DayStat {
		d := Day(t)
		if by[d] == nil {
			by[d] = &DayStat{Day: d}
		}
		return by[d]
	}
	for _, s := range ss {
		d := get(s.Start)
		d.Sessions++
		d.WatchedSeconds = round3(d.WatchedSeconds + s.WatchedSeconds)
		if s.Completed {
			d.Completions++
		}
	}
	for _, v := range Views(ss, r) {
		get(v).Views++
	}
	out := make([]DayStat, 0, len(by))
	for _, d := range by {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b DayStat) int { return a.Day.Compare(b.Day) })
	return out
}

// Progress is a user's resume state on one video: the position of the
// session whose last event is the newest (across devices, last event time
// wins; ties by event id).
type Progress struct {
	UserID      string
	VideoID     string
	Position    float64
	Ratio       float64 // the session's completion ratio
	Completed   bool    // that session completed the video
	LastEventAt time.Time
	LastEventID string
	DismissedAt time.Time // continue watching dismissed (zero: never)
}

// Latest returns the progress of the user's sessions on one video (zero
// Progress for none).
func Latest(ss []Session) Progress {
	var best *Session
	for i := range ss {
		s := &ss[i]
		if best == nil || s.End.After(best.End) || (s.End.Equal(best.End) && s.LastEventID > best.LastEventID) {
			best = s
		}
	}
	if best == nil {
		return Progress{}
	}
	return Progress{UserID: best.UserID, VideoID: best.VideoID, Position: best.LastPosition,
		Ratio: best.CompletionRatio, Completed: best.Completed, LastEventAt: best.End, LastEventID: best.LastEventID}
}

// InProgress reports whether p belongs in continue watching: not dismissed
// since its last event, not completed, and the position between
// ResumeMinRatio and WatchedRatio of the video (any position > 0 when the
// duration is unknown).
func (p Progress) InProgress(durationSeconds float64, r Rules) bool {
	r = r.WithDefaults()
	if p.Completed || (!p.DismissedAt.IsZero() && !p.DismissedAt.Before(p.LastEventAt)) {
		return false
	}
	if durationSeconds <= 0 {
		return p.Position > 0
	}
	f := p.Position / durationSeconds
	return f >= r.ResumeMinRatio && f < r.WatchedRatio
}

// ResumeAt is the position a player should start from: p.Position when the
// video is in progress by the resume rules (dismissal aside), else 0.
func (p Progress) ResumeAt(durationSeconds float64, r Rules) float64 {
	p.DismissedAt = time.Time{}
	if p.InProgress(durationSeconds, r) {
		return p.Position
	}
	return 0
}

// Applied is what a store reports after applying a batch of events: how
// many were new, and the recomputed sessions and progress of every user and
// video the new events touched (duplicates touch nothing).
type Applied struct {
	Inserted int
	Sessions []Session
	Progress []Progress
}

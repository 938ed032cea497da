package analytics

import "time"

// Rules are the analytics definitions. The zero value means the defaults
// (see the package documentation); WithDefaults fills them in.
type Rules struct {
	Heartbeat      time.Duration // the clients' heartbeat interval (5 s, PeerTube)
	MaxSegment     time.Duration // longest playing segment counted between two events (3 × Heartbeat)
	ViewAfter      time.Duration // playing time that makes a view (10 s, PeerTube)
	ViewRatio      float64       // or this share of a shorter video (0.5, PeerTube)
	ViewWindow     time.Duration // one view per user and video per window (1 h, PeerTube)
	ResumeMinRatio float64       // no resume under this share (0.05, Jellyfin)
	WatchedRatio   float64       // watched at or over this share (0.9, Jellyfin)
}

// Defaults of Rules.
const (
	DefaultHeartbeat      = 5 * time.Second
	DefaultViewAfter      = 10 * time.Second
	DefaultViewRatio      = 0.5
	DefaultViewWindow     = time.Hour
	DefaultResumeMinRatio = 0.05
	DefaultWatchedRatio   = 0.9
)

// WithDefaults returns r with every zero field set to its default.
func (r Rules) WithDefaults() Rules {
	if r.Heartbeat <= 0 {
		r.Heartbeat = DefaultHeartbeat
	}
	if r.MaxSegment <= 0 {
		r.MaxSegment = 3 * r.Heartbeat
	}
	if r.ViewAfter <= 0 {
		r.ViewAfter = DefaultViewAfter
	}
	if r.ViewRatio <= 0 {
		r.ViewRatio = DefaultViewRatio
	}
	if r.ViewWindow <= 0 {
		r.ViewWindow = DefaultViewWindow
	}
	if r.ResumeMinRatio <= 0 {
		r.ResumeMinRatio = DefaultResumeMinRatio
	}
	if r.WatchedRatio <= 0 {
		r.WatchedRatio = DefaultWatchedRatio
	}
	return r
}

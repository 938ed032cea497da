package analytics

import "time"

// Envelope types (events.Event.Type) of analytics data on the bus.
const (
	// EventTypeBatch is one accepted ingest request on analytics.events,
	// keyed by user: the data is a Batch.
	EventTypeBatch = "analytics.batch"
	// EventTypeFeatures is one user's interaction features on one video on
	// ranking.features, keyed by user: the data is Features.
	EventTypeFeatures = "ranking.user_video_features"
)

// Batch is the data of an analytics.batch envelope.
type Batch struct {
	Events []Event `json:"events"`
}

// Features are a user's interaction features on one video, published after
// every change of the pair (for the ranking consumer).
type Features struct {
	UserID          string    `json:"user_id"`
	VideoID         string    `json:"video_id"`
	LastPosition    float64   `json:"last_position_seconds"`
	CompletionRatio float64   `json:"completion_ratio"`
	Completed       bool      `json:"completed"`
	LastEventAt     time.Time `json:"last_event_at"`
	SessionWatched  float64   `json:"session_watched_seconds"` // the pair's newest changed session's playing time
}

package analytics

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Type is an event type.
type Type string

// The event types of the schema.
const (
	TypeVideoOpened     Type = "video_opened"
	TypePlaybackStarted Type = "playback_started"
	TypeHeartbeat       Type = "heartbeat"
	TypePaused          Type = "paused"
	TypeSeeked          Type = "seeked"
	TypeCompleted       Type = "completed"
	TypeChatOpened      Type = "chat_opened"
)

// Types returns every event type, in schema order.
func Types() []Type {
	return []Type{TypeVideoOpened, TypePlaybackStarted, TypeHeartbeat, TypePaused, TypeSeeked, TypeCompleted, TypeChatOpened}
}

// Known reports whether t is a type of the schema.
func (t Type) Known() bool {
	switch t {
	case TypeVideoOpened, TypePlaybackStarted, TypeHeartbeat, TypePaused, TypeSeeked, TypeCompleted, TypeChatOpened:
		return true
	}
	return false
}

// playback reports whether the event's position is a player position.
func (t Type) playback() bool {
	switch t {
	case TypePlaybackStarted, TypeHeartbeat, TypePaused, TypeSeeked, TypeCompleted:
		return true
	}
	return false
}

// Limits of an event's properties.
const (
	MaxProperties     = 16
	MaxPropertyKey    = 64
	MaxPropertyValue  = 256
	MaxSessionIDBytes = 128
	MaxVideoIDBytes   = 64
)

// Event is one client playback event. ID is the client's event id (a UUID):
// retrying a batch is safe because an id is stored once. UserID is set by the
// server from the authenticated user, never by the client. Position is the
// player position in seconds; OccurredAt the client's clock, checked against
// the server's.
type Event struct {
	ID         string            `json:"event_id"`
	Type       Type              `json:"type"`
	SessionID  string            `json:"session_id"`
	UserID     string            `json:"user_id,omitempty"`
	VideoID    string            `json:"video_id"`
	Position   float64           `json:"position_seconds"`
	OccurredAt time.Time         `json:"occurred_at"`
	ReceivedAt time.Time         `json:"received_at,omitzero"`
	Properties map[string]string `json:"properties,omitempty"`
}

// Reason is the code of a rejected event, as the ingest API answers it.
type Reason string

// Rejection reasons.
const (
	ReasonInvalid         Reason = "invalid_event"         // a field is missing or malformed
	ReasonUnknownType     Reason = "unknown_type"          // not a type of the schema
	ReasonInvalidToken    Reason = "invalid_session_token" // missing, forged or malformed token
	ReasonTokenExpired    Reason = "session_token_expired" // the token's expiry passed
	ReasonSessionMismatch Reason = "session_mismatch"      // the token is for another user, video or session
	ReasonVideoNotVisible Reason = "video_not_visible"     // the user may not see the video now (or it does not exist)
	ReasonClockSkew       Reason = "clock_skew"            // occurred-at is in the future beyond the skew window
	ReasonTooOld          Reason = "too_old"               // occurred-at is older than the accepted age
	ReasonPosition        Reason = "position_out_of_range" // position < 0 or > duration + slack
)

// ErrInvalid is matched (errors.Is) by every *Rejection.
var ErrInvalid = errors.New("analytics: invalid")

// Rejection says why an event was refused.
type Rejection struct {
	Reason Reason
	Detail string
}

func (r *Rejection) Error() string {
	return fmt.Sprintf("analytics: invalid: %s: %s", r.Reason, r.Detail)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (r *Rejection) Is(target error) bool { return target == ErrInvalid }

func reject(r Reason, format string, args ...any) *Rejection {
	return &Rejection{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// ReasonOf returns the Reason of a *Rejection in err's chain ("" if none).
func ReasonOf(err error) Reason {
	var r *Rejection
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

// Validate checks the event's shape: a UUID id, a known type, a session and
// a video id, a finite position ≥ 0, an occurred-at, and small properties.
// It does not check the token, the clock or the video (Check does).
func (e *Event) Validate() error {
	if _, err := uuid.Parse(e.ID); err != nil || len(e.ID) != 36 {
		return reject(ReasonInvalid, "event_id must be a UUID")
	}
	if !e.Type.Known() {
		return reject(ReasonUnknownType, "unknown type %q", clip(string(e.Type)))
	}
	if e.SessionID == "" || len(e.SessionID) > MaxSessionIDBytes || !utf8.ValidString(e.SessionID) {
		return reject(ReasonInvalid, "session_id is required (at most %d bytes)", MaxSessionIDBytes)
	}
	if e.VideoID == "" || len(e.VideoID) > MaxVideoIDBytes || !utf8.ValidString(e.VideoID) {
		return reject(ReasonInvalid, "video_id is required (at most %d bytes)", MaxVideoIDBytes)
	}
	if math.IsNaN(e.Position) || math.IsInf(e.Position, 0) || e.Position < 0 {
		return reject(ReasonPosition, "position_seconds must be a number ≥ 0")
	}
	if e.OccurredAt.IsZero() {
		return reject(ReasonInvalid, "occurred_at is required")
	}
	if len(e.Properties) > MaxProperties {
		return reject(ReasonInvalid, "at most %d properties", MaxProperties)
	}
	for k, v := range e.Properties {
		if k == "" || len(k) > MaxPropertyKey || len(v) > MaxPropertyValue || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return reject(ReasonInvalid, "a property key is 1–%d bytes and a value at most %d", MaxPropertyKey, MaxPropertyValue)
		}
	}
	return nil
}

// Window is what Check compares an event with: the server's clock, the
// accepted skew into the future and age into the past, the video's
// duration and the position slack past its end.
type Window struct {
	Now             time.Time
	ClockSkew       time.Duration // default DefaultClockSkew
	MaxAge          time.Duration // default DefaultMaxAge
	DurationSeconds float64       // 0: unknown, any position is accepted
	PositionSlack   float64       // seconds; default DefaultPositionSlack
}

// Defaults of Window.
const (
	DefaultClockSkew     = 5 * time.Minute
	DefaultMaxAge        = 48 * time.Hour
	DefaultPositionSlack = 5.0
)

// Check validates the event and checks it against w: occurred-at not after
// Now + ClockSkew nor before Now − MaxAge, and the position within the
// duration plus slack.
func (e *Event) Check(w Window) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if w.ClockSkew == 0 {
		w.ClockSkew = DefaultClockSkew
	}
	if w.MaxAge == 0 {
		w.MaxAge = DefaultMaxAge
	}
	if w.PositionSlack == 0 {
		w.PositionSlack = DefaultPositionSlack
	}
	if e.OccurredAt.After(w.Now.Add(w.ClockSkew)) {
		return reject(ReasonClockSkew, "occurred_at is more than %s ahead of the server's clock", w.ClockSkew)
	}
	if e.OccurredAt.Before(w.Now.Add(-w.MaxAge)) {
		return reject(ReasonTooOld, "occurred_at is more than %s old", w.MaxAge)
	}
	if w.DurationSeconds > 0 && e.Position > w.DurationSeconds+w.PositionSlack {
		return reject(ReasonPosition, "position_seconds is past the end of the video")
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// ErrNotFound: no such session or progress.
var ErrNotFound = errors.New("analytics: not found")
